//! JUnit XML, as CI systems (GitHub, GitLab, Jenkins) show test results natively: one testsuite
//! for the checklist (one testcase per item) and one for the rules (one testcase per rule: a
//! failure when it has critical or warning findings, each listed).

use std::fmt::Write as _;

use greenlight_core::finding::{Report, Severity};
use greenlight_core::redact::Redacted;
use greenlight_golive::Decision;

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry other control characters at all.
            c if c.is_control() && !matches!(c, '\n' | '\t') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Every rule id a report of this command can contain, then the ones that fired.
fn rule_ids(report: &Report) -> Vec<&'static str> {
    let mut ids: Vec<&'static str> = Vec::new();
    let check = || greenlight_core::rule::rules_of("check").map(|r| r.id());
    let probe = || greenlight_core::rule::rules_of("probe").map(|r| r.id());
    let verify = || greenlight_core::rule::rules_of("verify").map(|r| r.id());
    match report.command {
        "check" => ids.extend(check()),
        "probe" => ids.extend(probe()),
        "verify" => ids.extend(verify()),
        "golive" => {
            ids.extend(check());
            ids.extend(probe());
            ids.extend(verify());
        }
        _ => {}
    }
    for f in report.findings.iter() {
        if !ids.contains(&f.rule.id()) {
            ids.push(f.rule.id());
        }
    }
    ids
}

pub fn render_junit(report: &Redacted<Report>, project: &str) -> String {
    let report: &Report = report;
    let mut suites = String::new();
    let mut total = 0;
    let mut total_failures = 0;
    if let Some(d) = report.section::<Decision>() {
        let failures = d.checklist.iter().filter(|i| !i.status.is_ok()).count();
        let _ = writeln!(
            suites,
            "  <testsuite name=\"greenlight.checklist\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">",
            d.checklist.len()
        );
        for i in &d.checklist {
            let _ = write!(
                suites,
                "    <testcase classname=\"checklist.{}\" name=\"{}: {}\"",
                escape(&i.section),
                escape(&i.id),
                escape(&i.title)
            );
            if i.status.is_ok() {
                let _ = writeln!(
                    suites,
                    ">\n      <system-out>{}</system-out>\n    </testcase>",
                    escape(&i.detail)
                );
            } else {
                let _ = writeln!(
                    suites,
                    ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                    i.status.as_str(),
                    escape(&format!(
                        "{} ({})",
                        i.status.as_str(),
                        if i.required { "required" } else { "optional" }
                    )),
                    escape(&i.detail)
                );
            }
        }
        let _ = writeln!(suites, "  </testsuite>");
        total += d.checklist.len();
        total_failures += failures;
        // Accepted risks: shown as skipped tests, with who, why and until when.
        let _ = writeln!(
            suites,
            "  <testsuite name=\"greenlight.accepted\" tests=\"{0}\" failures=\"0\" errors=\"0\" skipped=\"{0}\">",
            d.accepted.len()
        );
        for a in &d.accepted {
            let x = &a.accepted;
            let _ = writeln!(
                suites,
                "    <testcase classname=\"accepted\" name=\"{}:{}\">\n      <skipped message=\"{}\"/>\n    </testcase>",
                escape(&x.rule),
                escape(&x.target),
                escape(&format!(
                    "{} risk, accepted by {} until {}: {} ({} finding(s))",
                    a.status,
                    x.by,
                    x.expires.format("%Y-%m-%d"),
                    x.reason,
                    a.covers
                ))
            );
        }
        let _ = writeln!(suites, "  </testsuite>");
        total += d.accepted.len();
    }
    let ids = rule_ids(report);
    let mut cases = String::new();
    let mut failures = 0;
    for id in &ids {
        let hits: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.rule.id() == *id)
            .collect();
        let blocking: Vec<_> = hits
            .iter()
            .filter(|f| f.severity != Severity::Recommendation)
            .collect();
        let _ = write!(
            cases,
            "    <testcase classname=\"rules\" name=\"{}\"",
            escape(id)
        );
        if blocking.is_empty() {
            let notes: Vec<String> = hits.iter().map(|f| f.message.clone()).collect();
            if notes.is_empty() {
                cases.push_str("/>\n");
            } else {
                let _ = writeln!(
                    cases,
                    ">\n      <system-out>{}</system-out>\n    </testcase>",
                    escape(&notes.join("\n"))
                );
            }
        } else {
            failures += 1;
            let body: Vec<String> = blocking
                .iter()
                .map(|f| {
                    let at = f
                        .location
                        .as_ref()
                        .map(|l| format!("{}:{}:{}: ", l.path, l.line, l.column))
                        .unwrap_or_default();
                    format!("{}{at}{}", f.severity.as_str().to_owned() + ": ", f.message)
                })
                .collect();
            let worst = blocking
                .iter()
                .map(|f| f.severity)
                .min()
                .expect("not empty");
            let _ = writeln!(
                cases,
                ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                worst.as_str(),
                escape(&format!("{} finding(s)", blocking.len())),
                escape(&body.join("\n"))
            );
        }
    }
    let _ = writeln!(
        suites,
        "  <testsuite name=\"greenlight.rules\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">\n{cases}  </testsuite>",
        ids.len()
    );
    total += ids.len();
    total_failures += failures;
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"greenlight {} {} {}\" tests=\"{total}\" failures=\"{total_failures}\" errors=\"0\">\n{suites}</testsuites>\n",
        report.command,
        escape(project),
        escape(report.environment.as_deref().unwrap_or("-"))
    )
}
