//! `greenlight signoff`.

use std::path::PathBuf;
use std::process::ExitCode;

use greenlight::error::InputError;
use greenlight::manifest::Manifest;

use super::*;

#[derive(clap::Args)]
pub struct Args {
    /// The checklist item's id.
    pub item: String,
    /// Who confirms it.
    #[arg(long)]
    pub by: String,
    #[arg(long)]
    pub note: Option<String>,
    /// How long the sign-off holds (e.g. 30d) or until when (RFC 3339 or YYYY-MM-DD).
    #[arg(long)]
    pub expires: Option<String>,
    #[arg(long, short, default_value_os_t = super::default_manifest())]
    pub manifest: PathBuf,
    #[arg(long = "env", short = 'e', default_value = "production")]
    pub environment: String,
}

pub fn run(args: Args) -> Result<ExitCode, InputError> {
    let Args {
        item,
        by,
        note,
        expires,
        manifest,
        environment,
    } = args;
    let manifest = Manifest::load(&manifest)?;
    let now = parse_now(std::env::var("GREENLIGHT_NOW").ok().as_deref())?;
    let expires = expires.map(|e| parse_until(&e, now)).transpose()?;
    let s = greenlight::golive::sign(&manifest, &item, &environment, &by, note, expires, now)?;
    emit(&format!(
        "signed off `{}` for {} as {}{}; recorded in {}\n",
        s.item,
        s.environment,
        s.by,
        s.expires
            .map(|e| format!(" until {}", e.format("%Y-%m-%d")))
            .unwrap_or_default(),
        greenlight::golive::signoffs::FILE_NAME
    ));
    Ok(ExitCode::SUCCESS)
}
