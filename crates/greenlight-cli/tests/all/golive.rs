//! `greenlight golive` and `greenlight signoff`: the verdict of every example, every section of
//! the markdown and HTML documents, JSON against the repo's schema and SARIF against the official
//! one, the HTML rendered in headless Chromium, sign-off and accepted-risk files (round trip,
//! staleness, tampering), and every format of every command.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{example_copy, examples_dir, run, EXAMPLES, NOW};

/// Environments whose files call for go in `golive` (the production environments, with their
/// sign-offs); every other environment is no-go (critical findings, or missing sign-offs).
const GO: &[(&str, &str)] = &[
    ("ross-tax-academy", "production"),
    ("toolboxai", "production"),
    ("course-marketplace", "production"),
    ("scholarlink-billing", "production"),
    ("ikhokha-payments", "production"),
];

fn golive(dir: &Path, env: &str, format: &str) -> crate::support::Run {
    run(
        dir,
        &[
            "golive",
            "--no-verify",
            "--env",
            env,
            "--no-probe",
            "--now",
            NOW,
            "--format",
            format,
        ],
    )
}

pub fn report_schema() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(include_str!("../../../../schemas/report.schema.json")).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

pub fn assert_valid_report(context: &str, json: &str) {
    let value: Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{context}: {e}\n{json}"));
    let validator = report_schema();
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{context}: {errors:#?}");
}

fn assert_valid_sarif(context: &str, text: &str) {
    let schema: Value =
        serde_json::from_str(include_str!("../schemas/sarif-2.1.0-rtm.5.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let value: Value = serde_json::from_str(text).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{context}: {errors:#?}");
}

fn environments(dir: &Path) -> Vec<String> {
    let m = greenlight::manifest::Manifest::load(&dir.join("greenlight.toml")).unwrap();
    m.environments.keys().cloned().collect()
}

#[test]
fn every_example_gets_the_verdict_its_files_call_for() {
    for example in EXAMPLES {
        let dir = example_copy(example);
        for env in environments(dir.path()) {
            let r = golive(dir.path(), &env, "json");
            let expected_go = GO.contains(&(example, env.as_str()));
            assert_eq!(
                r.code,
                if expected_go { 0 } else { 1 },
                "{example}/{env}: {}{}",
                r.stdout,
                r.stderr
            );
            let json: Value = serde_json::from_str(&r.stdout).unwrap();
            assert_eq!(
                json["verdict"],
                if expected_go { "go" } else { "no-go" },
                "{example}/{env}"
            );
            let blocking = json["blocking"].as_array().unwrap();
            assert_eq!(
                blocking.is_empty(),
                expected_go,
                "{example}/{env}: {blocking:#?}"
            );
            assert!(
                !json["checklist"].as_array().unwrap().is_empty(),
                "{example} has its seed's checklist"
            );
            assert_valid_report(&format!("golive {example}/{env}"), &r.stdout);
        }
    }
}

#[test]
fn the_markdown_and_html_documents_carry_every_section() {
    let dir = example_copy("ross-tax-academy");
    for env in ["production", "seed"] {
        let md = golive(dir.path(), env, "markdown").stdout;
        for heading in [
            "# Go-live decision: ross-tax-academy · ",
            "**Verdict: ",
            "## Blocking",
            "## Checklist",
            "### security (",
            "## Findings",
            "## Accepted risks",
            "## Sign-offs",
            "## Environment",
            "- Tool: greenlight ",
            "- Generated: 2026-11-01T00:00:00Z",
            "- `probe`: skipped",
        ] {
            assert!(
                md.contains(heading),
                "{env}: markdown lacks {heading}:\n{md}"
            );
        }
        let html = golive(dir.path(), env, "html").stdout;
        for id in [
            "id=\"verdict\"",
            "id=\"blocking\"",
            "id=\"checklist-grid\"",
            "id=\"service-grid\"",
            "id=\"chart\"",
            "id=\"findings\"",
            "id=\"accepted\"",
            "id=\"signoffs\"",
            "<style>",
        ] {
            assert!(html.contains(id), "{env}: html lacks {id}");
        }
        // Self-contained: nothing is fetched.
        for fetch in [
            "<script",
            "<link",
            "src=\"http",
            "href=\"http",
            "url(http",
            "@import",
        ] {
            assert!(!html.contains(fetch), "{env}: html fetches {fetch}");
        }
    }
    let md = golive(dir.path(), "seed", "markdown").stdout;
    assert!(md.contains("**Verdict: NO-GO**"));
    assert!(
        md.contains("## Blocking\n\n1. 22 critical [placeholder-value] findings from check: `"),
        "blocking reasons first:\n{md}"
    );
    let md = golive(dir.path(), "production", "markdown").stdout;
    assert!(md.contains("**Verdict: GO**"));
    assert!(md.contains("Nothing blocks this release."));
    assert!(
        md.contains("| ✅ signed | **Backups configured for D1 and R2** `backups`"),
        "{md}"
    );
}

/// `chromium --headless` with the flags this machine needs (no background networking: the
/// machine's network is closed) and a fresh profile.
fn chromium(args: &[&str], profile: &Path) -> std::process::Output {
    let bin = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("Chromium is not installed: run scripts/services (scripts/test does)");
    Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_html_report_renders_in_headless_chromium() {
    let dir = example_copy("ross-tax-academy");
    let profile = tempfile::tempdir().unwrap();
    for (env, verdict) in [("seed", "NO-GO"), ("production", "GO")] {
        let html = dir.path().join(format!("golive-{env}.html"));
        let r = run(
            dir.path(),
            &[
                "golive",
                "--no-verify",
                "--env",
                env,
                "--no-probe",
                "--now",
                NOW,
                "--format",
                "html",
                "--output",
                html.to_str().unwrap(),
            ],
        );
        assert!(r.code <= 1, "{}", r.stderr);
        let url = format!("file://{}", html.display());
        let out = chromium(&["--dump-dom", &url], profile.path());
        let dom = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && !dom.is_empty(),
            "chromium: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // What Chromium parsed: the banner, the grids, the chart, the table.
        assert!(
            dom.contains(&format!(
                "<div id=\"verdict\" class=\"verdict\">{verdict}</div>"
            )),
            "{env}: {dom}"
        );
        assert!(
            dom.contains("<strong id=\"environment\">")
                && dom.contains(&format!(">{env}</strong>"))
        );
        let json: Value = serde_json::from_str(&golive(dir.path(), env, "json").stdout).unwrap();
        let findings = json["findings"].as_array().unwrap().len();
        assert_eq!(
            dom.matches("<tr class=\"finding\">").count(),
            findings,
            "{env}: one row per finding"
        );
        let critical = json["summary"]["critical"].as_u64().unwrap();
        assert!(dom.contains(&format!(
            "<span id=\"count-critical\">{critical} critical</span>"
        )));
        let sections = dom.matches("class=\"card section\"").count();
        assert!(sections >= 5, "{env}: {sections} checklist sections");
        if findings > 0 {
            assert!(dom.contains("class=\"bar\""), "{env}: the chart has bars");
            // Messages' code spans are code, not literal backticks.
            let table = dom.split("<table id=\"findings\">").nth(1).unwrap();
            let table = table.split("</table>").next().unwrap();
            assert!(table.contains("<code>"), "{env}");
            assert!(
                !table.contains('`'),
                "{env}: a literal backtick in the findings"
            );
            // Service names as the manifest writes them (no title-casing).
            for f in json["findings"].as_array().unwrap() {
                if let Some(service) = f["service"].as_str() {
                    assert!(
                        dom.contains(&format!("data-service=\"{service}\"><h3>{service}</h3>")),
                        "{env}: service {service} as written"
                    );
                }
            }
        }
        // And a real render: a screenshot with pixels in it.
        let png = dir.path().join(format!("golive-{env}.png"));
        let out = chromium(
            &[
                &format!("--screenshot={}", png.display()),
                "--window-size=1280,1600",
                "--hide-scrollbars",
                &url,
            ],
            profile.path(),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bytes = std::fs::read(&png).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
            "{env}: {} bytes",
            bytes.len()
        );
    }
}

#[test]
fn json_and_sarif_of_every_command_validate() {
    for example in EXAMPLES {
        let dir = example_copy(example);
        for env in environments(dir.path()) {
            for args in [
                vec!["check", "--env", &env, "--now", NOW],
                vec![
                    "golive",
                    "--no-verify",
                    "--env",
                    &env,
                    "--no-probe",
                    "--now",
                    NOW,
                ],
            ] {
                let mut json = args.clone();
                json.extend(["--format", "json"]);
                assert_valid_report(
                    &format!("{example} {args:?}"),
                    &run(dir.path(), &json).stdout,
                );
                let mut sarif = args.clone();
                sarif.extend(["--format", "sarif"]);
                assert_valid_sarif(
                    &format!("{example} {args:?}"),
                    &run(dir.path(), &sarif).stdout,
                );
            }
        }
        let scan = run(dir.path(), &["scan", ".", "--format", "json"]);
        assert_valid_report(&format!("scan {example}"), &scan.stdout);
        let envs = environments(dir.path());
        let diff = run(
            dir.path(),
            &["diff", &envs[0], &envs[envs.len() - 1], "--format", "json"],
        );
        assert_valid_report(&format!("diff {example}"), &diff.stdout);
    }
}

#[test]
fn every_command_takes_every_format() {
    let dir = example_copy("course-marketplace");
    for format in [
        "human", "json", "sarif", "markdown", "html", "junit", "github",
    ] {
        for args in [
            vec!["check", "--env", "broken", "--now", NOW],
            vec!["scan", "."],
            vec!["probe", "--env", "broken", "--only", "none"],
            vec![
                "golive",
                "--no-verify",
                "--env",
                "broken",
                "--no-probe",
                "--now",
                NOW,
            ],
        ] {
            let mut all = args.clone();
            all.extend(["--format", format]);
            let r = run(dir.path(), &all);
            if args[0] == "probe" {
                // No probe named `none`: a usage error, whatever the format.
                assert_eq!(r.code, 2, "{}", r.stderr);
                continue;
            }
            assert_eq!(r.code, 1, "{args:?} {format}: {}", r.stderr);
            assert!(!r.stdout.is_empty());
        }
    }
    let junit = golive(dir.path(), "broken", "junit").stdout;
    assert!(junit.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "));
    let json: Value = serde_json::from_str(&golive(dir.path(), "broken", "json").stdout).unwrap();
    let items = json["checklist"].as_array().unwrap().len();
    assert_eq!(
        junit.matches("classname=\"checklist.").count(),
        items,
        "one testcase per checklist item"
    );
    let rules = greenlight::rules::RULES.len() + greenlight::probe::PROBE_RULES.len();
    assert!(
        junit.matches("classname=\"rules\"").count() >= rules,
        "one testcase per rule"
    );
    assert!(junit.contains("<failure type=\"critical\""));
    let github = golive(dir.path(), "broken", "github").stdout;
    assert!(
        github.lines().all(|l| l.starts_with("::error ")
            || l.starts_with("::warning ")
            || l.starts_with("::notice ")),
        "{github}"
    );
    assert!(
        github.contains("::error file=.env.broken,line="),
        "{github}"
    );
    assert!(github.lines().last().unwrap().contains("NO-GO for broken"));
}

#[test]
fn signoffs_round_trip_go_stale_and_reject_tampering() {
    let dir = example_copy("toolboxai");
    let file = dir.path().join("greenlight.signoffs.toml");
    let original = std::fs::read_to_string(&file).unwrap();

    // Unknown item: a clear error with a did-you-mean, nothing written.
    let r = run(dir.path(), &["signoff", "rate-limit", "--by", "Ana"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("no checklist item `rate-limit` (did you mean `rate-limiting`?)"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);

    // A change to a signed item makes its sign-off stale: no-go until signed again.
    let manifest = dir.path().join("greenlight.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace(
            "title = \"CORS properly configured\"",
            "title = \"CORS allows only app.toolboxai.com\"",
        ),
    )
    .unwrap();
    let r = golive(dir.path(), "production", "json");
    assert_eq!(r.code, 1);
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    let cors = json["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "cors")
        .unwrap()
        .clone();
    assert_eq!(cors["status"], "stale");
    assert!(cors["detail"]
        .as_str()
        .unwrap()
        .contains("the item changed since"));

    // Signing again (the CLI, as a person would) brings it back; the file stays sorted, the
    // other blocks untouched.
    let r = crate::support::greenlight(dir.path())
        .args([
            "signoff",
            "cors",
            "--by",
            "Lee Chen (platform)",
            "--note",
            "only app.toolboxai.com",
            "--expires",
            "90d",
        ])
        .env("GREENLIGHT_NOW", "2026-10-31T10:00:00Z")
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(golive(dir.path(), "production", "json").code, 0);
    let after = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        after.matches("[[signoff]]").count(),
        original.matches("[[signoff]]").count()
    );
    let ids: Vec<&str> = after
        .lines()
        .filter_map(|l| l.strip_prefix("item = "))
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "one block per item, in order (clean merges)");
    for block in original
        .split("\n\n")
        .filter(|b| !b.contains("item = \"cors\""))
    {
        assert!(after.contains(block.trim()), "untouched: {block}");
    }

    // Expired sign-offs are stale too.
    let later = run(
        dir.path(),
        &[
            "golive",
            "--no-verify",
            "--env",
            "production",
            "--no-probe",
            "--now",
            "2027-11-01T00:00:00Z",
            "--format",
            "json",
        ],
    );
    assert_eq!(later.code, 1);
    assert!(later.stdout.contains("expired 2027-10-30"));

    // A hand edit is an error naming the file and block, never a silent pass.
    std::fs::write(
        &file,
        after.replacen("by = \"Lee Chen (platform)\"", "by = \"Someone Else\"", 1),
    )
    .unwrap();
    let r = golive(dir.path(), "production", "json");
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("greenlight.signoffs.toml:") && r.stderr.contains("edited by hand"),
        "{}",
        r.stderr
    );
    // So is a malformed file.
    std::fs::write(&file, "[[signoff]]\nitem = \"cors\"\nby = \n").unwrap();
    let r = golive(dir.path(), "production", "json");
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("greenlight.signoffs.toml:3"),
        "{}",
        r.stderr
    );
}

#[test]
fn accepted_risks_are_recorded_shown_and_expire() {
    let dir = example_copy("scholarlink-billing");
    let before = golive(dir.path(), "broken", "json");
    let json: Value = serde_json::from_str(&before.stdout).unwrap();
    let finding = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "insecure-url")
        .unwrap()
        .clone();
    let var = finding["variable"].as_str().unwrap().to_owned();
    let spec = format!("insecure-url:{var}");
    let r = run(
        dir.path(),
        &[
            "golive",
            "--no-verify",
            "--env",
            "broken",
            "--no-probe",
            "--now",
            NOW,
            "--format",
            "json",
            "--allow",
            &spec,
            "--reason",
            "TLS terminates at the pooler until Dec",
            "--expires",
            "2026-12-01",
            "--by",
            "Tom Becker",
        ],
    );
    assert_valid_report("golive --allow", &r.stdout);
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| !(f["rule"] == "insecure-url" && f["variable"] == var.as_str())));
    let accepted = &json["accepted"][0];
    assert_eq!(accepted["status"], "active");
    assert_eq!(accepted["covers"], 1);
    assert_eq!(json["accepted_findings"].as_array().unwrap().len(), 1);
    let md = golive(dir.path(), "broken", "markdown").stdout;
    assert!(
        md.contains("TLS terminates at the pooler until Dec"),
        "visible in every report"
    );
    for format in ["html", "human", "junit", "github", "sarif"] {
        let out = golive(dir.path(), "broken", format).stdout;
        assert!(
            out.contains("TLS terminates at the pooler until Dec"),
            "{format}: {out}"
        );
    }
    let sarif = golive(dir.path(), "broken", "sarif").stdout;
    assert_valid_sarif("golive sarif with an accepted risk", &sarif);
    assert!(sarif.contains("\"suppressions\""));
    // Expired: shown, no longer applied.
    let later = run(
        dir.path(),
        &[
            "golive",
            "--no-verify",
            "--env",
            "broken",
            "--no-probe",
            "--now",
            "2026-12-02T00:00:00Z",
            "--format",
            "json",
        ],
    );
    let json: Value = serde_json::from_str(&later.stdout).unwrap();
    assert_eq!(json["accepted"][0]["status"], "expired");
    assert!(json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "insecure-url" && f["variable"] == var.as_str()));
    // Bad input: unknown rule, no reason, a past date.
    for (spec, extra) in [
        ("no-such-rule:X", "2026-12-01"),
        ("insecure-url:X", "2020-01-01"),
    ] {
        let r = run(
            dir.path(),
            &[
                "golive",
                "--no-verify",
                "--env",
                "broken",
                "--no-probe",
                "--now",
                NOW,
                "--allow",
                spec,
                "--reason",
                "r",
                "--expires",
                extra,
                "--by",
                "x",
            ],
        );
        assert_eq!(r.code, 2, "{spec}: {}", r.stderr);
    }
}

#[test]
fn signoffs_from_two_branches_merge_cleanly() {
    let dir = example_copy("toolboxai");
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.invalid",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let sign = |item: &str, by: &str| {
        let out = crate::support::greenlight(dir.path())
            .args(["signoff", item, "--by", by, "--expires", "90d"])
            .env("GREENLIGHT_NOW", "2026-10-31T10:00:00Z")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "base"]);
    git(&["checkout", "-qb", "ana"]);
    sign("cors", "Ana Silva");
    git(&["commit", "-qam", "ana signs cors"]);
    git(&["checkout", "-q", "main"]);
    git(&["checkout", "-qb", "ben"]);
    sign("monitoring", "Ben Ito");
    git(&["commit", "-qam", "ben signs monitoring"]);
    git(&["merge", "-q", "--no-edit", "ana"]);
    let text = std::fs::read_to_string(dir.path().join("greenlight.signoffs.toml")).unwrap();
    assert!(text.contains("by = \"Ana Silva\"") && text.contains("by = \"Ben Ito\""));
    let r = golive(dir.path(), "production", "json");
    assert_eq!(r.code, 0, "the merged file is valid: {}", r.stderr);
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    // The example's own sign-offs and the two made on the branches.
    let base = std::fs::read_to_string(examples_dir().join("toolboxai/greenlight.signoffs.toml"))
        .unwrap()
        .matches("[[signoff]]")
        .count();
    assert_eq!(json["signoffs"].as_array().unwrap().len(), base + 2);
}
