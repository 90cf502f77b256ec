//! The `http` probe: a health endpoint. `GET` with `Accept: application/health+json,
//! application/json`; success is 200–399 (Kubernetes' `DoHTTPProbe`); the body is read in the
//! health-check draft's format (`status` pass/ok/up, warn, fail/error/down, and its `checks`) or
//! Spring Actuator's (`UP`, `DOWN`, `OUT_OF_SERVICE`, `UNKNOWN`, and its `components`), and plain
//! bodies are fine. Failing sub-checks are named; a body status that contradicts the HTTP status,
//! and a `version` other than the expected one, are warnings.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::rules::ProbeRule;
use super::{excerpt, net, CheckResult, Context, Planned};
use greenlight_core::finding::Severity;

/// How much of a body is kept as evidence.
const BODY_LIMIT: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub target: String,
    pub response: Result<Response, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
    pub elapsed_ms: f64,
}

pub async fn collect(p: &Planned) -> Evidence {
    let target = p.target();
    let response = net::fetch(
        p,
        "application/health+json, application/json;q=0.9, */*;q=0.1",
        BODY_LIMIT,
    )
    .await
    .map(|f| Response {
        status: f.status,
        content_type: f.content_type,
        body: f.body,
        elapsed_ms: f.elapsed_ms,
    });
    Evidence { target, response }
}

/// A body status, normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Health {
    Pass,
    Warn,
    Fail,
}

fn normalise(status: &str) -> Health {
    match status.to_ascii_lowercase().as_str() {
        "pass" | "ok" | "up" => Health::Pass,
        "fail" | "error" | "down" | "out_of_service" => Health::Fail,
        // `warn`, `unknown` and anything else: healthy with concerns.
        _ => Health::Warn,
    }
}

/// The sub-checks that do not pass, as `name (status: output)`.
fn failing_parts(body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    // health+json: "checks": { "component:measurement": [ { "status": …, "output": … } ] }
    if let Some(checks) = body.get("checks").and_then(Value::as_object) {
        for (name, entries) in checks {
            let entries: Vec<&Value> = match entries {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            for entry in entries {
                let Some(status) = entry.get("status").and_then(Value::as_str) else {
                    continue;
                };
                if normalise(status) != Health::Pass {
                    let id = entry
                        .get("componentId")
                        .and_then(Value::as_str)
                        .map(|c| format!("{name} [{c}]"))
                        .unwrap_or_else(|| name.clone());
                    let output = entry
                        .get("output")
                        .and_then(Value::as_str)
                        .map(|o| format!(": {}", excerpt(o, 80)))
                        .unwrap_or_default();
                    out.push(format!("{id} ({status}{output})"));
                }
            }
        }
    }
    // Actuator: "components": { name: { "status": …, "components": {…} } }, nested.
    fn walk(prefix: &str, components: &serde_json::Map<String, Value>, out: &mut Vec<String>) {
        for (name, c) in components {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            let nested = c.get("components").and_then(Value::as_object);
            let status = c.get("status").and_then(Value::as_str);
            match nested {
                Some(n) => walk(&path, n, out),
                None => {
                    if let Some(s) = status.filter(|s| normalise(s) != Health::Pass) {
                        out.push(format!("{path} ({s})"));
                    }
                }
            }
        }
    }
    if let Some(components) = body.get("components").and_then(Value::as_object) {
        walk("", components, &mut out);
    }
    out
}

pub fn analyse(e: &Evidence, expect_version: Option<&str>, _ctx: Context) -> Vec<CheckResult> {
    let rule = ProbeRule::HealthCheckFailing;
    let r = match &e.response {
        Ok(r) => r,
        Err(err) => return vec![CheckResult::request_failed("health.reachable", err)],
    };
    let mut out = vec![CheckResult::pass(
        "health.reachable",
        ProbeRule::ProbeUnreachable,
        format!("{} answered in {:.0} ms", e.target, r.elapsed_ms),
    )];
    let json: Option<Value> = serde_json::from_str(&r.body).ok();
    let body_status = json
        .as_ref()
        .and_then(|j| j.get("status"))
        .and_then(Value::as_str);
    let health = body_status.map(normalise);
    let parts = json.as_ref().map(failing_parts).unwrap_or_default();
    let named = if parts.is_empty() {
        String::new()
    } else {
        format!("; failing: {}", parts.join(", "))
    };
    let ok_code = (200..400).contains(&r.status);
    if !ok_code {
        out.push(CheckResult::fail_default(
            "health.http_status",
            rule,
            format!(
                "{} answered HTTP {}{}{named}",
                e.target,
                r.status,
                body_status
                    .map(|s| format!(" with status `{s}`"))
                    .unwrap_or_default()
            ),
        ));
    } else {
        out.push(CheckResult::pass(
            "health.http_status",
            rule,
            format!("HTTP {}", r.status),
        ));
    }
    match (health, body_status) {
        (Some(Health::Fail), Some(s)) if ok_code => out.push(CheckResult::fail_default(
            "health.body_status",
            rule,
            format!(
                "{} reports status `{s}` behind HTTP {} (the status code should say so too){named}",
                e.target, r.status
            ),
        )),
        (Some(Health::Warn), Some(s)) => out.push(CheckResult::fail(
            "health.body_status",
            rule,
            Severity::Warning,
            format!("{} reports status `{s}`{named}", e.target),
        )),
        (Some(Health::Pass), Some(s)) if !ok_code => out.push(CheckResult::fail(
            "health.status_code_consistency",
            rule,
            Severity::Warning,
            format!(
                "{} reports `{s}` but answers HTTP {}: the body and the status code disagree",
                e.target, r.status
            ),
        )),
        (Some(Health::Pass), Some(s)) => {
            if parts.is_empty() {
                out.push(CheckResult::pass(
                    "health.body_status",
                    rule,
                    format!("status `{s}`"),
                ));
            } else {
                out.push(CheckResult::fail(
                    "health.component",
                    rule,
                    Severity::Warning,
                    format!("{} reports `{s}` overall{named}", e.target),
                ));
            }
        }
        _ => {}
    }
    if let Some(expected) = expect_version {
        let reported = json.as_ref().and_then(|j| {
            ["version", "releaseId"]
                .iter()
                .find_map(|k| j.get(*k).and_then(Value::as_str))
        });
        match reported {
            Some(v) if v == expected => out.push(CheckResult::pass(
                "health.version_matches",
                rule,
                format!("serves version {v}"),
            )),
            Some(v) => out.push(CheckResult::fail(
                "health.version_matches",
                rule,
                Severity::Warning,
                format!(
                    "{} serves version `{v}`, not the expected `{expected}`",
                    e.target
                ),
            )),
            None => out.push(CheckResult::unknown(
                "health.version_matches",
                rule,
                format!("{} reports no `version` or `releaseId`", e.target),
            )),
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

    fn evidence(status: u16, body: &str) -> Evidence {
        Evidence {
            target: "https://api.example.com/health".into(),
            response: Ok(Response {
                status,
                content_type: Some("application/health+json".into()),
                body: body.into(),
                elapsed_ms: 12.0,
            }),
        }
    }

    fn fails(checks: &[CheckResult]) -> Vec<(&'static str, Severity, String)> {
        checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .map(|c| (c.check, c.severity.unwrap(), c.message.clone()))
            .collect()
    }

    #[test]
    fn plain_200_and_pass_bodies_pass() {
        for body in [
            "OK",
            r#"{"status":"pass"}"#,
            r#"{"status":"UP"}"#,
            r#"{"status":"ok"}"#,
        ] {
            assert!(
                fails(&analyse(&evidence(200, body), None, ctx())).is_empty(),
                "{body}"
            );
        }
    }

    #[test]
    fn health_json_failures_name_their_checks() {
        let body = r#"{"status":"fail","checks":{
            "postgres:connections":[{"componentId":"db-1","status":"fail","output":"timeout"}],
            "redis:responseTime":[{"status":"pass"}]}}"#;
        let f = fails(&analyse(&evidence(503, body), None, ctx()));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].0, "health.http_status");
        assert!(f[0].2.contains("HTTP 503 with status `fail`"));
        assert!(f[0]
            .2
            .contains("postgres:connections [db-1] (fail: timeout)"));
        assert!(!f[0].2.contains("redis"));
    }

    #[test]
    fn a_failure_behind_200_is_still_a_failure() {
        let f = fails(&analyse(
            &evidence(200, r#"{"status":"down"}"#),
            None,
            ctx(),
        ));
        assert_eq!(f[0].0, "health.body_status");
        assert_eq!(f[0].1, Severity::Critical);
    }

    #[test]
    fn actuator_components_are_walked() {
        let body = r#"{"status":"DOWN","components":{"db":{"status":"DOWN"},
            "diskSpace":{"status":"UP"},"redis":{"status":"UP","components":{"primary":{"status":"OUT_OF_SERVICE"}}}}}"#;
        let f = fails(&analyse(&evidence(503, body), None, ctx()));
        assert!(f[0].2.contains("db (DOWN)"), "{f:?}");
        assert!(f[0].2.contains("redis.primary (OUT_OF_SERVICE)"));
        assert!(!f[0].2.contains("diskSpace"));
    }

    #[test]
    fn warn_and_inconsistency_are_warnings() {
        let f = fails(&analyse(
            &evidence(200, r#"{"status":"warn"}"#),
            None,
            ctx(),
        ));
        assert_eq!(
            f,
            [("health.body_status", Severity::Warning, f[0].2.clone())]
        );
        let f = fails(&analyse(
            &evidence(503, r#"{"status":"pass"}"#),
            None,
            ctx(),
        ));
        assert!(f
            .iter()
            .any(|c| c.0 == "health.status_code_consistency" && c.1 == Severity::Warning));
    }

    #[test]
    fn expected_version_is_compared_or_unknown() {
        let e = evidence(200, r#"{"status":"pass","version":"1.4.2"}"#);
        assert!(fails(&analyse(&e, Some("1.4.2"), ctx())).is_empty());
        let f = fails(&analyse(&e, Some("1.5.0"), ctx()));
        assert_eq!(f[0].0, "health.version_matches");
        let checks = analyse(&evidence(200, "OK"), Some("1.5.0"), ctx());
        assert_eq!(checks.last().unwrap().status, Status::Unknown);
    }

    proptest::proptest! {
        /// Bodies are the server's: any text, and any JSON shape, is analysed without a panic.
        #[test]
        fn any_body_is_analysed(body in "\\PC{0,200}", status in 100u16..600) {
            let _ = analyse(&evidence(status, &body), Some("1"), ctx());
        }

        #[test]
        fn any_json_shape_is_analysed(status in "[a-zA-Z_]{0,12}", name in "\\PC{0,10}", inner in "[a-zA-Z_]{0,12}") {
            let body = serde_json::json!({"status": status, "checks": {name.clone(): [{"status": inner}], "x": {"status": 1}}, "components": {name: {"status": inner, "components": []}}});
            let _ = analyse(&evidence(200, &body.to_string()), None, ctx());
        }
    }

    #[test]
    fn errors_pick_their_rule() {
        let mut e = evidence(200, "");
        e.response = Err("request to https://x failed: invalid peer certificate: Expired".into());
        assert_eq!(
            analyse(&e, None, ctx())[0].rule,
            ProbeRule::TlsCertificateInvalid
        );
        e.response = Err("https://x accepted the connection but did not answer within 2s".into());
        assert_eq!(
            analyse(&e, None, ctx())[0].rule,
            ProbeRule::ProbeUnreachable
        );
    }
}
