//! greenlight where teams work: staged scans (pre-commit), revision ranges (pull requests) and
//! standard input (editors), all through the real `git` command.

use std::path::Path;
use std::process::Command;

use crate::support::*;

/// Made-up credentials in providers' formats (never a real key, never a corpus value).
const STAGED_KEY: &str = "sk_live_51QxTmpStaGedKq8ZrV3nWd7YpL2cHf";
const UNSTAGED_KEY: &str = "sk_live_51QxTmpUnStgdWq4ZrB7nXc9YpM3dKg";
const OLD_KEY: &str = "sk_live_51QxTmpOldComMtq2ZrN5nVd8YpR4eJh";
const PR_KEY: &str = "sk_live_51QxTmpPullReqWq6ZrT2nBd3YpS7fLk";

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

pub fn git_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["config", "user.name", "Dana Dev"]);
    git(dir.path(), &["config", "user.email", "dana@example.org"]);
    git(dir.path(), &["config", "commit.gpgsign", "false"]);
    dir
}

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn scan_json(dir: &Path, args: &[&str]) -> (i32, serde_json::Value, String) {
    let mut all = vec!["scan", "--format", "json"];
    all.extend(args);
    let r = run(dir, &all);
    let v = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}\n{}\n{}", r.stdout, r.stderr));
    (r.code, v, r.stdout + &r.stderr)
}

/// `(path, line, commit)` of each finding.
fn places(report: &serde_json::Value) -> Vec<(String, u64, Option<String>)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["location"]["path"].as_str().unwrap().to_owned(),
                f["location"]["line"].as_u64().unwrap(),
                f["commit"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[test]
fn staged_scans_what_the_commit_would_record_and_nothing_else() {
    let dir = git_repo();
    let d = dir.path();
    // Committed before: a secret already in HEAD is history's business, not this commit's.
    write(d, "config/old.env", &format!("OLD={OLD_KEY}\n"));
    write(d, "src/app.env", "PORT=8080\n");
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "start"]);

    let (code, report, _) = scan_json(d, &["--staged"]);
    assert_eq!(code, 0, "nothing staged: {report}");
    assert_eq!(report["scan"]["files_scanned"], 0);

    // Staged: a modified file whose secret sits on line 3 of the staged version.
    write(
        d,
        "src/app.env",
        &format!("PORT=8080\nDEBUG=false\nSTRIPE_SECRET_KEY={STAGED_KEY}\n"),
    );
    git(d, &["add", "src/app.env"]);
    // Then edited again in the working tree without staging: line numbers move there, and a
    // second secret appears that this commit will not record.
    write(
        d,
        "src/app.env",
        &format!("# moved\n\nPORT=8080\nDEBUG=false\nSTRIPE_SECRET_KEY={STAGED_KEY}\nOTHER={UNSTAGED_KEY}\n"),
    );
    // An untracked file with a secret is not part of the commit either.
    write(d, "notes.env", &format!("K={UNSTAGED_KEY}\n"));

    let (code, report, text) = scan_json(d, &["--staged"]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(places(&report), vec![("src/app.env".to_owned(), 3, None)]);
    assert_eq!(report["scan"]["files_scanned"], 1);
    assert!(!text.contains(STAGED_KEY) && !text.contains(UNSTAGED_KEY));

    // From a subdirectory, the repository is found and paths stay the committed ones.
    let (code, report, _) = scan_json(&d.join("src"), &["--staged"]);
    assert_eq!(code, 1);
    assert_eq!(places(&report)[0].0, "src/app.env");

    // A staged deletion and a staged clean file report nothing.
    git(d, &["reset", "-q"]);
    git(d, &["rm", "-q", "config/old.env"]);
    write(d, "README.md", "# app\n");
    git(d, &["add", "README.md"]);
    let (code, report, _) = scan_json(d, &["--staged"]);
    assert_eq!(code, 0, "{report}");
}

#[test]
fn staged_works_before_the_first_commit() {
    let dir = git_repo();
    write(
        dir.path(),
        ".env",
        &format!("STRIPE_SECRET_KEY={STAGED_KEY}\n"),
    );
    git(dir.path(), &["add", ".env"]);
    let (code, report, _) = scan_json(dir.path(), &["--staged"]);
    assert_eq!(code, 1);
    assert_eq!(places(&report), vec![(".env".to_owned(), 1, None)]);
}

#[test]
fn since_and_range_scan_only_the_commits_of_a_pull_request() {
    let dir = git_repo();
    let d = dir.path();
    write(d, "old.env", &format!("OLD={OLD_KEY}\n"));
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);
    let base = git(d, &["rev-parse", "HEAD"]);
    git(d, &["checkout", "-q", "-b", "feature"]);
    write(
        d,
        "app/.env",
        &format!("# app\nSTRIPE_SECRET_KEY={PR_KEY}\n"),
    );
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "add key"]);
    let introduced = git(d, &["rev-parse", "HEAD"]);
    // Removed again in the next commit: still a leak of the pull request (it is in its history).
    std::fs::remove_file(d.join("app/.env")).unwrap();
    write(d, "app/main.txt", "hello\n");
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "remove key"]);

    for args in [
        vec!["--since", "main"],
        vec!["--since", base.as_str()],
        vec!["--range", "main..feature"],
    ] {
        let (code, report, text) = scan_json(d, &args);
        assert_eq!(code, 1, "{args:?}: {report}");
        assert_eq!(
            places(&report),
            vec![("app/.env".to_owned(), 2, Some(introduced.clone()))],
            "{args:?}"
        );
        assert_eq!(report["scan"]["commits"], 2, "{args:?}");
        assert!(!text.contains(PR_KEY) && !text.contains(OLD_KEY));
    }
    // The base's own secret is found by a full history scan, not by the pull-request check.
    let (_, report, _) = scan_json(d, &["--git", "--history-only"]);
    assert_eq!(report["findings"].as_array().unwrap().len(), 2);
    // Nothing new after the tip.
    let (code, _, _) = scan_json(d, &["--since", "feature"]);
    assert_eq!(code, 0);
}

#[test]
fn bad_revisions_and_ranges_are_usage_errors() {
    let dir = git_repo();
    write(dir.path(), "a.txt", "a\n");
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "a"]);
    for args in [
        vec!["scan", "--since", "no-such-branch"],
        vec!["scan", "--range", "HEAD"],
        vec!["scan", "--range", "HEAD..nope"],
        vec!["scan", "--staged", "--since", "HEAD"],
        vec!["scan", "-", "--staged"],
    ] {
        let r = run(dir.path(), &args);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(!r.stderr.is_empty());
    }
    let outside = tempfile::tempdir().unwrap();
    let r = run(outside.path(), &["scan", "--since", "HEAD"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not a git repository"), "{}", r.stderr);
}

#[test]
fn standard_input_is_scanned_under_the_name_given() {
    let dir = tempfile::tempdir().unwrap();
    let diff = format!(
        "diff --git a/.env b/.env\n+++ b/.env\n@@ -0,0 +1 @@\n+STRIPE_SECRET_KEY={STAGED_KEY}\n"
    );
    let out = greenlight(dir.path())
        .args(["scan", "-", "--format", "json"])
        .write_stdin(diff)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains(STAGED_KEY));
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(places(&report), vec![("stdin".to_owned(), 4, None)]);

    let out = greenlight(dir.path())
        .args([
            "scan",
            "-",
            "--stdin-name",
            "src/settings.py",
            "--format",
            "json",
        ])
        .write_stdin("DEBUG = True\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

/// The subcommands `greenlight --help` lists (so a new command is covered without editing this).
fn subcommands() -> Vec<String> {
    let r = run(Path::new("."), &["--help"]);
    let listed = r.stdout.split("Commands:").nth(1).unwrap();
    let names: Vec<String> = listed
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        // Wrapped descriptions are indented further than names.
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_owned)
        .collect();
    assert!(names.len() >= 19, "{names:?}");
    names
}

#[test]
fn completions_of_every_shell_know_every_subcommand() {
    let names = subcommands();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let r = run(Path::new("."), &["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        for name in &names {
            assert!(r.stdout.contains(name.as_str()), "{shell} lacks {name}");
        }
        // And the flags of the newest features.
        assert!(r.stdout.contains("staged"), "{shell}");
    }
    // The bash script is valid bash.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("greenlight.bash");
    std::fs::write(
        &script,
        run(Path::new("."), &["completions", "bash"]).stdout,
    )
    .unwrap();
    let status = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(run(Path::new("."), &["completions", "tcsh"]).code, 2);
}

#[test]
fn man_pages_cover_every_subcommand() {
    let names = subcommands();
    let page = run(Path::new("."), &["man"]).stdout;
    assert!(
        page.starts_with(".ie") || page.contains(".TH greenlight 1"),
        "{page}"
    );
    for name in &names {
        assert!(
            page.contains(&format!("greenlight\\-{}(1)", name.replace('-', "\\-"))),
            "{name}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let r = run(dir.path(), &["man", "--dir", "man1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for name in &names {
        let page = std::fs::read_to_string(dir.path().join(format!("man1/greenlight-{name}.1")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(page.contains(".SH SYNOPSIS"), "{name}");
    }
    let scan = std::fs::read_to_string(dir.path().join("man1/greenlight-scan.1")).unwrap();
    assert!(scan.contains("staged"));
}

fn manifest_schema() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../../schemas/greenlight.schema.json")).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn schema_errors(validator: &jsonschema::Validator, manifest: &str) -> Vec<String> {
    let value: serde_json::Value = toml::from_str(manifest).unwrap();
    validator
        .iter_errors(&value)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect()
}

#[test]
fn the_manifest_schema_accepts_every_example_and_what_init_writes() {
    let validator = manifest_schema();
    for name in EXAMPLES {
        let text =
            std::fs::read_to_string(examples_dir().join(name).join("greenlight.toml")).unwrap();
        let errors = schema_errors(&validator, &text);
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
    // `init` points editors at the schema, and what it writes validates.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        ".env.production",
        "DATABASE_URL=postgres://app@db.internal:5432/app\nSTRIPE_SECRET_KEY=\n",
    );
    write(
        dir.path(),
        ".env.development",
        "DATABASE_URL=postgres://localhost/app\nSTRIPE_SECRET_KEY=\n",
    );
    let r = run(dir.path(), &["init", "--output", "-"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let first = r.stdout.lines().next().unwrap();
    assert_eq!(
        first,
        format!("#:schema {}", greenlight::manifest::SCHEMA_URL)
    );
    let errors = schema_errors(&validator, &r.stdout);
    assert!(errors.is_empty(), "init: {errors:#?}\n{}", r.stdout);
}

#[test]
fn the_manifest_schema_rejects_what_the_parser_rejects() {
    let validator = manifest_schema();
    let base = "[project]\nname = \"p\"\n[environments.production]\nsources = [\".env\"]\n";
    for (bad, why) in [
        ("[vars.A]\nformt = \"url\"\n", "a misspelt field"),
        (
            "[[probes]]\nkind = \"htp\"\nurl = \"https://a.example\"\n",
            "an unknown probe kind",
        ),
        (
            "[rules]\nplaceholder-value = \"loud\"\n",
            "an unknown rule level",
        ),
        (
            "[scan]\nmin_confidence = \"certain\"\n",
            "an unknown confidence",
        ),
        (
            "[[checklist]]\nid = \"x\"\n",
            "a checklist item without a title",
        ),
    ] {
        let text = format!("{base}{bad}");
        assert!(!schema_errors(&validator, &text).is_empty(), "{why}");
        // And the parser agrees (exit 2, a located error).
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "greenlight.toml", &text);
        write(dir.path(), ".env", "A=https://a.example\n");
        let r = run(dir.path(), &["check", "--env", "production"]);
        assert_eq!(r.code, 2, "{why}: {}{}", r.stdout, r.stderr);
    }
    let good = format!("{base}[vars.A]\nformat = \"url\"\n[[probes]]\nkind = \"http\"\nurl = \"https://a.example\"\n");
    assert!(schema_errors(&validator, &good).is_empty());
}

/// A project configured through docker-compose, Kubernetes manifests and a secret store.
const COMPOSE_KEY: &str = "sk_live_51QxTmpComposeWq6ZrT2nBd3YpS7fLkQ";
const CONFIGMAP_KEY: &str = "sk-proj-Rk2TmpConfigMapQx7WnB4YpL9dHf3JcV6sZ1";
const DB_PASSWORD: &str = "Zq8vT2nLw5Rk9Xe3Hb6Ym1Pd";

fn compose_and_kubernetes_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "greenlight.toml",
        r#"[project]
name = "cp"

[environments.production]
sources = ["docker-compose.yml#api", "k8s/app.yaml", ".env.production"]

[vars]
PORT = { format = "port" }
DATABASE_URL = { format = "postgres.url" }
STRIPE_SECRET_KEY = { format = "stripe.secret_key" }
STRIPE_WEBHOOK_SECRET = { format = "stripe.webhook_secret" }
SESSION_SECRET = { format = "secret", min_length = 32 }
LOG_LEVEL = { values = ["info", "warn"] }
OPENAI_API_KEY = { format = "openai.api_key" }
API_MODE = { values = ["live"] }
"#,
    );
    write(
        d,
        "docker-compose.yml",
        &format!(
            "services:\n  api:\n    image: app\n    env_file:\n      - .env.api\n    environment:\n      PORT: \"8080\"\n      DATABASE_URL: ${{DATABASE_URL:-postgres://app:${{DB_PASSWORD}}@db:5432/app?sslmode=verify-full}}\n      STRIPE_SECRET_KEY: {COMPOSE_KEY}\n  worker:\n    environment:\n      - PORT=not-a-port\n"
        ),
    );
    write(d, ".env", &format!("DB_PASSWORD={DB_PASSWORD}\n"));
    write(d, ".env.api", "API_MODE=test\n");
    write(d, ".gitignore", ".env\n.env.*\n");
    write(
        d,
        "k8s/app.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  LOG_LEVEL: info\n  OPENAI_API_KEY: {CONFIGMAP_KEY}\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: app-secrets\ntype: Opaque\ndata:\n  SESSION_SECRET: Y2hhbmdlbWU=\n"
        ),
    );
    write(
        d,
        ".env.production",
        "STRIPE_WEBHOOK_SECRET=op://Production/Stripe/webhook-secret\n",
    );
    dir
}

#[test]
fn compose_and_kubernetes_sources_are_checked_at_their_lines() {
    let dir = compose_and_kubernetes_project();
    let (code, report) = check_json(dir.path(), "production");
    assert_eq!(code, 1, "{report}");
    let mut keys = finding_keys(&report);
    keys.sort();
    let key = |rule: &str, var: &str, path: &str, line: u64| {
        (rule.to_owned(), var.to_owned(), path.to_owned(), line)
    };
    assert_eq!(
        keys,
        vec![
            // env_file values are read (and are wrong here: test mode in production).
            key("invalid-value", "API_MODE", ".env.api", 1),
            // A Secret's data is decoded from base64 before it is judged.
            key("placeholder-value", "SESSION_SECRET", "k8s/app.yaml", 15),
            // A literal secret in a ConfigMap or in compose's environment: is committed text.
            key("secret-in-config-file", "OPENAI_API_KEY", "k8s/app.yaml", 7),
            key(
                "secret-in-config-file",
                "STRIPE_SECRET_KEY",
                "docker-compose.yml",
                9
            ),
            key("test-mode-in-production", "API_MODE", ".env.api", 1),
        ]
    );
    // The interpolated URL (its password comes from .env) is not "written into" compose, and
    // `worker`'s environment is not read (the source names `#api`).
    let refs = &report["references"];
    assert_eq!(refs[0]["variable"], "STRIPE_WEBHOOK_SECRET");
    assert_eq!(refs[0]["store"], "1Password");
    assert_eq!(refs[0]["location"]["path"], ".env.production");
    // The reference is neither a placeholder nor a format mismatch, and says where it comes from.
    let human = run(dir.path(), &["check", "--env", "production"]).stdout;
    assert!(
        human.contains("STRIPE_WEBHOOK_SECRET (.env.production:1): 1Password"),
        "{human}"
    );
}

#[test]
fn compose_and_kubernetes_secrets_never_reach_an_output() {
    let dir = compose_and_kubernetes_project();
    for format in [
        "human", "json", "sarif", "markdown", "html", "junit", "github",
    ] {
        for args in [
            vec!["check", "--env", "production", "--format", format],
            vec!["scan", ".", "--no-ignore", "--format", format],
        ] {
            let r = run(dir.path(), &args);
            for secret in [COMPOSE_KEY, CONFIGMAP_KEY, DB_PASSWORD] {
                assert!(
                    !r.stdout.contains(secret) && !r.stderr.contains(secret),
                    "{args:?} printed a secret"
                );
            }
        }
    }
    let env = run(dir.path(), &["env", "--env", "production"]);
    for secret in [COMPOSE_KEY, CONFIGMAP_KEY, DB_PASSWORD] {
        assert!(
            !env.stdout.contains(secret),
            "env printed a secret\n{}",
            env.stdout
        );
    }
}

#[test]
fn bad_yaml_sources_are_located_errors() {
    let dir = compose_and_kubernetes_project();
    write(
        dir.path(),
        "k8s/app.yaml",
        "kind: Secret\nmetadata:\n  name: s\ndata:\n  K: [unclosed\n",
    );
    let r = run(dir.path(), &["check", "--env", "production"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("k8s/app.yaml"), "{}", r.stderr);
    let dir = compose_and_kubernetes_project();
    let manifest = std::fs::read_to_string(dir.path().join("greenlight.toml"))
        .unwrap()
        .replace("docker-compose.yml#api", "docker-compose.yml#web");
    write(dir.path(), "greenlight.toml", &manifest);
    let r = run(dir.path(), &["check", "--env", "production"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no service `web`"), "{}", r.stderr);
}

/// A monorepo of two example apps and a library folder without configuration.
fn monorepo() -> tempfile::TempDir {
    let dir = git_repo();
    copy_dir(
        &examples_dir().join("toolboxai"),
        &dir.path().join("apps/api"),
    );
    copy_dir(
        &examples_dir().join("scholarlink-billing"),
        &dir.path().join("apps/billing"),
    );
    write(dir.path(), "libs/shared/README.md", "# shared\n");
    // Ignored folders are not searched.
    write(dir.path(), ".gitignore", "node_modules/\n");
    write(
        dir.path(),
        "node_modules/pkg/greenlight.toml",
        "[project]\nbroken",
    );
    dir
}

fn report_schema() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../../schemas/report.schema.json")).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn the_manifest_is_found_in_a_parent_directory() {
    let dir = monorepo();
    let deep = dir.path().join("apps/api/src/deep");
    std::fs::create_dir_all(&deep).unwrap();
    let here = run(&dir.path().join("apps/api"), &["check", "--format", "json"]);
    let below = run(&deep, &["check", "--format", "json"]);
    assert_eq!(here.code, below.code);
    let here: serde_json::Value = serde_json::from_str(&here.stdout).unwrap();
    let below: serde_json::Value = serde_json::from_str(&below.stdout).unwrap();
    assert_eq!(here["summary"], below["summary"]);
    // Locations are shown relative to where the command ran.
    for f in below["findings"].as_array().unwrap() {
        if let Some(path) = f["location"]["path"].as_str() {
            assert!(path.starts_with("../../"), "{path}");
        }
    }
    // With no manifest anywhere above, the error says so (exit 2).
    let outside = tempfile::tempdir().unwrap();
    let r = run(outside.path(), &["check"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("greenlight.toml"), "{}", r.stderr);
}

#[test]
fn check_all_and_golive_all_judge_every_app_as_one() {
    let dir = monorepo();
    // One app made no-go: a placeholder in its production configuration.
    let env = dir.path().join("apps/billing/.env.production");
    let text = std::fs::read_to_string(&env).unwrap();
    let broken = text
        .lines()
        .map(|l| {
            if l.starts_with("OPENAI_API_KEY=") {
                "OPENAI_API_KEY=your-openai-api-key-here".to_owned()
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    assert_ne!(text, broken, "the example sets OPENAI_API_KEY");
    std::fs::write(&env, broken).unwrap();

    let validator = report_schema();
    for cwd in [dir.path().to_path_buf(), dir.path().join("libs/shared")] {
        let r = run(&cwd, &["check", "--all", "--now", NOW, "--format", "json"]);
        assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
        let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&report)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        let manifests = report["manifests"].as_array().unwrap();
        assert_eq!(
            manifests.len(),
            2,
            "node_modules is not searched: {manifests:?}"
        );
        assert_eq!(manifests[0]["project"], "toolboxai");
        assert_eq!(manifests[0]["verdict"], "go");
        assert_eq!(manifests[1]["verdict"], "no-go");
        assert!(report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "placeholder-value"
                && f["location"]["path"]
                    .as_str()
                    .unwrap()
                    .ends_with("apps/billing/.env.production")));
    }
    let human = run(dir.path(), &["check", "--all", "--now", NOW]);
    assert!(human.stdout.contains("═══ apps/api/greenlight.toml ═══"));
    assert!(
        human
            .stdout
            .contains("NO-GO: 1 of 2 manifests no-go (apps/billing/greenlight.toml)"),
        "{}",
        human.stdout
    );

    let golive = run(
        dir.path(),
        &[
            "golive",
            "--all",
            "--no-probe",
            "--no-verify",
            "--now",
            NOW,
            "--format",
            "json",
        ],
    );
    assert_eq!(golive.code, 1, "{}", golive.stderr);
    let report: serde_json::Value = serde_json::from_str(&golive.stdout).unwrap();
    assert_eq!(report["command"], "golive");
    assert_eq!(report["manifests"].as_array().unwrap().len(), 2);
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    // An environment only some apps have: the others are listed as skipped, not failed.
    let r = run(
        dir.path(),
        &[
            "check", "--all", "--env", "broken", "--now", NOW, "--format", "json",
        ],
    );
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let skipped: Vec<&serde_json::Value> = report["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["verdict"].is_null())
        .collect();
    assert!(!skipped.is_empty());
    assert!(skipped[0]["note"].as_str().unwrap().contains("broken"));
}

#[test]
fn init_in_a_monorepo_root_offers_one_manifest_per_app() {
    let dir = git_repo();
    write(
        dir.path(),
        "apps/api/.env.production",
        "DATABASE_URL=postgres://app@db.internal:5432/app?sslmode=verify-full\n",
    );
    write(
        dir.path(),
        "apps/web/.env.production",
        "PUBLIC_URL=https://app.acme-corp.io\n",
    );
    write(dir.path(), "node_modules/pkg/.env", "A=1\n");
    let r = run(dir.path(), &["init"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("apps/api") && r.stderr.contains("apps/web"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("greenlight init --all"));
    assert!(!r.stderr.contains("node_modules"));
    let r = run(dir.path(), &["init", "--all"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for app in ["apps/api", "apps/web"] {
        let text = std::fs::read_to_string(dir.path().join(app).join("greenlight.toml")).unwrap();
        assert!(text.starts_with("#:schema "));
    }
    assert!(!dir.path().join("node_modules/pkg/greenlight.toml").exists());
    // A second run keeps what is there.
    std::fs::write(dir.path().join("apps/api/greenlight.toml"), "# mine\n").unwrap();
    let r = run(dir.path(), &["init", "--all"]);
    assert!(
        r.stderr.contains("kept apps/api/greenlight.toml"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("apps/api/greenlight.toml")).unwrap(),
        "# mine\n"
    );
}

#[test]
fn quiet_prints_the_verdict_and_counts_only() {
    let dir = example_copy("toolboxai");
    let full = run(
        dir.path(),
        &["check", "--env", "seed", "--now", NOW, "--format", "json"],
    );
    let report: serde_json::Value = serde_json::from_str(&full.stdout).unwrap();
    let s = &report["summary"];
    for args in [
        vec!["check", "--env", "seed", "--quiet", "--now", NOW],
        vec!["-q", "check", "--env", "seed", "--now", NOW],
    ] {
        let r = run(dir.path(), &args);
        assert_eq!(r.code, 1);
        assert_eq!(
            r.stdout,
            format!(
                "NO-GO: {} critical, {} warnings, {} recommendation{}\n",
                s["critical"],
                s["warning"],
                s["recommendation"],
                if s["recommendation"] == 1 { "" } else { "s" }
            ),
            "{args:?}"
        );
    }
    // Machine formats are not affected.
    let json = run(
        dir.path(),
        &[
            "check", "--env", "seed", "-q", "--now", NOW, "--format", "json",
        ],
    );
    assert_eq!(json.stdout, full.stdout);
    let scan = run(dir.path(), &["scan", ".", "--quiet"]);
    assert_eq!(scan.stdout.lines().count(), 1, "{}", scan.stdout);
}

#[test]
fn color_follows_the_flag_then_no_color_and_the_terminal() {
    let dir = example_copy("toolboxai");
    let esc = |args: &[&str], no_color: bool| {
        let mut cmd = greenlight(dir.path());
        if !no_color {
            cmd.env_remove("NO_COLOR");
        }
        let out = cmd.args(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).contains('\u{1b}')
    };
    let base = ["check", "--env", "seed", "--now", NOW];
    // A pipe is not a terminal: no color by default, with or without NO_COLOR.
    assert!(!esc(&base, false));
    assert!(!esc(&base, true));
    fn with<'a>(base: &[&'a str], c: &'a str) -> Vec<&'a str> {
        let mut v = base.to_vec();
        v.extend(["--color", c]);
        v
    }
    assert!(
        esc(&with(&base, "always"), true),
        "--color always beats NO_COLOR"
    );
    assert!(esc(&with(&base, "always"), false));
    assert!(!esc(&with(&base, "never"), false));
    assert!(!esc(&with(&base, "auto"), false));
    assert_eq!(run(dir.path(), &with(&base, "sometimes")).code, 2);
}

#[test]
fn no_progress_bar_in_pipes_or_ci_logs() {
    let dir = example_copy("toolboxai");
    for ci in [None, Some("true")] {
        let mut cmd = greenlight(dir.path());
        if let Some(v) = ci {
            cmd.env("CI", v);
        }
        let out = cmd.args(["scan", ".", "--git"]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("scanning"), "{stderr}");
        assert!(
            !stderr.contains('\r'),
            "no terminal redraws in a log: {stderr}"
        );
    }
}
