//! `greenlight scan`: the seeds, files the walker must survive, git history, SARIF, baselines.

use std::path::{Path, PathBuf};

use crate::support::run;

const LIVE_KEY: &str = "sk_live_7uXtXRKyccefTDgpukRzthFvQDYUN7jm8lBwQ32dLKI28Ih0nEntw";

fn shared_dir() -> PathBuf {
    std::env::var_os("GREENLIGHT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

fn scan_json(dir: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["scan"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let r = run(dir, &all);
    let v = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", r.stdout, r.stderr));
    (r.code, v)
}

#[test]
fn seeds_credentials_are_found_and_placeholders_are_not() {
    let seeds = shared_dir().join("seeds");
    assert!(
        seeds.is_dir(),
        "the seed documents are expected at {} (set GREENLIGHT_SHARED)",
        seeds.display()
    );
    let dir = tempfile::tempdir().unwrap();
    crate::support::copy_dir(&seeds, &dir.path().join("seeds"));
    let (code, report) = scan_json(dir.path(), &["seeds"]);
    assert_eq!(code, 1);
    let findings = report["findings"].as_array().unwrap();
    for f in findings {
        let path = f["location"]["path"].as_str().unwrap();
        assert!(
            path.contains("004_"),
            "a placeholder of another seed was reported: {f}"
        );
    }
    let values: Vec<&str> = findings
        .iter()
        .map(|f| f["value"].as_str().unwrap())
        .collect();
    assert!(values.contains(&"IKW3…DX5D"), "{values:?}");
    assert!(values.contains(&"455r…7OeS"), "{values:?}");
    let out = serde_json::to_string(&report).unwrap();
    assert!(
        !out.contains("IKW31E1I5WP1HT2KIIB2XZMBXJOFDX5D")
            && !out.contains("455rtQjghdOHzLN3YZ3AQ81H3KEf7OeS")
    );
}

#[test]
fn hostile_files_are_noted_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("config.js"), format!("const key = '{LIVE_KEY}';\n")).unwrap();
    // Invalid UTF-8 around a secret: still found.
    let mut latin1 = b"caf\xe9 = 1\nSTRIPE=".to_vec();
    latin1.extend_from_slice(LIVE_KEY.replace("Entw", "Entx").as_bytes());
    latin1.push(b'\n');
    std::fs::write(d.join("latin1.txt"), latin1).unwrap();
    std::fs::write(d.join("image.png"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    // A 2 GB file, sparse: noted as too large, never read.
    std::fs::File::create(d.join("huge.log"))
        .unwrap()
        .set_len(2 * 1024 * 1024 * 1024)
        .unwrap();
    std::os::unix::fs::symlink(".", d.join("loop")).unwrap();
    std::os::unix::fs::symlink("missing-target", d.join("dangling")).unwrap();
    let (code, report) = scan_json(d, &["."]);
    assert_eq!(code, 1);
    let paths: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["location"]["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"config.js") && paths.contains(&"latin1.txt"),
        "{paths:?}"
    );
    let skipped = serde_json::to_string(&report["scan"]["skipped"]).unwrap();
    for what in [
        "image.png",
        "binary",
        "huge.log",
        "larger than",
        "loop",
        "dangling",
    ] {
        assert!(skipped.contains(what), "{what} not noted in {skipped}");
    }
}

fn commit(repo: &git2::Repository, files: &[(&str, Option<&str>)], message: &str) -> git2::Oid {
    let workdir = repo.workdir().unwrap().to_path_buf();
    let mut index = repo.index().unwrap();
    for (name, content) in files {
        match content {
            Some(c) => {
                std::fs::write(workdir.join(name), c).unwrap();
                index.add_path(Path::new(name)).unwrap();
            }
            None => {
                std::fs::remove_file(workdir.join(name)).unwrap();
                index.remove_path(Path::new(name)).unwrap();
            }
        }
    }
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("Dana Dev", "dana@example.org").unwrap();
    let parents: Vec<git2::Commit> = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .into_iter()
        .collect();
    let parent_refs: Vec<&git2::Commit> = parents.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parent_refs)
        .unwrap()
}

#[test]
fn history_finds_removed_secrets_at_the_commit_that_introduced_them() {
    let dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(dir.path()).unwrap();
    commit(&repo, &[("README.md", Some("# app\n"))], "init");
    let leak = commit(
        &repo,
        &[("deploy.sh", Some(&format!("export STRIPE={LIVE_KEY}\n")))],
        "deploy script",
    );
    // The same secret in later versions of the file is the same finding.
    commit(
        &repo,
        &[(
            "deploy.sh",
            Some(&format!("#!/bin/sh\nexport STRIPE={LIVE_KEY}\n")),
        )],
        "shebang",
    );
    commit(&repo, &[("deploy.sh", None)], "remove the key");

    let (code, report) = scan_json(dir.path(), &["."]);
    assert_eq!(code, 0, "the working tree is clean: {report}");
    let (code, report) = scan_json(dir.path(), &[".", "--git"]);
    assert_eq!(code, 1);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report:#}");
    assert_eq!(findings[0]["commit"], leak.to_string());
    assert_eq!(findings[0]["author"], "Dana Dev <dana@example.org>");
    assert_eq!(findings[0]["location"]["path"], "deploy.sh");
    assert_eq!(report["scan"]["commits"], 4);

    // A bare clone has the same history and no working tree.
    let bare = tempfile::tempdir().unwrap();
    git2::build::RepoBuilder::new()
        .bare(true)
        .clone(dir.path().to_str().unwrap(), &bare.path().join("app.git"))
        .unwrap();
    let (code, report) = scan_json(bare.path(), &["app.git", "--git", "--history-only"]);
    assert_eq!(code, 1);
    assert_eq!(report["findings"][0]["commit"], leak.to_string());
}

#[test]
fn a_corrupt_git_object_is_noted_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(dir.path()).unwrap();
    commit(
        &repo,
        &[
            ("a.txt", Some("nothing here\n")),
            ("b.env", Some(&format!("K={LIVE_KEY}\n"))),
        ],
        "init",
    );
    let blob = repo
        .head()
        .unwrap()
        .peel_to_tree()
        .unwrap()
        .get_name("a.txt")
        .unwrap()
        .id()
        .to_string();
    let object = dir
        .path()
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    let mut perms = std::fs::metadata(&object).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&object, perms).unwrap();
    std::fs::write(&object, b"this is not a zlib stream").unwrap();
    let (code, report) = scan_json(dir.path(), &[".", "--git", "--history-only"]);
    assert_eq!(code, 1);
    assert!(
        serde_json::to_string(&report["scan"]["skipped"])
            .unwrap()
            .contains("corrupt"),
        "{report:#}"
    );
    assert_eq!(report["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../schemas/sarif-2.1.0-rtm.5.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.env"),
        format!("STRIPE={LIVE_KEY}\nGH=ghp_42nYHSAqpf9vX1ts9ygUqNsvm8HPOP1IEztn\n"),
    )
    .unwrap();
    let r = run(dir.path(), &["scan", ".", "--format", "sarif"]);
    assert_eq!(r.code, 1);
    let sarif: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        sarif["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(!r.stdout.contains(&LIVE_KEY[12..]));
    // `check` speaks SARIF too.
    let ex = crate::support::example_copy("course-marketplace");
    let r = run(
        ex.path(),
        &[
            "check",
            "--env",
            "broken",
            "--format",
            "sarif",
            "--now",
            crate::support::NOW,
        ],
    );
    let sarif: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn baselines_and_manifest_excludes_silence_known_findings() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.env"), format!("STRIPE={LIVE_KEY}\n")).unwrap();
    let r = run(
        d,
        &["scan", ".", "--write-baseline", "greenlight-baseline.json"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let baseline = std::fs::read_to_string(d.join("greenlight-baseline.json")).unwrap();
    assert!(!baseline.contains(&LIVE_KEY[8..]));
    // The secret moves down: still baselined.
    std::fs::write(d.join("a.env"), format!("# moved\n\nSTRIPE={LIVE_KEY}\n")).unwrap();
    let (code, _) = scan_json(d, &[".", "--baseline", "greenlight-baseline.json"]);
    assert_eq!(code, 0);
    // A new one is reported.
    std::fs::write(
        d.join("b.env"),
        "GH=ghp_42nYHSAqpf9vX1ts9ygUqNsvm8HPOP1IEztn\n",
    )
    .unwrap();
    let (code, report) = scan_json(d, &[".", "--baseline", "greenlight-baseline.json"]);
    assert_eq!(code, 1);
    assert_eq!(report["findings"].as_array().unwrap().len(), 1);
    // A malformed baseline is an error, not a silent pass.
    std::fs::write(
        d.join("bad.json"),
        "{\"version\": 1, \"findings\": [{\"fingerprint\": 3}]}",
    )
    .unwrap();
    assert_eq!(run(d, &["scan", ".", "--baseline", "bad.json"]).code, 2);
    // Manifest excludes.
    std::fs::write(d.join("greenlight.toml"), "[project]\nname = \"x\"\n[scan]\nexclude_paths = [\"b.env\"]\nexclude_rules = [\"stripe-secret-key\"]\n").unwrap();
    let (code, report) = scan_json(d, &["."]);
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn findings_say_how_sure_they_are_and_min_confidence_filters() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("settings.env"),
        "AWS_ACCESS_KEY_ID=AKIAQ3EGRSLMPXK7TW2N\nREPORTS_API_KEY=a3f9c2e81b7d4065f1e2d3c4b5a69788\n",
    )
    .unwrap();
    let (code, all) = scan_json(dir.path(), &["--no-ignore"]);
    assert_eq!(code, 1);
    let seen: Vec<(String, String)> = all["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert!(f["why"].as_str().is_some_and(|w| !w.is_empty()), "{f}");
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["confidence"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        seen.contains(&("aws-access-key-id".into(), "high".into())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&("generic-secret".into(), "low".into())),
        "{seen:?}"
    );
    let (_, medium) = scan_json(dir.path(), &["--no-ignore", "--min-confidence", "medium"]);
    let rules: Vec<&str> = medium["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["aws-access-key-id"]);
    // The manifest's [scan] table sets the default.
    std::fs::write(
        dir.path().join("greenlight.toml"),
        "[project]\nname = \"x\"\n\n[scan]\nmin_confidence = \"high\"\n",
    )
    .unwrap();
    let (_, high) = scan_json(dir.path(), &["--no-ignore"]);
    assert_eq!(high["findings"].as_array().unwrap().len(), 1);
    let human = run(
        dir.path(),
        &["scan", ".", "--no-ignore", "--min-confidence", "low"],
    );
    assert!(
        human
            .stdout
            .contains("high confidence: the provider's token format"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("low confidence: generic"));
}
