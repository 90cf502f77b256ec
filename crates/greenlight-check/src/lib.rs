//! `greenlight check` and the configuration lifecycle. It owns the rules (one file each, the
//! code and tests of one registry entry of `greenlight-core`'s rules/registry.toml), the check of
//! one environment (every rule, the manifest's rule levels, allow comments, other environments'
//! secrets compared by keyed fingerprint), and the lifecycle commands' engines: `gen`, `edit`,
//! `template`, `diff`, `mask`, the rotation ledger and `init`.
//!
//! It guarantees that a check is offline (no network, no git) and that every value it reports is
//! a [`greenlight_core::redact::Shown`]; [`check::Checked::sealed`] gives the report sealed by a
//! redactor that knows every secret the run has seen.

pub mod check;
pub mod ledger;
pub mod lifecycle;
pub mod monorepo;
pub mod rules;
