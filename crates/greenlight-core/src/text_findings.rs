//! A text's secrets as findings: the detectors' hits located (path, line, column), masked in
//! their line's context, fingerprinted for baselines, and filtered by `greenlight:allow`
//! comments. `scan` runs this over a tree and its history; `check` over its configuration files.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::detect::{Detectors, Generic, Hit};
use crate::finding::{Finding, Location, RuleId, Snippet};
use crate::mask::mask_secret;

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

/// Files a build tool writes, all hashes and encoded mappings: JavaScript and CSS source maps
/// (`sourcesContent` is still searched for prefixed formats), TypeScript's incremental build
/// info, and the checksums `cargo vendor` writes beside each crate.
fn is_generated(name: &str) -> bool {
    name == ".cargo-checksum.json"
        || name.ends_with(".tsbuildinfo")
        || [".js.map", ".mjs.map", ".cjs.map", ".css.map", ".ts.map"]
            .iter()
            .any(|suffix| name.ends_with(suffix))
}

/// Bundled, minified JavaScript and CSS: a line of thousands of characters is a bundler's
/// output, where `key=`/`token:` are minified identifiers and a provider's name sits beside
/// anything. Prefixed formats (a live key shipped in a bundle) are still found.
fn is_minified(name: &str, bytes: &[u8]) -> bool {
    const LONG_LINE: usize = 5_000;
    let script = [".js", ".mjs", ".cjs", ".css"]
        .iter()
        .any(|suffix| name.ends_with(suffix));
    if !script || bytes.len() < LONG_LINE {
        return false;
    }
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len())) {
        if end - start > LONG_LINE {
            return true;
        }
        start = end + 1;
    }
    false
}

/// Turns the hits of one text into findings.
pub fn findings_in_text(path: &str, text: &[u8], hits: &[Hit]) -> Vec<Finding> {
    findings_with_secrets(path, text, hits)
        .into_iter()
        .map(|(f, _)| f)
        .collect()
}

/// A finding with the secret it found and the catalog format it was checked against: for
/// `scan --verify`, which asks the secret's provider. The secret never goes into the finding.
pub struct Held {
    pub secret: String,
    pub detector: &'static str,
    pub format: Option<&'static str>,
}

/// Like [`findings_in_text`], each finding with what it found.
pub fn findings_with_secrets(path: &str, text: &[u8], hits: &[Hit]) -> Vec<(Finding, Held)> {
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
        let shown_prefix = crate::redact::mask_detected(&prefix);
        let shown_suffix = crate::redact::mask_detected(&suffix);
        let line_text = format!("{shown_prefix}{masked}{shown_suffix}");
        let start = shown_prefix.chars().count();
        let columns = start..start + masked.chars().count();
        let mode = match hit.mode {
            Some(crate::catalog::Mode::Test) => " (test mode)",
            Some(crate::catalog::Mode::Live) => " (live mode)",
            None => "",
        };
        let finding = Finding {
            rule: RuleId::from_meta(&hit.detector.meta),
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
            verification: None,
            confidence: Some(hit.confidence),
            why: Some(hit.why.clone()),
            help: None,
            snippet: Some(Snippet {
                line_text: line_text.trim_end_matches('\r').to_owned(),
                columns,
            }),
        };
        out.push((
            finding,
            Held {
                secret,
                detector: hit.detector.id,
                format: hit.detector.format.map(|f| f.id.as_str()),
            },
        ));
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
    scan_bytes_with_secrets(path, bytes)
        .into_iter()
        .map(|(f, _)| f)
        .collect()
}

/// Like [`scan_bytes`], each finding with what it found.
pub fn scan_bytes_with_secrets(path: &str, bytes: &[u8]) -> Vec<(Finding, Held)> {
    let name = Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let generic = if is_lock_file(name) {
        Generic::Off
    } else if is_generated(name) || is_minified(name, bytes) {
        Generic::Generated
    } else if is_source_code(name) {
        Generic::QuotedOnly
    } else {
        Generic::On
    };
    let hits = Detectors::builtin().scan(bytes, generic);
    findings_with_secrets(path, bytes, &hits)
}

/// Program source, where an unquoted value after `name:` or `name =` is a type or an
/// expression (`token: &Token`, `KEY: u32 = MAX_KEY`), not a literal secret.
fn is_source_code(name: &str) -> bool {
    const CODE: &[&str] = &[
        "rs", "go", "java", "kt", "kts", "scala", "c", "h", "cc", "cpp", "hpp", "cxx", "cs",
        "swift", "m", "mm", "ts", "tsx", "js", "jsx", "mjs", "cjs", "py", "rb", "php", "dart",
        "lua", "ex", "exs", "erl", "hs", "ml", "zig", "nim", "vb", "fs", "groovy", "pl", "pm", "r",
        "jl", "vue", "svelte", "sol", "proto", "graphql", "pyi", "pyx", "pxd",
    ];
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| CODE.iter().any(|c| c.eq_ignore_ascii_case(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_files_are_searched_for_prefixed_formats_only() {
        // A hash beside a provider's name, as a source map or a build-info file has them.
        let hashes = b"{\"twitter\": \"x\", \"secret\": \"b7Qz9KfW2mXpL4vR8tYnC3hJ6dGsA1eU\"}\n";
        let plain = scan_bytes("notes.json", hashes);
        assert!(!plain.is_empty(), "the same text elsewhere is a finding");
        for name in [
            "app.js.map",
            "tsconfig.tsbuildinfo",
            ".cargo-checksum.json",
            "site.css.map",
        ] {
            assert!(scan_bytes(name, hashes).is_empty(), "{name}");
        }
        // A bundler's one-line output is machine-made too; a short script is not.
        let mut bundle = b"var a=1;".repeat(1000);
        bundle.extend_from_slice(hashes);
        assert!(scan_bytes("vendor.min.js", &bundle).is_empty());
        assert!(!scan_bytes("vendor.js", hashes).is_empty());
        let prefixed =
            b"{\"sourcesContent\": [\"const t = 'ghp_42nYHSAqpf9vX1ts9ygUqNsvm8HPOP1IEztn'\"]}\n";
        assert_eq!(scan_bytes("bundle.js.map", prefixed).len(), 1);
    }

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
