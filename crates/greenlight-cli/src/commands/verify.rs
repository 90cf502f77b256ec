//! `greenlight verify`, and the options `check --verify`, `scan --verify` and `golive` share.

use std::path::PathBuf;
use std::process::ExitCode;

use greenlight::error::InputError;
use greenlight::manifest::Manifest;
use greenlight::source::LoadOptions;
use greenlight::verify::{Endpoints, VerifyOptions};

use super::*;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, short, default_value_os_t = super::default_manifest())]
    pub manifest: PathBuf,
    /// The environment whose credentials are verified.
    #[arg(long = "env", short = 'e', default_value = "production")]
    pub environment: String,
    #[arg(long, short, value_enum, default_value = "human")]
    pub format: ReportFormat,
    /// Verify only this service's credentials (repeatable).
    #[arg(long = "only", value_name = "SERVICE")]
    pub only: Vec<String>,
    /// Also read the process environment (declared variables only).
    #[arg(long)]
    pub process_env: bool,
    /// List the providers greenlight can ask, with the host and endpoints of each, and exit.
    #[arg(long)]
    pub providers: bool,
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// How verification reaches the providers.
#[derive(clap::Args, Clone)]
pub struct NetworkArgs {
    /// Time limit of each provider request (e.g. 10s).
    #[arg(long = "verify-timeout", default_value = "10s")]
    pub verify_timeout: String,
    /// FOR TESTS: send provider requests to emulators on loopback, as FILE maps them
    /// (`[hosts] "api.stripe.com" = "127.0.0.1:PORT"`, `ca = "ca.pem"`). Only loopback
    /// addresses are accepted, and a warning is printed on every run.
    #[arg(long, value_name = "FILE", hide = true)]
    pub provider_endpoints: Option<PathBuf>,
}

impl NetworkArgs {
    pub fn options(
        &self,
        environment: &str,
        load: LoadOptions,
    ) -> Result<VerifyOptions, InputError> {
        let endpoints = match &self.provider_endpoints {
            None => Endpoints::default(),
            Some(path) => {
                let e = Endpoints::load(path).map_err(InputError::Usage)?;
                eprintln!(
                    "greenlight: WARNING: provider endpoints overridden by {} — credentials go to the emulators it names on this machine, not to the providers",
                    path.display()
                );
                e
            }
        };
        Ok(VerifyOptions {
            environment: environment.to_owned(),
            load,
            only: Vec::new(),
            timeout: parse_duration_arg("--verify-timeout", &self.verify_timeout)?,
            connect_timeout: std::time::Duration::from_secs(3),
            endpoints,
        })
    }
}

pub fn run(args: Args) -> Result<ExitCode, InputError> {
    if args.providers {
        print!("{}", providers_table());
        return Ok(ExitCode::SUCCESS);
    }
    let manifest = Manifest::load(&args.manifest)?;
    let mut options = args.network.options(
        &args.environment,
        LoadOptions {
            process_env: args.process_env,
            no_expand: false,
        },
    )?;
    options.only = args.only;
    let bar = spinner("asking the providers…");
    let verified = greenlight::verify::verify(&manifest, &options);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let verified = verified?;
    let report = verified.redactor.seal(verified.report);
    emit(&render(&report, &manifest.project.name, args.format));
    Ok(exit_code(report.verdict))
}

/// `verify --providers`: every provider, its pinned host and the calls made.
fn providers_table() -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for p in greenlight::verify::spec::providers() {
        let roles: Vec<&str> = p.roles.keys().map(String::as_str).collect();
        match (&p.host, &p.unverifiable) {
            (Some(host), _) => {
                let _ = writeln!(out, "{:<16} {} ({})", p.id, p.title, roles.join(" + "));
                for c in &p.call {
                    let _ = writeln!(out, "{:<16}   {} https://{host}{}", "", c.method, c.path);
                }
            }
            (None, Some(why)) => {
                let _ = writeln!(out, "{:<16} {} — not verifiable: {why}", p.id, p.title);
            }
            _ => {}
        }
    }
    out
}
