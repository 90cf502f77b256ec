//! `greenlight init`.

use std::path::PathBuf;
use std::process::ExitCode;

use greenlight::error::InputError;

use super::*;

#[derive(clap::Args)]
pub struct Args {
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Where to write the manifest (default: DIR/greenlight.toml; `-` for stdout).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Replace an existing manifest.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args) -> Result<ExitCode, InputError> {
    let Args { dir, output, force } = args;
    let text = greenlight::lifecycle::init::init(&dir)?;
    match output.as_deref() {
        Some(p) if p == std::path::Path::new("-") => emit(&text),
        other => {
            let path = other
                .map(PathBuf::from)
                .unwrap_or_else(|| dir.join("greenlight.toml"));
            if path.exists() && !force {
                return Err(InputError::Usage(format!(
                    "{} exists; use --force to replace it or --output - to print",
                    path.display()
                )));
            }
            greenlight::fsutil::write_atomic(&path, text.as_bytes())?;
            eprintln!("greenlight: wrote {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
