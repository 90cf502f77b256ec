//! Markdown: for `golive` the decision document a release manager reads in a minute (verdict,
//! blocking items, the checklist by section, findings, accepted risks, sign-offs, probes, and the
//! environment, tool version and time it was made); for the other commands the same document
//! without the go-live sections.

use std::fmt::Write as _;

use greenlight_core::finding::{Finding, Report, Verdict};
use greenlight_core::redact::Redacted;
use greenlight_golive::Decision;
use greenlight_probe::ProbeResults;
use greenlight_verify::Verifications;

/// A table cell: pipes escaped, one line.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

fn location(f: &Finding) -> String {
    f.location
        .as_ref()
        .map(|l| {
            if l.line > 0 {
                format!("`{}:{}:{}`", l.path, l.line, l.column)
            } else {
                format!("`{}`", l.path)
            }
        })
        .unwrap_or_default()
}

fn findings_table(out: &mut String, findings: &[Finding], with_source: bool) {
    if findings.is_empty() {
        let _ = writeln!(out, "None.\n");
        return;
    }
    if with_source {
        let _ = writeln!(
            out,
            "| Severity | Rule | From | Where | Variable | Value (masked) | Message |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    } else {
        let _ = writeln!(
            out,
            "| Severity | Rule | Where | Variable | Value (masked) | Message |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|");
    }
    for f in findings {
        let source = if with_source {
            format!(" {} |", f.source.unwrap_or(""))
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "| {} | `{}` |{source} {} | {} | {} | {} |",
            f.severity.as_str(),
            f.rule.id(),
            location(f),
            f.variable
                .as_deref()
                .map(|v| format!("`{v}`"))
                .unwrap_or_default(),
            f.value
                .as_ref()
                .map(|v| format!("`{}`", cell(v.as_str())))
                .unwrap_or_default(),
            cell(&f.message)
        );
    }
    out.push('\n');
}

pub fn render_markdown(report: &Redacted<Report>, project: &str) -> String {
    let report: &Report = report;
    let mut out = String::new();
    let env = report.environment.as_deref().unwrap_or("-");
    let verdict = match report.verdict {
        Verdict::Go => "GO",
        Verdict::NoGo => "NO-GO",
    };
    let title = if report.section::<Decision>().is_some() {
        "Go-live decision"
    } else {
        report.command
    };
    let _ = writeln!(out, "# {title}: {project} · {env}\n");
    let s = &report.summary;
    let _ = writeln!(
        out,
        "**Verdict: {verdict}** — {} critical, {} warning, {} recommendation finding(s).\n",
        s.critical, s.warning, s.recommendation
    );
    if let Some(d) = report.section::<Decision>() {
        let _ = writeln!(out, "## Blocking\n");
        if d.blocking.is_empty() {
            let _ = writeln!(out, "Nothing blocks this release.\n");
        }
        for (i, b) in d.blocking.iter().enumerate() {
            let _ = writeln!(out, "{}. {}", i + 1, b.replace('\n', " "));
        }
        if !d.blocking.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "## Checklist\n");
        if d.checklist.is_empty() {
            let _ = writeln!(out, "The manifest has no `[[checklist]]` items.\n");
        }
        let mut sections: Vec<&str> = d.checklist.iter().map(|i| i.section.as_str()).collect();
        sections.dedup();
        let mut seen = Vec::new();
        for section in sections {
            if seen.contains(&section) {
                continue;
            }
            seen.push(section);
            let items: Vec<_> = d
                .checklist
                .iter()
                .filter(|i| i.section == section)
                .collect();
            let ok = items.iter().filter(|i| i.status.is_ok()).count();
            let _ = writeln!(out, "### {section} ({ok}/{} done)\n", items.len());
            let _ = writeln!(out, "| Status | Item | Kind | Required | Detail |");
            let _ = writeln!(out, "|---|---|---|---|---|");
            for i in items {
                let mark = if i.status.is_ok() {
                    "✅"
                } else if i.required {
                    "❌"
                } else {
                    "⚠️"
                };
                let _ = writeln!(
                    out,
                    "| {mark} {} | **{}** `{}` | {} | {} | {} |",
                    i.status.as_str(),
                    cell(&i.title),
                    i.id,
                    i.kind,
                    if i.required { "yes" } else { "no" },
                    cell(&i.detail)
                );
            }
            out.push('\n');
        }
    }
    let _ = writeln!(out, "## Findings\n");
    findings_table(
        &mut out,
        &report.findings,
        report.section::<Decision>().is_some(),
    );
    if let Some(d) = report.section::<Decision>() {
        let _ = writeln!(out, "## Accepted risks\n");
        if d.accepted.is_empty() {
            let _ = writeln!(out, "None.\n");
        } else {
            let _ = writeln!(
                out,
                "| Rule | For | Reason | Accepted by | On | Until | Status | Findings covered |"
            );
            let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
            for a in &d.accepted {
                let x = &a.accepted;
                let _ = writeln!(
                    out,
                    "| `{}` | `{}` | {} | {} | {} | {} | {} | {} |",
                    x.rule,
                    x.target,
                    cell(&x.reason),
                    cell(&x.by),
                    x.at.format("%Y-%m-%d"),
                    x.expires.format("%Y-%m-%d"),
                    a.status,
                    a.covers
                );
            }
            out.push('\n');
            if !d.accepted_findings.is_empty() {
                let _ = writeln!(out, "Findings covered by accepted risks (not counted):\n");
                findings_table(&mut out, &d.accepted_findings, true);
            }
        }
        let _ = writeln!(out, "## Sign-offs\n");
        if d.signoffs.is_empty() {
            let _ = writeln!(out, "None.\n");
        } else {
            let _ = writeln!(out, "| Item | Signed by | On | Expires | Note |");
            let _ = writeln!(out, "|---|---|---|---|---|");
            for s in &d.signoffs {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} | {} |",
                    s.item,
                    cell(&s.by),
                    s.at.format("%Y-%m-%d %H:%M UTC"),
                    s.expires
                        .map(|e| e.format("%Y-%m-%d").to_string())
                        .unwrap_or_else(|| "never".into()),
                    cell(s.note.as_deref().unwrap_or(""))
                );
            }
            out.push('\n');
        }
    }
    if let Some(probes) = report.section::<ProbeResults>().map(|p| &p.0) {
        let _ = writeln!(out, "## Probes\n");
        let _ = writeln!(out, "| Probe | Kind | Target | Status | Time |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for p in probes {
            let status = p.status.as_str();
            let _ = writeln!(
                out,
                "| {} | {} | `{}` | {status} | {} ms |",
                cell(&p.name),
                p.kind,
                cell(&p.target),
                p.duration_ms
            );
        }
        out.push('\n');
    }
    if let Some(vs) = report.section::<Verifications>().map(|v| &v.0) {
        let _ = writeln!(out, "## Verifications\n");
        let _ = writeln!(
            out,
            "| Service | Provider | Credentials | Status | Checks |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|");
        for v in vs {
            let creds: Vec<String> = v
                .credentials
                .iter()
                .map(|c| format!("`{}` {}", c.variable, c.status.as_str()))
                .collect();
            let checks: Vec<String> = v
                .checks
                .iter()
                .map(|c| format!("{} {}: {}", c.status.as_str(), c.check, c.message))
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&v.service),
                cell(&v.title),
                cell(&creds.join(", ")),
                v.status.as_str(),
                cell(&checks.join("; "))
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## Environment\n");
    let _ = writeln!(out, "- Project: {project}");
    let _ = writeln!(out, "- Environment: {env}");
    let _ = writeln!(out, "- Tool: {} {}", report.tool.name, report.tool.version);
    if let Some(d) = report.section::<Decision>() {
        let _ = writeln!(
            out,
            "- Generated: {}",
            d.generated_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        for p in &d.parts {
            let _ = writeln!(
                out,
                "- `{}`: {}{} ({} critical, {} warning, {} recommendation)",
                p.command,
                if p.ran { "ran" } else { "skipped" },
                p.note
                    .as_deref()
                    .map(|n| format!(", {n}"))
                    .unwrap_or_default(),
                p.summary.critical,
                p.summary.warning,
                p.summary.recommendation
            );
        }
    }
    out
}
