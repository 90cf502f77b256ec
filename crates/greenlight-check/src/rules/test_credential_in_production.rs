//! `test-credential-in-production`: a test-mode credential in a production environment.

use super::{Context, Rule, RuleInfo};
use greenlight_core::catalog::Mode;
use greenlight_core::finding::Finding;

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::TestCredentialInProduction,
    run,
};

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    if !cx.production {
        return;
    }
    for v in cx.present() {
        if v.placeholder.is_some() || v.mode() != Some(Mode::Test) {
            continue;
        }
        let title = v
            .effective_format()
            .map_or("credential", |f| f.title.as_str());
        out.push(cx.finding(
            INFO.rule,
            v,
            format!("`{}` is a test-mode {title} in production", v.name),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{testing::prod, Rule};

    const DECLS: &str = "[vars.STRIPE_SECRET_KEY]\nformat = \"stripe.secret_key\"\n[vars.RECAPTCHA_SECRET_KEY]\nformat = \"recaptcha.secret_key\"\n";

    #[test]
    fn fails_on_test_keys() {
        let env = "STRIPE_SECRET_KEY=sk_test_IjQ57NKgRitJYtXbHR5v5Ih5dfnbb6LXKCA3mbutkkknH4b6GLZcwyhVgSTgXH1jvoS\nRECAPTCHA_SECRET_KEY=6LeIxAcTAAAAAGG-vFI1TnRWxMZNFuojJ4WifJWe\n";
        assert_eq!(prod(DECLS, env, Rule::TestCredentialInProduction).len(), 2);
    }

    #[test]
    fn recognises_undeclared_test_keys() {
        let env = "PAYMENTS_KEY=sk_test_IjQ57NKgRitJYtXbHR5v5Ih5dfnbb6LXKCA3mbutkkknH4b6GLZcwyhVgSTgXH1jvoS\n";
        assert_eq!(prod("", env, Rule::TestCredentialInProduction).len(), 1);
    }

    #[test]
    fn passes_on_live_keys() {
        let env = "STRIPE_SECRET_KEY=sk_live_7uXtXRKyccefTDgpukRzthFvQDYUN7jm8lBwQ32dLKI28Ih0nEntwlxdQ8EVoehN2yv3Z\nRECAPTCHA_SECRET_KEY=6LABsYL4iARulLGQHDs5S_XCcDnnKlXKV0_R79ep\n";
        assert!(prod(DECLS, env, Rule::TestCredentialInProduction).is_empty());
    }
}
