//! Redis: `PING` timed, the server version (`INFO server`), TLS (`rediss://` in production), a
//! fresh connection without credentials that must get `NOAUTH` (`auth-not-required`), and the
//! eviction and persistence settings (`CONFIG GET`), judged by the probe's `role` when it has one.
//! Managed services often refuse `CONFIG`: that is reported as "could not tell".
//!
//! Client: the `redis` crate, on tokio with rustls.

use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::AsyncConnectionConfig;
use serde::{Deserialize, Serialize};

use super::rules::ProbeRule;
use super::{CheckResult, Context, Planned};
use greenlight_core::finding::Severity;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub target: String,
    pub tls: bool,
    pub session: Result<Session, String>,
    /// A fresh connection without credentials.
    pub unauthenticated: Unauthenticated,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "outcome", content = "detail")]
pub enum Unauthenticated {
    /// `PING` answered `PONG`.
    Accepted,
    /// `NOAUTH`: a password is required.
    Refused,
    Failed(String),
    NotTried,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub latency_ms: f64,
    pub version: Option<String>,
    /// `CONFIG GET` of the memory and persistence settings, or why it was refused.
    pub config: Result<Settings, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub maxmemory: Option<String>,
    pub maxmemory_policy: Option<String>,
    pub appendonly: Option<String>,
    pub save: Option<String>,
}

async fn open(url: &url::Url, p: &Planned) -> Result<MultiplexedConnection, String> {
    let mut url = url.clone();
    if url.scheme() == "rediss" && !p.tls.verify {
        url.set_fragment(Some("insecure"));
    }
    let client = if url.scheme() == "rediss" {
        redis::Client::build_with_tls(
            url.as_str(),
            redis::TlsCertificates {
                client_tls: None,
                root_cert: p.tls.extra_roots_pem(),
            },
        )
    } else {
        redis::Client::open(url.as_str())
    }
    .map_err(|e| e.to_string())?;
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(p.connect_timeout))
        .set_response_timeout(Some(p.connect_timeout.max(Duration::from_secs(1))));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .map_err(|e| super::net::error_chain(&e))
}

async fn ping(conn: &mut MultiplexedConnection) -> redis::RedisResult<String> {
    redis::cmd("PING").query_async(conn).await
}

pub async fn collect(p: &Planned) -> Evidence {
    let url = match p.url() {
        Ok(u) => u,
        Err(e) => {
            return Evidence {
                target: p.target(),
                tls: false,
                session: Err(e),
                unauthenticated: Unauthenticated::NotTried,
            }
        }
    };
    let host = url.host_str().unwrap_or_default().to_owned();
    let port = url.port().unwrap_or(6379);
    let target = format!("{host}:{port}");
    let has_credentials = url.password().is_some() || !url.username().is_empty();
    let session = match open(&url, p).await {
        Ok(mut conn) => {
            let started = Instant::now();
            match ping(&mut conn).await {
                Ok(_) => {
                    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
                    Ok(read_session(&mut conn, latency_ms).await)
                }
                Err(e) => Err(format!("{target} did not answer PING: {e}")),
            }
        }
        Err(e) => Err(if e.contains(&target) || e.contains(&host) {
            e
        } else {
            format!("cannot connect to {target}: {e}")
        }),
    };
    let unauthenticated = match (&session, has_credentials) {
        (Err(_), _) => Unauthenticated::NotTried,
        (Ok(_), false) => Unauthenticated::Accepted,
        (Ok(_), true) => {
            let mut bare = url.clone();
            let _ = bare.set_password(None);
            let _ = bare.set_username("");
            match open(&bare, p).await {
                Ok(mut conn) => match ping(&mut conn).await {
                    Ok(_) => Unauthenticated::Accepted,
                    Err(e) if e.code() == Some("NOAUTH") => Unauthenticated::Refused,
                    Err(e) => Unauthenticated::Failed(e.to_string()),
                },
                Err(e) if e.contains("NOAUTH") || e.contains("Authentication required") => {
                    Unauthenticated::Refused
                }
                Err(e) => Unauthenticated::Failed(e),
            }
        }
    };
    Evidence {
        target,
        tls: url.scheme() == "rediss",
        session,
        unauthenticated,
    }
}

async fn read_session(conn: &mut MultiplexedConnection, latency_ms: f64) -> Session {
    let info: Option<String> = redis::cmd("INFO")
        .arg("server")
        .query_async(conn)
        .await
        .ok();
    let version = info.as_deref().and_then(|i| {
        i.lines()
            .find_map(|l| l.strip_prefix("redis_version:"))
            .map(|v| v.trim().to_owned())
    });
    let mut settings = Settings::default();
    let mut config = Ok(());
    for (key, slot) in [
        ("maxmemory", &mut settings.maxmemory),
        ("maxmemory-policy", &mut settings.maxmemory_policy),
        ("appendonly", &mut settings.appendonly),
        ("save", &mut settings.save),
    ] {
        match redis::cmd("CONFIG")
            .arg("GET")
            .arg(key)
            .query_async::<Vec<String>>(conn)
            .await
        {
            Ok(pair) => *slot = pair.get(1).cloned(),
            Err(e) => {
                config = Err(format!("CONFIG GET {key} was refused: {e}"));
                break;
            }
        }
    }
    Session {
        latency_ms,
        version,
        config: config.map(|()| settings),
    }
}

pub fn analyse(e: &Evidence, role: Option<&str>, ctx: Context) -> Vec<CheckResult> {
    let mut out = Vec::new();
    if ctx.production {
        if e.tls {
            out.push(CheckResult::pass(
                "redis.tls",
                ProbeRule::TlsNotEnforced,
                "the connection uses TLS (rediss://)",
            ));
        } else {
            out.push(CheckResult::fail_default(
                "redis.tls",
                ProbeRule::TlsNotEnforced,
                format!(
                    "{} is reached over redis://, unencrypted; use rediss://",
                    e.target
                ),
            ));
        }
    }
    let session = match &e.session {
        Ok(s) => s,
        Err(err) if crate::is_credential_rejection(err) => {
            out.push(crate::credential_rejected("redis.auth", err, ctx));
            return out;
        }
        Err(err) => {
            let rule = if err.contains("invalid peer certificate") {
                ProbeRule::TlsCertificateInvalid
            } else {
                ProbeRule::ProbeUnreachable
            };
            out.push(CheckResult::fail_default(
                "redis.reachable",
                rule,
                err.clone(),
            ));
            return out;
        }
    };
    out.push(CheckResult::pass(
        "redis.reachable",
        ProbeRule::ProbeUnreachable,
        format!(
            "{} answered PING in {:.1} ms (Redis {})",
            e.target,
            session.latency_ms,
            session.version.as_deref().unwrap_or("of unknown version")
        ),
    ));
    match &e.unauthenticated {
        Unauthenticated::Accepted => out.push(CheckResult::fail_default(
            "redis.auth_required",
            ProbeRule::AuthNotRequired,
            format!(
                "{} answers commands without a password (set requirepass or ACL users)",
                e.target
            ),
        )),
        Unauthenticated::Refused => out.push(CheckResult::pass(
            "redis.auth_required",
            ProbeRule::AuthNotRequired,
            format!("{} refuses commands without a password (NOAUTH)", e.target),
        )),
        Unauthenticated::Failed(why) => out.push(CheckResult::unknown(
            "redis.auth_required",
            ProbeRule::AuthNotRequired,
            format!("the connection without a password ended otherwise: {why}"),
        )),
        Unauthenticated::NotTried => {}
    }
    match &session.config {
        Err(why) => out.push(CheckResult::unknown(
            "redis.maxmemory_policy",
            ProbeRule::CacheMisconfigured,
            why.clone(),
        )),
        Ok(s) => out.extend(judge_settings(s, role)),
    }
    out
}

fn judge_settings(s: &Settings, role: Option<&str>) -> Vec<CheckResult> {
    let policy = s.maxmemory_policy.as_deref().unwrap_or("noeviction");
    let unbounded = s.maxmemory.as_deref().is_none_or(|m| m == "0");
    let persistent = s.appendonly.as_deref() == Some("yes")
        || s.save.as_deref().is_some_and(|v| !v.trim().is_empty());
    let shown = format!(
        "maxmemory {}, maxmemory-policy {policy}, appendonly {}, save \"{}\"",
        s.maxmemory.as_deref().unwrap_or("?"),
        s.appendonly.as_deref().unwrap_or("?"),
        s.save.as_deref().unwrap_or("?"),
    );
    let rule = ProbeRule::CacheMisconfigured;
    let rec = Severity::Recommendation;
    let mut out = Vec::new();
    match role {
        Some("cache") => {
            if unbounded || policy == "noeviction" {
                out.push(CheckResult::fail(
                    "redis.maxmemory_policy",
                    rule,
                    Severity::Warning,
                    format!("a cache needs maxmemory and an evicting policy (such as allkeys-lru); it has {shown}"),
                ));
            } else {
                out.push(CheckResult::pass("redis.maxmemory_policy", rule, shown));
            }
        }
        Some(store) => {
            if policy.starts_with("allkeys-") {
                out.push(CheckResult::fail(
                    "redis.maxmemory_policy",
                    rule,
                    Severity::Warning,
                    format!("a {store} must not evict keys, but maxmemory-policy is {policy}"),
                ));
            } else {
                out.push(CheckResult::pass(
                    "redis.maxmemory_policy",
                    rule,
                    format!("maxmemory-policy {policy}"),
                ));
            }
            if persistent {
                out.push(CheckResult::pass("redis.persistence", rule, shown));
            } else {
                out.push(CheckResult::fail(
                    "redis.persistence",
                    rule,
                    Severity::Warning,
                    format!("a {store} loses its data on restart: {shown}"),
                ));
            }
        }
        None => {
            // Without a role, the settings are shown for review; only what is risky for any
            // use is called out, as a recommendation.
            if unbounded && policy == "noeviction" && !persistent {
                out.push(CheckResult::fail(
                    "redis.settings",
                    rule,
                    rec,
                    format!("{shown}: memory is unbounded and nothing persists; set `role` on the probe to have this judged"),
                ));
            } else {
                out.push(CheckResult::pass("redis.settings", rule, shown));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ctx;
    use crate::Status;

    fn evidence(tls: bool, unauthenticated: Unauthenticated, settings: Settings) -> Evidence {
        Evidence {
            target: "cache.example.com:6380".into(),
            tls,
            session: Ok(Session {
                latency_ms: 0.4,
                version: Some("7.0.15".into()),
                config: Ok(settings),
            }),
            unauthenticated,
        }
    }

    fn settings(maxmemory: &str, policy: &str, appendonly: &str, save: &str) -> Settings {
        Settings {
            maxmemory: Some(maxmemory.into()),
            maxmemory_policy: Some(policy.into()),
            appendonly: Some(appendonly.into()),
            save: Some(save.into()),
        }
    }

    fn failed(checks: &[CheckResult]) -> Vec<&'static str> {
        checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .map(|c| c.check)
            .collect()
    }

    #[test]
    fn a_password_protected_tls_cache_passes() {
        let e = evidence(
            true,
            Unauthenticated::Refused,
            settings("1gb", "allkeys-lru", "no", ""),
        );
        assert!(failed(&analyse(&e, Some("cache"), ctx(true))).is_empty());
    }

    #[test]
    fn no_password_and_no_tls_in_production() {
        let e = evidence(
            false,
            Unauthenticated::Accepted,
            settings("1gb", "allkeys-lru", "no", ""),
        );
        assert_eq!(
            failed(&analyse(&e, Some("cache"), ctx(true))),
            ["redis.tls", "redis.auth_required"]
        );
        assert_eq!(
            failed(&analyse(&e, Some("cache"), ctx(false))),
            ["redis.auth_required"]
        );
    }

    #[test]
    fn roles_judge_eviction_and_persistence() {
        let lru = settings("1gb", "allkeys-lru", "no", "");
        let queue = analyse(
            &evidence(true, Unauthenticated::Refused, lru.clone()),
            Some("queue"),
            ctx(true),
        );
        assert_eq!(
            failed(&queue),
            ["redis.maxmemory_policy", "redis.persistence"]
        );
        let cache = analyse(
            &evidence(
                true,
                Unauthenticated::Refused,
                settings("0", "noeviction", "no", ""),
            ),
            Some("cache"),
            ctx(true),
        );
        assert_eq!(failed(&cache), ["redis.maxmemory_policy"]);
        let store = analyse(
            &evidence(
                true,
                Unauthenticated::Refused,
                settings("0", "noeviction", "yes", ""),
            ),
            Some("store"),
            ctx(true),
        );
        assert!(failed(&store).is_empty());
    }

    #[test]
    fn without_a_role_settings_are_a_recommendation_at_most() {
        let checks = analyse(
            &evidence(
                true,
                Unauthenticated::Refused,
                settings("0", "noeviction", "no", ""),
            ),
            None,
            ctx(true),
        );
        let c = checks.iter().find(|c| c.check == "redis.settings").unwrap();
        assert_eq!(c.severity, Some(Severity::Recommendation));
        assert!(c.message.contains("maxmemory-policy noeviction"));
    }

    #[test]
    fn a_refused_config_get_is_unknown_not_a_pass() {
        let mut e = evidence(true, Unauthenticated::Refused, Settings::default());
        if let Ok(s) = &mut e.session {
            s.config = Err("CONFIG GET maxmemory was refused: unknown command".into());
        }
        let checks = analyse(&e, Some("cache"), ctx(true));
        let c = checks
            .iter()
            .find(|c| c.check == "redis.maxmemory_policy")
            .unwrap();
        assert_eq!(c.status, Status::Unknown);
    }

    #[test]
    fn unreachable_servers_report_why() {
        let mut e = evidence(true, Unauthenticated::NotTried, Settings::default());
        e.session = Err("cannot connect to cache:6380: connection refused (os error 111)".into());
        let checks = analyse(&e, None, ctx(false));
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].rule, ProbeRule::ProbeUnreachable);
    }
}
