//! The rules of `probe`: stable ids (DESIGN.md's eight plus a few this implementation added,
//! listed in `docs/probe.md`), each with a default severity, a summary and its documentation
//! (`greenlight-core/rules/docs/<id>.md`, the text of `greenlight explain`), all in the rule
//! registry. A probe check picks the rule it
//! reports under and may lower or raise the severity (an expiring certificate is a warning until
//! the threshold, a missing header is a warning or critical by what it exposes).

use serde::Serialize;
use strum::{EnumIter, EnumString, IntoEnumIterator, IntoStaticStr};

use greenlight_core::finding::{RuleId, Severity};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumString, IntoStaticStr, EnumIter,
)]
#[strum(serialize_all = "kebab-case")]
pub enum ProbeRule {
    ProbeUnreachable,
    TlsNotEnforced,
    TlsCertificateExpiring,
    TlsCertificateInvalid,
    SecurityHeaderMissing,
    HealthCheckFailing,
    WebhookAcceptsUnsigned,
    AuthNotRequired,
    WebhookRejectsSigned,
    DatabaseRoleTooPowerful,
    CacheMisconfigured,
    ProbeInconclusive,
    MetricsMissing,
    RateLimitMissing,
    /// The service answers and rejects the configured credentials (a rule shared with `verify`).
    CredentialInvalid,
    MigrationsPending,
    EmailAuthMissing,
    EmailAuthWeak,
    EmailMxMissing,
}

/// A probe rule's entry: its metadata (severity, summary, documentation) is its entry in the
/// rule registry (`greenlight-core/rules/registry.toml`), found by its id.
pub struct ProbeRuleInfo {
    pub rule: ProbeRule,
}

impl ProbeRuleInfo {
    pub fn id(&self) -> RuleId {
        RuleId::of(self.rule.id())
    }

    pub fn severity(&self) -> Severity {
        self.id().severity()
    }

    pub fn summary(&self) -> &'static str {
        self.id().summary()
    }

    pub fn doc(&self) -> &'static str {
        self.id().doc()
    }
}

/// The probe rules, in registry order.
pub static PROBE_RULES: &[ProbeRuleInfo] = &[
    ProbeRuleInfo {
        rule: ProbeRule::ProbeUnreachable,
    },
    ProbeRuleInfo {
        rule: ProbeRule::TlsNotEnforced,
    },
    ProbeRuleInfo {
        rule: ProbeRule::TlsCertificateExpiring,
    },
    ProbeRuleInfo {
        rule: ProbeRule::TlsCertificateInvalid,
    },
    ProbeRuleInfo {
        rule: ProbeRule::SecurityHeaderMissing,
    },
    ProbeRuleInfo {
        rule: ProbeRule::HealthCheckFailing,
    },
    ProbeRuleInfo {
        rule: ProbeRule::WebhookAcceptsUnsigned,
    },
    ProbeRuleInfo {
        rule: ProbeRule::AuthNotRequired,
    },
    ProbeRuleInfo {
        rule: ProbeRule::WebhookRejectsSigned,
    },
    ProbeRuleInfo {
        rule: ProbeRule::DatabaseRoleTooPowerful,
    },
    ProbeRuleInfo {
        rule: ProbeRule::CacheMisconfigured,
    },
    ProbeRuleInfo {
        rule: ProbeRule::ProbeInconclusive,
    },
    ProbeRuleInfo {
        rule: ProbeRule::MetricsMissing,
    },
    ProbeRuleInfo {
        rule: ProbeRule::RateLimitMissing,
    },
    ProbeRuleInfo {
        rule: ProbeRule::CredentialInvalid,
    },
    ProbeRuleInfo {
        rule: ProbeRule::MigrationsPending,
    },
    ProbeRuleInfo {
        rule: ProbeRule::EmailAuthMissing,
    },
    ProbeRuleInfo {
        rule: ProbeRule::EmailAuthWeak,
    },
    ProbeRuleInfo {
        rule: ProbeRule::EmailMxMissing,
    },
];

impl From<ProbeRule> for RuleId {
    fn from(r: ProbeRule) -> RuleId {
        RuleId::of(r.id())
    }
}

impl ProbeRule {
    pub fn id(self) -> &'static str {
        self.into()
    }

    pub fn info(self) -> &'static ProbeRuleInfo {
        PROBE_RULES
            .iter()
            .find(|r| r.rule == self)
            .expect("every probe rule is registered")
    }

    pub fn all() -> Vec<ProbeRule> {
        ProbeRule::iter().collect()
    }
}

impl Serialize for ProbeRule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_registered_once_with_a_doc() {
        for rule in ProbeRule::all() {
            let n = PROBE_RULES.iter().filter(|r| r.rule == rule).count();
            assert_eq!(n, 1, "{rule:?}");
            let doc = rule.info().doc();
            // `credential-invalid` is verify's rule, shared: a rejected password is the same
            // outcome whoever finds it.
            let command = rule.info().id().command();
            assert!(
                command == "probe" || rule == ProbeRule::CredentialInvalid,
                "{command}"
            );
            assert!(
                doc.starts_with(&format!("# {}\n", rule.id())),
                "{}",
                rule.id()
            );
            for heading in [
                "## What it checks",
                "## Why it matters",
                "## Failing example",
                "## Passing example",
            ] {
                assert!(doc.contains(heading), "{} lacks {heading}", rule.id());
            }
        }
    }

    #[test]
    fn rule_ids_are_stable() {
        let ids: Vec<&str> = ProbeRule::all().into_iter().map(ProbeRule::id).collect();
        assert_eq!(
            ids,
            [
                "probe-unreachable",
                "tls-not-enforced",
                "tls-certificate-expiring",
                "tls-certificate-invalid",
                "security-header-missing",
                "health-check-failing",
                "webhook-accepts-unsigned",
                "auth-not-required",
                "webhook-rejects-signed",
                "database-role-too-powerful",
                "cache-misconfigured",
                "probe-inconclusive",
                "metrics-missing",
                "rate-limit-missing",
                "credential-invalid",
                "migrations-pending",
                "email-auth-missing",
                "email-auth-weak",
                "email-mx-missing",
            ]
        );
    }
}
