//! `greenlight scan`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use greenlight::error::InputError;
use greenlight::manifest::Manifest;
use greenlight::redact::Redactor;

use super::*;

/// The arguments of `greenlight scan`.
#[derive(clap::Args)]
pub struct Args {
    /// Files or directories to scan.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Also scan every blob reachable from any ref of the repository at the first PATH.
    #[arg(long)]
    pub git: bool,
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
}

pub fn run(args: Args) -> Result<ExitCode, InputError> {
    use greenlight::scan::{baseline::Baseline, scan, ScanOptions, DEFAULT_MAX_FILE_SIZE};
    for p in &args.paths {
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
        exclude_paths: config.exclude_paths,
        exclude_rules: config.exclude_rules,
    };
    // A progress bar only when a person is watching stderr.
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} scanning… {msg}").expect("template"),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    });
    let scanned = std::sync::atomic::AtomicU64::new(0);
    let progress = |n: u64| {
        let total = scanned.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
        if let Some(bar) = &bar {
            bar.set_message(format!("{:.1} MiB", total as f64 / 1048576.0));
        }
    };
    let mut result = scan(&options, &progress);
    if let Some(bar) = bar {
        bar.finish_and_clear();
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
    if let Some(b) = &baseline {
        result.findings.retain(|f| !b.contains(f));
    }
    let remaining = result.findings.len();
    let mut report = greenlight::finding::Report::new("scan", None, result.findings);
    report.set_section(result.summary);
    // Scan findings carry masked values; the detectors look over every other string.
    let report = Redactor::detectors_only().seal(report);
    let mut text = render(&report, "files", args.format);
    if args.format == ReportFormat::Human {
        // What was read and what was not: never silent.
        let s = report
            .section::<greenlight::scan::ScanSummary>()
            .expect("set above");
        let history = if args.git {
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
