//! The detectors of `scan`, loaded from `catalog/detectors.toml`, and the matcher that runs them:
//! an Aho-Corasick automaton over every detector's keywords finds candidate lines at memory
//! speed, and only those lines are confirmed with the detectors' regular expressions.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};
use regex::bytes::Regex;
use serde::Deserialize;

use crate::catalog::{self, Catalog, Format, Mode};
use crate::finding::Severity;

/// `catalog/detectors.toml`, converted to JSON by build.rs.
const DATA: &str = include_str!(concat!(env!("OUT_DIR"), "/detectors.json"));

/// The most keywords one SIMD prefilter automaton is given (Teddy's limit is 64).
const FAST_CHUNK: usize = 60;

/// Multi-line detectors (private keys) look this far past their keyword.
const MULTILINE_WINDOW: usize = 8 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DetectorDef {
    id: String,
    title: String,
    #[serde(default)]
    format: Option<String>,
    keywords: Vec<String>,
    pattern: String,
    #[serde(default)]
    multiline: bool,
    #[serde(default)]
    case_insensitive: bool,
    #[serde(default)]
    severity: Option<Severity>,
    #[serde(default)]
    min_entropy: Option<f64>,
    #[serde(default)]
    examples: DetectorExamples,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorExamples {
    #[serde(default)]
    pub positive: Vec<String>,
    #[serde(default)]
    pub negative: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DetectorFile {
    detector: Vec<DetectorDef>,
}

#[derive(Debug)]
pub struct Detector {
    /// The rule id of its findings (`stripe-secret-key`).
    pub id: &'static str,
    pub title: String,
    pub format: Option<&'static Format>,
    pub keywords: Vec<String>,
    pub multiline: bool,
    pub case_insensitive: bool,
    pub severity: Severity,
    /// Shannon entropy per character below which a match is not a secret (generic detector).
    pub min_entropy: Option<f64>,
    pub examples: DetectorExamples,
    pattern: Regex,
}

/// A confirmed secret in a text.
#[derive(Debug, Clone)]
pub struct Hit {
    pub detector: &'static Detector,
    /// Byte range of the secret in the scanned text.
    pub secret: Range<usize>,
    pub severity: Severity,
    pub mode: Option<Mode>,
}

/// Keywords matched as written and keywords matched ignoring ASCII case live in two automata:
/// each stays small enough (≤ 64 patterns) for aho-corasick's SIMD (Teddy) prefilter.
struct KeywordSet {
    /// Leftmost-first semantics, which lets aho-corasick use its SIMD (Teddy) searcher: finds the
    /// candidate lines. Teddy takes at most 64 patterns, so the keywords are split in chunks.
    fast: Vec<AhoCorasick>,
    /// Standard semantics, for overlapping matches: which detectors a candidate line concerns.
    automaton: AhoCorasick,
    /// Keyword index → detector index.
    owner: Vec<usize>,
}

pub struct Detectors {
    list: Vec<Detector>,
    sets: Vec<KeywordSet>,
}

impl std::fmt::Debug for Detectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detectors")
            .field("count", &self.list.len())
            .finish()
    }
}

impl Detectors {
    pub fn builtin() -> &'static Detectors {
        static DETECTORS: LazyLock<Detectors> = LazyLock::new(|| {
            Detectors::load().unwrap_or_else(|e| panic!("built-in detectors: {e}"))
        });
        &DETECTORS
    }

    fn load() -> Result<Detectors, String> {
        let file: DetectorFile = serde_json::from_str(DATA).map_err(|e| e.to_string())?;
        let catalog = Catalog::builtin();
        let mut list = Vec::new();
        // (keywords, owners) as written, and ignoring case.
        let mut groups: [(Vec<String>, Vec<usize>); 2] = Default::default();
        for def in file.detector {
            let format = match &def.format {
                Some(f) => Some(
                    catalog
                        .get(f)
                        .ok_or_else(|| format!("{}: unknown format {f}", def.id))?,
                ),
                None => None,
            };
            let pattern = Regex::new(&def.pattern).map_err(|e| format!("{}: {e}", def.id))?;
            let group = &mut groups[usize::from(def.case_insensitive)];
            for k in &def.keywords {
                group.0.push(k.clone());
                group.1.push(list.len());
            }
            list.push(Detector {
                // Detector ids live as long as the program: leaked once, at start-up.
                id: Box::leak(def.id.into_boxed_str()),
                title: def.title,
                format,
                keywords: def.keywords,
                multiline: def.multiline,
                case_insensitive: def.case_insensitive,
                severity: def.severity.unwrap_or(Severity::Critical),
                min_entropy: def.min_entropy,
                examples: def.examples,
                pattern,
            });
        }
        let mut sets = Vec::new();
        for (case_insensitive, (keywords, owner)) in groups.into_iter().enumerate() {
            let case_insensitive = case_insensitive == 1;
            // The fast pass stays case-sensitive (aho-corasick's SIMD searcher does not fold
            // case): case-insensitive keywords enter it as their usual spellings — `secret`,
            // `SECRET`, `Secret` and the camelCase `apiKey` of `api_key`.
            let (fast_keywords, _): (Vec<String>, Vec<usize>) = if case_insensitive {
                keywords
                    .iter()
                    .zip(&owner)
                    .flat_map(|(k, &o)| spellings(k).into_iter().map(move |v| (v, o)))
                    .unzip()
            } else {
                (keywords.clone(), owner.clone())
            };
            let build = |kind, words: &[String], fold: bool| {
                AhoCorasick::builder()
                    .match_kind(kind)
                    .ascii_case_insensitive(fold)
                    .build(words)
                    .map_err(|e| e.to_string())
            };
            let fast = fast_keywords
                .chunks(FAST_CHUNK)
                .map(|chunk| build(MatchKind::LeftmostFirst, chunk, false))
                .collect::<Result<Vec<_>, _>>()?;
            sets.push(KeywordSet {
                fast,
                automaton: build(MatchKind::Standard, &keywords, case_insensitive)?,
                owner,
            });
        }
        Ok(Detectors { list, sets })
    }

    pub fn list(&self) -> &[Detector] {
        &self.list
    }

    pub fn get(&self, id: &str) -> Option<&Detector> {
        self.list.iter().find(|d| d.id == id)
    }

    /// Every keyword (for the benchmark's ripgrep alternation).
    pub fn keywords(&self) -> impl Iterator<Item = &str> {
        self.list
            .iter()
            .flat_map(|d| d.keywords.iter().map(String::as_str))
    }

    /// Finds the secrets in `text`. `generic` turns the generic detector on (it is off for lock
    /// files, whose integrity hashes look like secrets).
    pub fn scan(&'static self, text: &[u8], generic: bool) -> Vec<Hit> {
        // 1. Candidate lines: every line holding a keyword, found at memory speed.
        let mut lines: Vec<(usize, usize)> = Vec::new();
        for fast in self.sets.iter().flat_map(|set| &set.fast) {
            let mut current_end = 0;
            for m in fast.find_iter(text) {
                if m.start() < current_end && !lines.is_empty() {
                    continue; // same line as the previous hit
                }
                let start = memchr::memrchr(b'\n', &text[..m.start()]).map_or(0, |i| i + 1);
                let end =
                    memchr::memchr(b'\n', &text[m.start()..]).map_or(text.len(), |i| m.start() + i);
                current_end = end;
                lines.push((start, end));
            }
        }
        lines.sort_unstable();
        lines.dedup();
        // 2. On each candidate line, the detectors whose keywords it holds confirm or reject.
        let mut hits: Vec<Hit> = Vec::new();
        let mut on_line: Vec<usize> = Vec::new();
        for (line_start, line_end) in lines {
            let line = &text[line_start..line_end];
            on_line.clear();
            for set in &self.sets {
                on_line.extend(
                    set.automaton
                        .find_overlapping_iter(line)
                        .map(|m| set.owner[m.pattern().as_usize()]),
                );
            }
            on_line.sort_unstable();
            on_line.dedup();
            for &d in &on_line {
                let det = &self.list[d];
                if det.id == "generic-secret" && !generic {
                    continue;
                }
                let end = if det.multiline {
                    (line_start + MULTILINE_WINDOW).min(text.len())
                } else {
                    line_end
                };
                let window = &text[line_start..end];
                // The DFA finds matches; captures (slower) only run on what it found.
                for m in det.pattern.find_iter(window) {
                    let Some(g) = det
                        .pattern
                        .captures(&window[m.start()..m.end()])
                        .and_then(|c| c.get(1))
                    else {
                        continue;
                    };
                    let range =
                        line_start + m.start() + g.start()..line_start + m.start() + g.end();
                    if hits
                        .iter()
                        .any(|h| h.secret.start < range.end && range.start < h.secret.end)
                    {
                        continue;
                    }
                    if let Some(hit) = confirm(det, text, range) {
                        hits.push(hit);
                    }
                }
            }
        }
        hits.sort_by_key(|h| h.secret.start);
        hits
    }
}

/// The usual spellings of a case-insensitive keyword: lower, UPPER, Capitalised, and camelCase
/// for `snake_case` or `kebab-case` words.
fn spellings(keyword: &str) -> Vec<String> {
    let lower = keyword.to_ascii_lowercase();
    let mut out = vec![lower.clone(), keyword.to_ascii_uppercase()];
    let mut cap = lower.clone();
    if let Some(first) = cap.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    out.push(cap);
    if lower.contains(['_', '-']) {
        let mut camel = String::new();
        let mut upper_next = false;
        for c in lower.chars() {
            if c == '_' || c == '-' {
                upper_next = true;
            } else if upper_next {
                camel.push(c.to_ascii_uppercase());
                upper_next = false;
            } else {
                camel.push(c);
            }
        }
        out.push(camel);
    }
    out.sort();
    out.dedup();
    out
}

/// Shannon entropy per character.
pub fn entropy_per_char(s: &str) -> f64 {
    let n = s.chars().count();
    if n == 0 {
        return 0.0;
    }
    let mut counts: HashMap<char, usize> = HashMap::new();
    for c in s.chars() {
        *counts.entry(c).or_default() += 1;
    }
    counts
        .values()
        .map(|&c| {
            let p = c as f64 / n as f64;
            -p * p.log2()
        })
        .sum()
}

/// Values that are references to a secret, not the secret: `${VAR}`, `process.env.X`,
/// `{{ secrets.X }}`, secret-manager paths, encrypted-at-rest blobs.
fn is_reference(s: &str) -> bool {
    static REFERENCE: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"(?i)^\$|\$\{|\{\{|%\(|process\.env|os\.environ|getenv|env\(|import\.meta\.env|^env\.|secrets\.|arn:aws:|vault:|^enc\[|^!vault|^ENC\(|secretsmanager|keyvault|^ref\+|^op://|^sm://")
            .expect("reference regex")
    });
    REFERENCE.is_match(s)
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.matches('-').count() == 4
        && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

fn confirm(det: &'static Detector, text: &[u8], range: Range<usize>) -> Option<Hit> {
    let secret = std::str::from_utf8(&text[range.clone()]).ok()?;
    if is_reference(secret) {
        return None;
    }
    let format = det.format.or_else(|| Catalog::builtin().get("secret"));
    if catalog::is_placeholder(secret, format).is_some() {
        return None;
    }
    if det.id == "private-key" && secret.contains("YOUR") {
        return None;
    }
    if let Some(f) = det.format {
        if f.id == "jwt" && catalog::jwt_claims(secret).is_none() {
            return None;
        }
    }
    if det.id == "generic-secret" {
        // A value carrying a specific detector's prefix is that detector's to judge (it may have
        // rejected it as a documented sample or an incomplete token).
        let detectors = Detectors::builtin();
        if detectors
            .list
            .iter()
            .any(|d| d.id != det.id && d.keywords.iter().any(|k| secret.starts_with(k.as_str())))
        {
            return None;
        }
    }
    if let Some(min) = det.min_entropy {
        let classes = [
            secret.chars().any(|c| c.is_ascii_lowercase()),
            secret.chars().any(|c| c.is_ascii_uppercase()),
            secret.chars().any(|c| c.is_ascii_digit()),
        ]
        .iter()
        .filter(|&&b| b)
        .count();
        // Code, not secrets: type names and identifiers (`credentials: ProductionCredentials`).
        let identifier = !secret.chars().any(|c| c.is_ascii_digit())
            && secret
                .chars()
                .all(|c| c.is_ascii_alphabetic() || c == '_' || c == '.');
        if identifier
            || entropy_per_char(secret) < min
            || classes < 2
            || is_uuid(secret)
            || secret.contains("://")
            || secret.starts_with('/')
        {
            return None;
        }
    }
    let mode = det.format.and_then(|f| f.mode(secret));
    let severity = if mode == Some(Mode::Test) {
        Severity::Warning
    } else {
        det.severity
    };
    Some(Hit {
        detector: det,
        secret: range,
        severity,
        mode,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs every detector's positive and negative examples through the matcher `scan` uses.
    #[test]
    fn every_detector_example_behaves_as_declared() {
        let detectors = Detectors::builtin();
        let mut failures = Vec::new();
        for d in detectors.list() {
            assert!(
                !d.examples.positive.is_empty(),
                "{} has no positive example",
                d.id
            );
            assert!(
                !d.examples.negative.is_empty(),
                "{} has no negative example",
                d.id
            );
            for p in &d.examples.positive {
                let hits = detectors.scan(p.as_bytes(), true);
                if !hits.iter().any(|h| h.detector.id == d.id) {
                    failures.push(format!("{}: positive example not found: {p}", d.id));
                }
            }
            for n in &d.examples.negative {
                let hits = detectors.scan(n.as_bytes(), true);
                if let Some(h) = hits.first() {
                    failures.push(format!(
                        "{}: negative example reported by {}: {n}",
                        d.id, h.detector.id
                    ));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "detector examples:\n{}",
            failures.join("\n")
        );
    }

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<&str> = Detectors::builtin().list().iter().map(|d| d.id).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n);
    }
}
