//! YAML sources: docker-compose files (`services.*.environment`, `env_file:`) and Kubernetes
//! `Secret` and `ConfigMap` manifests (multi-document, `data` decoded from base64,
//! `stringData`). Every value keeps the place it was written.
//!
//! yaml-rust2's document API (`YamlLoader`) drops positions, so this module builds its own small
//! tree from the parser's marked events: a value without a line is a finding nobody can act on.

use std::path::Path;

use base64::Engine as _;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::{Assignment, Origin, SourceKind};
use crate::error::InputError;
use crate::manifest::LineIndex;

/// A YAML node with the byte offset where it starts.
#[derive(Debug, Clone)]
enum Node {
    Scalar {
        value: String,
        at: usize,
        quoted: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
    /// An alias (`*name`): not followed; a setting written through an anchor is rare in the
    /// files this reads, and following one would point at the anchor's line anyway.
    Alias,
}

impl Node {
    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(pairs) => pairs
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Node::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }
}

/// Builds one tree per document from the parser's events.
#[derive(Default)]
struct TreeBuilder {
    /// Open collections: a sequence's items, or a map's flattened keys and values.
    stack: Vec<(bool, Vec<Node>)>,
    documents: Vec<Node>,
    /// Characters → bytes: yaml-rust2's markers count characters.
    char_to_byte: Vec<usize>,
}

impl TreeBuilder {
    fn push(&mut self, node: Node) {
        match self.stack.last_mut() {
            Some((_, items)) => items.push(node),
            None => self.documents.push(node),
        }
    }

    fn byte(&self, mark: &Marker) -> usize {
        self.char_to_byte
            .get(mark.index())
            .copied()
            .unwrap_or_else(|| self.char_to_byte.last().copied().unwrap_or(0))
    }
}

impl MarkedEventReceiver for TreeBuilder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        match event {
            Event::Scalar(value, style, ..) => {
                let at = self.byte(&mark);
                self.push(Node::Scalar {
                    value,
                    at,
                    quoted: matches!(
                        style,
                        TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted
                    ),
                });
            }
            Event::Alias(_) => self.push(Node::Alias),
            Event::SequenceStart(..) => self.stack.push((false, Vec::new())),
            Event::MappingStart(..) => self.stack.push((true, Vec::new())),
            Event::SequenceEnd | Event::MappingEnd => {
                let Some((is_map, items)) = self.stack.pop() else {
                    return;
                };
                let node = if is_map {
                    let mut pairs = Vec::new();
                    let mut it = items.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        pairs.push((k, v));
                    }
                    Node::Map(pairs)
                } else {
                    Node::Seq(items)
                };
                self.push(node);
            }
            _ => {}
        }
    }
}

fn parse(file: &Path, text: &str) -> Result<Vec<Node>, InputError> {
    let mut builder = TreeBuilder {
        char_to_byte: text
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(text.len()))
            .collect(),
        ..Default::default()
    };
    Parser::new_from_str(text)
        .load(&mut builder, true)
        .map_err(|e| InputError::Source {
            path: file.to_path_buf(),
            line: e.marker().line(),
            column: e.marker().col() + 1,
            message: e.info().to_owned(),
        })?;
    Ok(builder.documents)
}

/// What a YAML source yields: the assignments, and the env files a compose file names (read as
/// dotenv sources by the caller, in order, before the file's own `environment:`).
pub(super) struct Read {
    pub assignments: Vec<Assignment>,
    pub env_files: Vec<(String, bool)>,
}

struct Writer<'t> {
    display: &'t str,
    file: &'t Path,
    text: &'t str,
    index: LineIndex<'t>,
}

impl Writer<'_> {
    /// Where a value is written: `len` bytes starting `offset` bytes into the scalar at `at`.
    fn span(&self, at: usize, quoted: bool, offset: usize, len: usize) -> std::ops::Range<usize> {
        let start = (at + usize::from(quoted) + offset).min(self.text.len());
        start..(start + len).min(self.text.len())
    }

    fn assignment(
        &self,
        kind: SourceKind,
        name: &str,
        value: String,
        span: std::ops::Range<usize>,
    ) -> Assignment {
        let mut origin = Origin::at(
            kind,
            self.display,
            Some(self.file),
            &self.index,
            self.text,
            span,
        );
        origin.in_secret_table = kind == SourceKind::KubernetesSecret;
        Assignment {
            name: name.to_owned(),
            value,
            origin,
        }
    }
}

/// A docker-compose file: every service's `environment` (list or map form) and `env_file`, or
/// only those of the service the selector names. Values are interpolated as compose does, from
/// `vars` (the `.env` beside the compose file).
pub(super) fn read_compose(
    display: &str,
    file: &Path,
    text: &str,
    selector: Option<&str>,
    vars: &dyn Fn(&str) -> Option<String>,
) -> Result<Read, InputError> {
    let documents = parse(file, text)?;
    let w = Writer {
        display,
        file,
        text,
        index: LineIndex::new(text),
    };
    let mut out = Read {
        assignments: Vec::new(),
        env_files: Vec::new(),
    };
    let mut found_service = false;
    for doc in &documents {
        let Some(Node::Map(services)) = doc.get("services") else {
            continue;
        };
        for (name, service) in services {
            if selector.is_some_and(|s| name.as_str() != Some(s)) {
                continue;
            }
            found_service = true;
            match service.get("env_file") {
                Some(Node::Scalar { value, .. }) => out.env_files.push((value.clone(), true)),
                Some(Node::Seq(items)) => {
                    for item in items {
                        match item {
                            Node::Scalar { value, .. } => out.env_files.push((value.clone(), true)),
                            // The long form: `- path: ./x.env` with `required: false`.
                            map @ Node::Map(_) => {
                                if let Some(path) = map.get("path").and_then(Node::as_str) {
                                    let required =
                                        map.get("required").and_then(Node::as_str) != Some("false");
                                    out.env_files.push((path.to_owned(), required));
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
            match service.get("environment") {
                Some(Node::Seq(items)) => {
                    for item in items {
                        let Node::Scalar { value, at, quoted } = item else {
                            continue;
                        };
                        // `- KEY=value`; a bare `- KEY` passes the shell's value through, which
                        // is not in this file.
                        let Some((key, raw)) = value.split_once('=') else {
                            continue;
                        };
                        let key = key.trim();
                        out.assignments.push(w.assignment(
                            compose_kind(raw),
                            key,
                            interpolate(raw, vars),
                            w.span(*at, *quoted, value.len() - raw.len(), raw.len()),
                        ));
                    }
                }
                Some(Node::Map(pairs)) => {
                    for (key, value) in pairs {
                        let (Some(key), Node::Scalar { value, at, quoted }) = (key.as_str(), value)
                        else {
                            continue;
                        };
                        // `KEY:` with no value: passed through from the shell, like `- KEY`.
                        if value.is_empty() && !quoted {
                            continue;
                        }
                        out.assignments.push(w.assignment(
                            compose_kind(value),
                            key,
                            interpolate(value, vars),
                            w.span(*at, *quoted, 0, value.len()),
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    if let (Some(s), false) = (selector, found_service) {
        return Err(InputError::Source {
            path: file.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("no service `{s}` under `services:`"),
        });
    }
    Ok(out)
}

/// A literal value is the compose file's own; one with `$` (other than `$$`) comes from a
/// variable.
fn compose_kind(raw: &str) -> SourceKind {
    if raw.replace("$$", "").contains('$') {
        SourceKind::ComposeInterpolated
    } else {
        SourceKind::Compose
    }
}

/// Compose's interpolation: `${VAR}`, `$VAR`, `${VAR:-default}` (unset or empty),
/// `${VAR-default}` (unset), `${VAR:?message}`/`${VAR?message}` (required: empty here), `$$` for
/// a literal `$`. Unset variables without a default become empty, as compose does (with a
/// warning of its own).
pub(super) fn interpolate(raw: &str, vars: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(body) = after.strip_prefix('{') {
            let Some(end) = matching_brace(body) else {
                out.push_str(&rest[i..]);
                return out;
            };
            out.push_str(&expand_braced(&body[..end], vars));
            rest = &body[end + 1..];
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if len == 0 {
                out.push('$');
            } else {
                out.push_str(&vars(&after[..len]).unwrap_or_default());
            }
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    out
}

/// The end of `${…}`'s body, allowing nested `${…}` in a default.
fn matching_brace(body: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn expand_braced(body: &str, vars: &dyn Fn(&str) -> Option<String>) -> String {
    let name_len = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    let (name, op) = body.split_at(name_len);
    let value = vars(name);
    let set_nonempty = value.as_deref().is_some_and(|v| !v.is_empty());
    if let Some(default) = op.strip_prefix(":-") {
        return if set_nonempty {
            value.unwrap_or_default()
        } else {
            interpolate(default, vars)
        };
    }
    if let Some(default) = op.strip_prefix('-') {
        return value.unwrap_or_else(|| interpolate(default, vars));
    }
    if let Some(alt) = op.strip_prefix(":+") {
        return if set_nonempty {
            interpolate(alt, vars)
        } else {
            String::new()
        };
    }
    if let Some(alt) = op.strip_prefix('+') {
        return if value.is_some() {
            interpolate(alt, vars)
        } else {
            String::new()
        };
    }
    value.unwrap_or_default()
}

/// Kubernetes manifests: every `Secret` (`stringData`, and `data` decoded from base64) and
/// `ConfigMap` (`data`) of every document, or only the object the selector names.
pub(super) fn read_kubernetes(
    display: &str,
    file: &Path,
    text: &str,
    selector: Option<&str>,
) -> Result<Vec<Assignment>, InputError> {
    let documents = parse(file, text)?;
    let w = Writer {
        display,
        file,
        text,
        index: LineIndex::new(text),
    };
    let mut out = Vec::new();
    let mut found = false;
    // A `List` holds its objects under `items`.
    let mut objects: Vec<&Node> = Vec::new();
    for doc in &documents {
        match doc.get("items") {
            Some(Node::Seq(items)) if doc.get("kind").and_then(Node::as_str) == Some("List") => {
                objects.extend(items.iter())
            }
            _ => objects.push(doc),
        }
    }
    for object in objects {
        let kind = object
            .get("kind")
            .and_then(Node::as_str)
            .unwrap_or_default();
        let name = object
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Node::as_str)
            .unwrap_or_default();
        if selector.is_some_and(|s| s != name) {
            continue;
        }
        let fields: &[(&str, bool)] = match kind {
            "Secret" => &[("data", true), ("stringData", false)],
            "ConfigMap" => &[("data", false)],
            _ => continue,
        };
        found = true;
        let source_kind = if kind == "Secret" {
            SourceKind::KubernetesSecret
        } else {
            SourceKind::ConfigMap
        };
        for (field, base64) in fields {
            let Some(Node::Map(pairs)) = object.get(field) else {
                continue;
            };
            for (key, value) in pairs {
                let (Some(key), Node::Scalar { value, at, quoted }) = (key.as_str(), value) else {
                    continue;
                };
                let decoded = if *base64 {
                    let compact: String = value.split_whitespace().collect();
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(compact.as_bytes())
                        .map_err(|_| InputError::Source {
                            path: file.to_path_buf(),
                            line: w.index.line_col(*at).0,
                            column: w.index.line_col(*at).1,
                            message: format!(
                                "`data.{key}` of Secret `{name}` is not base64 (use `stringData` for plain text)"
                            ),
                        })?;
                    String::from_utf8_lossy(&bytes).into_owned()
                } else {
                    value.clone()
                };
                let span = w.span(*at, *quoted, 0, value.len());
                out.push(w.assignment(source_kind, key, decoded, span));
            }
        }
    }
    if let (Some(s), false) = (selector, found) {
        return Err(InputError::Source {
            path: file.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("no Secret or ConfigMap named `{s}`"),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "SET" => Some("v".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn interpolation_follows_compose() {
        for (raw, want) in [
            ("${SET}", "v"),
            ("$SET/x", "v/x"),
            ("${UNSET:-d}", "d"),
            ("${EMPTY:-d}", "d"),
            ("${EMPTY-d}", ""),
            ("${UNSET-d}", "d"),
            ("${SET:+alt}", "alt"),
            ("${UNSET:+alt}", ""),
            ("${UNSET:?must be set}", ""),
            ("$$SET", "$SET"),
            ("${UNSET:-${SET}}", "v"),
            ("a$", "a$"),
            ("${UNCLOSED", "${UNCLOSED"),
        ] {
            assert_eq!(interpolate(raw, &vars), want, "{raw}");
        }
    }

    #[test]
    fn compose_values_point_at_their_text() {
        let text = "services:\n  api:\n    environment:\n      - PORT=8080\n      - \"TOKEN=ab${SET}\"\n  worker:\n    env_file: [.env.worker]\n    environment:\n      DEBUG: \"false\"\n      PASS:\n";
        let read = read_compose("c.yml", Path::new("c.yml"), text, None, &vars).unwrap();
        let got: Vec<(String, String, usize, usize)> = read
            .assignments
            .iter()
            .map(|a| {
                (
                    a.name.clone(),
                    a.value.clone(),
                    a.origin.line,
                    a.origin.column,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("PORT".into(), "8080".into(), 4, 14),
                ("TOKEN".into(), "abv".into(), 5, 16),
                ("DEBUG".into(), "false".into(), 9, 15),
            ]
        );
        assert_eq!(read.env_files, vec![(".env.worker".to_owned(), true)]);
        let only = read_compose("c.yml", Path::new("c.yml"), text, Some("worker"), &vars).unwrap();
        assert_eq!(only.assignments.len(), 1);
        assert!(read_compose("c.yml", Path::new("c.yml"), text, Some("web"), &vars).is_err());
    }

    #[test]
    fn kubernetes_secrets_are_decoded_and_config_maps_read() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  LOG_LEVEL: info\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: app-secrets\ntype: Opaque\ndata:\n  DB_PASSWORD: cGctcGFzcy03UXg=\nstringData:\n  API_TOKEN: plain-text\n---\nkind: Deployment\nmetadata:\n  name: app\n";
        let all = read_kubernetes("k.yaml", Path::new("k.yaml"), text, None).unwrap();
        let got: Vec<(&str, &str, usize, SourceKind)> = all
            .iter()
            .map(|a| {
                (
                    a.name.as_str(),
                    a.value.as_str(),
                    a.origin.line,
                    a.origin.kind,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("LOG_LEVEL", "info", 6, SourceKind::ConfigMap),
                (
                    "DB_PASSWORD",
                    "pg-pass-7Qx",
                    14,
                    SourceKind::KubernetesSecret
                ),
                ("API_TOKEN", "plain-text", 16, SourceKind::KubernetesSecret),
            ]
        );
        let one = read_kubernetes("k.yaml", Path::new("k.yaml"), text, Some("app-config")).unwrap();
        assert_eq!(one.len(), 1);
        let bad = "kind: Secret\nmetadata:\n  name: s\ndata:\n  K: \"%%%\"\n";
        let err = read_kubernetes("k.yaml", Path::new("k.yaml"), bad, None).unwrap_err();
        assert!(err.to_string().contains("not base64"), "{err}");
        assert!(!err.to_string().contains("%%%"));
    }

    #[test]
    fn non_ascii_text_keeps_columns() {
        let text =
            "# größe\nservices:\n  a:\n    environment:\n      NAME: \"café\"\n      NEXT: x\n";
        let read = read_compose("c.yml", Path::new("c.yml"), text, None, &vars).unwrap();
        assert_eq!(read.assignments[1].origin.line, 6);
        assert_eq!(read.assignments[1].origin.column, 13);
        assert_eq!(read.assignments[0].origin.line_text, "      NAME: \"café\"");
    }
}
