//! Baselines: accepted findings, by fingerprint, in a reviewable JSON file (sorted, one entry per
//! line in git diffs), so that `scan` reports only what is new.

use std::path::Path;

use serde::{Deserialize, Serialize};

use greenlight_core::error::{read_text, InputError};
use greenlight_core::finding::Finding;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<BaselineEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    pub fingerprint: String,
    pub rule: String,
    pub path: String,
}

impl Baseline {
    pub fn from_findings(findings: &[Finding]) -> Baseline {
        let mut entries: Vec<BaselineEntry> = findings
            .iter()
            .filter_map(|f| {
                Some(BaselineEntry {
                    fingerprint: f.fingerprint.clone()?,
                    rule: f.rule.id().to_owned(),
                    path: f
                        .location
                        .as_ref()
                        .map(|l| l.path.clone())
                        .unwrap_or_default(),
                })
            })
            .collect();
        entries.sort();
        entries.dedup();
        Baseline {
            version: 1,
            findings: entries,
        }
    }

    pub fn load(path: &Path) -> Result<Baseline, InputError> {
        let text = read_text(path)?;
        let b: Baseline = serde_json::from_str(&text).map_err(|e| InputError::Source {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: format!("not a greenlight baseline: {e}"),
        })?;
        if b.version != 1 {
            return Err(InputError::Usage(format!(
                "{}: unsupported baseline version {}",
                path.display(),
                b.version
            )));
        }
        Ok(b)
    }

    /// Writes atomically: a temporary file beside the target, then a rename.
    pub fn save(&self, path: &Path) -> Result<(), InputError> {
        let text = serde_json::to_string_pretty(self).expect("a baseline serialises") + "\n";
        greenlight_core::fsutil::write_atomic(path, text.as_bytes())
    }

    pub fn contains(&self, f: &Finding) -> bool {
        f.fingerprint
            .as_ref()
            .is_some_and(|fp| self.findings.iter().any(|e| &e.fingerprint == fp))
    }
}
