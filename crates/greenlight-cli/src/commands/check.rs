//! `greenlight check`.

use std::path::PathBuf;
use std::process::ExitCode;

use greenlight::check::{check, CheckOptions};
use greenlight::error::InputError;
use greenlight::manifest::Manifest;
use greenlight::source::LoadOptions;

use super::*;

#[derive(clap::Args)]
pub struct Args {
    /// The manifest.
    #[arg(long, short, default_value = "greenlight.toml")]
    pub manifest: PathBuf,
    /// The environment to check.
    #[arg(long = "env", short = 'e', default_value = "production")]
    pub environment: String,
    #[arg(long, short, value_enum, default_value = "human")]
    pub format: ReportFormat,
    /// Also read the process environment (declared variables only).
    #[arg(long)]
    pub process_env: bool,
    /// Measure rotation ages against this time (RFC 3339) instead of now.
    #[arg(long, hide = true)]
    pub now: Option<String>,
}

pub fn run(args: Args) -> Result<ExitCode, InputError> {
    let Args {
        manifest,
        environment,
        format,
        process_env,
        now,
    } = args;
    let manifest = Manifest::load(&manifest)?;
    let now = now
        .map(|n| {
            n.parse()
                .map_err(|_| InputError::Usage(format!("--now `{n}` is not an RFC 3339 date-time")))
        })
        .transpose()?;
    let options = CheckOptions {
        environment,
        load: LoadOptions {
            process_env,
            no_expand: false,
        },
        now,
    };
    let report = check(&manifest, &options)?.sealed();
    let text = render(&report, &manifest.project.name, format);
    emit(&text);
    Ok(exit_code(report.verdict))
}
