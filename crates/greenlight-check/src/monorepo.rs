//! A monorepo's apps, one `greenlight.toml` each, judged as one: `check --all` and
//! `golive --all` run every manifest below the repository root and combine the reports into one
//! envelope (every finding, a `manifests` entry per app) with one verdict: no-go when any app is.

use greenlight_core::finding::{Report, Summary, Verdict};
use greenlight_core::redact::{Redact, Redactor};

/// One app's result in a combined report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ManifestResult {
    /// The manifest's path, relative to where the command ran.
    pub path: String,
    pub project: String,
    /// Absent when the manifest was not run (see `note`).
    pub verdict: Option<Verdict>,
    pub summary: Option<Summary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Manifests(pub Vec<ManifestResult>);

greenlight_core::section!(Manifests, "manifests");

impl Redact for Manifests {
    fn redact(&mut self, r: &Redactor) {
        for m in &mut self.0 {
            m.path.redact(r);
            m.project.redact(r);
            if let Some(n) = &mut m.note {
                n.redact(r);
            }
        }
    }
}

/// One manifest's outcome: its (already sealed) report, or why it did not run.
pub enum Part<'a> {
    Ran {
        path: String,
        project: String,
        report: &'a Report,
    },
    Skipped {
        path: String,
        project: String,
        why: String,
    },
}

/// The apps' reports as one: every finding, one `manifests` entry per app, and no-go when any
/// app is no-go (a golive can be no-go without a critical finding: an unsigned checklist item).
pub fn combine(command: &'static str, environment: Option<String>, parts: &[Part<'_>]) -> Report {
    let mut findings = Vec::new();
    let mut entries = Vec::new();
    let mut any_no_go = false;
    for part in parts {
        match part {
            Part::Ran {
                path,
                project,
                report,
            } => {
                findings.extend(report.findings.iter().cloned());
                any_no_go |= report.verdict == Verdict::NoGo;
                entries.push(ManifestResult {
                    path: path.clone(),
                    project: project.clone(),
                    verdict: Some(report.verdict),
                    summary: Some(report.summary),
                    note: None,
                });
            }
            Part::Skipped { path, project, why } => entries.push(ManifestResult {
                path: path.clone(),
                project: project.clone(),
                verdict: None,
                summary: None,
                note: Some(why.clone()),
            }),
        }
    }
    let mut report = Report::new(command, environment, findings);
    if any_no_go {
        report.verdict = Verdict::NoGo;
    }
    report.set_section(Manifests(entries));
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_no_go_app_makes_the_whole_no_go() {
        let go = Report::new("golive", None, Vec::new());
        let mut no_go = Report::new("golive", None, Vec::new());
        no_go.verdict = Verdict::NoGo;
        let parts = [
            Part::Ran {
                path: "apps/a/greenlight.toml".into(),
                project: "a".into(),
                report: &go,
            },
            Part::Ran {
                path: "apps/b/greenlight.toml".into(),
                project: "b".into(),
                report: &no_go,
            },
            Part::Skipped {
                path: "apps/c/greenlight.toml".into(),
                project: "c".into(),
                why: "no environment `production`".into(),
            },
        ];
        let combined = combine("golive", Some("production".into()), &parts);
        assert_eq!(combined.verdict, Verdict::NoGo);
        let m = combined.section::<Manifests>().unwrap();
        assert_eq!(m.0.len(), 3);
        assert_eq!(m.0[2].verdict, None);
        let only_go = combine("golive", None, &parts[..1]);
        assert_eq!(only_go.verdict, Verdict::Go);
    }
}
