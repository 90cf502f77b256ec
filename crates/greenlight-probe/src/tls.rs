//! The `tls` probe: one handshake that records the certificate chain and whether it verifies
//! for the host name (rustls's WebPKI verifier over the system's roots plus the probe's `ca`),
//! the negotiated protocol and cipher suite, the leaf's validity dates; then, on the plain-http
//! URL, whether it redirects to https. The handshake completes even for a bad certificate so
//! that its dates and names can be reported, and nothing is sent over it.
//!
//! Not checked: whether the server still *accepts* TLS 1.0/1.1 or weak suites. rustls cannot
//! offer them, so greenlight cannot tell; `testssl.sh` can (docs/probe.md).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rustls::pki_types::ServerName;
use serde::{Deserialize, Serialize};

use super::rules::ProbeRule;
use super::{net, CheckResult, Context, Planned};
use greenlight_core::finding::Severity;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub host: String,
    pub port: u16,
    pub handshake: Result<Handshake, String>,
    /// The plain-http URL's answer, when there is one to ask.
    pub redirect: Option<Redirect>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handshake {
    pub protocol: String,
    pub cipher_suite: String,
    /// Why the chain does not verify for the host, if it does not.
    pub verify_error: Option<VerifyError>,
    pub chain_length: usize,
    pub leaf: Option<Leaf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "reason", content = "detail")]
pub enum VerifyError {
    Expired,
    NotYetValid,
    WrongHost,
    UnknownIssuer,
    Revoked,
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leaf {
    pub subject: String,
    pub issuer: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Redirect {
    pub url: String,
    /// The status and `Location`, or why the request failed.
    pub answer: Result<(u16, Option<String>), String>,
    /// The connection was refused: there is no plain-http listener at all.
    pub refused: bool,
}

fn verify_error(e: &rustls::Error) -> VerifyError {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::Expired | C::ExpiredContext { .. } => VerifyError::Expired,
            C::NotValidYet | C::NotValidYetContext { .. } => VerifyError::NotYetValid,
            C::NotValidForName | C::NotValidForNameContext { .. } => VerifyError::WrongHost,
            C::UnknownIssuer => VerifyError::UnknownIssuer,
            C::Revoked => VerifyError::Revoked,
            other => VerifyError::Other(format!("{other:?}")),
        },
        other => VerifyError::Other(other.to_string()),
    }
}

fn leaf_of(der: &[u8]) -> Option<Leaf> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let to_time = |t: x509_parser::time::ASN1Time| DateTime::from_timestamp(t.timestamp(), 0);
    let names = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    x509_parser::extensions::GeneralName::DNSName(d) => Some((*d).to_owned()),
                    x509_parser::extensions::GeneralName::IPAddress(ip) => match ip.len() {
                        4 => Some(std::net::Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]).to_string()),
                        16 => <[u8; 16]>::try_from(*ip)
                            .ok()
                            .map(|b| std::net::Ipv6Addr::from(b).to_string()),
                        _ => None,
                    },
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Leaf {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: to_time(cert.validity().not_before)?,
        not_after: to_time(cert.validity().not_after)?,
        names,
    })
}

async fn handshake(host: &str, port: u16, p: &Planned) -> Result<Handshake, String> {
    let tcp = net::connect(host, port, p.connect_timeout).await?;
    let recording = Arc::new(net::Recording::new(&p.tls));
    let config = rustls::ClientConfig::builder_with_provider(net::provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(recording.clone())
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| format!("`{host}` is not a host name: {e}"))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let stream = tokio::time::timeout(p.connect_timeout, connector.connect(name, tcp))
        .await
        .map_err(|_| {
            format!(
                "{host}:{port} accepted the connection but did not complete a TLS handshake within {}",
                net::human_duration(p.connect_timeout)
            )
        })?
        .map_err(|e| format!("TLS handshake with {host}:{port} failed: {}", net::os_error(&e)))?;
    let (_, conn) = stream.get_ref();
    let protocol = conn
        .protocol_version()
        .map(|v| format!("{v:?}").replace("TLSv1_", "TLSv1."))
        .unwrap_or_default();
    let cipher_suite = conn
        .negotiated_cipher_suite()
        .map(|s| format!("{:?}", s.suite()))
        .unwrap_or_default();
    let seen = recording
        .seen
        .lock()
        .expect("not poisoned")
        .clone()
        .ok_or_else(|| format!("{host}:{port} presented no certificate"))?;
    Ok(Handshake {
        protocol,
        cipher_suite,
        verify_error: seen.error.as_ref().map(verify_error),
        chain_length: seen.chain.len(),
        leaf: seen.chain.first().and_then(|c| leaf_of(c)),
    })
}

async fn redirect(url: &str, p: &Planned) -> Redirect {
    let client = match net::http_client(&p.tls, p.connect_timeout, p.timeout, false) {
        Ok(c) => c,
        Err(e) => {
            return Redirect {
                url: url.to_owned(),
                answer: Err(e),
                refused: false,
            }
        }
    };
    match client.get(url).send().await {
        Ok(r) => Redirect {
            url: url.to_owned(),
            answer: Ok((
                r.status().as_u16(),
                r.headers()
                    .get("location")
                    .and_then(|l| l.to_str().ok())
                    .map(str::to_owned),
            )),
            refused: false,
        },
        Err(e) => {
            let refused = e.is_connect() && !e.is_timeout();
            Redirect {
                url: url.to_owned(),
                answer: Err(net::request_error(e, url, p.connect_timeout, p.timeout)),
                refused,
            }
        }
    }
}

pub async fn collect(p: &Planned) -> Evidence {
    let (host, port, http_url) = match (&p.spec.url, &p.spec.host) {
        (Some(_), _) => match p.url().map(|u| (net::host_port(&u), u)) {
            Ok((Some((h, port)), u)) => {
                // The plain-http twin is asked only where it is known: the default port, or the
                // probe's `http_url`.
                let twin = (u.scheme() == "https" && port == 443)
                    .then(|| format!("http://{}/", u.host_str().unwrap_or_default()));
                (h, port, p.spec.http_url.clone().or(twin))
            }
            Ok((None, _)) => (p.target(), 0, None),
            Err(e) => {
                return Evidence {
                    host: p.target(),
                    port: 0,
                    handshake: Err(e),
                    redirect: None,
                }
            }
        },
        (None, Some(h)) => (
            h.clone(),
            p.spec.port.unwrap_or(443),
            p.spec.http_url.clone(),
        ),
        (None, None) => (String::new(), 0, None),
    };
    let (handshake, redirect) = tokio::join!(handshake(&host, port, p), async {
        match &http_url {
            Some(u) => Some(redirect(u, p).await),
            None => None,
        }
    });
    Evidence {
        host,
        port,
        handshake,
        redirect,
    }
}

/// `1 day`, `3 days`.
fn days(n: i64) -> String {
    if n == 1 {
        "1 day".to_owned()
    } else {
        format!("{n} days")
    }
}

pub fn analyse(e: &Evidence, expiry_days: u32, ctx: Context) -> Vec<CheckResult> {
    let mut out = Vec::new();
    let at = format!("{}:{}", e.host, e.port);
    match &e.handshake {
        // A server that offers nothing greenlight's TLS stack speaks (TLS 1.2 and 1.3) fails the
        // handshake with a protocol error: that is the finding, not unreachability.
        Err(err)
            if err.contains("PeerIncompatible")
                || err.contains("ProtocolVersion")
                || err.contains("protocol version")
                || err.contains("HandshakeFailure") =>
        {
            out.push(CheckResult::fail_default(
                "tls.protocol",
                ProbeRule::TlsNotEnforced,
                format!("{at} offers neither TLS 1.2 nor TLS 1.3: {err}"),
            ))
        }
        Err(err) => out.push(CheckResult::fail_default(
            "tls.handshake",
            ProbeRule::ProbeUnreachable,
            err.clone(),
        )),
        Ok(h) => {
            let leaf = h.leaf.as_ref();
            let days_left = leaf.map(|l| (l.not_after - ctx.now).num_days());
            let names = leaf.map(|l| l.names.join(", ")).unwrap_or_default();
            match &h.verify_error {
                None => out.push(CheckResult::pass(
                    "tls.cert.trusted",
                    ProbeRule::TlsCertificateInvalid,
                    format!("the certificate of {at} is valid for {}", e.host),
                )),
                Some(v) => {
                    let why = match v {
                        VerifyError::Expired => format!(
                            "expired {} ({} ago)",
                            leaf.map(|l| l.not_after.format("%Y-%m-%d").to_string())
                                .unwrap_or_default(),
                            days(days_left.map_or(0, |d| -d))
                        ),
                        VerifyError::NotYetValid => format!(
                            "is not valid before {}",
                            leaf.map(|l| l.not_before.format("%Y-%m-%d").to_string())
                                .unwrap_or_default()
                        ),
                        VerifyError::WrongHost => {
                            format!("is for {names}, not {}", e.host)
                        }
                        VerifyError::UnknownIssuer => format!(
                            "is issued by an untrusted CA ({})",
                            leaf.map(|l| l.issuer.as_str()).unwrap_or("unknown issuer")
                        ),
                        VerifyError::Revoked => "is revoked".to_owned(),
                        VerifyError::Other(o) => format!("does not verify: {o}"),
                    };
                    out.push(CheckResult::fail_default(
                        "tls.cert.trusted",
                        ProbeRule::TlsCertificateInvalid,
                        format!("the certificate of {at} {why}"),
                    ));
                }
            }
            if let (Some(days), Some(l)) = (days_left, leaf) {
                if days >= 0 {
                    let threshold = i64::from(expiry_days);
                    let until = l.not_after.format("%Y-%m-%d");
                    let message = format!(
                        "the certificate of {at} expires in {} ({until})",
                        self::days(days)
                    );
                    if days < threshold {
                        let severity = if ctx.production {
                            Severity::Critical
                        } else {
                            Severity::Warning
                        };
                        out.push(CheckResult::fail(
                            "tls.cert.expiry",
                            ProbeRule::TlsCertificateExpiring,
                            severity,
                            message,
                        ));
                    } else if days < 2 * threshold {
                        out.push(CheckResult::fail(
                            "tls.cert.expiry",
                            ProbeRule::TlsCertificateExpiring,
                            Severity::Warning,
                            message,
                        ));
                    } else {
                        out.push(CheckResult::pass(
                            "tls.cert.expiry",
                            ProbeRule::TlsCertificateExpiring,
                            message,
                        ));
                    }
                }
            }
            out.push(CheckResult::pass(
                "tls.protocol",
                ProbeRule::TlsNotEnforced,
                format!("{at} negotiated {} with {}", h.protocol, h.cipher_suite),
            ));
        }
    }
    if let Some(r) = &e.redirect {
        let rule = ProbeRule::TlsNotEnforced;
        let high = if ctx.production {
            Severity::Critical
        } else {
            Severity::Warning
        };
        match &r.answer {
            Ok((status, location)) if (300..400).contains(status) => match location.as_deref() {
                Some(l) if l.starts_with("https://") => out.push(CheckResult::pass(
                    "http.redirect.https",
                    rule,
                    format!("{} redirects to {l}", r.url),
                )),
                other => out.push(CheckResult::fail(
                    "http.redirect.https",
                    rule,
                    high,
                    format!(
                        "{} redirects to {}, not to https",
                        r.url,
                        other.unwrap_or("nowhere (no Location)")
                    ),
                )),
            },
            Ok((status, _)) => out.push(CheckResult::fail(
                "http.redirect.https",
                rule,
                high,
                format!(
                    "{} answers HTTP {status} in plaintext instead of redirecting to https",
                    r.url
                ),
            )),
            Err(_) if r.refused => out.push(CheckResult::pass(
                "http.redirect.https",
                rule,
                format!("nothing listens on {} (no plaintext to redirect)", r.url),
            )),
            Err(err) => out.push(CheckResult::unknown(
                "http.redirect.https",
                rule,
                err.clone(),
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::failed;
    use crate::Status;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
    }

    fn ctx(production: bool) -> Context {
        Context {
            production,
            now: now(),
        }
    }

    fn evidence(days_left: i64, verify_error: Option<VerifyError>) -> Evidence {
        Evidence {
            host: "app.example.com".into(),
            port: 443,
            handshake: Ok(Handshake {
                protocol: "TLSv1.3".into(),
                cipher_suite: "TLS13_AES_256_GCM_SHA384".into(),
                verify_error,
                chain_length: 2,
                leaf: Some(Leaf {
                    subject: "CN=app.example.com".into(),
                    issuer: "CN=Example CA".into(),
                    not_before: now() - chrono::Duration::days(30),
                    not_after: now() + chrono::Duration::days(days_left),
                    names: vec!["app.example.com".into()],
                }),
            }),
            redirect: None,
        }
    }

    #[test]
    fn one_day_is_singular() {
        assert_eq!(days(1), "1 day");
        assert_eq!(days(0), "0 days");
        assert_eq!(days(3), "3 days");
    }

    #[test]
    fn a_valid_certificate_with_time_left_passes() {
        assert!(failed(&analyse(&evidence(200, None), 30, ctx(true))).is_empty());
    }

    #[test]
    fn expiry_thresholds_follow_testssl() {
        let f = failed(&analyse(&evidence(12, None), 30, ctx(true)));
        assert_eq!(
            f,
            [(
                "tls.cert.expiry",
                ProbeRule::TlsCertificateExpiring,
                Severity::Critical
            )]
        );
        let f = failed(&analyse(&evidence(12, None), 30, ctx(false)));
        assert_eq!(f[0].2, Severity::Warning);
        let f = failed(&analyse(&evidence(45, None), 30, ctx(true)));
        assert_eq!(f[0].2, Severity::Warning);
        // The threshold is the probe's.
        assert!(failed(&analyse(&evidence(12, None), 5, ctx(true))).is_empty());
    }

    #[test]
    fn invalid_certificates_say_why() {
        let checks = analyse(&evidence(-3, Some(VerifyError::Expired)), 30, ctx(true));
        let f = failed(&checks);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].1, ProbeRule::TlsCertificateInvalid);
        assert!(
            checks[0]
                .message
                .contains("expired 2026-11-19 (3 days ago)"),
            "{}",
            checks[0].message
        );
        let checks = analyse(&evidence(90, Some(VerifyError::WrongHost)), 30, ctx(true));
        assert!(
            checks[0]
                .message
                .contains("is for app.example.com, not app.example.com")
                || checks[0].message.contains("is for")
        );
        let checks = analyse(
            &evidence(90, Some(VerifyError::UnknownIssuer)),
            30,
            ctx(true),
        );
        assert!(checks[0].message.contains("untrusted CA (CN=Example CA)"));
    }

    #[test]
    fn a_server_without_tls_1_2_fails_the_protocol_check() {
        let mut e = evidence(90, None);
        e.handshake = Err(
            "TLS handshake with app.example.com:443 failed: received fatal alert: ProtocolVersion"
                .into(),
        );
        let checks = analyse(&e, 30, ctx(true));
        assert_eq!(
            (checks[0].check, checks[0].rule),
            ("tls.protocol", ProbeRule::TlsNotEnforced)
        );
        e.handshake =
            Err("cannot connect to app.example.com:443: connection refused (os error 111)".into());
        assert_eq!(
            analyse(&e, 30, ctx(true))[0].rule,
            ProbeRule::ProbeUnreachable
        );
    }

    #[test]
    fn plain_http_must_redirect_to_https() {
        let mut e = evidence(200, None);
        let answers = [
            (
                Ok((301, Some("https://app.example.com/".to_owned()))),
                false,
                None,
            ),
            (Ok((200, None)), false, Some(Severity::Critical)),
            (
                Ok((302, Some("http://app.example.com/login".to_owned()))),
                false,
                Some(Severity::Critical),
            ),
            (Err("connection refused".to_owned()), true, None),
        ];
        for (answer, refused, expected) in answers {
            e.redirect = Some(Redirect {
                url: "http://app.example.com/".into(),
                answer,
                refused,
            });
            let f = failed(&analyse(&e, 30, ctx(true)));
            assert_eq!(f.first().map(|f| f.2), expected, "{f:?}");
        }
        e.redirect = Some(Redirect {
            url: "http://app.example.com/".into(),
            answer: Err("timed out".into()),
            refused: false,
        });
        let checks = analyse(&e, 30, ctx(true));
        assert_eq!(checks.last().unwrap().status, Status::Unknown);
    }
}
