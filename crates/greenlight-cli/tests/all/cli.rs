//! The command line: help, rules, explain, bad input (exit 2 with a clear message), `env`.

use crate::support::{example_copy, run};

#[test]
fn help_lists_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(dir.path(), &["--help"]);
    assert_eq!(r.code, 0);
    for c in ["check", "probe", "env", "rules", "explain", "formats"] {
        assert!(r.stdout.contains(c), "{c}");
    }
}

#[test]
fn rules_and_explain_cover_every_rule() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(dir.path(), &["rules", "--format", "json"]);
    let list: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    // Every rule of the registry but scan's detectors: check, probe, verify and diff.
    let expected = greenlight::rule::registry()
        .iter()
        .filter(|r| matches!(r.command.as_str(), "check" | "probe" | "verify" | "diff"))
        .count();
    assert_eq!(ids.len(), expected);
    assert!(expected >= 49);
    for id in [
        "credential-invalid",
        "webhook-not-registered",
        "migrations-pending",
    ] {
        assert!(ids.contains(&id), "{id}");
    }
    assert!(ids.contains(&"webhook-accepts-unsigned"));
    for id in ids {
        let e = run(dir.path(), &["explain", id]);
        assert_eq!(e.code, 0);
        assert!(
            e.stdout.contains("## Failing example") && e.stdout.contains("## Passing example"),
            "{id}"
        );
    }
    let e = run(dir.path(), &["explain", "placeholder-valu"]);
    assert_eq!(e.code, 2);
    assert!(
        e.stderr.contains("did you mean `placeholder-value`"),
        "{}",
        e.stderr
    );
}

#[test]
fn explain_covers_every_scan_detector_with_masked_examples() {
    let dir = tempfile::tempdir().unwrap();
    let detectors = greenlight::scan::Detectors::builtin();
    for d in detectors.list() {
        let e = run(dir.path(), &["explain", d.id]);
        assert_eq!(e.code, 0, "{}", d.id);
        assert!(
            e.stdout.contains("## Failing example")
                && e.stdout.contains("## Passing example")
                && e.stdout.contains(&d.title),
            "{}",
            d.id
        );
        // The secret of every positive example is shown masked, never whole. (A passing
        // example may hold the same value under a public name: that section is not checked.)
        let failing = e.stdout[e.stdout.find("## Failing example").unwrap()
            ..e.stdout.find("## Passing example").unwrap()]
            .to_string();
        for p in &d.examples.positive {
            for hit in detectors.scan(p.as_bytes(), greenlight::scan::Generic::On) {
                let secret = &p[hit.secret.clone()];
                assert!(!failing.contains(secret), "{}: {secret}", d.id);
            }
        }
    }
    let e = run(dir.path(), &["explain", "algolia-api-kye"]);
    assert_eq!(e.code, 2);
    assert!(
        e.stderr.contains("did you mean `algolia-api-key`"),
        "{}",
        e.stderr
    );
}

#[test]
fn bad_manifest_is_exit_2_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("greenlight.toml"),
        "[project]\nname = \"x\"\n\n[vars.A]\nformat = \"stripe.secretkey\"\n",
    )
    .unwrap();
    let r = run(dir.path(), &["check"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("greenlight.toml:5:10: unknown format `stripe.secretkey`; did you mean `stripe.secret_key`?"), "{}", r.stderr);

    std::fs::write(
        dir.path().join("greenlight.toml"),
        "[project]\nname = \"x\"\n[vars.A]\nformt = \"int\"\n",
    )
    .unwrap();
    let r = run(dir.path(), &["check"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("greenlight.toml:4:1") && r.stderr.contains("formt"),
        "{}",
        r.stderr
    );

    std::fs::write(
        dir.path().join("greenlight.toml"),
        "[project\nname = \"x\"\n",
    )
    .unwrap();
    assert_eq!(run(dir.path(), &["check"]).code, 2);
}

#[test]
fn unknown_environment_missing_file_and_bad_sources_are_exit_2() {
    let dir = example_copy("scholarlink-billing");
    let r = run(dir.path(), &["check", "--env", "prodution"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did you mean `production`"),
        "{}",
        r.stderr
    );

    std::fs::remove_file(dir.path().join(".env.production")).unwrap();
    let r = run(dir.path(), &["check", "--env", "production"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains(".env.production"), "{}", r.stderr);

    std::fs::write(dir.path().join(".env.production"), b"A=\xff\xfe\n").unwrap();
    let r = run(dir.path(), &["check", "--env", "production"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not valid UTF-8"), "{}", r.stderr);

    let r = run(dir.path(), &["check", "--manifest", "nope.toml"]);
    assert_eq!(r.code, 2);
}

#[test]
fn malformed_env_lines_are_findings_not_crashes() {
    let dir = example_copy("scholarlink-billing");
    let path = dir.path().join(".env.production");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{text}!!! not an assignment\n")).unwrap();
    let r = run(
        dir.path(),
        &["check", "--env", "production", "--format", "json"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("\"malformed-line\""));
}

#[test]
fn env_prints_resolved_values_masked_unless_revealed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "HOST=db.internal\nURL=postgres://app:${PASSWORD}@${HOST}/x\nPASSWORD=Zq8vN3xLw2pR7tY5aa\nAPI_KEY=G3brCGUFzdlIfv2DZi-mo-7gfP\n").unwrap();
    let r = run(dir.path(), &["env", ".env", "--format", "json"]);
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["HOST"], "db.internal");
    // PASSWORD is expanded before it is defined: dotenv-expand leaves it empty.
    assert_eq!(v["URL"], "postgres://app:@db.internal/x");
    assert_eq!(v["API_KEY"], "G3br…7gfP");
    assert!(!r.stdout.contains("Zq8vN3xLw2pR7tY5aa"));
    let r = run(dir.path(), &["env", ".env", "--format", "json", "--reveal"]);
    assert!(r.stdout.contains("Zq8vN3xLw2pR7tY5aa"));
    let r = run(
        dir.path(),
        &[
            "env",
            ".env",
            "--no-expand",
            "--format",
            "shell",
            "--reveal",
        ],
    );
    assert!(
        r.stdout
            .contains("export URL='postgres://app:${PASSWORD}@${HOST}/x'"),
        "{}",
        r.stdout
    );
}

#[test]
fn closed_stdout_is_not_an_error() {
    let dir = example_copy("ross-tax-academy");
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("greenlight"))
        .current_dir(dir.path())
        .args(["rules"])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(out.success());
}

/// `env` masks by value: a secret pasted into a public or plain variable is masked like a
/// declared one, and stderr says which variables were masked for what they hold; `--reveal`
/// still reveals.
#[test]
fn env_masks_a_secret_in_a_public_variable_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("greenlight.toml"),
        "[project]\nname = \"t\"\n[environments.production]\nsources = [\".env\"]\n\
         [vars.VITE_STRIPE_PUBLIC_KEY]\nformat = \"stripe.publishable_key\"\n\
         [vars.RETRIES]\nformat = \"int\"\n",
    )
    .unwrap();
    let key = "sk_live_Qm7vT2xLp9wR4nK8bZ3cY6dF1gH5jS0aE2uI7oP4";
    std::fs::write(
        dir.path().join(".env"),
        format!("VITE_STRIPE_PUBLIC_KEY={key}\nRETRIES=3\n"),
    )
    .unwrap();
    for format in ["dotenv", "json", "shell"] {
        let r = run(dir.path(), &["env", "--format", format]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(!r.stdout.contains(&key[8..30]), "{format}: {}", r.stdout);
        assert!(r.stdout.contains("RETRIES"), "{}", r.stdout);
        assert!(
            r.stderr.contains("VITE_STRIPE_PUBLIC_KEY (holds a Stripe"),
            "{format}: {}",
            r.stderr
        );
    }
    let r = run(dir.path(), &["env", "--reveal"]);
    assert!(r.stdout.contains(key), "{}", r.stdout);
}
