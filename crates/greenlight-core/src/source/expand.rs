//! Interpolation of `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}` and
//! `$VAR`, exactly as `dotenv-expand` (1000.x, the engine shared with dotenvx) does it after
//! `dotenv.parse`.
//!
//! The semantics are dotenv-expand's, including its less obvious corners, because greenlight must
//! validate the value the application will actually see:
//! - an existing, non-empty process variable wins over the file's value (only when a process
//!   environment is given: reading the process environment is opt-in in greenlight);
//! - variables are expanded in JavaScript object order, each one seeing the already-expanded
//!   values before it ("progressive" expansion) and the process environment taking precedence;
//! - each replacement replaces the first occurrence of the reference text, with JavaScript's `$`
//!   replacement patterns, and the search restarts from the beginning;
//! - `\$` escapes a reference and is turned into `$` at the end.
//!
//! Command substitution (`$(…)`) is never executed: it is left as written. A self-feeding
//! expansion that would loop for ever in dotenv-expand stops after [`MAX_STEPS`] replacements and
//! is reported.

use std::collections::HashMap;

/// Upper bound on replacements in one value; real files need a handful.
pub const MAX_STEPS: usize = 1_000;
/// Upper bound on the size of an expanded value, against exponential self-references.
pub const MAX_LEN: usize = 1 << 20;

/// The outcome of expanding one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expanded {
    /// Key → expanded value, in the order of the input.
    pub values: Vec<(String, String)>,
    /// Keys whose expansion was cut off because it did not terminate.
    pub runaway: Vec<String>,
}

/// Expands `parsed` (key → value in JavaScript object order) as dotenv-expand does.
/// `process_env` is the environment of the process when the caller opted in to it.
pub fn expand(
    parsed: &[(String, String)],
    process_env: Option<&HashMap<String, String>>,
) -> Expanded {
    let empty = HashMap::new();
    let process_env = process_env.unwrap_or(&empty);
    let original: HashMap<&str, &str> = parsed
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut running: HashMap<String, String> = HashMap::with_capacity(parsed.len());
    let mut out = Expanded::default();

    for (key, value) in parsed {
        let mut current = value.clone();
        match process_env.get(key) {
            Some(env_value) if !env_value.is_empty() && env_value != &current => {
                current = env_value.clone();
            }
            _ => {
                // dotenv-expand hides process variables that merely echo a value already taken
                // from this file, so the file's own expansion of them is used instead.
                let mut visible: HashMap<&str, &str> = process_env
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                visible.retain(|k, v| !(running.contains_key(*k) && original.get(k) == Some(v)));
                let (expanded, complete) = expand_value(&current, &visible, &running);
                if !complete {
                    out.runaway.push(key.clone());
                }
                current = expanded;
            }
        }
        let resolved = current.replace("\\$", "$");
        running.insert(key.clone(), resolved.clone());
        out.values.push((key.clone(), resolved));
    }
    out
}

/// One value's expansion; `false` when it was cut off.
fn expand_value(
    value: &str,
    process_env: &HashMap<&str, &str>,
    running: &HashMap<String, String>,
) -> (String, bool) {
    // `{...runningParsed, ...processEnv}`: the process environment wins.
    let lookup = |name: &str| -> Option<&str> {
        process_env
            .get(name)
            .copied()
            .or_else(|| running.get(name).map(String::as_str))
    };
    if !value.contains('$') {
        return (value.to_owned(), true);
    }
    let mut result = value.to_owned();
    for _ in 0..MAX_STEPS {
        let Some((start, end, expression)) = find_reference(&result) else {
            return (result, true);
        };
        let template = result[start..end].to_owned();
        let (name, operator, alternative) = split_operator(&expression);
        let current = lookup(name);
        let truthy = current.filter(|v| !v.is_empty());
        let replacement: String = match operator {
            Some(":-") => truthy.map_or_else(|| alternative.to_owned(), str::to_owned),
            Some("-") => current.map_or_else(|| alternative.to_owned(), str::to_owned),
            Some(":+") => truthy.map_or_else(String::new, |_| alternative.to_owned()),
            Some("+") => current.map_or_else(String::new, |_| alternative.to_owned()),
            _ => truthy.unwrap_or("").to_owned(),
        };
        result = js_replace_first(&result, &template, &replacement);
        if result.len() > MAX_LEN {
            return (result, false);
        }
        if current == Some(result.as_str()) {
            return (result, true);
        }
    }
    (result, false)
}

/// The first `${…}` or `$NAME` not preceded by a backslash:
/// `/(?<!\\)\${([^{}]+)}|(?<!\\)\$([A-Za-z_][A-Za-z0-9_]*)/`.
fn find_reference(s: &str) -> Option<(usize, usize, String)> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(off) = s[i..].find('$') {
        let pos = i + off;
        i = pos + 1;
        if pos > 0 && bytes[pos - 1] == b'\\' {
            continue;
        }
        let rest = &s[pos + 1..];
        if let Some(inner) = rest.strip_prefix('{') {
            if let Some(close) = inner.find(['{', '}']) {
                if inner.as_bytes()[close] == b'}' && close > 0 {
                    let end = pos + 2 + close + 1;
                    return Some((pos, end, inner[..close].to_owned()));
                }
            }
            continue;
        }
        let name_len = rest
            .char_indices()
            .take_while(|&(j, c)| {
                c == '_' || c.is_ascii_alphabetic() || (j > 0 && c.is_ascii_digit())
            })
            .count();
        if name_len > 0 {
            return Some((pos, pos + 1 + name_len, rest[..name_len].to_owned()));
        }
    }
    None
}

/// Splits `NAME:-default` at its first operator (`:+`, `+`, `:-`, `-`, tried in that order at
/// each position). Without an operator dotenv-expand splits on the string "null" (its
/// `split(null)`), so `${Xnull}` looks up `X`; we keep that to read files as it does.
fn split_operator(expression: &str) -> (&str, Option<&'static str>, &str) {
    for (i, c) in expression.char_indices() {
        let rest = &expression[i..];
        let op: Option<&'static str> = match c {
            ':' if rest.starts_with(":+") => Some(":+"),
            '+' => Some("+"),
            ':' if rest.starts_with(":-") => Some(":-"),
            '-' => Some("-"),
            _ => None,
        };
        if let Some(op) = op {
            return (&expression[..i], Some(op), &expression[i + op.len()..]);
        }
    }
    let name = expression.split("null").next().unwrap_or(expression);
    (name, None, "")
}

/// `String.prototype.replace(string, string)`: the first occurrence, with `$$`, `$&`, `` $` ``
/// and `$'` in the replacement interpreted.
fn js_replace_first(haystack: &str, needle: &str, replacement: &str) -> String {
    let Some(idx) = haystack.find(needle) else {
        return haystack.to_owned();
    };
    let before = &haystack[..idx];
    let after = &haystack[idx + needle.len()..];
    let mut expanded = String::with_capacity(replacement.len());
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            expanded.push(c);
            continue;
        }
        match chars.peek() {
            Some('$') => {
                chars.next();
                expanded.push('$');
            }
            Some('&') => {
                chars.next();
                expanded.push_str(needle);
            }
            Some('`') => {
                chars.next();
                expanded.push_str(before);
            }
            Some('\'') => {
                chars.next();
                expanded.push_str(after);
            }
            _ => expanded.push('$'),
        }
    }
    format!("{before}{expanded}{after}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pairs: &[(&str, &str)], env: &[(&str, &str)]) -> Vec<(String, String)> {
        let parsed: Vec<_> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let env: HashMap<_, _> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        expand(&parsed, Some(&env)).values
    }

    #[test]
    fn braces_defaults_and_bare() {
        let got = run(
            &[
                ("A", "x"),
                ("B", "${A}-$A"),
                ("C", "${MISSING:-d}"),
                ("D", "${A:+alt}"),
            ],
            &[],
        );
        assert_eq!(got[1].1, "x-x");
        assert_eq!(got[2].1, "d");
        assert_eq!(got[3].1, "alt");
    }

    #[test]
    fn escaped_dollar_is_literal() {
        let got = run(&[("A", "x"), ("B", "\\$A")], &[]);
        assert_eq!(got[1].1, "$A");
    }

    #[test]
    fn process_env_wins() {
        let got = run(&[("A", "file"), ("B", "$A")], &[("A", "proc")]);
        assert_eq!(got[0].1, "proc");
        assert_eq!(got[1].1, "proc");
    }

    #[test]
    fn runaway_expansion_is_cut_off() {
        let parsed = vec![("A".to_string(), "$A $A".to_string())];
        let env: HashMap<String, String> = [("A".to_string(), "$A $A".to_string())].into();
        // `A` comes from the process (it wins), so no loop; a file-only loop:
        let _ = expand(&parsed, Some(&env));
        let looped = expand(
            &[("B".into(), "a$C".into()), ("C".into(), "$B b".into())],
            None,
        );
        assert!(looped.values.iter().all(|(_, v)| v.len() <= MAX_LEN + 16));
    }

    #[test]
    fn js_replacement_patterns() {
        assert_eq!(js_replace_first("a$Xb", "$X", "[$$]"), "a[$]b");
        assert_eq!(js_replace_first("a$Xb", "$X", "[$&]"), "a[$X]b");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    proptest! {
        /// Expansion always terminates, whatever the references, and stays bounded.
        #[test]
        fn expansion_terminates(pairs in prop::collection::vec(("[A-C]", "([a-z]|\\$[A-C]|\\$\\{[A-C](:?[-+][a-z$]{0,3})?\\}){0,6}"), 0..6)) {
            let out = super::expand(&pairs, None);
            for (_, v) in out.values {
                prop_assert!(v.len() <= super::MAX_LEN * 2);
            }
        }
    }
}
