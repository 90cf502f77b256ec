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

/// `--color`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// The global output flags, set once by `main` before a command runs.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Output {
    pub quiet: bool,
    pub color: ColorChoice,
}

static OUTPUT: std::sync::OnceLock<Output> = std::sync::OnceLock::new();

pub(crate) fn set_output(output: Output) {
    let _ = OUTPUT.set(output);
}

fn output() -> Output {
    OUTPUT.get().copied().unwrap_or_default()
}

/// `--quiet`: the verdict and counts only.
pub(crate) fn quiet() -> bool {
    output().quiet
}

/// Whether a stream gets color: `--color always|never`, else a terminal without NO_COLOR.
pub(crate) fn color_for(is_terminal: bool) -> bool {
    match output().color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// A spinner on stderr for work that can take more than a second, only when a person watches:
/// stderr is a terminal, not a CI log (`CI` set), and not `--quiet`.
pub(crate) fn spinner(message: &str) -> Option<indicatif::ProgressBar> {
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
    if !std::io::stderr().is_terminal() || ci || quiet() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {prefix} {msg} {elapsed}")
            .expect("a valid template"),
    );
    bar.set_prefix(message.to_owned());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

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

/// `--manifest`'s default: `greenlight.toml` in the current directory or the nearest parent
/// that has one (as cargo finds `Cargo.toml`), so that a command works from any folder of an app.
pub(crate) fn default_manifest() -> std::path::PathBuf {
    greenlight::manifest::discover(std::path::Path::new("."))
        .unwrap_or_else(|| greenlight::manifest::MANIFEST_FILE.into())
}

/// `--all`: runs `one` on every manifest below the repository root that has `environment`, and
/// prints one combined result. Human output shows each app's report under its path, then the
/// combined verdict; every other format is one envelope (`manifests` lists the apps).
pub(crate) fn run_all(
    command: &'static str,
    environment: &str,
    format: ReportFormat,
    one: impl Fn(
        &greenlight::manifest::Manifest,
    ) -> Result<Redacted<greenlight::finding::Report>, InputError>,
) -> Result<ExitCode, InputError> {
    use greenlight::monorepo::{combine, Part};
    let root = greenlight::manifest::repository_root(std::path::Path::new("."));
    let paths = greenlight::manifest::find_all(&root);
    if paths.is_empty() {
        return Err(InputError::Usage(format!(
            "--all: no greenlight.toml below {}",
            root.display()
        )));
    }
    let mut reports = Vec::new();
    for path in &paths {
        let manifest = greenlight::manifest::Manifest::load(path)?;
        let shown = path.display().to_string();
        let project = manifest.project.name.clone();
        if !manifest.environments.contains_key(environment) {
            reports.push((shown, project, None));
            continue;
        }
        let report = one(&manifest)?;
        reports.push((shown, project, Some(report)));
    }
    let parts: Vec<Part<'_>> = reports
        .iter()
        .map(|(path, project, report)| match report {
            Some(r) => Part::Ran {
                path: path.clone(),
                project: project.clone(),
                report: r,
            },
            None => Part::Skipped {
                path: path.clone(),
                project: project.clone(),
                why: format!("no environment `{environment}`"),
            },
        })
        .collect();
    let combined = greenlight::redact::Redactor::detectors_only().seal(combine(
        command,
        Some(environment.to_owned()),
        &parts,
    ));
    let name = format!("{} manifests", paths.len());
    let text = if format == ReportFormat::Human && quiet() {
        render(&combined, &name, format)
    } else if format == ReportFormat::Human {
        let mut text = String::new();
        for (path, project, report) in &reports {
            text.push_str(&format!("═══ {path} ═══\n"));
            match report {
                Some(r) => text.push_str(&render(r, project, format)),
                None => text.push_str(&format!("skipped: no environment `{environment}`\n")),
            }
            text.push('\n');
        }
        let no_go: Vec<&str> = reports
            .iter()
            .filter(|(_, _, r)| r.as_ref().is_some_and(|r| r.verdict == Verdict::NoGo))
            .map(|(p, _, _)| p.as_str())
            .collect();
        let ran = reports.iter().filter(|(_, _, r)| r.is_some()).count();
        text.push_str(&match no_go.is_empty() {
            true => format!(
                "ALL GO: {ran} of {} manifests checked, every one go\n",
                paths.len()
            ),
            false => format!(
                "NO-GO: {} of {ran} manifests no-go ({})\n",
                no_go.len(),
                no_go.join(", ")
            ),
        });
        text
    } else {
        render(&combined, &name, format)
    };
    emit(&text);
    Ok(exit_code(combined.verdict))
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
    if format == ReportFormat::Human && quiet() {
        return quiet_line(report);
    }
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
    color_for(std::io::stdout().is_terminal())
}

/// `--quiet`'s whole output: `NO-GO: 2 critical, 1 warning, 0 recommendations`.
fn quiet_line(report: &Redacted<greenlight::finding::Report>) -> String {
    let s = &report.summary;
    let verdict = match report.verdict {
        Verdict::Go => "GO",
        Verdict::NoGo => "NO-GO",
    };
    let plural = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    format!(
        "{verdict}: {} critical, {}, {}\n",
        s.critical,
        plural(s.warning, "warning"),
        plural(s.recommendation, "recommendation")
    )
}
