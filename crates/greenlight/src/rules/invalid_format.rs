//! `invalid-format`: a value that does not have its declared catalog format.

use super::{Context, Rule, RuleInfo};
use crate::finding::{Finding, Severity};

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::InvalidFormat,
    severity: Severity::Critical,
    summary: "A value does not match its declared format",
    doc: include_str!("docs/invalid-format.md"),
    run,
};

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for v in cx.present() {
        let (Some(f), Some(value)) = (v.format, v.value()) else {
            continue;
        };
        if value.is_empty() || v.placeholder.is_some() {
            continue;
        }
        let values = v
            .spec
            .as_ref()
            .and_then(|s| s.values.clone())
            .unwrap_or_default();
        if let Err(why) = f.format.validate(value, f.param, &values) {
            out.push(cx.finding(
                INFO.rule,
                v,
                format!("`{}` {why} (format `{}`)", v.name, f.format.id),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{testing::prod, Rule};

    const DECLS: &str =
        "[vars.DATA_ENCRYPTION_KEY]\nformat = \"fernet.key\"\n[vars.TIMEOUT]\nformat = \"int\"\n";

    #[test]
    fn fails_on_wrong_format() {
        let f = prod(DECLS, "DATA_ENCRYPTION_KEY=8c93a3313c61e6a293a2bbb5f6699cf6cf5ce8c83fe85d03bdf35d005463aa77\nTIMEOUT=30s\n", Rule::InvalidFormat);
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f[0].message.contains("Fernet") || f[1].message.contains("Fernet"));
    }

    #[test]
    fn passes_on_right_format() {
        let f = prod(
            DECLS,
            "DATA_ENCRYPTION_KEY=fu-qB5kql00XH_NTCETWiuMR6T1jM_d2ivxXAqGjGXU=\nTIMEOUT=30000\n",
            Rule::InvalidFormat,
        );
        assert!(f.is_empty(), "{f:?}");
    }
}
