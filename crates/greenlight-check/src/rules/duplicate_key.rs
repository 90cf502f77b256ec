//! `duplicate-key`: a key assigned twice in one file.

use super::{location_of, snippet_of, Context, Rule, RuleInfo};
use greenlight_core::finding::{Finding, Severity};
use greenlight_core::source::SourceKind;

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::DuplicateKey,
    run,
};

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let mut first_at: std::collections::HashMap<
        (&str, &str),
        &greenlight_core::source::Assignment,
    > = std::collections::HashMap::new();
    for a in &cx.env.assignments {
        let Some(first) = first_at
            .get(&(a.origin.path.as_str(), a.name.as_str()))
            .copied()
        else {
            first_at.insert((a.origin.path.as_str(), a.name.as_str()), a);
            continue;
        };
        let secret = cx
            .vars
            .iter()
            .find(|v| v.name == a.name)
            .is_some_and(|v| v.secret);
        let readers = if a.origin.kind == SourceKind::Dotenv {
            "node's dotenv, python-dotenv and dotenvx use this one, dotenvy (Rust) the first"
        } else {
            "the last one is used"
        };
        // Two different values: which one the application gets depends on its loader, so in
        // production the deployment is not determined by its configuration. The same value
        // twice is only clutter. (Compared by value; neither is shown.)
        let differ = first.value != a.value;
        let (severity, what) = if differ && cx.production {
            (
                Severity::Critical,
                " with a different value: which one the application gets depends on its loader",
            )
        } else if differ {
            (INFO.severity(), " with a different value")
        } else {
            (INFO.severity(), " with the same value")
        };
        out.push(Finding {
            rule: INFO.rule.into(),
            severity,
            message: format!(
                "`{}` is already assigned at line {} of this file{what}; {readers}",
                a.name, first.origin.line
            ),
            variable: Some(a.name.clone()),
            service: cx
                .vars
                .iter()
                .find(|v| v.name == a.name)
                .and_then(|v| v.service.map(str::to_owned)),
            location: Some(location_of(a)),
            value: Some(greenlight_core::redact::Shown::of(&a.value, secret)),
            verification: None,
            confidence: None,
            why: None,
            help: None,
            commit: None,
            author: None,
            fingerprint: None,
            source: None,
            probe: None,
            snippet: snippet_of(a, secret),
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{testing::prod, Rule};

    #[test]
    fn fails_on_repeated_key() {
        let f = prod("[vars.A]\n", "A=1\nB=2\nA=3\n", Rule::DuplicateKey);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].location.as_ref().map(|l| l.line), Some(3));
    }

    #[test]
    fn different_values_in_production_are_critical() {
        use greenlight_core::finding::Severity;
        let f = prod("[vars.A]\n", "A=one\nA=two\n", Rule::DuplicateKey);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Critical);
        assert!(f[0].message.contains("different value"), "{}", f[0].message);
        let f = prod("[vars.A]\n", "A=same\nA=same\n", Rule::DuplicateKey);
        assert_eq!(f[0].severity, Severity::Warning);
        let f = crate::rules::testing::findings(
            "[vars.A]\n",
            &[(".env.staging", "A=one\nA=two\n")],
            "staging",
            Rule::DuplicateKey,
        );
        assert_eq!(f[0].severity, Severity::Warning);
    }

    #[test]
    fn passes_on_unique_keys() {
        assert!(prod("[vars.A]\n", "A=1\nB=2\n", Rule::DuplicateKey).is_empty());
    }
}
