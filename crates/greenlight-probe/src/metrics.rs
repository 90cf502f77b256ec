//! The `metrics` probe: the application's Prometheus / OpenMetrics exposition is served, parses,
//! and contains the metrics (and their label names) the manifest lists. Parsing is
//! `prometheus-parse`'s; matching follows the exposition formats' naming (a counter `NAME` is
//! exposed as `NAME_total`, histograms and summaries as `NAME_bucket`, `_sum`, `_count`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::rules::ProbeRule;
use super::{net, CheckResult, Context, Planned};
use greenlight_core::finding::Severity;

/// How much of an exposition is read (large services export tens of thousands of series).
const BODY_LIMIT: usize = 8 * 1024 * 1024;

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
}

pub async fn collect(p: &Planned) -> Evidence {
    let target = p.target();
    let response = net::fetch(
        p,
        "application/openmetrics-text;version=1.0.0;q=0.9, text/plain;version=0.0.4;q=0.8, */*;q=0.1",
        BODY_LIMIT,
    )
    .await
    .map(|f| Response {
        status: f.status,
        content_type: f.content_type,
        body: f.body,
    });
    Evidence { target, response }
}

/// Metric name → the label names seen on any of its samples.
fn exposed(body: &str) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    let lines = body.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).map_err(|e| e.to_string())?;
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for sample in &scrape.samples {
        let labels = out.entry(sample.metric.clone()).or_default();
        labels.extend(sample.labels.keys().cloned());
    }
    // A family documented by `# TYPE`/`# HELP` with no sample yet is exported too.
    for name in scrape.docs.keys() {
        out.entry(name.clone()).or_default();
    }
    Ok(out)
}

/// The exposed series that stand for a listed name.
fn series_of<'a>(
    name: &str,
    exposed: &'a BTreeMap<String, BTreeSet<String>>,
) -> Vec<(&'a String, &'a BTreeSet<String>)> {
    let suffixes = ["", "_total", "_bucket", "_sum", "_count", "_created"];
    suffixes
        .iter()
        .filter_map(|s| exposed.get_key_value(&format!("{name}{s}")))
        .collect()
}

pub fn analyse(e: &Evidence, wanted: &[String], _ctx: Context) -> Vec<CheckResult> {
    let t = &e.target;
    let r = match &e.response {
        Err(err) => return vec![CheckResult::request_failed("metrics.reachable", err)],
        Ok(r) => r,
    };
    let mut out = Vec::new();
    if r.status != 200 {
        out.push(CheckResult::fail(
            "metrics.reachable",
            ProbeRule::HealthCheckFailing,
            Severity::Critical,
            format!("{t} answered {} instead of a metrics exposition", r.status),
        ));
        return out;
    }
    let exposed = match exposed(&r.body) {
        Ok(m) if !m.is_empty() => m,
        Ok(_) => {
            out.push(CheckResult::fail(
                "metrics.exposition",
                ProbeRule::MetricsMissing,
                Severity::Critical,
                format!("{t} answered 200 with no metrics at all"),
            ));
            return out;
        }
        Err(err) => {
            out.push(CheckResult::fail(
                "metrics.exposition",
                ProbeRule::MetricsMissing,
                Severity::Critical,
                format!("{t} is not a Prometheus exposition: {err}"),
            ));
            return out;
        }
    };
    out.push(CheckResult::pass(
        "metrics.exposition",
        ProbeRule::MetricsMissing,
        format!("{} metric families exported", exposed.len()),
    ));
    let mut missing = Vec::new();
    let mut unlabelled = Vec::new();
    for spec in wanted {
        let Some((name, labels)) = greenlight_core::manifest::parse_metric_spec(spec) else {
            continue; // refused when the manifest loads
        };
        let series = series_of(&name, &exposed);
        if series.is_empty() {
            missing.push(name);
            continue;
        }
        let has: BTreeSet<&String> = series.iter().flat_map(|(_, l)| l.iter()).collect();
        let absent: Vec<&String> = labels.iter().filter(|l| !has.contains(l)).collect();
        if !absent.is_empty() {
            unlabelled.push(format!(
                "{name} without {}",
                absent
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    if !wanted.is_empty() {
        if missing.is_empty() && unlabelled.is_empty() {
            out.push(CheckResult::pass(
                "metrics.present",
                ProbeRule::MetricsMissing,
                format!("all {} listed metrics are exported", wanted.len()),
            ));
        } else {
            let mut what = Vec::new();
            if !missing.is_empty() {
                what.push(format!("not exported: {}", missing.join(", ")));
            }
            if !unlabelled.is_empty() {
                what.push(format!("missing labels: {}", unlabelled.join("; ")));
            }
            out.push(CheckResult::fail_default(
                "metrics.present",
                ProbeRule::MetricsMissing,
                format!("{t}: {}", what.join("; ")),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPOSITION: &str = "# HELP billing_credits_purchased_total Credits sold.\n# TYPE billing_credits_purchased_total counter\nbilling_credits_purchased_total{package=\"starter\"} 12\n# TYPE stripe_webhook_events_total counter\nstripe_webhook_events_total{event_type=\"checkout.session.completed\"} 3\n# TYPE openai_request_duration_seconds histogram\nopenai_request_duration_seconds_bucket{le=\"0.5\"} 4\nopenai_request_duration_seconds_bucket{le=\"+Inf\"} 5\nopenai_request_duration_seconds_sum 1.9\nopenai_request_duration_seconds_count 5\n";

    fn ev(status: u16, body: &str) -> Evidence {
        Evidence {
            target: "https://app.test/metrics".into(),
            response: Ok(Response {
                status,
                content_type: Some("text/plain; version=0.0.4".into()),
                body: body.into(),
            }),
        }
    }

    fn ctx() -> Context {
        Context {
            production: true,
            now: chrono::Utc::now(),
        }
    }

    fn statuses(c: &[CheckResult]) -> Vec<(&str, &str)> {
        c.iter().map(|c| (c.check, c.status.as_str())).collect()
    }

    #[test]
    fn listed_metrics_by_name_suffix_and_label() {
        let wanted: Vec<String> = [
            "billing.credits_purchased_total{package}",
            "stripe.webhook_events{event_type}",
            "openai_request_duration_seconds",
        ]
        .map(String::from)
        .to_vec();
        let c = analyse(&ev(200, EXPOSITION), &wanted, ctx());
        assert_eq!(
            statuses(&c),
            [("metrics.exposition", "pass"), ("metrics.present", "pass")]
        );
    }

    #[test]
    fn absent_metrics_and_labels_are_named() {
        let wanted: Vec<String> = [
            "stripe.webhook_failures_total",
            "stripe_webhook_events_total{event_type,outcome}",
        ]
        .map(String::from)
        .to_vec();
        let c = analyse(&ev(200, EXPOSITION), &wanted, ctx());
        let present = c.iter().find(|c| c.check == "metrics.present").unwrap();
        assert_eq!(present.status.as_str(), "fail");
        assert_eq!(present.severity, Some(Severity::Warning));
        assert!(
            present
                .message
                .contains("not exported: stripe_webhook_failures_total"),
            "{}",
            present.message
        );
        assert!(
            present
                .message
                .contains("stripe_webhook_events_total without outcome"),
            "{}",
            present.message
        );
    }

    #[test]
    fn not_an_exposition_or_an_error_status_is_critical() {
        let c = analyse(&ev(200, "<html>hello</html>"), &[], ctx());
        assert_eq!(c[0].status.as_str(), "fail");
        assert_eq!(c[0].severity, Some(Severity::Critical));
        let c = analyse(&ev(404, ""), &[], ctx());
        assert_eq!(statuses(&c), [("metrics.reachable", "fail")]);
    }
}
