//! `greenlight rules`.

use std::process::ExitCode;

use greenlight::error::InputError;
use greenlight::rules::RULES;

use super::*;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, short, value_enum, default_value = "human")]
    pub format: ReportFormat,
}

pub fn run(args: Args) -> Result<ExitCode, InputError> {
    let Args { format } = args;
    // Check rules, then probe, verify and diff rules, in registry order (scan's detectors have
    // their own listing: `greenlight explain DETECTOR`): (command, id, severity, summary).
    let all: Vec<(&str, &str, &str, &str)> = RULES
        .iter()
        .map(|r| ("check", r.rule.id(), r.severity().as_str(), r.summary()))
        .chain(["probe", "verify", "diff"].into_iter().flat_map(|command| {
            greenlight::rule::rules_of(command)
                .map(move |r| (command, r.id(), r.severity().as_str(), r.summary()))
        }))
        .collect();
    let text = match format {
        ReportFormat::Human
        | ReportFormat::Markdown
        | ReportFormat::Html
        | ReportFormat::Junit
        | ReportFormat::Github => {
            let width = all.iter().map(|r| r.1.len()).max().unwrap_or(0);
            all.iter()
                .map(|(command, id, severity, summary)| {
                    format!("{id:width$}  {command:6}  {severity:14}  {summary}\n")
                })
                .collect::<String>()
        }
        ReportFormat::Json | ReportFormat::Sarif => {
            let list: Vec<_> = all
                .iter()
                .map(|(command, id, severity, summary)| serde_json::json!({"id": id, "command": command, "severity": severity, "summary": summary}))
                .collect();
            serde_json::to_string_pretty(&list).expect("json") + "\n"
        }
    };
    emit(&text);
    Ok(ExitCode::SUCCESS)
}
