//! The only way a credential leaves greenlight: a reqwest client over rustls that verifies
//! certificates, follows no redirect, sends nothing but HTTPS, and reaches a host only through
//! the pinned name providers.toml gives. Per-host concurrency is bounded, a 429's `Retry-After`
//! is honoured once (bounded by the timeout), and nothing is retried anywhere else.
//!
//! Tests point providers at emulators with an [`Endpoints`] file: a map from pinned host names
//! to **loopback** addresses (anything else is refused) plus the emulators' CA. The name, SNI
//! and certificate check stay those of the provider; only where the TCP connection goes changes.
//! The CLI prints a warning whenever an override is in force.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Semaphore;

/// Requests in flight to one host at a time.
const PER_HOST: usize = 2;
/// The least time between two requests to one host: a run with many credentials of one
/// provider (a `scan --verify` of a large tree) does not burst.
const MIN_INTERVAL: Duration = Duration::from_millis(50);
/// The longest `Retry-After` greenlight waits for, once.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);
/// How much of an answer is read.
const BODY_LIMIT: usize = 256 * 1024;

/// Where tests send providers' traffic instead: loopback only.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    /// Pinned host (or `*.suffix`) → loopback address.
    pub hosts: Vec<(String, SocketAddr)>,
    /// A PEM CA the emulators' certificates chain to.
    pub ca_pem: Option<Vec<u8>>,
    /// Refuse every host the file does not map (other than loopback addresses): a test can then
    /// never reach a real provider, whatever the manifest names.
    pub only: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointsFile {
    #[serde(default)]
    ca: Option<String>,
    #[serde(default)]
    only: bool,
    hosts: indexmap::IndexMap<String, String>,
}

impl Endpoints {
    /// Reads an endpoints file; every address must be on loopback.
    pub fn load(path: &Path) -> Result<Endpoints, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let file: EndpointsFile =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut hosts = Vec::new();
        for (host, addr) in file.hosts {
            let a: SocketAddr = addr
                .parse()
                .map_err(|_| format!("{}: `{addr}` is not an IP:port", path.display()))?;
            if !a.ip().is_loopback() {
                return Err(format!(
                    "{}: `{host}` points at {a}, which is not a loopback address: provider endpoints may only be overridden to emulators on this machine",
                    path.display()
                ));
            }
            hosts.push((host, a));
        }
        let ca_pem = match file.ca {
            Some(ca) => {
                let p = path.parent().unwrap_or(Path::new(".")).join(ca);
                Some(std::fs::read(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?)
            }
            None => None,
        };
        Ok(Endpoints {
            hosts,
            ca_pem,
            only: file.only,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.ca_pem.is_none()
    }

    fn lookup(&self, host: &str) -> Option<SocketAddr> {
        self.hosts.iter().find_map(|(pattern, addr)| {
            let hit = match pattern.strip_prefix("*.") {
                Some(suffix) => host.strip_suffix(suffix).is_some_and(|label| {
                    label.ends_with('.') && !label[..label.len() - 1].contains('.')
                }),
                None => pattern == host,
            };
            hit.then_some(*addr)
        })
    }
}

/// One answer, as much of it as verification reads.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
}

/// Why there is no answer: said in a result, never containing the request's URL or headers.
#[derive(Debug, Clone)]
pub struct Failure(pub String);

pub struct Client {
    timeout: Duration,
    connect_timeout: Duration,
    endpoints: Endpoints,
    /// One client per pinned host: an override is a per-host DNS answer.
    clients: Mutex<HashMap<String, reqwest::Client>>,
    limits: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// When each host was last sent a request.
    last_sent: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Instant>>>>>,
    /// Every request sent (host, call), for `requests` in the results.
    pub sent: Mutex<Vec<(String, String)>>,
}

/// A request ready to send; `authority` is what the URL and Host carry.
pub struct Outgoing {
    pub method: reqwest::Method,
    pub host: String,
    pub port: Option<u16>,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub call: String,
    pub sign: Option<Signing>,
}

/// Header or query name–value pairs.
type Pairs = Vec<(String, String)>;

/// A request signature to compute once the authority (host and port) is known.
pub struct Signing {
    /// `aws-sigv4:SERVICE:REGION` or `pusher`.
    pub scheme: String,
    /// The roles' values (the signing keys among them).
    pub values: HashMap<String, String>,
}

impl Outgoing {
    /// The headers and query to send: the call's, plus the signature's.
    fn signed(&self, authority: &str) -> (Pairs, Pairs) {
        let mut headers = self.headers.clone();
        let mut query = self.query.clone();
        let Some(s) = &self.sign else {
            return (headers, query);
        };
        let value = |k: &str| s.values.get(k).map(String::as_str).unwrap_or_default();
        let content_type: Vec<(String, String)> = self
            .headers
            .iter()
            .filter(|(k, _)| k == "content-type")
            .cloned()
            .collect();
        let req = crate::sign::Request {
            method: self.method.as_str(),
            authority,
            path: &self.path,
            query: &self.query,
            headers: &content_type,
            body: &self.body,
        };
        let signed = if let Some(rest) = s.scheme.strip_prefix("aws-sigv4:") {
            let (service, region) = rest.split_once(':').unwrap_or((rest, "us-east-1"));
            let now = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
            crate::sign::aws_sigv4(
                &req,
                service,
                region,
                value("access_key"),
                value("secret_key"),
                &now,
            )
        } else {
            crate::sign::pusher(
                &req,
                value("key"),
                value("secret"),
                chrono::Utc::now().timestamp(),
            )
        };
        headers.extend(signed.headers);
        query.extend(signed.query);
        (headers, query)
    }
}

impl Client {
    pub fn new(timeout: Duration, connect_timeout: Duration, endpoints: Endpoints) -> Client {
        Client {
            timeout,
            connect_timeout,
            endpoints,
            clients: Mutex::new(HashMap::new()),
            limits: Mutex::new(HashMap::new()),
            last_sent: Mutex::new(HashMap::new()),
            sent: Mutex::new(Vec::new()),
        }
    }

    /// The host:port the request's URL will name: the override's port when one applies.
    pub fn authority(&self, host: &str, port: Option<u16>) -> String {
        match (self.endpoints.lookup(host), port) {
            (Some(addr), _) => format!("{host}:{}", addr.port()),
            (None, Some(p)) if p != 443 => format!("{host}:{p}"),
            _ => host.to_owned(),
        }
    }

    fn client_for(&self, host: &str) -> Result<reqwest::Client, Failure> {
        let mut clients = self.clients.lock().expect("not poisoned");
        if let Some(c) = clients.get(host) {
            return Ok(c.clone());
        }
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(concat!("greenlight-verify/", env!("CARGO_PKG_VERSION")))
            .no_proxy();
        if let Some(addr) = self.endpoints.lookup(host) {
            b = b.resolve(host, addr);
        }
        if let Some(pem) = &self.endpoints.ca_pem {
            let cert = reqwest::Certificate::from_pem(pem)
                .map_err(|_| Failure("the endpoints file's CA is not a PEM certificate".into()))?;
            b = b.add_root_certificate(cert);
        }
        let c = b
            .build()
            .map_err(|e| Failure(format!("cannot build an HTTPS client: {}", e.without_url())))?;
        clients.insert(host.to_owned(), c.clone());
        Ok(c)
    }

    /// Waits until the host's last request is `MIN_INTERVAL` old, and records this one.
    async fn pace(&self, host: &str) {
        let slot = self
            .last_sent
            .lock()
            .expect("not poisoned")
            .entry(host.to_owned())
            .or_default()
            .clone();
        let mut last = slot.lock().await;
        if let Some(at) = *last {
            let since = at.elapsed();
            if since < MIN_INTERVAL {
                tokio::time::sleep(MIN_INTERVAL - since).await;
            }
        }
        *last = Some(Instant::now());
    }

    fn limit(&self, host: &str) -> Arc<Semaphore> {
        self.limits
            .lock()
            .expect("not poisoned")
            .entry(host.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(PER_HOST)))
            .clone()
    }

    /// Sends the request; on 429 waits `Retry-After` once when it fits in the timeout.
    pub async fn send(&self, req: &Outgoing) -> Result<Answer, Failure> {
        if self.endpoints.only
            && self.endpoints.lookup(&req.host).is_none()
            && !req
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
        {
            return Err(Failure(format!(
                "{} is not in the endpoints file, which allows no other host",
                req.host
            )));
        }
        let client = self.client_for(&req.host)?;
        let authority = self.authority(&req.host, req.port);
        let (headers, query) = req.signed(&authority);
        let url = if query.is_empty() {
            format!("https://{authority}{}", req.path)
        } else {
            let q: Vec<String> = query
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}={}",
                        crate::sign::uri_encode(k),
                        crate::sign::uri_encode(v)
                    )
                })
                .collect();
            format!("https://{authority}{}?{}", req.path, q.join("&"))
        };
        let started = Instant::now();
        let permit = self.limit(&req.host);
        let _permit = permit.acquire().await.expect("never closed");
        let mut waited = false;
        loop {
            self.pace(&req.host).await;
            self.sent
                .lock()
                .expect("not poisoned")
                .push((req.host.clone(), req.call.clone()));
            let mut r = client.request(req.method.clone(), &url);
            for (k, v) in &headers {
                r = r.header(k, v);
            }
            if !req.body.is_empty() {
                r = r.body(req.body.clone());
            }
            let resp = r.send().await.map_err(|e| describe(&e, &req.host, self))?;
            let status = resp.status().as_u16();
            let headers: HashMap<String, String> = resp
                .headers()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect();
            if status == 429 && !waited {
                let wait = headers
                    .get("retry-after")
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                match wait {
                    Some(w) if w <= MAX_RETRY_AFTER && started.elapsed() + w < self.timeout => {
                        waited = true;
                        tokio::time::sleep(w).await;
                        continue;
                    }
                    _ => {}
                }
            }
            let mut resp = resp;
            let mut body = Vec::new();
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|e| describe(&e, &req.host, self))?
            {
                body.extend_from_slice(&chunk);
                if body.len() >= BODY_LIMIT {
                    body.truncate(BODY_LIMIT);
                    break;
                }
            }
            return Ok(Answer {
                status,
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
    }
}

/// An error, said without the URL (a query may carry a token) and without reqwest's debug form.
fn describe(e: &reqwest::Error, host: &str, client: &Client) -> Failure {
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        causes.push(s.to_string());
        source = s.source();
    }
    let detail = causes.last().cloned().unwrap_or_default();
    let what = if e.is_timeout() {
        format!("{host} did not answer within {:?}", client.timeout)
    } else if e.is_connect() {
        format!("cannot connect to {host}")
    } else if e.is_redirect() {
        format!("{host} answered with a redirect, which greenlight does not follow")
    } else {
        format!("the request to {host} failed")
    };
    Failure(if detail.is_empty() {
        what
    } else {
        format!("{what}: {detail}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_are_loopback_only() {
        let dir = std::env::temp_dir().join(format!("gl-endpoints-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("e.toml");
        std::fs::write(&f, "[hosts]\n\"api.stripe.com\" = \"10.0.0.1:443\"\n").unwrap();
        let err = Endpoints::load(&f).unwrap_err();
        assert!(err.contains("not a loopback address"), "{err}");
        std::fs::write(
            &f,
            "[hosts]\n\"api.stripe.com\" = \"127.0.0.1:4443\"\n\"*.supabase.co\" = \"[::1]:5\"\n",
        )
        .unwrap();
        let e = Endpoints::load(&f).unwrap();
        assert_eq!(e.lookup("api.stripe.com").unwrap().port(), 4443);
        assert!(e.lookup("abc.supabase.co").is_some());
        assert!(e.lookup("a.b.supabase.co").is_none());
        assert!(e.lookup("supabase.co").is_none());
        assert!(e.lookup("api.stripe.com.evil.io").is_none());
    }
}
