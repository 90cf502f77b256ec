//! greenlight's engine: the manifest, configuration sources, the format catalog, the rules and
//! the reports. The `greenlight` binary is a thin layer over this crate, which never prints.
//!
//! ```no_run
//! use greenlight::{check, manifest::Manifest};
//! let manifest = Manifest::load("greenlight.toml".as_ref())?;
//! let checked = check::check(&manifest, &check::CheckOptions { environment: "production".into(), ..Default::default() })?;
//! println!("{}", checked.report.verdict.as_str());
//! # Ok::<(), greenlight::error::InputError>(())
//! ```

pub mod catalog;
pub mod check;
pub mod condition;
pub mod error;
pub mod finding;
pub mod fingerprint;
pub mod fsutil;
pub mod golive;
pub mod lifecycle;
pub mod manifest;
pub mod mask;
pub mod probe;
pub mod redact;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
mod suggest;

pub use suggest::closest as did_you_mean;
