//! Test support for rules: a manifest and its sources in a temporary directory, checked.

use std::path::Path;

use crate::check::{check, CheckOptions};
use crate::rules::Rule;
use greenlight_core::finding::Finding;
use greenlight_core::manifest::Manifest;

pub const HEADER: &str = r#"
[project]
name = "t"

[environments.production]
sources = [".env.production"]

[environments.staging]
sources = [{ path = ".env.staging", optional = true }]
"#;

/// Writes `files` beside a manifest made of [`HEADER`] and `decls`, checks `environment`, and
/// returns the findings of `rule`.
pub fn findings(
    decls: &str,
    files: &[(&str, &str)],
    environment: &str,
    rule: Rule,
) -> Vec<Finding> {
    let dir = tempfile::tempdir().expect("tempdir");
    findings_in(dir.path(), decls, files, environment, rule)
}

pub fn findings_in(
    dir: &Path,
    decls: &str,
    files: &[(&str, &str)],
    environment: &str,
    rule: Rule,
) -> Vec<Finding> {
    let manifest_path = dir.join("greenlight.toml");
    std::fs::write(&manifest_path, format!("{HEADER}\n{decls}")).expect("write manifest");
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write source");
    }
    let manifest = Manifest::load(&manifest_path).expect("manifest parses");
    let options = CheckOptions {
        environment: environment.to_owned(),
        now: Some("2026-11-01T00:00:00Z".parse().expect("date")),
        ..Default::default()
    };
    let checked = check(&manifest, &options).expect("check runs");
    checked
        .report
        .findings
        .into_iter()
        .filter(|f| f.rule == rule)
        .collect()
}

/// Findings of `rule` for a production `.env.production`.
pub fn prod(decls: &str, env: &str, rule: Rule) -> Vec<Finding> {
    findings(decls, &[(".env.production", env)], "production", rule)
}
