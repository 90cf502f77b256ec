//! SARIF 2.1.0, as code-scanning UIs read it: one run, the rules that fired (deduplicated and
//! sorted by id, as ruff does), one result per finding with its location, level and a partial
//! fingerprint. Validated against the official schema in the tests.

use serde_json::{json, Value};

use greenlight_core::finding::{Report, Severity};
use greenlight_core::redact::Redacted;
use greenlight_golive::Decision;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "error",
        Severity::Warning => "warning",
        Severity::Recommendation => "note",
    }
}

pub fn render_sarif(report: &Redacted<Report>) -> String {
    let report: &Report = report;
    // Findings that accepted risks cover are results too, with SARIF's own `suppressions`.
    let mut all: Vec<(
        &greenlight_core::finding::Finding,
        Option<&greenlight_golive::AcceptedRisk>,
    )> = report.findings.iter().map(|f| (f, None)).collect();
    if let Some(d) = report.section::<Decision>() {
        for f in &d.accepted_findings {
            let risk = d
                .accepted
                .iter()
                .find(|a| a.status == "active" && a.accepted.covers(f));
            all.push((f, risk));
        }
    }
    let mut rules: Vec<_> = all
        .iter()
        .map(|(f, _)| (f.rule.id(), f.rule.summary(), f.severity))
        .collect();
    rules.sort_by(|a, b| a.0.cmp(b.0));
    rules.dedup_by(|a, b| a.0 == b.0);
    let rule_index = |id: &str| rules.iter().position(|r| r.0 == id).unwrap_or(0);
    let results: Vec<Value> = all
        .iter()
        .map(|&(f, risk)| {
            let mut result = json!({
                "ruleId": f.rule.id(),
                "ruleIndex": rule_index(f.rule.id()),
                "level": level(f.severity),
                "message": { "text": f.message },
            });
            if let Some(loc) = &f.location {
                let mut physical =
                    json!({ "artifactLocation": { "uri": loc.path.trim_start_matches("./") } });
                if loc.line > 0 {
                    physical["region"] =
                        json!({ "startLine": loc.line, "startColumn": loc.column.max(1) });
                }
                result["locations"] = json!([{ "physicalLocation": physical }]);
            }
            if let Some(fp) = &f.fingerprint {
                result["partialFingerprints"] = json!({ "greenlight/v1": fp });
            }
            let mut properties = serde_json::Map::new();
            for (k, v) in [
                ("variable", &f.variable),
                ("service", &f.service),
                (
                    "maskedValue",
                    &f.value.as_ref().map(|v| v.as_str().to_owned()),
                ),
                ("commit", &f.commit),
                ("author", &f.author),
                ("confidence", &f.confidence.map(|c| c.as_str().to_owned())),
                ("why", &f.why),
            ] {
                if let Some(v) = v {
                    properties.insert(k.to_owned(), Value::String(v.clone()));
                }
            }
            if !properties.is_empty() {
                result["properties"] = Value::Object(properties);
            }
            if let Some(a) = risk {
                let a = &a.accepted;
                result["suppressions"] = json!([{
                    "kind": "external",
                    "status": "accepted",
                    "justification": format!(
                        "{} (accepted by {} until {})",
                        a.reason,
                        a.by,
                        a.expires.format("%Y-%m-%d")
                    ),
                }]);
            }
            result
        })
        .collect();
    let rules_json: Vec<Value> = rules
        .iter()
        .map(|(id, summary, severity)| {
            json!({
                "id": id,
                "name": id,
                "shortDescription": { "text": summary },
                "defaultConfiguration": { "level": level(*severity) },
                "helpUri": format!("https://github.com/greenlight-dev/greenlight/blob/main/docs/rules.md#{id}"),
            })
        })
        .collect();
    let sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "greenlight",
                "version": report.tool.version,
                "informationUri": "https://github.com/greenlight-dev/greenlight",
                "rules": rules_json,
            }},
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&sarif).expect("sarif serialises") + "\n"
}
