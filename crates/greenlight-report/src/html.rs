//! One self-contained HTML file (inline CSS and SVG; no script, no fetch of anything): a verdict
//! banner, blocking reasons, a status grid per checklist section and per service, a chart of
//! findings by severity and service, the findings table with masked values, accepted risks,
//! sign-offs and probes. Elements carry ids (`verdict`, `blocking`, `checklist-grid`,
//! `service-grid`, `chart`, `findings`, …) that the Chromium test reads.

use std::fmt::Write as _;

use super::junit::escape;
use greenlight_core::finding::{Report, Severity, Verdict};
use greenlight_core::redact::Redacted;
use greenlight_golive::Decision;
use greenlight_probe::ProbeResults;
use greenlight_verify::Verifications;

const CSS: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
main{max-width:1100px;margin:0 auto;padding:24px}
h2{margin:28px 0 10px;font-size:18px}
.banner{padding:22px 24px;border-radius:10px;color:#fff;display:flex;justify-content:space-between;align-items:center}
.banner.go{background:#1a7f37}.banner.nogo{background:#cf222e}
.banner .verdict{font-size:34px;font-weight:800;letter-spacing:.04em}
.banner .meta{text-align:right;opacity:.95}
.counts span{display:inline-block;margin-left:10px;padding:2px 8px;border-radius:12px;background:rgba(255,255,255,.2)}
ol.blocking li{margin:4px 0}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:12px}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px}
.card h3{margin:0 0 8px;font-size:15px}
.chip{display:block;margin:3px 0;padding:3px 8px;border-radius:6px;font-size:13px}
.ok{background:#dafbe1}.bad{background:#ffebe9}.warn{background:#fff8c5}.unknown{background:#eaeef2}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d0d7de}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:#f6f8fa}
td.sev-critical{color:#cf222e;font-weight:700}td.sev-warning{color:#9a6700;font-weight:700}td.sev-recommendation{color:#0969da}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#eaeef2;padding:1px 4px;border-radius:4px}
footer{margin-top:28px;color:#57606a;font-size:12px}
";

fn color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#cf222e",
        Severity::Warning => "#d4a72c",
        Severity::Recommendation => "#54aeff",
    }
}

const SEVERITIES: [Severity; 3] = [
    Severity::Critical,
    Severity::Warning,
    Severity::Recommendation,
];

/// Horizontal stacked bars: one per service (and "(none)"), segments by severity.
fn chart(report: &Report) -> String {
    let mut services: Vec<(String, [usize; 3])> = Vec::new();
    for f in &report.findings {
        let name = f
            .service
            .clone()
            .unwrap_or_else(|| format!("({})", f.source.unwrap_or("no service")));
        let idx = SEVERITIES
            .iter()
            .position(|s| *s == f.severity)
            .expect("a severity");
        match services.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => c[idx] += 1,
            None => {
                let mut c = [0; 3];
                c[idx] = 1;
                services.push((name, c));
            }
        }
    }
    let max = services
        .iter()
        .map(|(_, c)| c.iter().sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1);
    let row = 26;
    let label_w = 190.0;
    let bar_w = 560.0;
    let height = row * services.len().max(1) + 40;
    let mut svg = format!(
        "<svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"Findings by severity and service\" width=\"800\" height=\"{height}\" viewBox=\"0 0 800 {height}\">"
    );
    if services.is_empty() {
        svg.push_str("<text x=\"0\" y=\"20\" font-size=\"14\">No findings.</text>");
    }
    for (i, (name, counts)) in services.iter().enumerate() {
        let y = i * row;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" font-size=\"13\" text-anchor=\"end\">{}</text>",
            label_w - 8.0,
            y + 17,
            escape(name)
        );
        let mut x = label_w;
        for (k, n) in counts.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            let w = bar_w * (*n as f64) / (max as f64);
            let _ = write!(
                svg,
                "<rect class=\"bar\" data-service=\"{}\" data-severity=\"{}\" data-count=\"{n}\" x=\"{x:.1}\" y=\"{}\" width=\"{w:.1}\" height=\"18\" fill=\"{}\"><title>{}: {n} {}</title></rect>",
                escape(name),
                SEVERITIES[k].as_str(),
                y + 4,
                color(SEVERITIES[k]),
                escape(name),
                SEVERITIES[k].as_str()
            );
            x += w;
        }
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"12\">{}</text>",
            x + 6.0,
            y + 17,
            counts.iter().sum::<usize>()
        );
    }
    let legend_y = row * services.len().max(1) + 22;
    let mut lx = label_w;
    for s in SEVERITIES {
        let _ = write!(
            svg,
            "<rect x=\"{lx}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" font-size=\"12\">{}</text>",
            legend_y - 10,
            color(s),
            lx + 16.0,
            legend_y,
            s.as_str()
        );
        lx += 130.0;
    }
    svg.push_str("</svg>");
    svg
}

/// Escaped text with its Markdown code spans (`` `NAME` ``, as messages write variable names,
/// commands and file names) rendered as `<code>`; an unpaired backtick stays as written.
fn inline(text: &str) -> String {
    let escaped = escape(text);
    let parts: Vec<&str> = escaped.split('`').collect();
    let mut out = String::with_capacity(escaped.len() + 16);
    let pairs = (parts.len() - 1) / 2;
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 1 && i <= pairs * 2 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            if i > pairs * 2 && i > 0 {
                out.push('`');
            }
            out.push_str(part);
        }
    }
    out
}

/// Text for an attribute (a tooltip): no markup, so the backticks go.
fn plain(text: &str) -> String {
    escape(&text.replace('`', ""))
}

pub fn render_html(report: &Redacted<Report>, project: &str) -> String {
    let report: &Report = report;
    let env = report.environment.as_deref().unwrap_or("-");
    let (class, verdict) = match report.verdict {
        Verdict::Go => ("go", "GO"),
        Verdict::NoGo => ("nogo", "NO-GO"),
    };
    let s = &report.summary;
    let title = if report.section::<Decision>().is_some() {
        "Go-live decision"
    } else {
        report.command
    };
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{} — {} · {}</title><style>{CSS}</style></head><body><main>",
        escape(title),
        escape(project),
        escape(env)
    );
    let generated = report
        .section::<Decision>()
        .as_ref()
        .map(|d| {
            d.generated_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
        .unwrap_or_default();
    let _ = write!(
        h,
        "<header id=\"banner\" class=\"banner {class}\"><div><div id=\"verdict\" class=\"verdict\">{verdict}</div><div>{} · <strong>{}</strong> · environment <strong id=\"environment\">{}</strong></div></div><div class=\"meta\"><div class=\"counts\"><span id=\"count-critical\">{} critical</span><span id=\"count-warning\">{} warning</span><span id=\"count-recommendation\">{} recommendation</span></div><div>{} {} {}</div></div></header>",
        escape(title),
        escape(project),
        escape(env),
        s.critical,
        s.warning,
        s.recommendation,
        report.tool.name,
        report.tool.version,
        escape(&generated)
    );
    if let Some(d) = report.section::<Decision>() {
        h.push_str("<h2>Blocking</h2>");
        if d.blocking.is_empty() {
            h.push_str("<p id=\"blocking\">Nothing blocks this release.</p>");
        } else {
            h.push_str("<ol id=\"blocking\" class=\"blocking\">");
            for b in &d.blocking {
                let _ = write!(h, "<li>{}</li>", inline(b));
            }
            h.push_str("</ol>");
        }
        h.push_str("<h2>Checklist</h2><div id=\"checklist-grid\" class=\"grid\">");
        let mut sections: Vec<&str> = Vec::new();
        for i in &d.checklist {
            if !sections.contains(&i.section.as_str()) {
                sections.push(&i.section);
            }
        }
        for section in sections {
            let items: Vec<_> = d
                .checklist
                .iter()
                .filter(|i| i.section == section)
                .collect();
            let done = items.iter().filter(|i| i.status.is_ok()).count();
            let _ = write!(h, "<div class=\"card section\" data-section=\"{}\"><h3>{} <small>{done}/{}</small></h3>", escape(section), escape(section), items.len());
            for i in items {
                let cls = if i.status.is_ok() {
                    "ok"
                } else if i.status == greenlight_golive::ItemStatus::Unknown {
                    "unknown"
                } else if i.required {
                    "bad"
                } else {
                    "warn"
                };
                let _ = write!(
                    h,
                    "<span class=\"chip item {cls}\" data-item=\"{}\" data-status=\"{}\" title=\"{}\">{} — {}</span>",
                    escape(&i.id),
                    i.status.as_str(),
                    plain(&i.detail),
                    inline(&i.title),
                    i.status.as_str()
                );
            }
            h.push_str("</div>");
        }
        h.push_str("</div>");
    }
    // Status per service: counts by severity.
    h.push_str("<h2>Services</h2><div id=\"service-grid\" class=\"grid\">");
    let mut services: Vec<String> = Vec::new();
    for f in &report.findings {
        let name = f.service.clone().unwrap_or_else(|| "(no service)".into());
        if !services.contains(&name) {
            services.push(name);
        }
    }
    if services.is_empty() {
        h.push_str("<div class=\"card ok\">No findings in any service.</div>");
    }
    for name in &services {
        let of = |sev: Severity| {
            report
                .findings
                .iter()
                .filter(|f| {
                    f.service.clone().unwrap_or_else(|| "(no service)".into()) == *name
                        && f.severity == sev
                })
                .count()
        };
        let (c, w, r) = (
            of(Severity::Critical),
            of(Severity::Warning),
            of(Severity::Recommendation),
        );
        let cls = if c > 0 {
            "bad"
        } else if w > 0 {
            "warn"
        } else {
            "ok"
        };
        let _ = write!(h, "<div class=\"card service {cls}\" data-service=\"{}\"><h3>{}</h3>{c} critical · {w} warning · {r} recommendation</div>", escape(name), escape(name));
    }
    h.push_str("</div><h2>Findings by severity and service</h2>");
    h.push_str(&chart(report));
    h.push_str("<h2>Findings</h2><table id=\"findings\"><thead><tr><th>Severity</th><th>Rule</th><th>From</th><th>Where</th><th>Variable</th><th>Value (masked)</th><th>Message</th></tr></thead><tbody>");
    for f in &report.findings {
        let at = f
            .location
            .as_ref()
            .map(|l| format!("{}:{}:{}", l.path, l.line, l.column))
            .unwrap_or_default();
        let _ = write!(
            h,
            "<tr class=\"finding\"><td class=\"sev-{0}\">{0}</td><td><code>{1}</code></td><td>{2}</td><td><code>{3}</code></td><td>{4}</td><td><code>{5}</code></td><td>{6}</td></tr>",
            f.severity.as_str(),
            escape(f.rule.id()),
            f.source.unwrap_or(report.command),
            escape(&at),
            escape(f.variable.as_deref().unwrap_or("")),
            escape(f.value.as_ref().map_or("", |v| v.as_str())),
            inline(&f.message)
        );
    }
    h.push_str("</tbody></table>");
    if let Some(d) = report.section::<Decision>() {
        h.push_str("<h2>Accepted risks</h2><table id=\"accepted\"><thead><tr><th>Rule</th><th>For</th><th>Reason</th><th>By</th><th>Until</th><th>Status</th><th>Covers</th></tr></thead><tbody>");
        for a in &d.accepted {
            let x = &a.accepted;
            let _ = write!(h, "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", escape(&x.rule), escape(&x.target), inline(&x.reason), escape(&x.by), x.expires.format("%Y-%m-%d"), a.status, a.covers);
        }
        h.push_str("</tbody></table><h2>Sign-offs</h2><table id=\"signoffs\"><thead><tr><th>Item</th><th>By</th><th>On</th><th>Expires</th><th>Note</th></tr></thead><tbody>");
        for so in &d.signoffs {
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&so.item),
                escape(&so.by),
                so.at.format("%Y-%m-%d %H:%M UTC"),
                so.expires
                    .map(|e| e.format("%Y-%m-%d").to_string())
                    .unwrap_or_else(|| "never".into()),
                inline(so.note.as_deref().unwrap_or(""))
            );
        }
        h.push_str("</tbody></table>");
    }
    if let Some(probes) = report.section::<ProbeResults>().map(|p| &p.0) {
        h.push_str("<h2>Probes</h2><table id=\"probes\"><thead><tr><th>Probe</th><th>Kind</th><th>Target</th><th>Status</th><th>Time</th></tr></thead><tbody>");
        for p in probes {
            let status = p.status.as_str();
            let _ = write!(h, "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{status}</td><td>{} ms</td></tr>", escape(&p.name), escape(&p.kind), escape(&p.target), p.duration_ms);
        }
        h.push_str("</tbody></table>");
    }
    if let Some(vs) = report.section::<Verifications>().map(|v| &v.0) {
        h.push_str("<h2>Verifications</h2><table id=\"verifications\"><thead><tr><th>Service</th><th>Provider</th><th>Credentials</th><th>Status</th><th>Checks</th></tr></thead><tbody>");
        for v in vs {
            let creds: Vec<String> = v
                .credentials
                .iter()
                .map(|c| format!("{} {}", c.variable, c.status.as_str()))
                .collect();
            let checks: Vec<String> = v
                .checks
                .iter()
                .map(|c| format!("{} {}: {}", c.status.as_str(), c.check, c.message))
                .collect();
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&v.service),
                escape(&v.title),
                escape(&creds.join(", ")),
                v.status.as_str(),
                inline(&checks.join("; "))
            );
        }
        h.push_str("</tbody></table>");
    }
    let _ = writeln!(h, "<footer>Made by {} {} · command <code>{}</code> · project {} · environment {} {}</footer></main></body></html>", report.tool.name, report.tool.version, report.command, escape(project), escape(env), escape(&generated));
    h
}

#[cfg(test)]
mod inline_tests {
    use super::*;

    #[test]
    fn code_spans_become_code_and_stray_backticks_stay() {
        assert_eq!(inline("set `A<B>` now"), "set <code>A&lt;B&gt;</code> now");
        assert_eq!(inline("`a` and `b`"), "<code>a</code> and <code>b</code>");
        assert_eq!(inline("one ` alone"), "one ` alone");
        assert_eq!(inline("`a` then ` alone"), "<code>a</code> then ` alone");
        assert_eq!(inline("none"), "none");
        assert_eq!(plain("`x` \"q\""), "x &quot;q&quot;");
    }
}
