//! The rotation ledger: when each secret's current value was first seen, committed beside the
//! manifest (`greenlight.ledger.json`) so that rotations are reviewable, without the values.
//!
//! Entries are keyed by HMAC-SHA-256 of the value under a key that lives outside the repository
//! (`GREENLIGHT_LEDGER_KEY`, hex, or the file `$XDG_CONFIG_HOME/greenlight/ledger.key`, created
//! with mode 0600 on first use): without the key the fingerprints cannot be brute-forced offline,
//! even for a weak secret. The file keeps one entry per block, sorted, so it merges cleanly.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use greenlight_core::error::{read_text, InputError};

pub const FILE_NAME: &str = "greenlight.ledger.json";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Ledger {
    pub version: u32,
    pub entries: Vec<LedgerEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub struct LedgerEntry {
    pub environment: String,
    pub variable: String,
    /// HMAC-SHA-256 of the value, hex.
    pub fingerprint: String,
    pub first_seen: DateTime<Utc>,
}

/// The ledger key: from the environment, or the per-user key file (created when `create`).
pub fn key(create: bool) -> Result<Option<Vec<u8>>, InputError> {
    if let Some(hex) = std::env::var_os("GREENLIGHT_LEDGER_KEY") {
        let hex = hex.to_string_lossy().trim().to_owned();
        let bytes: Option<Vec<u8>> = (0..hex.len())
            .step_by(2)
            .map(|i| {
                hex.get(i..i + 2)
                    .and_then(|b| u8::from_str_radix(b, 16).ok())
            })
            .collect();
        return match bytes {
            Some(b) if b.len() >= 16 => Ok(Some(b)),
            _ => Err(InputError::Usage(
                "GREENLIGHT_LEDGER_KEY must be at least 16 bytes of hex".into(),
            )),
        };
    }
    let path = key_path();
    if path.exists() {
        let hex = read_text(&path)?;
        let bytes: Option<Vec<u8>> = (0..hex.trim().len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex.trim()[i..i + 2], 16).ok())
            .collect();
        return bytes
            .filter(|b| b.len() >= 16)
            .map(Some)
            .ok_or_else(|| InputError::Usage(format!("{} is not a ledger key", path.display())));
    }
    if !create {
        return Ok(None);
    }
    let mut key = vec![0u8; 32];
    getrandom::fill(&mut key).expect("the OS random source is available");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| InputError::io(dir, e))?;
    }
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    greenlight_core::fsutil::write_atomic(&path, format!("{hex}\n").as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(Some(key))
}

fn key_path() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("greenlight").join("ledger.key")
}

pub fn fingerprint(key: &[u8], environment: &str, variable: &str, value: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
    for part in [environment, variable, value] {
        mac.update(part.as_bytes());
        mac.update(&[0]);
    }
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Ledger {
    pub fn path_beside(manifest: &Path) -> PathBuf {
        manifest.parent().unwrap_or(Path::new(".")).join(FILE_NAME)
    }

    /// Loads the ledger; a missing file is an empty ledger, a malformed one an error.
    pub fn load(path: &Path) -> Result<Ledger, InputError> {
        if !path.exists() {
            return Ok(Ledger {
                version: 1,
                entries: Vec::new(),
            });
        }
        let text = read_text(path)?;
        let l: Ledger = serde_json::from_str(&text).map_err(|e| InputError::Source {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: format!("not a greenlight ledger: {e}"),
        })?;
        if l.version != 1 {
            return Err(InputError::Usage(format!(
                "{}: unsupported ledger version {}",
                path.display(),
                l.version
            )));
        }
        Ok(l)
    }

    pub fn save(&self, path: &Path) -> Result<(), InputError> {
        let mut sorted = self.clone();
        sorted.entries.sort();
        greenlight_core::fsutil::write_atomic(
            path,
            (serde_json::to_string_pretty(&sorted).expect("serialises") + "\n").as_bytes(),
        )
    }

    /// When the value with this fingerprint was first recorded.
    pub fn first_seen(
        &self,
        environment: &str,
        variable: &str,
        fingerprint: &str,
    ) -> Option<DateTime<Utc>> {
        self.entries
            .iter()
            .filter(|e| {
                e.environment == environment
                    && e.variable == variable
                    && e.fingerprint == fingerprint
            })
            .map(|e| e.first_seen)
            .min()
    }

    /// Records a value; returns whether it was new.
    pub fn record(
        &mut self,
        environment: &str,
        variable: &str,
        fingerprint: String,
        now: DateTime<Utc>,
    ) -> bool {
        if self
            .first_seen(environment, variable, &fingerprint)
            .is_some()
        {
            return false;
        }
        self.entries.push(LedgerEntry {
            environment: environment.into(),
            variable: variable.into(),
            fingerprint,
            first_seen: now,
        });
        true
    }
}

pub type Now = DateTime<Utc>;

/// The current time, or `GREENLIGHT_NOW` (RFC 3339) for reproducible tests and audits.
pub fn now() -> DateTime<Utc> {
    std::env::var("GREENLIGHT_NOW")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(Utc::now)
}

/// When a secret was last rotated, as far as greenlight can tell. `check`'s `rotation-overdue`
/// and `rotate status` both ask here, so they never disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LastRotation {
    /// The variable named by `rotated_at` holds the date.
    Recorded { by: String, at: DateTime<Utc> },
    /// The rotation ledger first saw the current value then.
    Ledger(DateTime<Utc>),
    /// `rotated_at` names a variable that is unset or not a date.
    Unreadable { by: String, why: &'static str },
    /// Nothing records it.
    Unknown,
}

/// `first_seen(variable, value)` answers from the ledger (when its key is available).
pub fn last_rotation(
    spec: &greenlight_core::manifest::VarSpec,
    env: &greenlight_core::source::Environment,
    variable: &str,
    first_seen: &dyn Fn(&str, &str) -> Option<DateTime<Utc>>,
) -> LastRotation {
    if let Some(by) = &spec.rotated_at {
        let recorded = env.value(by);
        return match recorded.and_then(greenlight_core::catalog::parse_datetime) {
            Some(at) => LastRotation::Recorded { by: by.clone(), at },
            None => LastRotation::Unreadable {
                by: by.clone(),
                why: if recorded.is_some() {
                    "is not a date"
                } else {
                    "is not set"
                },
            },
        };
    }
    let value = env.value(variable).unwrap_or_default();
    first_seen(variable, value).map_or(LastRotation::Unknown, LastRotation::Ledger)
}
