//! GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=…::message` per finding
//! (critical as error, warning as warning, recommendation as notice), one per failing checklist
//! item, and a closing notice with the verdict. Escaping follows the runner's rules (`%`, CR, LF
//! in messages; also `:` and `,` in properties).

use std::fmt::Write as _;

use greenlight_core::finding::{Report, Severity, Verdict};
use greenlight_core::redact::Redacted;
use greenlight_golive::Decision;

fn message(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn property(text: &str) -> String {
    message(text).replace(':', "%3A").replace(',', "%2C")
}

pub fn render_github(report: &Redacted<Report>) -> String {
    let report: &Report = report;
    let mut out = String::new();
    for f in &report.findings {
        let level = match f.severity {
            Severity::Critical => "error",
            Severity::Warning => "warning",
            Severity::Recommendation => "notice",
        };
        let mut props = Vec::new();
        if let Some(l) = &f.location {
            props.push(format!(
                "file={}",
                property(l.path.trim_start_matches("./"))
            ));
            if l.line > 0 {
                props.push(format!("line={}", l.line));
                props.push(format!("col={}", l.column.max(1)));
            }
        }
        props.push(format!(
            "title={}",
            property(&format!("greenlight {}", f.rule.id()))
        ));
        let _ = writeln!(
            out,
            "::{level} {}::{}",
            props.join(","),
            message(&f.message)
        );
    }
    if let Some(d) = report.section::<Decision>() {
        for a in &d.accepted {
            let x = &a.accepted;
            let _ = writeln!(
                out,
                "::notice title={}::{}",
                property(&format!(
                    "accepted risk {}:{} ({})",
                    x.rule, x.target, a.status
                )),
                message(&format!(
                    "{} — accepted by {} until {}; covers {} finding(s)",
                    x.reason,
                    x.by,
                    x.expires.format("%Y-%m-%d"),
                    a.covers
                ))
            );
        }
        for i in d.checklist.iter().filter(|i| !i.status.is_ok()) {
            let level = if i.required { "error" } else { "warning" };
            let _ = writeln!(
                out,
                "::{level} title={}::{}",
                property(&format!("checklist {} ({})", i.id, i.status.as_str())),
                message(&format!("{}: {}", i.title, i.detail))
            );
        }
    }
    let s = &report.summary;
    let verdict = match report.verdict {
        Verdict::Go => "GO",
        Verdict::NoGo => "NO-GO",
    };
    let _ = writeln!(
        out,
        "::notice title={}::{}",
        property(&format!("greenlight {}", report.command)),
        message(&format!(
            "{verdict} for {}: {} critical, {} warning, {} recommendation",
            report.environment.as_deref().unwrap_or("-"),
            s.critical,
            s.warning,
            s.recommendation
        ))
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_escaping() {
        assert_eq!(message("50%\nnext"), "50%25%0Anext");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }
}
