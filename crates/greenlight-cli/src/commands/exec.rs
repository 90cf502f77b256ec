//! `greenlight exec`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use greenlight::check::{check, CheckOptions};
use greenlight::error::InputError;
use greenlight::finding::Verdict;
use greenlight::manifest::Manifest;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, short, default_value_os_t = super::default_manifest())]
    pub manifest: PathBuf,
    #[arg(long = "env", short = 'e', default_value = "production")]
    pub environment: String,
    /// Start CMD even when critical findings remain (they are printed).
    #[arg(long)]
    pub warn_only: bool,
    /// The command and its arguments.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<std::ffi::OsString>,
}

pub fn run(args: Args) -> Result<ExitCode, InputError> {
    let Args {
        manifest,
        environment,
        warn_only,
        command,
    } = args;
    exec_command(&manifest, &environment, warn_only, &command)
}

pub(crate) fn exec_command(
    manifest: &std::path::Path,
    environment: &str,
    warn_only: bool,
    command: &[std::ffi::OsString],
) -> Result<ExitCode, InputError> {
    use std::os::unix::process::CommandExt;
    let manifest = Manifest::load(manifest)?;
    let options = CheckOptions {
        environment: environment.to_owned(),
        ..Default::default()
    };
    let checked = check(&manifest, &options)?;
    let env = checked.env.clone();
    let report = checked.sealed();
    if report.verdict == Verdict::NoGo {
        eprint!(
            "{}",
            greenlight::report::render(
                &report,
                &manifest.project.name,
                greenlight::report::Format::Human {
                    color: super::color_for(std::io::stderr().is_terminal())
                }
            )
        );
        if !warn_only {
            eprintln!(
                "greenlight: not starting {}: critical findings (use --warn-only to start anyway)",
                command[0].to_string_lossy()
            );
            return Ok(ExitCode::from(1));
        }
    }
    let mut child = std::process::Command::new(&command[0]);
    child.args(&command[1..]);
    for a in env.resolved() {
        child.env(&a.name, &a.value);
    }
    // exec(2): the command replaces greenlight, so signals reach it directly and its exit status is
    // the exit status.
    let err = child.exec();
    eprintln!(
        "greenlight: cannot run {}: {err}",
        command[0].to_string_lossy()
    );
    Ok(ExitCode::from(
        if err.kind() == std::io::ErrorKind::NotFound {
            127
        } else {
            126
        },
    ))
}
