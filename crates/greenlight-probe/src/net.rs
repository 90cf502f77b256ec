//! The network plumbing every collector shares: trusted roots, rustls client configurations
//! (verifying by default, with the probe's own CA added), TCP connections with a connect
//! timeout, and error messages that name host, port and the operating system's error.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;

/// The TLS settings of one probe.
#[derive(Debug, Clone, Default)]
pub struct TlsSettings {
    /// Extra trusted roots (the probe's `ca` file), DER.
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// `false` only when the manifest says `tls_verify = false` for this probe.
    pub verify: bool,
}

impl TlsSettings {
    pub fn load(ca: Option<&Path>, verify: bool) -> Result<TlsSettings, String> {
        let mut extra_roots = Vec::new();
        if let Some(path) = ca {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read CA file {}: {e}", path.display()))?;
            for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                extra_roots
                    .push(cert.map_err(|e| format!("CA file {} is not PEM: {e}", path.display()))?);
            }
            if extra_roots.is_empty() {
                return Err(format!("CA file {} holds no certificate", path.display()));
            }
        }
        Ok(TlsSettings {
            extra_roots,
            verify,
        })
    }

    /// The PEM text of the extra roots, for clients that take PEM (redis).
    pub fn extra_roots_pem(&self) -> Option<Vec<u8>> {
        use base64::Engine as _;
        if self.extra_roots.is_empty() {
            return None;
        }
        let mut out = String::new();
        for c in &self.extra_roots {
            out.push_str("-----BEGIN CERTIFICATE-----\n");
            let b64 = base64::engine::general_purpose::STANDARD.encode(c.as_ref());
            for chunk in b64.as_bytes().chunks(64) {
                out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
                out.push('\n');
            }
            out.push_str("-----END CERTIFICATE-----\n");
        }
        Some(out.into_bytes())
    }
}

pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The system's trusted roots, loaded once per process.
fn native_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

pub fn root_store(settings: &TlsSettings) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(native_roots().iter().cloned());
    roots.add_parsable_certificates(settings.extra_roots.iter().cloned());
    roots
}

/// A client configuration that verifies the server (unless the probe turned verification off).
pub fn client_config(settings: &TlsSettings) -> Arc<ClientConfig> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions");
    let config = if settings.verify {
        builder
            .with_root_certificates(root_store(settings))
            .with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Recording::new(settings)))
            .with_no_client_auth()
    };
    Arc::new(config)
}

/// What the server presented and whether it verified.
#[derive(Debug, Clone)]
pub struct SeenChain {
    pub chain: Vec<CertificateDer<'static>>,
    /// `None` when the chain verified for the host name; otherwise why not.
    pub error: Option<rustls::Error>,
}

/// A verifier that verifies like rustls's own but lets the handshake finish either way, keeping
/// the chain and the verdict: the `tls` probe must read an expired or misnamed certificate to
/// report on it. Only the `tls` probe (which sends no data) and probes with `tls_verify = false`
/// use it.
#[derive(Debug)]
pub struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    pub seen: Mutex<Option<SeenChain>>,
}

impl Recording {
    pub fn new(settings: &TlsSettings) -> Recording {
        let inner =
            WebPkiServerVerifier::builder_with_provider(Arc::new(root_store(settings)), provider())
                .build()
                .expect("a verifier over a root store builds");
        Recording {
            inner,
            seen: Mutex::new(None),
        }
    }
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        let mut chain = vec![end_entity.clone().into_owned()];
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        *self.seen.lock().expect("not poisoned") = Some(SeenChain {
            chain,
            error: verdict.err(),
        });
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// An HTTP client for one probe: its TLS settings, its timeouts, no proxy (only the manifest's
/// hosts are contacted) and redirects followed only to the same host, at most five.
pub fn http_client(
    tls: &TlsSettings,
    connect_timeout: Duration,
    timeout: Duration,
    follow_redirects: bool,
) -> Result<reqwest::Client, String> {
    let policy = if follow_redirects {
        reqwest::redirect::Policy::custom(|attempt| {
            let same_host = attempt
                .previous()
                .first()
                .is_some_and(|first| first.host_str() == attempt.url().host_str());
            if attempt.previous().len() >= 5 || !same_host {
                attempt.stop()
            } else {
                attempt.follow()
            }
        })
    } else {
        reqwest::redirect::Policy::none()
    };
    reqwest::Client::builder()
        .use_preconfigured_tls((*client_config(tls)).clone())
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .redirect(policy)
        .no_proxy()
        .user_agent(concat!("greenlight-probe/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| error_chain(&e))
}

/// A request error as a sentence: the URL left out (it may carry a token in its query), the
/// cause chain kept, and a timeout said as such.
pub fn request_error(
    e: reqwest::Error,
    target: &str,
    connect_timeout: Duration,
    timeout: Duration,
) -> String {
    if e.is_timeout() && e.is_connect() {
        return format!(
            "cannot connect to {target}: no answer within {} (connect timeout)",
            human_duration(connect_timeout)
        );
    }
    if e.is_timeout() {
        return format!(
            "{target} accepted the connection but did not answer within {}",
            human_duration(timeout)
        );
    }
    let connect = e.is_connect();
    let e = e.without_url();
    let text = error_chain(&e);
    // hyper's and reqwest's wrappers ("client error (Connect)", "tcp connect error") say nothing
    // a reader needs: keep what the operating system or TLS said.
    let text = plain_cause(&text);
    if connect {
        format!("cannot connect to {target}: {text}")
    } else {
        format!("request to {target} failed: {text}")
    }
}

/// An error chain without the HTTP libraries' own wrapper phrases.
fn plain_cause(chain: &str) -> String {
    const WRAPPERS: &[&str] = &[
        "error sending request",
        "client error (Connect)",
        "client error (SendRequest)",
        "tcp connect error",
        "error trying to connect",
        "connection error",
    ];
    let parts: Vec<&str> = chain
        .split(": ")
        .map(str::trim)
        .filter(|p| !p.is_empty() && !WRAPPERS.contains(p))
        .collect();
    if parts.is_empty() {
        chain.to_owned()
    } else {
        parts.join(": ")
    }
}

/// Whether an error text is a certificate verification failure.
pub fn is_certificate_error(text: &str) -> bool {
    text.contains("invalid peer certificate") || text.contains("certificate verify failed")
}

/// Connects with a timeout; the error names host, port and the OS error.
pub async fn connect(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, String> {
    match tokio::time::timeout(timeout, TcpStream::connect((host, port))).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(format!("cannot connect to {host}:{port}: {}", os_error(&e))),
        Err(_) => Err(format!(
            "cannot connect to {host}:{port}: no answer within {} (connect timeout)",
            human_duration(timeout)
        )),
    }
}

/// `connection refused (os error 111)`: the OS's words, lower-cased like the rest of the message.
pub fn os_error(e: &std::io::Error) -> String {
    let text = e.to_string();
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

/// An error and its causes, joined, without repeats (reqwest and hyper nest the same text).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let text = match err.downcast_ref::<std::io::Error>() {
            Some(io) => os_error(io),
            None => err.to_string(),
        };
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    parts.join(": ")
}

pub fn human_duration(d: Duration) -> String {
    if d.as_millis() % 1000 == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// Host and port of a URL, with the scheme's default port.
pub fn host_port(url: &url::Url) -> Option<(String, u16)> {
    let host = match url.host()? {
        url::Host::Ipv6(a) => a.to_string(),
        h => h.to_string(),
    };
    Some((host, url.port_or_known_default()?))
}

/// A GET's answer, as much as a probe reads of it.
pub struct Fetched {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
    pub elapsed_ms: f64,
}

/// GETs the probe's URL with `accept`, following same-host redirects, reading at most `limit`
/// bytes of the body: the fetch of the `http` and `metrics` probes.
pub async fn fetch(p: &crate::Planned, accept: &str, limit: usize) -> Result<Fetched, String> {
    let target = p.target();
    let client = http_client(&p.tls, p.connect_timeout, p.timeout, true)?;
    let url = p.url()?;
    let started = std::time::Instant::now();
    let err = |e| request_error(e, &target, p.connect_timeout, p.timeout);
    let mut resp = client
        .get(url)
        .header("accept", accept)
        .send()
        .await
        .map_err(err)?;
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(err)? {
        body.extend_from_slice(&chunk);
        if body.len() >= limit {
            body.truncate(limit);
            break;
        }
    }
    Ok(Fetched {
        status,
        content_type,
        body: String::from_utf8_lossy(&body).into_owned(),
        elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

#[cfg(test)]
mod plain_cause_tests {
    #[test]
    fn wrapper_phrases_are_dropped() {
        assert_eq!(
            super::plain_cause(
                "client error (Connect): tcp connect error: connection refused (os error 111)"
            ),
            "connection refused (os error 111)"
        );
        assert_eq!(
            super::plain_cause("error sending request: invalid peer certificate: Expired"),
            "invalid peer certificate: Expired"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_chain_drops_repeats() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        assert_eq!(error_chain(&io), "connection refused");
    }

    #[test]
    fn durations_read_as_written() {
        assert_eq!(human_duration(Duration::from_secs(3)), "3s");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1500ms");
    }

    #[test]
    fn extra_roots_round_trip_through_pem() {
        let settings = TlsSettings {
            extra_roots: vec![CertificateDer::from(vec![1u8, 2, 3, 4, 5])],
            verify: true,
        };
        let pem = settings.extra_roots_pem().unwrap();
        let back: Vec<_> = rustls_pemfile::certs(&mut pem.as_slice())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(back, settings.extra_roots);
    }
}
