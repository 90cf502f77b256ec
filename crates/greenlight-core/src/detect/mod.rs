//! The detectors of `scan`, loaded from `catalog/detectors.toml`, and the matcher that runs them:
//! an Aho-Corasick automaton over every detector's keywords finds candidate lines at memory
//! speed, and only those lines are confirmed with the detectors' regular expressions.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{LazyLock, OnceLock};

use aho_corasick::{AhoCorasick, MatchKind};
use regex::bytes::Regex;
use serde::Deserialize;

use crate::catalog::{self, Catalog, Format, Mode};
use crate::rule::Severity;

/// `catalog/detectors.toml`, converted to JSON by build.rs.
const DATA: &str = include_str!(concat!(env!("OUT_DIR"), "/detectors.json"));

/// Multi-line detectors (private keys) look this far past their keyword.
const MULTILINE_WINDOW: usize = 8 * 1024;

/// A context detector also looks this many lines below its provider's name, for nested
/// configuration (`algolia:` then `  admin_key: …` in YAML, `new Algolia({` then `apiKey: …`).
const CONTEXT_LINES: usize = 3;

/// How a context detector's assignment is found: a name, an assignment operator and the value
/// (`(?P<s>…)`, the detector's `value`). The name and the operator are matched ignoring case;
/// the value as the provider writes it.
const ASSIGNMENT: &str = r#"(?:^|[^A-Za-z0-9_.-])(?P<name>[A-Za-z0-9_.-]{0,80})["'\]]?[ \t]*(?:=|:|=>|:=|,)[ \t]*\[?["'`]?(?P<s>VALUE)(?:[^A-Za-z0-9_+/=.-]|\.[^A-Za-z0-9]|\.$|$)"#;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DetectorDef {
    id: String,
    title: String,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    pattern: Option<String>,
    /// Provider names: the secret is a `value` assigned to a name on (or up to
    /// [`CONTEXT_LINES`] below) a line that mentions one of them.
    #[serde(default)]
    context: Vec<String>,
    /// The shape of a context detector's secret (a regex without anchors).
    #[serde(default)]
    value: Option<String>,
    /// A generic detector: a secret-like name and any high-entropy value (`generic-secret`),
    /// judged by the generic filters and off in lock files.
    #[serde(default)]
    generic: bool,
    #[serde(default)]
    multiline: bool,
    #[serde(default)]
    case_insensitive: bool,
    #[serde(default)]
    severity: Option<Severity>,
    #[serde(default)]
    min_entropy: Option<f64>,
    /// The match may run onto this many lines below the keyword's line (an XML element's text
    /// on its own line); cheaper than `multiline`, whose window is 8 KiB.
    #[serde(default)]
    lines_below: Option<usize>,
    /// A checksum the provider builds into its tokens (`github-crc32`: the last six base62
    /// characters are the CRC32 of the thirty before them, as GitHub's and npm's tokens are).
    #[serde(default)]
    checksum: Option<String>,
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
    pub severity: Severity,
    /// Shannon entropy per character below which a match is not a secret (generic detector).
    pub min_entropy: Option<f64>,
    pub examples: DetectorExamples,
    /// A context detector: `keywords` are provider names, the pattern is [`ASSIGNMENT`].
    pub context: bool,
    /// See `DetectorDef::generic`.
    pub generic: bool,
    /// See `DetectorDef::checksum`.
    pub checksum: Option<String>,
    /// See `DetectorDef::lines_below`.
    pub lines_below: Option<usize>,
    /// Its entry in the rule registry (command `scan`; its documentation is [`Detector::doc`]).
    pub meta: crate::rule::RuleMeta,
    pattern: LazyPattern,
}

#[derive(Debug)]
struct LazyPattern {
    source: String,
    compiled: OnceLock<Regex>,
}

impl LazyPattern {
    fn get(&self) -> &Regex {
        self.compiled.get_or_init(|| {
            Regex::new(&self.source).unwrap_or_else(|e| panic!("detector pattern: {e}"))
        })
    }
}

impl Detector {
    /// The documentation `greenlight explain ID` prints, made from the detector's data. Its
    /// examples are shown with their secrets masked, as a finding would show them.
    pub fn doc(&self) -> String {
        let kind = if self.generic {
            "generic: a high-entropy value assigned to a secret-like name; references, \
             ciphertext, identifiers, hashes, public values and placeholders are left out \
             (docs/scan.md)"
                .to_string()
        } else if self.context {
            format!(
                "context: a value of this provider's shape assigned to a name on a line that \
                 mentions {}, or to a secret-like name up to {CONTEXT_LINES} lines below it",
                self.keywords
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            format!(
                "prefixed: found after the keyword{} {}",
                if self.keywords.len() > 1 { "s" } else { "" },
                self.keywords
                    .iter()
                    .map(|k| format!("`{}`", k.replace('\n', "\\n")))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let format = self.format.map_or(String::new(), |f| {
            format!(
                "\nValues are checked against the catalog format `{}`: its documented samples \
                 and placeholders are not reported{}.\n",
                f.id,
                if f.has_modes() {
                    ", and a test-mode value is a warning"
                } else {
                    ""
                }
            )
        });
        let block = |examples: &[String]| {
            examples
                .iter()
                .map(|e| {
                    let masked = mask_detected(e);
                    format!("```\n{}\n```\n", masked.trim_end())
                })
                .collect::<String>()
        };
        format!(
            "# {id}\n\n{title}. A `greenlight scan` detector (also run by `check` on committed \
             configuration files and by `golive`), severity {severity}.\n\nKind: {kind}.\n\
             {format}\n## Failing example\n\nReported (shown masked):\n\n{bad}\n\
             ## Passing example\n\nNot reported:\n\n{good}\n\
             Silence one finding with `greenlight:allow {id}` on its line (or the line before), \
             or the rule with `[scan] exclude_rules = [\"{id}\"]`.\n",
            id = self.id,
            title = self.title,
            severity = self.severity.as_str(),
            bad = block(&self.examples.positive),
            good = block(&self.examples.negative),
        )
    }

    /// The order in which detectors claim a secret on a line: prefixed, context, generic.
    fn rank(&self) -> u8 {
        if self.generic {
            2
        } else {
            u8::from(self.context)
        }
    }
}

/// `text` with every secret the detectors recognise masked (the context shown around a finding,
/// a detector's examples in its documentation).
pub fn mask_detected(text: &str) -> String {
    let hits = Detectors::builtin().scan(text.as_bytes(), Generic::On);
    let mut out = Vec::with_capacity(text.len());
    mask_ranges(
        text.as_bytes(),
        hits.into_iter().map(|h| h.secret).collect(),
        &mut out,
    );
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Copies `chunk` into `out` with each of `ranges` replaced by its mask; a range inside one
/// already masked is skipped.
pub fn mask_ranges(chunk: &[u8], mut ranges: Vec<Range<usize>>, out: &mut Vec<u8>) {
    ranges.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    let mut at = 0;
    for r in ranges {
        if r.start < at {
            continue;
        }
        out.extend_from_slice(&chunk[at..r.start]);
        let secret = String::from_utf8_lossy(&chunk[r.clone()]);
        out.extend_from_slice(crate::mask::mask_secret(&secret).as_bytes());
        at = r.end;
    }
    out.extend_from_slice(&chunk[at..]);
}

/// The length of the longest run of one character in `s`, `A` aside (see its caller).
fn longest_run(s: &str) -> usize {
    let mut best = 0;
    let mut run = 0;
    let mut prev = None;
    for c in s.chars().filter(|&c| c != 'A') {
        run = if Some(c) == prev { run + 1 } else { 1 };
        prev = Some(c);
        best = best.max(run);
    }
    best
}

/// How sure a scan detector is that a match is a real secret.
#[derive(
    schemars::JsonSchema,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Where the generic detector runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generic {
    /// Not at all (lock files, whose integrity hashes look like secrets).
    Off,
    /// On quoted values only (program source, where unquoted values are types and expressions).
    QuotedOnly,
    On,
    /// Not at all, and neither are the provider-context detectors: a machine-made file (a source
    /// map, a TypeScript build-info file, cargo vendor's checksums) is hashes and encoded
    /// mappings, where a provider's name near a hash is coincidence. Only formats with a
    /// provider's own prefix or structure (`ghp_`, `AKIA`, a PEM block) are looked for.
    Generated,
}

/// A confirmed secret in a text.
#[derive(Debug, Clone)]
pub struct Hit {
    pub detector: &'static Detector,
    /// Byte range of the secret in the scanned text.
    pub secret: Range<usize>,
    pub severity: Severity,
    pub mode: Option<Mode>,
    pub confidence: Confidence,
    /// Why the detector fired, in words (never the secret).
    pub why: String,
}

/// Keywords matched as written and keywords matched ignoring ASCII case, in two automata that
/// tell which detectors a candidate line concerns.
struct KeywordSet {
    keywords: Vec<String>,
    case_insensitive: bool,
    /// Standard semantics, for overlapping matches.
    automaton: AhoCorasick,
    /// The same as a DFA, for `scan` ([`Detectors::prepare_bulk`]): a tree has many candidate
    /// lines (`key`, `token`), and the NFA's overlapping search took a fifth of the scan.
    bulk: OnceLock<AhoCorasick>,
    /// Keyword index → detector index.
    owner: Vec<usize>,
}

pub struct Detectors {
    list: Vec<Detector>,
    sets: Vec<KeywordSet>,
    every_spelling: Vec<String>,
    /// Every spelling of every keyword in one automaton, which finds the candidate lines in a
    /// single pass over the text. An NFA, quick to build, for `check` and `mask`...
    candidates: AhoCorasick,
    /// ...and a DFA for `scan`, built once ([`Detectors::prepare_bulk`]): about twice as fast
    /// over a tree (measured with bench/scan: one DFA pass beat ten Teddy passes over 60-keyword
    /// chunks, and the noncontiguous NFA), at 5 ms of construction.
    bulk_candidates: OnceLock<AhoCorasick>,
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
            let context = !def.context.is_empty();
            let (keywords, source, case_insensitive) = match (&def.pattern, &def.value) {
                (Some(p), None) if !context => (def.keywords, p.clone(), def.case_insensitive),
                (None, Some(v)) if context && def.keywords.is_empty() => {
                    (def.context, ASSIGNMENT.replace("VALUE", v), true)
                }
                _ => {
                    return Err(format!(
                    "{}: a detector has either `keywords` and `pattern`, or `context` and `value`",
                    def.id
                ))
                }
            };
            // Compiled on first use: `check` and `mask` meet a handful of detectors, and
            // compiling all of them took 46 ms. `every_detector_example_behaves_as_declared`
            // compiles each one.
            let pattern = LazyPattern {
                source,
                compiled: OnceLock::new(),
            };
            let group = &mut groups[usize::from(case_insensitive)];
            for k in &keywords {
                group.0.push(k.clone());
                group.1.push(list.len());
            }
            let severity = def.severity.unwrap_or(Severity::Critical);
            let meta = crate::rule::RuleMeta {
                id: def.id.clone(),
                command: "scan".into(),
                severity,
                summary: def.title.clone(),
                doc: String::new(),
            };
            list.push(Detector {
                // Detector ids live as long as the program: leaked once, at start-up.
                id: Box::leak(def.id.into_boxed_str()),
                meta,
                title: def.title,
                format,
                keywords,
                multiline: def.multiline,
                severity,
                min_entropy: def.min_entropy,
                examples: def.examples,
                context,
                generic: def.generic,
                checksum: def.checksum,
                lines_below: def.lines_below,
                pattern,
            });
        }
        let mut sets = Vec::new();
        let mut every_spelling: Vec<String> = Vec::new();
        for (case_insensitive, (keywords, owner)) in groups.into_iter().enumerate() {
            let case_insensitive = case_insensitive == 1;
            // The candidate pass stays case-sensitive (folding case costs it speed):
            // case-insensitive keywords enter it as their usual spellings — `secret`, `SECRET`,
            // `Secret` and the camelCase `apiKey` of `api_key`.
            if case_insensitive {
                every_spelling.extend(keywords.iter().flat_map(|k| spellings(k)));
            } else {
                every_spelling.extend(keywords.iter().cloned());
            }
            let automaton = AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .ascii_case_insensitive(case_insensitive)
                .build(&keywords)
                .map_err(|e| e.to_string())?;
            sets.push(KeywordSet {
                keywords,
                case_insensitive,
                automaton,
                bulk: OnceLock::new(),
                owner,
            });
        }
        let candidates = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&every_spelling)
            .map_err(|e| e.to_string())?;
        Ok(Detectors {
            list,
            sets,
            every_spelling,
            candidates,
            bulk_candidates: OnceLock::new(),
        })
    }

    /// Builds the DFA that `scan` uses for the candidate pass over a whole tree.
    pub fn prepare_bulk(&self) {
        self.bulk_candidates.get_or_init(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostFirst)
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .build(&self.every_spelling)
                .expect("keywords already built into an NFA")
        });
        for set in &self.sets {
            set.bulk.get_or_init(|| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .ascii_case_insensitive(set.case_insensitive)
                    .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                    .build(&set.keywords)
                    .expect("keywords already built into an NFA")
            });
        }
    }

    pub fn list(&self) -> &[Detector] {
        &self.list
    }

    pub fn get(&self, id: &str) -> Option<&Detector> {
        self.list.iter().find(|d| d.id == id)
    }

    /// Finds the secrets in `text`; `generic` says where the generic detector runs.
    pub fn scan(&'static self, text: &[u8], generic: Generic) -> Vec<Hit> {
        // 1. Candidate lines: every line holding a keyword, found at memory speed.
        let mut lines: Vec<(usize, usize)> = Vec::new();
        let candidates = self.bulk_candidates.get().unwrap_or(&self.candidates);
        let mut current_end = 0;
        for m in candidates.find_iter(text) {
            if m.start() < current_end && !lines.is_empty() {
                continue; // same line as the previous hit
            }
            let start = memchr::memrchr(b'\n', &text[..m.start()]).map_or(0, |i| i + 1);
            let end =
                memchr::memchr(b'\n', &text[m.start()..]).map_or(text.len(), |i| m.start() + i);
            current_end = end;
            lines.push((start, end));
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
                    set.bulk
                        .get()
                        .unwrap_or(&set.automaton)
                        .find_overlapping_iter(line)
                        .map(|m| set.owner[m.pattern().as_usize()]),
                );
            }
            // Specific detectors claim a secret first, then the provider-context ones, then
            // the generic one: an `nfp_` token is Netlify's even on a line naming Netlify.
            on_line.sort_unstable_by_key(|&d| (self.list[d].rank(), d));
            on_line.dedup();
            for &d in &on_line {
                let det = &self.list[d];
                let is_generic = det.generic;
                if is_generic && generic == Generic::Off
                    || (is_generic || det.context) && generic == Generic::Generated
                {
                    continue;
                }
                let end = if det.multiline {
                    (line_start + MULTILINE_WINDOW).min(text.len())
                } else if det.context {
                    lines_below(text, line_end, CONTEXT_LINES)
                } else if let Some(n) = det.lines_below {
                    lines_below(text, line_end, n)
                } else {
                    line_end
                };
                let window = &text[line_start..end];
                // The DFA finds matches; captures (slower) only run on what it found.
                let pattern = det.pattern.get();
                for m in pattern.find_iter(window) {
                    let Some(c) = pattern.captures(&window[m.start()..m.end()]) else {
                        continue;
                    };
                    // Alternatives of one pattern name their groups `s`, `s2`, … (the secret)
                    // and `name`, `name2` (what it is assigned to).
                    let Some(g) = c
                        .name("s")
                        .or_else(|| c.name("s2"))
                        .or_else(|| c.name("s3"))
                        .or_else(|| c.name("s4"))
                        .or_else(|| c.name("s5"))
                        .or_else(|| c.get(1))
                    else {
                        continue;
                    };
                    let name = c
                        .name("name")
                        .or_else(|| c.name("name2"))
                        .map_or(&b""[..], |n| n.as_bytes());
                    let range =
                        line_start + m.start() + g.start()..line_start + m.start() + g.end();
                    let on_keyword_line = range.start < line_end;
                    if det.context && !context_name_fits(det, name, on_keyword_line) {
                        continue;
                    }
                    if is_generic
                        && generic == Generic::QuotedOnly
                        && !matches!(
                            text.get(range.start.wrapping_sub(1)),
                            Some(b'"' | b'\'' | b'`')
                        )
                        && !bare_token_assignment(text, line_start, line_end, &range)
                    {
                        continue;
                    }
                    if hits
                        .iter()
                        .any(|h| h.secret.start < range.end && range.start < h.secret.end)
                    {
                        continue;
                    }
                    if let Some(hit) = confirm(det, text, range, name) {
                        hits.push(hit);
                    }
                }
            }
        }
        hits.sort_by_key(|h| h.secret.start);
        hits
    }
}

/// The end of the `n`-th line below the line that ends at `line_end`.
/// A PEM body shorter than the DER structure it opens says it is, with the cut marked:
/// `MIIEpQ…` declares a 1,189-byte RSA key; sixty characters of it and `.` in a docstring are
/// an illustration. (Short bodies without a mark are still reported: test vectors of keys are
/// often cut by hand.)
fn pem_truncated(pem: &str) -> bool {
    use base64::Engine;
    let raw_body = pem_raw_body(pem);
    let body = pem_base64(raw_body);
    let Some(head) = body.get(..8) else {
        return false;
    };
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(head) else {
        return false;
    };
    // A DER SEQUENCE with a long-form length: 0x30, 0x81 LEN or 0x82 LEN LEN.
    let declared = match der.as_slice() {
        [0x30, 0x81, len, ..] => usize::from(*len) + 3,
        [0x30, 0x82, hi, lo, ..] => (usize::from(*hi) << 8 | usize::from(*lo)) + 4,
        _ => return false,
    };
    // Elided on purpose (`…`, `.....`): shorter than it says, with the cut marked.
    let elided = raw_body.contains('.') || raw_body.contains('…');
    elided && body.trim_end_matches('=').len() * 3 / 4 < declared * 9 / 10
}

/// What lies between a PEM block's BEGIN line and its END line, as written.
fn pem_raw_body(pem: &str) -> &str {
    let after_begin = pem
        .find("-----BEGIN")
        .and_then(|i| pem[i + 10..].find("-----").map(|j| i + 10 + j + 5))
        .map_or(pem, |i| &pem[i..]);
    after_begin
        .find("-----END")
        .map_or(after_begin, |i| &after_begin[..i])
}

/// The base64 characters of a PEM body, without RFC 1421 header lines (`Proc-Type: …`), escaped
/// newlines (`\\n` in a JSON string) read as newlines.
fn pem_base64(raw_body: &str) -> String {
    raw_body
        .replace("\\n", "\n")
        .lines()
        .filter(|l| !l.contains(':'))
        .flat_map(str::chars)
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
        .collect()
}

/// The base64 characters of a PEM block's body (see [`pem_base64`]). The smallest real private
/// key (an Ed25519 OpenSSH key) has several hundred.
fn pem_body_len(pem: &str) -> usize {
    pem_base64(pem_raw_body(pem)).len()
}

/// In source code, an unquoted value is usually an expression (`password = hashlib.sha256(raw)`,
/// `token = self.token`); but a line that is nothing but `name = VALUE` (or `name: VALUE`), the
/// value a single run of token characters of at least 16 with letters and digits, running to the
/// end of the line or a comment, is a constant pasted in as it is (config-like `.py` files,
/// settings modules, scripts).
fn bare_token_assignment(
    text: &[u8],
    line_start: usize,
    line_end: usize,
    secret: &Range<usize>,
) -> bool {
    // A value found on a line below its name (XML element text) is no `name = VALUE` line.
    if secret.start < line_start || secret.end > line_end {
        return false;
    }
    let value = &text[secret.clone()];
    let before = &text[line_start..secret.start];
    let after = &text[secret.end..line_end];
    let starts_line = before
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .is_some_and(|i| before[i].is_ascii_alphabetic() || before[i] == b'_');
    // One name, then `=` or `:` (no call, index or attribute access on the left).
    let lhs_is_name = {
        let t = before.trim_ascii();
        let op = t.iter().rposition(|&b| b == b'=' || b == b':');
        op.is_some_and(|i| {
            let name = t[..i].trim_ascii();
            let name = name.strip_suffix(b":").unwrap_or(name).trim_ascii();
            !name.is_empty()
                && name
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
        })
    };
    let rest = after.trim_ascii();
    let ends_line = rest.is_empty() || rest.starts_with(b"#") || rest.starts_with(b"//");
    starts_line
        && lhs_is_name
        && ends_line
        && value.len() >= 16
        && value.iter().any(u8::is_ascii_digit)
        && value.iter().any(u8::is_ascii_alphabetic)
        // `cautils.ECDSA256Key`, `appsv1.LabelKey`: a member of a package, not a literal.
        && !value.contains(&b'.')
}

/// The longest stretch of `s` that repeats a pattern of two to four characters (not all one
/// character: runs of one are [`longest_run`]'s, and base64 zeros are exempt there).
fn longest_periodic_run(s: &str) -> usize {
    let b = s.as_bytes();
    let mut best = 0;
    for p in 2..=4usize {
        let mut start = 0;
        for i in p..=b.len() {
            if i == b.len() || b[i] != b[i - p] {
                let run = i - start;
                let distinct = b[start..start + p.min(run)].iter().any(|&c| c != b[start]);
                if run >= p * 2 && distinct {
                    best = best.max(run);
                }
                start = i + 1 - p;
            }
        }
    }
    best
}

/// A qualified name made of words, not a token: `P256.SharedSecretAgreement`,
/// `OID_id_Streebog512_33_Null_KeyWrapping`, `OrderTotals-2.4` — every part between `.`, `_`,
/// `-`, `:` is a word (optionally Capitalised or UPPER), a word with a number, or a number, and
/// at least one part is a CamelCase compound of two or more words of three letters or more.
/// A random token almost never splits that way.
fn word_compound(s: &str) -> bool {
    static PART: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"^(?:[A-Z]?[a-z]+|[A-Z]+)?[0-9]*$").expect("part regex")
    });
    static COMPOUND: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"^(?:[A-Z][a-z]{2,}){2,}[0-9]*$").expect("compound regex")
    });
    let parts: Vec<&str> = s.split(['.', '_', '-', ':']).collect();
    parts
        .iter()
        .all(|p| PART.is_match(p) || COMPOUND.is_match(p))
        && parts.iter().any(|p| COMPOUND.is_match(p))
}

fn lines_below(text: &[u8], line_end: usize, n: usize) -> usize {
    let mut end = line_end;
    for _ in 0..n {
        if end >= text.len() {
            break;
        }
        end = memchr::memchr(b'\n', &text[end + 1..]).map_or(text.len(), |i| end + 1 + i);
    }
    end
}

/// Names that say "this holds a secret" once a provider is in view.
fn secret_like_name(name: &[u8]) -> bool {
    static SECRET: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)key|secret|token|pass|pwd|auth|cred|cert|pat$|sid$|private|signature|license|dsn|sig$",
        )
        .expect("secret name regex")
    });
    SECRET.is_match(name) && !public_name(name)
}

/// Names of values meant to be public or that identify rather than authenticate.
fn public_name(name: &[u8]) -> bool {
    static PUBLIC: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)public|publishable|search|site[_.-]?key|client[_.-]?id$|(?:^|[_.-]|[a-z])id$|[a-z]Id$|_ids?$|url$|uri$|host$|domain$|endpoint$|region$|user(?:name)?$|email$|account$|version$|ttl$|expir|length$|size$|header$|path$|file$|commit[_.-]?(?:sha|hash)$|(?:^|[_.-])(?:sha|rev|revision)$")
            .expect("public name regex")
    });
    // Algolia's search-only key is meant for browsers; Azure AI Search's keys (admin, query)
    // are not, and say so in their names.
    static SEARCH_SECRET: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^(?:.*(?:azure|admin).*search|.*search.*(?:azure|admin)).*$")
            .expect("search secret regex")
    });
    static PUBLIC_BESIDES_SEARCH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)public|publishable|site[_.-]?key").expect("public regex")
    });
    PUBLIC.is_match(name) && (!SEARCH_SECRET.is_match(name) || PUBLIC_BESIDES_SEARCH.is_match(name))
}

/// A context detector's assignment counts on the line naming the provider when its name is
/// secret-like or is the provider's own (`ALGOLIA=…`); below that line only secret-like names
/// count (`algolia:` then `  admin_key: …`).
fn context_name_fits(det: &Detector, name: &[u8], on_keyword_line: bool) -> bool {
    // `secret_id` ends like an identifier but is Vault AppRole's credential.
    let secret_id = {
        let lower = name.to_ascii_lowercase();
        lower.ends_with(b"secret_id")
            || lower.ends_with(b"secretid")
            || lower.ends_with(b"secret-id")
    };
    if public_name(name) && !secret_id {
        return false;
    }
    if secret_id {
        return true;
    }
    if secret_like_name(name) {
        return true;
    }
    on_keyword_line
        && det.keywords.iter().any(|k| {
            name.windows(k.len())
                .any(|w| w.eq_ignore_ascii_case(k.as_bytes()))
        })
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
        regex::Regex::new(r"(?i)^\$|\$\{|\{\{|%\(|process\.env|os\.environ|getenv|env\(|import\.meta\.env|^env\.|secrets\.|arn:aws:|vault:|^enc\[|^!vault|^ENC\(|secretsmanager|keyvault|^ref\+|^op://|^sm://|projects/[^/]+/secrets/|secretKeyRef|^@Microsoft\.KeyVault|^(?:aws-sm|ssm|akv|azkv|gcpsm|infisical|doppler|bws|awssecrets)://|^\{cipher\}|^encrypted:")
            .expect("reference regex")
    });
    REFERENCE.is_match(s)
}

/// A Basic header's `user:password`, decoded, with a password that is not a placeholder.
fn basic_credentials(encoded: &str) -> bool {
    use base64::Engine;
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
        return false;
    };
    // Lossy: a byte that is not UTF-8 in the password does not make it less of a password.
    let decoded = String::from_utf8_lossy(&bytes);
    match decoded.split_once(':') {
        Some((_, password)) => {
            password.len() >= 6
                && !names_itself(password)
                && !password.chars().any(char::is_control)
                && catalog::is_placeholder(password, Catalog::builtin().get("secret")).is_none()
        }
        None => false,
    }
}

/// `value` as text, when it is padded or 4-aligned standard base64 of printable ASCII.
fn decoded_base64_text(value: &str) -> Option<String> {
    use base64::Engine;
    if value.len() % 4 != 0 {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    (text.len() >= 4 && text.bytes().all(|b| (0x20..0x7f).contains(&b))).then_some(text)
}

/// The host of `user:password@host…` is reserved for documentation and tests (RFC 2606).
fn documentation_host(after_at: &[u8]) -> bool {
    let end = after_at
        .iter()
        .position(|c| {
            matches!(
                c,
                b':' | b'/' | b'?' | b'#' | b' ' | b'"' | b'\'' | b'`' | b'\n'
            )
        })
        .unwrap_or(after_at.len());
    let host = String::from_utf8_lossy(&after_at[..end]).to_ascii_lowercase();
    ["example.com", "example.org", "example.net"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
        || [".example", ".test", ".invalid"]
            .iter()
            .any(|t| host.ends_with(t))
}

/// Sealed Secrets (`Ag…`, a version byte then RSA-OAEP ciphertext) and Ansible Vault blobs:
/// ciphertext committed on purpose, not a leak.
/// AWS KMS ciphertext blobs (`AQICAH…`), Spring Cloud Config's `{cipher}` and ejson's `EJ[`
/// likewise.
fn looks_encrypted(s: &str) -> bool {
    (s.starts_with("Ag") && s.len() >= 200)
        || s.starts_with("$ANSIBLE_VAULT")
        || (s.starts_with("AQICAH") && s.len() >= 100)
        || s.starts_with("{cipher}")
        || s.starts_with("EJ[")
}

/// A string literal that is one operand of a concatenation (`"__reactLoad$" + randomKey`,
/// `"d189…" + "5929…"`): a prefix or a fragment, not a whole value.
fn concatenated(text: &[u8], range: &Range<usize>) -> bool {
    let after = &text[range.end..(range.end + 4).min(text.len())];
    let before = &text[range.start.saturating_sub(4)..range.start];
    let quoted = |b: &[u8]| b.first().is_some_and(|c| matches!(c, b'"' | b'\'' | b'`'));
    let plus_after = quoted(after)
        && after[1..]
            .iter()
            .find(|c| !c.is_ascii_whitespace())
            .is_some_and(|&c| c == b'+');
    let plus_before = quoted(&before[before.len().saturating_sub(1)..])
        && before[..before.len().saturating_sub(1)]
            .iter()
            .rev()
            .find(|c| !c.is_ascii_whitespace())
            .is_some_and(|&c| c == b'+');
    plus_after || plus_before
}

/// Values a secret-like name holds in code, data and docs that no token looks like. Each shape
/// was seen on real code by bench/noise; none is a character class a random token falls into
/// by chance:
/// - code after a string literal (`"Secret: "+fmt.Sprintf(…)`, `").append(`),
/// - lists and options (`sigv4,httpBearerAuth`, a Go struct tag `bytes,1,opt,name=key`),
/// - templates and regular expressions (`#{SecureRandom.hex(64)}`, `[a-zA-Z0-9]{0,126}`),
/// - dotted names and OIDs (`log4j.configDebug`, `org.apache.X`, `1.2.840.113549.1.12.1.3`),
/// - paths, URNs, query strings and URL-encoded text (`Asia/Kathmandu`,
///   `urn:ietf:params:oauth:token-type:jwt`, `a+b/foo?versionId=bar`, `%C3%A7%C3%B6s`),
/// - a value made from its own name (`accessToken-1938933922`, `x.fooToken = fooToken`),
/// - a word for a secret in a short value (`MySecretPass1`, `newpass123`): what people type
///   into examples, not what a generator makes,
/// - a CamelCase identifier (`PublicIpv4Pools`, `ServerlessV2PlatformVersions`).
fn code_or_text_not_token(secret: &str, name: &[u8]) -> bool {
    static SHAPES: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"(?x)
            ^[),.;\]}(].*[A-Za-z_]{3}\(                 # code after a literal: `).append(`
            | ^\+.*[(.]                                   # `+fmt.Sprintf(`
            | \#\{ | \[a-z | a-zA-Z | \{[0-9]+,[0-9]*\} | \(\?[:=!]  # templates, regexes
            | ^(?:[0-9]+\.){2,}[0-9]+$                    # an OID
            | ^urn:
            | ^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T\ ][0-9]{2}:[0-9]{2})?      # a date or a time
            | \[-?[0-9]+\]\.                             # a JMESPath: `Jobs[-1].JobId`
            | ^--[a-z] | ^-[A-Za-z][a-z]+(?:[A-Z][a-z]+)*$  # the next command-line flag
            | ^[A-Z][a-z]+(?:To|From)?-[A-Z][A-Za-z]+$     # a PowerShell cmdlet: `Get-AnsibleParam`
            | ^\+.*\+$                                    # `+expected1+`
            | [?&][A-Za-z][A-Za-z0-9_.\[\]-]*=             # a query string
            | ^[a-z0-9.-]+\.[a-z]{2,}/[A-Za-z0-9._-]+$     # a label key: `x.k8s.io/name`
            | \{$ | ^\[\]                                 # Go's generated String()
            | ^\[[A-Za-z_\ -]+\]$ | ^<[A-Za-z_\ -]+>$      # a placeholder: `[username]`
            | ^(?:pbkdf2_[a-z0-9]+|bcrypt|argon2[a-z]*|scrypt)\$   # a password hash
            | (?:^|:)\$(?:2[abxy]?|5|6|y|argon2[a-z]*|scrypt|pbkdf2[a-z0-9-]*)\$
            | (?:%[0-9A-Fa-f]{2}.*){3}                     # URL-encoded text
            "#,
        )
        .expect("not-a-token shapes")
    });
    // Prose (`Authentifizierungs-Modus`, `Confirmació`, Japanese labels): tokens are ASCII.
    if SHAPES.is_match(secret.as_bytes()) || !secret.is_ascii() {
        return true;
    }
    // Hex of a sentence (`6368616e676520…`, "change this …"): text, not key material.
    if secret.len() >= 32 {
        let hex = secret
            .split(|c: char| !c.is_ascii_hexdigit())
            .max_by_key(|run| run.len())
            .unwrap_or_default();
        if hex.len() >= 32 && hex.len() % 2 == 0 {
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
                .collect();
            if bytes.iter().all(|b| (0x20..0x7f).contains(b))
                && bytes.iter().filter(|&&b| b == b' ').count() >= 2
            {
                return true;
            }
        }
    }
    // A dotted name (`log4j.configDebug`, `org.apache.logging`, `auth_tests.CustomUser`): every
    // part an identifier made of words. Dotted tokens (`dp.scim.…`, `hawk.….…`, Kubernetes'
    // `abcdef.0123456789abcdef`) have a random part.
    let (stem, extension) = secret.rsplit_once('.').unwrap_or((secret, ""));
    // A file name: a common extension after a name (`jwk_ec_key_secp256k1.json`, `server.key`).
    const EXTENSIONS: &[&str] = &[
        "json",
        "yml",
        "yaml",
        "txt",
        "md",
        "xml",
        "html",
        "js",
        "ts",
        "py",
        "rb",
        "go",
        "java",
        "enc",
        "key",
        "pem",
        "crt",
        "cer",
        "p12",
        "pfx",
        "jks",
        "war",
        "jar",
        "zip",
        "gz",
        "tar",
        "png",
        "jpg",
        "gif",
        "svg",
        "mp4",
        "m2ts",
        "csv",
        "log",
        "conf",
        "cfg",
        "ini",
        "toml",
        "sh",
        "ps1",
        "dmg",
        "exe",
        "dll",
        "so",
        "db",
        "sqlite",
        "env",
        "properties",
        "lock",
    ];
    let file_name = EXTENSIONS.contains(&extension)
        && !stem.is_empty()
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'));
    // (`#` and `:` join names too — `smithy.api#noAuth`, `build-arg:BUILDKIT_SYNTAX` — but
    // also the words of a hand-made password: `Acme#Prod77`.)
    let separators: &[char] = if password_name(name) {
        &['.']
    } else {
        &['.', '#', ':']
    };
    if file_name || secret.contains(separators) && secret.split(separators).all(identifier_of_words)
    {
        return true;
    }
    // An option (`StrictHostKeyChecking=no`, `zlib-level=9`): a name of words, a short value.
    if let Some((option, setting)) = secret.split_once('=') {
        if !option.is_empty()
            && option.split(['.', '-', '_']).all(identifier_of_words)
            && setting.len() <= 12
            && setting
                .split(['.', '-', '_'])
                .all(|p| identifier_of_words(p) || p.bytes().all(|b| b.is_ascii_digit()))
        {
            return true;
        }
    }
    // A list (`sigv4,httpBearerAuth`, `bytes,1,opt,name=key`): parts of word characters
    // between commas, one of them a word. (A generated password may hold a comma among other
    // symbols; a list holds none of those.)
    if secret.contains(',')
        && secret.split(',').all(|p| {
            p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.:=/ -".contains(c))
        })
        && secret
            .split(|c: char| !c.is_ascii_alphabetic())
            .any(|w| w.len() >= 3)
    {
        return true;
    }
    // A path of words: two or more `/`-separated parts that are words (`Asia/Kathmandu`,
    // `access_key/20110909/us-west-2/ec2/aws4_request`), where base64 has random parts.
    let wordy = |p: &str| {
        p.len() >= 3
            && p.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && (p[1..]
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
                || p.chars().all(|c| c.is_ascii_uppercase()))
            && p.chars().filter(|c| c.is_ascii_digit()).count() <= 2
    };
    if secret.starts_with("./")
        || secret.starts_with("../")
        || secret.contains('/') && secret.split(['/', ':']).filter(|p| wordy(p)).count() >= 2
    {
        return true;
    }
    // Made from its own name: the name's last part (`fooToken` of `c.fooToken`), squeezed.
    let squeeze = |s: &str| {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let name = String::from_utf8_lossy(name);
    let last = squeeze(name.rsplit(['.', ':', '>', '[']).next().unwrap_or_default());
    if last.len() >= 5 && squeeze(secret).contains(&last) {
        return true;
    }
    if names_itself(secret) {
        return true;
    }
    camel_case_identifier(secret)
}

/// Letters that read as a word: a vowel, and no more than four consonants in a row (`Strict`,
/// `TIMEOUT`, `tmpdir`), where random letters (`MRTJJPU`, `pdcmdylrn`) run longer.
fn wordlike(letters: &str) -> bool {
    let vowel = |c: char| "aeiouyAEIOUY".contains(c);
    let mut run = 0;
    let mut longest = 0;
    for c in letters.chars() {
        run = if vowel(c) { 0 } else { run + 1 };
        longest = longest.max(run);
    }
    letters.chars().any(vowel) && longest <= 4
}

/// `configDebug`, `CustomUserWithM2M`, `log4j2`, `KEY_STOP_TIMEOUT`, `_internal`: parts split at
/// `_`, `-` and lower-to-upper case changes, each a word (a vowel in four letters or more) with
/// at most two digits, or an acronym.
fn identifier_of_words(segment: &str) -> bool {
    if segment.is_empty()
        || !segment
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        || !segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '-'))
    {
        return false;
    }
    let parts: Vec<&str> = segment
        .split(['_', '-', '$'])
        .flat_map(camel_parts)
        .collect();
    // A word of three letters or more somewhere (`Rk9v`, `t7Q4kLm2` split into letters and
    // digits only), and few digits in all.
    let has_word = parts.iter().any(|p| {
        let letters: String = p.chars().filter(char::is_ascii_alphabetic).collect();
        letters.len() >= 3 && wordlike(&letters)
    });
    let few_digits = segment.chars().filter(char::is_ascii_digit).count() <= 3;
    (segment.chars().filter(char::is_ascii_alphabetic).count() < 3 || has_word && few_digits)
        && parts.iter().filter(|p| !p.is_empty()).all(|p| {
            let digits = p.chars().filter(char::is_ascii_digit).count();
            let letters: String = p.chars().filter(char::is_ascii_alphabetic).collect();
            let acronym = letters.len() <= 5 && letters.chars().all(|c| c.is_ascii_uppercase());
            let word = letters.chars().skip(1).all(|c| c.is_ascii_lowercase())
                || letters.chars().all(|c| c.is_ascii_uppercase());
            digits <= 3 && (acronym || word && (letters.len() < 4 || wordlike(&letters)))
        })
}

/// `%XX` sequences decoded (URL userinfo); anything else kept as it is.
fn percent_decoded(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A word for a secret in a short value (`MySekretPa$$word`, `secretpassword`, `newpass123`):
/// what people type into examples; a generator does not spell words.
fn names_itself(secret: &str) -> bool {
    let lower = secret.to_ascii_lowercase();
    lower.contains("password")
        || secret.len() < 24
            && ["pass", "secret", "sekret", "token", "pwd", "example"]
                .iter()
                .any(|w| lower.contains(w))
}

/// `configDebug` → `config`, `Debug`; `SigV4Query` → `Sig`, `V4`, `Query`: split where an
/// upper-case letter follows a lower-case letter or a digit. (`""` is one empty part.)
fn camel_parts(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut previous: Option<char> = None;
    for (i, c) in s.char_indices() {
        if c.is_ascii_uppercase()
            && previous.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
        {
            parts.push(&s[start..i]);
            start = i;
        }
        previous = Some(c);
    }
    parts.push(&s[start..]);
    parts
}

/// `PublicIpv4Pools`, `ServerlessV2PlatformVersions`: every part a Capitalised word of two or
/// more letters with a vowel (an optional short number after it), three parts or more. Random
/// base62 splits into short parts with many lone capitals.
fn camel_case_identifier(s: &str) -> bool {
    if !s.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    let parts = camel_parts(s);
    let word = |p: &&str| {
        let letters: String = p.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
        let digits = p.len() - letters.len();
        letters.len() >= 2
            && digits <= 2
            && p[letters.len()..].chars().all(|c| c.is_ascii_digit())
            && letters
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase())
            && letters.chars().skip(1).all(|c| c.is_ascii_lowercase())
            && letters.chars().any(|c| "aeiouyAEIOUY".contains(c))
    };
    // camelCase: the first part may be a lower-case word (`attributeWithEmptyElementKey`).
    let lower_word = |p: &&str| {
        p.len() >= 2
            && p.chars().all(|c| c.is_ascii_lowercase())
            && p.chars().any(|c| "aeiouy".contains(c))
    };
    parts.len() >= 3
        && parts
            .iter()
            .enumerate()
            .all(|(i, p)| word(p) || i == 0 && lower_word(p))
}

/// Names that contain a secret-like word without naming a secret: `author`, `bypass`,
/// `tokenizer`, database and cache keys, and the bare `key`/`pass`/`auth` of maps and query strings.
fn not_a_secret_name(name: &[u8]) -> bool {
    static NOT_SECRET: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)csrf|xsrf|author|keyboard|monkey|turkey|donkey|hockey|whiskey|jockey|passenger|compass|bypass|passive|passthrough|passport|keyword|keyframe|keycode|keystroke|keypress|keyup|keydown|keychain|keymap|keyspace|keyring|tokeniz|surpass|primary[_.-]?key|foreign[_.-]?key|sort[_.-]?key|cache[_.-]?key|partition[_.-]?key|hash[_.-]?key|range[_.-]?key|idempotency[_.-]?key|lookup[_.-]?key|i18n|translation|pub[_.-]?key|rekey|hash|digest|checksum|fingerprint|sha[0-9]*$|md5|integrity|(?:next|page|continuation|change|sync|resume|lifecycle[_.-]?action|client[_.-]?request|client|verification)[_.-]?token$|password[_.-]?data|(?:output|input)[_.-]?token|(?:type|method|mode|scheme|kind|format|provider|strategy|flow|status|state|level|enabled|required|field|name|label|prefix|suffix|policy|source)$|^(?:label|field|notice|text|button|error|msg|title|caption|hint|placeholder|tooltip|setting)[_.-]|passthru|pass(?:ed|es|ing)\b|cached?[_.-][a-z_.-]*key$|gpg[_.-]?key|pgp[_.-]?key|key[_.-]?(?:name|len|length|size|type|algorithm|alg|formats?|class(?:es)?|cipher|usage|spec|syntax|attributes|path|file|prefix|suffix|label|ref|arn|uri|url|version|stream|pattern|field|column|header)s?[0-9]*$|(?:s3|object|map|row|dict|sort|group|cache|lookup|table|column)[_.-]?key|result[_.-]?key|encrypted|obscured|ciphertext|env[_.-]?var|keyfactory|keygenerator|keypairgenerator|keyagreement|alg\.alias|^[_.-]*(?:pass|auth|keys|key[0-9]+)[0-9]*[_.-]*$")
            .expect("not-secret name regex")
    });
    NOT_SECRET.is_match(name)
}

fn password_name(name: &[u8]) -> bool {
    static PASSWORD: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)pass|pwd").expect("password name regex"));
    PASSWORD.is_match(name)
}

/// Names that hold a credential whatever its shape (`HEROKU_API_KEY`, `authToken`).
fn strong_secret_name(name: &[u8]) -> bool {
    static STRONG: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)token|secret|password|passwd|api[_.-]?key|access[_.-]?key|auth|private")
            .expect("strong name regex")
    });
    STRONG.is_match(name) && !public_name(name)
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.matches('-').count() == 4
        && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// The line above and the line below the secret's are base64 (forty characters or more, nothing
/// else): the secret sits inside an encoded blob (an image in a document, a key in a test).
fn inside_base64_block(text: &[u8], range: &Range<usize>) -> bool {
    let line_start = memchr::memrchr(b'\n', &text[..range.start]).map_or(0, |i| i + 1);
    let line_end = memchr::memchr(b'\n', &text[range.end..]).map_or(text.len(), |i| range.end + i);
    let base64_line = |line: &[u8]| {
        let line = line.trim_ascii();
        line.len() >= 40
            && line
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    };
    let above = line_start.checked_sub(1).map(|end| {
        let start = memchr::memrchr(b'\n', &text[..end]).map_or(0, |i| i + 1);
        &text[start..end]
    });
    let below = (line_end < text.len()).then(|| {
        let start = line_end + 1;
        let end = memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |i| start + i);
        &text[start..end]
    });
    above.is_some_and(base64_line) && below.is_some_and(base64_line)
}

/// The whitespace- and quote-delimited token around a secret: `secret:prod/db` sits inside an
/// ARN, `api-key` inside a secret-manager path.
fn surrounding_token(text: &[u8], range: &Range<usize>) -> String {
    let stop = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'\'' | b'`' | b'=');
    let start = text[..range.start]
        .iter()
        .rposition(stop)
        .map_or(0, |i| i + 1);
    let end = text[range.end..]
        .iter()
        .position(stop)
        .map_or(text.len(), |i| range.end + i);
    String::from_utf8_lossy(&text[start..end]).into_owned()
}

fn confirm(det: &'static Detector, text: &[u8], range: Range<usize>, name: &[u8]) -> Option<Hit> {
    let secret = std::str::from_utf8(&text[range.clone()]).ok()?;
    if is_reference(secret) {
        return None;
    }
    let format = det.format.or_else(|| Catalog::builtin().get("secret"));
    if catalog::is_placeholder(secret, format).is_some() {
        return None;
    }
    if det.format.is_none() && Catalog::builtin().is_documented_sample_anywhere(secret) {
        return None;
    }
    if det.context && (is_reference(&surrounding_token(text, &range)) || looks_encrypted(secret)) {
        return None;
    }
    // Twitter's bearer tokens open with 21 `A`s and Square's with `EAAA`: so does base64 of
    // zero bytes, line after line of an image or a key inside a document. A token between two
    // lines of base64 is part of such a blob; a Square token is no run of `A`s or hex.
    if matches!(det.id, "twitter-bearer-token" | "square-token")
        && inside_base64_block(text, &range)
    {
        return None;
    }
    if det.id == "square-token"
        && secret.starts_with("EAAA")
        && (secret[4..].contains("AAAA") || secret.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return None;
    }
    // A provider's name inside a type or class name (`LaunchTemplateElasticInference…`) beside
    // another such name: identifiers, not a token.
    if det.context && camel_case_identifier(secret) {
        return None;
    }
    // `Bearer eW91J3Jl…`: base64 of a sentence ("you're not supposed to decode this!") is a
    // test's stand-in; an opaque token does not decode to words and spaces.
    if det.id == "authorization-bearer"
        && decoded_base64_text(secret).is_some_and(|text| text.matches(' ').count() >= 3)
    {
        return None;
    }
    // Base36 identity tokens and hex checksums share a length: a checksum has no letter past `f`.
    if det.id == "jfrog-identity-token" && secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    // The body is read from the text, not the match: an encrypted key's `Proc-Type:` header
    // ends the pattern's match before its base64.
    let pem_from_here = || {
        let end = (range.start + MULTILINE_WINDOW).min(text.len());
        String::from_utf8_lossy(&text[range.start..end]).into_owned()
    };
    if det.id == "private-key"
        && (secret.contains("YOUR") || {
            let pem = pem_from_here();
            pem_body_len(&pem) < 64 || pem_truncated(&pem)
        })
    {
        return None; // a placeholder, or a header and footer around a word: no key material
    }
    // A long run of one character (`aaaaaaaaaaaa`, `0000000000`) is a filler in a sample, not
    // a random token (a random 40-character token holds such a run with odds below 1e-8).
    // Runs of `A` are exempt: base64 writes zero bytes as `A`, and key material and some tokens
    // (Twitter's bearer tokens, DER) carry them by structure.
    if !det.multiline && !det.id.contains("private-key") && longest_run(secret) >= 8 {
        return None;
    }
    // Likewise a short pattern repeated (`123123123123`, `abababab…`) over a good part of the
    // value: typed to fill a length. (Long key material may hold such a stretch by structure:
    // base64 of base64 of zero bytes is `QUFBQUFB…`.)
    let periodic = longest_periodic_run(secret);
    if !det.multiline && periodic >= 12 && periodic * 3 >= secret.len() {
        return None;
    }
    if matches!(det.id, "authorization-basic" | "docker-config-auth") && !basic_credentials(secret)
    {
        return None;
    }
    // `http://mary:MySecret@…`, `redis://:secretpass@…`: a password that says it is one, typed
    // for an example or a test (also percent-encoded: `my%20pass`).
    if matches!(
        det.id,
        "url-credentials" | "connection-string-password" | "netrc-password"
    ) && (names_itself(secret) || names_itself(&percent_decoded(secret)))
    {
        return None;
    }
    if text.get(range.end) == Some(&b'@') {
        if documentation_host(&text[range.end + 1..]) {
            return None; // `ftp://user:secret1@example.com`: a documentation URL
        }
        // `guest:guest`: a default login, not a leaked secret.
        let user_start = text[..range.start.saturating_sub(1)]
            .iter()
            .rposition(|&c| c == b'/')
            .map_or(0, |i| i + 1);
        if text[user_start..range.start.saturating_sub(1)] == text[range.clone()] {
            return None;
        }
    }
    // A JWT's claims say what it is: Supabase's `anon` key is meant for browsers and its
    // `supabase-demo` keys are the local-development samples; a `service_role` key bypasses
    // row-level security and is as critical as any API key. Other JWTs stay warnings (often
    // short-lived or test tokens).
    let is_jwt_detector = det.format.is_some_and(|f| f.id == "jwt");
    if !is_jwt_detector && secret.starts_with("eyJ") && secret.matches('.').count() == 2 {
        return None; // a JWT is the `jwt` detector's to judge (it may be a public anon key)
    }
    let mut jwt_severity = None;
    if is_jwt_detector {
        // The header must be a JOSE header (JSON naming its `alg`): a truncated or made-up
        // `eyJ…` string is no token. Claims that decode are judged; a payload that is not JSON
        // claims (RFC 7515 allows any) is still a signed token.
        if !catalog::jwt_header_is_valid(secret) {
            return None;
        }
        if let Some(claims) = catalog::jwt_claims(secret) {
            let claim = |k: &str| claims.get(k).and_then(|v| v.as_str()).unwrap_or_default();
            if claim("role") == "anon" || claim("iss") == "supabase-demo" {
                return None;
            }
            if claim("role") == "service_role" {
                jwt_severity = Some(Severity::Critical);
            }
        }
    }
    if det.generic {
        // A value carrying a specific detector's keyword is that detector's to judge (it may
        // have rejected it as a documented sample or an incomplete token).
        let detectors = Detectors::builtin();
        // Short keywords count near the start only (`sk_test_…` holds `k_test_` at 1): a
        // random token may hold `xox` or `hf_` by chance.
        // A prefix that is only a word for a secret (Notion's `secret_`) identifies no provider
        // inside a value (`dd_secret_key-…`).
        let carries = |k: &str| {
            let word = matches!(
                k.trim_matches(['_', '-', ':'])
                    .to_ascii_lowercase()
                    .as_str(),
                "secret" | "token" | "key" | "pass" | "password" | "api"
            );
            secret
                .match_indices(k)
                .any(|(i, _)| i <= 2 && (i == 0 || !word) || k.len() >= 6 && !word)
        };
        if detectors
            .list
            .iter()
            .any(|d| !d.generic && !d.context && d.keywords.iter().any(|k| carries(k)))
        {
            return None;
        }
        // A bare `key` (maps, query strings, object and cache keys, XML attributes) counts only
        // for a quoted value that looks generated: sixteen characters or more, letters and
        // digits, no separators of paths and names (`bean:name=x`, `posts/1-view`, `a.m2ts`).
        let bare_key = name.eq_ignore_ascii_case(b"key")
            && (!matches!(
                text.get(range.start.wrapping_sub(1)),
                Some(b'"' | b'\'' | b'`')
            ) || secret.len() < 16
                || secret
                    .trim_start_matches("base64:")
                    .trim_end_matches('=')
                    .contains([':', '.', '=', '#'])
                || secret.contains('/')
                    && secret
                        .split('/')
                        .any(|p| p.len() >= 4 && p.bytes().all(|b| b.is_ascii_lowercase()))
                || !secret.bytes().any(|b| b.is_ascii_digit()));
        if public_name(name)
            || bare_key
            || not_a_secret_name(name)
            || is_reference(&surrounding_token(text, &range))
            || looks_encrypted(secret)
            || Catalog::builtin().is_client_safe_value(secret)
            || concatenated(text, &range)
            || code_or_text_not_token(secret, name)
        {
            return None;
        }
        // Kubernetes `data:` values are base64: `cGFzc3dvcmQ=` is the filler `password`.
        // Base64 of a typed example (`a secret`, `the-key`) likewise.
        if let Some(decoded) = decoded_base64_text(secret) {
            if catalog::is_placeholder(&decoded, Catalog::builtin().get("secret")).is_some()
                || names_itself(&decoded)
                || decoded.len() <= 16
                    && decoded
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'-' || b == b' ')
            {
                return None;
            }
        }
        // Passwords are often short; other secrets are not.
        if secret.len() < 12 && !password_name(name) {
            return None;
        }
        // A UUID is an identifier unless the name says it authenticates (Heroku and Postmark
        // API keys are UUIDs; `request_id` and `secretId` are not secrets).
        if is_uuid(secret) && !strong_secret_name(name) {
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
        // Code, not secrets: type names and identifiers (`credentials: ProductionCredentials`,
        // `"mset_ex_key1"`, `"Win32_Security_Credentials"`): no digits, or two or more words
        // that are each a lower-case, Capitalised or UPPER-case word with an optional counter.
        static WORD: LazyLock<regex::Regex> = LazyLock::new(|| {
            regex::Regex::new(r"^(?:[A-Z]?[a-z]{1,12}|[A-Z]{1,12})[0-9]*$").expect("word regex")
        });
        let words: Vec<&str> = secret.split(['_', '-', '.']).collect();
        let identifier = (!secret.chars().any(|c| c.is_ascii_digit())
            && secret
                .chars()
                .all(|c| c.is_ascii_alphabetic() || c == '_' || c == '.'))
            || (words.len() >= 2 && words.iter().all(|w| WORD.is_match(w)))
            // `fake_api_key_12345`: two or more words and a counter.
            || (words.iter().filter(|w| WORD.is_match(w)).count() >= 2
                && words
                    .iter()
                    .all(|w| WORD.is_match(w) || w.bytes().all(|b| b.is_ascii_digit())));
        // A hand-made password (`Tr0ub4dor&3`: every character class, a symbol) assigned to a
        // password name is a password, though its letters repeat too much for the entropy bar.
        let lower_name = String::from_utf8_lossy(name).to_ascii_lowercase();
        let hand_made_password = (lower_name.contains("pass") || lower_name.contains("pwd"))
            && secret.len() >= 8
            && classes == 3
            && secret.chars().any(|c| c.is_ascii_punctuation())
            && entropy_per_char(secret) >= 2.5;
        // `if password == "team10"`: a login checked against a literal is a hard-coded
        // credential (CWE-798) however weak; six characters or more, letters and digits.
        let compared_password = password_name(name)
            && secret.len() >= 6
            && classes >= 2
            && text[..range.start]
                .iter()
                .rev()
                .skip_while(|&&b| matches!(b, b'"' | b'\'' | b'`' | b' ' | b'\t'))
                .take(2)
                .all(|&b| b == b'=');
        // Passwords may be made of words (`SummerVacation2024`); keys and tokens are not.
        let compound = word_compound(secret) && !password_name(name);
        // Six characters pass the pattern for a compared password only; eight otherwise.
        if secret.len() < 8 && !compared_password
            || identifier
            || compound
            || (entropy_per_char(secret) < min && !hand_made_password && !compared_password)
            || classes < 2
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
        jwt_severity.unwrap_or(det.severity)
    };
    let (confidence, why) = judge(det, secret, name);
    Some(Hit {
        detector: det,
        secret: range,
        severity,
        mode,
        confidence,
        why,
    })
}

/// How sure a detector is, and why it fired: a provider format's own structure (a unique prefix,
/// a checksum that holds) is `high`; a provider's shape found beside its name is `medium`; a
/// generic secret-like name with a random-looking value is `low`, as is a token whose checksum
/// does not hold (made up by hand, or altered).
fn judge(det: &Detector, secret: &str, name: &[u8]) -> (Confidence, String) {
    let name = String::from_utf8_lossy(name);
    if det.generic {
        return (
            Confidence::Low,
            format!(
                "generic: a value of {} characters, {:.1} bits of entropy per character, assigned to `{name}`",
                secret.chars().count(),
                entropy_per_char(secret)
            ),
        );
    }
    if det.context {
        let keyword = det.keywords.first().map(String::as_str).unwrap_or_default();
        return (
            Confidence::Medium,
            format!(
                "context: the provider's name ({keyword}{}) beside a value of its shape",
                if name.is_empty() {
                    String::new()
                } else {
                    format!(", in `{name}`")
                }
            ),
        );
    }
    match det.checksum.as_deref().map(|kind| (kind, checksum_holds(kind, secret))) {
        Some((kind, Some(true))) => (
            Confidence::High,
            format!("the provider's token format with its {kind} checksum, which holds"),
        ),
        Some((kind, Some(false))) => (
            Confidence::Low,
            format!(
                "the provider's token format, but its {kind} checksum does not hold: made up or altered"
            ),
        ),
        _ => (
            Confidence::High,
            "the provider's token format (its prefix and structure)".to_owned(),
        ),
    }
}

/// Whether a token's built-in checksum holds; `None` when the token has no checksum of that
/// kind (a legacy format of the same provider).
pub fn checksum_holds(kind: &str, token: &str) -> Option<bool> {
    match kind {
        // GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) and npm (`npm_`): a four-character
        // prefix, 30 random base62 characters, and the CRC32 of those 30 in six base62
        // characters (github.blog, 2021-04-05 and 2021-09-23).
        "github-crc32" => {
            let bytes = token.as_bytes();
            if bytes.len() != 40 || bytes[3] != b'_' {
                return None;
            }
            let (random, check) = (&bytes[4..34], &token[34..]);
            Some(base62_decode(check) == Some(u64::from(crc32fast::hash(random))))
        }
        _ => None,
    }
}

/// Base62 with the digits, then upper-case, then lower-case letters (GitHub's alphabet).
fn base62_decode(text: &str) -> Option<u64> {
    text.bytes().try_fold(0u64, |acc, b| {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'A'..=b'Z' => b - b'A' + 10,
            b'a'..=b'z' => b - b'a' + 36,
            _ => return None,
        };
        acc.checked_mul(62)?.checked_add(u64::from(digit))
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
                let hits = detectors.scan(p.as_bytes(), Generic::On);
                if !hits.iter().any(|h| h.detector.id == d.id) {
                    failures.push(format!("{}: positive example not found: {p}", d.id));
                }
            }
            for n in &d.examples.negative {
                let hits = detectors.scan(n.as_bytes(), Generic::On);
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
    fn every_pattern_compiles_and_has_its_secret_group() {
        for d in Detectors::builtin().list() {
            let re = Regex::new(&d.pattern.source)
                .unwrap_or_else(|e| panic!("{}: pattern does not compile: {e}", d.id));
            assert!(
                re.capture_names().any(|n| n == Some("s")) || re.captures_len() > 1,
                "{}: no group for the secret",
                d.id
            );
        }
    }

    fn found(text: &str, generic: Generic) -> Vec<&'static str> {
        Detectors::builtin()
            .scan(text.as_bytes(), generic)
            .iter()
            .map(|h| h.detector.id)
            .collect()
    }

    /// Shapes bench/noise found on real code (made-up values of the same shape): none is a
    /// secret, and the same names with a random value still are.
    #[test]
    fn generic_leaves_out_code_lists_names_paths_and_typed_examples() {
        let not_secrets = [
            // concatenation: a prefix, and one half of a split value
            r#"const internalThingKey = "__appThing$" + randomKey;"#,
            r#"String KEY_2 = "c7a1f09e3b5d2c8e" + "4f6a1b0d9e2c7f3a";"#,
            // code after a literal, an empty literal
            r#"s = append(s, "Secret: "+fmt.Sprintf("%#v", this.Secret)+",
")"#,
            r#"childKey=""===nameSoFar?".":nameSoFar+":""#,
            // lists, struct tags, regular expressions, templates
            r#""AUTH_SCHEME_PREFERENCE": "sigv4,httpBearerAuth","#,
            r#"Extra map[string]string `protobuf_key:"bytes,1,opt,name=key,proto3"`"#,
            r##"PARAM_KEY = "[a-zA-Z0-9][a-zA-Z0-9#{Regexp.escape('!#$&-^_.+')}]{0,126}""##,
            r##"config.secret_key = '#{SecureRandom.hex(64)}'"##,
            // dotted names, OIDs, URNs, paths, query strings, URL-encoded text
            r#"private static final String trustStorePassword = "logkit.trustStorePassword";"#,
            r#"provider.addAlgorithm("Alg.Alias.SecretKeyFactory.1.2.840.113549.1.5.12", "PBKDF2");"#,
            r#"AuthClass = botocore_x.auth.SigV4QueryAuth"#,
            r#"_SUBJECT_TOKEN_TYPE = "urn:example:params:oauth:token-type:x509""#,
            r#"expected_credential = 'access_key/20240101/eu-west-3/s3/aws4_request'"#,
            r#"key_name = "dir+a/report?versionTag=b7""#,
            r#""token": "%E2%82%AC%C3%A9t%C3%A9%25x""#,
            // pagination and change tokens, names of environment variables, ciphertext
            r#""NextToken": "Rk9vQmFyUGFnZTJMZXQ4S3E3WnQ="#,
            r#""ChangeToken": "d41f6c2a-5b7e-4c19-8a3d-0e9f2b6c7a15""#,
            r#"rcloneEncryptedClientSecret = "Zt7Q9kLm2xVb8nR4pW6yC1dF3hJ5sA0eU-Gi""#,
            // made from its own name; a typed example
            r#"var accessToken string = "accessToken-4817263950""#,
            r#":password => 'newpass789', :password_confirmation => 'newpass789'"#,
            r#"password: "MySecretPa$$1""#,
            // CamelCase identifiers
            r#""result_key": "ServerlessV3ComputeReservations""#,
            // dates, options, flags, cmdlets, member names, file names, prose, hex of text
            r#""PasswordLastChanged": "2024-03-05T11:22:33Z","#,
            r#"accept_key = "StrictHostKeyChecking=no""#,
            r#"$token_value = Get-ModuleParam -obj $params"#,
            r#"if auth_scheme == 'smithy.api#sigv4Auth':"#,
            r#"token_file = "fixtures/jwk_rsa_key_secp521.json""#,
            r#"label_api_token: "Clé d'accès API""#,
            r#"SERVICE_SECRET: "706c65617365206368616e67652074686973206e6f7721""#,
        ];
        for text in not_secrets {
            let file = if text.starts_with('"') {
                Generic::On
            } else {
                Generic::QuotedOnly
            };
            assert!(found(text, file).is_empty(), "{text}");
        }
        let secrets = [
            r#"const internalApiKey = "q8ZfW3nR7tY2mK9pL4xV6bN1";"#,
            r#""AuthToken": "Rk9v.QmFy9Z2x.t7Q4kLm2xVb8nR4pW6""#,
            r#"SESSION_SECRET = "x]9Lq(2#vR@7tY!m{K4p|zW8,Qa""#,
            // a signing key of any printable characters, quotes of the other kind inside
            r#"  jwt_signing_secret: 'Qv"7}k/Rw)T;m\4]HzPq;_&n>Lx??]B&9Yd=;@'"#,
            // a login checked against a literal, however short
            r#"if user == "ops" and password == "crane7":"#,
            // `dd_secret_key-…`: a word for a secret before the value is no provider's prefix
            r#"const opsAppKey = "ops_secret_key-5f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e";"#,
            // a hand-made password of words joined by `#` is still a password
            r#"DB_ROOT_PASSWORD=Harbor#Gate42"#,
        ];
        for text in secrets {
            assert_eq!(found(text, Generic::On), ["generic-secret"], "{text}");
        }
    }

    #[test]
    fn an_elided_pem_body_is_an_illustration() {
        // `MIIEpA…` opens a 1,188-byte RSA key: sixty-odd characters and a `.` are a docstring's
        // example; the same key written out in full would be reported.
        let elided = ":param private_key: `-----BEGIN RSA PRIVATE KEY----- MIIEpAIBAAKCAQEAPtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA/2O76UMFxFkM/R5Kj. -----END RSA PRIVATE KEY-----`";
        assert!(found(elided, Generic::On).is_empty());
    }

    #[test]
    fn typed_url_and_registry_logins_are_not_secrets() {
        assert!(found("url: http://ann:MySecret9@files.acme.net/x", Generic::On).is_empty());
        // `pat:hello`: a five-letter password
        assert!(found(
            r#"{"auths": {"r.io": {"auth": "cGF0OmhlbGxv"}}}"#,
            Generic::On
        )
        .is_empty());
    }

    #[test]
    fn context_detectors_read_nested_configuration_within_three_lines() {
        let nested =
            "algolia:\n  app_id: PLX7Q2M4ZK\n  admin_key: \"a3f9c2e81b7d4065f1e2d3c4b5a69788\"\n";
        assert_eq!(found(nested, Generic::On), ["algolia-api-key"]);
        let far = "algolia:\n  a: 1\n  b: 2\n  c: 3\n  d: 4\n  hex: \"a3f9c2e81b7d4065f1e2d3c4b5a69788\"\n";
        assert!(!found(far, Generic::On).contains(&"algolia-api-key"));
        // Search-only and identifying names are public even next to the provider's name.
        assert!(found(
            "ALGOLIA_SEARCH_KEY=a3f9c2e81b7d4065f1e2d3c4b5a69788",
            Generic::On
        )
        .is_empty());
        assert!(found(
            "ALGOLIA_APP_ID=a3f9c2e81b7d4065f1e2d3c4b5a69788",
            Generic::On
        )
        .is_empty());
    }

    #[test]
    fn in_source_code_the_generic_detector_takes_quoted_values_and_bare_constants() {
        let typed = "pub const IFLA_INET6_TOKEN: _bindgen_ty_5 = _bindgen_ty_5::IFLA_INET6_TOKEN;";
        assert!(found(typed, Generic::QuotedOnly).is_empty());
        let field = "private_key_ops: &PrivateKeyOps,";
        assert!(found(field, Generic::QuotedOnly).is_empty());
        let literal = "let api_token = \"q8ZfW3nR7tY2mK9pL4xV6bN1\";";
        assert_eq!(found(literal, Generic::QuotedOnly), ["generic-secret"]);
        // Unquoted, an expression is code; a line that is only `name = TOKEN` is a constant.
        for code in [
            "token = self.token_value",
            "password = hashlib.sha256(raw_password1234)",
            "api_key = settings.get(\"API_KEY\")",
            "key = cache_key_v2 + suffix1234567890",
            "headers[\"X-Api-Key\"] = Q8ZfW3nR7tY2mK9pL4xV6bN1",
        ] {
            assert!(found(code, Generic::QuotedOnly).is_empty(), "{code}");
        }
        assert_eq!(
            found("token = Q8ZfW3nR7tY2mK9pL4xV6bN1", Generic::QuotedOnly),
            ["generic-secret"]
        );
        assert_eq!(
            found(
                "    billing_api_key = Zt5Kq9vM2xR7wL3pN8b  # prod",
                Generic::QuotedOnly
            ),
            ["generic-secret"]
        );
        assert!(found("token = Q8ZfW3nR7tY", Generic::QuotedOnly).is_empty());
        assert_eq!(
            found("token = Q8ZfW3nR7tY2mK9pL4xV6bN1", Generic::On),
            ["generic-secret"]
        );
        assert!(found("password: \"Kx7mQ2vLp9wR4tY8\"", Generic::Off).is_empty());
    }

    /// A token of the GitHub/npm layout with a correct checksum, from 30 random characters.
    fn with_checksum(prefix: &str, random: &str) -> String {
        let mut n = crc32fast::hash(random.as_bytes());
        let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut digits = [b'0'; 6];
        for d in digits.iter_mut().rev() {
            *d = alphabet[(n % 62) as usize];
            n /= 62;
        }
        format!("{prefix}{random}{}", std::str::from_utf8(&digits).unwrap())
    }

    #[test]
    fn checksums_raise_or_lower_confidence() {
        let good = with_checksum("ghp_", "Rq8mZ4vX7tN1pL9wK2bY6cJ3hD5fG0");
        assert_eq!(checksum_holds("github-crc32", &good), Some(true));
        let mut bad = good.clone().into_bytes();
        bad[10] = if bad[10] == b'a' { b'b' } else { b'a' };
        let bad = String::from_utf8(bad).unwrap();
        assert_eq!(checksum_holds("github-crc32", &bad), Some(false));
        assert_eq!(checksum_holds("github-crc32", "github_pat_x"), None);
        let npm = with_checksum("npm_", "Zt5Kq9vM2xR7wL3pN8bQ4cH6jF1gD0");
        assert_eq!(checksum_holds("github-crc32", &npm), Some(true));

        let confidence = |line: &str| {
            Detectors::builtin()
                .scan(line.as_bytes(), Generic::On)
                .into_iter()
                .map(|h| (h.detector.id, h.confidence))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            confidence(&format!("GITHUB_TOKEN={good}")),
            [("github-token", Confidence::High)]
        );
        assert_eq!(
            confidence(&format!("GITHUB_TOKEN={bad}")),
            [("github-token", Confidence::Low)]
        );
        assert_eq!(
            confidence("WEBHOOK_SIGNING_KEY=a3f9c2e81b7d4065f1e2d3c4b5a69788"),
            [("generic-secret", Confidence::Low)]
        );
    }

    #[test]
    fn fillers_compounds_and_empty_keys_are_not_secrets() {
        assert_eq!(longest_periodic_run("tok_9f4e2a7878787878787878"), 16);
        assert_eq!(longest_periodic_run("Kx7mQ2vLp9wR4tY8"), 0);
        assert_eq!(longest_periodic_run("AAAAAAAAAAAAAAAA"), 0);
        assert!(word_compound("P256.SharedSecretAgreement"));
        assert!(word_compound("OID_id_Streebog512_33_Null_KeyWrapping"));
        assert!(word_compound("OrderTotals-2.4"));
        assert!(!word_compound("Kx7mQ2vLp9wR4tY8"));
        assert!(!word_compound("tGTBROJg6UEtgFA9H-rqLaciRBFGtEIjERQ"));
        assert!(found("signing_key = \"Rsa4096.SigningKeyPair\"", Generic::On).is_empty());
        assert_eq!(
            found("db_password = \"SummerVacation2024x\"", Generic::On),
            ["generic-secret"]
        );
        assert!(found(
            "csrf_token = \"Vb8nW2qLx5Tz9Rk3Hm7Jc4Pd6Fs1Ga0Ye\"",
            Generic::On
        )
        .is_empty());
        assert_eq!(
            pem_body_len("-----BEGIN PRIVATE KEY-----\nanything\n-----END PRIVATE KEY-----"),
            8
        );
    }

    #[test]
    fn search_keys_are_public_for_algolia_not_for_azure() {
        assert!(public_name(b"ALGOLIA_SEARCH_KEY"));
        assert!(public_name(b"searchApiKey"));
        assert!(!public_name(b"AZURE_SEARCH_KEY"));
        assert!(!public_name(b"search_admin_key"));
        assert!(public_name(b"azure_search_public_key"));
    }

    #[test]
    fn placeholder_words_must_be_written_in_one_case() {
        // Random tokens may hold `xXx` or `tBD`; a placeholder writes `xxx`, `XXX`, `TBD`.
        assert_eq!(
            found("ghp_ONG5HLDFIBp7D547oMnxXX9BVF2hwinQxLCB", Generic::On),
            ["github-token"]
        );
        assert_eq!(
            found(
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET=ebW8tBD76QmJ34FAhsxHdjwy9y99pU",
                Generic::On
            ),
            ["alibaba-secret"]
        );
        assert!(found("ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", Generic::On).is_empty());
        assert!(found("API_TOKEN=TBD", Generic::On).is_empty());
    }

    #[test]
    fn documentation_hosts_and_default_logins_are_not_leaks() {
        assert!(found("ftp://rms:Kx7mQ2vLp9wR@example.com/pub", Generic::On).is_empty());
        assert!(found("amqp://guest:guest@rabbit.internal/", Generic::On).is_empty());
        assert!(found(
            "https://Aladdin:opensesame@proxy.internal:8887",
            Generic::On
        )
        .is_empty());
        assert_eq!(
            found(
                "https://deploy:Kx7mQ2vLp9wR4tY8@nexus.internal/",
                Generic::On
            ),
            ["url-credentials"]
        );
    }

    #[test]
    fn a_basic_header_counts_when_it_decodes_to_a_real_password() {
        use base64::Engine;
        let encode = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let real = format!("Authorization: Basic {}", encode("svc:Kx7mQ2vLp9wR4tY8"));
        assert_eq!(found(&real, Generic::On), ["authorization-basic"]);
        let filler = format!("Authorization: Basic {}", encode("user:password"));
        assert!(found(&filler, Generic::On).is_empty());
        assert!(found("Authorization: Basic bm90LWEtcGFpcg==", Generic::On).is_empty());
    }

    proptest::proptest! {
        /// Any high-entropy token assigned to a name that says it is a credential is reported,
        /// in every common assignment syntax.
        #[test]
        fn strong_random_tokens_under_secret_names_are_found(
            token in "[A-Za-z0-9]{24,48}",
            syntax in 0usize..5,
        ) {
            proptest::prop_assume!(token.chars().any(|c| c.is_ascii_digit()));
            proptest::prop_assume!(token.chars().any(|c| c.is_ascii_lowercase()));
            proptest::prop_assume!(token.chars().any(|c| c.is_ascii_uppercase()));
            proptest::prop_assume!(entropy_per_char(&token) >= 3.0);
            let line = match syntax {
                0 => format!("SERVICE_API_TOKEN={token}"),
                1 => format!("service_api_token: \"{token}\""),
                2 => format!("\"serviceApiToken\": \"{token}\","),
                3 => format!("export SERVICE_SECRET='{token}'"),
                _ => format!("<serviceSecret>{token}</serviceSecret>"),
            };
            let hits = Detectors::builtin().scan(line.as_bytes(), Generic::On);
            proptest::prop_assert!(
                hits.iter().any(|h| line[h.secret.clone()] == *token),
                "not found: {line}"
            );
        }

        /// Identifiers made of words are never reported, whatever their name.
        #[test]
        fn word_identifiers_are_not_secrets(
            words in proptest::collection::vec("[a-z]{2,10}[0-9]{0,2}", 2..5),
            upper in proptest::bool::ANY,
        ) {
            let mut value = words.join("_");
            if upper {
                value = value.to_ascii_uppercase();
            }
            let line = format!("api_token = \"{value}\"");
            let hits = Detectors::builtin().scan(line.as_bytes(), Generic::On);
            proptest::prop_assert!(hits.is_empty(), "reported: {line}");
        }
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
