//! `greenlight golive`.

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
    #[arg(long = "env", short = 'e', default_value = "production")]
    pub environment: String,
    #[arg(long, short, value_enum, default_value = "human")]
    pub format: ReportFormat,
    /// Write the document to FILE (atomically) instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Leave the probes out (an offline review: probe-based checklist items are unknown).
    #[arg(long)]
    pub no_probe: bool,
    /// Do not ask the providers about the credentials (verification-based checklist items are
    /// unknown).
    #[arg(long)]
    pub no_verify: bool,
    #[command(flatten)]
    pub network: super::verify::NetworkArgs,
    /// Also scan the git history.
    #[arg(long)]
    pub git: bool,
    /// Accept a risk before deciding: RULE:VARIABLE (or RULE:PROBE); needs --reason and --expires.
    #[arg(long, value_name = "RULE:TARGET", requires_all = ["reason", "expires", "by"])]
    pub allow: Option<String>,
    #[arg(long)]
    pub reason: Option<String>,
    /// Until when the accepted risk holds (e.g. 30d, YYYY-MM-DD, RFC 3339).
    #[arg(long)]
    pub expires: Option<String>,
    /// Who accepts the risk.
    #[arg(long)]
    pub by: Option<String>,
    /// Decide as of this time (RFC 3339) instead of now.
    #[arg(long, hide = true)]
    pub now: Option<String>,
    #[arg(long, default_value = "10s")]
    pub timeout: String,
    #[arg(long, default_value = "3s")]
    pub connect_timeout: String,
    /// Every greenlight.toml below the repository root (a monorepo's apps): one combined
    /// decision, no-go when any app is.
    #[arg(long, conflicts_with_all = ["manifest", "allow", "output"])]
    pub all: bool,
}

pub fn run(args: Args) -> Result<ExitCode, InputError> {
    if args.all {
        return super::run_all("golive", &args.environment, args.format, |manifest| {
            golive_one(manifest, &args)
        });
    }
    let manifest = Manifest::load(&args.manifest)?;
    let report = golive_one(&manifest, &args)?;
    let text = render(&report, &manifest.project.name, args.format);
    match &args.output {
        Some(path) => greenlight::fsutil::write_atomic(path, text.as_bytes())?,
        None => emit(&text),
    }
    Ok(exit_code(report.verdict))
}

fn golive_one(
    manifest: &Manifest,
    args: &Args,
) -> Result<greenlight::redact::Redacted<greenlight::finding::Report>, InputError> {
    let now = parse_now(args.now.as_deref())?;
    if let Some(spec) = &args.allow {
        let expires = parse_until(args.expires.as_deref().unwrap_or_default(), now)?;
        greenlight::golive::accept(
            manifest,
            spec,
            &args.environment,
            args.reason.as_deref().unwrap_or_default(),
            args.by.as_deref().unwrap_or_default(),
            expires,
            now,
        )?;
    }
    let verify_options = if args.no_verify {
        Default::default()
    } else {
        args.network
            .options(&args.environment, LoadOptions::default())?
    };
    let options = greenlight::golive::GoliveOptions {
        environment: args.environment.clone(),
        load: LoadOptions::default(),
        probes: !args.no_probe,
        probe: greenlight::probe::ProbeOptions {
            timeout: parse_duration_arg("--timeout", &args.timeout)?,
            connect_timeout: parse_duration_arg("--connect-timeout", &args.connect_timeout)?,
            ..Default::default()
        },
        verify: !args.no_verify,
        verify_options,
        git: args.git,
        now: Some(now),
    };
    let bar = spinner(&format!("deciding {}…", manifest.project.name));
    let report = greenlight::golive::golive(manifest, &options);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    report
}
