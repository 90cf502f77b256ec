//! The `ratelimit` probe (opt-in, strictly bounded): sends at most `limit + margin` GET requests
//! to the URL the manifest names, one after another, stops at the first 429, and checks that the
//! 429 came within the bound and tells the client when to come back (`Retry-After`, the IETF
//! `RateLimit` / `RateLimit-Policy` fields, or the common `X-RateLimit-*` ones). Never more
//! requests than the manifest allows, never another host (no redirects are followed).

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::rules::ProbeRule;
use super::{net, CheckResult, Context, Planned};
use greenlight_core::finding::Severity;

/// The requests allowed beyond the stated limit: 10 %, at least 2.
pub fn margin(limit: u32) -> u32 {
    (limit / 10).max(2)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub target: String,
    pub limit: u32,
    pub window_s: f64,
    /// The status of each request sent, in order.
    pub statuses: Vec<u16>,
    /// The headers of the first 429 (names lowercase), if one came.
    pub limited_headers: Vec<(String, String)>,
    pub elapsed_s: f64,
    /// Why the run stopped early (a connection error).
    pub error: Option<String>,
}

pub async fn collect(p: &Planned) -> Evidence {
    let limit = p.spec.limit.unwrap_or(0);
    let window_s = p
        .spec
        .window
        .as_deref()
        .and_then(greenlight_core::catalog::parse_duration)
        .unwrap_or(60.0);
    let mut e = Evidence {
        target: p.target(),
        limit,
        window_s,
        statuses: Vec::new(),
        limited_headers: Vec::new(),
        elapsed_s: 0.0,
        error: None,
    };
    let started = Instant::now();
    let client = match net::http_client(&p.tls, p.connect_timeout, p.timeout, false) {
        Ok(c) => c,
        Err(err) => {
            e.error = Some(err);
            return e;
        }
    };
    let url = match p.url() {
        Ok(u) => u,
        Err(err) => {
            e.error = Some(err);
            return e;
        }
    };
    let bound = limit + margin(limit);
    // The whole run stays within the probe's timeout as well as the count.
    let deadline = started + p.timeout.max(Duration::from_secs(1));
    for _ in 0..bound {
        if Instant::now() >= deadline {
            e.error = Some(format!(
                "stopped after {} requests: the probe's {:?} limit was reached",
                e.statuses.len(),
                p.timeout
            ));
            break;
        }
        match client.get(url.clone()).send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                e.statuses.push(status);
                if status == 429 {
                    e.limited_headers = resp
                        .headers()
                        .iter()
                        .filter_map(|(k, v)| {
                            Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned()))
                        })
                        .collect();
                    break;
                }
            }
            Err(err) => {
                e.error = Some(net::request_error(
                    err,
                    &e.target,
                    p.connect_timeout,
                    p.timeout,
                ));
                break;
            }
        }
    }
    e.elapsed_s = started.elapsed().as_secs_f64();
    e
}

pub fn analyse(e: &Evidence, _ctx: Context) -> Vec<CheckResult> {
    let t = &e.target;
    let bound = e.limit + margin(e.limit);
    let sent = e.statuses.len() as u32;
    let limited_at = e
        .statuses
        .iter()
        .position(|s| *s == 429)
        .map(|i| i as u32 + 1);
    let mut out = Vec::new();
    if let Some(n) = limited_at {
        out.push(CheckResult::pass(
            "ratelimit.enforced",
            ProbeRule::RateLimitMissing,
            format!(
                "request {n} of at most {bound} got 429 (stated limit {} per {}s)",
                e.limit, e.window_s
            ),
        ));
        let names: Vec<&str> = e.limited_headers.iter().map(|(k, _)| k.as_str()).collect();
        let tells = names.iter().any(|n| {
            *n == "retry-after"
                || *n == "ratelimit"
                || *n == "ratelimit-policy"
                || *n == "ratelimit-reset"
                || n.starts_with("x-ratelimit-")
        });
        if tells {
            out.push(CheckResult::pass(
                "ratelimit.headers",
                ProbeRule::RateLimitMissing,
                "the 429 says when to retry",
            ));
        } else {
            out.push(CheckResult::fail(
                "ratelimit.headers",
                ProbeRule::RateLimitMissing,
                Severity::Recommendation,
                format!("{t}: the 429 carries neither Retry-After nor RateLimit / X-RateLimit-* headers, so clients cannot back off correctly"),
            ));
        }
        return out;
    }
    if let Some(err) = &e.error {
        out.push(CheckResult::unknown(
            "ratelimit.enforced",
            ProbeRule::RateLimitMissing,
            format!("{t}: {err} (after {sent} requests, no 429)"),
        ));
        return out;
    }
    if let Some(other) = e.statuses.iter().find(|s| !(200..400).contains(*s)) {
        out.push(CheckResult::unknown(
            "ratelimit.enforced",
            ProbeRule::RateLimitMissing,
            format!("{t} answered {other} before any 429: its limiter cannot be judged on a failing endpoint"),
        ));
        return out;
    }
    if e.elapsed_s > e.window_s {
        out.push(CheckResult::unknown(
            "ratelimit.enforced",
            ProbeRule::RateLimitMissing,
            format!(
                "{sent} requests took {:.0} s, longer than the {}s window: a limiter may have reset in between",
                e.elapsed_s, e.window_s
            ),
        ));
        return out;
    }
    out.push(CheckResult::fail_default(
        "ratelimit.enforced",
        ProbeRule::RateLimitMissing,
        format!(
            "{t} accepted {sent} requests in {:.1} s without a 429: the stated limit is {} per {}s",
            e.elapsed_s, e.limit, e.window_s
        ),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(statuses: &[u16], headers: &[(&str, &str)]) -> Evidence {
        Evidence {
            target: "https://api.test/login".into(),
            limit: 5,
            window_s: 60.0,
            statuses: statuses.to_vec(),
            limited_headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            elapsed_s: 0.4,
            error: None,
        }
    }

    fn ctx() -> Context {
        Context {
            production: true,
            now: chrono::Utc::now(),
        }
    }

    #[test]
    fn the_bound_is_the_limit_and_a_margin() {
        assert_eq!(margin(5), 2);
        assert_eq!(margin(100), 10);
    }

    #[test]
    fn a_429_within_the_bound_with_retry_after_passes() {
        let c = analyse(
            &ev(&[200, 200, 200, 200, 200, 429], &[("retry-after", "60")]),
            ctx(),
        );
        assert!(c.iter().all(|c| c.status == crate::Status::Pass), "{c:#?}");
    }

    #[test]
    fn a_429_that_does_not_say_when_is_a_recommendation() {
        let c = analyse(&ev(&[200, 429], &[("content-type", "text/plain")]), ctx());
        assert_eq!(c[1].severity, Some(Severity::Recommendation));
    }

    #[test]
    fn no_429_within_the_bound_is_rate_limit_missing() {
        let c = analyse(&ev(&[200; 7], &[]), ctx());
        assert_eq!(c[0].status, crate::Status::Fail);
        assert_eq!(c[0].rule, ProbeRule::RateLimitMissing);
        assert!(c[0].message.contains("7 requests"), "{}", c[0].message);
    }

    #[test]
    fn a_failing_endpoint_cannot_be_judged() {
        let c = analyse(&ev(&[500], &[]), ctx());
        assert_eq!(c[0].status, crate::Status::Unknown);
    }
}
