//! `rotation-overdue`: a secret older than its declared rotation period.

use super::{Context, Rule, RuleInfo};
use crate::ledger::{last_rotation, LastRotation};
use greenlight_core::catalog::parse_duration;
use greenlight_core::finding::{Finding, Severity};

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::RotationOverdue,
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
        let last = last_rotation(spec, cx.env, v.name, cx.rotation_first_seen);
        let since = match &last {
            LastRotation::Recorded { at, .. } | LastRotation::Ledger(at) => *at,
            LastRotation::Unreadable { by, why } => {
                out.push(cx.finding(
                    INFO.rule,
                    v,
                    format!(
                        "cannot tell when `{}` was last rotated: `{by}` {why}",
                        v.name
                    ),
                ));
                continue;
            }
            LastRotation::Unknown => {
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
            }
        };
        let age = cx.now.signed_duration_since(since);
        if age.num_seconds() as f64 <= seconds {
            continue;
        }
        let (days, date) = (age.num_days(), since.format("%Y-%m-%d"));
        let how = match last {
            LastRotation::Recorded { by, .. } => {
                format!("was last rotated {days} days ago ({by} = {date})")
            }
            _ => format!("has had this value since {date} ({days} days, per the rotation ledger)"),
        };
        out.push(cx.finding(
            INFO.rule,
            v,
            format!(
                "`{}` {how}; the manifest asks for every {}",
                v.name,
                period.get_ref()
            ),
        ));
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
