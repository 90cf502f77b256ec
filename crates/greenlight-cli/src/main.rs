//! The `greenlight` command: argument parsing and dispatch over the engine crates. Each command
//! is a module of `commands/` that calls the libraries and renders what they return. Exit
//! status: 0 go, 1 no-go, 2 usage or input error.

// The binary is the one place that prints; the workspace denies printing in the libraries.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod commands;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use commands::{
    check, completions, diff, env, exec, explain, formats, gen, golive, init, mask, probe, rotate,
    rules, scan, signoff, template, verify,
};
use greenlight::error::InputError;
use greenlight::redact::Redactor;

#[derive(Parser)]
#[command(name = "greenlight", version, about = "The go/no-go gate for putting an application into production", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print only the verdict and the counts (human output; other formats are unchanged).
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Color in human output: `auto` (on a terminal, unless NO_COLOR is set), `always`, `never`.
    #[arg(long, value_enum, global = true, default_value = "auto")]
    color: commands::ColorChoice,
}

#[derive(Subcommand)]
enum Command {
    /// Validate one environment's configuration against the manifest: go or no-go.
    Check(check::Args),
    /// Find leaked secrets in files (and with --git in the whole git history).
    Scan(scan::Args),
    /// Live checks of the deployed environment: databases, caches, health, TLS, headers, webhooks.
    Probe(probe::Args),
    /// Ask each credential's provider whether it works and is the right one for this production.
    Verify(verify::Args),
    /// The go/no-go decision: check + scan + probe + verify + the checklist, as one document.
    Golive(golive::Args),
    /// Sign off a manual checklist item (recorded in greenlight.signoffs.toml).
    Signoff(signoff::Args),
    /// Check the environment, then run CMD with it (refuses on critical findings).
    Exec(exec::Args),
    /// Generate a strong secret: hex-N, base64-N, jwt, fernet, aes-256, webhook, password.
    Gen(gen::Args),
    /// Write `.env.example` from the manifest (to stdout, or --output).
    Template(template::Args),
    /// Compare two environments: missing variables, shared secrets, modes, shared hosts.
    Diff(diff::Args),
    /// Filter stdin to stdout, masking the environment's secrets and every detected secret.
    Mask(mask::Args),
    /// Rotation tracking: `status` (exit 1 when a rotation is overdue) and `record`.
    Rotate(rotate::Args),
    /// Write a first greenlight.toml from the .env* and wrangler.toml files of a directory.
    Init(init::Args),
    /// Print the resolved environment: what the application will really receive.
    Env(env::Args),
    /// List the rules with their default severity.
    Rules(rules::Args),
    /// Show one rule's documentation, with a failing and a passing example.
    Explain(explain::Args),
    /// List the formats of the built-in catalog.
    Formats(formats::Args),
    /// Print a shell completion script: bash, zsh, fish, powershell or elvish.
    Completions(completions::CompletionArgs),
    /// Print the man page (or write every command's page with --dir).
    Man(completions::ManArgs),
}

fn main() -> ExitCode {
    // A panic message may carry data; never print it. Say where, and how to report it.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("greenlight: internal error{at}; please report it (no details are printed, as they may contain secrets)");
    }));
    let cli = Cli::parse();
    commands::set_output(commands::Output {
        quiet: cli.quiet,
        color: cli.color,
    });
    match run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            // Errors name files, lines and keys, never values; the redactor makes sure.
            eprintln!(
                "greenlight: {}",
                Redactor::detectors_only().redact(&e.to_string())
            );
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> Result<ExitCode, InputError> {
    match command {
        Command::Check(args) => commands::check::run(args),
        Command::Scan(args) => commands::scan::run(args),
        Command::Probe(args) => commands::probe::run(args),
        Command::Verify(args) => commands::verify::run(args),
        Command::Golive(args) => commands::golive::run(args),
        Command::Signoff(args) => commands::signoff::run(args),
        Command::Exec(args) => commands::exec::run(args),
        Command::Gen(args) => commands::gen::run(args),
        Command::Template(args) => commands::template::run(args),
        Command::Diff(args) => commands::diff::run(args),
        Command::Mask(args) => commands::mask::run(args),
        Command::Rotate(args) => commands::rotate::run(args),
        Command::Init(args) => commands::init::run(args),
        Command::Env(args) => commands::env::run(args),
        Command::Rules(args) => commands::rules::run(args),
        Command::Explain(args) => commands::explain::run(args),
        Command::Formats(args) => commands::formats::run(args),
        Command::Completions(args) => completions::completions(args, Cli::command()),
        Command::Man(args) => completions::man(args, Cli::command()),
    }
}
