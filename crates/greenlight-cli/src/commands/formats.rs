//! `greenlight formats`.

use std::process::ExitCode;

use greenlight::catalog::Catalog;
use greenlight::error::InputError;

use super::*;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(args: Args) -> Result<ExitCode, InputError> {
    let Args {} = args;
    let catalog = Catalog::builtin();
    let width = catalog
        .formats()
        .iter()
        .map(|f| f.id.len())
        .max()
        .unwrap_or(0);
    let text: String = catalog
        .formats()
        .iter()
        .map(|f| {
            let tag = if f.secret && !f.client_safe {
                "secret"
            } else if f.client_safe {
                "public"
            } else {
                ""
            };
            format!("{:width$}  {:6}  {}\n", f.id, tag, f.title)
        })
        .collect();
    emit(&text);
    Ok(ExitCode::SUCCESS)
}
