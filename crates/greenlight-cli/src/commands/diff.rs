//! `greenlight diff`.

use std::path::PathBuf;
use std::process::ExitCode;

use greenlight::error::InputError;
use greenlight::manifest::Manifest;

use super::*;

#[derive(clap::Args)]
pub struct Args {
    pub a: String,
    pub b: String,
    #[arg(long, short, default_value_os_t = super::default_manifest())]
    pub manifest: PathBuf,
    #[arg(long, short, value_enum, default_value = "human")]
    pub format: ReportFormat,
}

pub fn run(args: Args) -> Result<ExitCode, InputError> {
    let Args {
        a,
        b,
        manifest,
        format,
    } = args;
    let manifest = Manifest::load(&manifest)?;
    let report = greenlight::lifecycle::diff::diff(&manifest, &a, &b)?;
    let problems = report
        .findings
        .iter()
        .any(|f| f.severity != greenlight::finding::Severity::Recommendation);
    let text = render(&report, &manifest.project.name, format);
    emit(&text);
    Ok(if problems {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
