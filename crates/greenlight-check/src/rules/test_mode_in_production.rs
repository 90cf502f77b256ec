//! `test-mode-in-production`: a switch that puts an integration in test or sandbox mode.

use super::{Context, Rule, RuleInfo};
use greenlight_core::catalog::parse_bool;
use greenlight_core::finding::Finding;

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::TestModeInProduction,
    run,
};

/// `…_TEST_MODE`, `…TESTMODE`, `…_SANDBOX`, `…_SANDBOX_MODE`, `USE_SANDBOX`, `…_TESTING`.
fn is_test_switch(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    [
        "TEST_MODE",
        "TESTMODE",
        "SANDBOX",
        "SANDBOX_MODE",
        "USE_SANDBOX",
        "TESTING",
    ]
    .iter()
    .any(|s| n == *s || n.ends_with(&format!("_{s}")))
}

/// A provider's mode variable: `…_MODE`, `…_ENVIRONMENT`, `…_ENV`.
fn is_mode_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    ["_MODE", "_ENVIRONMENT", "_ENV"]
        .iter()
        .any(|s| n.ends_with(s))
}

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    if !cx.production {
        return;
    }
    for v in cx.present() {
        let Some(value) = v.value() else { continue };
        let on_switch = is_test_switch(v.name) && parse_bool(value) == Some(true);
        // `STRIPE_MODE=test`, `PAYPAL_ENVIRONMENT=sandbox` (not NODE_ENV: see debug-enabled).
        let provider_mode = is_mode_name(v.name)
            && v.name.contains('_')
            && !v.name.ends_with("NODE_ENV")
            && !matches!(v.name, "APP_ENV" | "RAILS_ENV" | "RACK_ENV" | "FLASK_ENV")
            && matches!(
                value.to_ascii_lowercase().as_str(),
                "test" | "sandbox" | "testing" | "demo"
            );
        if on_switch || provider_mode {
            let shown = if v.secret {
                String::new()
            } else {
                format!(" (`{value}`)")
            };
            out.push(cx.finding(
                INFO.rule,
                v,
                format!(
                    "`{}` puts the integration in test mode{shown} in production",
                    v.name
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{testing::prod, Rule};

    #[test]
    fn fails_on_test_switches() {
        let env = "VITE_IKHOKHA_TEST_MODE=true\nPAYPAL_MODE=sandbox\n";
        assert_eq!(prod("", env, Rule::TestModeInProduction).len(), 2);
    }

    #[test]
    fn passes_when_off() {
        let env = "VITE_IKHOKHA_TEST_MODE=false\nPROCTOR_U_TEST_MODE=false\nPAYPAL_MODE=live\n";
        assert!(prod("", env, Rule::TestModeInProduction).is_empty());
    }
}
