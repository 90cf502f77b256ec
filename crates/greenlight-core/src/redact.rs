//! Redaction: the one way anything leaves greenlight.
//!
//! Three pieces make "nothing leaks" true by construction rather than by every renderer
//! remembering to call a function:
//!
//! - [`Shown`]: the only type a finding carries a value in. Its one constructor decides by the
//!   *value* (not only by how the variable is declared) and masks there and then, so a raw value
//!   never reaches the report model.
//! - [`Redactor`]: built once per run from every secret value the run has seen (declared
//!   secrets, values any catalog format or scan detector recognises as a secret, in any
//!   variable, URL passwords) plus the scan detectors themselves. It masks free text.
//! - [`Redacted<T>`]: a report that has been through [`Redactor::seal`], which visits every
//!   string in it ([`Redact`]). Renderers take `&Redacted<Report>`, and `Redacted` has no public
//!   constructor, so a renderer cannot be handed an unsealed report. The text a renderer produces
//!   goes through [`Redactor::redact_output`] once more (known values in their raw, JSON- and
//!   HTML/XML-escaped spellings), so even a field a future `Redact` impl forgets is caught.

use std::borrow::Cow;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};
use regex::Regex;
use serde::Serialize;

use crate::detect::{Detectors, Generic};
use crate::mask::{mask_secret, redact_url_password};

/// Values shorter than this are not searched for in free text: masking every `1234` or `admin`
/// in a message would destroy it. Short secrets are still masked wherever greenlight shows them
/// as values ([`Shown`]), and messages never quote values.
pub const MIN_KNOWN_LEN: usize = 8;

/// A value as it may be shown: masked when it is, or holds, a secret; with a URL's password
/// removed. There is no way to build one from a raw string without that decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Shown(String);

impl Shown {
    /// The value as shown: masked when `declared_secret`, when its value is a secret of a
    /// recognised kind ([`held_secret`]), and with any URL password removed.
    pub fn of(raw: &str, declared_secret: bool) -> Shown {
        if let Some(redacted) = redact_url_password(raw) {
            // A connection URL's secret is its password (a secret `DATABASE_URL` shows its
            // scheme, user, host and path); the rest may still carry a token of its own (a
            // query string, a webhook path).
            if held_secret(&redacted).is_some() {
                return Shown(mask_secret(raw));
            }
            return Shown(redacted);
        }
        if declared_secret || held_secret(raw).is_some() {
            Shown(mask_secret(raw))
        } else {
            Shown(raw.to_owned())
        }
    }

    /// A value known to be secret: always masked.
    pub fn secret(raw: &str) -> Shown {
        Shown(mask_secret(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Reading a `Shown` gives the masked text: nothing else is in it.
impl std::ops::Deref for Shown {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of secret a value is, when a scan detector or a secret catalog format recognises it
/// by its shape alone (`Some("Stripe secret key")`); `None` for anything else, for publishable
/// and client-safe values, and for a URL whose only secret is its password (connection URLs carry
/// passwords by design; [`redact_url_password`] handles them).
pub fn held_secret(value: &str) -> Option<&'static str> {
    if value.len() < MIN_KNOWN_LEN {
        return None;
    }
    let catalog = crate::catalog::Catalog::builtin();
    if catalog.is_client_safe_value(value) {
        return None;
    }
    // A connection URL's user and password are its business (they are masked as a URL
    // password); a hit there says nothing about the rest of the value.
    let userinfo = redact_url_password(value).and_then(|_| {
        let start = value.find("://")? + 3;
        let end = start + value[start..].find('@')?;
        Some(start..end + 1)
    });
    // The detectors are built to be distinctive on their own (prefixes, checksums, key
    // headers). The generic detector needs a name beside the value and stays off here.
    let hits = Detectors::builtin().scan(value.as_bytes(), Generic::Off);
    let outside_userinfo = |h: &&crate::detect::Hit| {
        userinfo
            .as_ref()
            .is_none_or(|u| h.secret.end <= u.start || h.secret.start >= u.end)
    };
    if let Some(hit) = hits.iter().find(outside_userinfo) {
        return Some(match hit.detector.format {
            Some(f) => f.title.as_str(),
            None => hit.detector.title.as_str(),
        });
    }
    None
}

/// Masks free text: every known secret value, every secret a scan detector recognises, and every
/// URL password. Cheap to clone (the automaton is shared).
#[derive(Clone)]
pub struct Redactor {
    /// Known secret values in every spelling an output format may give them.
    known: Option<AhoCorasick>,
    /// Whether the scan detectors run over the text too.
    detectors: bool,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::detectors_only()
    }
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor").finish_non_exhaustive()
    }
}

fn url_password() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s/?#@:]*:)([^\s/?#@]+)@").expect("valid")
    })
}

/// The spellings a value takes in the output formats: raw, JSON-escaped, and HTML/XML-escaped.
fn spellings(value: &str) -> Vec<String> {
    let mut out = vec![value.to_owned()];
    let json = serde_json::to_string(value).expect("a string serialises");
    out.push(json[1..json.len() - 1].to_owned());
    let mut xml = String::with_capacity(value.len());
    let mut html = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => {
                xml.push_str("&amp;");
                html.push_str("&amp;");
            }
            '<' => {
                xml.push_str("&lt;");
                html.push_str("&lt;");
            }
            '>' => {
                xml.push_str("&gt;");
                html.push_str("&gt;");
            }
            '"' => {
                xml.push_str("&quot;");
                html.push_str("&quot;");
            }
            '\'' => {
                xml.push_str("&apos;");
                html.push_str("&#39;");
            }
            c => {
                xml.push(c);
                html.push(c);
            }
        }
    }
    out.push(xml);
    out.push(html);
    // Markdown and GitHub annotations escape a few characters with percent-encoding.
    out.push(
        value
            .replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A"),
    );
    out.sort_unstable();
    out.dedup();
    out
}

impl Redactor {
    /// A redactor that knows no values: detectors and URL passwords only (for errors raised
    /// before a run has loaded anything).
    pub fn detectors_only() -> Redactor {
        Redactor {
            known: None,
            detectors: true,
        }
    }

    /// A redactor for these secret values (and every detector). Values shorter than
    /// [`MIN_KNOWN_LEN`] are left to the detectors and to [`Shown`].
    pub fn new<S: AsRef<str>>(secrets: impl IntoIterator<Item = S>) -> Redactor {
        let mut values: Vec<String> = Vec::new();
        for s in secrets {
            let s = s.as_ref();
            if s.len() < MIN_KNOWN_LEN {
                continue;
            }
            values.extend(spellings(s));
            // A URL's password alone is a secret too (a message may quote the password).
            if let Some(p) = url_password_of(s) {
                if p.len() >= MIN_KNOWN_LEN {
                    values.extend(spellings(p));
                }
            }
        }
        values.sort_unstable();
        values.dedup();
        let known = (!values.is_empty()).then(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&values)
                .expect("literal patterns build")
        });
        Redactor {
            known,
            detectors: true,
        }
    }

    /// Masks `chunk` into `out`: known values and every detected secret (the `mask` filter).
    pub fn mask_bytes(&self, chunk: &[u8], out: &mut Vec<u8>) {
        let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
        if let Some(ac) = &self.known {
            ranges.extend(ac.find_iter(chunk).map(|m| m.range()));
        }
        if self.detectors {
            for hit in Detectors::builtin().scan(chunk, Generic::On) {
                ranges.push(hit.secret);
            }
        }
        if ranges.is_empty() {
            out.extend_from_slice(chunk);
            return;
        }
        crate::detect::mask_ranges(chunk, ranges, out);
    }

    /// `text` with every known value, detected secret and URL password masked.
    pub fn redact(&self, text: &str) -> String {
        let mut out = Vec::with_capacity(text.len());
        self.mask_bytes(text.as_bytes(), &mut out);
        let masked = String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        redact_url_passwords(&masked).into_owned()
    }

    /// The last pass over a rendered document: known values in any of their spellings and URL
    /// passwords. (The detectors already ran over every string of the sealed report; running
    /// them over markup would mistake its structure for assignments.)
    pub fn redact_output(&self, text: String) -> String {
        let text = match &self.known {
            Some(ac) if ac.is_match(&text) => {
                let mut out = String::with_capacity(text.len());
                let mut at = 0;
                for m in ac.find_iter(&text) {
                    out.push_str(&text[at..m.start()]);
                    out.push_str(&mask_secret(&text[m.range()]));
                    at = m.end();
                }
                out.push_str(&text[at..]);
                out
            }
            _ => text,
        };
        match redact_url_passwords(&text) {
            Cow::Borrowed(_) => text,
            Cow::Owned(o) => o,
        }
    }

    /// Seals a report: every string in it is redacted, and only a sealed report can be rendered.
    pub fn seal<T: Redact>(&self, mut value: T) -> Redacted<T> {
        value.redact(self);
        Redacted {
            value,
            redactor: self.clone(),
        }
    }
}

pub use crate::detect::mask_detected;

fn url_password_of(value: &str) -> Option<&str> {
    let c = url_password().captures(value)?;
    c.get(2).map(|m| m.as_str())
}

/// Every `scheme://user:password@` in a text with the password replaced by `****`.
pub fn redact_url_passwords(text: &str) -> Cow<'_, str> {
    url_password().replace_all(text, |c: &regex::Captures<'_>| {
        if &c[2] == "****" {
            c[0].to_owned()
        } else {
            format!("{}****@", &c[1])
        }
    })
}

/// A value whose every string went through a [`Redactor`]. Read-only, and built only by
/// [`Redactor::seal`]; it keeps the redactor for the last pass over what is rendered from it.
#[derive(Debug, Clone)]
pub struct Redacted<T> {
    value: T,
    redactor: Redactor,
}

impl<T> Redacted<T> {
    /// The redactor that sealed this value.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }
}

impl<T> std::ops::Deref for Redacted<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// Visits every string of a value that may reach an output.
pub trait Redact {
    fn redact(&mut self, r: &Redactor);
}

impl Redact for String {
    fn redact(&mut self, r: &Redactor) {
        let redacted = r.redact(self);
        if redacted != *self {
            *self = redacted;
        }
    }
}

impl<T: Redact> Redact for Option<T> {
    fn redact(&mut self, r: &Redactor) {
        if let Some(v) = self {
            v.redact(r);
        }
    }
}

impl<T: Redact> Redact for Vec<T> {
    fn redact(&mut self, r: &Redactor) {
        for v in self {
            v.redact(r);
        }
    }
}

impl Redact for Shown {
    fn redact(&mut self, r: &Redactor) {
        self.0.redact(r);
    }
}

/// Implements [`Redact`] for a struct by listing its string-carrying fields. Fields that carry
/// no text (numbers, dates, `&'static str` from the binary) are left out on purpose.
#[macro_export]
macro_rules! redact_fields {
    ($ty:ty { $($field:ident),* $(,)? }) => {
        impl $crate::redact::Redact for $ty {
            fn redact(&mut self, r: &$crate::redact::Redactor) {
                $( $crate::redact::Redact::redact(&mut self.$field, r); )*
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRIPE: &str = "sk_live_7uXtXRKyccefTDgpukRzthFvQDYUN7jm8lBwQ32dLKI28Ih0";

    #[test]
    fn shown_decides_by_value() {
        assert_eq!(Shown::of(STRIPE, false).as_str(), "sk_l…8Ih0");
        assert_eq!(Shown::of("30000", false).as_str(), "30000");
        assert_eq!(Shown::of("hunter2hunter2", true).as_str(), "…");
        assert_eq!(Shown::of("hunter2hunter2hunter2", true).as_str(), "hu…r2");
        assert_eq!(
            Shown::of("postgres://app:pw@db.example.net/app", false).as_str(),
            "postgres://app:****@db.example.net/app"
        );
        // Publishable keys are public.
        let pk = "pk_live_uq0HdOi7rQf0Vh1HjOd3yYV3cfHEs8XiuMxvMfynWZQ81ate8KZ64";
        assert_eq!(Shown::of(pk, false).as_str(), pk);
    }

    #[test]
    fn held_secret_names_the_kind() {
        assert!(held_secret(STRIPE).is_some_and(|k| k.contains("Stripe")));
        assert_eq!(held_secret("postgres://app:pw@db.example.net/app"), None);
        assert_eq!(held_secret("https://api.example.net/v1"), None);
        assert_eq!(held_secret("info"), None);
    }

    #[test]
    fn redactor_masks_known_values_in_every_spelling() {
        let secret = "a\"b<c>&d'e-long-enough-secret";
        let r = Redactor::new([secret]);
        let json = serde_json::to_string(secret).unwrap();
        let out = r.redact_output(format!("x {json} y"));
        assert!(!out.contains("long-enough"), "{out}");
        let html = "a&quot;b&lt;c&gt;&amp;d&#39;e-long-enough-secret";
        assert!(!r.redact_output(html.to_owned()).contains("long-enough"));
        assert!(!r.redact(&format!("the {STRIPE} key")).contains("yccefTDg"));
        assert_eq!(
            r.redact("see redis://:s3cretpass@cache:6379"),
            "see redis://:****@cache:6379"
        );
    }

    #[test]
    fn seal_visits_nested_strings() {
        let r = Redactor::new(["correct-horse-battery"]);
        let sealed = r.seal(vec![Some("x correct-horse-battery y".to_owned())]);
        assert!(!sealed[0].as_ref().unwrap().contains("horse"));
    }
}
