//! Provider emulators for the `verify` tests: one HTTPS server per provider host, on loopback,
//! with a certificate for that host from a CA made here. Each answers the documented read-only
//! requests greenlight makes (docs/verify.md) the way the provider's API reference shows —
//! status codes, JSON bodies, headers such as GitHub's `X-OAuth-Scopes`, 429 with
//! `Retry-After` — and records every request it receives, so that tests can assert where each
//! credential went and in which header.
//!
//! Credentials are the constants of [`creds`]: each one means one behaviour (valid, revoked,
//! another account, missing a scope, rate limited).

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use sha2::Sha256;

/// The planted credentials. Made up here, with each provider's documented shape.
pub mod creds {
    pub const STRIPE_LIVE: &str = "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";
    pub const STRIPE_PUBLIC: &str = "pk_live_51Nv0FGQ9RKHgCVdKa1Bc2De3Fg4Hi5Jk6Lm7No8Pq9Rs0Tu1Vw2Xy3Za4Bc5De6Fg7Hi8Jk9Lm0No1Pq2Rs3Tu4";
    pub const STRIPE_REVOKED: &str = "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";
    pub const STRIPE_REDIRECTED: &str = "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";
    pub const STRIPE_RATE_LIMITED: &str = "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";
    pub const OPENAI_OK: &str = "sk-proj-Em9uLat3dOpenAIk3yQ7vX2nR8tY5wZ1bC4dF6gH0jK3mN5pQ8sT1vW4yZ7aB0cE2fG5hJ8kL1nP4qS7uV0xY3zA6bD9eF";
    pub const OPENAI_BAD: &str = "sk-proj-Rev0kedOpenAIk3yA1bC2dE3fG4hI5jK6lM7nO8pQ9rS0tU1vW2xY3zA4bC5dE6fG7hI8jK9lM0nO1pQ2rS3tU4vW5xY6";
    pub const ANTHROPIC_OK: &str = "sk-ant-api03-Em9uLat3dAnthr0picK3yQ7vX2nR8tY5wZ1bC4dF6gH0jK3mN5pQ8sT1vW4yZ7aB0cE2fG5hJ8kL1nP4qS7uV0xY3zA6AA";
    pub const SENDGRID_RESTRICTED: &str =
        "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";
    pub const SENDGRID_FULL: &str =
        "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";
    pub const SENDGRID_NO_SEND: &str =
        "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";
    pub const MAILCHANNELS_KEY: &str = "mc-Em9uLat3dMa1lChann3lsK3yQ7vX2nR8tY5w";
    pub const CLOUDFLARE_TOKEN: &str = "cfut_Em9uLat3dC1oudf1areT0k3nQ7vX2nR8tY5wZ1bC0a1b2c3d";
    pub const CLOUDFLARE_DISABLED: &str = "cfut_D1sab1edC1oudf1areT0k3nQ7vX2nR8tY5wZ1bC44e5f6a7b";
    pub const CLOUDFLARE_ACCOUNT: &str = "7c3e91a0d54b28f6e1a9c0372bd84f5e";
    pub const GOOGLE_CLIENT_ID: &str =
        "418273645012-em9ulat3dg00g1ecl1ent1dq7vx2nr8t.apps.googleusercontent.com";
    pub const GOOGLE_CLIENT_SECRET: &str = "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";
    pub const GOOGLE_REFRESH: &str =
        "1//0gEm9uLat3dG00g1eR3fr3shT0k3nQ7vX2nR8tY5wZ1bC4dF6gH0jK3mN5pQ8sT1vW4yZ7aB0cE2fG5h";
    pub const GOOGLE_REFRESH_REVOKED: &str =
        "1//0gR3v0k3dG00g1eR3fr3shT0k3nA1bC2dE3fG4hI5jK6lM7nO8pQ9rS0tU1vW2xY3zA4bC5dE6fG7hI8";
    pub const AWS_KEY_ID: &str = "AKIAQ3EMULATED7XKZ2M";
    pub const AWS_SECRET: &str = "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";
    pub const AWS_ACCOUNT: &str = "418273645012";
    pub const R2_KEY_ID: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";
    pub const R2_SECRET: &str = "5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a392817060";
    pub const GITHUB_TOKEN: &str = "ghp_Em9uLat3dG1tHubT0k3nQ7vX2nR8tY5w1Wq8Zx";
    pub const SLACK_TOKEN: &str = "xoxb-418273645012-5012418273645-Em9uLat3dS1ackT0k3nQ7vX2";
    pub const TWILIO_SID: &str = "AC0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    pub const TWILIO_TOKEN: &str = "7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a29";
    pub const TWILIO_TEST_TOKEN: &str = "1a2b3c4d5e6f708192a3b4c5d6e7f809";
    pub const VAULT_TOKEN: &str = "hvs.CAESIEm9uLat3dVau1tT0k3nQ7vX2nR8tY5wZ1bC4dF6gH0jK3mN5pQ8sT1vW4yZ7aB0cE2fGh4KHGh2cy5FbTl1TGF0M2Q";
    pub const RECAPTCHA_SECRET: &str = "6LcEm9uLat3dReCaptchaS3cr3tQ7vX2nR8tY5wZ";
    pub const SUPABASE_REF: &str = "emulatedacademyrefqz";
    pub const PUSHER_APP_ID: &str = "1734092";
    pub const PUSHER_KEY: &str = "4f3e2d1c0b9a8f7e6d5c";
    pub const PUSHER_SECRET: &str = "c0ffee1234abcd5678ef";
    pub const MAPBOX_TOKEN: &str =
        "pk.eyJ1IjoiZW11bGF0ZWQtYWNhZGVteSIsImEiOiJjbTAwMDAwMDAifQ.Em9uLat3dMapb0xT0k3nQ7";
    pub const DATADOG_KEY: &str = "7d3b9e1f5a2c8e4b6d0f1a3c5e7b9d2f";
    pub const DATADOG_REVOKED: &str = "c4e8a2f6b0d3e7a1c5f9b2d6e0a4c8f1";
    pub const MAILGUN_KEY: &str = "key-3f7a1c9e5b2d8f4a6c0e2b4d6f8a1c3e";
    pub const POSTMARK_TOKEN: &str = "8e2c4a6f-1b3d-4e5f-a7c9-0b2d4f6a8c1e";
}

/// One request an emulator received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The emulator (provider host) that received it.
    pub emulator: String,
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    /// Whether `needle` appears anywhere in the request.
    pub fn carries(&self, needle: &str) -> bool {
        self.query.contains(needle)
            || self.body.contains(needle)
            || self.path.contains(needle)
            || self.headers.iter().any(|(_, v)| {
                v.contains(needle)
                    || v.strip_prefix("Basic ")
                        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                        .is_some_and(|d| String::from_utf8_lossy(&d).contains(needle))
            })
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub struct Emulators {
    _dir: tempfile::TempDir,
    /// The endpoints file that points every provider host at its emulator.
    pub endpoints: PathBuf,
    /// Every provider host → its port.
    pub ports: HashMap<&'static str, u16>,
    pub vault_port: u16,
    /// Answers every request to any provider name with 429 and `Retry-After: 1`.
    pub busy_port: u16,
    pub blackhole_port: u16,
    pub log: Arc<Mutex<Vec<Recorded>>>,
    _runtime: tokio::runtime::Runtime,
    _blackhole: std::net::TcpListener,
}

impl Emulators {
    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }
    pub fn clear(&self) {
        self.log.lock().unwrap().clear();
    }
    /// An endpoints file that sends every provider host to `port` (the busy server, the
    /// blackhole).
    pub fn endpoints_all_to(&self, port: u16, name: &str) -> PathBuf {
        let mut text = String::from("ca = \"ca.pem\"\nonly = true\n\n[hosts]\n");
        for (host, _) in HOSTS {
            text.push_str(&format!("\"{host}\" = \"127.0.0.1:{port}\"\n"));
        }
        let p = self.endpoints.with_file_name(format!("{name}.toml"));
        std::fs::write(&p, text).unwrap();
        p
    }

    /// An endpoints file like the main one, with `host` sent to the listener that never answers.
    pub fn endpoints_with_blackhole(&self, host: &str) -> PathBuf {
        let text = std::fs::read_to_string(&self.endpoints).unwrap();
        let port = self.ports[host];
        let text = text.replace(
            &format!("\"{host}\" = \"127.0.0.1:{port}\""),
            &format!("\"{host}\" = \"127.0.0.1:{}\"", self.blackhole_port),
        );
        let p = self
            .endpoints
            .with_file_name(format!("blackhole-{host}.toml"));
        std::fs::write(&p, text).unwrap();
        p
    }
}

/// The emulated hosts: (pinned host, certificate name).
const HOSTS: &[(&str, &str)] = &[
    ("api.stripe.com", "api.stripe.com"),
    ("api.openai.com", "api.openai.com"),
    ("api.anthropic.com", "api.anthropic.com"),
    ("api.sendgrid.com", "api.sendgrid.com"),
    ("api.mailchannels.net", "api.mailchannels.net"),
    ("oauth2.googleapis.com", "oauth2.googleapis.com"),
    ("api.cloudflare.com", "api.cloudflare.com"),
    ("*.r2.cloudflarestorage.com", "*.r2.cloudflarestorage.com"),
    ("sts.amazonaws.com", "sts.amazonaws.com"),
    ("*.supabase.co", "*.supabase.co"),
    ("*.pusher.com", "*.pusher.com"),
    ("api.github.com", "api.github.com"),
    ("slack.com", "slack.com"),
    ("api.twilio.com", "api.twilio.com"),
    ("www.google.com", "www.google.com"),
    ("api.mapbox.com", "api.mapbox.com"),
    ("api.datadoghq.com", "api.datadoghq.com"),
    ("api.mailgun.net", "api.mailgun.net"),
    ("api.postmarkapp.com", "api.postmarkapp.com"),
];

pub fn emulators() -> &'static Emulators {
    static E: OnceLock<Emulators> = OnceLock::new();
    E.get_or_init(start)
}

fn server_config(names: &[&str], issuer: &Issuer<'_, KeyPair>) -> Arc<rustls::ServerConfig> {
    let mut p =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    p.distinguished_name.push(DnType::CommonName, names[0]);
    p.not_before = rcgen::date_time_ymd(2025, 1, 1);
    p.not_after = rcgen::date_time_ymd(2035, 1, 1);
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, issuer).unwrap();
    let der_key = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap();
    Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], der_key)
        .unwrap(),
    )
}

fn start() -> Emulators {
    let dir = tempfile::tempdir().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "greenlight provider emulators CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca_cert.pem()).unwrap();
    let issuer = Issuer::new(ca, ca_key);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut ports = HashMap::new();
    let mut file = String::from(
        "# provider emulators (tests only)\nca = \"ca.pem\"\nonly = true\n\n[hosts]\n",
    );
    for (host, cert_name) in HOSTS {
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        ports.insert(*host, port);
        file.push_str(&format!("\"{host}\" = \"127.0.0.1:{port}\"\n"));
        let cfg = server_config(&[cert_name], &issuer);
        runtime.spawn(serve(listener, cfg, host, log.clone()));
    }
    // Vault is the manifest's own server: its address is https://127.0.0.1:PORT.
    let vault = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let vault_port = vault.local_addr().unwrap().port();
    runtime.spawn(serve(
        vault,
        server_config(&["127.0.0.1", "localhost"], &issuer),
        "vault",
        log.clone(),
    ));
    let busy = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let busy_port = busy.local_addr().unwrap().port();
    let mut all_names: Vec<&str> = HOSTS.iter().map(|(_, n)| *n).collect();
    all_names.push("127.0.0.1");
    runtime.spawn(serve(
        busy,
        server_config(&all_names, &issuer),
        "busy",
        log.clone(),
    ));
    let endpoints = dir.path().join("endpoints.toml");
    std::fs::write(&endpoints, file).unwrap();
    let blackhole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    Emulators {
        endpoints,
        ports,
        vault_port,
        busy_port,
        blackhole_port: blackhole.local_addr().unwrap().port(),
        log,
        _dir: dir,
        _runtime: runtime,
        _blackhole: blackhole,
    }
}

async fn serve(
    listener: tokio::net::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    emulator: &'static str,
    log: Arc<Mutex<Vec<Recorded>>>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let tls = tls.clone();
        let log = log.clone();
        tokio::spawn(async move {
            let Ok(s) = tokio_rustls::TlsAcceptor::from(tls).accept(stream).await else {
                return;
            };
            let service = hyper::service::service_fn(move |req| handle(req, emulator, log.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(s), service)
                .await;
        });
    }
}

async fn handle(
    req: Request<Incoming>,
    emulator: &'static str,
    log: Arc<Mutex<Vec<Recorded>>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let rec = Recorded {
        emulator: emulator.to_owned(),
        method,
        path,
        query,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    log.lock().unwrap().push(rec.clone());
    let (status, extra, body) = respond(&rec);
    let mut r = Response::builder().status(status).header(
        "content-type",
        if body.starts_with('<') {
            "application/xml"
        } else {
            "application/json"
        },
    );
    for (k, v) in extra {
        r = r.header(k, v);
    }
    Ok(r.body(Full::new(Bytes::from(body))).unwrap())
}

type Answer = (u16, Vec<(&'static str, String)>, String);

fn json(status: u16, v: serde_json::Value) -> Answer {
    (status, Vec::new(), v.to_string())
}

fn bearer(r: &Recorded) -> &str {
    r.header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .unwrap_or("")
}

fn form(r: &Recorded) -> HashMap<String, String> {
    url::form_urlencoded::parse(r.body.as_bytes())
        .into_owned()
        .collect()
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// The AWS SigV4 access key id of a request whose signature verifies with that key's secret
/// (the check AWS documents: canonical request, string to sign, derived key), for `service` in
/// `region`. Written here from the AWS documentation, independently of greenlight's signer.
fn sigv4_key<'a>(r: &'a Recorded, service: &str, region: &str) -> Option<&'a str> {
    use sha2::Digest;
    let auth = r
        .header("authorization")?
        .strip_prefix("AWS4-HMAC-SHA256 Credential=")?;
    let (cred, rest) = auth.split_once(", SignedHeaders=")?;
    let (signed_headers, signature) = rest.split_once(", Signature=")?;
    let mut parts = cred.split('/');
    let key = parts.next()?;
    let date = parts.next()?;
    if parts.next()? != region || parts.next()? != service {
        return None;
    }
    let secret = match key {
        k if k == creds::AWS_KEY_ID => creds::AWS_SECRET,
        k if k == creds::R2_KEY_ID => creds::R2_SECRET,
        _ => return None,
    };
    let amz_date = r.header("x-amz-date")?;
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    let mut query: Vec<(String, String)> = url::form_urlencoded::parse(r.query.as_bytes())
        .into_owned()
        .map(|(k, v)| (enc(&k), enc(&v)))
        .collect();
    query.sort();
    let canonical_query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let canonical_headers: String = signed_headers
        .split(';')
        .map(|h| format!("{h}:{}\n", r.header(h).unwrap_or("").trim()))
        .collect();
    let payload = hex(&sha2::Sha256::digest(r.body.as_bytes()));
    let canonical = format!(
        "{}\n{}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload}",
        r.method, r.path
    );
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{date}/{region}/{service}/aws4_request\n{}",
        hex(&sha2::Sha256::digest(canonical.as_bytes()))
    );
    let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, service.as_bytes());
    let k = hmac(&k, b"aws4_request");
    (hex(&hmac(&k, to_sign.as_bytes())) == signature).then_some(key)
}

fn respond(r: &Recorded) -> Answer {
    use creds::*;
    match r.emulator.as_str() {
        "busy" => (429, vec![("retry-after", "1".into())], r#"{"error":"rate limited"}"#.into()),
        "api.stripe.com" => {
            let key = bearer(r);
            if key == STRIPE_REDIRECTED {
                // A redirect to another provider's host: greenlight must not follow it.
                return (302, vec![("location", "https://api.openai.com/v1/models".into())], String::new());
            }
            if key == STRIPE_RATE_LIMITED {
                return (429, vec![("retry-after", "1".into())], r#"{"error":{"type":"rate_limit_error"}}"#.into());
            }
            if key != STRIPE_LIVE {
                // Stripe's documented 401 body; this emulator echoes the key in full, to prove
                // greenlight never prints what a provider says back.
                return json(401, serde_json::json!({"error": {"message": format!("Invalid API Key provided: {key}"), "type": "invalid_request_error"}}));
            }
            match r.path.as_str() {
                "/v1/account" => json(200, serde_json::json!({"id": "acct_1Nv0FGQ9RKHgCVdK", "object": "account", "charges_enabled": true, "country": "US"})),
                "/v1/webhook_endpoints" => json(200, serde_json::json!({"object": "list", "has_more": false, "data": [
                    {"id": "we_1", "object": "webhook_endpoint", "url": "https://api.academy.test/webhooks/stripe", "status": "enabled", "livemode": true,
                     "enabled_events": ["checkout.session.completed", "invoice.payment_succeeded"]}]})),
                _ => json(404, serde_json::json!({"error": {"type": "invalid_request_error"}})),
            }
        }
        "api.openai.com" => match bearer(r) {
            k if k == OPENAI_OK && r.path == "/v1/models" => json(200, serde_json::json!({"object": "list", "data": [{"id": "gpt-4o", "object": "model"}]})),
            _ => json(401, serde_json::json!({"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error", "code": "invalid_api_key"}})),
        },
        "api.anthropic.com" => {
            if r.header("x-api-key") == Some(ANTHROPIC_OK) && r.header("anthropic-version").is_some() {
                json(200, serde_json::json!({"data": [{"id": "claude-sonnet-4-5", "type": "model"}], "has_more": false}))
            } else {
                json(401, serde_json::json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}))
            }
        }
        "api.sendgrid.com" => {
            let scopes: Vec<&str> = match bearer(r) {
                k if k == SENDGRID_RESTRICTED => vec!["mail.send", "sender_verification_eligible", "whitelabel.read"],
                k if k == SENDGRID_FULL => vec!["mail.send", "api_keys.create", "api_keys.delete", "user.profile.read", "whitelabel.read"],
                k if k == SENDGRID_NO_SEND => vec!["stats.read"],
                _ => return json(401, serde_json::json!({"errors": [{"field": null, "message": "authorization required"}]})),
            };
            match r.path.as_str() {
                "/v3/scopes" => json(200, serde_json::json!({"scopes": scopes})),
                "/v3/verified_senders" => json(200, serde_json::json!({"results": [{"id": 1, "from_email": "billing@academy.test", "verified": true}]})),
                "/v3/whitelabel/domains" => json(200, serde_json::json!([{"id": 7, "domain": "mail.academy.test", "valid": true}])),
                _ => json(404, serde_json::json!({"errors": []})),
            }
        }
        "api.mailchannels.net" => {
            if r.header("x-api-key") != Some(MAILCHANNELS_KEY) {
                return json(401, serde_json::json!({"errors": ["Unauthorized"]}));
            }
            let domain = serde_json::from_str::<serde_json::Value>(&r.body).ok().and_then(|b| b["domain"].as_str().map(str::to_owned)).unwrap_or_default();
            let lockdown = if domain == "academy.test" { "passed" } else { "failed" };
            json(200, serde_json::json!({"check_results": {"spf": {"verdict": "passed"}, "domain_lockdown": {"verdict": lockdown}, "dkim": [{"dkim_domain": domain, "verdict": "passed"}]}}))
        }
        "oauth2.googleapis.com" => {
            let f = form(r);
            if f.get("client_id").map(String::as_str) != Some(GOOGLE_CLIENT_ID) || f.get("client_secret").map(String::as_str) != Some(GOOGLE_CLIENT_SECRET) {
                return json(401, serde_json::json!({"error": "invalid_client", "error_description": "The OAuth client was not found."}));
            }
            if f.get("grant_type").map(String::as_str) != Some("refresh_token") || f.get("refresh_token").map(String::as_str) != Some(GOOGLE_REFRESH) {
                return json(400, serde_json::json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}));
            }
            json(200, serde_json::json!({"access_token": "ya29.a0EmulatedAccessTokenNotToBePrinted0123456789", "expires_in": 3599, "scope": "https://www.googleapis.com/auth/calendar", "token_type": "Bearer"}))
        }
        "api.cloudflare.com" => {
            let token = bearer(r);
            let status = match token {
                t if t == CLOUDFLARE_TOKEN => "active",
                t if t == CLOUDFLARE_DISABLED => "disabled",
                _ => return json(401, serde_json::json!({"success": false, "errors": [{"code": 1000, "message": "Invalid API Token"}]})),
            };
            if r.path == "/client/v4/user/tokens/verify" {
                return json(200, serde_json::json!({"success": true, "result": {"id": "ed17574386854bf78a67040be0a770b0", "status": status}}));
            }
            let secrets_path = format!("/client/v4/accounts/{CLOUDFLARE_ACCOUNT}/workers/scripts/academy-api/secrets");
            if r.path == secrets_path {
                return json(200, serde_json::json!({"success": true, "result": [
                    {"name": "STRIPE_SECRET_KEY", "type": "secret_text"}, {"name": "JWT_SECRET", "type": "secret_text"}]}));
            }
            json(404, serde_json::json!({"success": false, "errors": [{"code": 10007, "message": "workers.api.error.script_not_found"}]}))
        }
        "*.r2.cloudflarestorage.com" => match sigv4_key(r, "s3", "auto") {
            Some(k) if k == R2_KEY_ID && r.header("x-amz-content-sha256").is_some() => (200, Vec::new(),
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListAllMyBucketsResult><Buckets><Bucket><Name>academy-files</Name><CreationDate>2026-01-01T00:00:00.000Z</CreationDate></Bucket></Buckets><Owner><ID>x</ID></Owner></ListAllMyBucketsResult>".into()),
            _ => (403, Vec::new(), "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InvalidAccessKeyId</Code></Error>".into()),
        },
        "sts.amazonaws.com" => {
            let f = form(r);
            match sigv4_key(r, "sts", "us-east-1") {
                Some(k) if k == AWS_KEY_ID && f.get("Action").map(String::as_str) == Some("GetCallerIdentity") => (200, Vec::new(), format!(
                    "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::{AWS_ACCOUNT}:user/academy-app</Arn><UserId>AIDAEMULATED</UserId><Account>{AWS_ACCOUNT}</Account></GetCallerIdentityResult></GetCallerIdentityResponse>")),
                _ => (403, Vec::new(), "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>".into()),
            }
        }
        "*.supabase.co" => {
            let key = r.header("apikey").unwrap_or("");
            let role = jwt_role(key);
            match (r.path.as_str(), role.as_deref()) {
                (_, None) => json(401, serde_json::json!({"message": "Invalid API key"})),
                ("/auth/v1/settings", Some(_)) => json(200, serde_json::json!({"external": {"email": true}, "disable_signup": false})),
                ("/auth/v1/admin/users", Some("service_role")) if bearer(r) == key => json(200, serde_json::json!({"users": [], "aud": "authenticated"})),
                ("/auth/v1/admin/users", Some(_)) => json(403, serde_json::json!({"code": 403, "error_code": "not_admin", "msg": "User not allowed"})),
                _ => json(404, serde_json::json!({})),
            }
        }
        "*.pusher.com" => {
            let q: Vec<(String, String)> = url::form_urlencoded::parse(r.query.as_bytes()).into_owned().collect();
            let sig = q.iter().find(|(k, _)| k == "auth_signature").map(|(_, v)| v.clone()).unwrap_or_default();
            let mut rest: Vec<&(String, String)> = q.iter().filter(|(k, _)| k != "auth_signature").collect();
            rest.sort();
            let joined = rest.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
            let mut mac = Hmac::<Sha256>::new_from_slice(PUSHER_SECRET.as_bytes()).unwrap();
            mac.update(format!("{}\n{}\n{joined}", r.method, r.path).as_bytes());
            let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
            let key_ok = q.iter().any(|(k, v)| k == "auth_key" && v == PUSHER_KEY);
            if sig == expected && key_ok && r.path == format!("/apps/{PUSHER_APP_ID}/channels") {
                json(200, serde_json::json!({"channels": {}}))
            } else {
                json(401, serde_json::json!({"error": "Invalid signature"}))
            }
        }
        "api.github.com" => {
            if bearer(r) == GITHUB_TOKEN && r.header("user-agent").is_some() {
                (200, vec![("x-oauth-scopes", "repo, admin:org".into())], serde_json::json!({"login": "academy-bot", "id": 1}).to_string())
            } else {
                json(401, serde_json::json!({"message": "Bad credentials"}))
            }
        }
        "slack.com" => {
            if bearer(r) == SLACK_TOKEN {
                (200, vec![("x-oauth-scopes", "chat:write,channels:read".into())], serde_json::json!({"ok": true, "team": "Academy", "team_id": "T0ACADEMY1", "user_id": "U0BOT"}).to_string())
            } else {
                json(200, serde_json::json!({"ok": false, "error": "invalid_auth"}))
            }
        }
        "api.twilio.com" => {
            let basic = r.header("authorization").and_then(|a| a.strip_prefix("Basic ")).and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok()).map(|d| String::from_utf8_lossy(&d).into_owned()).unwrap_or_default();
            if basic == format!("{TWILIO_SID}:{TWILIO_TOKEN}") && r.path == format!("/2010-04-01/Accounts/{TWILIO_SID}.json") {
                json(200, serde_json::json!({"sid": TWILIO_SID, "friendly_name": "Academy", "status": "active", "type": "Full"}))
            } else if basic == format!("{TWILIO_SID}:{TWILIO_TEST_TOKEN}") {
                json(403, serde_json::json!({"code": 20008, "message": "Resource not accessible with Test Account Credentials", "status": 403}))
            } else {
                json(401, serde_json::json!({"code": 20003, "message": "Authenticate", "status": 401}))
            }
        }
        "www.google.com" => {
            let f = form(r);
            if f.get("secret").map(String::as_str) == Some(RECAPTCHA_SECRET) {
                json(200, serde_json::json!({"success": false, "error-codes": ["invalid-input-response"]}))
            } else {
                json(200, serde_json::json!({"success": false, "error-codes": ["invalid-input-secret"]}))
            }
        }
        "api.mapbox.com" => {
            let q: HashMap<String, String> = url::form_urlencoded::parse(r.query.as_bytes()).into_owned().collect();
            if r.path == "/tokens/v2" && q.get("access_token").map(String::as_str) == Some(MAPBOX_TOKEN) {
                json(200, serde_json::json!({"code": "TokenValid", "token": {"usage": "pk", "user": "emulated-academy", "authorization": "cm0000000"}}))
            } else {
                json(401, serde_json::json!({"code": "TokenInvalid"}))
            }
        }
        "api.datadoghq.com" => match r.header("dd-api-key") {
            Some(k) if k == DATADOG_KEY => json(200, serde_json::json!({"valid": true})),
            _ => json(403, serde_json::json!({"errors": ["Forbidden"]})),
        },
        "api.mailgun.net" => {
            let basic = r.header("authorization").and_then(|a| a.strip_prefix("Basic ")).and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok()).map(|d| String::from_utf8_lossy(&d).into_owned()).unwrap_or_default();
            if basic == format!("api:{MAILGUN_KEY}") {
                json(200, serde_json::json!({"total_count": 1, "items": [{"name": "mg.academy.test", "state": "active"}]}))
            } else {
                (401, Vec::new(), "Forbidden".into())
            }
        }
        "api.postmarkapp.com" => {
            if r.header("x-postmark-server-token") == Some(POSTMARK_TOKEN) {
                json(200, serde_json::json!({"ID": 1, "Name": "Academy transactional"}))
            } else {
                json(401, serde_json::json!({"ErrorCode": 10, "Message": "The Server Token you provided in the X-Postmark-Server-Token request header was invalid."}))
            }
        }
        "vault" => {
            if r.header("x-vault-token") == Some(VAULT_TOKEN) && r.path == "/v1/auth/token/lookup-self" {
                json(200, serde_json::json!({"data": {"ttl": 2_764_800, "policies": ["default", "academy"], "renewable": true, "expire_time": "2026-12-31T00:00:00Z"}}))
            } else {
                json(403, serde_json::json!({"errors": ["permission denied"]}))
            }
        }
        _ => json(404, serde_json::json!({})),
    }
}

/// The `role` claim of a Supabase JWT signed by this emulator's project (ref checked).
fn jwt_role(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .ok()?,
    )
    .ok()?;
    (claims["ref"] == creds::SUPABASE_REF).then(|| claims["role"].as_str().unwrap_or("").to_owned())
}

/// A Supabase-style legacy key (HS256 JWT) for the emulated project with `role`.
pub fn supabase_key(role: &str) -> String {
    supabase_key_for(creds::SUPABASE_REF, role)
}

/// A Supabase-style legacy key of project `project_ref`.
pub fn supabase_key_for(project_ref: &str, role: &str) -> String {
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = b.encode(format!(
        r#"{{"iss":"supabase","ref":"{project_ref}","role":"{role}","iat":1767225600,"exp":2082758400}}"#
    ));
    let mut mac =
        Hmac::<Sha256>::new_from_slice(b"emulated-supabase-jwt-secret-0123456789").unwrap();
    mac.update(format!("{header}.{claims}").as_bytes());
    format!(
        "{header}.{claims}.{}",
        b.encode(mac.finalize().into_bytes())
    )
}

pub fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// The verify tests share the emulators' request log: one at a time.
pub fn lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}
