//! The finding model every command reports through, and the report envelope of DESIGN.md.
//! Findings know nothing about rendering; `report` turns them into text, JSON and more.

use serde::Serialize;

use crate::redact::Shown;
use crate::rules::Rule;

/// The rule a finding belongs to: one of `check`'s rules, or a `scan` detector of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuleId {
    Check(Rule),
    Detector(&'static str),
    /// A finding of `greenlight diff`.
    Diff(&'static str),
    /// A finding of `greenlight probe`.
    Probe(crate::probe::ProbeRule),
}

impl RuleId {
    pub fn id(self) -> &'static str {
        match self {
            RuleId::Check(r) => r.id(),
            RuleId::Detector(d) | RuleId::Diff(d) => d,
            RuleId::Probe(r) => r.id(),
        }
    }

    /// One line saying what the rule finds.
    pub fn summary(self) -> &'static str {
        match self {
            RuleId::Check(r) => r.info().summary,
            RuleId::Detector(d) => crate::scan::Detectors::builtin()
                .get(d)
                .map_or("A secret", |d| d.title.as_str()),
            RuleId::Diff("missing-in-environment") => {
                "A variable is set in one environment and not the other"
            }
            RuleId::Diff("mode-differs") => {
                "A credential is live in one environment and test in the other"
            }
            RuleId::Diff("host-shared-across-environments") => {
                "Both environments point at the same host"
            }
            RuleId::Diff(_) => "A difference between environments",
            RuleId::Probe(r) => r.info().summary,
        }
    }
}

impl From<Rule> for RuleId {
    fn from(r: Rule) -> RuleId {
        RuleId::Check(r)
    }
}

impl From<crate::probe::ProbeRule> for RuleId {
    fn from(r: crate::probe::ProbeRule) -> RuleId {
        RuleId::Probe(r)
    }
}

impl PartialEq<Rule> for RuleId {
    fn eq(&self, other: &Rule) -> bool {
        *self == RuleId::Check(*other)
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
    #[serde(skip)]
    pub help: Option<String>,
    #[serde(skip)]
    pub snippet: Option<Snippet>,
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

/// The envelope of every command's result (DESIGN.md, "Output").
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tool: Tool,
    pub command: &'static str,
    pub environment: Option<String>,
    pub verdict: Verdict,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    /// What `scan` read and what it skipped (and why).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scan: Option<crate::scan::ScanSummary>,
    /// What `probe` checked, probe by probe, including the checks that passed or could not tell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probes: Option<Vec<crate::probe::ProbeResult>>,
    /// `golive`'s decision: blocking reasons, checklist, accepted risks, sign-offs.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub golive: Option<crate::golive::Decision>,
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
            scan: None,
            probes: None,
            golive: None,
        }
    }
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
    help,
    snippet,
});

impl crate::redact::Redact for Report {
    fn redact(&mut self, r: &crate::redact::Redactor) {
        self.environment.redact(r);
        self.findings.redact(r);
        self.scan.redact(r);
        self.probes.redact(r);
        self.golive.redact(r);
    }
}
