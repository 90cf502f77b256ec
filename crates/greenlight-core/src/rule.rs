//! The registry of rules: every rule of every subsystem — check rules, probe rules, diff rules,
//! scan detectors — with its id, the command that reports it, its default severity, its summary
//! and its documentation. The data is `rules/registry.toml` (and `catalog/detectors.toml` for
//! the detectors); subsystems refer to their rules by id and contribute behaviour, never
//! metadata. A [`RuleId`] is a reference into the registry, so a finding knows its rule's
//! summary without the finding model naming any subsystem.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// One rule's metadata.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleMeta {
    pub id: String,
    /// The command that reports it: `check`, `probe`, `diff`, `scan`, …
    pub command: String,
    pub severity: Severity,
    pub summary: String,
    /// Markdown with the headings *What it checks*, *Why it matters*, *Failing example*,
    /// *Passing example* (empty for detectors, whose documentation is made from their data).
    pub doc: String,
}

/// How much a finding weighs: only critical findings make a no-go.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Blocks go-live.
    Critical,
    Warning,
    Recommendation,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Recommendation => "recommendation",
        }
    }
}

#[derive(Deserialize)]
struct RegistryFile {
    rule: Vec<RuleMeta>,
}

/// Every rule of the registry file, in its order (detectors are listed by
/// [`crate::detect::Detectors::list`]).
pub fn registry() -> &'static [RuleMeta] {
    static REGISTRY: OnceLock<Vec<RuleMeta>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let file: RegistryFile =
            serde_json::from_str(include_str!(concat!(env!("OUT_DIR"), "/rules.json")))
                .expect("the rule registry is valid (checked at build time)");
        file.rule
    })
}

fn by_id() -> &'static HashMap<&'static str, usize> {
    static BY_ID: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    BY_ID.get_or_init(|| {
        registry()
            .iter()
            .enumerate()
            .map(|(i, m)| (m.id.as_str(), i))
            .collect()
    })
}

/// The rules a command reports, in registry order.
pub fn rules_of(command: &str) -> impl Iterator<Item = RuleId> + '_ {
    registry()
        .iter()
        .filter(move |m| m.command == command)
        .map(RuleId)
}

/// A rule: a reference into the registry. Compared, hashed, ordered and serialised by its id.
#[derive(Clone, Copy)]
pub struct RuleId(&'static RuleMeta);

impl RuleId {
    /// The registry rule with this id (a scan detector's `RuleId` comes from the detector:
    /// `RuleId::from_meta(&detector.meta)`).
    pub fn get(id: &str) -> Option<RuleId> {
        by_id().get(id).map(|&i| RuleId(&registry()[i]))
    }

    /// The rule with this id, which a subsystem names in its code; an id missing from the
    /// registry is a bug that every test of that rule finds.
    pub fn of(id: &str) -> RuleId {
        RuleId::get(id).unwrap_or_else(|| panic!("rule `{id}` is not in rules/registry.toml"))
    }

    /// The rule of a scan detector, whose metadata the detector builds at load.
    pub fn from_meta(meta: &'static RuleMeta) -> RuleId {
        RuleId(meta)
    }

    pub fn id(self) -> &'static str {
        &self.0.id
    }

    /// One line saying what the rule finds.
    pub fn summary(self) -> &'static str {
        &self.0.summary
    }

    pub fn severity(self) -> Severity {
        self.0.severity
    }

    pub fn command(self) -> &'static str {
        &self.0.command
    }

    pub fn doc(self) -> &'static str {
        &self.0.doc
    }

    pub fn meta(self) -> &'static RuleMeta {
        self.0
    }
}

impl PartialEq for RuleId {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl Eq for RuleId {}

impl std::hash::Hash for RuleId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id().hash(state);
    }
}

impl PartialOrd for RuleId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RuleId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.id().cmp(other.id())
    }
}

impl std::fmt::Debug for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RuleId({})", self.id())
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registry_rule_is_unique_documented_and_found_by_id() {
        let mut seen = std::collections::HashSet::new();
        for m in registry() {
            assert!(seen.insert(m.id.as_str()), "`{}` twice", m.id);
            assert_eq!(RuleId::of(&m.id).id(), m.id);
            for heading in [
                "## What it checks",
                "## Why it matters",
                "## Failing example",
                "## Passing example",
            ] {
                assert!(m.doc.contains(heading), "{}: doc lacks {heading}", m.id);
            }
            assert!(m.doc.starts_with(&format!("# {}", m.id)), "{}: title", m.id);
        }
        // No detector shares an id with a registry rule.
        for d in crate::detect::Detectors::builtin().list() {
            assert!(!seen.contains(d.id), "detector `{}` shadows a rule", d.id);
        }
    }
}
