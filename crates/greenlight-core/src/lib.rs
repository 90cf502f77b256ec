//! greenlight's core: what every command stands on, with no async runtime, no network and no
//! git. It owns the manifest (`greenlight.toml`), the configuration sources (`.env`, wrangler,
//! JSON) and their interpolation, the catalog of value formats and the scan detectors (both data
//! files compiled in), the rule registry (every rule id of every subsystem, with its summary,
//! severity and documentation), the finding model and report envelope, keyed fingerprints, and
//! redaction.
//!
//! It guarantees that nothing secret leaves through what it defines: findings carry values only
//! as [`redact::Shown`], and a report reaches a renderer only sealed by a [`redact::Redactor`]
//! (`Redacted<Report>`), which visits every string of it (docs/nothing-leaks.md). It never
//! prints: output belongs to the CLI.

pub mod catalog;
pub mod condition;
pub mod detect;
pub mod error;
pub mod finding;
pub mod fingerprint;
pub mod fsutil;
pub mod manifest;
pub mod mask;
pub mod redact;
pub mod rule;
pub mod source;
mod suggest;
pub mod text_findings;

pub use suggest::closest as did_you_mean;
