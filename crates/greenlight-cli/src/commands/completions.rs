//! `greenlight completions SHELL` and `greenlight man`: both generated from the same clap
//! definitions as the parser, so they cannot drift from the flags the binary accepts.

use std::path::PathBuf;
use std::process::ExitCode;

use greenlight::error::InputError;

/// The arguments of `greenlight completions`.
#[derive(clap::Args)]
pub struct CompletionArgs {
    /// The shell: bash, zsh, fish, powershell or elvish.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The arguments of `greenlight man`.
#[derive(clap::Args)]
pub struct ManArgs {
    /// Write greenlight.1 and one greenlight-COMMAND.1 page per command into this directory
    /// (created if missing); without it, greenlight(1) goes to stdout.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn completions(
    args: CompletionArgs,
    mut command: clap::Command,
) -> Result<ExitCode, InputError> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "greenlight", &mut out);
    super::emit(&String::from_utf8_lossy(&out));
    Ok(ExitCode::SUCCESS)
}

pub fn man(args: ManArgs, command: clap::Command) -> Result<ExitCode, InputError> {
    let write_err = |e: std::io::Error| InputError::Usage(format!("man page: {e}"));
    let Some(dir) = args.dir else {
        let mut out = Vec::new();
        clap_mangen::Man::new(command)
            .render(&mut out)
            .map_err(write_err)?;
        super::emit(&String::from_utf8_lossy(&out));
        return Ok(ExitCode::SUCCESS);
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| InputError::Usage(format!("{}: {e}", dir.display())))?;
    // The main page, then `greenlight-check.1` and so on (the naming `git help` made familiar).
    clap_mangen::generate_to(command, &dir).map_err(write_err)?;
    Ok(ExitCode::SUCCESS)
}
