//! `empty-value`: a required variable that is set to nothing.

use super::{Context, Rule, RuleInfo};
use greenlight_core::finding::Finding;

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::EmptyValue,
    run,
};

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for v in cx.present() {
        if v.value() != Some("") {
            continue;
        }
        let required = v
            .spec
            .as_ref()
            .is_some_and(|s| s.required_in(cx.environment));
        if required {
            out.push(cx.finding(
                INFO.rule,
                v,
                format!(
                    "`{}` is required in {} but set to an empty value",
                    v.name, cx.environment
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{testing::prod, Rule};

    #[test]
    fn fails_on_empty_required() {
        let f = prod("[vars.SENTRY_DSN]\n", "SENTRY_DSN=\n", Rule::EmptyValue);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].location.as_ref().map(|l| (l.line, l.column)),
            Some((1, 1))
        );
    }

    #[test]
    fn passes_on_optional_or_set() {
        assert!(prod(
            "[vars.SENTRY_DSN]\nrequired = false\n",
            "SENTRY_DSN=\n",
            Rule::EmptyValue
        )
        .is_empty());
        assert!(prod("[vars.SENTRY_DSN]\n", "SENTRY_DSN=x\n", Rule::EmptyValue).is_empty());
    }
}
