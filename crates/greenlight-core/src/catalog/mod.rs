//! The built-in format catalog: data files (`catalog/*.toml`) compiled into the binary.
//!
//! Each entry says how a valid value of one format looks, which values are documented samples or
//! placeholders, whether the format is a secret, whether it may be shipped to browsers, and how
//! to tell its live mode from its test mode. The checks themselves are a small set of generic
//! validators ([`Check`]); no provider has code of its own. Every entry carries examples that one
//! generic test runs (see `tests` below), so a catalog edit proves itself.

mod email;
mod stores;
mod validate;

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

pub use email::{email_sender, email_senders, EmailSender};
pub use stores::{secret_reference, SecretStore};
pub use validate::{
    is_placeholder, jwt_claims, jwt_header_is_valid, looks_secret_name, parse_bool, parse_datetime,
    parse_duration, Mode,
};

/// Truthiness of a switch: a recognised false word is false, anything else non-empty is true.
pub fn parse_bool_lenient(value: &str) -> bool {
    parse_bool(value).unwrap_or(!value.trim().is_empty())
}

/// The catalog files (`catalog/*.toml`, converted to JSON by build.rs), in the order their entries
/// are listed by `greenlight formats`.
const FILES: &[(&str, &str)] = &[
    (
        "catalog/providers.toml",
        include_str!(concat!(env!("OUT_DIR"), "/providers.json")),
    ),
    (
        "catalog/keys.toml",
        include_str!(concat!(env!("OUT_DIR"), "/keys.json")),
    ),
    (
        "catalog/types.toml",
        include_str!(concat!(env!("OUT_DIR"), "/types.json")),
    ),
];

/// The generic validators a catalog entry can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// Only `pattern` (and the length bounds) decide.
    Pattern,
    /// Any text.
    Any,
    /// An opaque secret: non-empty; strength is the `weak-secret` rule's business.
    Secret,
    Url,
    HttpsUrl,
    Email,
    Hostname,
    Bool,
    Int,
    Float,
    Enum,
    Duration,
    Cron,
    Uuid,
    Datetime,
    Fernet,
    /// `bytes` of key material as hex or base64.
    KeyBytes,
    Hex,
    Base64,
    Jwt,
    PostgresUrl,
    RedisUrl,
    Origins,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    #[serde(default)]
    pub valid: Vec<String>,
    #[serde(default)]
    pub placeholder: Vec<String>,
    #[serde(default)]
    pub wrong_mode: Vec<String>,
    #[serde(default)]
    pub invalid: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FormatDef {
    id: String,
    title: String,
    check: Check,
    #[serde(default)]
    pattern: Option<String>,
    #[serde(default)]
    secret: bool,
    #[serde(default)]
    client_safe: bool,
    #[serde(default)]
    detect: bool,
    #[serde(default)]
    live: Option<String>,
    #[serde(default)]
    test: Option<String>,
    #[serde(default)]
    test_values: Vec<String>,
    #[serde(default)]
    placeholders: Vec<String>,
    #[serde(default)]
    values: Vec<String>,
    #[serde(default)]
    case_insensitive: bool,
    #[serde(default)]
    bytes: Option<usize>,
    #[serde(default)]
    min_length: Option<usize>,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
    #[serde(default)]
    examples: Examples,
}

/// One catalog entry, with its patterns compiled.
#[derive(Debug)]
pub struct Format {
    pub id: String,
    pub title: String,
    pub check: Check,
    pub secret: bool,
    pub client_safe: bool,
    pub detect: bool,
    pub values: Vec<String>,
    pub case_insensitive: bool,
    pub bytes: Option<usize>,
    pub min_length: Option<usize>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub placeholders: Vec<String>,
    pub test_values: Vec<String>,
    pub examples: Examples,
    pub source_file: &'static str,
    pattern: LazyRegex,
    live: LazyRegex,
    test: LazyRegex,
}

/// A pattern compiled on first use: most runs touch a handful of the catalog's formats, and
/// compiling all of them would dominate a millisecond `check`. Patterns are validated by the
/// catalog tests, so a compile error here is a bug in the data.
#[derive(Debug, Default)]
struct LazyRegex {
    source: Option<String>,
    compiled: std::sync::OnceLock<Regex>,
}

impl LazyRegex {
    fn new(source: Option<String>) -> LazyRegex {
        LazyRegex {
            source,
            compiled: std::sync::OnceLock::new(),
        }
    }
    fn get(&self) -> Option<&Regex> {
        let source = self.source.as_deref()?;
        Some(
            self.compiled.get_or_init(|| {
                Regex::new(source).unwrap_or_else(|e| panic!("catalog pattern: {e}"))
            }),
        )
    }
    fn is_some(&self) -> bool {
        self.source.is_some()
    }
}

impl Format {
    /// The provider part of the id (`stripe` for `stripe.secret_key`), used to compare modes.
    pub fn provider(&self) -> Option<&str> {
        self.id.split_once('.').map(|(p, _)| p)
    }

    /// Live or test mode, where the format encodes one.
    pub fn mode(&self, value: &str) -> Option<Mode> {
        if self.test_values.iter().any(|t| t == value)
            || self.test.get().is_some_and(|r| r.is_match(value))
        {
            return Some(Mode::Test);
        }
        if self.live.get().is_some_and(|r| r.is_match(value)) {
            return Some(Mode::Live);
        }
        None
    }

    pub fn has_modes(&self) -> bool {
        self.live.is_some() || self.test.is_some() || !self.test_values.is_empty()
    }

    /// Whether the value is one of this format's documented sample values.
    pub fn is_documented_sample(&self, value: &str) -> bool {
        self.placeholders.iter().any(|p| p == value)
    }

    /// Validates a value; the error explains what is wrong without repeating the value.
    /// `param` is the `N` of `hex:N`/`base64:N`; `values` the manifest's enum values.
    pub fn validate(
        &self,
        value: &str,
        param: Option<usize>,
        values: &[String],
    ) -> Result<(), String> {
        validate::validate(self, value, param, values)?;
        if let Some(re) = self.pattern.get() {
            if !re.is_match(value) {
                return Err(format!("does not look like a {}", self.title));
            }
        }
        Ok(())
    }

    /// Whether the value is recognisably of this format (used for undeclared variables).
    pub fn recognises(&self, value: &str) -> bool {
        self.detect && self.pattern.get().is_some_and(|re| re.is_match(value))
    }
}

/// A format reference from a manifest: `hex:32` is the `hex` entry with parameter 32.
#[derive(Debug, Clone, Copy)]
pub struct FormatRef<'c> {
    pub format: &'c Format,
    pub param: Option<usize>,
}

#[derive(Debug)]
pub struct Catalog {
    formats: Vec<Format>,
    by_id: HashMap<String, usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    format: Vec<FormatDef>,
}

impl Catalog {
    /// The built-in catalog. The data is compiled in, so a broken entry is a bug caught by tests.
    pub fn builtin() -> &'static Catalog {
        static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
            Catalog::from_files(FILES).unwrap_or_else(|e| panic!("built-in catalog: {e}"))
        });
        &CATALOG
    }

    fn from_files(files: &[(&'static str, &str)]) -> Result<Catalog, String> {
        let mut formats = Vec::new();
        let mut by_id = HashMap::new();
        for (name, text) in files {
            let file: CatalogFile =
                serde_json::from_str(text).map_err(|e| format!("{name}: {e}"))?;
            for def in file.format {
                let format = Format {
                    pattern: LazyRegex::new(def.pattern),
                    live: LazyRegex::new(def.live),
                    test: LazyRegex::new(def.test),
                    id: def.id.clone(),
                    title: def.title,
                    check: def.check,
                    secret: def.secret,
                    client_safe: def.client_safe,
                    detect: def.detect,
                    values: def.values,
                    case_insensitive: def.case_insensitive,
                    bytes: def.bytes,
                    min_length: def.min_length,
                    min: def.min,
                    max: def.max,
                    placeholders: def.placeholders,
                    test_values: def.test_values,
                    examples: def.examples,
                    source_file: name,
                };
                if by_id.insert(def.id.clone(), formats.len()).is_some() {
                    return Err(format!("{name}: duplicate format id `{}`", def.id));
                }
                formats.push(format);
            }
        }
        Ok(Catalog { formats, by_id })
    }

    pub fn formats(&self) -> &[Format] {
        &self.formats
    }

    pub fn get(&self, id: &str) -> Option<&Format> {
        self.by_id.get(id).map(|&i| &self.formats[i])
    }

    /// Resolves `id` or `id:N`.
    pub fn resolve(&self, reference: &str) -> Option<FormatRef<'_>> {
        let (id, param) = match reference.split_once(':') {
            Some((id, n)) => (id, Some(n.parse().ok()?)),
            None => (reference, None),
        };
        self.get(id).map(|format| FormatRef { format, param })
    }

    /// The closest known id, for "did you mean".
    pub fn suggest(&self, unknown: &str) -> Option<&str> {
        crate::suggest::closest(unknown, self.formats.iter().map(|f| f.id.as_str()))
    }

    /// Whether any format lists this exact value as a documented sample (Stripe's
    /// `sk_test_4eC39…` assigned to a variable named `secret` is still Stripe's sample).
    pub fn is_documented_sample_anywhere(&self, value: &str) -> bool {
        self.formats.iter().any(|f| f.is_documented_sample(value))
    }

    /// Whether the value is of a format meant to be shipped to browsers (publishable keys,
    /// OAuth client ids, site keys, public map tokens).
    pub fn is_client_safe_value(&self, value: &str) -> bool {
        // Validated too: the anon key's pattern is any JWT, its role claim is checked by the
        // validator (a `service_role` JWT is no public value).
        self.formats.iter().any(|f| {
            f.client_safe
                && f.detect
                && f.recognises(value)
                && f.validate(value, f.bytes, &f.values).is_ok()
        })
    }

    /// The first detectable format that recognises this value.
    pub fn recognise(&self, value: &str) -> Option<&Format> {
        self.formats.iter().find(|f| f.recognises(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs every example of every catalog entry through the code `check` uses.
    #[test]
    fn every_catalog_example_behaves_as_declared() {
        let catalog = Catalog::builtin();
        let mut failures = Vec::new();
        for f in catalog.formats() {
            let param = f.bytes;
            for v in &f.examples.valid {
                if is_placeholder(v, Some(f)).is_some() {
                    failures.push(format!(
                        "{}: valid example {v:?} is taken for a placeholder",
                        f.id
                    ));
                }
                if let Err(e) = f.validate(v, param, &f.values) {
                    failures.push(format!("{}: valid example {v:?} rejected: {e}", f.id));
                }
                if f.has_modes() && f.mode(v) == Some(Mode::Test) {
                    failures.push(format!("{}: valid example {v:?} is in test mode", f.id));
                }
            }
            for v in &f.examples.placeholder {
                if is_placeholder(v, Some(f)).is_none() {
                    failures.push(format!(
                        "{}: placeholder example {v:?} not recognised",
                        f.id
                    ));
                }
            }
            for v in &f.examples.wrong_mode {
                if let Err(e) = f.validate(v, param, &f.values) {
                    failures.push(format!("{}: wrong-mode example {v:?} rejected: {e}", f.id));
                }
                if f.mode(v) != Some(Mode::Test) {
                    failures.push(format!(
                        "{}: wrong-mode example {v:?} is not test mode",
                        f.id
                    ));
                }
            }
            for v in &f.examples.invalid {
                if f.validate(v, param, &f.values).is_ok() {
                    failures.push(format!("{}: invalid example {v:?} accepted", f.id));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "catalog examples:\n{}",
            failures.join("\n")
        );
    }

    #[test]
    fn every_pattern_compiles() {
        for f in Catalog::builtin().formats() {
            for p in [&f.pattern, &f.live, &f.test] {
                if let Some(src) = &p.source {
                    assert!(Regex::new(src).is_ok(), "{}: {src}", f.id);
                }
            }
        }
    }

    #[test]
    fn every_entry_has_examples() {
        for f in Catalog::builtin().formats() {
            if f.check == Check::Enum && f.values.is_empty() {
                continue; // the generic `enum` takes its values from the manifest
            }
            assert!(
                !f.examples.valid.is_empty(),
                "{} has no valid example",
                f.id
            );
            assert!(
                !f.examples.placeholder.is_empty() || f.id == "string",
                "{} has no placeholder example",
                f.id
            );
            if f.has_modes() && f.live.is_some() {
                assert!(
                    !f.examples.wrong_mode.is_empty(),
                    "{} has modes but no wrong-mode example",
                    f.id
                );
            }
        }
    }

    #[test]
    fn resolves_parametrised_references() {
        let c = Catalog::builtin();
        let r = c.resolve("hex:32").expect("hex:32");
        assert_eq!(r.param, Some(32));
        assert!(r.format.validate(&"ab".repeat(32), r.param, &[]).is_ok());
        assert!(r.format.validate(&"ab".repeat(16), r.param, &[]).is_err());
        assert_eq!(c.suggest("stripe.secretkey"), Some("stripe.secret_key"));
    }
}
