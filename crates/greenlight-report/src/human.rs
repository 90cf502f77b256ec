//! The terminal report: findings grouped by service, each with its rule, message and the source
//! line (value masked) underlined, as rustc and cargo-deny show diagnostics.

use std::fmt::Write as _;

use annotate_snippets::{Level, Renderer, Snippet};

use greenlight_core::finding::{Finding, Report, Severity, Verdict};
use greenlight_core::redact::Redacted;
use greenlight_golive::Decision;
use greenlight_probe::ProbeResults;
use greenlight_verify::Verifications;

fn level(s: Severity) -> Level {
    match s {
        Severity::Critical => Level::Error,
        Severity::Warning => Level::Warning,
        Severity::Recommendation => Level::Note,
    }
}

fn byte_range(text: &str, chars: &std::ops::Range<usize>) -> std::ops::Range<usize> {
    let to_byte = |c: usize| text.char_indices().nth(c).map_or(text.len(), |(b, _)| b);
    to_byte(chars.start)..to_byte(chars.end).max(to_byte(chars.start))
}

fn render_finding(out: &mut String, f: &Finding, renderer: &Renderer) {
    // rustc's convention: `error[rule-id]: message`, with critical findings as errors.
    let id = f.rule.id();
    let at = f
        .location
        .as_ref()
        .map(|loc| format!("at {}:{}:{}", loc.path, loc.line, loc.column))
        .unwrap_or_default();
    let why = match (f.confidence, &f.why) {
        (Some(c), Some(why)) => format!("{} confidence: {why}", c.as_str()),
        _ => String::new(),
    };
    let body = match (&f.location, &f.snippet) {
        (Some(loc), Some(snippet)) => {
            let span = byte_range(&snippet.line_text, &snippet.columns);
            let span = if span.is_empty() {
                0..snippet.line_text.len()
            } else {
                span
            };
            let mut message = level(f.severity).title(&f.message).id(id).snippet(
                Snippet::source(&snippet.line_text)
                    .line_start(loc.line)
                    .origin(&loc.path)
                    .annotation(level(f.severity).span(span).label(f.rule.summary())),
            );
            if !why.is_empty() {
                message = message.footer(Level::Info.title(&why));
            }
            renderer.render(message).to_string()
        }
        (Some(_), None) => {
            let message = level(f.severity)
                .title(&f.message)
                .id(id)
                .footer(Level::Info.title(&at));
            renderer.render(message).to_string()
        }
        (None, _) => renderer
            .render(level(f.severity).title(&f.message).id(id))
            .to_string(),
    };
    let _ = writeln!(out, "{body}\n");
}

/// Renders a report for a terminal; `color` adds ANSI styles.
pub fn render_human(report: &Redacted<Report>, project: &str, color: bool) -> String {
    let report: &Report = report;
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    let env = report.environment.as_deref().unwrap_or("-");
    let _ = writeln!(out, "greenlight {} · {project} · {env}\n", report.command);
    // Group by probe (a probe's findings together, under its service when it has one), then by
    // service, in order of first appearance (findings are sorted by severity).
    let heading_of = |f: &Finding| -> Option<String> {
        match (&f.probe, &f.service) {
            (Some(p), Some(s)) => Some(format!("service {s} · probe {p}")),
            (Some(p), None) => Some(format!("probe {p}")),
            (None, Some(s)) => Some(format!("service {s}")),
            (None, None) => None,
        }
    };
    let mut groups: Vec<(Option<String>, Vec<&Finding>)> = Vec::new();
    for f in &report.findings {
        let key = heading_of(f);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(f),
            None => groups.push((key, vec![f])),
        }
    }
    groups.sort_by_key(|(k, _)| k.is_none());
    for (heading, findings) in groups {
        let heading = heading.unwrap_or_else(|| {
            if report.command == "scan" {
                "files".to_owned()
            } else {
                "(no service)".to_owned()
            }
        });
        let _ = writeln!(out, "── {heading} ──");
        for f in findings {
            render_finding(&mut out, f, &renderer);
        }
    }
    if let Some(probes) = report.section::<ProbeResults>().map(|p| &p.0) {
        let _ = writeln!(out, "── probes ──");
        let width = probes.iter().map(|p| p.name.len()).max().unwrap_or(0);
        for p in probes {
            // The status follows the worst failing check: a probe with only recommendations
            // is not "pass", one with only warnings is not "FAIL".
            let worst = p
                .checks
                .iter()
                .filter(|c| c.status == greenlight_probe::Status::Fail)
                .filter_map(|c| c.severity)
                .min();
            let status = match (worst, p.status) {
                (Some(greenlight_core::finding::Severity::Critical), _) => "FAIL",
                (Some(greenlight_core::finding::Severity::Warning), _) => "warn",
                (_, greenlight_probe::Status::Unknown) => "unknown",
                (Some(greenlight_core::finding::Severity::Recommendation), _) => "note",
                (None, _) => "pass",
            };
            let _ = writeln!(
                out,
                "{status:7}  {:8}  {:width$}  {}  ({} ms)",
                p.kind, p.name, p.target, p.duration_ms
            );
        }
        let _ = writeln!(out);
    }
    if let Some(vs) = report.section::<Verifications>().map(|v| &v.0) {
        let _ = writeln!(out, "── verifications ──");
        for v in vs {
            let status = match v.status {
                greenlight_verify::Status::Pass => "pass",
                greenlight_verify::Status::Fail => "FAIL",
                greenlight_verify::Status::Unknown => "unknown",
            };
            let creds: Vec<String> = v
                .credentials
                .iter()
                .map(|c| format!("{} {}", c.variable, c.status.as_str()))
                .collect();
            let _ = writeln!(
                out,
                "{status:7}  {} ({})  {}  [{} request(s), {} ms]",
                v.title,
                v.service,
                creds.join(", "),
                v.requests,
                v.duration_ms
            );
            for c in &v.checks {
                let _ = writeln!(
                    out,
                    "           {:7}  {}: {}",
                    c.status.as_str(),
                    c.check,
                    c.message
                );
            }
            for n in &v.notes {
                let _ = writeln!(out, "           note: {n}");
            }
        }
        let _ = writeln!(out);
    }
    if let Some(d) = report.section::<Decision>() {
        let _ = writeln!(out, "── checklist ──");
        for i in &d.checklist {
            let mark = if i.status.is_ok() {
                "ok  "
            } else if i.required {
                "FAIL"
            } else {
                "warn"
            };
            let _ = writeln!(
                out,
                "{mark}  [{}] {} ({}): {} — {}",
                i.section,
                i.id,
                i.title,
                i.status.as_str(),
                i.detail
            );
        }
        if !d.accepted.is_empty() {
            let _ = writeln!(out, "\n── accepted risks ──");
            for a in &d.accepted {
                let x = &a.accepted;
                let _ = writeln!(
                    out,
                    "{}:{} ({}, until {}, by {}): {} [{} finding(s)]",
                    x.rule,
                    x.target,
                    a.status,
                    x.expires.format("%Y-%m-%d"),
                    x.by,
                    x.reason,
                    a.covers
                );
            }
        }
        if !d.blocking.is_empty() {
            let _ = writeln!(out, "\n── blocking ──");
            for (n, b) in d.blocking.iter().enumerate() {
                let _ = writeln!(out, "{}. {b}", n + 1);
            }
        }
        let _ = writeln!(out);
    }
    let s = &report.summary;
    let verdict = match report.verdict {
        Verdict::Go => "GO",
        Verdict::NoGo => "NO-GO",
    };
    let _ = writeln!(
        out,
        "{verdict}: {} critical (shown as error), {} warning{}, {} recommendation{} (shown as note)",
        s.critical,
        s.warning,
        if s.warning == 1 { "" } else { "s" },
        s.recommendation,
        if s.recommendation == 1 { "" } else { "s" },
    );
    out
}
