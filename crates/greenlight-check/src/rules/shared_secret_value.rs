//! `shared-secret-value`: one secret value used for two different purposes.

use std::collections::HashMap;

use super::{location_of, Context, Rule, RuleInfo};
use greenlight_core::finding::Finding;

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::SharedSecretValue,
    run,
};

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let mut first: HashMap<[u8; 32], &super::VarView<'_>> = HashMap::new();
    let mut present: Vec<_> = cx
        .present()
        .filter(|v| v.secret && v.has_real_value())
        .collect();
    present.sort_by_key(|v| v.assignment.map(location_of));
    for v in present {
        let fp = (cx.fingerprint)(v.value().unwrap_or_default());
        match first.get(&fp) {
            Some(earlier) => {
                let at = earlier
                    .assignment
                    .map(location_of)
                    .map(|l| format!(" ({}:{})", l.path, l.line))
                    .unwrap_or_default();
                out.push(cx.finding(
                    INFO.rule,
                    v,
                    format!(
                        "`{}` holds the same secret as `{}`{at}; each purpose needs its own secret",
                        v.name, earlier.name
                    ),
                ));
            }
            None => {
                first.insert(fp, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{testing::prod, Rule};

    const DECLS: &str =
        "[vars.IKHOKHA_API_SECRET]\nsecret = true\n[vars.IKHOKHA_WEBHOOK_SECRET]\nsecret = true\n";

    #[test]
    fn fails_when_two_secrets_are_equal() {
        let env = "IKHOKHA_API_SECRET=455rtQjghdOHzLN3YZ3AQ81H3KEf7OeS\nIKHOKHA_WEBHOOK_SECRET=455rtQjghdOHzLN3YZ3AQ81H3KEf7OeS\n";
        let f = prod(DECLS, env, Rule::SharedSecretValue);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].variable.as_deref(), Some("IKHOKHA_WEBHOOK_SECRET"));
        assert!(!f[0].message.contains("455rtQ"));
    }

    #[test]
    fn passes_when_distinct() {
        let env = "IKHOKHA_API_SECRET=455rtQjghdOHzLN3YZ3AQ81H3KEf7OeS\nIKHOKHA_WEBHOOK_SECRET=o1PGje8KQ8k1UWACe3qT9bJg3evvdHc8\n";
        assert!(prod(DECLS, env, Rule::SharedSecretValue).is_empty());
    }
}
