//! `mismatched-key-modes`: live and test credentials of one provider mixed in one environment.

use super::{Context, Rule, RuleInfo};
use greenlight_core::catalog::Mode;
use greenlight_core::finding::Finding;

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::MismatchedKeyModes,
    run,
};

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let moded: Vec<_> = cx
        .present()
        .filter(|v| v.placeholder.is_none())
        .filter_map(|v| Some((v, v.effective_format()?.provider()?, v.mode()?)))
        .collect();
    for (v, provider, mode) in &moded {
        if *mode != Mode::Test {
            continue;
        }
        if let Some((live, _, _)) = moded
            .iter()
            .find(|(_, p, m)| p == provider && *m == Mode::Live)
        {
            out.push(cx.finding(
                INFO.rule,
                v,
                format!("`{}` is a {provider} test-mode credential while `{}` is live-mode; requests will fail or cross modes", v.name, live.name),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{testing::findings, Rule};

    const DECLS: &str = "[vars.STRIPE_SECRET_KEY]\nformat = \"stripe.secret_key\"\n[vars.STRIPE_PUBLISHABLE_KEY]\nformat = \"stripe.publishable_key\"\n";

    #[test]
    fn fails_on_mixed_modes() {
        let env = "STRIPE_SECRET_KEY=sk_test_IjQ57NKgRitJYtXbHR5v5Ih5dfnbb6LXKCA3mbutkkknH4b6GLZcw\nSTRIPE_PUBLISHABLE_KEY=pk_live_uq0HdOi7rQf0Vh1HjOd3yYV3cfHEs8XiuMxvMfynWZQ81ate8KZ64\n";
        let f = findings(
            DECLS,
            &[(".env.staging", env), (".env.production", "")],
            "staging",
            Rule::MismatchedKeyModes,
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].variable.as_deref(), Some("STRIPE_SECRET_KEY"));
    }

    #[test]
    fn passes_on_consistent_modes() {
        let env = "STRIPE_SECRET_KEY=sk_test_IjQ57NKgRitJYtXbHR5v5Ih5dfnbb6LXKCA3mbutkkknH4b6GLZcw\nSTRIPE_PUBLISHABLE_KEY=pk_test_koKip7XXEqq19FPHRHIgoiJiJhH4oQMH6tHUNLHJjBiUAqPd3DvFq\n";
        assert!(findings(
            DECLS,
            &[(".env.staging", env), (".env.production", "")],
            "staging",
            Rule::MismatchedKeyModes
        )
        .is_empty());
    }
}
