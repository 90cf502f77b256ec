//! The commands: each module parses its arguments (clap), calls the libraries, and hands what
//! they return to one render function. Shared here: the report formats, rendering and output.

pub mod check;
pub mod completions;
pub mod diff;
pub mod env;
pub mod exec;
pub mod explain;
pub mod formats;
pub mod gen;
pub mod golive;
pub mod init;
pub mod mask;
pub mod probe;
pub mod rotate;
pub mod rules;
pub mod scan;
pub mod signoff;
pub mod template;
pub mod verify;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::ValueEnum;
use greenlight::error::InputError;
use greenlight::finding::Verdict;
use greenlight::redact::Redacted;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    Human,
    Json,
    Sarif,
    Markdown,
    Html,
    Junit,
    Github,
}

/// `30d` from now, `2026-12-31`, or an RFC 3339 time.
pub(crate) fn parse_until(
    value: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, InputError> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc());
    }
    if let Some(secs) = greenlight::catalog::parse_duration(value).filter(|s| *s > 0.0) {
        return Ok(now + chrono::Duration::seconds(secs as i64));
    }
    Err(InputError::Usage(format!(
        "--expires `{value}` is neither a duration (30d) nor a date (2026-12-31)"
    )))
}

pub(crate) fn parse_now(now: Option<&str>) -> Result<chrono::DateTime<chrono::Utc>, InputError> {
    match now {
        None => Ok(chrono::Utc::now()),
        Some(n) => chrono::DateTime::parse_from_rfc3339(n)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|_| InputError::Usage(format!("--now `{n}` is not an RFC 3339 date-time"))),
    }
}

pub(crate) fn parse_duration_arg(
    flag: &str,
    value: &str,
) -> Result<std::time::Duration, InputError> {
    greenlight::catalog::parse_duration(value)
        .filter(|d| *d > 0.0)
        .map(std::time::Duration::from_secs_f64)
        .ok_or_else(|| {
            InputError::Usage(format!(
                "{flag} `{value}` is not a duration such as 5s or 500ms"
            ))
        })
}

/// 0 for go, 1 for no-go (2, for bad input, comes from the error path).
pub(crate) fn exit_code(verdict: Verdict) -> ExitCode {
    match verdict {
        Verdict::Go => ExitCode::SUCCESS,
        Verdict::NoGo => ExitCode::from(1),
    }
}

/// One sealed report in the chosen format: every command that produces findings goes through
/// here.
pub(crate) fn render(
    report: &Redacted<greenlight::finding::Report>,
    project: &str,
    format: ReportFormat,
) -> String {
    use greenlight::report::Format;
    let format = match format {
        ReportFormat::Human => Format::Human {
            color: color_stdout(),
        },
        ReportFormat::Json => Format::Json,
        ReportFormat::Sarif => Format::Sarif,
        ReportFormat::Markdown => Format::Markdown,
        ReportFormat::Html => Format::Html,
        ReportFormat::Junit => Format::Junit,
        ReportFormat::Github => Format::Github,
    };
    greenlight::report::render(report, project, format)
}

/// Writes to stdout; a closed pipe (`greenlight … | head`) ends the program quietly.
pub(crate) fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
    }
}

pub(crate) fn color_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
