//! The rules of `probe`: stable ids (DESIGN.md's eight plus a few this implementation added,
//! listed in `docs/probe.md`), each with a default severity, a summary and its documentation
//! (`probe/docs/<id>.md`, the text of `greenlight explain`). A probe check picks the rule it
//! reports under and may lower or raise the severity (an expiring certificate is a warning until
//! the threshold, a missing header is a warning or critical by what it exposes).

use serde::Serialize;
use strum::{EnumIter, EnumString, IntoEnumIterator, IntoStaticStr};

use crate::finding::Severity;

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
}

pub struct ProbeRuleInfo {
    pub rule: ProbeRule,
    pub severity: Severity,
    pub summary: &'static str,
    pub doc: &'static str,
}

macro_rules! info {
    ($rule:ident, $sev:ident, $summary:literal, $file:literal) => {
        ProbeRuleInfo {
            rule: ProbeRule::$rule,
            severity: Severity::$sev,
            summary: $summary,
            doc: include_str!(concat!("docs/", $file, ".md")),
        }
    };
}

/// The one ordered registry of probe rules.
pub static PROBE_RULES: &[ProbeRuleInfo] = &[
    info!(
        ProbeUnreachable,
        Critical, "A service the environment needs does not answer", "probe-unreachable"
    ),
    info!(
        TlsNotEnforced,
        Critical, "A connection is, or can be, made without TLS", "tls-not-enforced"
    ),
    info!(
        TlsCertificateExpiring,
        Warning, "A TLS certificate expires soon", "tls-certificate-expiring"
    ),
    info!(
        TlsCertificateInvalid,
        Critical,
        "A TLS certificate is expired, untrusted or for another host",
        "tls-certificate-invalid"
    ),
    info!(
        SecurityHeaderMissing,
        Warning, "A security header is missing or weak", "security-header-missing"
    ),
    info!(
        HealthCheckFailing,
        Critical, "The health endpoint reports a failure", "health-check-failing"
    ),
    info!(
        WebhookAcceptsUnsigned,
        Critical, "A webhook endpoint accepts a request it must reject", "webhook-accepts-unsigned"
    ),
    info!(
        AuthNotRequired,
        Critical, "A service accepts connections without a password", "auth-not-required"
    ),
    info!(
        WebhookRejectsSigned,
        Critical, "A webhook endpoint rejects a correctly signed event", "webhook-rejects-signed"
    ),
    info!(
        DatabaseRoleTooPowerful,
        Warning, "The application's database role is a superuser", "database-role-too-powerful"
    ),
    info!(
        CacheMisconfigured,
        Recommendation,
        "Redis eviction or persistence does not fit its role",
        "cache-misconfigured"
    ),
    info!(
        ProbeInconclusive,
        Warning, "A probe could not tell whether a check passes", "probe-inconclusive"
    ),
];

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
            let doc = rule.info().doc;
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
            ]
        );
    }
}
