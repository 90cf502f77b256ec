//! `greenlight gen`.

use std::path::PathBuf;
use std::process::ExitCode;

use greenlight::error::InputError;

use super::*;

#[derive(clap::Args)]
pub struct Args {
    pub kind: String,
    /// Password length (`password`).
    #[arg(long, default_value_t = 24)]
    pub length: usize,
    /// Passwords without symbols.
    #[arg(long)]
    pub no_symbols: bool,
    /// Write the secret into FILE as VAR (in place, keeping comments and order) instead of
    /// printing it.
    #[arg(long, requires = "file")]
    pub set: Option<String>,
    #[arg(long, requires = "set")]
    pub file: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode, InputError> {
    let Args {
        kind,
        length,
        no_symbols,
        set,
        file,
    } = args;
    let policy = greenlight::lifecycle::gen::PasswordPolicy {
        length,
        symbols: !no_symbols,
    };
    let secret = greenlight::lifecycle::gen::generate(&kind, policy)?;
    match (set, file) {
        (Some(var), Some(file)) => {
            greenlight::lifecycle::edit::set_in_file(&file, &var, &secret)?;
            eprintln!("greenlight: set {var} in {} (a new {kind})", file.display());
        }
        _ => emit(&format!("{secret}\n")),
    }
    Ok(ExitCode::SUCCESS)
}
