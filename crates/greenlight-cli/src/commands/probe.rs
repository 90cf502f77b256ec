//! `greenlight probe`.

use std::path::PathBuf;
use std::process::ExitCode;

use greenlight::error::InputError;
use greenlight::manifest::Manifest;
use greenlight::source::LoadOptions;

use super::*;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, short, default_value_os_t = super::default_manifest())]
    pub manifest: PathBuf,
    /// The environment whose probes run (its variables fill `${VAR}` in probe URLs).
    #[arg(long = "env", short = 'e', default_value = "production")]
    pub environment: String,
    #[arg(long, short, value_enum, default_value = "human")]
    pub format: ReportFormat,
    /// Run only the probe with this name (repeatable).
    #[arg(long = "only", value_name = "NAME")]
    pub only: Vec<String>,
    /// Total time limit of each probe that sets none (e.g. 10s).
    #[arg(long, default_value = "10s")]
    pub timeout: String,
    /// Time limit of each connection attempt, for probes that set none (e.g. 3s).
    #[arg(long, default_value = "3s")]
    pub connect_timeout: String,
    /// Also read the process environment (declared variables only).
    #[arg(long)]
    pub process_env: bool,
}

pub fn run(args: Args) -> Result<ExitCode, InputError> {
    let manifest = Manifest::load(&args.manifest)?;
    let options = greenlight::probe::ProbeOptions {
        environment: args.environment,
        load: LoadOptions {
            process_env: args.process_env,
            no_expand: false,
        },
        only: args.only,
        timeout: parse_duration_arg("--timeout", &args.timeout)?,
        connect_timeout: parse_duration_arg("--connect-timeout", &args.connect_timeout)?,
        now: None,
    };
    let bar = spinner(&format!("probing {} endpoints…", manifest.probes.len()));
    let probed = greenlight::probe::probe(&manifest, &options);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let probed = probed?;
    let report = probed.redactor.seal(probed.report);
    emit(&render(&report, &manifest.project.name, args.format));
    Ok(exit_code(report.verdict))
}
