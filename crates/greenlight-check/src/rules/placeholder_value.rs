//! `placeholder-value`: template text left where a real value belongs.

use super::{Context, Rule, RuleInfo};
use greenlight_core::finding::{Finding, Severity};

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::PlaceholderValue,
    run,
};

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for v in cx.present() {
        let Some(reason) = v.placeholder else {
            continue;
        };
        let mut f = cx.finding(
            INFO.rule,
            v,
            format!("`{}` {reason}; set the real value", v.name),
        );
        if !cx.production {
            f.severity = Severity::Warning;
        }
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{testing::prod, Rule};

    #[test]
    fn fails_on_seed_placeholders() {
        let env = "STRIPE_SECRET_KEY=sk_live_YOUR_STRIPE_SECRET_KEY_HERE\nJWT_SECRET=<generate_with_openssl_rand_hex_32>\nPROCTOR_U_ACCOUNT_ID=YOUR_ACCOUNT_ID\n";
        let decls = "[vars.STRIPE_SECRET_KEY]\nformat = \"stripe.secret_key\"\n[vars.JWT_SECRET]\nsecret = true\n";
        let f = prod(decls, env, Rule::PlaceholderValue);
        assert_eq!(f.len(), 3, "{f:?}");
        assert!(f.iter().all(|f| !f
            .value
            .as_deref()
            .unwrap_or("")
            .contains("YOUR_STRIPE_SECRET_KEY_HERE")));
    }

    #[test]
    fn the_rest_of_the_line_is_masked_too() {
        let env = "JWT_SECRET=changeme # old one: ghp_42nYHSAqpf9vX1ts9ygUqNsvm8HPOP1IEztn\n";
        let f = prod(
            "[vars.JWT_SECRET]\nsecret = true\n",
            env,
            Rule::PlaceholderValue,
        );
        let line = &f[0].snippet.as_ref().unwrap().line_text;
        assert!(!line.contains("42nYHSAqpf9v"), "{line}");
    }

    #[test]
    fn passes_on_real_values() {
        let f = prod(
            "[vars.FROM_EMAIL]\nformat = \"email\"\n",
            "FROM_EMAIL=noreply@toolboxai.com\n",
            Rule::PlaceholderValue,
        );
        assert!(f.is_empty());
    }
}
