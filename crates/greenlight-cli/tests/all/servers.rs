//! Real servers on loopback for the probe tests, started once per test process:
//! PostgreSQL (a TLS cluster and a plaintext one, with trust, password and TLS-only users),
//! Redis (without a password, with `requirepass`, and over TLS), HTTPS servers with certificates
//! from a CA generated here (valid, expired, for another host), a plain HTTP server, webhook
//! endpoints that verify signatures and one that does not, an SMTP server with STARTTLS, and a
//! "blackholed" listener that accepts connections and never answers.
//!
//! PostgreSQL and Redis come from Debian's packages, which `scripts/services` installs (the
//! README's test command runs it). Servers are started under a watchdog shell that stops them
//! when this test process ends (bounded to two hours).

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use sha2::Sha256;

pub const PG_PASSWORD: &str = "pg-Pr0be-pass-7f3a9c";
pub const REDIS_PASSWORD: &str = "redis-Pr0be-pass-c41d2e";
pub const WEBHOOK_SECRET: &str = "whsec_Pr0beWebhookSecret5e1b7d";
/// A Standard Webhooks secret: whsec_ + base64 of the key.
pub const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

pub struct Servers {
    _dir: tempfile::TempDir,
    /// The plaintext cluster's directory (its Unix socket is there).
    pg_plain_dir: PathBuf,
    pub ca_pem: PathBuf,
    pub pg_tls_port: u16,
    pub pg_plain_port: u16,
    pub redis_open_port: u16,
    pub redis_auth_port: u16,
    pub redis_tls_port: u16,
    /// HTTPS with a valid certificate for localhost / 127.0.0.1.
    pub https_port: u16,
    pub https_expired_port: u16,
    pub https_wrong_host_port: u16,
    /// Plain HTTP: same routes, and `/` redirects to the valid HTTPS server.
    pub http_port: u16,
    pub smtp_starttls_port: u16,
    pub smtp_plain_port: u16,
    pub blackhole_port: u16,
    /// A port where nothing listens.
    pub closed_port: u16,
    _runtime: tokio::runtime::Runtime,
    _blackhole: std::net::TcpListener,
}

impl Servers {
    /// Runs SQL as the `postgres` superuser in the plaintext cluster's `app` database (test
    /// fixtures: migration tables).
    pub fn psql_plain(&self, sql: &str) {
        let bin = pg_bin();
        let dir = self.pg_plain_dir.display().to_string();
        let port = self.pg_plain_port.to_string();
        let args = [
            "-h",
            &dir,
            "-p",
            &port,
            "-U",
            "postgres",
            "-d",
            "app",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ];
        let out = if is_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(bin.join("psql"))
                .args(args)
                .output()
        } else {
            Command::new(bin.join("psql")).args(args).output()
        }
        .unwrap();
        assert!(
            out.status.success(),
            "psql: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

pub fn servers() -> &'static Servers {
    static SERVERS: OnceLock<Servers> = OnceLock::new();
    SERVERS.get_or_init(start)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Pki {
    ca_pem: String,
    valid: (String, String),
    expired: (String, String),
    wrong_host: (String, String),
}

fn pki() -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "greenlight test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let leaf = |names: &[&str], expired: bool| {
        let mut p = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap();
        p.distinguished_name.push(DnType::CommonName, names[0]);
        if expired {
            p.not_before = rcgen::date_time_ymd(2020, 1, 1);
            p.not_after = rcgen::date_time_ymd(2021, 1, 1);
        } else {
            p.not_before = rcgen::date_time_ymd(2025, 1, 1);
            p.not_after = rcgen::date_time_ymd(2035, 1, 1);
        }
        let key = KeyPair::generate().unwrap();
        let cert = p.signed_by(&key, &issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    Pki {
        ca_pem: ca_cert.pem(),
        valid: leaf(&["localhost", "127.0.0.1"], false),
        expired: leaf(&["localhost", "127.0.0.1"], true),
        wrong_host: leaf(&["wrong.test"], false),
    }
}

fn server_config(cert_pem: &str, key_pem: &str) -> Arc<rustls::ServerConfig> {
    let certs: Vec<_> = rustls_pem_certs(cert_pem);
    let key = rustls::pki_types::PrivateKeyDer::try_from(base64_pem_body(key_pem, "PRIVATE KEY"))
        .unwrap();
    Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap(),
    )
}

/// The DER inside one PEM block (rcgen writes plain, well-formed PEM).
fn base64_pem_body(pem: &str, label: &str) -> Vec<u8> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin).unwrap() + begin.len();
    let stop = pem.find(&end).unwrap();
    let b64: String = pem[start..stop].split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

fn rustls_pem_certs(pem: &str) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    vec![base64_pem_body(pem, "CERTIFICATE").into()]
}

/// Runs `program args…` under a watchdog that stops it when this process ends.
fn spawn_watched(user: Option<&str>, program: &Path, args: &[String], log: &Path) {
    let script = r#"prog="$1"; parent="$2"; shift 2
"$prog" "$@" &
child=$!
i=0
while [ $i -lt 7200 ] && [ -d "/proc/$parent" ] && kill -0 $child 2>/dev/null; do i=$((i+1)); sleep 1; done
kill -INT $child 2>/dev/null; wait $child"#;
    let mut cmd = match user {
        Some(u) => {
            let mut c = Command::new("runuser");
            c.args(["-u", u, "--", "sh", "-c", script]);
            c
        }
        None => {
            let mut c = Command::new("sh");
            c.args(["-c", script]);
            c
        }
    };
    cmd.arg("watchdog")
        .arg(program)
        .arg(std::process::id().to_string())
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(log).unwrap())
        .stderr(std::fs::File::create(log.with_extension("err")).unwrap());
    // Not waited for: the watchdog lives as long as this test process and ends with it.
    #[allow(clippy::zombie_processes)]
    let _watchdog = cmd.spawn().unwrap();
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Waits (bounded) until something accepts connections on the port.
fn wait_for_port(port: u16, what: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let err = std::fs::read_to_string(log.with_extension("err")).unwrap_or_default();
    panic!("{what} did not start on port {port} within 60 s:\n{err}");
}

fn pg_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions
        .into_iter()
        .rev()
        .find(|b| b.join("initdb").exists())
        .expect("PostgreSQL is not installed: run scripts/services (scripts/test does)")
}

fn run_ok(user: Option<&str>, program: &Path, args: &[&str]) {
    let out = match user {
        Some(u) => Command::new("runuser")
            .args(["-u", u, "--"])
            .arg(program)
            .args(args)
            .output(),
        None => Command::new(program).args(args).output(),
    }
    .unwrap();
    assert!(
        out.status.success(),
        "{} {args:?} failed:\n{}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One PostgreSQL cluster: `tls` turns ssl on with the test CA's certificate.
fn start_postgres(dir: &Path, port: u16, tls: Option<(&str, &str)>) {
    let bin = pg_bin();
    let user = is_root().then_some("postgres");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    if user.is_some() {
        run_ok(
            None,
            Path::new("chown"),
            &["-R", "postgres:postgres", dir.to_str().unwrap()],
        );
    }
    run_ok(
        user,
        &bin.join("initdb"),
        &[
            "-D",
            data.to_str().unwrap(),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
        ],
    );
    let mut conf = format!(
        "listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\nfsync = off\npassword_encryption = 'scram-sha-256'\n",
        dir.display()
    );
    let mut hba = String::from("local all postgres trust\n");
    if let Some((cert, key)) = tls {
        std::fs::write(data.join("server.crt"), cert).unwrap();
        std::fs::write(data.join("server.key"), key).unwrap();
        run_ok(
            None,
            Path::new("chmod"),
            &["600", data.join("server.key").to_str().unwrap()],
        );
        if user.is_some() {
            run_ok(
                None,
                Path::new("chown"),
                &["-R", "postgres:postgres", data.to_str().unwrap()],
            );
        }
        conf.push_str("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        hba.push_str("hostssl all tls_user 127.0.0.1/32 scram-sha-256\n");
    } else {
        conf.push_str("ssl = off\n");
    }
    hba.push_str("host all pw_user 127.0.0.1/32 scram-sha-256\n");
    hba.push_str("host all trust_user 127.0.0.1/32 trust\n");
    let append = |file: &str, text: &str| {
        let path = data.join(file);
        let mut old = if file == "pg_hba.conf" {
            String::new()
        } else {
            std::fs::read_to_string(&path).unwrap()
        };
        old.push_str(text);
        std::fs::write(&path, old).unwrap();
    };
    append("postgresql.conf", &conf);
    append("pg_hba.conf", &hba);
    if user.is_some() {
        run_ok(
            None,
            Path::new("chown"),
            &["-R", "postgres:postgres", data.to_str().unwrap()],
        );
    }
    let log = dir.join("postgres.log");
    spawn_watched(
        user,
        &bin.join("postgres"),
        &["-D".to_owned(), data.display().to_string()],
        &log,
    );
    wait_for_port(port, "PostgreSQL", &log);
    // Ready for queries (the port opens a moment before recovery ends): bounded retries.
    // Each -c runs on its own (CREATE DATABASE cannot share a transaction).
    let roles = format!(
        "CREATE ROLE pw_user LOGIN PASSWORD '{PG_PASSWORD}'; CREATE ROLE trust_user LOGIN; \
         CREATE ROLE tls_user LOGIN PASSWORD '{PG_PASSWORD}';"
    );
    let port_s = port.to_string();
    let dir_s = dir.display().to_string();
    let args = [
        "-h",
        &dir_s,
        "-p",
        &port_s,
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        &roles,
        "-c",
        "CREATE DATABASE app",
    ];
    for attempt in 0..100 {
        let out = match user {
            Some(u) => Command::new("runuser")
                .args(["-u", u, "--"])
                .arg(bin.join("psql"))
                .args(args)
                .output(),
            None => Command::new(bin.join("psql")).args(args).output(),
        }
        .unwrap();
        if out.status.success() {
            return;
        }
        assert!(
            attempt < 99,
            "psql: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn redis_server() -> PathBuf {
    ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("Redis is not installed: run scripts/services (scripts/test does)")
}

fn start_redis(dir: &Path, name: &str, args: Vec<String>, port: u16) {
    let log = dir.join(format!("redis-{name}.log"));
    let mut all = vec![
        "--bind".to_owned(),
        "127.0.0.1".to_owned(),
        "--save".to_owned(),
        String::new(),
        "--appendonly".to_owned(),
        "no".to_owned(),
        "--dir".to_owned(),
        dir.display().to_string(),
    ];
    all.extend(args);
    spawn_watched(None, &redis_server(), &all, &log);
    wait_for_port(port, "Redis", &log);
}

fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response<Full<Bytes>> {
    let mut r = Response::builder().status(status);
    for (n, v) in headers {
        r = r.header(*n, *v);
    }
    r.body(Full::new(Bytes::from(body.to_owned()))).unwrap()
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Stripe's verification, as stripe-node's `constructEvent` does it (tolerance 300 s), plus a
/// future-timestamp check.
fn stripe_verifies(header: Option<&str>, body: &[u8]) -> bool {
    let Some(header) = header else { return false };
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.push(v.to_owned()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    let expected = hex(&hmac_sha256(
        WEBHOOK_SECRET.as_bytes(),
        &[t.to_string().as_bytes(), b".", body],
    ));
    sigs.contains(&expected) && (now() - t).abs() <= 300
}

fn standard_verifies(id: Option<&str>, ts: Option<&str>, sig: Option<&str>, body: &[u8]) -> bool {
    let (Some(id), Some(ts), Some(sig)) = (id, ts, sig) else {
        return false;
    };
    let Ok(t) = ts.parse::<i64>() else {
        return false;
    };
    let key = base64::engine::general_purpose::STANDARD
        .decode(STANDARD_SECRET.strip_prefix("whsec_").unwrap())
        .unwrap();
    let expected = base64::engine::general_purpose::STANDARD.encode(hmac_sha256(
        &key,
        &[id.as_bytes(), b".", ts.as_bytes(), b".", body],
    ));
    sig.split(' ').any(|s| s == format!("v1,{expected}")) && (now() - t).abs() <= 300
}

/// Requests per `?bucket=` to the rate-limited routes, for the ratelimit probe's tests.
static HITS: std::sync::Mutex<Option<std::collections::HashMap<String, u32>>> =
    std::sync::Mutex::new(None);

/// How many requests the rate-limited routes received for `bucket`.
pub fn hits(bucket: &str) -> u32 {
    HITS.lock()
        .unwrap()
        .as_ref()
        .and_then(|m| m.get(bucket).copied())
        .unwrap_or(0)
}

fn hit(query: Option<&str>) -> u32 {
    let bucket = query
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("bucket=")))
        .unwrap_or("")
        .to_owned();
    let mut map = HITS.lock().unwrap();
    let n = map
        .get_or_insert_with(Default::default)
        .entry(bucket)
        .or_default();
    *n += 1;
    *n
}

async fn route(
    req: Request<Incoming>,
    https_port: u16,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let method = req.method().clone();
    let header = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let origin = header("origin");
    let stripe = header("stripe-signature");
    let (wid, wts, wsig) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let json = [("content-type", "application/health+json")];
    Ok(match path.as_str() {
        "/" if method == hyper::Method::GET => response(
            301,
            &[("location", &format!("https://localhost:{https_port}/"))],
            "",
        ),
        "/plain" => response(200, &[], "OK"),
        "/health/pass" => response(200, &json, r#"{"status":"pass","version":"1.4.2"}"#),
        "/health/fail" => response(
            503,
            &json,
            r#"{"status":"fail","checks":{"postgres:connections":[{"componentId":"db-1","status":"fail","output":"connection pool exhausted"}],"redis:responseTime":[{"status":"pass"}]}}"#,
        ),
        "/health/fail-behind-200" => response(200, &json, r#"{"status":"fail"}"#),
        "/health/actuator-down" => response(
            503,
            &[("content-type", "application/json")],
            r#"{"status":"DOWN","components":{"db":{"status":"DOWN"},"diskSpace":{"status":"UP"}}}"#,
        ),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(1)).await;
            response(200, &json, r#"{"status":"pass"}"#)
        }
        // CORS with an allow-list of one production origin, and one that reflects any origin.
        "/cors/allowlist" => match origin.as_deref() {
            Some(o @ "https://app.academy.test") => response(
                if method == hyper::Method::OPTIONS { 204 } else { 200 },
                &[("access-control-allow-origin", o), ("vary", "Origin")],
                "",
            ),
            _ => response(200, &[], ""),
        },
        "/cors/reflect" => match origin.as_deref() {
            Some(o) => response(200, &[("access-control-allow-origin", o)], ""),
            None => response(200, &[], ""),
        },
        // A limiter of 5 requests per minute per bucket, telling clients when to come back.
        "/limited" => {
            if hit(query.as_deref()) > 5 {
                response(
                    429,
                    &[("retry-after", "60"), ("ratelimit-policy", "5;w=60")],
                    "too many requests",
                )
            } else {
                response(200, &[], "OK")
            }
        }
        // The same limit, with a bare 429.
        "/limited-bare" => {
            if hit(query.as_deref()) > 5 {
                response(429, &[], "slow down")
            } else {
                response(200, &[], "OK")
            }
        }
        // No limiter at all (requests counted).
        "/unlimited" => {
            hit(query.as_deref());
            response(200, &[], "OK")
        }
        // A Prometheus exposition (text format 0.0.4), as a billing service would export.
        "/metrics" => response(
            200,
            &[("content-type", "text/plain; version=0.0.4; charset=utf-8")],
            "# HELP billing_credits_purchased_total Credits sold.\n# TYPE billing_credits_purchased_total counter\nbilling_credits_purchased_total{package=\"starter\"} 12\n# TYPE stripe_webhook_events_total counter\nstripe_webhook_events_total{event_type=\"checkout.session.completed\"} 3\n# TYPE http_request_duration_seconds histogram\nhttp_request_duration_seconds_bucket{le=\"0.5\",route=\"/api\"} 4\nhttp_request_duration_seconds_bucket{le=\"+Inf\",route=\"/api\"} 5\nhttp_request_duration_seconds_sum{route=\"/api\"} 1.9\nhttp_request_duration_seconds_count{route=\"/api\"} 5\n",
        ),
        "/headers/good" => response(
            200,
            &[
                (
                    "strict-transport-security",
                    "max-age=63072000; includeSubDomains",
                ),
                (
                    "content-security-policy",
                    "default-src 'self'; script-src 'self' 'nonce-r4nd0m'; frame-ancestors 'none'",
                ),
                ("x-content-type-options", "nosniff"),
                ("referrer-policy", "strict-origin-when-cross-origin"),
                (
                    "set-cookie",
                    "session=s3ss10n-v4lue; Path=/; Secure; HttpOnly; SameSite=Lax",
                ),
            ],
            "<!doctype html><title>good</title>",
        ),
        "/headers/bad" => {
            let mut headers = vec![
                ("set-cookie", "sessionid=s3ss10n-v4lue; Path=/".to_owned()),
                (
                    "content-security-policy",
                    "script-src 'self' 'unsafe-inline'".to_owned(),
                ),
                ("strict-transport-security", "max-age=3600".to_owned()),
            ];
            if let Some(o) = origin {
                headers.push(("access-control-allow-origin", o));
                headers.push(("access-control-allow-credentials", "true".to_owned()));
            }
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            response(200, &headers, "<!doctype html><title>bad</title>")
        }
        "/webhook/stripe-verified" if method == hyper::Method::POST => {
            if stripe_verifies(stripe.as_deref(), &body) {
                response(200, &[], r#"{"received":true}"#)
            } else {
                response(400, &[], "Webhook Error: No signatures found matching the expected signature for payload")
            }
        }
        "/webhook/standard-verified" if method == hyper::Method::POST => {
            if standard_verifies(wid.as_deref(), wts.as_deref(), wsig.as_deref(), &body) {
                response(204, &[], "")
            } else {
                response(401, &[], "invalid signature")
            }
        }
        // Checks that a signature header is present, and nothing more.
        "/webhook/naive" if method == hyper::Method::POST => {
            response(200, &[], r#"{"received":true}"#)
        }
        _ => response(404, &[], "not found"),
    })
}

async fn serve_http(
    listener: tokio::net::TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    https_port: u16,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let tls = tls.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| route(req, https_port));
            let builder = hyper::server::conn::http1::Builder::new();
            match tls {
                Some(cfg) => {
                    let Ok(s) = tokio_rustls::TlsAcceptor::from(cfg).accept(stream).await else {
                        return;
                    };
                    let _ = builder.serve_connection(TokioIo::new(s), service).await;
                }
                None => {
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                }
            }
        });
    }
}

/// A minimal SMTP server: greeting, EHLO (with STARTTLS when `tls`), STARTTLS, QUIT.
async fn serve_smtp(listener: tokio::net::TcpListener, tls: Option<Arc<rustls::ServerConfig>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let tls = tls.clone();
        tokio::spawn(async move {
            let mut r = BufReader::new(stream);
            let _ = r
                .get_mut()
                .write_all(b"220 mail.test ESMTP greenlight-test\r\n")
                .await;
            for _ in 0..20 {
                let mut line = String::new();
                if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                let cmd = line.trim().to_ascii_uppercase();
                if cmd.starts_with("EHLO") {
                    let caps = if tls.is_some() {
                        "250-mail.test\r\n250-STARTTLS\r\n250 SIZE 1000000\r\n"
                    } else {
                        "250-mail.test\r\n250-AUTH PLAIN LOGIN\r\n250 SIZE 1000000\r\n"
                    };
                    let _ = r.get_mut().write_all(caps.as_bytes()).await;
                } else if cmd == "STARTTLS" {
                    if let Some(cfg) = &tls {
                        let _ = r.get_mut().write_all(b"220 go ahead\r\n").await;
                        let _ = tokio_rustls::TlsAcceptor::from(cfg.clone())
                            .accept(r.into_inner())
                            .await;
                        return;
                    }
                    let _ = r.get_mut().write_all(b"502 not supported\r\n").await;
                } else {
                    let _ = r.get_mut().write_all(b"221 bye\r\n").await;
                    return;
                }
            }
        });
    }
}

fn start() -> Servers {
    let dir = tempfile::tempdir().unwrap();
    // Other users (postgres) must reach the cluster directories inside.
    run_ok(
        None,
        Path::new("chmod"),
        &["755", dir.path().to_str().unwrap()],
    );
    let pki = pki();
    let ca_pem = dir.path().join("ca.pem");
    std::fs::write(&ca_pem, &pki.ca_pem).unwrap();

    let (pg_tls_port, pg_plain_port) = (free_port(), free_port());
    let (redis_open_port, redis_auth_port, redis_tls_port) =
        (free_port(), free_port(), free_port());
    let pg_tls_dir = dir.path().join("pg-tls");
    let pg_plain_dir = dir.path().join("pg-plain");
    let valid = pki.valid.clone();
    let pg_threads = [
        std::thread::spawn(move || {
            start_postgres(&pg_tls_dir, pg_tls_port, Some((&valid.0, &valid.1)))
        }),
        std::thread::spawn(move || start_postgres(&pg_plain_dir, pg_plain_port, None)),
    ];

    let redis_tls_dir = dir.path().join("redis-tls");
    std::fs::create_dir_all(&redis_tls_dir).unwrap();
    for (name, text) in [
        ("cert.pem", &pki.valid.0),
        ("key.pem", &pki.valid.1),
        ("ca.pem", &pki.ca_pem),
    ] {
        std::fs::write(redis_tls_dir.join(name), text).unwrap();
    }
    start_redis(
        dir.path(),
        "open",
        vec!["--port".into(), redis_open_port.to_string()],
        redis_open_port,
    );
    start_redis(
        dir.path(),
        "auth",
        vec![
            "--port".into(),
            redis_auth_port.to_string(),
            "--requirepass".into(),
            REDIS_PASSWORD.into(),
        ],
        redis_auth_port,
    );
    let tls_file = |n: &str| redis_tls_dir.join(n).display().to_string();
    start_redis(
        dir.path(),
        "tls",
        vec![
            "--port".into(),
            "0".into(),
            "--tls-port".into(),
            redis_tls_port.to_string(),
            "--tls-cert-file".into(),
            tls_file("cert.pem"),
            "--tls-key-file".into(),
            tls_file("key.pem"),
            "--tls-ca-cert-file".into(),
            tls_file("ca.pem"),
            "--tls-auth-clients".into(),
            "no".into(),
            "--requirepass".into(),
            REDIS_PASSWORD.into(),
        ],
        redis_tls_port,
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let bind = |rt: &tokio::runtime::Runtime| {
        let l = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = l.local_addr().unwrap().port();
        (l, port)
    };
    let (https, https_port) = bind(&runtime);
    let (expired, https_expired_port) = bind(&runtime);
    let (wrong, https_wrong_host_port) = bind(&runtime);
    let (http, http_port) = bind(&runtime);
    let (smtp_tls, smtp_starttls_port) = bind(&runtime);
    let (smtp_plain, smtp_plain_port) = bind(&runtime);
    let valid_cfg = server_config(&pki.valid.0, &pki.valid.1);
    runtime.spawn(serve_http(https, Some(valid_cfg.clone()), https_port));
    runtime.spawn(serve_http(
        expired,
        Some(server_config(&pki.expired.0, &pki.expired.1)),
        https_port,
    ));
    runtime.spawn(serve_http(
        wrong,
        Some(server_config(&pki.wrong_host.0, &pki.wrong_host.1)),
        https_port,
    ));
    runtime.spawn(serve_http(http, None, https_port));
    runtime.spawn(serve_smtp(smtp_tls, Some(valid_cfg)));
    runtime.spawn(serve_smtp(smtp_plain, None));

    // Accepts connections (the kernel completes the handshake) and never reads or answers.
    let blackhole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let blackhole_port = blackhole.local_addr().unwrap().port();

    for t in pg_threads {
        t.join().expect("PostgreSQL started");
    }
    Servers {
        pg_plain_dir: dir.path().join("pg-plain"),
        ca_pem,
        pg_tls_port,
        pg_plain_port,
        redis_open_port,
        redis_auth_port,
        redis_tls_port,
        https_port,
        https_expired_port,
        https_wrong_host_port,
        http_port,
        smtp_starttls_port,
        smtp_plain_port,
        blackhole_port,
        closed_port: free_port(),
        _dir: dir,
        _runtime: runtime,
        _blackhole: blackhole,
    }
}
