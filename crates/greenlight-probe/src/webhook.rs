//! The `webhook` probe: proves a deployed endpoint *rejects* deliveries it must not trust.
//! It POSTs a harmless event (`greenlight.probe`) in the endpoint's scheme:
//!
//! | case | needs the secret | expected |
//! |---|---|---|
//! | no signature | no | 4xx |
//! | malformed signature header | no | 4xx |
//! | signed with a random key | no | 4xx |
//! | signature over another body | yes | 4xx |
//! | timestamp 600 s old (Stripe tolerance is 300 s) | yes, timestamped schemes | 4xx |
//! | timestamp 600 s ahead | yes, timestamped schemes | 4xx |
//! | fresh and correctly signed (opt-in positive control) | yes | 2xx |
//!
//! Schemes: Stripe (`Stripe-Signature: t=…,v1=hex(HMAC-SHA256(secret, "t.body"))`), GitHub
//! (`X-Hub-Signature-256: sha256=hex(HMAC-SHA256(secret, body))`, no timestamp) and Standard
//! Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,base64(HMAC-SHA256(
//! base64-decoded whsec_ secret, "id.t.body"))`). The secret never leaves this process: only
//! signatures made with it are sent, to the endpoint it belongs to. Redirects are not followed
//! (senders treat a 3xx as a failure).

use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::rules::ProbeRule;
use super::{net, CheckResult, Context, Planned};
use greenlight_core::finding::Severity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    Stripe,
    Github,
    Standard,
}

impl Scheme {
    pub fn of(s: &str) -> Option<Scheme> {
        match s {
            "stripe" => Some(Scheme::Stripe),
            "github" => Some(Scheme::Github),
            "standard" => Some(Scheme::Standard),
            _ => None,
        }
    }

    fn timestamped(self) -> bool {
        self != Scheme::Github
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Case {
    Unsigned,
    Malformed,
    WrongKey,
    TamperedBody,
    Stale,
    Future,
    PositiveControl,
}

impl Case {
    fn describe(self) -> &'static str {
        match self {
            Case::Unsigned => "a request without a signature",
            Case::Malformed => "a request with a malformed signature header",
            Case::WrongKey => "a request signed with a wrong key",
            Case::TamperedBody => "a request whose signature covers a different body",
            Case::Stale => "a correctly signed request with a timestamp 600 s old",
            Case::Future => "a correctly signed request with a timestamp 600 s in the future",
            Case::PositiveControl => "a fresh, correctly signed request",
        }
    }

    fn check(self) -> &'static str {
        match self {
            Case::Unsigned => "webhook.rejects_unsigned",
            Case::Malformed => "webhook.rejects_malformed",
            Case::WrongKey => "webhook.rejects_bad_signature",
            Case::TamperedBody => "webhook.rejects_tampered_body",
            Case::Stale => "webhook.rejects_stale",
            Case::Future => "webhook.rejects_future",
            Case::PositiveControl => "webhook.positive_control",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub target: String,
    pub https: bool,
    pub scheme: Scheme,
    /// Whether the manifest gave the signing secret (cases that need it run only then).
    pub has_secret: bool,
    /// Each case sent and the HTTP status it got, or why it got none.
    pub cases: Vec<(Case, Result<u16, String>)>,
}

/// The probe's event: an unknown type that no handler acts on.
fn body(id: &str) -> String {
    format!(
        r#"{{"id":"{id}","object":"event","type":"greenlight.probe","data":{{"object":{{"note":"greenlight probe: must be rejected unless correctly signed"}}}}}}"#
    )
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key a scheme signs with: Standard Webhooks secrets are `whsec_` + base64 of the key.
fn signing_key(scheme: Scheme, secret: &str) -> Vec<u8> {
    match scheme {
        Scheme::Standard => {
            let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap_or_else(|_| secret.as_bytes().to_vec())
        }
        _ => secret.as_bytes().to_vec(),
    }
}

/// The headers of one request: signed with `key` over `signed_body` at `timestamp`.
pub fn sign(scheme: Scheme, key: &[u8], id: &str, timestamp: i64, signed_body: &str) -> Headers {
    let t = timestamp.to_string();
    match scheme {
        Scheme::Stripe => {
            let sig = hmac_sha256(key, &[t.as_bytes(), b".", signed_body.as_bytes()]);
            vec![("stripe-signature", format!("t={t},v1={}", hex(&sig)))]
        }
        Scheme::Github => {
            let sig = hmac_sha256(key, &[signed_body.as_bytes()]);
            vec![
                ("x-hub-signature-256", format!("sha256={}", hex(&sig))),
                ("x-github-event", "ping".to_owned()),
                ("x-github-delivery", id.to_owned()),
            ]
        }
        Scheme::Standard => {
            let sig = hmac_sha256(
                key,
                &[
                    id.as_bytes(),
                    b".",
                    t.as_bytes(),
                    b".",
                    signed_body.as_bytes(),
                ],
            );
            vec![
                ("webhook-id", id.to_owned()),
                ("webhook-timestamp", t),
                (
                    "webhook-signature",
                    format!(
                        "v1,{}",
                        base64::engine::general_purpose::STANDARD.encode(sig)
                    ),
                ),
            ]
        }
    }
}

/// Headers of one request, by name.
pub type Headers = Vec<(&'static str, String)>;

/// The requests of every case that can run: (case, headers, body).
pub fn requests(
    scheme: Scheme,
    secret: Option<&str>,
    positive_control: bool,
    now: DateTime<Utc>,
) -> Vec<(Case, Headers, String)> {
    let now = now.timestamp();
    let mut random = [0u8; 32];
    getrandom::fill(&mut random).expect("the OS has randomness");
    let id = |case: &str| format!("msg_greenlight_probe_{case}_{now}");
    let mut out = Vec::new();
    let b = body(&id("unsigned"));
    let mut unsigned_headers = Vec::new();
    if scheme == Scheme::Standard {
        unsigned_headers.push(("webhook-id", id("unsigned")));
        unsigned_headers.push(("webhook-timestamp", now.to_string()));
    }
    if scheme == Scheme::Github {
        unsigned_headers.push(("x-github-event", "ping".to_owned()));
    }
    out.push((Case::Unsigned, unsigned_headers.clone(), b));

    let b = body(&id("malformed"));
    let mut malformed = unsigned_headers;
    malformed.push(match scheme {
        Scheme::Stripe => ("stripe-signature", "t=abc,v1=zz".to_owned()),
        Scheme::Github => ("x-hub-signature-256", "sha256=zz".to_owned()),
        Scheme::Standard => ("webhook-signature", "v1,".to_owned()),
    });
    out.push((Case::Malformed, malformed, b));

    let b = body(&id("wrongkey"));
    out.push((
        Case::WrongKey,
        sign(scheme, &random, &id("wrongkey"), now, &b),
        b,
    ));

    if let Some(secret) = secret {
        let key = signing_key(scheme, secret);
        let signed = body(&id("tampered"));
        let sent = signed.replace("must be rejected", "was tampered with");
        out.push((
            Case::TamperedBody,
            sign(scheme, &key, &id("tampered"), now, &signed),
            sent,
        ));
        if scheme.timestamped() {
            let b = body(&id("stale"));
            out.push((
                Case::Stale,
                sign(scheme, &key, &id("stale"), now - 600, &b),
                b,
            ));
            let b = body(&id("future"));
            out.push((
                Case::Future,
                sign(scheme, &key, &id("future"), now + 600, &b),
                b,
            ));
        }
        if positive_control {
            let b = body(&id("control"));
            out.push((
                Case::PositiveControl,
                sign(scheme, &key, &id("control"), now, &b),
                b,
            ));
        }
    }
    out
}

pub async fn collect(p: &Planned) -> Evidence {
    let scheme = p
        .spec
        .scheme
        .as_deref()
        .and_then(Scheme::of)
        .unwrap_or(Scheme::Stripe);
    let target = p.target();
    let secret = p.spec.secret.as_deref().filter(|s| !s.is_empty());
    let mut evidence = Evidence {
        target: target.clone(),
        https: p
            .spec
            .url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://")),
        scheme,
        has_secret: secret.is_some(),
        cases: Vec::new(),
    };
    let (client, url) = match (
        net::http_client(&p.tls, p.connect_timeout, p.timeout, false),
        p.url(),
    ) {
        (Ok(c), Ok(u)) => (c, u),
        (Err(e), _) | (_, Err(e)) => {
            evidence.cases.push((Case::Unsigned, Err(e)));
            return evidence;
        }
    };
    let requests = requests(
        scheme,
        secret,
        p.spec.positive_control == Some(true),
        Utc::now(),
    );
    // Sequential on purpose: a burst of concurrent forged deliveries looks like an attack to
    // rate limiters, and the cases are few.
    for (case, headers, body) in requests {
        let mut req = client
            .post(url.clone())
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers {
            req = req.header(name, value);
        }
        let result = req
            .send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(|e| net::request_error(e, &target, p.connect_timeout, p.timeout));
        let unreachable = result.is_err();
        evidence.cases.push((case, result));
        if unreachable {
            break;
        }
    }
    evidence
}

pub fn analyse(e: &Evidence, ctx: Context) -> Vec<CheckResult> {
    let mut out = Vec::new();
    let t = &e.target;
    if ctx.production && !e.https {
        out.push(CheckResult::fail_default(
            "webhook.https",
            ProbeRule::TlsNotEnforced,
            format!(
                "{t} is a plain-http webhook endpoint; events and signatures travel in the clear"
            ),
        ));
    }
    let mut redirected = false;
    for (case, result) in &e.cases {
        let status = match result {
            Ok(s) => *s,
            Err(err) => {
                out.push(CheckResult::request_failed("webhook.reachable", err));
                continue;
            }
        };
        let accepted = (200..300).contains(&status);
        if *case == Case::PositiveControl {
            if accepted {
                out.push(CheckResult::pass(
                    case.check(),
                    ProbeRule::WebhookRejectsSigned,
                    format!("{} was accepted (HTTP {status})", case.describe()),
                ));
            } else {
                out.push(CheckResult::fail_default(
                    case.check(),
                    ProbeRule::WebhookRejectsSigned,
                    format!(
                        "{t} refused {} with HTTP {status}: the endpoint does not verify with the environment's secret",
                        case.describe()
                    ),
                ));
            }
            continue;
        }
        redirected |= (300..400).contains(&status);
        if accepted {
            let severity = match case {
                Case::Stale if !ctx.production => Severity::Warning,
                // Stripe's own library accepts future timestamps: only a recommendation there.
                Case::Future if e.scheme == Scheme::Stripe => Severity::Recommendation,
                Case::Future => Severity::Warning,
                _ => Severity::Critical,
            };
            out.push(CheckResult::fail(
                case.check(),
                ProbeRule::WebhookAcceptsUnsigned,
                severity,
                format!("{t} accepted {} (HTTP {status})", case.describe()),
            ));
        } else {
            out.push(CheckResult::pass(
                case.check(),
                ProbeRule::WebhookAcceptsUnsigned,
                format!("{} was rejected (HTTP {status})", case.describe()),
            ));
            if status >= 500 {
                out.push(CheckResult::fail(
                    "webhook.rejects_with_4xx",
                    ProbeRule::WebhookAcceptsUnsigned,
                    Severity::Recommendation,
                    format!(
                        "{t} answered {} with HTTP {status}; a 400 says \"bad request\" without paging anyone",
                        case.describe()
                    ),
                ));
            }
        }
    }
    if redirected {
        out.push(CheckResult::fail(
            "webhook.no_redirect",
            ProbeRule::WebhookAcceptsUnsigned,
            Severity::Warning,
            format!(
                "{t} answers with a redirect; webhook senders count a 3xx as a failed delivery"
            ),
        ));
    }
    if !e.has_secret {
        out.push(CheckResult::unknown(
            "webhook.signed_cases",
            ProbeRule::WebhookAcceptsUnsigned,
            format!(
                "no `secret` on the probe: tampered-body{} cases not tested",
                if e.scheme.timestamped() {
                    ", stale and future timestamp"
                } else {
                    ""
                }
            ),
        ));
    }
    // Negative cases that errored after the first: one unreachable finding is enough.
    let mut seen_unreachable = false;
    out.retain(|c| {
        if c.check == "webhook.reachable" {
            let keep = !seen_unreachable;
            seen_unreachable = true;
            keep
        } else {
            true
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ctx;
    use crate::Status;

    #[test]
    fn stripe_signatures_match_the_documented_scheme() {
        // Stripe: v1 = hex(HMAC-SHA256(secret, "{t}.{payload}")); checked with an independent
        // computation of the same HMAC.
        let headers = sign(Scheme::Stripe, b"whsec_test", "x", 1_700_000_000, "{}");
        let expected = hex(&hmac_sha256(b"whsec_test", &[b"1700000000.{}"]));
        assert_eq!(headers[0].1, format!("t=1700000000,v1={expected}"));
    }

    #[test]
    fn standard_webhooks_sign_id_timestamp_and_body_with_the_decoded_key() {
        // The example of the Standard Webhooks specification.
        let key = signing_key(Scheme::Standard, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let headers = sign(
            Scheme::Standard,
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(
            headers[2].1,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn github_signs_the_body_only() {
        let headers = sign(
            Scheme::Github,
            b"It's a Secret to Everybody",
            "d",
            0,
            "Hello, World!",
        );
        // GitHub's documented example.
        assert_eq!(
            headers[0].1,
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }

    #[test]
    fn cases_depend_on_the_secret_and_the_scheme() {
        let cases = |scheme, secret: Option<&str>, control| -> Vec<Case> {
            requests(scheme, secret, control, Utc::now())
                .into_iter()
                .map(|(c, _, _)| c)
                .collect()
        };
        assert_eq!(
            cases(Scheme::Stripe, None, true),
            [Case::Unsigned, Case::Malformed, Case::WrongKey]
        );
        assert_eq!(
            cases(Scheme::Stripe, Some("whsec_x"), true),
            [
                Case::Unsigned,
                Case::Malformed,
                Case::WrongKey,
                Case::TamperedBody,
                Case::Stale,
                Case::Future,
                Case::PositiveControl
            ]
        );
        assert_eq!(
            cases(Scheme::Github, Some("s"), false),
            [
                Case::Unsigned,
                Case::Malformed,
                Case::WrongKey,
                Case::TamperedBody
            ]
        );
        // The secret never appears in what is sent.
        for (_, headers, body) in requests(Scheme::Stripe, Some("whsec_canary"), true, Utc::now()) {
            assert!(!body.contains("canary"));
            assert!(headers.iter().all(|(_, v)| !v.contains("canary")));
        }
    }

    fn evidence(statuses: &[(Case, u16)]) -> Evidence {
        Evidence {
            target: "https://api.example.com/webhooks/stripe".into(),
            https: true,
            scheme: Scheme::Stripe,
            has_secret: true,
            cases: statuses.iter().map(|(c, s)| (*c, Ok(*s))).collect(),
        }
    }

    #[test]
    fn a_verifying_endpoint_passes() {
        let e = evidence(&[
            (Case::Unsigned, 400),
            (Case::Malformed, 400),
            (Case::WrongKey, 400),
            (Case::TamperedBody, 400),
            (Case::Stale, 400),
            (Case::Future, 400),
            (Case::PositiveControl, 200),
        ]);
        assert!(analyse(&e, ctx(true))
            .iter()
            .all(|c| c.status == Status::Pass));
    }

    #[test]
    fn each_accepted_forgery_is_named() {
        let e = evidence(&[
            (Case::Unsigned, 200),
            (Case::Malformed, 200),
            (Case::WrongKey, 400),
            (Case::TamperedBody, 400),
            (Case::Stale, 200),
            (Case::Future, 200),
        ]);
        let checks = analyse(&e, ctx(true));
        let failed: Vec<_> = checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .map(|c| (c.check, c.severity.unwrap()))
            .collect();
        assert_eq!(
            failed,
            [
                ("webhook.rejects_unsigned", Severity::Critical),
                ("webhook.rejects_malformed", Severity::Critical),
                ("webhook.rejects_stale", Severity::Critical),
                ("webhook.rejects_future", Severity::Recommendation),
            ]
        );
        assert!(checks[0]
            .message
            .contains("accepted a request without a signature (HTTP 200)"));
    }

    #[test]
    fn positive_control_failure_and_5xx_and_missing_secret() {
        let mut e = evidence(&[(Case::Unsigned, 500), (Case::PositiveControl, 401)]);
        e.has_secret = false;
        let checks = analyse(&e, ctx(true));
        assert!(checks.iter().any(|c| c.check == "webhook.rejects_with_4xx"
            && c.severity == Some(Severity::Recommendation)));
        assert!(checks
            .iter()
            .any(|c| c.rule == ProbeRule::WebhookRejectsSigned && c.status == Status::Fail));
        assert!(checks
            .iter()
            .any(|c| c.check == "webhook.signed_cases" && c.status == Status::Unknown));
    }

    #[test]
    fn plain_http_endpoints_fail_in_production() {
        let mut e = evidence(&[(Case::Unsigned, 400)]);
        e.https = false;
        let checks = analyse(&e, ctx(true));
        assert_eq!(checks[0].rule, ProbeRule::TlsNotEnforced);
        assert_eq!(checks[0].status, Status::Fail);
    }
}
