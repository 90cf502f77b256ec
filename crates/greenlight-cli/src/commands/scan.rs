//! `greenlight scan`.

use std::path::PathBuf;
use std::process::ExitCode;

use greenlight::error::InputError;
use greenlight::manifest::Manifest;
use greenlight::redact::Redactor;

use super::*;

/// The arguments of `greenlight scan`.
#[derive(clap::Args)]
pub struct Args {
    /// Files or directories to scan (default: the current directory); `-` reads standard input
    /// (`git diff | greenlight scan -`). With --staged: the index's version of these files
    /// (what pre-commit passes); with --since or --range: the repository.
    pub paths: Vec<PathBuf>,
    /// Also scan every blob reachable from any ref of the repository at the first PATH.
    #[arg(long, conflicts_with_all = ["staged", "since", "range"])]
    pub git: bool,
    /// Only what `git commit` would record: the staged blobs that differ from HEAD, with the
    /// paths and lines they will have once committed (for a pre-commit hook). Given PATHS, the
    /// index's version of each (`pre-commit run --all-files` passes every tracked file).
    #[arg(long, conflicts_with_all = ["since", "range"])]
    pub staged: bool,
    /// Only the blobs introduced by the commits after REV up to HEAD (REV..HEAD), each finding
    /// with its commit: the pull-request check (`--since origin/main`).
    #[arg(long, value_name = "REV", conflicts_with = "range")]
    pub since: Option<String>,
    /// Only the blobs introduced by the commits of a range `A..B`, each finding with its commit.
    #[arg(long, value_name = "A..B")]
    pub range: Option<String>,
    /// The file name to report (and to choose detectors by) when reading standard input.
    #[arg(long, value_name = "NAME", default_value = "stdin")]
    pub stdin_name: String,
    /// Only the history, not the working tree (with --git).
    #[arg(long, requires = "git")]
    pub history_only: bool,
    /// Scan files that .gitignore (and .ignore) exclude.
    #[arg(long)]
    pub no_ignore: bool,
    /// Skip files larger than this many bytes (reported in the summary).
    #[arg(long)]
    pub max_file_size: Option<u64>,
    /// Report only findings that are not in this baseline file.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Write the current findings as a baseline and exit 0.
    #[arg(long)]
    pub write_baseline: Option<PathBuf>,
    /// The manifest whose `[scan]` table excludes paths and rules (used when it exists).
    #[arg(long, short, default_value = "greenlight.toml")]
    pub manifest: PathBuf,
    #[arg(long, short, value_enum, default_value = "human")]
    pub format: ReportFormat,
    /// Ask each found secret's provider whether it is live (network): findings are marked
    /// `live`, `invalid` or `unknown`, and a baselined secret that is live is reported anyway.
    #[arg(long)]
    pub verify: bool,
    /// Report only secrets their provider confirms are live (implies --verify).
    #[arg(long)]
    pub only_verified: bool,
    /// Report only findings at least this sure: `high` (a provider's format with its unique
    /// prefix or a valid checksum), `medium` (a provider's shape beside its name), `low`
    /// (generic: a random-looking value under a secret-like name; a failed checksum). Default:
    /// the manifest's `[scan] min_confidence`, else every finding.
    #[arg(long, value_enum)]
    pub min_confidence: Option<MinConfidence>,
    #[command(flatten)]
    pub network: super::verify::NetworkArgs,
}

/// `--min-confidence`'s values.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum MinConfidence {
    Low,
    Medium,
    High,
}

impl From<MinConfidence> for greenlight::finding::Confidence {
    fn from(c: MinConfidence) -> Self {
        use greenlight::finding::Confidence;
        match c {
            MinConfidence::Low => Confidence::Low,
            MinConfidence::Medium => Confidence::Medium,
            MinConfidence::High => Confidence::High,
        }
    }
}

pub fn run(args: Args) -> Result<ExitCode, InputError> {
    use greenlight::scan::{
        baseline::Baseline, scan, GitScope, ScanOptions, DEFAULT_MAX_FILE_SIZE,
    };
    let mut args = args;
    let explicit_paths = !args.paths.is_empty();
    if !explicit_paths {
        args.paths.push(PathBuf::from("."));
    }
    let stdin = args.paths.iter().any(|p| p.as_os_str() == "-");
    if stdin && (args.paths.len() > 1 || args.git || args.staged) {
        return Err(InputError::Usage(
            "`-` (standard input) is scanned alone: without other paths, --git or --staged".into(),
        ));
    }
    let git_scope = if args.staged {
        Some(GitScope::Staged {
            paths: if explicit_paths {
                std::mem::replace(&mut args.paths, vec![PathBuf::from(".")])
            } else {
                Vec::new()
            },
        })
    } else {
        args.since
            .clone()
            .or_else(|| args.range.clone())
            .map(GitScope::Range)
    };
    if let Some(GitScope::Range(range)) = &git_scope {
        if args.range.is_some() && !range.contains("..") {
            return Err(InputError::Usage(format!(
                "--range `{range}` is not a range A..B (for REV..HEAD, use --since REV)"
            )));
        }
        let root = args.paths.first().cloned().unwrap_or_else(|| ".".into());
        greenlight::scan::check_range(&root, range).map_err(InputError::Usage)?;
    }
    for p in args.paths.iter().filter(|p| p.as_os_str() != "-") {
        if !p.exists() {
            return Err(InputError::Usage(format!(
                "{}: no such file or directory",
                p.display()
            )));
        }
    }
    let config = if args.manifest.exists() {
        Some(Manifest::load(&args.manifest)?.scan)
    } else {
        None
    };
    let config = config.unwrap_or_default();
    let min_confidence = args
        .min_confidence
        .map(greenlight::finding::Confidence::from)
        .or(config.min_confidence);
    let baseline = args.baseline.as_deref().map(Baseline::load).transpose()?;
    let options = ScanOptions {
        paths: args.paths,
        no_ignore: args.no_ignore,
        max_file_size: args
            .max_file_size
            .or(config.max_file_size)
            .unwrap_or(DEFAULT_MAX_FILE_SIZE),
        git: args.git,
        history_only: args.history_only,
        git_scope,
        exclude_paths: config.exclude_paths,
        exclude_rules: config.exclude_rules,
        keep_secrets: args.verify || args.only_verified,
    };
    // A progress bar only when a person is watching stderr (never in CI logs or pipes).
    let bar = spinner(if args.git {
        "scanning files and history…"
    } else {
        "scanning…"
    });
    let scanned = std::sync::atomic::AtomicU64::new(0);
    let progress = |n: u64| {
        let total = scanned.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
        if let Some(bar) = &bar {
            bar.set_message(format!("{:.1} MiB", total as f64 / 1048576.0));
        }
    };
    let mut result = if stdin {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
            .map_err(|e| InputError::Usage(format!("standard input: {e}")))?;
        greenlight::scan::scan_text(&args.stdin_name, &bytes, &options)
    } else {
        scan(&options, &progress)
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if let Some(min) = min_confidence {
        result
            .findings
            .retain(|f| f.confidence.is_none_or(|c| c >= min));
        // Nor is a secret below the bar sent to its provider by --verify.
        let kept: std::collections::HashSet<&String> = result
            .findings
            .iter()
            .filter_map(|f| f.fingerprint.as_ref())
            .collect();
        result.held.retain(|fp, _| kept.contains(fp));
    }
    if let Some(path) = &args.write_baseline {
        Baseline::from_findings(&result.findings).save(path)?;
        eprintln!(
            "greenlight: wrote {} finding(s) to the baseline {}",
            result.findings.len(),
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let verify = args.verify || args.only_verified;
    if verify {
        mark_verified(&mut result, &args.network)?;
    }
    // The secrets are not needed past this point.
    result.held.clear();
    if let Some(b) = &baseline {
        // A baseline records "we accepted this text", not "this key is dead": a baselined secret
        // its provider confirms is live is still reported.
        result.findings.retain_mut(|f| {
            if !b.contains(f) {
                return true;
            }
            if f.verification == Some("live") {
                f.message
                    .push_str(" (in the baseline, but its provider says it is live: revoke it)");
                return true;
            }
            false
        });
    }
    if args.only_verified {
        result.findings.retain(|f| f.verification == Some("live"));
    }
    let remaining = result.findings.len();
    let mut report = greenlight::finding::Report::new("scan", None, result.findings);
    report.set_section(result.summary);
    // Scan findings carry masked values; the detectors look over every other string.
    let report = Redactor::detectors_only().seal(report);
    let mut text = render(&report, "files", args.format);
    if args.format == ReportFormat::Human && !quiet() {
        // What was read and what was not: never silent.
        let s = report
            .section::<greenlight::scan::ScanSummary>()
            .expect("set above");
        let history = if args.git || args.since.is_some() || args.range.is_some() {
            format!(", {} commits, {} unique blobs", s.commits, s.blobs_scanned)
        } else {
            String::new()
        };
        text.push_str(&format!(
            "scanned {} files ({:.1} MiB){history}\n",
            s.files_scanned,
            s.bytes_scanned as f64 / 1048576.0
        ));
        if !s.skipped.is_empty() {
            text.push_str(&format!("skipped {}:\n", s.skipped.len()));
            for k in &s.skipped {
                text.push_str(&format!("  {}: {}\n", k.path, k.reason));
            }
        }
    }
    emit(&text);
    Ok(if remaining > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Asks each found secret's provider and marks its finding.
fn mark_verified(
    result: &mut greenlight::scan::ScanResult,
    network: &super::verify::NetworkArgs,
) -> Result<(), InputError> {
    use greenlight::verify::Liveness;
    let options = network.options("", greenlight::source::LoadOptions::default())?;
    let held: Vec<(String, &greenlight::scan::Held)> =
        result.held.iter().map(|(k, h)| (k.clone(), h)).collect();
    let bar = spinner(&format!(
        "asking the providers about {} secrets…",
        held.len()
    ));
    let verdicts = greenlight::verify::verify_secrets(&held, &options);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    for f in &mut result.findings {
        let Some(v) = f.fingerprint.as_ref().and_then(|fp| verdicts.get(fp)) else {
            continue;
        };
        f.verification = Some(v.status.as_str()).map(|s| match s {
            "valid" => "live",
            other => other,
        });
        let said = match v.status {
            Liveness::Valid => format!(" — verified live with {}", v.provider),
            Liveness::Invalid => format!(" — {} rejects it (revoked or wrong)", v.provider),
            Liveness::Unknown if v.provider.is_empty() => {
                " — not verified: no provider to ask".to_owned()
            }
            Liveness::Unknown => format!(" — not verified: {}", v.reason),
        };
        f.message.push_str(&said);
    }
    Ok(())
}
