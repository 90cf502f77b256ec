//! greenlight's engine as one library, the way ripgrep's `grep` crate gathers its `grep-*`
//! crates: each module here is one of the engine's crates, re-exported under the path a library
//! user (and the `greenlight` binary) reaches for. It owns no code and adds no guarantee of its
//! own; see each crate's documentation.
//!
//! | module | crate | what it owns |
//! |---|---|---|
//! | `manifest`, `source`, `catalog`, `detect`, `rule`, `finding`, `redact`, … | `greenlight-core` | the data model, no network, no git |
//! | `check`, `rules`, `lifecycle` | `greenlight-check` | the rules and the configuration lifecycle |
//! | `scan` | `greenlight-scan` | the walker, git history, baselines (and the detectors, from core) |
//! | `probe` | `greenlight-probe` | live checks (tokio, rustls, database clients) |
//! | `verify` | `greenlight-verify` | asking providers whether credentials work (reqwest, rustls) |
//! | `golive` | `greenlight-golive` | the go/no-go decision |
//! | `report` | `greenlight-report` | the renderers |
//!
//! ```no_run
//! use greenlight::{check, manifest::Manifest};
//! let manifest = Manifest::load("greenlight.toml".as_ref())?;
//! let checked = check::check(&manifest, &check::CheckOptions { environment: "production".into(), ..Default::default() })?;
//! println!("{}", checked.report.verdict.as_str());
//! # Ok::<(), greenlight::error::InputError>(())
//! ```

pub use greenlight_core::{
    catalog, condition, detect, did_you_mean, error, finding, fingerprint, fsutil, manifest, mask,
    redact, rule, source, text_findings,
};

pub use greenlight_check::{check, lifecycle, monorepo, rules};
pub use greenlight_golive as golive;
pub use greenlight_probe as probe;
pub use greenlight_report as report;
pub use greenlight_verify as verify;

/// The scan: the walker and history (`greenlight-scan`) with the detectors it runs (core).
pub mod scan {
    pub use greenlight_core::detect::*;
    pub use greenlight_core::text_findings::*;
    pub use greenlight_scan::*;
}
