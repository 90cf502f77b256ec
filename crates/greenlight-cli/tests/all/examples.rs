//! Every example of `examples/`: the clean environments give `go` with no critical finding, the
//! broken ones `no-go` with the findings their defects call for, at the right file:line. The
//! human and JSON outputs are held as snapshots.

use crate::support::{check_json, example_copy, finding_keys, run, NOW};

/// (example, environment, expected verdict)
const CASES: &[(&str, &str, &str)] = &[
    ("ross-tax-academy", "production", "go"),
    ("ross-tax-academy", "staging", "go"),
    ("ross-tax-academy", "seed", "no-go"),
    ("toolboxai", "production", "go"),
    ("toolboxai", "staging", "go"),
    ("toolboxai", "seed", "no-go"),
    ("course-marketplace", "production", "go"),
    ("course-marketplace", "staging", "go"),
    ("course-marketplace", "broken", "no-go"),
    ("scholarlink-billing", "production", "go"),
    ("scholarlink-billing", "staging", "go"),
    ("scholarlink-billing", "broken", "no-go"),
    ("ikhokha-payments", "as-designed", "no-go"),
    ("ikhokha-payments", "production", "go"),
];

#[test]
fn every_example_gives_its_verdict_and_matches_its_snapshots() {
    for (example, env, verdict) in CASES {
        let dir = example_copy(example);
        let (code, report) = check_json(dir.path(), env);
        assert_eq!(report["verdict"], *verdict, "{example}/{env}: {report:#}");
        assert_eq!(
            code,
            if *verdict == "go" { 0 } else { 1 },
            "{example}/{env}"
        );
        if *verdict == "go" {
            assert_eq!(report["summary"]["critical"], 0, "{example}/{env}");
        }
        let human = run(dir.path(), &["check", "--env", env, "--now", NOW]);
        insta::assert_snapshot!(format!("{example}__{env}__human"), human.stdout);
        insta::assert_json_snapshot!(format!("{example}__{env}__json"), report, {".tool.version" => "[version]"});
    }
}

fn has(report: &serde_json::Value, rule: &str, variable: &str, path: &str, line: u64) -> bool {
    finding_keys(report)
        .iter()
        .any(|(r, v, p, l)| r == rule && v == variable && p == path && *l == line)
}

#[test]
fn ikhokha_design_is_no_go_for_client_side_secrets_and_the_shared_secret() {
    let dir = example_copy("ikhokha-payments");
    let (_, report) = check_json(dir.path(), "as-designed");
    let criticals: Vec<_> = finding_keys(&report)
        .into_iter()
        .filter(|(r, ..)| r != "env-file-not-ignored")
        .collect();
    assert!(has(
        &report,
        "secret-exposed-to-client",
        "VITE_IKHOKHA_API_KEY",
        ".env.as-designed",
        4
    ));
    assert!(has(
        &report,
        "secret-exposed-to-client",
        "VITE_IKHOKHA_API_SECRET",
        ".env.as-designed",
        5
    ));
    assert!(has(
        &report,
        "secret-exposed-to-client",
        "VITE_IKHOKHA_WEBHOOK_SECRET",
        ".env.as-designed",
        6
    ));
    assert!(has(
        &report,
        "shared-secret-value",
        "VITE_IKHOKHA_WEBHOOK_SECRET",
        ".env.as-designed",
        6
    ));
    assert_eq!(report["summary"]["critical"], 4, "{criticals:?}");
}

#[test]
fn seed_templates_are_no_go_for_placeholders_and_committed_secrets() {
    let dir = example_copy("ross-tax-academy");
    let (_, report) = check_json(dir.path(), "seed");
    assert!(has(
        &report,
        "placeholder-value",
        "CLOUDFLARE_ACCOUNT_ID",
        ".env.seed",
        6
    ));
    assert!(has(
        &report,
        "placeholder-value",
        "STRIPE_SECRET_KEY",
        "wrangler.seed.toml",
        36
    ));
    assert!(has(
        &report,
        "secret-in-config-file",
        "STRIPE_SECRET_KEY",
        "wrangler.seed.toml",
        36
    ));
    assert!(has(
        &report,
        "secret-in-config-file",
        "JWT_SECRET",
        "wrangler.seed.toml",
        54
    ));
    // The Claude service is disabled (AI_INSTRUCTOR_PROVIDER=openai): its placeholder is not a finding.
    assert!(!finding_keys(&report)
        .iter()
        .any(|(_, v, ..)| v == "CLAUDE_API_KEY"));

    let dir = example_copy("toolboxai");
    let (_, report) = check_json(dir.path(), "seed");
    assert!(has(
        &report,
        "placeholder-value",
        "DATA_ENCRYPTION_KEY",
        ".env.seed",
        36
    ));
    assert!(has(
        &report,
        "rotation-overdue",
        "DATA_ENCRYPTION_KEY",
        ".env.seed",
        36
    ));
}

#[test]
fn broken_candidates_report_each_defect_at_its_line() {
    let dir = example_copy("course-marketplace");
    let (_, r) = check_json(dir.path(), "broken");
    for (rule, var, line) in [
        ("debug-enabled-in-production", "NODE_ENV", 1),
        ("localhost-in-production", "APP_URL", 2),
        ("invalid-value", "RATE_LIMIT_PER_MINUTE", 4),
        ("insecure-url", "DATABASE_URL", 6),
        ("insecure-url", "REDIS_URL", 7),
        ("test-credential-in-production", "STRIPE_SECRET_KEY", 9),
        ("mismatched-key-modes", "STRIPE_SECRET_KEY", 9),
        ("secret-reused-across-environments", "STRIPE_SECRET_KEY", 9),
        ("placeholder-value", "STRIPE_WEBHOOK_SECRET", 11),
        ("empty-value", "OPENAI_MONTHLY_QUOTA_USD", 14),
        ("test-credential-in-production", "RECAPTCHA_SECRET_KEY", 21),
    ] {
        assert!(
            has(&r, rule, var, ".env.broken", line),
            "{rule} {var}:{line}\n{:#?}",
            finding_keys(&r)
        );
    }
    assert!(has(
        &r,
        "missing-required",
        "SENTRY_DSN",
        "greenlight.toml",
        60
    ));

    let dir = example_copy("scholarlink-billing");
    let (_, r) = check_json(dir.path(), "broken");
    for (rule, var, line) in [
        ("localhost-in-production", "CORS_ORIGINS", 2),
        ("test-credential-in-production", "VITE_STRIPE_PUBLIC_KEY", 4),
        (
            "secret-reused-across-environments",
            "STRIPE_WEBHOOK_SECRET",
            6,
        ),
        ("secret-reused-across-environments", "OPENAI_API_KEY", 7),
        ("insecure-url", "DATABASE_URL", 8),
    ] {
        assert!(
            has(&r, rule, var, ".env.broken", line),
            "{rule} {var}:{line}\n{:#?}",
            finding_keys(&r)
        );
    }
}

/// The examples stay faithful to their seeds: a clean environment needs only the variables its
/// seed names (seed 003 has no rotation-date variable: rotation comes from the ledger), and an
/// example whose seed deploys to staging first declares staging, so production is checked for
/// reuse against it.
#[test]
fn examples_are_faithful_to_their_seeds() {
    let dir = example_copy("scholarlink-billing");
    let manifest = std::fs::read_to_string(dir.path().join("greenlight.toml")).unwrap();
    assert!(
        !manifest.contains("ROTATED_AT"),
        "seed 003 has no rotation variable"
    );
    let (_, report) = check_json(dir.path(), "production");
    assert_eq!(report["verdict"], "go");

    let dir = example_copy("toolboxai");
    let (_, report) = check_json(dir.path(), "staging");
    assert_eq!(report["verdict"], "go", "{report:#}");
    // Staging deployed with production's Stripe key: production is no-go.
    let prod = std::fs::read_to_string(dir.path().join(".env.production")).unwrap();
    let key = prod
        .lines()
        .find_map(|l| l.strip_prefix("STRIPE_WEBHOOK_SECRET="))
        .unwrap();
    let staging = std::fs::read_to_string(dir.path().join(".env.staging")).unwrap();
    let staging: String = staging
        .lines()
        .map(|l| {
            if l.starts_with("STRIPE_WEBHOOK_SECRET=") {
                format!("STRIPE_WEBHOOK_SECRET={key}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(dir.path().join(".env.staging"), staging).unwrap();
    let (_, report) = check_json(dir.path(), "production");
    assert_eq!(report["verdict"], "no-go");
    assert!(finding_keys(&report).iter().any(|(r, v, ..)| {
        r == "secret-reused-across-environments" && v == "STRIPE_WEBHOOK_SECRET"
    }));
}

/// The probes each example's production environment declares, by kind, where its seed asks for
/// the check (issue: email DNS, migrations, rate limits, metrics, CORS, local D1 schema).
#[test]
fn examples_declare_the_probes_their_seeds_ask_for() {
    let expected: &[(&str, &[&str])] = &[
        (
            "ross-tax-academy",
            &["http", "tls", "headers", "webhook", "email", "sqlite"],
        ),
        ("toolboxai", &["postgres", "email"]),
        ("course-marketplace", &["ratelimit", "metrics", "postgres"]),
        ("scholarlink-billing", &["metrics", "headers", "postgres"]),
    ];
    for (example, kinds) in expected {
        let dir = example_copy(example);
        let text = std::fs::read_to_string(dir.path().join("greenlight.toml")).unwrap();
        let manifest: toml::Table = toml::from_str(&text).unwrap();
        let probes = manifest["probes"].as_array().unwrap();
        let declared: Vec<&str> = probes
            .iter()
            .filter(|p| {
                p.get("environments").is_none_or(|e| {
                    e.as_array()
                        .unwrap()
                        .iter()
                        .any(|v| v.as_str() == Some("production"))
                })
            })
            .map(|p| p["kind"].as_str().unwrap())
            .collect();
        for kind in *kinds {
            assert!(declared.contains(kind), "{example}: {kind} in {declared:?}");
        }
        // Every declared probe is referred to by a checklist item.
        let checklist = manifest["checklist"].as_array().unwrap();
        for p in probes {
            let name = p["name"].as_str().unwrap();
            assert!(
                checklist
                    .iter()
                    .any(
                        |c| c.get("auto").and_then(|a| a.as_array()).is_some_and(|a| a
                            .iter()
                            .any(|v| v.as_str() == Some(&format!("probe:{name}"))))
                    ),
                "{example}: no checklist item refers to probe:{name}"
            );
        }
        // And the manifest loads: the probe entries are valid.
        let r = run(dir.path(), &["check", "--env", "production", "--now", NOW]);
        assert_ne!(r.code, 2, "{example}: {}", r.stderr);
    }
}
