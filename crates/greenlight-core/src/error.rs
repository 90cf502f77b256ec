//! Input errors: everything that makes greenlight answer "cannot tell" (exit 2) instead of a
//! verdict. Messages name files, lines and keys, never values: a value may be a secret.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestProblem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not valid UTF-8 text (byte {offset})", path.display())]
    NotUtf8 { path: PathBuf, offset: usize },
    #[error("{}", ManifestProblems(path, problems))]
    Manifest {
        path: PathBuf,
        problems: Vec<ManifestProblem>,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Source {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("unknown environment `{name}`{}; the manifest declares {}", suggestion.as_deref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default(), known.join(", "))]
    UnknownEnvironment {
        name: String,
        suggestion: Option<String>,
        known: Vec<String>,
    },
    #[error("{0}")]
    Usage(String),
}

struct ManifestProblems<'a>(&'a Path, &'a [ManifestProblem]);

impl fmt::Display for ManifestProblems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.1.len();
        write!(
            f,
            "{} has {n} problem{}",
            self.0.display(),
            if n == 1 { "" } else { "s" }
        )?;
        for p in self.1 {
            write!(
                f,
                "\n  {}:{}:{}: {}",
                self.0.display(),
                p.line,
                p.column,
                p.message
            )?;
        }
        Ok(())
    }
}

impl InputError {
    pub fn io(path: &Path, source: std::io::Error) -> InputError {
        InputError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Reads a text file, reporting invalid UTF-8 with its offset instead of failing obscurely.
pub fn read_text(path: &Path) -> Result<String, InputError> {
    let bytes = std::fs::read(path).map_err(|e| InputError::io(path, e))?;
    String::from_utf8(bytes).map_err(|e| InputError::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })
}
