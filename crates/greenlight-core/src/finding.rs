//! The finding model every command reports through, and the report envelope of DESIGN.md.
//! Findings know nothing about rendering (`greenlight-report` turns them into text, JSON and
//! more) nor about the subsystems that make them: a finding's rule is a reference into the rule
//! registry ([`RuleId`]), and a command's own part of the envelope (scan's summary, probe's
//! results, golive's decision) is a [`Section`] its subsystem defines.

use serde::Serialize;

use crate::redact::{Redact, Redactor, Shown};
pub use crate::rule::{RuleId, Severity};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Location {
    pub path: String,
    pub line: usize,
    pub column: usize,
}

/// The source line shown under a finding, with the value already masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    pub line_text: String,
    /// Character range of the (masked) value within `line_text`.
    pub columns: std::ops::Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: RuleId,
    pub severity: Severity,
    pub message: String,
    pub variable: Option<String>,
    pub service: Option<String>,
    pub location: Option<Location>,
    /// The value as it may be shown: masked when it is, or holds, a secret ([`Shown`]).
    pub value: Option<Shown>,
    /// For history findings of `scan`: the commit that introduced the secret, and its author.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// For `scan`: a fingerprint that survives line moves, for baselines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// For `probe` findings: the probe's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<String>,
    /// In `golive`: the command that produced the finding (check, scan or probe).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<&'static str>,
    /// With `scan --verify`: what the secret's provider said of it (`live`, `invalid`, `unknown`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<&'static str>,
    /// For `scan`: how sure the detector is (`high` for a provider format with a unique prefix
    /// or a valid checksum, `medium` for a provider's shape beside its name, `low` for a
    /// generic match or a failed checksum)...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
    /// ...and why it fired: the detector's evidence (prefix, checksum, context word, name and
    /// entropy). Never the secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    #[serde(skip)]
    pub help: Option<String>,
    #[serde(skip)]
    pub snippet: Option<Snippet>,
}

pub use crate::detect::Confidence;

/// The outcome of one check of a live subsystem (a probe's, a verification's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    Fail,
    /// Could not tell: never counted as a pass.
    Unknown,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "fail",
            CheckStatus::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Go,
    NoGo,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Go => "go",
            Verdict::NoGo => "no-go",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub critical: usize,
    pub warning: usize,
    pub recommendation: usize,
}

impl Summary {
    /// The counts by severity of these findings.
    pub fn of(findings: &[Finding]) -> Summary {
        let mut summary = Summary::default();
        for f in findings {
            match f.severity {
                Severity::Critical => summary.critical += 1,
                Severity::Warning => summary.warning += 1,
                Severity::Recommendation => summary.recommendation += 1,
            }
        }
        summary
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl Default for Tool {
    fn default() -> Self {
        Tool {
            name: "greenlight",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// A command's own part of the report envelope, defined by its subsystem: scan's summary, probe's
/// results, golive's decision. The report carries it without knowing its type; renderers that
/// know the type read it back with [`Report::section`].
pub trait Section: std::fmt::Debug + Send + Sync + 'static {
    /// The envelope entries it adds after `findings`, in order (one key, or several that sit
    /// at the top level of the envelope as golive's decision does).
    fn entries(&self) -> serde_json::Map<String, serde_json::Value>;
    /// Passes every string of the section through the redactor.
    fn redact(&mut self, r: &Redactor);
    fn as_any(&self) -> &dyn std::any::Any;
    fn clone_box(&self) -> Box<dyn Section>;
}

/// The sections of a report, serialised as the envelope entries they add.
#[derive(Debug, Default)]
pub struct Sections(Vec<Box<dyn Section>>);

impl Clone for Sections {
    fn clone(&self) -> Self {
        Sections(self.0.iter().map(|s| s.clone_box()).collect())
    }
}

impl Serialize for Sections {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        for section in &self.0 {
            for (k, v) in section.entries() {
                map.serialize_entry(&k, &v)?;
            }
        }
        map.end()
    }
}

/// The envelope of every command's result (DESIGN.md, "Output").
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tool: Tool,
    pub command: &'static str,
    pub environment: Option<String>,
    pub verdict: Verdict,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    /// The command's own sections (see [`Section`]).
    #[serde(flatten)]
    pub sections: Sections,
}

impl Report {
    pub fn new(
        command: &'static str,
        environment: Option<String>,
        mut findings: Vec<Finding>,
    ) -> Report {
        findings.sort_by(|a, b| {
            (a.severity, &a.location, a.rule.id(), &a.variable).cmp(&(
                b.severity,
                &b.location,
                b.rule.id(),
                &b.variable,
            ))
        });
        let summary = Summary::of(&findings);
        let verdict = if summary.critical > 0 {
            Verdict::NoGo
        } else {
            Verdict::Go
        };
        Report {
            tool: Tool::default(),
            command,
            environment,
            verdict,
            summary,
            findings,
            sections: Sections::default(),
        }
    }

    /// Adds another command's findings (`check --verify`): the summary and verdict follow.
    pub fn add_findings(&mut self, findings: Vec<Finding>) {
        let sections = std::mem::take(&mut self.sections);
        let mut all = std::mem::take(&mut self.findings);
        all.extend(findings);
        let mut merged = Report::new(self.command, self.environment.take(), all);
        merged.sections = sections;
        *self = merged;
    }

    /// Adds a section (replacing one of the same type).
    pub fn set_section<T: Section>(&mut self, section: T) {
        self.sections
            .0
            .retain(|s| s.as_any().type_id() != std::any::TypeId::of::<T>());
        self.sections.0.push(Box::new(section));
    }

    /// The section of type `T`, if the report has one.
    pub fn section<T: Section>(&self) -> Option<&T> {
        self.sections
            .0
            .iter()
            .find_map(|s| s.as_any().downcast_ref::<T>())
    }
}

/// Implements [`Section`] for a serialisable, redactable type: under one envelope key, or
/// flattened into the envelope (`flatten`).
#[macro_export]
macro_rules! section {
    ($ty:ty, $key:literal) => {
        impl $crate::finding::Section for $ty {
            fn entries(&self) -> serde_json::Map<String, serde_json::Value> {
                let mut m = serde_json::Map::new();
                m.insert(
                    $key.to_owned(),
                    serde_json::to_value(self).expect("a section serialises"),
                );
                m
            }
            fn redact(&mut self, r: &$crate::redact::Redactor) {
                $crate::redact::Redact::redact(self, r);
            }
            fn as_any(&self) -> &dyn std::any::Any {
                self
            }
            fn clone_box(&self) -> Box<dyn $crate::finding::Section> {
                Box::new(self.clone())
            }
        }
    };
    ($ty:ty, flatten) => {
        impl $crate::finding::Section for $ty {
            fn entries(&self) -> serde_json::Map<String, serde_json::Value> {
                match serde_json::to_value(self).expect("a section serialises") {
                    serde_json::Value::Object(m) => m,
                    _ => unreachable!("a flattened section is a struct"),
                }
            }
            fn redact(&mut self, r: &$crate::redact::Redactor) {
                $crate::redact::Redact::redact(self, r);
            }
            fn as_any(&self) -> &dyn std::any::Any {
                self
            }
            fn clone_box(&self) -> Box<dyn $crate::finding::Section> {
                Box::new(self.clone())
            }
        }
    };
}

crate::redact_fields!(Location { path });
crate::redact_fields!(Snippet { line_text });
crate::redact_fields!(Finding {
    message,
    variable,
    service,
    location,
    value,
    commit,
    author,
    fingerprint,
    probe,
    why,
    help,
    snippet,
});

impl Redact for Report {
    fn redact(&mut self, r: &Redactor) {
        self.environment.redact(r);
        self.findings.redact(r);
        for section in &mut self.sections.0 {
            section.redact(r);
        }
    }
}
