//! `greenlight explain RULE`: a rule's documentation, from the rule registry (check, probe and
//! diff rules) or made from a scan detector's data.

use std::process::ExitCode;

use greenlight::error::InputError;
use greenlight::rule::{registry, RuleId};
use greenlight::scan::Detectors;

use super::emit;

#[derive(clap::Args)]
pub struct Args {
    /// A rule id, e.g. placeholder-value.
    pub rule: String,
}

pub fn run(args: Args) -> Result<ExitCode, InputError> {
    let Args { rule } = args;
    if let Some(r) = RuleId::get(&rule) {
        emit(r.doc());
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(d) = Detectors::builtin().get(&rule) {
        emit(&d.doc());
        return Ok(ExitCode::SUCCESS);
    }
    let ids = registry()
        .iter()
        .map(|m| m.id.as_str())
        .chain(Detectors::builtin().list().iter().map(|d| d.id));
    let hint = greenlight::did_you_mean(&rule, ids)
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
    Err(InputError::Usage(format!(
        "unknown rule `{rule}`{hint}; `greenlight rules` lists them"
    )))
}
