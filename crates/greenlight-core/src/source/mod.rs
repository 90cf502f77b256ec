//! Configuration sources: `.env` files, `wrangler.toml`, JSON objects, docker-compose files,
//! Kubernetes Secrets and ConfigMaps, and (opt-in) the process environment. Every value keeps its origin — file, line, column and the source line — so that
//! every finding can point at it.

pub mod dotenv;
pub mod expand;
mod json;
mod wrangler;
mod yaml;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::error::{read_text, InputError};
use crate::manifest::{LineIndex, Manifest, SourceSpec};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    Dotenv,
    Wrangler,
    Json,
    /// A docker-compose file's `environment:` (its `env_file:`s are read as dotenv sources).
    Compose,
    /// A compose value built by interpolation (`${VAR:-default}`): the secret, if any, lives
    /// where the variable is set, not in the compose file.
    ComposeInterpolated,
    /// A file of Kubernetes manifests; its values are [`SourceKind::ConfigMap`] or
    /// [`SourceKind::KubernetesSecret`] by the object that holds them.
    Kubernetes,
    ConfigMap,
    KubernetesSecret,
    Process,
}

impl SourceKind {
    /// A committed configuration file rather than an env file, a secret object or the runtime
    /// environment: a secret written into one is `secret-in-config-file`.
    pub fn is_config_file(self) -> bool {
        matches!(
            self,
            SourceKind::Wrangler | SourceKind::Json | SourceKind::Compose | SourceKind::ConfigMap
        )
    }
}

/// Where a value was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub kind: SourceKind,
    /// The path as shown to the user (relative to the working directory when the manifest was).
    pub path: String,
    /// The file on disk, absent for the process environment.
    pub file: Option<PathBuf>,
    pub line: usize,
    pub column: usize,
    /// The source line holding the value, and the character range of the value in it.
    pub line_text: String,
    pub value_columns: std::ops::Range<usize>,
    /// Written in a table whose name says "secrets" (`[env.production.secrets]`).
    pub in_secret_table: bool,
}

impl Origin {
    pub(crate) fn at(
        kind: SourceKind,
        path: &str,
        file: Option<&Path>,
        index: &LineIndex<'_>,
        text: &str,
        value_span: std::ops::Range<usize>,
    ) -> Origin {
        let (line, column) = index.line_col(value_span.start);
        let line_start = index.line_start(value_span.start);
        let line_end = text[value_span.start..]
            .find('\n')
            .map_or(text.len(), |i| value_span.start + i);
        let line_text = text[line_start..line_end].trim_end_matches('\r').to_owned();
        let start_col = text[line_start..value_span.start].chars().count();
        let end = value_span
            .end
            .min(line_start + line_text.len())
            .max(value_span.start);
        let end_col = start_col + text[value_span.start..end].chars().count();
        Origin {
            kind,
            path: path.to_owned(),
            file: file.map(Path::to_path_buf),
            line,
            column,
            line_text,
            value_columns: start_col..end_col,
            in_secret_table: false,
        }
    }
}

/// One assignment of a variable in a source.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub name: String,
    /// The value the application receives (after quoting, escapes and interpolation).
    pub value: String,
    pub origin: Origin,
}

/// A syntax problem in a source, as reported by the parser.
#[derive(Debug, Clone)]
pub struct SourceIssue {
    pub kind: dotenv::SyntaxIssueKind,
    pub origin: Origin,
    pub message: String,
    pub key: Option<String>,
}

/// `# greenlight:allow RULE…` comments of one file.
#[derive(Debug, Clone, Default)]
pub struct Allows {
    /// Line → rule ids (empty: every rule) for comments that apply to one line.
    pub lines: HashMap<usize, Vec<String>>,
    /// `greenlight:allow-file RULE…`.
    pub file: Vec<String>,
}

impl Allows {
    pub fn allows(&self, line: usize, rule: &str) -> bool {
        let matches = |ids: &Vec<String>| ids.is_empty() || ids.iter().any(|r| r == rule);
        self.file.iter().any(|r| r == rule) || self.lines.get(&line).is_some_and(matches)
    }

    /// Reads allow comments from `#`-comment sources. A comment on a line of its own applies to
    /// the next line; one after a value applies to its line.
    pub(crate) fn parse(text: &str) -> Allows {
        let mut allows = Allows::default();
        for (i, line) in text.lines().enumerate() {
            let Some(pos) = line.find("greenlight:allow") else {
                continue;
            };
            if !line[..pos].contains('#') {
                continue;
            }
            let rest = &line[pos + "greenlight:allow".len()..];
            let (file_wide, rest) = match rest.strip_prefix("-file") {
                Some(r) => (true, r),
                None => (false, rest),
            };
            // Rule ids, then an optional reason after `--`.
            let ids: Vec<String> = rest
                .split("--")
                .next()
                .unwrap_or_default()
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
                .map(str::to_owned)
                .collect();
            if file_wide {
                allows.file.extend(ids);
                continue;
            }
            let comment_only = line.trim_start().starts_with('#');
            let target = if comment_only { i + 2 } else { i + 1 };
            allows.lines.entry(target).or_default().extend(ids);
        }
        allows
    }
}

/// One loaded source file.
#[derive(Debug, Clone)]
pub struct LoadedSource {
    pub kind: SourceKind,
    pub path: String,
    pub file: Option<PathBuf>,
    pub allows: Allows,
    /// The file's text: `check` scans committed configuration files for secrets, and every
    /// source's secrets, found by the detectors as a scanner would, join the run's redactor.
    pub text: Option<String>,
}

/// The resolved configuration of one environment.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub name: String,
    /// Every assignment in source order, duplicates included.
    pub assignments: Vec<Assignment>,
    /// Name → index in `assignments` of the assignment that wins.
    pub resolved: IndexMap<String, usize>,
    pub issues: Vec<SourceIssue>,
    pub sources: Vec<LoadedSource>,
    /// Names whose interpolation did not terminate and was cut off.
    pub runaway: Vec<String>,
}

impl Environment {
    pub fn get(&self, name: &str) -> Option<&Assignment> {
        self.resolved.get(name).map(|&i| &self.assignments[i])
    }

    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).map(|a| a.value.as_str())
    }

    pub fn resolved(&self) -> impl Iterator<Item = &Assignment> {
        self.resolved.values().map(|&i| &self.assignments[i])
    }

    /// Replaces `${NAME}` in a manifest string with this environment's value; the error is the
    /// first name that is unset or empty.
    pub fn interpolate(&self, text: &str) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return Ok(out);
            };
            let name = &after[..end];
            match self.value(name) {
                Some(v) if !v.is_empty() => out.push_str(v),
                _ => return Err(name.to_owned()),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    pub fn allows(&self, path: &str, line: usize, rule: &str) -> bool {
        self.sources
            .iter()
            .any(|s| s.path == path && s.allows.allows(line, rule))
    }
}

/// How to load an environment.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Read the process environment too (also when the manifest does not say so).
    pub process_env: bool,
    /// Skip interpolation (a literal parse).
    pub no_expand: bool,
}

/// A source spec split into path, selector and kind.
#[derive(Clone)]
pub(crate) struct ResolvedSpec {
    pub display: String,
    pub file: PathBuf,
    pub selector: Option<String>,
    pub kind: SourceKind,
    pub optional: bool,
}

pub(crate) fn resolve_spec(root: &Path, spec: &SourceSpec) -> Result<ResolvedSpec, InputError> {
    let raw = spec.path();
    let (path, selector) = match raw.split_once('#') {
        Some((p, s)) => (p, Some(s.to_owned())),
        None => (raw, None),
    };
    let file = root.join(path);
    let kind = match spec.kind() {
        Some("dotenv" | "env") => SourceKind::Dotenv,
        Some("wrangler" | "toml") => SourceKind::Wrangler,
        Some("json") => SourceKind::Json,
        Some("compose" | "docker-compose") => SourceKind::Compose,
        Some("kubernetes" | "k8s") => SourceKind::Kubernetes,
        Some(other) => {
            return Err(InputError::Usage(format!(
            "source `{raw}`: unknown kind `{other}` (dotenv, wrangler, json, compose, kubernetes)"
        )))
        }
        None if path.ends_with(".json") => SourceKind::Json,
        None if path.ends_with(".yml") || path.ends_with(".yaml") => {
            let name = Path::new(path)
                .file_name()
                .map(|n| n.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            if name.contains("compose") {
                SourceKind::Compose
            } else {
                SourceKind::Kubernetes
            }
        }
        None if path.ends_with(".toml") => SourceKind::Wrangler,
        None => SourceKind::Dotenv,
    };
    let display = if root == Path::new(".") {
        path.to_owned()
    } else {
        file.display().to_string()
    };
    Ok(ResolvedSpec {
        display,
        file,
        selector,
        kind,
        optional: spec.optional(),
    })
}

/// Each compose file preceded by the env files its services name (`env_file:`), relative to the
/// compose file, as dotenv sources: compose lets `environment:` override them.
fn with_compose_env_files(files: &[ResolvedSpec]) -> Result<Vec<ResolvedSpec>, InputError> {
    let mut out = Vec::with_capacity(files.len());
    for r in files {
        if r.kind == SourceKind::Compose && r.file.exists() {
            let text = read_text(&r.file)?;
            let read =
                yaml::read_compose(&r.display, &r.file, &text, r.selector.as_deref(), &|_| None)?;
            let dir = r.file.parent().unwrap_or(Path::new("."));
            let shown_dir = Path::new(&r.display).parent().unwrap_or(Path::new(""));
            for (path, required) in read.env_files {
                out.push(ResolvedSpec {
                    display: shown_dir.join(&path).display().to_string(),
                    file: dir.join(&path),
                    selector: None,
                    kind: SourceKind::Dotenv,
                    optional: !required,
                });
            }
        }
        out.push(r.clone());
    }
    Ok(out)
}

/// The variables compose interpolates a file with: the `.env` beside it (not the process
/// environment, so that a check gives the same answer on every machine).
fn compose_dotenv(compose: &Path) -> Result<HashMap<String, String>, InputError> {
    let path = compose.parent().unwrap_or(Path::new(".")).join(".env");
    if !path.exists() {
        return Ok(HashMap::new());
    }
    let text = read_text(&path)?;
    Ok(dotenv::parse(&text)
        .entries
        .into_iter()
        .map(|e| (e.key, e.value))
        .collect())
}

/// Whether every required source of an environment exists (for cross-environment comparisons).
pub fn sources_exist(manifest: &Manifest, environment: &str) -> bool {
    manifest.environments.get(environment).is_some_and(|env| {
        env.sources
            .iter()
            .all(|s| resolve_spec(&manifest.root, s).is_ok_and(|r| r.optional || r.file.exists()))
    })
}

/// Loads the sources of one environment of the manifest.
pub fn load_environment(
    manifest: &Manifest,
    environment: &str,
    options: &LoadOptions,
) -> Result<Environment, InputError> {
    let Some(spec) = manifest.environments.get(environment) else {
        let known: Vec<String> = manifest.environments.keys().cloned().collect();
        return Err(InputError::UnknownEnvironment {
            name: environment.to_owned(),
            suggestion: crate::suggest::closest(environment, known.iter().map(String::as_str))
                .map(str::to_owned),
            known,
        });
    };
    let mut files = Vec::new();
    for s in &spec.sources {
        let r = resolve_spec(&manifest.root, s)?;
        if r.optional && !r.file.exists() {
            continue;
        }
        files.push(r);
    }
    let process = if spec.process_env || options.process_env {
        let declared: Vec<&str> = manifest.declarations.keys().map(String::as_str).collect();
        Some(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .filter(|(k, _)| declared.contains(&k.as_str()))
                .collect::<HashMap<_, _>>(),
        )
    } else {
        None
    };
    load_files(
        environment,
        &files,
        process.as_ref(),
        true,
        options.no_expand,
    )
}

/// Loads a plain list of files (`greenlight env FILE…`).
pub fn load_paths(
    paths: &[PathBuf],
    process_env: Option<&HashMap<String, String>>,
    no_expand: bool,
) -> Result<Environment, InputError> {
    let files: Vec<ResolvedSpec> = paths
        .iter()
        .map(|p| {
            let spec = SourceSpec::Path(p.display().to_string());
            resolve_spec(Path::new("."), &spec)
        })
        .collect::<Result<_, _>>()?;
    // As with dotenv-expand, the process environment only overrides and feeds the files' keys.
    load_files("", &files, process_env, false, no_expand)
}

fn load_files(
    environment: &str,
    files: &[ResolvedSpec],
    process: Option<&HashMap<String, String>>,
    process_adds: bool,
    no_expand: bool,
) -> Result<Environment, InputError> {
    let mut env = Environment {
        name: environment.to_owned(),
        ..Default::default()
    };
    // Dotenv assignments are interpolated together, as Vite and dotenv-expand do for a set of
    // files: collect them first, expand once, then lay the other sources over them in order.
    let mut order: Vec<(usize, bool)> = Vec::new(); // (assignment index, is dotenv)
    let files = with_compose_env_files(files)?;
    for r in &files {
        if r.optional && !r.file.exists() {
            continue;
        }
        let text = read_text(&r.file)?;
        let display = r.display.clone();
        let loaded = LoadedSource {
            kind: r.kind,
            path: display.clone(),
            file: Some(r.file.clone()),
            allows: if r.kind == SourceKind::Json {
                Allows::default()
            } else {
                Allows::parse(&text)
            },
            text: Some(text.clone()),
        };
        env.sources.push(loaded);
        match r.kind {
            SourceKind::Dotenv => {
                let index = LineIndex::new(&text);
                let parsed = dotenv::parse(&text);
                for e in &parsed.entries {
                    let origin = Origin::at(
                        SourceKind::Dotenv,
                        &display,
                        Some(&r.file),
                        &index,
                        &text,
                        e.value_span.clone(),
                    );
                    let mut origin = origin;
                    if e.value_span.is_empty() {
                        // `KEY=` : point at the key.
                        let (line, column) = index.line_col(e.key_span.start);
                        origin.line = line;
                        origin.column = column;
                    }
                    order.push((env.assignments.len(), true));
                    env.assignments.push(Assignment {
                        name: e.key.clone(),
                        value: e.value.clone(),
                        origin,
                    });
                }
                for issue in parsed.issues {
                    env.issues.push(SourceIssue {
                        kind: issue.kind,
                        origin: Origin::at(
                            SourceKind::Dotenv,
                            &display,
                            Some(&r.file),
                            &index,
                            &text,
                            issue.span.clone(),
                        ),
                        message: issue.message,
                        key: issue.key,
                    });
                }
            }
            SourceKind::Wrangler => {
                for a in wrangler::read(&display, &r.file, &text, r.selector.as_deref())? {
                    order.push((env.assignments.len(), false));
                    env.assignments.push(a);
                }
            }
            SourceKind::Json => {
                for a in json::read(&display, &r.file, &text, r.selector.as_deref())? {
                    order.push((env.assignments.len(), false));
                    env.assignments.push(a);
                }
            }
            SourceKind::Compose | SourceKind::ComposeInterpolated => {
                let vars = compose_dotenv(&r.file)?;
                let lookup = |name: &str| vars.get(name).cloned();
                let read =
                    yaml::read_compose(&display, &r.file, &text, r.selector.as_deref(), &lookup)?;
                for a in read.assignments {
                    order.push((env.assignments.len(), false));
                    env.assignments.push(a);
                }
            }
            SourceKind::Kubernetes | SourceKind::ConfigMap | SourceKind::KubernetesSecret => {
                for a in yaml::read_kubernetes(&display, &r.file, &text, r.selector.as_deref())? {
                    order.push((env.assignments.len(), false));
                    env.assignments.push(a);
                }
            }
            SourceKind::Process => {}
        }
    }

    // Interpolate the dotenv values in JavaScript object order (last assignment wins).
    let mut winners: IndexMap<&str, usize> = IndexMap::new();
    for &(i, is_dotenv) in &order {
        if is_dotenv {
            let name = env.assignments[i].name.as_str();
            winners.insert(name, i);
        }
    }
    // JS key order: first insertion position, integer keys first.
    let mut first_seen: Vec<&str> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for &(i, is_dotenv) in &order {
        let name = env.assignments[i].name.as_str();
        if is_dotenv && seen.insert(name) {
            first_seen.push(name);
        }
    }
    dotenv::js_object_key_order(&mut first_seen);
    let key_order: Vec<(String, usize)> = first_seen
        .iter()
        .map(|k| (k.to_string(), winners[k]))
        .collect();
    if !no_expand {
        let input: Vec<(String, String)> = key_order
            .iter()
            .map(|(k, i)| (k.clone(), env.assignments[*i].value.clone()))
            .collect();
        let expanded = expand::expand(&input, process);
        for ((_, i), (_, v)) in key_order.iter().zip(expanded.values) {
            env.assignments[*i].value = v;
        }
        env.runaway = expanded.runaway;
    }
    for (name, i) in &key_order {
        env.resolved.insert(name.clone(), *i);
    }
    for &(i, is_dotenv) in &order {
        if !is_dotenv {
            let name = env.assignments[i].name.clone();
            env.resolved.shift_remove(&name);
            env.resolved.insert(name, i);
        }
    }
    // An existing process variable wins over the files (dotenv's and dotenv-expand's rule).
    if let Some(process) = process {
        let mut names: Vec<&String> = process.keys().collect();
        names.sort();
        for name in names {
            let value = &process[name];
            if env.get(name).is_some_and(|a| &a.value == value)
                || (!process_adds && env.get(name).is_none())
            {
                continue;
            }
            let line_text = format!("{name}=…");
            let origin = Origin {
                kind: SourceKind::Process,
                path: "(process environment)".into(),
                file: None,
                line: 0,
                column: 0,
                value_columns: name.len() + 1..line_text.chars().count(),
                line_text,
                in_secret_table: false,
            };
            env.resolved.shift_remove(name);
            env.resolved.insert(name.clone(), env.assignments.len());
            env.assignments.push(Assignment {
                name: name.clone(),
                value: value.clone(),
                origin,
            });
        }
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_comments() {
        let a = Allows::parse("# greenlight:allow-file env-file-not-ignored -- fixture\nA=1 # greenlight:allow weak-secret\n# greenlight:allow placeholder-value\nB=x\n");
        assert!(a.allows(99, "env-file-not-ignored"));
        assert!(a.allows(2, "weak-secret"));
        assert!(!a.allows(2, "placeholder-value"));
        assert!(a.allows(4, "placeholder-value"));
    }
}
