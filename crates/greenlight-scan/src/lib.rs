//! `greenlight scan`: leaked secrets in files and in git history. This crate owns the walk and
//! the history; the detectors themselves are catalog data in `greenlight-core` (`detect`), which
//! `check` runs too, and the text-to-findings step is `greenlight_core::text_findings`.
//!
//! Files are walked with ripgrep's walker (`ignore`, .gitignore-aware), in parallel on every
//! core; each file is read once, binary and oversized files are skipped with a note, and the
//! detectors confirm candidates around keyword hits only. History scanning reads every blob
//! reachable from any ref exactly once, attributing each secret to the first commit (in
//! topological order) that introduced it. It guarantees that nothing is skipped silently (every
//! skipped file is in the [`ScanSummary`]) and that findings carry secrets only masked.

pub mod baseline;
mod history;

pub use history::GitScope;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

pub use greenlight_core::detect::{Detector, Detectors, Generic, Hit};
pub use greenlight_core::text_findings::{
    findings_in_text, fingerprint, scan_bytes, scan_bytes_with_secrets, Held,
};

use greenlight_core::finding::Finding;

/// Files larger than this are skipped (with a note) unless the limit is raised.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub paths: Vec<PathBuf>,
    /// Walk files that .gitignore and friends exclude.
    pub no_ignore: bool,
    pub max_file_size: u64,
    /// Also scan every blob of the git history of the repository at the first path.
    pub git: bool,
    /// Skip the working tree (history only).
    pub history_only: bool,
    /// Instead of the working tree, only these objects of the repository at the first path:
    /// the staged blobs, or the commits of a revision range. Overrides `git`.
    pub git_scope: Option<GitScope>,
    /// gitignore-syntax patterns of paths not to report.
    pub exclude_paths: Vec<String>,
    /// Rule ids not to report.
    pub exclude_rules: Vec<String>,
    /// Keep each finding's secret in [`ScanResult::held`] (for `scan --verify`); off by default,
    /// so that a scan holds no secret longer than it takes to mask it.
    pub keep_secrets: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            paths: vec![PathBuf::from(".")],
            no_ignore: false,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            git: false,
            history_only: false,
            git_scope: None,
            exclude_paths: Vec::new(),
            exclude_rules: Vec::new(),
            keep_secrets: false,
        }
    }
}

/// Why something was not scanned. Never silent: each one is in the summary.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ScanSummary {
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub commits: u64,
    pub blobs_scanned: u64,
    pub skipped: Vec<Skipped>,
}

greenlight_core::redact_fields!(Skipped { path, reason });
greenlight_core::redact_fields!(ScanSummary { skipped });
// The envelope's `scan` entry: what was read and what was skipped (and why).
greenlight_core::section!(ScanSummary, "scan");

#[derive(Default)]
pub struct ScanResult {
    pub findings: Vec<Finding>,
    pub summary: ScanSummary,
    /// With `keep_secrets`: what each finding found, by its fingerprint.
    pub held: std::collections::HashMap<String, Held>,
}

/// Progress reporting: bytes scanned so far.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

fn is_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(8192)].contains(&0)
}

/// Scans the working tree (and the history with `git`).
pub fn scan(options: &ScanOptions, progress: Progress<'_>) -> ScanResult {
    Detectors::builtin().prepare_bulk();
    let mut result = ScanResult::default();
    let root = options
        .paths
        .first()
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."));
    match &options.git_scope {
        Some(scope @ GitScope::Staged { .. }) => {
            history::scan_staged(&root, scope, options, progress, &mut result);
            result.summary.files_scanned = result.summary.blobs_scanned;
        }
        Some(scope) => history::scan_history(&root, scope, options, progress, &mut result),
        None => {
            if !options.history_only {
                scan_files(options, progress, &mut result);
            }
            if options.git {
                history::scan_history(&root, &GitScope::AllHistory, options, progress, &mut result);
            }
        }
    }
    apply_excludes(options, &mut result);
    result
        .findings
        .sort_by(|a, b| (&a.location, a.rule).cmp(&(&b.location, b.rule)));
    result.summary.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    result
}

/// Checks that a revision range names commits of the repository at `root`, so that a typo is a
/// usage error rather than an empty scan.
pub fn check_range(root: &Path, range: &str) -> Result<(), String> {
    history::check_range(root, range)
}

/// Scans text that is not a file (standard input), under the name `shown`.
pub fn scan_text(shown: &str, bytes: &[u8], options: &ScanOptions) -> ScanResult {
    Detectors::builtin().prepare_bulk();
    let mut result = ScanResult::default();
    if is_binary(bytes) {
        result.summary.skipped.push(Skipped {
            path: shown.to_owned(),
            reason: "binary".into(),
        });
        return result;
    }
    result.summary.files_scanned = 1;
    result.summary.bytes_scanned = bytes.len() as u64;
    for (finding, secret) in scan_bytes_with_secrets(shown, bytes) {
        if options.keep_secrets {
            if let Some(fp) = &finding.fingerprint {
                result.held.insert(fp.clone(), secret);
            }
        }
        result.findings.push(finding);
    }
    apply_excludes(options, &mut result);
    result
}

fn apply_excludes(options: &ScanOptions, result: &mut ScanResult) {
    let mut builder = ignore::gitignore::GitignoreBuilder::new(".");
    for p in &options.exclude_paths {
        let _ = builder.add_line(None, p);
    }
    let matcher = builder.build().ok();
    result.findings.retain(|f| {
        if options.exclude_rules.iter().any(|r| r == f.rule.id()) {
            return false;
        }
        let Some(loc) = &f.location else { return true };
        let path = loc.path.trim_start_matches("./");
        !matcher
            .as_ref()
            .is_some_and(|m| m.matched_path_or_any_parents(path, false).is_ignore())
    });
}

fn display_path(path: &Path) -> String {
    let s = path.display().to_string();
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}

fn scan_files(options: &ScanOptions, progress: Progress<'_>, result: &mut ScanResult) {
    let mut paths = options.paths.iter();
    let Some(first) = paths.next() else { return };
    let mut builder = ignore::WalkBuilder::new(first);
    for p in paths {
        builder.add(p);
    }
    builder
        .follow_links(true)
        .standard_filters(!options.no_ignore)
        // After standard_filters, which would turn hidden-file skipping back on: `.env`,
        // `.npmrc` and `.github/` are where secrets live.
        .hidden(false)
        .filter_entry(|e| e.file_name() != ".git")
        .threads(std::thread::available_parallelism().map_or(2, |n| n.get()));
    let findings = Mutex::new(Vec::new());
    let held = Mutex::new(std::collections::HashMap::new());
    let skipped = Mutex::new(Vec::new());
    let files = AtomicU64::new(0);
    let bytes_total = AtomicU64::new(0);
    builder.build_parallel().run(|| {
        Box::new(|entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    let (path, reason) = describe_walk_error(&err);
                    skipped.lock().expect("lock").push(Skipped { path, reason });
                    return ignore::WalkState::Continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return ignore::WalkState::Continue;
            }
            let path = entry.path();
            let shown = display_path(path);
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            if size > options.max_file_size {
                skipped.lock().expect("lock").push(Skipped {
                    path: shown,
                    reason: format!(
                        "larger than the {} MiB limit ({} bytes)",
                        options.max_file_size / (1024 * 1024),
                        size
                    ),
                });
                return ignore::WalkState::Continue;
            }
            let bytes = match std::fs::read(path) {
                Ok(b) => b,
                Err(e) => {
                    skipped.lock().expect("lock").push(Skipped {
                        path: shown,
                        reason: format!("unreadable: {e}"),
                    });
                    return ignore::WalkState::Continue;
                }
            };
            if is_binary(&bytes) {
                skipped.lock().expect("lock").push(Skipped {
                    path: shown,
                    reason: "binary".into(),
                });
                return ignore::WalkState::Continue;
            }
            files.fetch_add(1, Ordering::Relaxed);
            let n =
                bytes_total.fetch_add(bytes.len() as u64, Ordering::Relaxed) + bytes.len() as u64;
            progress(n);
            if options.keep_secrets {
                let found = scan_bytes_with_secrets(&shown, &bytes);
                if !found.is_empty() {
                    let mut f = findings.lock().expect("lock");
                    let mut h = held.lock().expect("lock");
                    for (finding, secret) in found {
                        if let Some(fp) = &finding.fingerprint {
                            h.insert(fp.clone(), secret);
                        }
                        f.push(finding);
                    }
                }
            } else {
                let found = scan_bytes(&shown, &bytes);
                if !found.is_empty() {
                    findings.lock().expect("lock").extend(found);
                }
            }
            ignore::WalkState::Continue
        })
    });
    result.findings.extend(findings.into_inner().expect("lock"));
    result.held.extend(held.into_inner().expect("lock"));
    result
        .summary
        .skipped
        .extend(skipped.into_inner().expect("lock"));
    result.summary.files_scanned += files.into_inner();
    result.summary.bytes_scanned += bytes_total.into_inner();
}

fn describe_walk_error(err: &ignore::Error) -> (String, String) {
    match err {
        ignore::Error::WithPath { path, err } => (display_path(path), describe_walk_error(err).1),
        ignore::Error::Loop { child, .. } => (display_path(child), "symbolic link loop".into()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            describe_walk_error(err)
        }
        ignore::Error::Io(e) => (String::new(), format!("unreadable: {e}")),
        other => (String::new(), other.to_string()),
    }
}
