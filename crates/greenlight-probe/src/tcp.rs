//! The `tcp` probe: a host:port accepts connections; with `starttls = "smtp"`, the SMTP server
//! greets, advertises STARTTLS after EHLO, and completes a verified TLS handshake after it
//! (RFC 3207). Nothing else is sent: no MAIL FROM, no credentials.

use std::time::Instant;

use rustls::pki_types::ServerName;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::rules::ProbeRule;
use super::{net, CheckResult, Context, Planned};
use greenlight_core::finding::Severity;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub target: String,
    pub connect: Result<f64, String>,
    pub starttls: Option<StartTls>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartTls {
    /// The EHLO answer's capability lines, or why there is none.
    pub capabilities: Result<Vec<String>, String>,
    /// The handshake after `STARTTLS`, when it was offered.
    pub handshake: Option<Result<String, String>>,
}

/// Reads one SMTP reply (possibly multi-line, `250-…` then `250 …`); bounded in lines.
async fn reply<R: tokio::io::AsyncBufRead + Unpin>(
    r: &mut R,
) -> Result<(u16, Vec<String>), String> {
    let mut lines = Vec::new();
    for _ in 0..100 {
        let mut line = String::new();
        let n = r
            .read_line(&mut line)
            .await
            .map_err(|e| net::os_error(&e))?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        let line = line.trim_end().to_owned();
        let code: u16 = line
            .get(..3)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("not an SMTP reply: {}", super::excerpt(&line, 60)))?;
        let last = line.as_bytes().get(3) != Some(&b'-');
        lines.push(line.get(4..).unwrap_or_default().to_owned());
        if last {
            return Ok((code, lines));
        }
    }
    Err("an SMTP reply of more than 100 lines".into())
}

async fn smtp(stream: tokio::net::TcpStream, host: &str, p: &Planned) -> StartTls {
    let mut reader = BufReader::new(stream);
    let capabilities = async {
        let (code, _) = reply(&mut reader).await?;
        if code != 220 {
            return Err(format!("the greeting is {code}, not 220"));
        }
        reader
            .get_mut()
            .write_all(b"EHLO greenlight.invalid\r\n")
            .await
            .map_err(|e| net::os_error(&e))?;
        let (code, lines) = reply(&mut reader).await?;
        if code != 250 {
            return Err(format!("EHLO was answered {code}"));
        }
        Ok(lines)
    };
    let capabilities = match tokio::time::timeout(p.connect_timeout, capabilities).await {
        Ok(c) => c,
        Err(_) => Err(format!(
            "no SMTP greeting and EHLO answer within {}",
            net::human_duration(p.connect_timeout)
        )),
    };
    let offered = capabilities
        .as_ref()
        .is_ok_and(|c| c.iter().any(|l| l.eq_ignore_ascii_case("STARTTLS")));
    let handshake = if offered {
        Some(
            async {
                reader
                    .get_mut()
                    .write_all(b"STARTTLS\r\n")
                    .await
                    .map_err(|e| net::os_error(&e))?;
                let (code, _) = reply(&mut reader).await?;
                if code != 220 {
                    return Err(format!("STARTTLS was answered {code}"));
                }
                let name = ServerName::try_from(host.to_owned()).map_err(|e| e.to_string())?;
                let connector = tokio_rustls::TlsConnector::from(net::client_config(&p.tls));
                let tls = connector
                    .connect(name, reader.into_inner())
                    .await
                    .map_err(|e| net::error_chain(&e))?;
                let version = tls
                    .get_ref()
                    .1
                    .protocol_version()
                    .map(|v| format!("{v:?}").replace("TLSv1_", "TLSv1."))
                    .unwrap_or_default();
                Ok(version)
            }
            .await,
        )
    } else {
        None
    };
    StartTls {
        capabilities,
        handshake,
    }
}

pub async fn collect(p: &Planned) -> Evidence {
    let host = p.spec.host.clone().unwrap_or_default();
    let port = p.spec.port.unwrap_or(0);
    let started = Instant::now();
    match net::connect(&host, port, p.connect_timeout).await {
        Err(e) => Evidence {
            target: format!("{host}:{port}"),
            connect: Err(e),
            starttls: None,
        },
        Ok(stream) => {
            let connected = started.elapsed().as_secs_f64() * 1000.0;
            let starttls = match p.spec.starttls.as_deref() {
                Some("smtp") => Some(smtp(stream, &host, p).await),
                _ => None,
            };
            Evidence {
                target: format!("{host}:{port}"),
                connect: Ok(connected),
                starttls,
            }
        }
    }
}

pub fn analyse(e: &Evidence, ctx: Context) -> Vec<CheckResult> {
    let mut out = Vec::new();
    match &e.connect {
        Err(err) => {
            out.push(CheckResult::fail_default(
                "tcp.reachable",
                ProbeRule::ProbeUnreachable,
                err.clone(),
            ));
            return out;
        }
        Ok(ms) => out.push(CheckResult::pass(
            "tcp.reachable",
            ProbeRule::ProbeUnreachable,
            format!("{} accepted a connection in {ms:.1} ms", e.target),
        )),
    }
    let Some(s) = &e.starttls else { return out };
    let high = if ctx.production {
        Severity::Critical
    } else {
        Severity::Warning
    };
    match (&s.capabilities, &s.handshake) {
        (Err(err), _) => out.push(CheckResult::unknown(
            "smtp.starttls",
            ProbeRule::TlsNotEnforced,
            format!("{}: {err}", e.target),
        )),
        (Ok(_), None) => out.push(CheckResult::fail(
            "smtp.starttls",
            ProbeRule::TlsNotEnforced,
            high,
            format!(
                "{} does not offer STARTTLS: mail and SMTP credentials would travel in the clear",
                e.target
            ),
        )),
        (Ok(_), Some(Ok(version))) => out.push(CheckResult::pass(
            "smtp.starttls",
            ProbeRule::TlsNotEnforced,
            format!(
                "{} upgrades to {version} with a valid certificate",
                e.target
            ),
        )),
        (Ok(_), Some(Err(err))) => {
            let rule = if net::is_certificate_error(err) {
                ProbeRule::TlsCertificateInvalid
            } else {
                ProbeRule::TlsNotEnforced
            };
            out.push(CheckResult::fail(
                "smtp.starttls",
                rule,
                high,
                format!(
                    "{}: the TLS handshake after STARTTLS failed: {err}",
                    e.target
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    fn ctx() -> Context {
        Context {
            production: true,
            now: chrono::Utc::now(),
        }
    }

    fn evidence(
        caps: Result<Vec<String>, String>,
        handshake: Option<Result<String, String>>,
    ) -> Evidence {
        Evidence {
            target: "smtp.example.com:587".into(),
            connect: Ok(2.0),
            starttls: Some(StartTls {
                capabilities: caps,
                handshake,
            }),
        }
    }

    #[test]
    fn smtp_without_starttls_fails_in_production() {
        let e = evidence(Ok(vec!["SIZE 10240000".into(), "AUTH PLAIN".into()]), None);
        let c = &analyse(&e, ctx())[1];
        assert_eq!(
            (c.status, c.rule),
            (Status::Fail, ProbeRule::TlsNotEnforced)
        );
        assert_eq!(c.severity, Some(Severity::Critical));
    }

    #[test]
    fn starttls_with_a_bad_certificate_is_invalid() {
        let e = evidence(
            Ok(vec!["STARTTLS".into()]),
            Some(Err("invalid peer certificate: UnknownIssuer".into())),
        );
        assert_eq!(analyse(&e, ctx())[1].rule, ProbeRule::TlsCertificateInvalid);
        let e = evidence(Ok(vec!["STARTTLS".into()]), Some(Ok("TLSv1.3".into())));
        assert!(analyse(&e, ctx()).iter().all(|c| c.status == Status::Pass));
    }

    #[test]
    fn a_silent_server_is_unknown_and_a_closed_port_unreachable() {
        let e = evidence(
            Err("no SMTP greeting and EHLO answer within 3s".into()),
            None,
        );
        assert_eq!(analyse(&e, ctx())[1].status, Status::Unknown);
        let e = Evidence {
            target: "smtp.example.com:587".into(),
            connect: Err(
                "cannot connect to smtp.example.com:587: connection refused (os error 111)".into(),
            ),
            starttls: None,
        };
        assert_eq!(analyse(&e, ctx())[0].rule, ProbeRule::ProbeUnreachable);
    }

    #[tokio::test]
    async fn smtp_replies_are_read_line_by_line() {
        let text = b"250-mail.example.com\r\n250-STARTTLS\r\n250 SIZE 1000\r\n";
        let mut r = BufReader::new(&text[..]);
        let (code, lines) = reply(&mut r).await.unwrap();
        assert_eq!(code, 250);
        assert_eq!(lines, ["mail.example.com", "STARTTLS", "SIZE 1000"]);
        let mut r = BufReader::new(&b"hello\r\n"[..]);
        assert!(reply(&mut r).await.is_err());
    }
}
