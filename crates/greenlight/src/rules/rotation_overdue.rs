//! `rotation-overdue`: a secret older than its declared rotation period.

use super::{Context, Rule, RuleInfo};
use crate::catalog::{parse_datetime, parse_duration};
use crate::finding::{Finding, Severity};

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::RotationOverdue,
    severity: Severity::Warning,
    summary: "A secret was last rotated longer ago than its `rotate_every`",
    doc: include_str!("docs/rotation-overdue.md"),
    run,
};

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for v in cx.present() {
        let Some(spec) = &v.spec else { continue };
        let Some(period) = spec.rotate_every.as_ref() else {
            continue;
        };
        let Some(seconds) = parse_duration(period.get_ref()) else {
            continue;
        };
        let Some(recorder) = &spec.rotated_at else {
            // No variable records the rotation: the ledger may know when this value appeared.
            let value = v.value().unwrap_or_default();
            if let Some(first) = (cx.rotation_first_seen)(v.name, value) {
                let age = cx.now.signed_duration_since(first);
                if age.num_seconds() as f64 > seconds {
                    out.push(cx.finding(
                        INFO.rule,
                        v,
                        format!(
                            "`{}` has had this value since {} ({} days, per the rotation ledger); the manifest asks for every {}",
                            v.name,
                            first.format("%Y-%m-%d"),
                            age.num_days(),
                            period.get_ref()
                        ),
                    ));
                }
                continue;
            }
            let mut f = cx.finding(
                INFO.rule,
                v,
                format!(
                    "`{}` must be rotated every {}, but nothing records its last rotation; name the variable that does with `rotated_at`, or run `greenlight rotate record`",
                    v.name,
                    period.get_ref()
                ),
            );
            f.severity = Severity::Recommendation;
            out.push(f);
            continue;
        };
        let recorded = cx.env.value(recorder);
        let Some(when) = recorded.and_then(parse_datetime) else {
            let why = if recorded.is_some() {
                "is not a date"
            } else {
                "is not set"
            };
            out.push(cx.finding(
                INFO.rule,
                v,
                format!(
                    "cannot tell when `{}` was last rotated: `{recorder}` {why}",
                    v.name
                ),
            ));
            continue;
        };
        let age = cx.now.signed_duration_since(when);
        let age_days = age.num_days();
        if age.num_seconds() as f64 > seconds {
            out.push(cx.finding(
                INFO.rule,
                v,
                format!(
                    "`{}` was last rotated {age_days} days ago ({recorder} = {}); the manifest asks for every {}",
                    v.name,
                    when.format("%Y-%m-%d"),
                    period.get_ref()
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{testing::prod, Rule};

    const DECLS: &str = "[vars.DATA_ENCRYPTION_KEY]\nsecret = true\nrotate_every = \"30d\"\nrotated_at = \"LAST_KEY_ROTATION\"\n[vars.LAST_KEY_ROTATION]\nformat = \"datetime\"\n";
    const KEY: &str = "DATA_ENCRYPTION_KEY=fu-qB5kql00XH_NTCETWiuMR6T1jM_d2ivxXAqGjGXU=\n";

    #[test]
    fn fails_when_older_than_the_period() {
        let f = prod(
            DECLS,
            &format!("{KEY}LAST_KEY_ROTATION=2025-10-10T00:00:00Z\n"),
            Rule::RotationOverdue,
        );
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("387 days"), "{}", f[0].message);
    }

    #[test]
    fn passes_when_recent() {
        assert!(prod(
            DECLS,
            &format!("{KEY}LAST_KEY_ROTATION=2026-10-20T00:00:00Z\n"),
            Rule::RotationOverdue
        )
        .is_empty());
    }
}
