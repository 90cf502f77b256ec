//! Per-provider cases of `verify` against the emulators, each in one run over every provider:
//! every credential replaced by a wrong one of the same shape (invalid), valid credentials with
//! expectations they do not meet (wrong account, scopes, webhook, sender, roles), every provider
//! rate-limiting, and every provider never answering.

use std::path::Path;

use crate::providers::{creds::*, emulators, supabase_key, supabase_key_for, write};
use crate::support::run;
use crate::verify::{env_file, MANIFEST};

/// The services whose provider has a read-only endpoint (all but iKhokha's).
const ASKED: &[&str] = &[
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
    "github",
    "slack",
    "sms",
    "vault",
    "captcha",
    "maps",
];

/// A value altered in its last four alphanumeric characters, keeping its shape.
fn wrong(value: &str) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    let mut changed = 0;
    for c in chars.iter_mut().rev() {
        *c = match *c {
            '0'..='8' | 'a'..='e' | 'A'..='E' => (*c as u8 + 1) as char,
            '9' => '0',
            'f' => 'a',
            'F' => 'A',
            _ => continue,
        };
        changed += 1;
        if changed == 4 {
            break;
        }
    }
    chars.into_iter().collect()
}

fn project_with(env: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "greenlight.toml", MANIFEST);
    write(dir.path(), ".env.production", env);
    write(dir.path(), ".env.broken", env);
    dir
}

fn verify(dir: &Path, endpoints: &Path, extra: &[&str]) -> serde_json::Value {
    let endpoints = endpoints.display().to_string();
    let mut args = vec![
        "verify",
        "--format",
        "json",
        "--provider-endpoints",
        &endpoints,
    ];
    args.extend_from_slice(extra);
    let out = run(dir, &args);
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stderr))
}

fn of<'a>(report: &'a serde_json::Value, service: &str) -> &'a serde_json::Value {
    report["verifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["service"] == service)
        .unwrap_or_else(|| panic!("no verification of {service}"))
}

fn rules(report: &serde_json::Value, service: &str) -> Vec<String> {
    let mut r: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["service"] == service)
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect();
    r.sort();
    r.dedup();
    r
}

#[test]
fn every_provider_rejects_a_wrong_credential_of_the_right_shape() {
    let _guard = crate::providers::lock();
    let e = emulators();
    // Identifiers that are not secrets stay (the account SID, the client id, the app key); every
    // secret is replaced.
    let keep = [
        "GOOGLE_CLIENT_ID",
        "PUSHER_KEY",
        "TWILIO_ACCOUNT_SID",
        "AWS_ACCESS_KEY_ID",
        "R2_ACCESS_KEY_ID",
    ];
    let env: String = env_file(e.vault_port, &[])
        .lines()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            let secret =
                ["KEY", "TOKEN", "SECRET"].iter().any(|s| k.contains(s)) && !keep.contains(&k);
            if k == "SUPABASE_ANON_KEY" {
                format!("{k}={}\n", supabase_key_for("otherprojectrefaaaaa", "anon"))
            } else if k == "SUPABASE_SERVICE_KEY" {
                format!(
                    "{k}={}\n",
                    supabase_key_for("otherprojectrefaaaaa", "service_role")
                )
            } else if secret {
                format!("{k}={}\n", wrong(v))
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let dir = project_with(&env);
    let report = verify(dir.path(), &e.endpoints, &[]);
    for service in ASKED {
        let v = of(&report, service);
        assert!(
            v["credentials"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["status"] == "invalid"),
            "{service}: {v:#}"
        );
        assert_eq!(v["status"], "fail", "{service}: {v:#}");
        assert!(
            rules(&report, service).contains(&"credential-invalid".to_owned()),
            "{service}"
        );
    }
}

#[test]
fn valid_credentials_that_are_not_the_right_ones() {
    let _guard = crate::providers::lock();
    let e = emulators();
    let env = env_file(
        e.vault_port,
        &[
            ("STRIPE_ACCOUNT_ID", "acct_1OtherAccount0000"),
            ("BACKEND_URL", "https://api.other.test"),
            ("SLACK_TEAM_ID", "T0OTHERTEAM"),
            ("AWS_ACCOUNT_ID", "999999999999"),
            ("SENDGRID_API_KEY", SENDGRID_FULL),
            ("FROM_EMAIL", "sales@unverified.test"),
            ("MAIL_DOMAIN", "other.test"),
            ("R2_BUCKET", "academy-backups"),
            ("TWILIO_AUTH_TOKEN", TWILIO_TEST_TOKEN),
        ],
    );
    // The anon variable holds the service-role key: a browser would bypass row-level security.
    let env = env.replace(
        &format!("SUPABASE_ANON_KEY={}", supabase_key("anon")),
        &format!("SUPABASE_ANON_KEY={}", supabase_key("service_role")),
    );
    let dir = project_with(&env);
    let report = verify(dir.path(), &e.endpoints, &[]);
    assert_eq!(
        rules(&report, "stripe"),
        ["credential-wrong-account", "webhook-not-registered"]
    );
    assert_eq!(rules(&report, "slack"), ["credential-wrong-account"]);
    assert_eq!(rules(&report, "aws"), ["credential-wrong-account"]);
    assert_eq!(
        rules(&report, "sendgrid"),
        ["credential-scope-excess", "provider-setup-incomplete"]
    );
    assert_eq!(rules(&report, "mail"), ["provider-setup-incomplete"]);
    assert_eq!(rules(&report, "storage"), ["provider-setup-incomplete"]);
    assert_eq!(rules(&report, "sms"), ["test-credential-in-production"]);
    assert_eq!(rules(&report, "supabase"), ["credential-scope-excess"]);
    assert_eq!(rules(&report, "github"), ["credential-scope-excess"]);
    let webhook = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "webhook-not-registered")
        .unwrap();
    assert!(webhook["message"]
        .as_str()
        .unwrap()
        .contains("https://api.other.test/webhooks/stripe"));
    // The credentials themselves work: each is `valid`.
    for service in [
        "stripe", "slack", "aws", "sendgrid", "mail", "storage", "supabase", "github",
    ] {
        let v = of(&report, service);
        assert!(
            v["credentials"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["status"] != "invalid"),
            "{service}: {v:#}"
        );
    }
}

#[test]
fn every_provider_rate_limiting_or_never_answering_is_unknown() {
    let _guard = crate::providers::lock();
    let e = emulators();
    for (port, name, timeout, says) in [
        (e.busy_port, "busy", "5s", "rate limited"),
        (e.blackhole_port, "blackhole", "1s", "did not answer"),
    ] {
        let endpoints = e.endpoints_all_to(port, name);
        let dir = project_with(&env_file(port, &[]));
        e.clear();
        let started = std::time::Instant::now();
        let report = verify(dir.path(), &endpoints, &["--verify-timeout", timeout]);
        // All providers are asked at once: the run takes about one provider's time.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{name}: {:?}",
            started.elapsed()
        );
        for service in ASKED {
            let v = of(&report, service);
            assert_eq!(v["status"], "unknown", "{name} {service}: {v:#}");
            assert_eq!(
                rules(&report, service),
                ["credential-unverifiable"],
                "{name} {service}"
            );
            let said = v["checks"][0]["message"].as_str().unwrap();
            assert!(said.contains(says), "{name} {service}: {said}");
        }
        assert_eq!(
            report["verdict"], "go",
            "could not tell is a warning, not a block"
        );
        if name == "busy" {
            // Retry-After honoured once per credential, then no more requests for it.
            let sent = e.requests();
            let stripe = sent
                .iter()
                .filter(|r| {
                    r.headers
                        .iter()
                        .any(|(k, v)| k == "host" && v.starts_with("api.stripe.com"))
                })
                .count();
            assert_eq!(stripe, 2, "{sent:?}");
        }
    }
}

#[test]
fn a_redirect_is_not_followed_and_the_credential_goes_nowhere_else() {
    let _guard = crate::providers::lock();
    let e = emulators();
    let dir = project_with(&env_file(
        e.vault_port,
        &[("STRIPE_SECRET_KEY", STRIPE_REDIRECTED)],
    ));
    e.clear();
    let report = verify(dir.path(), &e.endpoints, &["--only", "stripe"]);
    let v = of(&report, "stripe");
    assert_eq!(v["status"], "unknown", "{v:#}");
    assert!(
        v["checks"][0]["message"].as_str().unwrap().contains("302"),
        "{v:#}"
    );
    let sent = e.requests();
    assert!(
        sent.iter().all(|r| r.emulator == "api.stripe.com"),
        "{sent:?}"
    );
    assert_eq!(sent.len(), 1, "{sent:?}");
}
