//! `greenlight template`.

use std::path::PathBuf;
use std::process::ExitCode;

use greenlight::error::InputError;
use greenlight::manifest::Manifest;

use super::*;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, short, default_value_os_t = super::default_manifest())]
    pub manifest: PathBuf,
    #[arg(long = "env", short = 'e')]
    pub environment: Option<String>,
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode, InputError> {
    let Args {
        manifest,
        environment,
        output,
    } = args;
    let manifest = Manifest::load(&manifest)?;
    if let Some(e) = &environment {
        if !manifest.environments.contains_key(e) {
            return Err(InputError::Usage(format!("unknown environment `{e}`")));
        }
    }
    let text = greenlight::lifecycle::template::render(&manifest, environment.as_deref());
    match output {
        Some(path) => greenlight::fsutil::write_atomic(&path, text.as_bytes())?,
        None => emit(&text),
    }
    Ok(ExitCode::SUCCESS)
}
