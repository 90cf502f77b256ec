//! `greenlight golive`: the go/no-go decision. Runs `check`, `scan` (the manifest's directory)
//! and `probe` for one environment, applies the accepted risks of `greenlight.signoffs.toml`,
//! evaluates the manifest's `[[checklist]]` (automatic items from rule ids and probe results,
//! manual items from sign-offs), and decides: **go** only when no critical finding remains and
//! every required item passed or is signed off. Blocking reasons come first in every format.
//!
//! It composes the other crates and owns only the decision, the checklist and the sign-off file
//! (`signoffs`, edited atomically with its comments kept). It guarantees that "could not tell"
//! is never "passed" (an item whose probe did not run is `unknown`), and that its report comes
//! out sealed by the checked environment's redactor.

pub mod signoffs;

use chrono::{DateTime, Utc};
use serde::Serialize;

use greenlight_check::check::{self, CheckOptions};
use greenlight_core::error::InputError;
use greenlight_core::finding::{Finding, Report, Severity, Summary, Verdict};
use greenlight_core::manifest::{ChecklistItem, Manifest};
use greenlight_core::redact::Redacted;
use greenlight_core::source::LoadOptions;
use greenlight_probe::{self as probe, ProbeOptions, ProbeResult};
use greenlight_scan::{self as scan, ScanOptions};
use greenlight_verify::{self as verify, Verification, VerifyOptions};

pub use signoffs::{Accepted, Signoff, Signoffs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemStatus {
    /// Automatic: every rule and probe it names passed.
    Passed,
    /// Automatic: a rule it names has findings, or a probe failed.
    Failed,
    /// Automatic but could not be decided (a probe did not run or could not tell).
    Unknown,
    /// Signed off, and the sign-off is current.
    Signed,
    /// Manual, never signed off.
    Missing,
    /// Signed off, but the sign-off expired or the item changed since.
    Stale,
}

impl ItemStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Passed => "passed",
            ItemStatus::Failed => "failed",
            ItemStatus::Unknown => "unknown",
            ItemStatus::Signed => "signed",
            ItemStatus::Missing => "missing",
            ItemStatus::Stale => "stale",
        }
    }

    pub fn is_ok(self) -> bool {
        matches!(self, ItemStatus::Passed | ItemStatus::Signed)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemResult {
    pub id: String,
    pub title: String,
    pub section: String,
    pub required: bool,
    /// `auto` or `manual`.
    pub kind: &'static str,
    pub status: ItemStatus,
    /// Why: the failing rules and probes, or who signed and until when.
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signoff: Option<Signoff>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AcceptedRisk {
    #[serde(flatten)]
    pub accepted: Accepted,
    /// `active` (applied: the findings it covers do not count) or `expired` (not applied).
    pub status: &'static str,
    /// How many findings it covers in this run.
    pub covers: usize,
}

/// What each command contributed.
#[derive(Debug, Clone, Serialize)]
pub struct Part {
    pub command: &'static str,
    pub ran: bool,
    pub summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The go-live sections of the report envelope (flattened into it).
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub generated_at: DateTime<Utc>,
    /// Why the verdict is no-go, most important first (empty when go).
    pub blocking: Vec<String>,
    pub checklist: Vec<ItemResult>,
    pub accepted: Vec<AcceptedRisk>,
    pub signoffs: Vec<Signoff>,
    pub parts: Vec<Part>,
    /// The findings that accepted risks cover: shown, not counted.
    pub accepted_findings: Vec<Finding>,
}

greenlight_core::redact_fields!(ItemResult {
    id,
    title,
    section,
    detail,
    signoff,
});
greenlight_core::redact_fields!(AcceptedRisk { accepted });
greenlight_core::redact_fields!(Part { note });
greenlight_core::redact_fields!(Decision {
    blocking,
    checklist,
    accepted,
    signoffs,
    parts,
    accepted_findings,
});
// The go-live sections sit at the top level of the envelope.
greenlight_core::section!(Decision, flatten);

#[derive(Debug, Clone)]
pub struct GoliveOptions {
    pub environment: String,
    pub load: LoadOptions,
    /// Run the probes (network); off for an offline review.
    pub probes: bool,
    pub probe: ProbeOptions,
    /// Ask the providers whether the credentials work (network); off with `--no-verify`.
    pub verify: bool,
    pub verify_options: VerifyOptions,
    /// Also scan the git history.
    pub git: bool,
    pub now: Option<DateTime<Utc>>,
}

impl Default for GoliveOptions {
    fn default() -> Self {
        GoliveOptions {
            environment: "production".into(),
            load: LoadOptions::default(),
            probes: true,
            probe: ProbeOptions::default(),
            verify: true,
            verify_options: VerifyOptions::default(),
            git: false,
            now: None,
        }
    }
}

fn tag(mut findings: Vec<Finding>, source: &'static str) -> Vec<Finding> {
    for f in &mut findings {
        f.source = Some(source);
    }
    findings
}

/// The go-live decision, sealed by the redactor of the checked environment.
pub fn golive(
    manifest: &Manifest,
    options: &GoliveOptions,
) -> Result<Redacted<Report>, InputError> {
    let now = options.now.unwrap_or_else(Utc::now);
    let signoffs = Signoffs::load(manifest)?;
    let env = &options.environment;

    let checked = check::check(
        manifest,
        &CheckOptions {
            environment: env.clone(),
            load: options.load.clone(),
            now: Some(now),
        },
    )?;
    // The environments' own sources are `check`'s to judge (secret-in-config-file,
    // env-file-not-ignored); the scan looks for credentials everywhere else.
    let mut exclude_paths = manifest.scan.exclude_paths.clone();
    // Scan paths are shown (and excluded) relative to the working directory.
    let root = manifest.root.display().to_string();
    let root = root.trim_start_matches("./").trim_end_matches('/');
    for e in manifest.environments.values() {
        for s in &e.sources {
            let path = s.path().trim_start_matches("./");
            exclude_paths.push(if root.is_empty() || root == "." {
                format!("/{path}")
            } else {
                format!("/{root}/{path}")
            });
        }
    }
    let scanned = scan::scan(
        &ScanOptions {
            paths: vec![manifest.root.clone()],
            git: options.git,
            exclude_paths,
            exclude_rules: manifest.scan.exclude_rules.clone(),
            max_file_size: manifest
                .scan
                .max_file_size
                .unwrap_or(ScanOptions::default().max_file_size),
            ..ScanOptions::default()
        },
        &|_| {},
    );
    let probe_results: Option<Vec<ProbeResult>> = if options.probes {
        let probed = probe::probe(
            manifest,
            &ProbeOptions {
                environment: env.clone(),
                load: options.load.clone(),
                now: Some(now),
                ..options.probe.clone()
            },
        )?;
        probed
            .report
            .section::<probe::ProbeResults>()
            .map(|p| p.0.clone())
    } else {
        None
    };

    let verifications: Option<Vec<Verification>> = if options.verify {
        let verified = verify::verify(
            manifest,
            &VerifyOptions {
                environment: env.clone(),
                load: options.load.clone(),
                ..options.verify_options.clone()
            },
        )?;
        verified
            .report
            .section::<verify::Verifications>()
            .map(|v| v.0.clone())
    } else {
        None
    };

    let mut parts = vec![
        Part {
            command: "check",
            ran: true,
            summary: checked.report.summary,
            note: None,
        },
        Part {
            command: "scan",
            ran: true,
            summary: Summary::of(&scanned.findings),
            note: Some(format!(
                "{} files{}",
                scanned.summary.files_scanned,
                if options.git {
                    " and the git history"
                } else {
                    ""
                }
            )),
        },
    ];
    let probe_findings = probe_results
        .as_deref()
        .map(probe::findings_of)
        .unwrap_or_default();
    parts.push(Part {
        command: "probe",
        ran: probe_results.is_some(),
        summary: Summary::of(&probe_findings),
        note: match &probe_results {
            Some(p) => Some(format!("{} probes", p.len())),
            None => Some("not run (--no-probe)".into()),
        },
    });

    let verify_findings = verifications
        .as_deref()
        .map(verify::findings_of)
        .unwrap_or_default();
    parts.push(Part {
        command: "verify",
        ran: verifications.is_some(),
        summary: Summary::of(&verify_findings),
        note: match &verifications {
            Some(v) => Some(format!(
                "{} credential set(s), {} request(s)",
                v.len(),
                v.iter().map(|v| v.requests).sum::<usize>()
            )),
            None => Some("not run (--no-verify)".into()),
        },
    });

    let redactor = checked.redactor;
    let mut findings = tag(checked.report.findings, "check");
    findings.extend(tag(scanned.findings, "scan"));
    findings.extend(tag(probe_findings, "probe"));
    findings.extend(tag(verify_findings, "verify"));

    // Accepted risks: active ones take their findings out of the count.
    let mut accepted = Vec::new();
    let mut accepted_findings = Vec::new();
    for a in signoffs.accepted.iter().filter(|a| &a.environment == env) {
        let active = a.expires > now;
        let covered = findings.iter().filter(|f| a.covers(f)).count();
        if active {
            let (taken, kept): (Vec<_>, Vec<_>) = findings.into_iter().partition(|f| a.covers(f));
            accepted_findings.extend(taken);
            findings = kept;
        }
        accepted.push(AcceptedRisk {
            accepted: a.clone(),
            status: if active { "active" } else { "expired" },
            covers: covered,
        });
    }

    let checklist: Vec<ItemResult> = manifest
        .checklist
        .iter()
        .map(|item| {
            evaluate(
                item,
                env,
                &findings,
                probe_results.as_deref(),
                verifications.as_deref(),
                &signoffs,
                now,
            )
        })
        .collect();

    let mut report = Report::new("golive", Some(env.clone()), findings);
    let mut blocking = Vec::new();
    let critical: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .collect();
    // One line per (command, rule), so the list reads in a minute; every finding is in the
    // findings section.
    let mut groups: Vec<(&str, &str, Vec<&Finding>)> = Vec::new();
    for f in &critical {
        let source = f.source.unwrap_or("check");
        match groups
            .iter_mut()
            .find(|(s, r, _)| *s == source && *r == f.rule.id())
        {
            Some((_, _, v)) => v.push(f),
            None => groups.push((source, f.rule.id(), vec![f])),
        }
    }
    for (source, rule, group) in groups {
        let mut whats: Vec<String> = group
            .iter()
            .map(|f| match (&f.variable, &f.location) {
                (Some(v), _) => format!("`{v}`"),
                (None, Some(l)) => format!("{}:{}", l.path, l.line),
                (None, None) => f.message.clone(),
            })
            .collect();
        whats.dedup();
        let shown = whats.len().min(6);
        let more = if whats.len() > shown {
            format!(" and {} more", whats.len() - shown)
        } else {
            String::new()
        };
        blocking.push(if group.len() == 1 {
            format!("critical [{rule}] from {source}: {}", group[0].message)
        } else {
            format!(
                "{} critical [{rule}] findings from {source}: {}{more}",
                group.len(),
                whats[..shown].join(", ")
            )
        });
    }
    for item in checklist.iter().filter(|i| i.required && !i.status.is_ok()) {
        blocking.push(format!(
            "checklist item `{}` ({}) is {}: {}",
            item.id,
            item.title,
            item.status.as_str(),
            item.detail
        ));
    }
    report.verdict = if blocking.is_empty() {
        Verdict::Go
    } else {
        Verdict::NoGo
    };
    if let Some(results) = probe_results {
        report.set_section(probe::ProbeResults(results));
    }
    if let Some(results) = verifications {
        report.set_section(verify::Verifications(results));
    }
    report.set_section(Decision {
        generated_at: now,
        blocking,
        checklist,
        accepted,
        signoffs: signoffs
            .signoffs
            .iter()
            .filter(|s| &s.environment == env)
            .cloned()
            .collect(),
        parts,
        accepted_findings,
    });
    Ok(redactor.seal(report))
}

fn evaluate(
    item: &ChecklistItem,
    env: &str,
    findings: &[Finding],
    probes: Option<&[ProbeResult]>,
    verifications: Option<&[Verification]>,
    signoffs: &Signoffs,
    now: DateTime<Utc>,
) -> ItemResult {
    let digest = signoffs::item_digest(item);
    // The newest sign-off of this item in this environment.
    let signoff = signoffs
        .signoffs
        .iter()
        .filter(|s| s.item == item.id && s.environment == env)
        .max_by_key(|s| s.at)
        .cloned();
    let signed = signoff.as_ref().map(|s| {
        if s.item_digest != digest {
            Err(format!(
                "signed by {} on {}, but the item changed since",
                s.by,
                s.at.format("%Y-%m-%d")
            ))
        } else if s.expires.is_some_and(|e| e <= now) {
            Err(format!(
                "signed by {} on {}, expired {}",
                s.by,
                s.at.format("%Y-%m-%d"),
                s.expires.expect("checked").format("%Y-%m-%d")
            ))
        } else {
            Ok(format!(
                "signed by {} on {}{}{}",
                s.by,
                s.at.format("%Y-%m-%d"),
                s.expires
                    .map(|e| format!(", until {}", e.format("%Y-%m-%d")))
                    .unwrap_or_default(),
                s.note
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default()
            ))
        }
    });
    let (status, detail) = if item.is_manual() {
        match &signed {
            None => (
                ItemStatus::Missing,
                "needs a sign-off (`greenlight signoff`)".to_owned(),
            ),
            Some(Ok(d)) => (ItemStatus::Signed, d.clone()),
            Some(Err(d)) => (ItemStatus::Stale, d.clone()),
        }
    } else {
        let mut failing = Vec::new();
        let mut unknown = Vec::new();
        for entry in &item.auto {
            if let Some(service) = entry.strip_prefix("verify:") {
                let of: Vec<&Verification> = verifications
                    .into_iter()
                    .flatten()
                    .filter(|v| v.service == service)
                    .collect();
                if verifications.is_none() {
                    unknown.push(format!("verify `{service}` not run"));
                } else if of.is_empty() {
                    unknown.push(format!("nothing of `{service}` to verify in {env}"));
                } else if of.iter().any(|v| v.status == verify::Status::Fail) {
                    failing.push(format!("verify `{service}` failed"));
                } else if of.iter().any(|v| v.status == verify::Status::Unknown) {
                    unknown.push(format!("verify `{service}` could not tell"));
                }
            } else if let Some(name) = entry.strip_prefix("probe:") {
                match probes.and_then(|ps| ps.iter().find(|p| p.name == name)) {
                    None if probes.is_none() => unknown.push(format!("probe `{name}` not run")),
                    None => unknown.push(format!("probe `{name}` does not apply to {env}")),
                    Some(p) => match p.status {
                        probe::Status::Pass => {}
                        probe::Status::Fail => failing.push(format!("probe `{name}` failed")),
                        probe::Status::Unknown => {
                            unknown.push(format!("probe `{name}` could not tell"))
                        }
                    },
                }
            } else {
                let n = findings
                    .iter()
                    .filter(|f| f.rule.id() == entry && f.severity != Severity::Recommendation)
                    .count();
                if n > 0 {
                    failing.push(format!("{entry} ({n})"));
                }
            }
        }
        let auto = if !failing.is_empty() {
            (
                ItemStatus::Failed,
                format!("failing: {}", failing.join(", ")),
            )
        } else if !unknown.is_empty() {
            (ItemStatus::Unknown, unknown.join(", "))
        } else {
            (
                ItemStatus::Passed,
                format!("{} passed", item.auto.join(", ")),
            )
        };
        // A current sign-off vouches for an automatic item that did not pass (a check done by
        // other means); it is shown as such.
        match (&auto.0, &signed) {
            (ItemStatus::Passed, _) => auto,
            (_, Some(Ok(d))) => (ItemStatus::Signed, format!("{}; {d}", auto.1)),
            _ => auto,
        }
    };
    ItemResult {
        id: item.id.clone(),
        title: item.title.clone(),
        section: item.section.clone(),
        required: item.is_required(),
        kind: if item.is_manual() { "manual" } else { "auto" },
        status,
        detail,
        signoff,
    }
}

/// Records a sign-off of a checklist item; unknown ids get a did-you-mean.
pub fn sign(
    manifest: &Manifest,
    item_id: &str,
    environment: &str,
    by: &str,
    note: Option<String>,
    expires: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Signoff, InputError> {
    let Some(item) = manifest.checklist.iter().find(|i| i.id == item_id) else {
        let ids: Vec<&str> = manifest.checklist.iter().map(|i| i.id.as_str()).collect();
        let hint = greenlight_core::did_you_mean(item_id, ids.iter().copied())
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        return Err(InputError::Usage(format!(
            "no checklist item `{item_id}`{hint}; the manifest has: {}",
            if ids.is_empty() {
                "none".to_owned()
            } else {
                ids.join(", ")
            }
        )));
    };
    if !manifest.environments.contains_key(environment) {
        return Err(unknown_environment(manifest, environment));
    }
    if by.trim().is_empty() {
        return Err(InputError::Usage("--by needs a name".into()));
    }
    let mut file = Signoffs::load(manifest)?;
    let s = Signoff {
        item: item.id.clone(),
        environment: environment.to_owned(),
        by: by.trim().to_owned(),
        at: now,
        expires,
        note,
        item_digest: signoffs::item_digest(item),
        line: 0,
    };
    file.add_signoff(s.clone());
    file.save()?;
    Ok(s)
}

/// Records an accepted risk (`RULE:TARGET`, TARGET a variable or a probe name).
pub fn accept(
    manifest: &Manifest,
    spec: &str,
    environment: &str,
    reason: &str,
    by: &str,
    expires: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Accepted, InputError> {
    let Some((rule, target)) = spec.split_once(':') else {
        return Err(InputError::Usage(format!(
            "--allow `{spec}` is not RULE:VARIABLE (or RULE:PROBE)"
        )));
    };
    let known = greenlight_check::rules::Rule::all()
        .iter()
        .any(|r| r.id() == rule)
        || greenlight_probe::ProbeRule::all()
            .iter()
            .any(|r| r.id() == rule)
        || greenlight_core::rule::RuleId::get(rule).is_some_and(|r| r.command() == "verify")
        || greenlight_core::detect::Detectors::builtin()
            .get(rule)
            .is_some();
    if !known {
        return Err(InputError::Usage(format!(
            "--allow names unknown rule `{rule}`; `greenlight rules` lists them"
        )));
    }
    if reason.trim().is_empty() {
        return Err(InputError::Usage("--allow needs --reason".into()));
    }
    if expires <= now {
        return Err(InputError::Usage("--expires must be in the future".into()));
    }
    if !manifest.environments.contains_key(environment) {
        return Err(unknown_environment(manifest, environment));
    }
    let mut file = Signoffs::load(manifest)?;
    let a = Accepted {
        rule: rule.to_owned(),
        target: target.to_owned(),
        environment: environment.to_owned(),
        reason: reason.trim().to_owned(),
        by: by.trim().to_owned(),
        at: now,
        expires,
        line: 0,
    };
    file.add_accepted(a.clone());
    file.save()?;
    Ok(a)
}

fn unknown_environment(manifest: &Manifest, name: &str) -> InputError {
    let known: Vec<String> = manifest.environments.keys().cloned().collect();
    InputError::UnknownEnvironment {
        name: name.to_owned(),
        suggestion: greenlight_core::did_you_mean(name, known.iter().map(String::as_str))
            .map(str::to_owned),
        known,
    }
}
