//! `greenlight init`: a first manifest from the configuration already there — every `.env*` file
//! of a directory (one environment each) and the environments of its `wrangler.toml`.
//!
//! Each variable's format is recognised from its values (the production value first): a value a
//! catalog format recognises by its shape (`sk_live_…`, a Fernet key, a Postgres URL), else the
//! provider format whose id best matches the variable's name and validates the value, else a
//! plain type (URL, e-mail, boolean, number, date…). Secrets are marked, variables are grouped by
//! provider or name prefix, and no value is ever copied into the manifest.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use indexmap::IndexMap;

use crate::rules::CLIENT_PREFIXES;
use greenlight_core::catalog::{self, Catalog, Check, Format};
use greenlight_core::error::InputError;
use greenlight_core::source::load_paths;

/// One environment found in the directory.
struct FoundEnvironment {
    name: String,
    sources: Vec<String>,
    values: IndexMap<String, String>,
    production: bool,
}

const RUNTIME_MODE_NAMES: &[&str] = &[
    "NODE_ENV",
    "APP_ENV",
    "ENVIRONMENT",
    "VITE_NODE_ENV",
    "RAILS_ENV",
    "FLASK_ENV",
    "NEXT_PUBLIC_NODE_ENV",
];

fn environments(dir: &Path) -> Result<Vec<FoundEnvironment>, InputError> {
    let mut envs: Vec<FoundEnvironment> = Vec::new();
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| InputError::io(dir, e))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| {
            n == ".env"
                || (n.starts_with(".env.")
                    && ![".example", ".template", ".sample", ".dist"]
                        .iter()
                        .any(|s| n.ends_with(s)))
        })
        .collect();
    names.sort();
    for file in names {
        let env_name = file
            .strip_prefix(".env.")
            .unwrap_or("development")
            .to_owned();
        let loaded = load_paths(&[dir.join(&file)], None, false)?;
        let values: IndexMap<String, String> = loaded
            .resolved()
            .map(|a| (a.name.clone(), a.value.clone()))
            .collect();
        envs.push(FoundEnvironment {
            name: env_name,
            sources: vec![file],
            values,
            production: false,
        });
    }
    let wrangler = dir.join("wrangler.toml");
    if wrangler.exists() {
        let text = greenlight_core::error::read_text(&wrangler)?;
        let doc = toml_edit::Document::parse(text.as_str()).map_err(|e| InputError::Source {
            path: wrangler.clone(),
            line: 0,
            column: 0,
            message: e.message().to_owned(),
        })?;
        if let Some(env_table) = doc.as_table().get("env").and_then(|e| e.as_table_like()) {
            for (name, _) in env_table.iter() {
                let spec = format!("wrangler.toml#env.{name}");
                let loaded = load_paths(&[dir.join(&spec)], None, true)?;
                let values: IndexMap<String, String> = loaded
                    .resolved()
                    .map(|a| (a.name.clone(), a.value.clone()))
                    .collect();
                match envs.iter_mut().find(|e| e.name == name) {
                    Some(e) => {
                        e.sources.push(spec);
                        for (k, v) in values {
                            e.values.insert(k, v);
                        }
                    }
                    None => envs.push(FoundEnvironment {
                        name: name.to_owned(),
                        sources: vec![spec],
                        values,
                        production: false,
                    }),
                }
            }
        }
    }
    for e in &mut envs {
        e.production = matches!(e.name.as_str(), "production" | "prod" | "live")
            || RUNTIME_MODE_NAMES
                .iter()
                .any(|n| e.values.get(*n).is_some_and(|v| v == "production"));
    }
    Ok(envs)
}

/// Variables the services of a docker-compose file expect: `environment:` as a list
/// (`KEY=value`, `KEY`) or a map. Values that are `${…}` references carry no format, only the
/// name. greenlight does not read compose files as a source yet, so these variables are declared
/// (with what their literal values say) but not required.
fn compose_variables(dir: &Path) -> Result<IndexMap<String, Option<String>>, InputError> {
    let mut out = IndexMap::new();
    for name in [
        "docker-compose.yml",
        "docker-compose.yaml",
        "compose.yml",
        "compose.yaml",
    ] {
        let path = dir.join(name);
        if !path.exists() {
            continue;
        }
        let text = greenlight_core::error::read_text(&path)?;
        let docs =
            yaml_rust2::YamlLoader::load_from_str(&text).map_err(|e| InputError::Source {
                path: path.clone(),
                line: e.marker().line(),
                column: e.marker().col() + 1,
                message: e.info().to_owned(),
            })?;
        for doc in docs {
            let Some(services) = doc["services"].as_hash() else {
                continue;
            };
            for (_, service) in services {
                let env = &service["environment"];
                let pairs: Vec<(String, Option<String>)> = if let Some(list) = env.as_vec() {
                    list.iter()
                        .filter_map(|item| item.as_str())
                        .map(|item| match item.split_once('=') {
                            Some((k, v)) => (k.trim().to_owned(), Some(v.to_owned())),
                            None => (item.trim().to_owned(), None),
                        })
                        .collect()
                } else if let Some(map) = env.as_hash() {
                    map.iter()
                        .filter_map(|(k, v)| {
                            let value = v
                                .as_str()
                                .map(str::to_owned)
                                .or_else(|| v.as_i64().map(|n| n.to_string()))
                                .or_else(|| v.as_bool().map(|b| b.to_string()));
                            Some((k.as_str()?.to_owned(), value))
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                for (k, v) in pairs {
                    let literal = v.filter(|v| !v.contains("${") && !v.starts_with('$'));
                    let entry = out.entry(k).or_insert(None);
                    if entry.is_none() {
                        *entry = literal;
                    }
                }
            }
        }
    }
    Ok(out)
}

fn tokens(s: &str) -> Vec<String> {
    s.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The variable's name without a bundler prefix (`VITE_STRIPE_PUBLIC_KEY` → `STRIPE_PUBLIC_KEY`).
fn base_name(name: &str) -> &str {
    CLIENT_PREFIXES
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name)
}

/// Synonyms between variable names and catalog ids (`PUBLIC` for `publishable`, `CLAUDE` for
/// `anthropic`); everything else matches by shared words.
fn normalise(token: &str) -> &str {
    match token {
        "public" | "pub" => "publishable",
        "claude" => "anthropic",
        "oauth" => "oauth",
        "dsn" => "dsn",
        "secret" => "secret",
        "refresh" => "refresh",
        "id" | "ids" => "id",
        other => other,
    }
}

/// How well a format id fits a variable name: shared words, the provider word required.
fn name_score(format: &Format, name: &str) -> usize {
    let Some(provider) = format.provider() else {
        return 0;
    };
    let name_tokens: Vec<String> = tokens(base_name(name))
        .iter()
        .map(|t| normalise(t).to_owned())
        .collect();
    let provider = normalise(provider);
    let provider_aliases: &[&str] = match provider {
        "aws" => &["aws"],
        "r2" => &["r2"],
        "google" => &["google", "gcp"],
        _ => &[],
    };
    if !name_tokens
        .iter()
        .any(|t| t == provider || provider_aliases.contains(&t.as_str()))
    {
        return 0;
    }
    let id_tokens: Vec<String> = tokens(&format.id)
        .iter()
        .map(|t| normalise(t).to_owned())
        .collect();
    id_tokens.iter().filter(|t| name_tokens.contains(t)).count()
}

/// The format for a variable, from its name and the values it has (reference value first).
fn infer_format(name: &str, values: &[&str]) -> Option<&'static Format> {
    let catalog = Catalog::builtin();
    let real: Vec<&str> = values
        .iter()
        .copied()
        .filter(|v| !v.is_empty() && catalog::is_placeholder(v, None).is_none())
        .collect();
    // 1. A shape only one format has. A public format's shape wins over a secret one's (a
    //    Supabase anon JWT is a JWT too): `pk_live_…` in a name without "publishable" is still
    //    a publishable key.
    let first = real.first();
    let client_safe = first.and_then(|v| {
        catalog
            .formats()
            .iter()
            .find(|f| f.client_safe && f.recognises(v) && f.validate(v, f.bytes, &f.values).is_ok())
    });
    if let Some(f) = client_safe.or_else(|| first.and_then(|v| catalog.recognise(v))) {
        // A public format of the provider the name names, that the values satisfy, wins over a
        // secret shape they share (`VITE_FIREBASE_API_KEY=AIza…` is Firebase's public web key,
        // `RECAPTCHA_SITE_KEY` a site key).
        if f.secret {
            if let Some(public) = public_format_named(name, &real) {
                return Some(public);
            }
        }
        return Some(f);
    }
    // 2. The provider format named by the variable that its values satisfy.
    let mut best: Option<(&Format, usize)> = None;
    for f in catalog.formats() {
        let score = name_score(f, name);
        if score < 2 {
            continue; // the provider and at least one more word: `PUSHER_KEY` → `pusher.key`
        }
        let fits = real
            .iter()
            .all(|v| f.validate(v, f.bytes, &f.values).is_ok());
        // On a tie, a variable bundled into browser code (`NEXT_PUBLIC_STRIPE_KEY`) is taken to
        // hold the provider's public value, not its secret one.
        let client = crate::rules::CLIENT_PREFIXES
            .iter()
            .any(|p| name.starts_with(p));
        let better = |(b, s): (&Format, usize)| {
            score > s || (score == s && client && f.client_safe && !b.client_safe)
        };
        if fits && best.is_none_or(better) {
            best = Some((f, score));
        }
    }
    if let Some((f, _)) = best {
        return Some(f);
    }
    // 3. Plain types, by value (all values must agree) and a few conventional names.
    let upper = base_name(name).to_ascii_uppercase();
    if RUNTIME_MODE_NAMES.contains(&name)
        && real.iter().all(|v| {
            catalog
                .get("node_env")
                .is_some_and(|f| f.validate(v, None, &f.values).is_ok())
        })
    {
        return catalog.get("node_env");
    }
    if upper.ends_with("LOG_LEVEL") {
        return catalog.get("log_level");
    }
    let all = |id: &str| -> Option<&'static Format> {
        let f = catalog.get(id)?;
        (!real.is_empty()
            && real
                .iter()
                .all(|v| f.validate(v, f.bytes, &f.values).is_ok()))
        .then_some(f)
    };
    if real.iter().all(|v| v.starts_with("postgres")) {
        return all("postgres.url");
    }
    if real.iter().all(|v| v.starts_with("redis")) {
        return all("redis.url");
    }
    if upper.ends_with("_ORIGINS") {
        return all("origins");
    }
    for id in [
        "bool",
        "int",
        "float",
        "uuid",
        "datetime",
        "email",
        "https_url",
        "url",
        "cron",
    ] {
        if let Some(f) = all(id) {
            return Some(f);
        }
    }
    if upper.ends_with("_HOST") {
        return all("hostname");
    }
    None
}

/// The client-safe format the variable's name names (provider and at least one more word), if
/// every value satisfies it.
fn public_format_named(name: &str, real: &[&str]) -> Option<&'static Format> {
    Catalog::builtin()
        .formats()
        .iter()
        .filter(|f| f.client_safe && name_score(f, name) >= 2)
        .filter(|f| {
            real.iter()
                .all(|v| f.validate(v, f.bytes, &f.values).is_ok())
        })
        .max_by_key(|f| name_score(f, name))
}

fn service_of(name: &str, format: Option<&Format>) -> String {
    if let Some(p) = format.and_then(Format::provider) {
        return p.to_owned();
    }
    let first = tokens(base_name(name))
        .into_iter()
        .next()
        .unwrap_or_else(|| "app".into());
    match first.as_str() {
        "enable" | "app" | "node" | "debug" | "log" | "environment" | "max" | "request"
        | "frontend" | "backend" | "admin" | "support" | "billing" | "compliance"
        | "certificate" | "production" => "app".into(),
        other => other.to_owned(),
    }
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// The app folders of a monorepo below `root` (not `root` itself): folders holding `.env*`
/// files or a `wrangler.toml`, as `init` would start from, up to four levels down, honouring
/// `.gitignore`. Each can have a manifest of its own.
pub fn app_folders(root: &Path) -> Vec<std::path::PathBuf> {
    let mut found: Vec<std::path::PathBuf> = ignore::WalkBuilder::new(root)
        .hidden(false)
        .max_depth(Some(5))
        .filter_entry(|e| {
            !matches!(
                e.file_name().to_str(),
                Some(".git" | "node_modules" | "target" | "vendor" | "dist" | "build")
            )
        })
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .filter(|e| {
            let name = e.file_name().to_string_lossy();
            name == "wrangler.toml"
                || name == ".env"
                || (name.starts_with(".env.")
                    && ![".example", ".template", ".sample", ".dist"]
                        .iter()
                        .any(|s| name.ends_with(s)))
        })
        .filter_map(|e| e.path().parent().map(Path::to_path_buf))
        .filter(|dir| dir.as_path() != root)
        .map(|dir| dir.strip_prefix("./").map(Path::to_path_buf).unwrap_or(dir))
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Writes a manifest for the configuration in `dir`.
pub fn init(dir: &Path) -> Result<String, InputError> {
    if !dir.is_dir() {
        return Err(InputError::Usage(format!(
            "{} is not a directory",
            dir.display()
        )));
    }
    let envs = environments(dir)?;
    let compose = compose_variables(dir)?;
    if envs.is_empty() {
        return Err(InputError::Usage(format!(
            "{} has no .env* files or wrangler.toml environments to start from{}",
            dir.display(),
            if compose.is_empty() {
                ""
            } else {
                " (docker-compose variables alone name no environment)"
            }
        )));
    }
    // Variable → values, the production environments' first.
    let mut variables: IndexMap<String, Vec<(&str, &str)>> = IndexMap::new();
    let mut ordered: Vec<&FoundEnvironment> = envs.iter().collect();
    ordered.sort_by_key(|e| !e.production);
    for e in &envs {
        for k in e.values.keys() {
            variables.entry(k.clone()).or_default();
        }
    }
    for e in &ordered {
        for (k, v) in &e.values {
            variables
                .get_mut(k)
                .expect("inserted")
                .push((e.name.as_str(), v.as_str()));
        }
    }
    let production_set: Vec<&str> = envs
        .iter()
        .filter(|e| e.production)
        .map(|e| e.name.as_str())
        .collect();
    for (name, value) in &compose {
        let entry = variables.entry(name.clone()).or_default();
        if let Some(v) = value {
            entry.push(("docker-compose", v.as_str()));
        }
    }
    let production_envs: Vec<&str> = envs
        .iter()
        .filter(|e| e.production)
        .map(|e| e.name.as_str())
        .collect();

    let mut services: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, values) in &variables {
        // Production values decide the format when there are real ones: a development value such
        // as `http://localhost:3000` must not loosen `https_url` to `url`.
        let real = |v: &&str| !v.is_empty() && catalog::is_placeholder(v, None).is_none();
        let production_values: Vec<&str> = values
            .iter()
            .filter(|(e, v)| production_set.contains(e) && real(v))
            .map(|(_, v)| *v)
            .collect();
        let just_values: Vec<&str> = if production_values.is_empty() {
            values.iter().map(|(_, v)| *v).collect()
        } else {
            production_values
        };
        let format = infer_format(name, &just_values);
        let secret = format.map_or_else(
            || catalog::looks_secret_name(name),
            |f| {
                f.secret && !f.client_safe
                    || (f.check == Check::Any && catalog::looks_secret_name(name))
            },
        );
        let mut fields: Vec<String> = Vec::new();
        let format = format.or_else(|| secret.then(|| Catalog::builtin().get("secret")).flatten());
        if let Some(f) = format {
            fields.push(format!("format = {}", toml_string(&f.id)));
        }
        if secret && format.is_none_or(|f| !f.secret) {
            fields.push("secret = true".into());
        }
        let present_in: Vec<&str> = envs
            .iter()
            .filter(|e| e.values.contains_key(name))
            .map(|e| e.name.as_str())
            .collect();
        if present_in.is_empty() {
            fields.push("required = false".into());
        } else if present_in.len() < envs.len() {
            let list: Vec<String> = present_in.iter().map(|e| toml_string(e)).collect();
            fields.push(format!("required = [{}]", list.join(", ")));
        }
        if RUNTIME_MODE_NAMES.contains(&name.as_str()) && !production_envs.is_empty() {
            let overrides: Vec<String> = production_envs
                .iter()
                .map(|e| format!("env.{} = {{ values = [\"production\"] }}", toml_key(e)))
                .collect();
            fields.extend(overrides);
        }
        let mut line = if fields.is_empty() {
            format!("vars.{name} = {{}}")
        } else {
            format!("vars.{name} = {{ {} }}", fields.join(", "))
        };
        if present_in.is_empty() {
            // After the inline table: TOML allows no comment inside one.
            line.push_str("  # named by docker-compose only");
        }
        services
            .entry(service_of(name, format))
            .or_default()
            .push(line);
    }

    // Taplo (and the editors built on it) read this line to complete and validate the file.
    let mut out = format!("#:schema {}\n", greenlight_core::manifest::SCHEMA_URL);
    let project = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "app".into());
    let _ = writeln!(
        out,
        "# greenlight.toml — written by `greenlight init` from {}.",
        envs.iter()
            .flat_map(|e| e.sources.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "# Formats were recognised from the values; no value was copied here. Review every line:"
    );
    let _ = writeln!(out, "# add descriptions, `enabled_if` conditions, `rotate_every`, and mark what `init` could not know.\n");
    let _ = writeln!(
        out,
        "[project]\nname = {}\nenvironments = [{}]\n",
        toml_string(&project),
        envs.iter()
            .map(|e| toml_string(&e.name))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for e in &envs {
        let _ = writeln!(out, "[environments.{}]", toml_key(&e.name));
        let _ = writeln!(
            out,
            "sources = [{}]",
            e.sources
                .iter()
                .map(|s| toml_string(s))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if e.production && !matches!(e.name.as_str(), "production" | "prod" | "live") {
            let _ = writeln!(out, "production = true  # its runtime mode says production");
        }
        out.push('\n');
    }
    for (service, lines) in services {
        let _ = writeln!(out, "[services.{}]", toml_key(&service));
        for l in lines {
            let _ = writeln!(out, "{l}");
        }
        out.push('\n');
    }
    Ok(out)
}

fn toml_key(k: &str) -> String {
    if k.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_owned()
    } else {
        toml_string(k)
    }
}

#[cfg(test)]
mod tests {
    use super::infer_format;

    fn id(name: &str, values: &[&str]) -> Option<String> {
        infer_format(name, values).map(|f| f.id.clone())
    }

    /// Publishable and public keys are declared as their public formats, whatever their
    /// variable's name says (issue: `pk_live_` in `NEXT_PUBLIC_STRIPE_KEY` was a secret key).
    #[test]
    fn public_keys_get_public_formats() {
        let pk = "pk_live_uq0HdOi7rQf0Vh1HjOd3yYV3cfHEs8XiuMxvMfynWZQ81ate8KZ64";
        assert_eq!(
            id("NEXT_PUBLIC_STRIPE_KEY", &[pk]).as_deref(),
            Some("stripe.publishable_key")
        );
        let pk_test = "pk_test_koKip7XXEqq19FPHRHIgoiJiJhH4oQMH6tHUNLHJjBiUAqPd3DvFqLiv";
        assert_eq!(
            id("NEXT_PUBLIC_STRIPE_KEY", &[pk_test]).as_deref(),
            Some("stripe.publishable_key")
        );
        // A placeholder value: the browser-bundled name decides.
        assert_eq!(
            id("NEXT_PUBLIC_STRIPE_KEY", &["pk_live_your_key_here"]).as_deref(),
            Some("stripe.publishable_key")
        );
        assert_eq!(
            id(
                "VITE_MAPBOX_TOKEN",
                &["pk.eyJ1IjoibWFwYm94LXByb2QiLCJhIjoiY2x4eTk4NzZ5MDAwMSJ9.Qx8vN3mL2pR7tY5wK9zB4c"]
            )
            .as_deref(),
            Some("mapbox.public_token")
        );
        assert_eq!(
            id(
                "VITE_FIREBASE_API_KEY",
                &["AIza5dbgNLWdZ2V4D-rPV5XYYUjOy8nbcgIoayf"]
            )
            .as_deref(),
            Some("firebase.api_key")
        );
        // A Google API key elsewhere stays a secret.
        assert_eq!(
            id(
                "GEMINI_API_KEY",
                &["AIza5dbgNLWdZ2V4D-rPV5XYYUjOy8nbcgIoayf"]
            )
            .as_deref(),
            Some("google.api_key")
        );
        let sk = "sk_live_7uXtXRKyccefTDgpukRzthFvQDYUN7jm8lBwQ32dLKI28Ih0";
        assert_eq!(
            id("NEXT_PUBLIC_STRIPE_KEY", &[sk]).as_deref(),
            Some("stripe.secret_key")
        );
    }

    #[test]
    fn supabase_anon_jwts_and_site_keys_are_public() {
        // header {"alg":"HS256","typ":"JWT"}, payload with "role":"anon".
        let anon = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZSIsInJlZiI6ImFiY2RlZmdoaWprbG1ub3BxcnN0Iiwicm9sZSI6ImFub24iLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MjAwMDAwMDAwMH0.c2lnbmF0dXJlLXBsYWNlaG9sZGVyLW5vdC1yZWFsLTEyMzQ1Njc4OTA";
        let f = id("VITE_SUPABASE_ANON_KEY", &[anon]);
        assert_eq!(f.as_deref(), Some("supabase.anon_key"));
        let site = "6LdvV0kqAAAAAHdH3PvTZTg3vGo0Q5bHQfV5NqZs";
        assert_eq!(
            id("RECAPTCHA_SITE_KEY", &[site]).as_deref(),
            Some("recaptcha.site_key")
        );
    }
}
