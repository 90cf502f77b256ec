//! `live-credential-outside-production`: a live secret in development or staging.

use super::{Context, Rule, RuleInfo};
use greenlight_core::catalog::Mode;
use greenlight_core::finding::Finding;

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::LiveCredentialOutsideProduction,
    run,
};

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    if cx.production {
        return;
    }
    for v in cx.present() {
        if v.secret && v.placeholder.is_none() && v.mode() == Some(Mode::Live) {
            out.push(cx.finding(
                INFO.rule,
                v,
                format!(
                    "`{}` is a live-mode secret in {}, which is not production",
                    v.name, cx.environment
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{testing::findings, Rule};

    const DECLS: &str = "[vars.STRIPE_SECRET_KEY]\nformat = \"stripe.secret_key\"\n";

    #[test]
    fn fails_on_live_key_in_staging() {
        let env = "STRIPE_SECRET_KEY=sk_live_7uXtXRKyccefTDgpukRzthFvQDYUN7jm8lBwQ32dLKI28Ih0nEntwlxdQ8EVoehN2yv3Z\n";
        let f = findings(
            DECLS,
            &[(".env.staging", env), (".env.production", "")],
            "staging",
            Rule::LiveCredentialOutsideProduction,
        );
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn passes_on_test_key_in_staging() {
        let env = "STRIPE_SECRET_KEY=sk_test_IjQ57NKgRitJYtXbHR5v5Ih5dfnbb6LXKCA3mbutkkknH4b6GLZcwyhVgSTgXH1jvoS\n";
        let f = findings(
            DECLS,
            &[(".env.staging", env), (".env.production", "")],
            "staging",
            Rule::LiveCredentialOutsideProduction,
        );
        assert!(f.is_empty());
    }
}
