//! The `.env` dialect: node's `dotenv` parser, byte for byte, with positions.
//!
//! Vite, Next.js, Nuxt, Wrangler and most of the stacks in the seed documents read `.env` files
//! with node's `dotenv` (and `dotenv-expand` for interpolation, see [`super::expand`]). greenlight
//! therefore reads a file exactly as that parser does, so that what `check` validates is what the
//! application really receives. The parser is dotenv's own line regex, translated to the `regex`
//! crate: its leftmost-first semantics give the same matches as JavaScript's backtracking engine
//! for a pattern without back-references. Two JavaScript details are spelled out explicitly:
//! `\s` (which in JavaScript includes U+FEFF, so a stray BOM is skipped as white space) and `\w`
//! (ASCII only).
//!
//! On top of dotenv's result this module keeps what dotenv throws away, because findings must
//! point at a file, line and column: the span of every key and value, lines dotenv silently
//! ignores ([`SyntaxIssueKind::Malformed`]) and lines that python-dotenv, dotenvy or dotenvx would
//! read differently ([`SyntaxIssueKind::Ambiguous`]). The choices on each point where the
//! implementations disagree are documented in `docs/dotenv-dialect.md`.
//!
//! Nothing here executes anything: `$(command)` is never evaluated.

use std::ops::Range;
use std::sync::LazyLock;

use regex::bytes::Regex;

/// JavaScript's `\s` (WhiteSpace and LineTerminator, ECMA-262 §22.2.2.9) as UTF-8 byte sequences.
///
/// The regexes below work on bytes with Unicode classes off (`(?-u)`): a negated class such as
/// `[^']` then compiles to a few states instead of an automaton over every code point, which
/// made each run pay about a millisecond. On valid UTF-8 the matches are the same, since every
/// boundary they can take is an ASCII byte or a whole white-space sequence.
const JS_WS: &str = r"(?:[\t\n\x0B\x0C\r ]|\xC2\xA0|\xE1\x9A\x80|\xE2\x80[\x80-\x8A\xA8\xA9\xAF]|\xE2\x81\x9F|\xE3\x80\x80|\xEF\xBB\xBF)";

/// dotenv's `LINE` regex (lib/main.js), with `\s` and `\w` spelled out as JavaScript reads them.
static LINE: LazyLock<Regex> = LazyLock::new(|| line_regex(JS_WS));

/// The same regex for pure-ASCII text (most `.env` files), where JavaScript's white space is
/// just ASCII white space: a fraction of the compile time.
static LINE_ASCII: LazyLock<Regex> = LazyLock::new(|| line_regex(r"[\t\n\x0B\x0C\r ]"));

fn line_regex(ws: &str) -> Regex {
    // `#.*` in JavaScript stops at \n, \r, U+2028 and U+2029 (E2 80 A8 / E2 80 A9).
    let comment = r"#(?:[^\n\r\xE2]|\xE2(?:[^\x80]|\x80[^\xA8\xA9]))*";
    let pattern = format!(
        r#"(?m-u)^{ws}*(?:export{ws}+)?([A-Za-z0-9_.-]+)(?:{ws}*={ws}*?|:{ws}+?)({ws}*'(?:\\'|[^'])*'|{ws}*"(?:\\"|[^"])*"|{ws}*`(?:\\`|[^`])*`|[^#\r\n]+)?{ws}*(?:{comment})?$"#
    );
    Regex::new(&pattern).expect("dotenv LINE regex compiles")
}

/// dotenv's quote stripper `/^(['"`])([\s\S]*)\1$/mg` without the back-reference: one alternative
/// per quote character, which matches the same text because the first character decides.
static SURROUNDING_QUOTES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?ms-u)^(?:'(.*)'|"(.*)"|`(.*)`)$"#).expect("quote regex compiles")
});

static BARE_KEY_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[ \t]*(?:export[ \t]+)?[A-Za-z0-9_.-]+[ \t]*$").expect("bare key regex compiles")
});

/// One `KEY=value` assignment as dotenv reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    /// The value after dotenv's trimming, quote removal and `\n`/`\r` expansion (no interpolation).
    pub value: String,
    /// The quote character that surrounded the value, if dotenv removed one.
    pub quote: Option<char>,
    /// Byte range of the key in the original text.
    pub key_span: Range<usize>,
    /// Byte range of the (trimmed) value in the original text, quotes included.
    pub value_span: Range<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyntaxIssueKind {
    /// A line dotenv ignores without a word: a typo, a missing `=`, a stray character.
    Malformed,
    /// A line the main implementations read differently; the message names which reads what.
    Ambiguous,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxIssue {
    pub kind: SyntaxIssueKind,
    /// Byte range in the original text.
    pub span: Range<usize>,
    pub message: String,
    /// The key the issue is about, when there is one.
    pub key: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedDotenv {
    /// Every assignment in file order, duplicates included (the last one wins, as in dotenv).
    pub entries: Vec<Entry>,
    pub issues: Vec<SyntaxIssue>,
}

impl ParsedDotenv {
    /// The key → value map dotenv would return: last assignment wins, and keys keep the position
    /// of their first assignment (JavaScript object order, array-index keys first).
    pub fn resolved(&self) -> Vec<&Entry> {
        let mut order: Vec<&str> = Vec::new();
        let mut last: std::collections::HashMap<&str, &Entry> = std::collections::HashMap::new();
        for entry in &self.entries {
            if last.insert(entry.key.as_str(), entry).is_none() {
                order.push(entry.key.as_str());
            }
        }
        js_object_key_order(&mut order);
        order.into_iter().map(|k| last[k]).collect()
    }
}

/// JavaScript enumerates integer-like keys ("0", "42") first, in numeric order, then the others in
/// insertion order. dotenv-expand walks keys in that order, so interpolation depends on it.
pub(crate) fn js_object_key_order(keys: &mut [&str]) {
    fn array_index(key: &str) -> Option<u64> {
        if key.is_empty() || (key.len() > 1 && key.starts_with('0')) {
            return None;
        }
        let n: u64 = key.parse().ok()?;
        (n < u32::MAX as u64).then_some(n)
    }
    // A stable sort keeps insertion order among the non-index keys.
    keys.sort_by_key(|k| match array_index(k) {
        Some(n) => (0, n),
        None => (1, 0),
    });
}

/// Maps offsets in the line-ending-normalised text back to the original text. dotenv replaces
/// `\r\n` and lone `\r` with `\n` before matching; only `\r\n` changes lengths.
struct OffsetMap {
    /// Normalised offsets at which a `\r` of a `\r\n` pair was removed.
    removed: Vec<usize>,
}

impl OffsetMap {
    fn original(&self, normalised: usize) -> usize {
        normalised + self.removed.partition_point(|&r| r < normalised)
    }
}

fn normalise_line_endings(src: &str) -> (String, OffsetMap) {
    let mut out = String::with_capacity(src.len());
    let mut removed = Vec::new();
    let mut chars = src.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c == '\r' {
            if matches!(chars.peek(), Some((_, '\n'))) {
                removed.push(out.len());
                continue; // the following '\n' is pushed on the next turn
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    (out, OffsetMap { removed })
}

fn is_js_ws(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\x0B' | '\x0C' | '\r' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202F}'
                | '\u{205F}'
                | '\u{3000}'
                | '\u{FEFF}'
    )
}

/// Parses `.env` text as node's dotenv does, keeping positions and syntax issues.
pub fn parse(src: &str) -> ParsedDotenv {
    let (text, map) = normalise_line_endings(src);
    let mut parsed = ParsedDotenv::default();
    let mut covered: Vec<Range<usize>> = Vec::new();

    let line = if text.is_ascii() {
        &*LINE_ASCII
    } else {
        &*LINE
    };
    for caps in line.captures_iter(text.as_bytes()) {
        let whole = caps.get(0).expect("group 0");
        covered.push(whole.range());
        let key_m = caps.get(1).expect("key group");
        let (raw_range, raw) = match caps.get(2) {
            Some(m) => (m.range(), &text[m.range()]),
            // No value: an empty span right after the separator (where an edit would write one).
            None => {
                let after_sep = text[key_m.end()..whole.end()]
                    .find(['=', ':'])
                    .map_or(key_m.end(), |i| key_m.end() + i + 1);
                (after_sep..after_sep, "")
            }
        };
        // value.trim(): JavaScript trims the same white space as `\s`.
        let trimmed = raw.trim_matches(is_js_ws);
        let lead = raw.len() - raw.trim_start_matches(is_js_ws).len();
        let value_start = raw_range.start + lead;
        let value_range = value_start..value_start + trimmed.len();

        let maybe_quote = trimmed.chars().next();
        let stripped =
            SURROUNDING_QUOTES.replace_all(trimmed.as_bytes(), |c: &regex::bytes::Captures<'_>| {
                c.get(1)
                    .or_else(|| c.get(2))
                    .or_else(|| c.get(3))
                    .map_or(&b""[..], |m| m.as_bytes())
                    .to_vec()
            });
        // Quote characters are ASCII, so what is left is still valid UTF-8.
        let mut value =
            String::from_utf8(stripped.into_owned()).expect("quotes removed at ASCII boundaries");
        let quote = match maybe_quote {
            Some(q @ ('\'' | '"' | '`')) if value.len() + 2 <= trimmed.len() => Some(q),
            _ => None,
        };
        if maybe_quote == Some('"') {
            value = value.replace("\\n", "\n").replace("\\r", "\r");
        }

        let entry = Entry {
            key: text[key_m.range()].to_owned(),
            value,
            quote,
            key_span: map.original(key_m.start())..map.original(key_m.end()),
            value_span: map.original(value_range.start)..map.original(value_range.end),
        };
        ambiguities(
            &text,
            &map,
            &caps,
            trimmed,
            quote,
            &entry,
            &mut parsed.issues,
        );
        parsed.entries.push(entry);
    }

    uncovered_lines(&text, &map, &covered, &mut parsed.issues);
    parsed.issues.sort_by_key(|i| i.span.start);
    parsed
}

/// Lines that dotenv's regex never matched and that are neither blank nor comments.
fn uncovered_lines(
    text: &str,
    map: &OffsetMap,
    covered: &[Range<usize>],
    out: &mut Vec<SyntaxIssue>,
) {
    let mut start = 0;
    let mut cov = covered.iter().peekable();
    for line in text.split_inclusive('\n') {
        let end = start + line.len();
        let content = line.trim_end_matches('\n');
        let body = content.trim_matches(is_js_ws);
        let line_range = start..start + content.len();
        start = end;
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        while cov.peek().is_some_and(|r| r.end < line_range.start) {
            cov.next();
        }
        let hit = cov.peek().is_some_and(|r| {
            r.start <= line_range.end && r.end >= line_range.start && r.start < r.end
        });
        if hit {
            continue;
        }
        let lead = content.len() - content.trim_start_matches(is_js_ws).len();
        let span = map.original(line_range.start + lead)..map.original(line_range.end);
        if BARE_KEY_LINE.is_match(content.as_bytes()) {
            let key = body.trim_start_matches("export").trim().to_owned();
            out.push(SyntaxIssue {
                kind: SyntaxIssueKind::Ambiguous,
                span,
                message: format!(
                    "`{key}` has no `=`: node's dotenv ignores the line, python-dotenv reads `{key}` as set with no value, dotenvy rejects the file"
                ),
                key: Some(key),
            });
        } else {
            out.push(SyntaxIssue {
                kind: SyntaxIssueKind::Malformed,
                span,
                message: "this line is not a `KEY=value` assignment; node's dotenv ignores it silently, dotenvy rejects the file".into(),
                key: None,
            });
        }
    }
}

/// Points where python-dotenv, dotenvy or dotenvx read this assignment differently from dotenv.
fn ambiguities(
    text: &str,
    map: &OffsetMap,
    caps: &regex::bytes::Captures<'_>,
    trimmed: &str,
    quote: Option<char>,
    entry: &Entry,
    out: &mut Vec<SyntaxIssue>,
) {
    let whole = caps.get(0).expect("group 0");
    let key_m = caps.get(1).expect("key group");
    let key = &entry.key;
    let mut push = |span: Range<usize>, message: String| {
        out.push(SyntaxIssue {
            kind: SyntaxIssueKind::Ambiguous,
            span,
            message,
            key: Some(key.clone()),
        });
    };
    let value_span = entry.value_span.clone();

    // Separator: `KEY: value` and a key whose `=` sits on the next line.
    // The separator: from the key to the first `=` or `:` (a value-less match may run on).
    let rest = &text[key_m.end()..whole.end()];
    let between = rest.find(['=', ':']).map_or(rest, |i| &rest[..=i]);
    if !between.contains('=') && between.contains(':') {
        push(
            entry.key_span.clone(),
            format!("`{key}: value` uses a colon: node's dotenv accepts it, python-dotenv and dotenvy reject the line"),
        );
    } else if between.contains('\n') {
        push(
            entry.key_span.clone(),
            format!("the `=` of `{key}` is on another line: node's dotenv joins them, python-dotenv reads `{key}` with no value, dotenvy rejects the file"),
        );
    }
    // A byte-order mark that is not at the very start of the file.
    let line_start = text[..key_m.start()].rfind('\n').map_or(0, |i| i + 1);
    if text[line_start..key_m.start()].contains('\u{FEFF}') && line_start > 0 {
        push(
            entry.key_span.clone(),
            format!("a byte-order mark precedes `{key}`: node's dotenv skips it, python-dotenv makes it part of the key, dotenvy rejects the file"),
        );
    }

    match quote {
        Some('`') => push(
            value_span.clone(),
            format!("`{key}` is quoted with backticks: node's dotenv and dotenvx strip them, python-dotenv keeps them in the value, dotenvy rejects the line"),
        ),
        Some('"') => {
            let inner = &trimmed[1..trimmed.len() - 1];
            if has_escape_other_than_newline(inner) {
                push(
                    value_span.clone(),
                    format!("`{key}` has backslash escapes other than \\n and \\r: node's dotenv keeps them literally, python-dotenv and dotenvy unescape them"),
                );
            }
            if inner.contains("$(") {
                push(value_span, format!("`{key}` contains `$(`: dotenvx would run it as a command; greenlight never does"));
            }
        }
        Some('\'') => {
            let inner = &trimmed[1..trimmed.len() - 1];
            if inner.contains("\\'") {
                push(
                    value_span.clone(),
                    format!("`{key}` has `\\'` inside single quotes: node's dotenv keeps the backslash, python-dotenv removes it"),
                );
            }
            if inner.contains('$') && has_reference(inner) {
                push(
                    value_span,
                    format!("`{key}` references a variable inside single quotes: dotenv-expand and python-dotenv expand it, dotenvx and dotenvy keep it literally"),
                );
            }
        }
        _ => {
            let after = &text[caps.get(2).map_or(whole.end(), |m| m.end())..whole.end()];
            let raw_ends_in_space = caps.get(2).is_some_and(|m| text[m.range()].ends_with(is_js_ws));
            if !trimmed.is_empty() && after.starts_with('#') && !raw_ends_in_space {
                push(
                    value_span.clone(),
                    format!("`#` right after the value of `{key}` starts a comment for node's dotenv and dotenvx, python-dotenv keeps it in the value; put a space before `#` or quote the value"),
                );
            }
            if trimmed.chars().any(is_js_ws) {
                push(
                    value_span.clone(),
                    format!("the value of `{key}` has unquoted spaces: dotenvy rejects the line; quote it"),
                );
            }
            if trimmed.contains("\\n") {
                push(
                    value_span.clone(),
                    format!("the value of `{key}` has an unquoted `\\n`: dotenvy reads a newline, node's dotenv and python-dotenv keep the two characters"),
                );
            }
            if trimmed.contains("$(") {
                push(value_span.clone(), format!("`{key}` contains `$(`: dotenvx would run it as a command; greenlight never does"));
            }
        }
    }
    if quote != Some('\'') && has_bare_reference(&entry.value) {
        push(
            entry.value_span.clone(),
            format!("`{key}` uses `$NAME` without braces: dotenv-expand, dotenvx and dotenvy expand it, python-dotenv keeps it literally; write `${{NAME}}`"),
        );
    }
    let _ = map;
}

fn has_escape_other_than_newline(inner: &str) -> bool {
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'r') => {}
                Some('$') => {} // `\$` is dotenv-expand's escape, handled there
                Some(_) => return true,
                None => {}
            }
        }
    }
    false
}

static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$\{[^{}]+\}|\$[A-Za-z_][A-Za-z0-9_]*").expect("reference regex")
});
static BARE_REFERENCE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\$[A-Za-z_][A-Za-z0-9_]*").expect("bare reference regex"));

fn has_reference(s: &str) -> bool {
    REFERENCE
        .find_iter(s.as_bytes())
        .any(|m| m.start() == 0 || !s[..m.start()].ends_with('\\'))
}

fn has_bare_reference(s: &str) -> bool {
    BARE_REFERENCE
        .find_iter(s.as_bytes())
        .any(|m| m.start() == 0 || !s[..m.start()].ends_with('\\'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(src: &str) -> Vec<(String, String)> {
        parse(src)
            .resolved()
            .into_iter()
            .map(|e| (e.key.clone(), e.value.clone()))
            .collect()
    }

    #[test]
    fn basic_forms() {
        let got = map("A=1\nexport B = two  # c\nC='x # y'\nD=\"l1\\nl2\"\nE=`b`\n");
        assert_eq!(
            got,
            vec![
                ("A".into(), "1".into()),
                ("B".into(), "two".into()),
                ("C".into(), "x # y".into()),
                ("D".into(), "l1\nl2".into()),
                ("E".into(), "b".into()),
            ]
        );
    }

    #[test]
    fn crlf_and_bom_keep_positions() {
        let src = "\u{FEFF}A=1\r\nBB=\"two\"\r\n";
        let p = parse(src);
        assert_eq!(p.entries.len(), 2);
        let bb = &p.entries[1];
        assert_eq!(&src[bb.key_span.clone()], "BB");
        assert_eq!(&src[bb.value_span.clone()], "\"two\"");
    }

    #[test]
    fn multiline_double_quotes() {
        let got = map("K=\"a\nb\"\nN=1\n");
        assert_eq!(got[0].1, "a\nb");
        assert_eq!(got[1].1, "1");
    }

    #[test]
    fn malformed_line_is_reported_not_fatal() {
        let p = parse("A=1\n!!nonsense\nB=2\n");
        assert_eq!(p.entries.len(), 2);
        assert_eq!(p.issues.len(), 1);
        assert_eq!(p.issues[0].kind, SyntaxIssueKind::Malformed);
    }

    #[test]
    fn ambiguous_hash_without_space() {
        let p = parse("A=abc#def\n");
        assert_eq!(p.entries[0].value, "abc");
        assert!(p
            .issues
            .iter()
            .any(|i| i.kind == SyntaxIssueKind::Ambiguous && i.message.contains("python-dotenv")));
    }

    #[test]
    fn duplicate_keys_last_wins_first_position() {
        let got = map("A=1\nB=2\nA=3\n");
        assert_eq!(
            got,
            vec![("A".into(), "3".into()), ("B".into(), "2".into())]
        );
    }

    #[test]
    fn integer_keys_enumerate_first() {
        let got = map("B=1\n10=x\n2=y\n");
        let keys: Vec<_> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["2", "10", "B"]);
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::parse;

    fn env_like() -> impl Strategy<Value = String> {
        // Lines built from the characters that matter to the grammar, plus arbitrary text.
        let line = prop_oneof![
            "[A-Za-z_][A-Za-z0-9_.-]{0,8}=[ -~]{0,12}",
            "(export )?[A-Z_]{1,6} ?= ?\"[ -~\\n]{0,10}\"",
            "[A-Z]{1,4}='[^']{0,8}'",
            "#[ -~]{0,10}",
            "[ -~\u{FEFF}\u{A0}]{0,16}",
            "\\PC{0,12}",
        ];
        prop::collection::vec(line, 0..8)
            .prop_map(|lines| lines.join(if lines.len() % 2 == 0 { "\n" } else { "\r\n" }))
    }

    proptest! {
        #[test]
        fn spans_point_at_the_source(src in env_like()) {
            let parsed = parse(&src);
            for e in &parsed.entries {
                prop_assert_eq!(&src[e.key_span.clone()], e.key.as_str());
                prop_assert!(src.get(e.value_span.clone()).is_some());
            }
            for i in &parsed.issues {
                prop_assert!(src.get(i.span.clone()).is_some());
            }
        }

        #[test]
        fn never_panics_on_arbitrary_text(src in "\\PC{0,200}") {
            let _ = parse(&src);
        }

        #[test]
        fn simple_assignments_round_trip(key in "[A-Z][A-Z0-9_]{0,10}", value in "[A-Za-z0-9_./:@-]{0,20}") {
            let parsed = parse(&format!("{key}={value}\n"));
            prop_assert_eq!(parsed.entries.len(), 1);
            prop_assert_eq!(&parsed.entries[0].value, &value);
        }
    }
}
