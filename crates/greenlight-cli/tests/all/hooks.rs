//! The shipped hooks and CI recipe, through the real tools: the pre-commit framework builds this
//! repository's hooks with cargo and runs them in a temporary repository; actionlint checks
//! action.yml and the sample workflow; SARIF rule ids are unique (code scanning rejects
//! duplicates). The tools come from PyPI into target/tools (scripts/services).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::*;
use crate::workflow::{git, git_repo};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_absolute() { t } else { root().join(t) })
        .unwrap_or_else(|| root().join("target"))
}

fn tool(name: &str) -> PathBuf {
    let path = target_dir().join("tools/bin").join(name);
    assert!(
        path.exists(),
        "{} is not installed: run scripts/services (scripts/test does)",
        path.display()
    );
    path
}

fn output_text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// Made-up, in Stripe's live-key format.
const HOOK_KEY: &str = "sk_live_51QxTmpHookRefusedWq6ZrT2nBd3YpS7f";

/// `git`/`pre-commit` in `dir` with the hook environment: pre-commit's cache and the cargo build
/// it runs are kept under target/ so that only the first run builds greenlight, at opt-level 0
/// (the hook's speed is not what this test measures).
fn with_hook_env(cmd: &mut Command) -> &mut Command {
    let path = format!(
        "{}:{}",
        target_dir().join("tools/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    cmd.env("PATH", path)
        .env("PRE_COMMIT_HOME", target_dir().join("pre-commit-home"))
        .env("CARGO_TARGET_DIR", target_dir().join("pre-commit-build"))
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "256")
        .env("CARGO_PROFILE_RELEASE_INCREMENTAL", "true")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
}

fn hook_cmd(dir: &Path, program: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(program);
    cmd.current_dir(dir).args(args);
    with_hook_env(&mut cmd).output().unwrap()
}

fn git_commit(dir: &Path, message: &str) -> Output {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir).args(["commit", "-q", "-m", message]);
    with_hook_env(&mut cmd).output().unwrap()
}

#[test]
fn the_pre_commit_hook_refuses_a_secret_and_passes_a_clean_commit() {
    let pre_commit = tool("pre-commit");
    // The hook repository is this checkout, at its HEAD (pre-commit clones it and runs
    // `cargo install --path .`).
    let rev = git(&root(), &["rev-parse", "HEAD"]);
    let dir = git_repo();
    let d = dir.path();
    std::fs::write(
        d.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: greenlight-scan\n",
            root().display()
        ),
    )
    .unwrap();
    let out = hook_cmd(d, &pre_commit, &["install"]);
    assert!(out.status.success(), "{}", output_text(&out));
    git(d, &["add", ".pre-commit-config.yaml"]);
    let out = git_commit(d, "pre-commit");
    assert!(
        out.status.success(),
        "the first commit: {}",
        output_text(&out)
    );

    // A clean commit passes.
    std::fs::write(d.join("app.env"), "PORT=8080\n").unwrap();
    git(d, &["add", "app.env"]);
    let out = git_commit(d, "clean");
    assert!(
        out.status.success(),
        "a clean commit: {}",
        output_text(&out)
    );

    // A commit that adds a secret is refused, and the refusal does not print it.
    std::fs::write(
        d.join("app.env"),
        format!("PORT=8080\nSTRIPE_SECRET_KEY={HOOK_KEY}\n"),
    )
    .unwrap();
    git(d, &["add", "app.env"]);
    let out = git_commit(d, "add a key");
    let text = output_text(&out);
    assert!(!out.status.success(), "a secret was committed: {text}");
    assert!(
        text.contains("stripe-secret-key") && text.contains("app.env:2"),
        "{text}"
    );
    assert!(!text.contains(HOOK_KEY), "the hook printed the secret");
    assert_eq!(git(d, &["log", "--format=%s", "-1"]), "clean");

    // What is staged is what counts: a clean staged version with a secret only in the working
    // tree commits.
    std::fs::write(d.join("app.env"), "PORT=9090\n").unwrap();
    git(d, &["add", "app.env"]);
    std::fs::write(
        d.join("app.env"),
        format!("PORT=9090\nSTRIPE_SECRET_KEY={HOOK_KEY}\n"),
    )
    .unwrap();
    let out = git_commit(d, "port");
    assert!(
        out.status.success(),
        "the staged version is clean: {}",
        output_text(&out)
    );

    // `pre-commit run --all-files` fails on a tree that already holds a secret.
    git(d, &["add", "app.env"]);
    let mut cmd = Command::new("git");
    cmd.current_dir(d)
        .args(["commit", "-q", "--no-verify", "-m", "bypassed"]);
    assert!(with_hook_env(&mut cmd).output().unwrap().status.success());
    let out = hook_cmd(d, &pre_commit, &["run", "--all-files"]);
    let text = output_text(&out);
    assert!(
        !out.status.success(),
        "--all-files passed with a secret in the tree: {text}"
    );
    assert!(text.contains("stripe-secret-key"), "{text}");
    assert!(!text.contains(HOOK_KEY));

    // The check hook runs `greenlight check` when configuration changes.
    let example = example_copy("toolboxai");
    let e = example.path();
    git(e, &["init", "-q", "-b", "main"]);
    git(e, &["config", "user.name", "Dana Dev"]);
    git(e, &["config", "user.email", "dana@example.org"]);
    std::fs::write(
        e.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: greenlight-check\n",
            root().display()
        ),
    )
    .unwrap();
    git(e, &["add", "-A"]);
    let out = hook_cmd(e, &pre_commit, &["run", "greenlight-check", "--all-files"]);
    assert!(
        out.status.success(),
        "toolboxai production is go: {}",
        output_text(&out)
    );
}

#[test]
fn the_action_and_the_sample_workflow_pass_actionlint() {
    let actionlint = tool("actionlint");
    let dir = git_repo();
    let d = dir.path();
    std::fs::copy(root().join("action.yml"), d.join("action.yml")).unwrap();
    std::fs::create_dir_all(d.join(".github/workflows")).unwrap();
    // The sample workflow, using the action from this checkout, so that actionlint checks its
    // inputs against action.yml.
    let workflow = std::fs::read_to_string(root().join("docs/ci/github-workflow.yml"))
        .unwrap()
        .replace("greenlight-dev/greenlight@v0.1.0", "./");
    assert!(workflow.contains("uses: ./"));
    std::fs::write(d.join(".github/workflows/greenlight.yml"), &workflow).unwrap();
    let out = Command::new(&actionlint)
        .current_dir(d)
        .args(["-color=false"])
        .output()
        .unwrap();
    assert!(out.status.success(), "actionlint: {}", output_text(&out));
    // And it does read action.yml: an input the action does not declare is an error.
    std::fs::write(
        d.join(".github/workflows/greenlight.yml"),
        workflow.replace("command: check", "comand: check"),
    )
    .unwrap();
    let out = Command::new(&actionlint)
        .current_dir(d)
        .args(["-color=false"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        output_text(&out).contains("comand"),
        "{}",
        output_text(&out)
    );
}

#[test]
fn sarif_rule_ids_are_unique_in_every_command() {
    let dir = example_copy("ross-tax-academy");
    for args in [
        vec!["scan", ".", "--no-ignore"],
        vec!["check", "--env", "seed", "--now", NOW],
        vec![
            "golive",
            "--env",
            "seed",
            "--no-probe",
            "--no-verify",
            "--now",
            NOW,
        ],
    ] {
        let mut all = args.clone();
        all.extend(["--format", "sarif"]);
        let r = run(dir.path(), &all);
        let sarif: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        for run in sarif["runs"].as_array().unwrap() {
            let ids: Vec<&str> = run["tool"]["driver"]["rules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap())
                .collect();
            let mut unique = ids.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(ids.len(), unique.len(), "{args:?}: duplicate rule ids");
            assert!(!ids.is_empty(), "{args:?}");
        }
    }
}
