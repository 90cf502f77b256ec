//! The lifecycle commands: init, template, diff, gen, mask, rotate, exec — on the examples, with
//! bad input, and with nothing secret printed except by `gen`.

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::{example_copy, greenlight, run, EXAMPLES, NOW};

/// The rules about formats and secrets, on which `init`'s manifest must agree with the
/// hand-written one.
const FORMAT_AND_SECRET_RULES: &[&str] = &[
    "placeholder-value",
    "invalid-format",
    "weak-secret",
    "shared-secret-value",
    "secret-exposed-to-client",
    "secret-in-config-file",
    "mismatched-key-modes",
    "test-credential-in-production",
];

fn keys(
    dir: &Path,
    manifest: &str,
    env: &str,
    inactive: &[String],
) -> BTreeSet<(String, String, String, u64)> {
    let r = run(
        dir,
        &[
            "check",
            "--manifest",
            manifest,
            "--env",
            env,
            "--now",
            NOW,
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{manifest}/{env}: {e}\n{}", r.stderr));
    crate::support::finding_keys(&v)
        .into_iter()
        .filter(|(rule, var, ..)| {
            FORMAT_AND_SECRET_RULES.contains(&rule.as_str()) && !inactive.contains(var)
        })
        .collect()
}

#[test]
fn init_matches_the_hand_written_manifests_on_formats_and_secrets() {
    for example in EXAMPLES {
        let dir = example_copy(example);
        let r = run(dir.path(), &["init", ".", "--output", "init.toml"]);
        assert_eq!(r.code, 0, "{example}: {}", r.stderr);
        let written = std::fs::read_to_string(dir.path().join("init.toml")).unwrap();
        // Never a secret value in the manifest.
        for line in written.lines() {
            assert!(
                !line.contains("sk_live_") && !line.contains("whsec_") && !line.contains("455rtQ"),
                "{example}: {line}"
            );
        }
        // Which files make up which environment, whether it is production, and which services are
        // switched off by a condition are the team's knowledge, not the files': the comparison
        // gives `init`'s manifest the hand-written `[environments]` and leaves out variables
        // whose hand-written condition is false, so that it judges formats and secrets alone.
        let hand_text = std::fs::read_to_string(dir.path().join("greenlight.toml")).unwrap();
        let hand_doc: toml_edit::DocumentMut = hand_text.parse().unwrap();
        let mut init_doc: toml_edit::DocumentMut = written.parse().unwrap();
        init_doc["environments"] = hand_doc["environments"].clone();
        init_doc["project"]["environments"] = hand_doc["project"]["environments"].clone();
        std::fs::write(dir.path().join("init.toml"), init_doc.to_string()).unwrap();
        let manifest =
            greenlight::manifest::Manifest::load(&dir.path().join("greenlight.toml")).unwrap();
        for env in manifest.environments.keys() {
            let loaded =
                greenlight::source::load_environment(&manifest, env, &Default::default()).unwrap();
            let inactive: Vec<String> = greenlight::rules::build_views(&manifest, env, &loaded)
                .into_iter()
                .filter(|v| !v.active)
                .map(|v| v.name.to_owned())
                .collect();
            let hand = keys(dir.path(), "greenlight.toml", env, &inactive);
            let auto = keys(dir.path(), "init.toml", env, &inactive);
            assert_eq!(
                hand, auto,
                "{example}/{env}: hand-written (left) vs init (right)\n{written}"
            );
        }
    }
}

#[test]
fn init_reads_docker_compose_variables() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env.production"),
        "DATABASE_URL=postgresql://app:Zq8vN3xLw2pR7tY5@db.internal:5432/app?sslmode=verify-full\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("docker-compose.yml"),
        "services:\n  api:\n    environment:\n      - REDIS_URL=rediss://cache.internal:6380/0\n      - STRIPE_SECRET_KEY=${STRIPE_SECRET_KEY}\n  worker:\n    environment:\n      LOG_LEVEL: info\n",
    )
    .unwrap();
    let r = run(dir.path(), &["init", ".", "--output", "-"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("vars.REDIS_URL = { format = \"redis.url\", required = false }  # named by docker-compose only"), "{}", r.stdout);
    assert!(
        r.stdout.contains(
            "vars.STRIPE_SECRET_KEY = { format = \"stripe.secret_key\", required = false }"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("vars.LOG_LEVEL = { format = \"log_level\""),
        "{}",
        r.stdout
    );
    // The manifest it writes is one `check` accepts.
    std::fs::write(dir.path().join("greenlight.toml"), &r.stdout).unwrap();
    let c = run(dir.path(), &["check", "--env", "production"]);
    assert!(c.code == 0 || c.code == 1, "{}", c.stderr);
    std::fs::write(
        dir.path().join("docker-compose.yml"),
        "services: [unclosed\n",
    )
    .unwrap();
    let r = run(dir.path(), &["init", ".", "--output", "-"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn commands_report_malformed_env_files_with_exit_2() {
    let dir = example_copy("scholarlink-billing");
    std::fs::write(dir.path().join(".env.staging"), b"A=\xff\xfe\n").unwrap();
    for args in [
        &["diff", "staging", "production"][..],
        &["exec", "--env", "staging", "--", "true"][..],
        &["rotate", "status", "--env", "staging"][..],
        &["mask", "--env", "staging"][..],
        &["env", "--env", "staging"][..],
    ] {
        let r = run(dir.path(), args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("not valid UTF-8"),
            "{args:?}: {}",
            r.stderr
        );
    }
}

#[test]
fn init_refuses_to_overwrite_and_reports_bad_input() {
    let dir = example_copy("scholarlink-billing");
    let r = run(dir.path(), &["init", "."]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    let empty = tempfile::tempdir().unwrap();
    let r = run(empty.path(), &["init", "."]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no .env"), "{}", r.stderr);
    assert_eq!(run(empty.path(), &["init", "missing-dir"]).code, 2);
}

#[test]
fn template_is_all_placeholders_that_check_rejects() {
    let dir = example_copy("toolboxai");
    let r = run(dir.path(), &["template", "--output", ".env.example"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(dir.path().join(".env.example")).unwrap();
    assert!(
        text.contains("# STRIPE") && text.contains("DATA_ENCRYPTION_KEY=<fernet_key>"),
        "{text}"
    );
    // Used as production, every required variable is a placeholder finding.
    std::fs::copy(
        dir.path().join(".env.example"),
        dir.path().join(".env.production"),
    )
    .unwrap();
    let r = run(
        dir.path(),
        &[
            "check",
            "--env",
            "production",
            "--format",
            "json",
            "--now",
            NOW,
        ],
    );
    assert_eq!(r.code, 1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let placeholders = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "placeholder-value")
        .count();
    assert!(placeholders >= 30, "{placeholders}");
    assert_eq!(run(dir.path(), &["template", "--env", "nope"]).code, 2);
}

#[test]
fn diff_names_missing_shared_and_mode_differences() {
    let dir = example_copy("course-marketplace");
    let r = run(
        dir.path(),
        &["diff", "staging", "broken", "--format", "json"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let rules: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["variable"].as_str().unwrap()))
        .collect();
    assert!(
        rules.contains(&("secret-reused-across-environments", "STRIPE_SECRET_KEY")),
        "{rules:?}"
    );
    assert!(
        rules.contains(&("missing-in-environment", "SENTRY_DSN")),
        "{rules:?}"
    );
    assert!(
        rules.contains(&("mode-differs", "STRIPE_PUBLISHABLE_KEY")),
        "{rules:?}"
    );
    assert!(!r.stdout.contains("Qw1Er4Ty7Ui0Op3As6Df9Gh2Jk5"));
    let r = run(dir.path(), &["diff", "staging", "production"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(run(dir.path(), &["diff", "staging", "nope"]).code, 2);
}

#[test]
fn gen_prints_only_its_secret_and_sets_files_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(dir.path(), &["gen", "fernet"]);
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout.trim().len(), 44);
    let env = dir.path().join(".env");
    std::fs::write(&env, "# keys\nA=1\nJWT_SECRET=old # rotate quarterly\n").unwrap();
    let r = run(
        dir.path(),
        &["gen", "jwt", "--set", "JWT_SECRET", "--file", ".env"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "nothing printed: {}", r.stdout);
    let text = std::fs::read_to_string(&env).unwrap();
    assert!(
        text.starts_with("# keys\nA=1\nJWT_SECRET=") && text.ends_with(" # rotate quarterly\n"),
        "{text}"
    );
    assert!(!text.contains("=old"));
    assert!(!r.stderr.contains(
        text.lines()
            .nth(2)
            .unwrap()
            .split('=')
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
    ));
    let r = run(dir.path(), &["gen", "rsa"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown kind"));
}

#[test]
fn mask_filters_a_stream() {
    let dir = example_copy("ikhokha-payments");
    let out = greenlight(dir.path())
        .args(["mask", "--env", "production"])
        .write_stdin("pay with o1PGje8KQ8k1UWACe3qT9bJg3evvdHc8\nGET /health 200\nleaked ghp_42nYHSAqpf9vX1ts9ygUqNsvm8HPOP1IEztn now")
        .output()
        .unwrap();
    assert!(out.status.success());
    let s = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        s,
        "pay with o1PG…dHc8\nGET /health 200\nleaked ghp_…IEztn now"
            .replace("ghp_…IEztn", "ghp_…Eztn")
    );
    assert_eq!(run(dir.path(), &["mask", "--env", "nope"]).code, 2);
}

#[test]
fn rotate_records_in_a_keyed_ledger_and_reports_status() {
    let dir = example_copy("ross-tax-academy");
    let key_home = tempfile::tempdir().unwrap();
    let rotate = |args: &[&str], now: &str| {
        let out = greenlight(dir.path())
            .args(args)
            .env("XDG_CONFIG_HOME", key_home.path())
            .env("GREENLIGHT_NOW", now)
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, _) = rotate(
        &["rotate", "status", "--env", "production"],
        "2026-01-01T00:00:00Z",
    );
    assert_eq!(code, 0);
    assert!(out.contains("unknown"), "{out}");
    let (code, _, err) = rotate(
        &["rotate", "record", "--env", "production"],
        "2026-01-01T00:00:00Z",
    );
    assert_eq!(code, 0, "{err}");
    let ledger = std::fs::read_to_string(dir.path().join("greenlight.ledger.json")).unwrap();
    assert!(
        ledger.contains("STRIPE_SECRET_KEY") && !ledger.contains("sk_live"),
        "{ledger}"
    );
    assert!(key_home.path().join("greenlight/ledger.key").exists());
    let (code, out, _) = rotate(
        &["rotate", "status", "--env", "production"],
        "2026-03-01T00:00:00Z",
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("STRIPE_SECRET_KEY") && out.contains("OVERDUE"),
        "{out}"
    );
    // `check` reads the ledger too.
    let out = greenlight(dir.path())
        .args([
            "check",
            "--env",
            "production",
            "--now",
            "2026-03-01T00:00:00Z",
            "--format",
            "json",
        ])
        .env("XDG_CONFIG_HOME", key_home.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&String::from_utf8_lossy(&out.stdout)).unwrap();
    assert!(v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "rotation-overdue"
            && f["message"].as_str().unwrap().contains("rotation ledger")));
    // A tampered ledger is an error.
    std::fs::write(
        dir.path().join("greenlight.ledger.json"),
        "{\"version\": 1, \"entries\": [{\"variable\": 1}]}",
    )
    .unwrap();
    let (code, _, err) = rotate(
        &["rotate", "status", "--env", "production"],
        "2026-03-01T00:00:00Z",
    );
    assert_eq!(code, 2, "{err}");
}

#[test]
fn exec_refuses_on_critical_findings_and_passes_exit_codes_and_signals_through() {
    let dir = example_copy("course-marketplace");
    let marker = dir.path().join("started");
    let marker_s = marker.to_str().unwrap().to_owned();
    let r = run(
        dir.path(),
        &[
            "exec",
            "--env",
            "broken",
            "--",
            "sh",
            "-c",
            &format!("touch {marker_s}"),
        ],
    );
    assert_eq!(r.code, 1);
    assert!(!marker.exists(), "the child must not start");
    assert!(r.stderr.contains("not starting"));

    let r = run(
        dir.path(),
        &[
            "exec",
            "--env",
            "production",
            "--",
            "sh",
            "-c",
            "test \"$NODE_ENV\" = production && exit 7",
        ],
    );
    assert_eq!(r.code, 7, "{}", r.stderr);
    let r = run(
        dir.path(),
        &[
            "exec",
            "--env",
            "broken",
            "--warn-only",
            "--",
            "sh",
            "-c",
            "exit 3",
        ],
    );
    assert_eq!(r.code, 3);

    // SIGTERM reaches the command (exec replaces greenlight, so the pid is the command's).
    let ready = dir.path().join("ready");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("greenlight"))
        .current_dir(dir.path())
        .args([
            "exec",
            "--env",
            "production",
            "--",
            "sh",
            "-c",
            &format!(
                "trap 'exit 42' TERM; touch {}; while :; do sleep 0.05; done",
                ready.display()
            ),
        ])
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !ready.exists() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "the command never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(42));

    assert_eq!(
        run(
            dir.path(),
            &[
                "exec",
                "--env",
                "production",
                "--",
                "definitely-not-a-command-xyz"
            ]
        )
        .code,
        127
    );
    assert_eq!(
        run(
            dir.path(),
            &["exec", "--manifest", "missing.toml", "--", "true"]
        )
        .code,
        2
    );
}
