//! Renderers: one finding model, many outputs. Each renderer is a pure function from a sealed
//! report — `&Redacted<Report>`, which only [`Redactor::seal`](greenlight_core::redact::Redactor::seal)
//! makes — to text, and [`render`] passes that text through the sealing redactor once more.
//! No renderer can be handed a report whose strings did not go through the redactor.
//!
//! It sees only the finding model and the report's sections (scan's summary, probe's results,
//! golive's decision, read back with `Report::section`); it runs nothing and reads no file.

mod github;
mod html;
mod human;
mod junit;
mod markdown;
mod sarif;

pub use github::render_github;
pub use html::render_html;
pub use human::render_human;
pub use junit::render_junit;
pub use markdown::render_markdown;
pub use sarif::render_sarif;

use greenlight_core::finding::Report;
use greenlight_core::redact::Redacted;

/// The output formats of every command that reports findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human { color: bool },
    Json,
    Sarif,
    Markdown,
    Html,
    Junit,
    Github,
}

/// One sealed report in one format: the only way the CLI renders a report. `project` names the
/// project in titles. The result has been through the redactor's last pass.
pub fn render(report: &Redacted<Report>, project: &str, format: Format) -> String {
    let text = match format {
        Format::Human { color } => render_human(report, project, color),
        Format::Json => render_json(report) + "\n",
        Format::Sarif => render_sarif(report),
        Format::Markdown => render_markdown(report, project),
        Format::Html => render_html(report, project),
        Format::Junit => render_junit(report, project),
        Format::Github => render_github(report),
    };
    report.redactor().redact_output(text)
}

/// The JSON envelope of DESIGN.md, pretty-printed.
pub fn render_json(report: &Redacted<Report>) -> String {
    let report: &Report = report;
    serde_json::to_string_pretty(report).expect("a report always serialises")
}
