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
    #[arg(long, short, default_value_os_t = super::default_manifest())]
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
    /// Also ask each credential's provider whether it works (network; `greenlight verify`).
    #[arg(long)]
    pub verify: bool,
    #[command(flatten)]
    pub network: super::verify::NetworkArgs,
    /// Every greenlight.toml below the repository root (a monorepo's apps), as one report with
    /// one exit status; manifests without the environment are listed as skipped.
    #[arg(long, conflicts_with = "manifest")]
    pub all: bool,
}

pub fn run(args: Args) -> Result<ExitCode, InputError> {
    if args.all {
        let format = args.format;
        let environment = args.environment.clone();
        return super::run_all("check", &environment, format, |manifest| {
            check_one(manifest, &args)
        });
    }
    let manifest = Manifest::load(&args.manifest)?;
    let report = check_one(&manifest, &args)?;
    let mut text = render(&report, &manifest.project.name, args.format);
    if args.format == ReportFormat::Human && !quiet() {
        text.push_str(&references_text(&report));
    }
    emit(&text);
    Ok(exit_code(report.verdict))
}

/// One manifest's check, sealed.
fn check_one(
    manifest: &Manifest,
    args: &Args,
) -> Result<greenlight::redact::Redacted<greenlight::finding::Report>, InputError> {
    let now = args
        .now
        .as_ref()
        .map(|n| {
            n.parse()
                .map_err(|_| InputError::Usage(format!("--now `{n}` is not an RFC 3339 date-time")))
        })
        .transpose()?;
    let load = LoadOptions {
        process_env: args.process_env,
        no_expand: false,
    };
    let verify_options = args
        .verify
        .then(|| args.network.options(&args.environment, load.clone()))
        .transpose()?;
    let options = CheckOptions {
        environment: args.environment.clone(),
        load,
        now,
    };
    let checked = check(manifest, &options)?;
    Ok(match verify_options {
        None => checked.sealed(),
        Some(vo) => {
            let bar = spinner("asking the providers…");
            let verified = greenlight::verify::verify(manifest, &vo);
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            let verified = verified?;
            let mut report = checked.report;
            let verifications = verified
                .report
                .section::<greenlight::verify::Verifications>()
                .cloned();
            report.add_findings(verified.report.findings);
            if let Some(v) = verifications {
                report.set_section(v);
            }
            checked.redactor.seal(report)
        }
    })
}

/// Where the values that are secret-store references will come from (human format).
pub(crate) fn references_text(
    report: &greenlight::redact::Redacted<greenlight::finding::Report>,
) -> String {
    let Some(refs) = report.section::<greenlight::check::SecretReferences>() else {
        return String::new();
    };
    let mut out =
        String::from("from secret stores (not checked here; resolved at deploy or run time):\n");
    for r in &refs.0 {
        out.push_str(&format!(
            "  {} ({}:{}): {}, resolved by {}\n",
            r.variable, r.location.path, r.location.line, r.store, r.resolved_by
        ));
    }
    out
}
