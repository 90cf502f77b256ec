//! `test-mode-in-production`: a switch that puts an integration in test or sandbox mode.

use std::sync::LazyLock;

use regex::Regex;

use super::{Context, Rule, RuleInfo};
use crate::catalog::parse_bool;
use crate::finding::{Finding, Severity};

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::TestModeInProduction,
    severity: Severity::Critical,
    summary: "A test-mode or sandbox switch (…_TEST_MODE=true, …_MODE=sandbox) is on in production",
    doc: include_str!("docs/test-mode-in-production.md"),
    run,
};

static SWITCH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:^|_)(?:TEST_?MODE|SANDBOX(?:_MODE)?|USE_SANDBOX|TESTING)$")
        .expect("switch regex")
});
static MODE_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(?:^|_)(?:MODE|ENVIRONMENT|ENV)$").expect("mode regex"));

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    if !cx.production {
        return;
    }
    for v in cx.present() {
        let Some(value) = v.value() else { continue };
        let on_switch = SWITCH.is_match(v.name) && parse_bool(value) == Some(true);
        // `STRIPE_MODE=test`, `PAYPAL_ENVIRONMENT=sandbox` (not NODE_ENV: see debug-enabled).
        let provider_mode = MODE_NAME.is_match(v.name)
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
