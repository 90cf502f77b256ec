//! `greenlight verify` against the provider emulators of `providers.rs`: valid, invalid,
//! wrong-account and scope cases per provider, rate limiting, an unreachable provider, and the
//! safety property — each credential reaches only its own provider's emulator, in the
//! documented header, and appears in no output.

use std::path::Path;

use crate::providers::{creds::*, emulators, supabase_key, write, Recorded};
use crate::support::run;

pub const MANIFEST: &str = r#"
[project]
name = "emulated-academy"
environments = ["production", "broken"]

[environments.production]
sources = [".env.production"]

[environments.broken]
sources = [".env.broken"]
production = true

[services.app]
vars.BACKEND_URL = { format = "https_url" }

[services.stripe]
vars.STRIPE_SECRET_KEY = { format = "stripe.secret_key" }
vars.STRIPE_PUBLIC_KEY = { format = "stripe.publishable_key" }
vars.STRIPE_ACCOUNT_ID = { format = "string" }

[services.stripe.verify]
account = "${STRIPE_ACCOUNT_ID}"
webhook = { url = "${BACKEND_URL}/webhooks/stripe", events = ["checkout.session.completed", "invoice.payment_succeeded"] }

[services.openai]
vars.OPENAI_API_KEY = { format = "openai.api_key" }

[services.assistant]
description = "The same OpenAI key in a second service: asked once"
vars.ASSISTANT_OPENAI_KEY = { format = "openai.api_key" }

[services.claude]
vars.ANTHROPIC_API_KEY = { format = "anthropic.api_key" }

[services.sendgrid]
vars.SENDGRID_API_KEY = { format = "sendgrid.api_key" }
vars.FROM_EMAIL = { format = "email" }
verify = { sender = "${FROM_EMAIL}" }

[services.mail]
vars.MAILCHANNELS_API_KEY = { format = "mailchannels.api_key" }
vars.MAIL_DOMAIN = { format = "hostname" }
verify = { domain = "${MAIL_DOMAIN}" }

[services.google]
vars.GOOGLE_CLIENT_ID = { format = "google.oauth_client_id" }
vars.GOOGLE_CLIENT_SECRET = { format = "google.oauth_client_secret" }
vars.GOOGLE_REFRESH_TOKEN = { format = "google.refresh_token" }

[services.cloudflare]
vars.CLOUDFLARE_API_TOKEN = { format = "cloudflare.api_token" }
vars.CLOUDFLARE_ACCOUNT_ID = { format = "cloudflare.account_id" }
verify = { worker = "academy-api", secrets = ["STRIPE_SECRET_KEY", "JWT_SECRET"] }

[services.storage]
vars.R2_ACCESS_KEY_ID = { format = "r2.access_key_id" }
vars.R2_SECRET_ACCESS_KEY = { format = "r2.secret_access_key" }
vars.R2_BUCKET = { format = "string" }
verify = { bucket = "${R2_BUCKET}", vars.account = "CLOUDFLARE_ACCOUNT_ID" }

[services.aws]
vars.AWS_ACCESS_KEY_ID = { format = "aws.access_key_id" }
vars.AWS_SECRET_ACCESS_KEY = { format = "aws.secret_access_key" }
vars.AWS_ACCOUNT_ID = { format = "string" }
verify = { account = "${AWS_ACCOUNT_ID}" }

[services.supabase]
vars.SUPABASE_URL = { format = "supabase.url" }
vars.SUPABASE_ANON_KEY = { format = "supabase.anon_key" }
vars.SUPABASE_SERVICE_KEY = { format = "supabase.service_key" }

[services.realtime]
vars.PUSHER_APP_ID = { format = "pusher.app_id" }
vars.PUSHER_KEY = { format = "pusher.key" }
vars.PUSHER_SECRET = { format = "pusher.secret" }
vars.PUSHER_CLUSTER = { format = "pusher.cluster" }

[services.github]
vars.GITHUB_TOKEN = { format = "github.token" }
verify = { scopes = ["repo"] }

[services.slack]
vars.SLACK_BOT_TOKEN = { format = "slack.token" }
vars.SLACK_TEAM_ID = { format = "string" }
verify = { account = "${SLACK_TEAM_ID}" }

[services.sms]
vars.TWILIO_ACCOUNT_SID = { format = "twilio.account_sid" }
vars.TWILIO_AUTH_TOKEN = { format = "twilio.auth_token" }

[services.vault]
vars.VAULT_ADDR = { format = "vault.address" }
vars.VAULT_TOKEN = { format = "vault.token" }

[services.captcha]
vars.RECAPTCHA_SECRET_KEY = { format = "recaptcha.secret_key" }

[services.maps]
vars.MAPBOX_PUBLIC_TOKEN = { format = "mapbox.public_token" }

[services.ikhokha]
vars.IKHOKHA_APP_SECRET = { format = "ikhokha.api_secret" }

[vars.JWT_SECRET]
format = "secret"
min_length = 32

[[checklist]]
id = "stripe-ready"
title = "Stripe live keys verified, webhook registered"
auto = ["verify:stripe"]
"#;

pub fn env_file(vault_port: u16, over: &[(&str, &str)]) -> String {
    let anon = supabase_key("anon");
    let service = supabase_key("service_role");
    let vault = format!("https://127.0.0.1:{vault_port}");
    let base: Vec<(&str, &str)> = vec![
        ("BACKEND_URL", "https://api.academy.test"),
        ("STRIPE_SECRET_KEY", STRIPE_LIVE),
        ("STRIPE_PUBLIC_KEY", STRIPE_PUBLIC),
        ("STRIPE_ACCOUNT_ID", "acct_1Nv0FGQ9RKHgCVdK"),
        ("OPENAI_API_KEY", OPENAI_OK),
        ("ASSISTANT_OPENAI_KEY", OPENAI_OK),
        ("ANTHROPIC_API_KEY", ANTHROPIC_OK),
        ("SENDGRID_API_KEY", SENDGRID_RESTRICTED),
        ("FROM_EMAIL", "billing@academy.test"),
        ("MAILCHANNELS_API_KEY", MAILCHANNELS_KEY),
        ("MAIL_DOMAIN", "academy.test"),
        ("GOOGLE_CLIENT_ID", GOOGLE_CLIENT_ID),
        ("GOOGLE_CLIENT_SECRET", GOOGLE_CLIENT_SECRET),
        ("GOOGLE_REFRESH_TOKEN", GOOGLE_REFRESH),
        ("CLOUDFLARE_API_TOKEN", CLOUDFLARE_TOKEN),
        ("CLOUDFLARE_ACCOUNT_ID", CLOUDFLARE_ACCOUNT),
        ("R2_ACCESS_KEY_ID", R2_KEY_ID),
        ("R2_SECRET_ACCESS_KEY", R2_SECRET),
        ("R2_BUCKET", "academy-files"),
        ("AWS_ACCESS_KEY_ID", AWS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET),
        ("AWS_ACCOUNT_ID", AWS_ACCOUNT),
        ("SUPABASE_URL", "https://emulatedacademyrefqz.supabase.co"),
        ("SUPABASE_ANON_KEY", &anon),
        ("SUPABASE_SERVICE_KEY", &service),
        ("PUSHER_APP_ID", PUSHER_APP_ID),
        ("PUSHER_KEY", PUSHER_KEY),
        ("PUSHER_SECRET", PUSHER_SECRET),
        ("PUSHER_CLUSTER", "eu"),
        ("GITHUB_TOKEN", GITHUB_TOKEN),
        ("SLACK_BOT_TOKEN", SLACK_TOKEN),
        ("SLACK_TEAM_ID", "T0ACADEMY1"),
        ("TWILIO_ACCOUNT_SID", TWILIO_SID),
        ("TWILIO_AUTH_TOKEN", TWILIO_TOKEN),
        ("VAULT_ADDR", &vault),
        ("VAULT_TOKEN", VAULT_TOKEN),
        ("RECAPTCHA_SECRET_KEY", RECAPTCHA_SECRET),
        ("MAPBOX_PUBLIC_TOKEN", MAPBOX_TOKEN),
        ("IKHOKHA_APP_SECRET", "Zq8vN3xLw2pR7tY5Kd4Hs6Jm1Bc9Fg0A"),
        ("JWT_SECRET", "Xq7vN3xLw2pR7tY5Kd4Hs6Jm1Bc9Fg0AzE8rT2"),
    ];
    base.iter()
        .map(|(k, v)| {
            let v = over.iter().find(|(o, _)| o == k).map_or(*v, |(_, v)| *v);
            format!("{k}={v}\n")
        })
        .collect()
}

/// What `broken` changes: one failure of each kind.
const BROKEN: &[(&str, &str)] = &[
    ("STRIPE_SECRET_KEY", STRIPE_REVOKED),
    ("OPENAI_API_KEY", OPENAI_BAD),
    ("ASSISTANT_OPENAI_KEY", OPENAI_BAD),
    ("SENDGRID_API_KEY", SENDGRID_NO_SEND),
    ("MAIL_DOMAIN", "other.test"),
    ("GOOGLE_REFRESH_TOKEN", GOOGLE_REFRESH_REVOKED),
    ("CLOUDFLARE_API_TOKEN", CLOUDFLARE_DISABLED),
    ("R2_BUCKET", "academy-backups"),
    ("AWS_ACCOUNT_ID", "999999999999"),
    ("TWILIO_AUTH_TOKEN", TWILIO_TEST_TOKEN),
];

fn project() -> tempfile::TempDir {
    let e = emulators();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "greenlight.toml", MANIFEST);
    write(dir.path(), ".env.production", &env_file(e.vault_port, &[]));
    write(dir.path(), ".env.broken", &env_file(e.vault_port, BROKEN));
    dir
}

fn verify_json(dir: &Path, env: &str, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let e = emulators();
    let endpoints = e.endpoints.display().to_string();
    let mut args = vec![
        "verify",
        "--env",
        env,
        "--format",
        "json",
        "--provider-endpoints",
        &endpoints,
    ];
    args.extend_from_slice(extra);
    let out = run(dir, &args);
    crate::golive::assert_valid_report(&format!("verify {env}"), &out.stdout);
    let json = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|err| panic!("{err}: {}\n{}", out.stdout, out.stderr));
    (out.code, json, out.stderr)
}

fn verification<'a>(report: &'a serde_json::Value, service: &str) -> &'a serde_json::Value {
    report["verifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["service"] == service)
        .unwrap_or_else(|| panic!("no verification of {service}: {report:#}"))
}

fn rules_of(report: &serde_json::Value, service: &str) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["service"] == service)
        .map(|f| {
            format!(
                "{}:{}",
                f["rule"].as_str().unwrap(),
                f["severity"].as_str().unwrap()
            )
        })
        .collect()
}

// One test runs the environments in order: the emulators' request log is shared.
#[test]
fn verify_asks_each_provider_and_reports_what_is_wrong() {
    let _guard = crate::providers::lock();
    let e = emulators();
    let dir = project();

    // ── production: every credential works and is the right one ─────────────────────────────
    e.clear();
    let (code, report, stderr) = verify_json(dir.path(), "production", &[]);
    assert!(
        stderr.contains("WARNING: provider endpoints overridden"),
        "{stderr}"
    );
    assert_eq!(code, 0, "{report:#}");
    for service in [
        "stripe",
        "openai",
        "assistant",
        "claude",
        "sendgrid",
        "mail",
        "google",
        "cloudflare",
        "storage",
        "aws",
        "supabase",
        "realtime",
        "slack",
        "sms",
        "vault",
        "captcha",
    ] {
        let v = verification(&report, service);
        assert_eq!(v["status"], "pass", "{service}: {v:#}");
        for c in v["credentials"].as_array().unwrap() {
            assert_ne!(c["status"], "invalid", "{service}: {v:#}");
        }
    }
    let stripe = verification(&report, "stripe");
    assert_eq!(stripe["facts"]["account"], "acct_1Nv0FGQ9RKHgCVdK");
    assert!(stripe["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["check"] == "stripe.webhook" && c["status"] == "pass"));
    assert_eq!(
        verification(&report, "aws")["facts"]["account"],
        AWS_ACCOUNT
    );
    // GitHub: the token works, and holds admin:org it does not need (a warning).
    assert_eq!(
        rules_of(&report, "github"),
        ["credential-scope-excess:warning"]
    );
    // iKhokha has no read-only endpoint: unknown, never a pass.
    assert_eq!(verification(&report, "ikhokha")["status"], "unknown");
    assert_eq!(
        rules_of(&report, "ikhokha"),
        ["credential-unverifiable:warning"]
    );
    // Notes say what a key cannot see.
    assert!(verification(&report, "openai")["notes"][0]
        .as_str()
        .unwrap()
        .contains("quota"));

    let requests = e.requests();
    // One request per distinct credential and call: the OpenAI key of two services is asked once.
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.emulator == "api.openai.com")
            .count(),
        1
    );
    assert_eq!(verification(&report, "assistant")["status"], "pass");
    assert_only_own_provider(&requests, &env_file(e.vault_port, &[]));

    // ── broken: one failure of each kind ──────────────────────────────────────────────────────
    e.clear();
    let (code, report, _) = verify_json(dir.path(), "broken", &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(rules_of(&report, "stripe"), ["credential-invalid:critical"]);
    assert_eq!(
        verification(&report, "stripe")["credentials"][0]["status"],
        "invalid"
    );
    assert_eq!(rules_of(&report, "openai"), ["credential-invalid:critical"]);
    assert_eq!(
        rules_of(&report, "sendgrid"),
        ["credential-scope-missing:critical"]
    );
    assert_eq!(
        rules_of(&report, "mail"),
        ["provider-setup-incomplete:critical"]
    );
    assert_eq!(rules_of(&report, "google"), ["credential-invalid:critical"]);
    assert_eq!(
        rules_of(&report, "cloudflare"),
        ["credential-invalid:critical"]
    );
    assert_eq!(
        rules_of(&report, "storage"),
        ["provider-setup-incomplete:critical"]
    );
    assert_eq!(
        rules_of(&report, "aws"),
        ["credential-wrong-account:critical"]
    );
    assert_eq!(
        rules_of(&report, "sms"),
        ["test-credential-in-production:critical"]
    );
    let msg = |service: &str| -> String {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["service"] == service)
            .map(|f| f["message"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        msg("aws").contains("999999999999") && msg("aws").contains(AWS_ACCOUNT),
        "{}",
        msg("aws")
    );
    assert!(msg("google").contains("invalid_grant"), "{}", msg("google"));
    assert!(
        msg("cloudflare").contains("disabled"),
        "{}",
        msg("cloudflare")
    );
    assert!(
        msg("storage").contains("academy-backups"),
        "{}",
        msg("storage")
    );
    // Stripe's 401 echoes the key; greenlight prints the provider's reason, masked.
    assert!(
        msg("stripe").contains("Invalid API Key provided"),
        "{}",
        msg("stripe")
    );
    assert_only_own_provider(&e.requests(), &env_file(e.vault_port, BROKEN));

    // The checklist item that names `verify:stripe`: failed with verification, unknown without.
    let endpoints = e.endpoints.display().to_string();
    // The status of the checklist item `stripe-ready` of `golive --env ENV --no-probe EXTRA…`.
    let stripe_ready = |env: &str, extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["golive", "--env", env, "--no-probe", "--format", "json"];
        args.extend_from_slice(extra);
        let out = run(dir.path(), &args);
        let golive: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        golive["checklist"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == "stripe-ready")
            .unwrap()
            .clone()
    };
    let item = stripe_ready("broken", &["--provider-endpoints", &endpoints]);
    assert_eq!(item["status"], "failed", "{item:#}");
    let item = stripe_ready("production", &["--provider-endpoints", &endpoints]);
    assert_eq!(item["status"], "passed", "{item:#}");
    e.clear();
    let item = stripe_ready("production", &["--no-verify"]);
    assert_eq!(item["status"], "unknown", "{item:#}");
    assert!(e.requests().is_empty(), "--no-verify made requests");

    // check --verify adds the verification to check's report.
    let out = run(
        dir.path(),
        &[
            "check",
            "--env",
            "broken",
            "--verify",
            "--format",
            "json",
            "--provider-endpoints",
            &endpoints,
        ],
    );
    crate::golive::assert_valid_report("check --verify", &out.stdout);
    let checked: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(checked["verifications"].is_array());
    assert!(checked["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "webhook-not-registered" || f["rule"] == "credential-invalid"));
}

/// Every planted secret appears only in requests to its own provider's emulator, in the header
/// or field that provider documents.
fn assert_only_own_provider(requests: &[Recorded], env: &str) {
    // (variable, the emulator it belongs to, where it must travel)
    let owners: &[(&str, &str, &str)] = &[
        ("STRIPE_SECRET_KEY", "api.stripe.com", "authorization"),
        ("OPENAI_API_KEY", "api.openai.com", "authorization"),
        ("ANTHROPIC_API_KEY", "api.anthropic.com", "x-api-key"),
        ("SENDGRID_API_KEY", "api.sendgrid.com", "authorization"),
        ("MAILCHANNELS_API_KEY", "api.mailchannels.net", "x-api-key"),
        ("GOOGLE_CLIENT_SECRET", "oauth2.googleapis.com", "body"),
        ("GOOGLE_REFRESH_TOKEN", "oauth2.googleapis.com", "body"),
        (
            "CLOUDFLARE_API_TOKEN",
            "api.cloudflare.com",
            "authorization",
        ),
        (
            "R2_SECRET_ACCESS_KEY",
            "*.r2.cloudflarestorage.com",
            "signature",
        ),
        ("AWS_SECRET_ACCESS_KEY", "sts.amazonaws.com", "signature"),
        ("SUPABASE_SERVICE_KEY", "*.supabase.co", "apikey"),
        ("SUPABASE_ANON_KEY", "*.supabase.co", "apikey"),
        ("PUSHER_SECRET", "*.pusher.com", "signature"),
        ("GITHUB_TOKEN", "api.github.com", "authorization"),
        ("SLACK_BOT_TOKEN", "slack.com", "authorization"),
        ("TWILIO_AUTH_TOKEN", "api.twilio.com", "authorization"),
        ("VAULT_TOKEN", "vault", "x-vault-token"),
        ("RECAPTCHA_SECRET_KEY", "www.google.com", "body"),
        ("IKHOKHA_APP_SECRET", "nowhere", "nowhere"),
        ("JWT_SECRET", "nowhere", "nowhere"),
    ];
    let value = |name: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap()
            .to_owned()
    };
    for (name, owner, place) in owners {
        let secret = value(name);
        let carrying: Vec<&Recorded> = requests.iter().filter(|r| r.carries(&secret)).collect();
        for r in &carrying {
            assert_eq!(
                &r.emulator, owner,
                "{name} reached {} ({} {})",
                r.emulator, r.method, r.path
            );
            let in_place = match *place {
                "body" => r.body.contains(
                    &url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>(),
                ),
                "authorization" => r
                    .header("authorization")
                    .is_some_and(|h| h.contains(&secret) || h.starts_with("Basic ")),
                h => r.header(h) == Some(secret.as_str()),
            };
            assert!(in_place, "{name} was not sent in {place}: {r:?}");
            assert!(
                !r.path.contains(&secret) && !r.query.contains(&secret),
                "{name} in a URL"
            );
        }
        // Signed requests never carry the secret itself.
        if *place == "signature" || *owner == "nowhere" {
            assert!(carrying.is_empty(), "{name} was sent: {carrying:?}");
        }
    }
}

#[test]
fn verify_output_never_contains_a_credential_in_any_format() {
    let _guard = crate::providers::lock();
    let e = emulators();
    let dir = project();
    let endpoints = e.endpoints.display().to_string();
    let env = env_file(e.vault_port, BROKEN) + &env_file(e.vault_port, &[]);
    let secrets: Vec<String> = env
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| k.contains("KEY") || k.contains("TOKEN") || k.contains("SECRET"))
        .map(|(_, v)| v.to_owned())
        .filter(|v| v.len() >= 16)
        .collect();
    for env_name in ["production", "broken"] {
        for format in [
            "human", "json", "sarif", "junit", "markdown", "html", "github",
        ] {
            let out = run(
                dir.path(),
                &[
                    "verify",
                    "--env",
                    env_name,
                    "--format",
                    format,
                    "--provider-endpoints",
                    &endpoints,
                ],
            );
            for s in &secrets {
                assert!(
                    !out.stdout.contains(s.as_str()) && !out.stderr.contains(s.as_str()),
                    "{env_name} {format}: a credential in the output"
                );
            }
            assert!(
                !out.stdout.contains("ya29.a0Emulated"),
                "a provider's access token in the output"
            );
        }
    }
}

#[test]
fn rate_limits_unreachable_providers_and_refused_overrides_are_unknown_or_errors() {
    let _guard = crate::providers::lock();
    let e = emulators();
    let dir = project();
    // A 429 with Retry-After: waited for once, then unknown — never a pass, never another host.
    let env = env_file(e.vault_port, &[("STRIPE_SECRET_KEY", STRIPE_RATE_LIMITED)]);
    write(dir.path(), ".env.production", &env);
    e.clear();
    let started = std::time::Instant::now();
    let (_, report, _) = verify_json(dir.path(), "production", &["--only", "stripe"]);
    let stripe = verification(&report, "stripe");
    assert_eq!(stripe["status"], "unknown", "{stripe:#}");
    assert_eq!(
        rules_of(&report, "stripe"),
        ["credential-unverifiable:warning"]
    );
    let tries = e
        .requests()
        .iter()
        .filter(|r| r.emulator == "api.stripe.com")
        .count();
    assert_eq!(tries, 2, "one request and one retry after Retry-After");
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));

    // A provider that accepts the connection and never answers: unknown within the timeout.
    write(dir.path(), ".env.production", &env_file(e.vault_port, &[]));
    let blackholed = e
        .endpoints_with_blackhole("api.openai.com")
        .display()
        .to_string();
    let started = std::time::Instant::now();
    let out = run(
        dir.path(),
        &[
            "verify",
            "--only",
            "openai",
            "--format",
            "json",
            "--verify-timeout",
            "1s",
            "--provider-endpoints",
            &blackholed,
        ],
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let openai = verification(&report, "openai");
    assert_eq!(openai["status"], "unknown", "{openai:#}");
    assert!(
        openai["checks"][0]["message"]
            .as_str()
            .unwrap()
            .contains("did not answer"),
        "{openai:#}"
    );

    // An override to anything but loopback is refused before anything is sent.
    let bad = dir.path().join("bad-endpoints.toml");
    std::fs::write(&bad, "[hosts]\n\"api.stripe.com\" = \"192.0.2.10:443\"\n").unwrap();
    let out = run(
        dir.path(),
        &["verify", "--provider-endpoints", bad.to_str().unwrap()],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("not a loopback address"),
        "{}",
        out.stderr
    );

    // An unknown provider or service is a usage error with a did-you-mean.
    let out = run(dir.path(), &["verify", "--only", "strpe"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("did you mean `stripe`"),
        "{}",
        out.stderr
    );
}

#[test]
fn providers_lists_every_pinned_host() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["verify", "--providers"]);
    assert_eq!(out.code, 0);
    for host in [
        "https://api.stripe.com/v1/account",
        "https://sts.amazonaws.com/",
        "https://api.cloudflare.com/client/v4/user/tokens/verify",
    ] {
        assert!(out.stdout.contains(host), "{}", out.stdout);
    }
    assert!(out.stdout.contains("ikhokha") && out.stdout.contains("not verifiable"));
}

/// The five examples declare what their seeds verify by hand; against the emulators (which know
/// none of the examples' made-up keys) every credential is asked of its own provider only, the
/// verify-backed checklist items follow the verification, and nothing leaks.
#[test]
fn the_examples_verify_against_the_emulators_only() {
    let _guard = crate::providers::lock();
    let e = emulators();
    let endpoints = e.endpoints.display().to_string();
    for example in [
        "ross-tax-academy",
        "toolboxai",
        "course-marketplace",
        "scholarlink-billing",
        "ikhokha-payments",
    ] {
        let dir = crate::support::example_copy(example);
        e.clear();
        let out = run(
            dir.path(),
            &[
                "golive",
                "--env",
                "production",
                "--no-probe",
                "--format",
                "json",
                "--provider-endpoints",
                &endpoints,
            ],
        );
        crate::golive::assert_valid_report(example, &out.stdout);
        let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let verifications = report["verifications"].as_array().unwrap();
        assert!(!verifications.is_empty(), "{example}");
        for v in verifications {
            let refused = v["checks"].as_array().unwrap().iter().any(|c| {
                c["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("not in the endpoints file")
            });
            assert!(
                !refused,
                "{example}: a provider host the emulators do not cover: {v:#}"
            );
        }
        // Every checklist item backed by verify ran with it: none says verification was not run.
        for item in report["checklist"].as_array().unwrap() {
            let detail = item["detail"].as_str().unwrap();
            assert!(
                !(detail.contains("verify `") && detail.contains("not run")),
                "{example}: {item:#}"
            );
        }
        let sent = e.requests();
        if example == "ikhokha-payments" {
            // iKhokha has no read-only endpoint: unknown, nothing sent, never a pass.
            assert!(
                verifications.iter().all(|v| v["status"] == "unknown"),
                "{verifications:#?}"
            );
            assert!(sent.is_empty(), "{sent:?}");
        } else {
            // The examples' keys are not the emulators': each is rejected by its own provider.
            assert!(
                report["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["rule"] == "credential-invalid"),
                "{example}"
            );
            assert_eq!(report["verdict"], "no-go", "{example}");
            assert!(!sent.is_empty(), "{example}");
        }
        let env = std::fs::read_to_string(dir.path().join(".env.production")).unwrap_or_default();
        for line in env.lines() {
            let Some((_, value)) = line.split_once('=') else {
                continue;
            };
            let value = value.trim_matches('"');
            if value.len() >= 20
                && (line.contains("KEY") || line.contains("SECRET") || line.contains("TOKEN"))
            {
                assert!(
                    !out.stdout.contains(value) && !out.stderr.contains(value),
                    "{example}: a credential in the output"
                );
            }
        }
    }
}

/// `scan --verify` asks each found secret's provider once: live, invalid or unknown on each
/// finding; `--only-verified` keeps the live ones; a baselined live secret still fails.
#[test]
fn scan_verify_marks_findings_and_a_live_baselined_secret_still_fails() {
    let _guard = crate::providers::lock();
    let e = emulators();
    let endpoints = e.endpoints.display().to_string();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "billing.js",
        &format!(
            "const stripe = require('stripe')('{STRIPE_LIVE}');\nconst again = '{STRIPE_LIVE}';\n"
        ),
    );
    write(
        dir.path(),
        "old.env",
        &format!("OPENAI_API_KEY={OPENAI_BAD}\nGITHUB_TOKEN={GITHUB_TOKEN}\n"),
    );
    write(dir.path(), "ops.yaml", &format!("DD_API_KEY={DATADOG_KEY}\nDATADOG_OLD_API_KEY={DATADOG_REVOKED}\nMAILGUN_API_KEY={MAILGUN_KEY}\nPOSTMARK_SERVER_TOKEN={POSTMARK_TOKEN}\n"));
    write(
        dir.path(),
        "stripe-webhook.txt",
        "STRIPE_WEBHOOK_SECRET=whsec_Em9uLat3dWebh00kS3cr3tQ7vX2n\n",
    );
    e.clear();
    let out = run(
        dir.path(),
        &[
            "scan",
            ".",
            "--verify",
            "--format",
            "json",
            "--provider-endpoints",
            &endpoints,
        ],
    );
    crate::golive::assert_valid_report("scan --verify", &out.stdout);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let marks: std::collections::BTreeMap<String, Vec<String>> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .fold(Default::default(), |mut m, f| {
            m.entry(f["rule"].as_str().unwrap().to_owned())
                .or_default()
                .push(f["verification"].as_str().unwrap_or("-").to_owned());
            m
        });
    assert_eq!(marks["stripe-secret-key"], ["live", "live"], "{marks:?}");
    assert_eq!(marks["openai-api-key"], ["invalid"], "{marks:?}");
    assert_eq!(marks["github-token"], ["live"], "{marks:?}");
    assert_eq!(marks["mailgun-api-key"], ["live"], "{marks:?}");
    assert_eq!(marks["postmark-token"], ["live"], "{marks:?}");
    let mut dd = marks["datadog-api-key"].clone();
    dd.sort();
    assert_eq!(dd, ["invalid", "live"], "{marks:?}");
    // A webhook signing secret has no read-only check: unknown, never live.
    assert_eq!(marks["stripe-webhook-secret"], ["unknown"], "{marks:?}");
    // The same key found twice is asked once.
    let sent = e.requests();
    assert_eq!(
        sent.iter()
            .filter(|r| r.emulator == "api.stripe.com")
            .count(),
        1,
        "{sent:?}"
    );
    for secret in [
        STRIPE_LIVE,
        OPENAI_BAD,
        GITHUB_TOKEN,
        DATADOG_KEY,
        MAILGUN_KEY,
        POSTMARK_TOKEN,
    ] {
        assert!(!out.stdout.contains(secret) && !out.stderr.contains(secret));
    }
    assert_only_own_provider_found(&sent);

    // --only-verified: the live ones only.
    let out = run(
        dir.path(),
        &[
            "scan",
            ".",
            "--only-verified",
            "--format",
            "json",
            "--provider-endpoints",
            &endpoints,
        ],
    );
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["verification"] == "live"));
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        6,
        "{report:#}"
    );

    // A baseline accepts the text, not a live key.
    let baseline = dir.path().join("baseline.json");
    let out = run(
        dir.path(),
        &["scan", ".", "--write-baseline", baseline.to_str().unwrap()],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = run(
        dir.path(),
        &[
            "scan",
            ".",
            "--baseline",
            baseline.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(
        out.code, 0,
        "without --verify the baseline accepts everything: {}",
        out.stdout
    );
    let out = run(
        dir.path(),
        &[
            "scan",
            ".",
            "--baseline",
            baseline.to_str().unwrap(),
            "--verify",
            "--format",
            "json",
            "--provider-endpoints",
            &endpoints,
        ],
    );
    assert_eq!(out.code, 1);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let kept: Vec<&serde_json::Value> = report["findings"].as_array().unwrap().iter().collect();
    assert!(
        kept.iter().all(|f| f["verification"] == "live"),
        "{kept:#?}"
    );
    assert!(kept
        .iter()
        .all(|f| f["message"].as_str().unwrap().contains("in the baseline")));
}

fn assert_only_own_provider_found(sent: &[Recorded]) {
    for (secret, owner) in [
        (STRIPE_LIVE, "api.stripe.com"),
        (OPENAI_BAD, "api.openai.com"),
        (GITHUB_TOKEN, "api.github.com"),
        (DATADOG_KEY, "api.datadoghq.com"),
        (DATADOG_REVOKED, "api.datadoghq.com"),
        (MAILGUN_KEY, "api.mailgun.net"),
        (POSTMARK_TOKEN, "api.postmarkapp.com"),
    ] {
        let to: Vec<&str> = sent
            .iter()
            .filter(|r| r.carries(secret))
            .map(|r| r.emulator.as_str())
            .collect();
        assert!(
            !to.is_empty() && to.iter().all(|e| *e == owner),
            "{secret:.8}… went to {to:?}"
        );
    }
}
