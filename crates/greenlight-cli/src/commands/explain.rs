//! `greenlight explain`.

use std::process::ExitCode;

use greenlight::error::InputError;
use greenlight::rules::{Rule, RULES};

use super::*;

#[derive(clap::Args)]
pub struct Args {
    /// A rule id, e.g. placeholder-value.
    pub rule: String,
}

pub fn run(args: Args) -> Result<ExitCode, InputError> {
    let Args { rule } = args;
    if let Ok(r) = rule.parse::<greenlight::probe::ProbeRule>() {
        emit(r.info().doc());
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(d) = greenlight::scan::Detectors::builtin().get(&rule) {
        emit(&d.doc());
        return Ok(ExitCode::SUCCESS);
    }
    let Ok(r) = rule.parse::<Rule>() else {
        let ids: Vec<&str> = RULES
            .iter()
            .map(|r| r.rule.id())
            .chain(greenlight::probe::PROBE_RULES.iter().map(|r| r.rule.id()))
            .chain(
                greenlight::scan::Detectors::builtin()
                    .list()
                    .iter()
                    .map(|d| d.id),
            )
            .collect();
        let hint = greenlight::did_you_mean(&rule, ids)
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        return Err(InputError::Usage(format!(
            "unknown rule `{rule}`{hint}; `greenlight rules` lists them"
        )));
    };
    emit(r.info().doc());
    Ok(ExitCode::SUCCESS)
}
