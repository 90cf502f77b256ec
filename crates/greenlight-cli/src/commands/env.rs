//! `greenlight env`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use greenlight::catalog::{looks_secret_name, Catalog};
use greenlight::error::InputError;
use greenlight::manifest::Manifest;
use greenlight::redact::Redactor;
use greenlight::rules::build_views;
use greenlight::source::{self, Environment, LoadOptions};

use super::*;

#[derive(clap::Args)]
pub struct Args {
    /// Files to read instead of a manifest environment (.env, wrangler.toml#env.X, x.json).
    pub files: Vec<PathBuf>,
    #[arg(long, short, default_value_os_t = super::default_manifest())]
    pub manifest: PathBuf,
    /// The manifest environment to print (when no FILE is given).
    #[arg(long = "env", short = 'e')]
    pub environment: Option<String>,
    #[arg(long, short, value_enum, default_value = "dotenv")]
    pub format: EnvFormat,
    /// Print secrets unmasked.
    #[arg(long)]
    pub reveal: bool,
    /// A literal parse: no `${VAR}` interpolation.
    #[arg(long)]
    pub no_expand: bool,
    /// Let the process environment take part, as dotenv-expand does at run time.
    #[arg(long)]
    pub process_env: bool,
}

pub fn run(args: Args) -> Result<ExitCode, InputError> {
    let Args {
        files,
        manifest,
        environment,
        format,
        reveal,
        no_expand,
        process_env,
    } = args;
    let (env, secret): (Environment, SecretTest) = if files.is_empty() {
        let manifest = Manifest::load(&manifest)?;
        let environment = environment.unwrap_or_else(|| "production".into());
        let env = source::load_environment(
            &manifest,
            &environment,
            &LoadOptions {
                process_env,
                no_expand,
            },
        )?;
        let secrets: Vec<String> = build_views(&manifest, &environment, &env)
            .into_iter()
            .filter(|v| v.declared_secret)
            .map(|v| v.name.to_owned())
            .collect();
        // Values the detectors find in the sources as written (by the name beside them).
        let found: std::collections::HashSet<String> =
            greenlight::check::secret_values(&manifest, &environment, &env)
                .into_iter()
                .collect();
        (
            env,
            Box::new(move |name: &str, value: &str| {
                (secrets.iter().any(|s| s == name), found.contains(value))
            }),
        )
    } else {
        if environment.is_some() {
            return Err(InputError::Usage(
                "give either --env or FILEs, not both".into(),
            ));
        }
        let process: Option<HashMap<String, String>> = process_env.then(|| {
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect()
        });
        let env = source::load_paths(&files, process.as_ref(), no_expand)?;
        let catalog = Catalog::builtin();
        let found: std::collections::HashSet<String> = env
            .sources
            .iter()
            .filter_map(|s| s.text.as_deref())
            .flat_map(|text| {
                greenlight::scan::Detectors::builtin()
                    .scan(text.as_bytes(), greenlight::scan::Generic::On)
                    .into_iter()
                    .filter_map(|hit| text.get(hit.secret).map(str::to_owned))
            })
            .collect();
        (
            env,
            Box::new(move |name: &str, value: &str| {
                let declared = looks_secret_name(name)
                    || catalog
                        .recognise(value)
                        .is_some_and(|f| f.secret && !f.client_safe);
                (declared, found.contains(value))
            }),
        )
    };
    for issue in &env.issues {
        eprintln!(
            "warning: {}:{}:{}: {}",
            issue.origin.path,
            issue.origin.line,
            issue.origin.column,
            Redactor::detectors_only().redact(&issue.message)
        );
    }
    // Masked by declaration, and by value: a secret pasted into a public or undeclared
    // variable is masked too, and said so (on stderr, so stdout stays parseable).
    let mut masked_by_value: Vec<String> = Vec::new();
    let pairs: Vec<(String, String)> = env
        .resolved()
        .map(|a| {
            let (declared, found) = secret(&a.name, &a.value);
            let shown = if reveal {
                a.value.clone()
            } else {
                if !declared {
                    match greenlight::redact::held_secret(&a.value) {
                        Some(kind) => masked_by_value.push(format!("{} (holds a {kind})", a.name)),
                        None if found => masked_by_value.push(format!(
                            "{} (a secret the detectors find by its name)",
                            a.name
                        )),
                        None => {}
                    }
                }
                greenlight::redact::Shown::of(&a.value, declared || found)
                    .as_str()
                    .to_owned()
            };
            (a.name.clone(), shown)
        })
        .collect();
    emit(&render_env(&pairs, format));
    if !masked_by_value.is_empty() {
        eprintln!(
            "greenlight: masked for what they hold, though not declared secret: {}",
            masked_by_value.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EnvFormat {
    Json,
    Dotenv,
    Shell,
}

/// Whether a variable's value is a secret: `(name, value) -> (declared so, found so by the
/// detectors in the sources as written)`.
pub(crate) type SecretTest = Box<dyn Fn(&str, &str) -> (bool, bool)>;

pub(crate) fn render_env(pairs: &[(String, String)], format: EnvFormat) -> String {
    match format {
        EnvFormat::Json => {
            let map: serde_json::Map<String, serde_json::Value> = pairs
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            serde_json::to_string(&map).expect("json") + "\n"
        }
        EnvFormat::Dotenv => pairs
            .iter()
            .map(|(k, v)| format!("{k}={}\n", dotenv_quote(v)))
            .collect(),
        EnvFormat::Shell => pairs
            .iter()
            .map(|(k, v)| format!("export {k}='{}'\n", v.replace('\'', "'\\''")))
            .collect(),
    }
}

/// Quotes a value so that node's dotenv reads it back unchanged where its dialect allows.
pub(crate) fn dotenv_quote(v: &str) -> String {
    let plain = !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:@,+=%~*…".contains(c));
    if plain || v.is_empty() {
        v.to_owned()
    } else if !v.contains('\'') && !v.contains('\n') {
        format!("'{v}'")
    } else {
        format!("\"{}\"", v.replace('\n', "\\n").replace('\r', "\\r"))
    }
}
