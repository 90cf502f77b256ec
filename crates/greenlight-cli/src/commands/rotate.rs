//! `greenlight rotate`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use greenlight::error::InputError;
use greenlight::manifest::Manifest;
use greenlight::rules::build_views;
use greenlight::source::{self, LoadOptions};

use super::*;

#[derive(clap::Args)]
pub struct Args {
    #[arg(value_enum)]
    pub action: RotateAction,
    #[arg(long, short, default_value_os_t = super::default_manifest())]
    pub manifest: PathBuf,
    #[arg(long = "env", short = 'e', default_value = "production")]
    pub environment: String,
}

pub fn run(args: Args) -> Result<ExitCode, InputError> {
    let Args {
        action,
        manifest,
        environment,
    } = args;
    rotate_command(action, &manifest, &environment)
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RotateAction {
    Status,
    Record,
}

pub(crate) fn rotate_command(
    action: RotateAction,
    manifest_path: &std::path::Path,
    environment: &str,
) -> Result<ExitCode, InputError> {
    use greenlight::lifecycle::ledger::{self, Ledger};
    let manifest = Manifest::load(manifest_path)?;
    let env = source::load_environment(&manifest, environment, &LoadOptions::default())?;
    let views = build_views(&manifest, environment, &env);
    let ledger_path = Ledger::path_beside(manifest_path);
    let mut book = Ledger::load(&ledger_path)?;
    let now = chrono_now();
    let tracked: Vec<_> = views
        .iter()
        .filter(|v| v.spec.as_ref().is_some_and(|s| s.rotate_every.is_some()) && v.has_real_value())
        .collect();
    match action {
        RotateAction::Record => {
            let key = ledger::key(true)?.expect("created");
            let mut new = 0;
            for v in &tracked {
                let fp =
                    ledger::fingerprint(&key, environment, v.name, v.value().unwrap_or_default());
                if book.record(environment, v.name, fp, now) {
                    new += 1;
                }
            }
            book.save(&ledger_path)?;
            eprintln!(
                "greenlight: {new} new value(s) recorded in {} ({} tracked)",
                ledger_path.display(),
                tracked.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        RotateAction::Status => {
            let key = ledger::key(false)?;
            let mut overdue = 0;
            let mut text = String::new();
            for v in &tracked {
                let spec = v.spec.as_ref().expect("tracked");
                let period = spec.rotate_every.as_ref().expect("tracked");
                let seconds = greenlight::catalog::parse_duration(period.get_ref()).unwrap_or(0.0);
                let first_seen = |variable: &str, value: &str| {
                    let k = key.as_ref()?;
                    book.first_seen(
                        environment,
                        variable,
                        &ledger::fingerprint(k, environment, variable, value),
                    )
                };
                let since = match ledger::last_rotation(spec, &env, v.name, &first_seen) {
                    ledger::LastRotation::Recorded { at, .. }
                    | ledger::LastRotation::Ledger(at) => Some(at),
                    ledger::LastRotation::Unreadable { .. } | ledger::LastRotation::Unknown => None,
                };
                let line = match since {
                    Some(t) => {
                        let age = now.signed_duration_since(t);
                        let late = age.num_seconds() as f64 > seconds;
                        overdue += usize::from(late);
                        format!("{:<32} every {:<6} last {}  {} days  {}", v.name, period.get_ref(), t.format("%Y-%m-%d"), age.num_days(), if late { "OVERDUE" } else { "ok" })
                    }
                    None => format!("{:<32} every {:<6} unknown (set `rotated_at` or run `greenlight rotate record`)", v.name, period.get_ref()),
                };
                text.push_str(&line);
                text.push('\n');
            }
            text.push_str(&format!("{} tracked, {overdue} overdue\n", tracked.len()));
            emit(&text);
            Ok(if overdue > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}

pub(crate) fn chrono_now() -> greenlight::lifecycle::ledger::Now {
    greenlight::lifecycle::ledger::now()
}
