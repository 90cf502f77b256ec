//! `greenlight scan`: leaked secrets in files and in git history.
//!
//! Files are walked with ripgrep's walker (`ignore`, .gitignore-aware), in parallel on every
//! core; each file is read once, binary and oversized files are skipped with a note, and the
//! detectors ([`detectors`]) confirm candidates around keyword hits only. History scanning reads
//! every blob reachable from any ref exactly once, attributing each secret to the first commit
//! (in topological order) that introduced it.

pub mod baseline;
pub mod detectors;
mod history;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

pub use detectors::{Detector, Detectors, Generic, Hit};

use crate::finding::{Finding, Location, RuleId, Snippet};
use crate::mask::mask_secret;

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
    /// gitignore-syntax patterns of paths not to report.
    pub exclude_paths: Vec<String>,
    /// Rule ids not to report.
    pub exclude_rules: Vec<String>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            paths: vec![PathBuf::from(".")],
            no_ignore: false,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            git: false,
            history_only: false,
            exclude_paths: Vec::new(),
            exclude_rules: Vec::new(),
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

crate::redact_fields!(Skipped { path, reason });
crate::redact_fields!(ScanSummary { skipped });

#[derive(Debug, Clone, Default)]
pub struct ScanResult {
    pub findings: Vec<Finding>,
    pub summary: ScanSummary,
}

/// Progress reporting: bytes scanned so far.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// Lock files hold integrity hashes that look like secrets to the generic detector.
fn is_lock_file(name: &str) -> bool {
    matches!(
        name,
        "package-lock.json"
            | "yarn.lock"
            | "pnpm-lock.yaml"
            | "Cargo.lock"
            | "poetry.lock"
            | "go.sum"
            | "Gemfile.lock"
            | "composer.lock"
            | "Pipfile.lock"
            | "npm-shrinkwrap.json"
            | "bun.lock"
            | "uv.lock"
            | "go.work.sum"
            | "flake.lock"
            | "Podfile.lock"
            | "mix.lock"
            | "pubspec.lock"
            | "packages.lock.json"
            | "gradle.lockfile"
            | "Package.resolved"
            | "deno.lock"
            | ".terraform.lock.hcl"
            | "paket.lock"
            | "conan.lock"
            | "Cartfile.resolved"
    )
}

/// Turns the hits of one text into findings.
pub fn findings_in_text(path: &str, text: &[u8], hits: &[Hit]) -> Vec<Finding> {
    let mut out = Vec::new();
    for hit in hits {
        let line_start = text[..hit.secret.start]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line_end = text[hit.secret.start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |i| hit.secret.start + i);
        let line_no = text[..line_start].iter().filter(|&&b| b == b'\n').count() + 1;
        let prefix = String::from_utf8_lossy(&text[line_start..hit.secret.start]).into_owned();
        // Inline suppression: `greenlight:allow` (optionally with this rule id) on the line or
        // on the line before it.
        let prev_start = if line_start == 0 {
            0
        } else {
            text[..line_start - 1]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
        };
        let context = String::from_utf8_lossy(&text[prev_start..line_end]);
        if allowed(&context, hit.detector.id) {
            continue;
        }
        let secret = String::from_utf8_lossy(&text[hit.secret.clone()]).into_owned();
        let masked = mask_secret(&secret);
        let rest_start = hit.secret.end.min(line_end);
        let suffix = if secret.contains('\n') {
            String::new()
        } else {
            String::from_utf8_lossy(&text[rest_start..line_end]).into_owned()
        };
        let column = prefix.chars().count() + 1;
        // Other secrets on the same line are masked in this finding's context too.
        let shown_prefix = crate::lifecycle::masker::mask_detected(&prefix);
        let shown_suffix = crate::lifecycle::masker::mask_detected(&suffix);
        let line_text = format!("{shown_prefix}{masked}{shown_suffix}");
        let start = shown_prefix.chars().count();
        let columns = start..start + masked.chars().count();
        let mode = match hit.mode {
            Some(crate::catalog::Mode::Test) => " (test mode)",
            Some(crate::catalog::Mode::Live) => " (live mode)",
            None => "",
        };
        out.push(Finding {
            rule: RuleId::Detector(hit.detector.id),
            severity: hit.severity,
            message: format!("{}{mode} in {path}:{line_no}", hit.detector.title),
            variable: None,
            service: None,
            location: Some(Location {
                path: path.to_owned(),
                line: line_no,
                column,
            }),
            value: Some(crate::redact::Shown::secret(&secret)),
            commit: None,
            author: None,
            fingerprint: Some(fingerprint(hit.detector.id, path, &secret, &line_text)),
            source: None,
            probe: None,
            help: None,
            snippet: Some(Snippet {
                line_text: line_text.trim_end_matches('\r').to_owned(),
                columns,
            }),
        });
    }
    out
}

fn allowed(context: &str, rule: &str) -> bool {
    context.lines().any(|l| {
        l.find("greenlight:allow").is_some_and(|i| {
            let rest = l[i + "greenlight:allow".len()..]
                .split("--")
                .next()
                .unwrap_or_default();
            let ids: Vec<&str> = rest
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .collect();
            ids.is_empty() || ids.contains(&rule)
        })
    })
}

/// A fingerprint that survives line moves and never encodes the secret beyond its mask: the rule,
/// the path, the secret's mask and length, and the masked line. (A hash of the secret itself
/// could be brute-forced offline for weak secrets; this cannot reveal more than the report.)
pub fn fingerprint(rule: &str, path: &str, secret: &str, masked_line: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        rule,
        path,
        &mask_secret(secret),
        &secret.chars().count().to_string(),
        masked_line.trim(),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Scans one byte buffer as a file of `path`.
pub fn scan_bytes(path: &str, bytes: &[u8]) -> Vec<Finding> {
    let name = Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let generic = if is_lock_file(name) {
        Generic::Off
    } else if is_source_code(name) {
        Generic::QuotedOnly
    } else {
        Generic::On
    };
    let hits = Detectors::builtin().scan(bytes, generic);
    findings_in_text(path, bytes, &hits)
}

/// Program source, where an unquoted value after `name:` or `name =` is a type or an
/// expression (`token: &Token`, `KEY: u32 = MAX_KEY`), not a literal secret.
fn is_source_code(name: &str) -> bool {
    const CODE: &[&str] = &[
        "rs", "go", "java", "kt", "kts", "scala", "c", "h", "cc", "cpp", "hpp", "cxx", "cs",
        "swift", "m", "mm", "ts", "tsx", "js", "jsx", "mjs", "cjs", "py", "rb", "php", "dart",
        "lua", "ex", "exs", "erl", "hs", "ml", "zig", "nim", "vb", "fs", "groovy", "pl", "pm", "r",
        "jl", "vue", "svelte", "sol", "proto", "graphql",
    ];
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| CODE.iter().any(|c| c.eq_ignore_ascii_case(e)))
}

fn is_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(8192)].contains(&0)
}

/// Scans the working tree (and the history with `git`).
pub fn scan(options: &ScanOptions, progress: Progress<'_>) -> ScanResult {
    Detectors::builtin().prepare_bulk();
    let mut result = ScanResult::default();
    if !options.history_only {
        scan_files(options, progress, &mut result);
    }
    if options.git {
        let root = options
            .paths
            .first()
            .cloned()
            .unwrap_or_else(|| PathBuf::from("."));
        history::scan_history(&root, options, progress, &mut result);
    }
    apply_excludes(options, &mut result);
    result
        .findings
        .sort_by(|a, b| (&a.location, a.rule).cmp(&(&b.location, b.rule)));
    result.summary.skipped.sort_by(|a, b| a.path.cmp(&b.path));
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
            let found = scan_bytes(&shown, &bytes);
            if !found.is_empty() {
                findings.lock().expect("lock").extend(found);
            }
            ignore::WalkState::Continue
        })
    });
    result.findings.extend(findings.into_inner().expect("lock"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_and_locates_secrets() {
        let text = b"# config\nSTRIPE=sk_live_7uXtXRKyccefTDgpukRzthFvQDYUN7jm8lBwQ32dLKI28Ih0nEntw # live\n";
        let f = scan_bytes("app.env", text);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].location.as_ref().map(|l| (l.line, l.column)),
            Some((2, 8))
        );
        let snippet = f[0].snippet.as_ref().unwrap();
        assert_eq!(snippet.line_text, "STRIPE=sk_l…Entw # live");
        assert!(!format!("{f:?}").contains("7uXtXRKyccef"));
    }

    #[test]
    fn a_second_secret_on_the_line_is_masked_in_the_first_ones_context() {
        let text = b"A=sk_live_7uXtXRKyccefTDgpukRzthFvQDYUN7jm8lBwQ32dLKI28Ih0nEntw B=ghp_42nYHSAqpf9vX1ts9ygUqNsvm8HPOP1IEztn\n";
        let f = scan_bytes("a", text);
        assert_eq!(f.len(), 2);
        for finding in &f {
            let line = &finding.snippet.as_ref().unwrap().line_text;
            assert!(
                !line.contains("7uXtXRKyccef") && !line.contains("42nYHSAqpf9v"),
                "{line}"
            );
        }
    }

    #[test]
    fn allow_comments_suppress() {
        let text = b"KEY=sk_live_7uXtXRKyccefTDgpukRzthFvQDYUN7jm8lBwQ32dLKI28Ih0nEntw # greenlight:allow stripe-secret-key -- fixture\n";
        assert!(scan_bytes("a", text).is_empty());
        let text = b"# greenlight:allow\nKEY=sk_live_7uXtXRKyccefTDgpukRzthFvQDYUN7jm8lBwQ32dLKI28Ih0nEntw\n";
        assert!(scan_bytes("a", text).is_empty());
        let text = b"KEY=sk_live_7uXtXRKyccefTDgpukRzthFvQDYUN7jm8lBwQ32dLKI28Ih0nEntw # greenlight:allow jwt\n";
        assert_eq!(scan_bytes("a", text).len(), 1);
    }

    #[test]
    fn fingerprints_survive_line_moves() {
        let a = scan_bytes(
            "a",
            b"KEY=sk_live_7uXtXRKyccefTDgpukRzthFvQDYUN7jm8lBwQ32dLKI28Ih0nEntw\n",
        );
        let b = scan_bytes(
            "a",
            b"\n\n# moved\nKEY=sk_live_7uXtXRKyccefTDgpukRzthFvQDYUN7jm8lBwQ32dLKI28Ih0nEntw\n",
        );
        assert_eq!(a[0].fingerprint, b[0].fingerprint);
    }
}
