//! Shared helpers: a copy of an example in a temporary directory (so that git state and absolute
//! paths never reach a snapshot), and the command pointed at it.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub const NOW: &str = "2026-11-01T00:00:00Z";

/// The bundled examples, one per seed document.
pub const EXAMPLES: &[&str] = &[
    "ross-tax-academy",
    "toolboxai",
    "course-marketplace",
    "scholarlink-billing",
    "ikhokha-payments",
];

pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A temporary copy of `examples/<name>`.
pub fn example_copy(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&examples_dir().join(name), dir.path());
    dir
}

pub fn greenlight(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("greenlight").unwrap();
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE");
    cmd
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(dir: &Path, args: &[&str]) -> Run {
    let out = greenlight(dir).args(args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn check_json(dir: &Path, env: &str) -> (i32, serde_json::Value) {
    let r = run(
        dir,
        &["check", "--env", env, "--now", NOW, "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("json for {env}: {e}\n{}\n{}", r.stdout, r.stderr));
    (r.code, v)
}

/// `(rule, variable, path, line)` of every finding, for exact comparisons.
pub fn finding_keys(report: &serde_json::Value) -> Vec<(String, String, String, u64)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["variable"].as_str().unwrap_or("-").to_owned(),
                f["location"]["path"].as_str().unwrap_or("-").to_owned(),
                f["location"]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}
