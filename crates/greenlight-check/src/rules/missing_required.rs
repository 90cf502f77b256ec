//! `missing-required`: a required variable that no source sets.

use super::{Context, Rule, RuleInfo};
use greenlight_core::finding::Finding;

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::MissingRequired,
    run,
};

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for v in cx
        .vars
        .iter()
        .filter(|v| v.active && v.assignment.is_none())
    {
        let Some(spec) = &v.spec else { continue };
        if !spec.required_in(cx.environment) {
            continue;
        }
        let what = spec
            .description
            .as_deref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        out.push(cx.finding(
            INFO.rule,
            v,
            format!(
                "`{}`{what} is required in {} but no source sets it",
                v.name, cx.environment
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{testing::prod, Rule};

    const DECLS: &str = "[vars.API_URL]\nformat = \"https_url\"\n[vars.OPTIONAL]\nrequired = false\n[vars.DEFAULTED]\ndefault = \"1\"\n";

    #[test]
    fn fails_when_unset_at_the_declaration() {
        let f = prod(DECLS, "OTHER=1\n", Rule::MissingRequired);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].variable.as_deref(), Some("API_URL"));
        assert_eq!(f[0].location.as_ref().map(|l| l.line), Some(11));
    }

    #[test]
    fn passes_when_set_optional_or_defaulted() {
        assert!(prod(
            DECLS,
            "API_URL=https://api.example.net\n",
            Rule::MissingRequired
        )
        .is_empty());
    }

    #[test]
    fn conditional_variables_are_required_only_when_enabled() {
        let decls = "[services.proctor]\nenabled_if = \"ENABLE_PROCTOR_U == 'true'\"\nvars.PROCTOR_U_API_KEY = { secret = true }\n";
        assert!(prod(decls, "ENABLE_PROCTOR_U=false\n", Rule::MissingRequired).is_empty());
        assert_eq!(
            prod(decls, "ENABLE_PROCTOR_U=true\n", Rule::MissingRequired).len(),
            1
        );
    }
}
