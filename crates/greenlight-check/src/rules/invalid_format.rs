//! `invalid-format`: a value that does not have its declared catalog format.

use super::{Context, Rule, RuleInfo};
use greenlight_core::finding::Finding;

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::InvalidFormat,
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
        // A secret in the wrong variable: the value is a secret of a recognised kind, the
        // declaration says public or plain. Named from both sides, it is the one finding about
        // this value's shape (its format's own complaint would only say "does not look like").
        if let Some(kind) = v.held_secret {
            if !v.declared_secret {
                let declared = if f.format.client_safe {
                    format!("`{}`, a public format", f.format.id)
                } else {
                    format!("`{}`, not a secret", f.format.id)
                };
                let mut finding = cx.finding(
                    INFO.rule,
                    v,
                    format!("`{}` holds a {kind}, but is declared {declared}", v.name),
                );
                finding.help = Some(if f.format.client_safe {
                    "put the public value here, and the secret in a server-side variable \
                     declared with its secret format; rotate the secret if it was ever deployed"
                        .to_owned()
                } else {
                    "declare the variable with the secret's format (or `secret = true`) so it is \
                     masked, compared across environments and kept out of browsers"
                        .to_owned()
                });
                out.push(finding);
                continue;
            }
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
    fn a_secret_in_a_public_variable_names_both_sides() {
        let decls = "[vars.VITE_STRIPE_PUBLIC_KEY]\nformat = \"stripe.publishable_key\"\n";
        let f = prod(
            decls,
            "VITE_STRIPE_PUBLIC_KEY=sk_live_7uXtXRKyccefTDgpukRzthFvQDYUN7jm8lBwQ32dLKI28Ih0\n",
            Rule::InvalidFormat,
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].message
                .contains("`VITE_STRIPE_PUBLIC_KEY` holds a Stripe")
                && f[0].message.contains("declared `stripe.publishable_key`"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].severity, greenlight_core::finding::Severity::Critical);
        let shown = f[0].value.as_ref().unwrap().as_str();
        assert!(!shown.contains("yccefTDg"), "{shown}");
        // Also exposed to browsers, through its prefix.
        let f = prod(
            decls,
            "VITE_STRIPE_PUBLIC_KEY=sk_live_7uXtXRKyccefTDgpukRzthFvQDYUN7jm8lBwQ32dLKI28Ih0\n",
            Rule::SecretExposedToClient,
        );
        assert_eq!(f.len(), 1, "{f:?}");
    }

    #[test]
    fn a_secret_in_a_plain_variable_is_critical() {
        for (format, value) in [
            ("int", "ghp_ZYMmLOPIwFQuYhrsiF8nfMaunlNy5yX0Y3rN"),
            ("email", "sk-ant-api03-U8JZpDE0iGXlD6gNCFbaEPFjbD0kH8Oool8DklZDOCj2ISaJiHkTj0rLGlkoMXGjtEkDnNfribxUdl7dXTPyLsxPFkThfAA"),
        ] {
            let decls = format!("[vars.SETTING]\nformat = \"{format}\"\n");
            let f = prod(&decls, &format!("SETTING={value}\n"), Rule::InvalidFormat);
            assert_eq!(f.len(), 1, "{format}: {f:?}");
            assert!(f[0].message.contains("holds a"), "{}", f[0].message);
            assert!(!f[0].value.as_ref().unwrap().as_str().contains(&value[10..20]));
        }
    }

    #[test]
    fn a_public_key_in_its_public_variable_passes() {
        let decls = "[vars.VITE_STRIPE_PUBLIC_KEY]\nformat = \"stripe.publishable_key\"\n";
        let env = "VITE_STRIPE_PUBLIC_KEY=pk_live_uq0HdOi7rQf0Vh1HjOd3yYV3cfHEs8XiuMxvMfynWZQ81ate8KZ64\n";
        assert!(prod(decls, env, Rule::InvalidFormat).is_empty());
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
