//! Renderers: one finding model, many outputs. Each renderer is a pure function from a
//! [`Report`](crate::finding::Report) to text.

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

use crate::finding::Report;

/// The JSON envelope of DESIGN.md, pretty-printed.
pub fn render_json(report: &Report) -> String {
    serde_json::to_string_pretty(report).expect("a report always serialises")
}
