//! PostgreSQL: connect with the URL, `SELECT 1` timed, server version, whether TLS is in use
//! (`pg_stat_ssl`), whether the role is a superuser; then two attempts that never send the
//! password: one without a password (a `trust` rule lets it in: `auth-not-required`) and, when the
//! main connection used TLS, one in plaintext (an auth request instead of "no pg_hba.conf entry …
//! no encryption" means the server accepts unencrypted logins).
//!
//! Driver: tokio-postgres with rustls (tokio-postgres-rustls).

use std::str::FromStr;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;

use super::rules::ProbeRule;
use super::{net, CheckResult, Context, Planned};
use greenlight_core::finding::Severity;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// `host:port` of the server.
    pub target: String,
    pub user: String,
    /// `sslmode` as the URL writes it (`None`: libpq's default, `prefer`).
    pub sslmode: Option<String>,
    pub session: Result<Session, String>,
    /// The same user without a password.
    pub passwordless: Attempt,
    /// The same user in plaintext, without a password (only when the session used TLS).
    pub plaintext: Attempt,
    /// With `migrations = {…}`: the repository's migrations and the database's.
    #[serde(default)]
    pub migrations: Option<super::migrations::Evidence>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub latency_ms: f64,
    pub server_version: Option<String>,
    /// `pg_stat_ssl.ssl` of this connection.
    pub tls: Option<bool>,
    pub tls_version: Option<String>,
    pub superuser: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "outcome", content = "detail")]
pub enum Attempt {
    /// The server let the connection in.
    Accepted,
    /// The server asked for a password.
    PasswordRequested,
    /// The server refused (no matching `pg_hba.conf` line, or a wrong password).
    Refused(String),
    /// Something else went wrong: the attempt tells nothing.
    Failed(String),
    NotTried,
}

/// The URL split into what tokio-postgres reads and what it does not (libpq's `verify-full`,
/// `sslrootcert`, …, which greenlight handles itself: it always verifies unless told not to).
struct Target {
    url: url::Url,
    sslmode: Option<String>,
    host: String,
    port: u16,
    user: String,
}

fn parse_target(raw: &str) -> Result<Target, String> {
    let mut url = url::Url::parse(raw).map_err(|e| format!("not a PostgreSQL URL: {e}"))?;
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        return Err(format!("`{}://` is not a PostgreSQL URL", url.scheme()));
    }
    const KNOWN: &[&str] = &[
        "application_name",
        "options",
        "dbname",
        "user",
        "password",
        "target_session_attrs",
        "channel_binding",
        "keepalives",
        "keepalives_idle",
    ];
    let mut sslmode = None;
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter_map(|(k, v)| {
            if k == "sslmode" {
                sslmode = Some(v.into_owned());
                None
            } else if KNOWN.contains(&k.as_ref()) {
                Some((k.into_owned(), v.into_owned()))
            } else {
                None
            }
        })
        .collect();
    url.set_query(None);
    if !pairs.is_empty() {
        url.query_pairs_mut().extend_pairs(pairs);
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or("the URL names no host")?
        .trim_matches(['[', ']'])
        .to_owned();
    let port = url.port().unwrap_or(5432);
    let user = if url.username().is_empty() {
        "postgres".to_owned()
    } else {
        url.username().to_owned()
    };
    Ok(Target {
        url,
        sslmode,
        host,
        port,
        user,
    })
}

fn ssl_mode(sslmode: Option<&str>) -> SslMode {
    match sslmode {
        Some("disable") => SslMode::Disable,
        Some("require" | "verify-ca" | "verify-full") => SslMode::Require,
        _ => SslMode::Prefer,
    }
}

async fn connect(
    url: &url::Url,
    mode: SslMode,
    p: &Planned,
) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let mut config = tokio_postgres::Config::from_str(url.as_str())?;
    config.ssl_mode(mode).connect_timeout(p.connect_timeout);
    let tls = tokio_postgres_rustls::MakeRustlsConnect::new((*net::client_config(&p.tls)).clone());
    let (client, connection) = config.connect(tls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

fn classify(result: Result<tokio_postgres::Client, tokio_postgres::Error>) -> Attempt {
    match result {
        Ok(_) => Attempt::Accepted,
        Err(e) => {
            let text = net::error_chain(&e);
            if text.contains("password missing") {
                Attempt::PasswordRequested
            } else if matches!(
                e.code(),
                Some(c) if *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
                    || *c == SqlState::INVALID_PASSWORD
            ) {
                Attempt::Refused(text)
            } else {
                Attempt::Failed(text)
            }
        }
    }
}

pub async fn collect(p: &Planned) -> Evidence {
    let target = match parse_target(p.spec.url.as_deref().unwrap_or_default()) {
        Ok(t) => t,
        Err(e) => {
            return Evidence {
                target: p.target(),
                user: String::new(),
                sslmode: None,
                session: Err(e),
                passwordless: Attempt::NotTried,
                plaintext: Attempt::NotTried,
                migrations: None,
            }
        }
    };
    let mode = ssl_mode(target.sslmode.as_deref());
    let started = Instant::now();
    let mut migrations = None;
    let session = match connect(&target.url, mode, p).await {
        Ok(client) => {
            let session = read_session(&client, started).await;
            if let Some(m) = &p.spec.migrations {
                migrations = Some(read_migrations(&client, m).await);
            }
            Ok(session)
        }
        Err(e) => Err(describe(&e, &target)),
    };
    let mut without_password = target.url.clone();
    let _ = without_password.set_password(None);
    let has_password = target.url.password().is_some();
    let passwordless = match (&session, has_password) {
        // Connected without a password in the first place.
        (Ok(_), false) => Attempt::Accepted,
        (Ok(_), true) => classify(connect(&without_password, mode, p).await),
        (Err(_), _) => Attempt::NotTried,
    };
    let plaintext = match &session {
        Ok(s) if s.tls == Some(true) => {
            classify(connect(&without_password, SslMode::Disable, p).await)
        }
        _ => Attempt::NotTried,
    };
    Evidence {
        target: format!("{}:{}", target.host, target.port),
        user: target.user,
        sslmode: target.sslmode,
        session,
        passwordless,
        plaintext,
        migrations,
    }
}

/// The repository's migrations and the tool's table: one `SELECT`.
async fn read_migrations(
    client: &tokio_postgres::Client,
    m: &greenlight_core::manifest::MigrationsSpec,
) -> super::migrations::Evidence {
    use super::migrations as mig;
    let path = m.path.clone().unwrap_or_default();
    let schema = m
        .schema
        .clone()
        .unwrap_or_else(|| mig::default_schema(&m.tool).to_owned());
    let applied = client
        .simple_query(&mig::applied_query(&m.tool, &schema))
        .await
        .map(|msgs| {
            msgs.into_iter()
                .filter_map(|msg| match msg {
                    tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
                    _ => None,
                })
                .collect()
        })
        .map_err(|e| {
            e.as_db_error()
                .map(|d| d.message().to_owned())
                .unwrap_or_else(|| net::error_chain(&e))
        });
    mig::Evidence {
        tool: m.tool.clone(),
        path: path.clone(),
        repository: mig::read_repository(&m.tool, std::path::Path::new(&path)),
        applied,
    }
}

fn describe(e: &tokio_postgres::Error, t: &Target) -> String {
    let text = net::error_chain(e);
    if let Some(db) = e.as_db_error() {
        return format!(
            "{}:{} refused user `{}`: {}",
            t.host,
            t.port,
            t.user,
            db.message()
        );
    }
    format!("cannot connect to {}:{}: {text}", t.host, t.port)
}

async fn read_session(client: &tokio_postgres::Client, started: Instant) -> Session {
    let _ = client.simple_query("SELECT 1").await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let server_version = client
        .query_one("SHOW server_version", &[])
        .await
        .ok()
        .and_then(|r| r.try_get::<_, String>(0).ok());
    let (tls, tls_version) = match client
        .query_one(
            "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
    {
        Ok(row) => (
            row.try_get::<_, bool>(0).ok(),
            row.try_get::<_, Option<String>>(1).ok().flatten(),
        ),
        Err(_) => (None, None),
    };
    let superuser = client
        .query_one(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .await
        .ok()
        .and_then(|r| r.try_get::<_, bool>(0).ok());
    Session {
        latency_ms,
        server_version,
        tls,
        tls_version,
        superuser,
    }
}

pub fn analyse(e: &Evidence, ctx: Context) -> Vec<CheckResult> {
    let mut out = Vec::new();
    let session = match &e.session {
        Ok(s) => s,
        Err(err) if crate::is_credential_rejection(err) => {
            out.push(crate::credential_rejected("pg.auth", err, ctx));
            return out;
        }
        Err(err) => {
            let (rule, check) = if err.contains("invalid peer certificate") {
                (ProbeRule::TlsCertificateInvalid, "pg.tls_certificate")
            } else if err.contains("server does not support TLS") {
                (ProbeRule::TlsNotEnforced, "pg.tls_in_use")
            } else {
                (ProbeRule::ProbeUnreachable, "pg.reachable")
            };
            out.push(CheckResult::fail_default(check, rule, err.clone()));
            return out;
        }
    };
    out.push(CheckResult::pass(
        "pg.reachable",
        ProbeRule::ProbeUnreachable,
        format!(
            "{} answered `SELECT 1` in {:.1} ms (PostgreSQL {})",
            e.target,
            session.latency_ms,
            session
                .server_version
                .as_deref()
                .unwrap_or("of unknown version")
        ),
    ));
    match &e.passwordless {
        Attempt::Accepted => out.push(CheckResult::fail_default(
            "pg.auth_required",
            ProbeRule::AuthNotRequired,
            format!(
                "{} lets user `{}` in without a password (a `trust` line in pg_hba.conf)",
                e.target, e.user
            ),
        )),
        Attempt::PasswordRequested | Attempt::Refused(_) => out.push(CheckResult::pass(
            "pg.auth_required",
            ProbeRule::AuthNotRequired,
            format!("{} asks user `{}` for a password", e.target, e.user),
        )),
        Attempt::Failed(why) => out.push(CheckResult::unknown(
            "pg.auth_required",
            ProbeRule::AuthNotRequired,
            format!("the password-less attempt ended otherwise: {why}"),
        )),
        Attempt::NotTried => {}
    }
    if ctx.production {
        match session.tls {
            Some(true) => {
                let version = session.tls_version.as_deref().unwrap_or("TLS");
                if matches!(version, "TLSv1" | "TLSv1.1" | "SSLv3") {
                    out.push(CheckResult::fail(
                        "pg.tls_in_use",
                        ProbeRule::TlsNotEnforced,
                        Severity::Warning,
                        format!("the connection uses {version}; require TLS 1.2 or later"),
                    ));
                } else {
                    out.push(CheckResult::pass(
                        "pg.tls_in_use",
                        ProbeRule::TlsNotEnforced,
                        format!("the connection is encrypted ({version})"),
                    ));
                }
            }
            Some(false) => out.push(CheckResult::fail_default(
                "pg.tls_in_use",
                ProbeRule::TlsNotEnforced,
                format!(
                    "the connection to {} is not encrypted (sslmode={}); use sslmode=verify-full on a server with TLS",
                    e.target,
                    e.sslmode.as_deref().unwrap_or("prefer, the default")
                ),
            )),
            None => out.push(CheckResult::unknown(
                "pg.tls_in_use",
                ProbeRule::TlsNotEnforced,
                "pg_stat_ssl could not be read",
            )),
        }
        match &e.plaintext {
            Attempt::Accepted | Attempt::PasswordRequested => out.push(CheckResult::fail(
                "pg.tls_enforced",
                ProbeRule::TlsNotEnforced,
                Severity::Warning,
                format!(
                    "{} also accepts unencrypted logins for `{}` (a `host` rather than `hostssl` line in pg_hba.conf)",
                    e.target, e.user
                ),
            )),
            Attempt::Refused(_) => out.push(CheckResult::pass(
                "pg.tls_enforced",
                ProbeRule::TlsNotEnforced,
                format!("{} refuses unencrypted logins", e.target),
            )),
            Attempt::Failed(why) => out.push(CheckResult::unknown(
                "pg.tls_enforced",
                ProbeRule::TlsNotEnforced,
                format!("the plaintext attempt ended otherwise: {why}"),
            )),
            Attempt::NotTried => {}
        }
    }
    if let Some(m) = &e.migrations {
        out.extend(super::migrations::analyse(m, ctx.production, "pg"));
    }
    match session.superuser {
        Some(true) => out.push(CheckResult::fail_default(
            "pg.superuser",
            ProbeRule::DatabaseRoleTooPowerful,
            format!("the application connects as `{}`, a superuser", e.user),
        )),
        Some(false) => out.push(CheckResult::pass(
            "pg.superuser",
            ProbeRule::DatabaseRoleTooPowerful,
            format!("`{}` is not a superuser", e.user),
        )),
        None => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ctx;
    use crate::Status;

    fn evidence(tls: bool, passwordless: Attempt, plaintext: Attempt) -> Evidence {
        Evidence {
            target: "db.example.com:5432".into(),
            user: "app".into(),
            sslmode: Some(if tls { "verify-full" } else { "disable" }.into()),
            session: Ok(Session {
                latency_ms: 1.2,
                server_version: Some("15.18".into()),
                tls: Some(tls),
                tls_version: tls.then(|| "TLSv1.3".into()),
                superuser: Some(false),
            }),
            passwordless,
            plaintext,
            migrations: None,
        }
    }

    fn failed(checks: &[CheckResult]) -> Vec<(&'static str, ProbeRule)> {
        checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .map(|c| (c.check, c.rule))
            .collect()
    }

    #[test]
    fn a_locked_down_tls_server_passes() {
        let e = evidence(
            true,
            Attempt::PasswordRequested,
            Attempt::Refused("no pg_hba.conf entry".into()),
        );
        let checks = analyse(&e, ctx(true));
        assert!(failed(&checks).is_empty(), "{checks:#?}");
        assert!(checks.iter().any(|c| c.check == "pg.tls_enforced"));
    }

    #[test]
    fn trust_authentication_is_critical_everywhere() {
        let e = evidence(true, Attempt::Accepted, Attempt::NotTried);
        for production in [true, false] {
            let checks = analyse(&e, ctx(production));
            assert!(failed(&checks).contains(&("pg.auth_required", ProbeRule::AuthNotRequired)));
        }
    }

    #[test]
    fn plaintext_in_production_is_not_enforced_tls() {
        let e = evidence(false, Attempt::PasswordRequested, Attempt::NotTried);
        let checks = analyse(&e, ctx(true));
        let f = failed(&checks);
        assert_eq!(f, [("pg.tls_in_use", ProbeRule::TlsNotEnforced)]);
        assert!(checks[2].message.contains("sslmode=disable"));
        // Outside production, TLS is not judged.
        assert!(failed(&analyse(&e, ctx(false))).is_empty());
    }

    #[test]
    fn a_server_that_also_accepts_plaintext_is_a_warning() {
        let e = evidence(true, Attempt::PasswordRequested, Attempt::PasswordRequested);
        let checks = analyse(&e, ctx(true));
        let c = checks
            .iter()
            .find(|c| c.check == "pg.tls_enforced")
            .unwrap();
        assert_eq!(c.status, Status::Fail);
        assert_eq!(c.severity, Some(Severity::Warning));
    }

    #[test]
    fn an_attempt_that_tells_nothing_is_unknown() {
        let e = evidence(true, Attempt::Failed("reset".into()), Attempt::NotTried);
        let checks = analyse(&e, ctx(false));
        let c = checks
            .iter()
            .find(|c| c.check == "pg.auth_required")
            .unwrap();
        assert_eq!(c.status, Status::Unknown);
    }

    #[test]
    fn connection_errors_pick_their_rule() {
        let mut e = evidence(true, Attempt::NotTried, Attempt::NotTried);
        for (err, rule) in [
            ("cannot connect to db:5432: connection refused (os error 111)", ProbeRule::ProbeUnreachable),
            ("cannot connect to db:5432: error performing TLS handshake: invalid peer certificate: UnknownIssuer", ProbeRule::TlsCertificateInvalid),
            ("cannot connect to db:5432: error performing TLS handshake: server does not support TLS", ProbeRule::TlsNotEnforced),
            ("db error: FATAL: password authentication failed for user \"app\"", ProbeRule::CredentialInvalid),
        ] {
            e.session = Err(err.into());
            let checks = analyse(&e, ctx(true));
            assert_eq!(checks.len(), 1);
            assert_eq!(checks[0].rule, rule, "{err}");
        }
    }

    #[test]
    fn superuser_roles_are_flagged() {
        let mut e = evidence(true, Attempt::PasswordRequested, Attempt::NotTried);
        if let Ok(s) = &mut e.session {
            s.superuser = Some(true);
        }
        assert!(failed(&analyse(&e, ctx(false)))
            .contains(&("pg.superuser", ProbeRule::DatabaseRoleTooPowerful)));
    }

    #[test]
    fn urls_are_read_like_libpq() {
        let t = parse_target("postgresql://app:pw@db.example.com/app?sslmode=verify-full&sslrootcert=/x.pem&application_name=web").unwrap();
        assert_eq!(t.sslmode.as_deref(), Some("verify-full"));
        assert_eq!(t.port, 5432);
        assert_eq!(t.user, "app");
        assert!(!t.url.as_str().contains("sslrootcert"));
        assert!(t.url.as_str().contains("application_name=web"));
        assert!(parse_target("redis://x").is_err());
    }
}
