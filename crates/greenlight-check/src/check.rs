//! `greenlight check`: loads one environment, runs every rule, applies the manifest's rule
//! levels and the sources' allow comments, and returns the report.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

pub use crate::rules::secret_values;
use crate::rules::{self, build_views, location_of, Context, OtherSecret, RULES};
use greenlight_core::catalog::Catalog;
use greenlight_core::error::InputError;
use greenlight_core::finding::{Finding, Report, RuleId};
use greenlight_core::fingerprint::Fingerprinter;
use greenlight_core::manifest::Manifest;
use greenlight_core::redact::{Redacted, Redactor};
use greenlight_core::source::{self, Environment, LoadOptions};

#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    pub environment: String,
    pub load: LoadOptions,
    /// The time rotation ages are measured against (tests pin it).
    pub now: Option<DateTime<Utc>>,
}

/// The result of a check: the report, the environment it was computed from, and the redactor
/// that knows every secret value the run has seen.
pub struct Checked {
    pub report: Report,
    pub env: Environment,
    pub redactor: Redactor,
}

impl Checked {
    /// The report, sealed: ready to render.
    pub fn sealed(self) -> Redacted<Report> {
        self.redactor.seal(self.report)
    }
}

/// Variables whose value is a reference to a secret store: where each value will come from.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SecretReferences(pub Vec<SecretReference>);

#[derive(Debug, Clone, serde::Serialize)]
pub struct SecretReference {
    pub variable: String,
    /// The store's name (`1Password`, `AWS Secrets Manager`, …); the reference itself is not
    /// repeated in reports.
    pub store: String,
    /// What resolves the reference into the value.
    pub resolved_by: String,
    pub location: greenlight_core::finding::Location,
}

greenlight_core::redact_fields!(SecretReference {
    variable,
    store,
    resolved_by
});
greenlight_core::section!(SecretReferences, "references");

impl greenlight_core::redact::Redact for SecretReferences {
    fn redact(&mut self, r: &Redactor) {
        for item in &mut self.0 {
            greenlight_core::redact::Redact::redact(item, r);
        }
    }
}

/// The environment's variables set to a secret-store reference (active ones).
pub fn secret_references(
    manifest: &Manifest,
    environment: &str,
    env: &Environment,
) -> SecretReferences {
    SecretReferences(
        build_views(manifest, environment, env)
            .iter()
            .filter(|v| v.active)
            .filter_map(|v| {
                let store = v.reference?;
                Some(SecretReference {
                    variable: v.name.to_owned(),
                    store: store.name.clone(),
                    resolved_by: store.resolved_by.clone(),
                    location: location_of(v.assignment?),
                })
            })
            .collect(),
    )
}

pub fn check(manifest: &Manifest, options: &CheckOptions) -> Result<Checked, InputError> {
    let env = source::load_environment(manifest, &options.environment, &options.load)?;
    let mut secrets = rules::secret_values(manifest, &options.environment, &env);
    let findings = check_loaded(manifest, &options.environment, &env, options, &mut secrets)?;
    let mut report = Report::new("check", Some(options.environment.clone()), findings);
    let references = secret_references(manifest, &options.environment, &env);
    if !references.0.is_empty() {
        report.set_section(references);
    }
    Ok(Checked {
        report,
        env,
        redactor: Redactor::new(secrets),
    })
}

/// Runs the rules on an already loaded environment. The secret values of the other
/// environments it reads are added to `secrets`.
pub fn check_loaded(
    manifest: &Manifest,
    environment: &str,
    env: &Environment,
    options: &CheckOptions,
    secrets: &mut Vec<String>,
) -> Result<Vec<Finding>, InputError> {
    let fingerprinter = Fingerprinter::random();
    let fingerprint = |v: &str| fingerprinter.fingerprint(v);

    // Secrets of the other environments whose sources exist, by keyed fingerprint.
    let mut other_secrets: HashMap<_, Vec<OtherSecret>> = HashMap::new();
    // Production environments may share secrets (a corrected and an as-written variant of one
    // deployment); a production secret must not be shared with a non-production environment.
    let non_production = manifest
        .environments
        .keys()
        .filter(|e| e.as_str() != environment && !manifest.is_production(e));
    for other in non_production {
        if !source::sources_exist(manifest, other) {
            continue;
        }
        // Another environment that cannot be read is not this environment's problem.
        let Ok(other_env) = source::load_environment(
            manifest,
            other,
            &LoadOptions {
                process_env: false,
                no_expand: options.load.no_expand,
            },
        ) else {
            continue;
        };
        secrets.extend(rules::secret_values(manifest, other, &other_env));
        for view in build_views(manifest, other, &other_env) {
            // A password inside a connection URL is a secret of its own, whatever the hosts.
            if let Some(a) = view.assignment.filter(|_| view.placeholder.is_none()) {
                if let Some(pw) = rules::url_password(&a.value) {
                    other_secrets
                        .entry(fingerprint(&pw))
                        .or_default()
                        .push(OtherSecret {
                            environment: other.clone(),
                            variable: format!("{} (its URL password)", view.name),
                            location: location_of(a),
                        });
                }
            }
            if !view.secret || !view.has_real_value() {
                continue;
            }
            let a = view.assignment.expect("has a value");
            other_secrets
                .entry(fingerprint(&a.value))
                .or_default()
                .push(OtherSecret {
                    environment: other.clone(),
                    variable: view.name.to_owned(),
                    location: location_of(a),
                });
        }
    }

    // The rotation ledger beside the manifest; its key lives outside the repository and is never
    // created by `check`.
    let ledger = crate::ledger::Ledger::load(&crate::ledger::Ledger::path_beside(&manifest.path))?;
    let ledger_key = crate::ledger::key(false)?;
    let rotation_first_seen = |variable: &str, value: &str| {
        let key = ledger_key.as_ref()?;
        ledger.first_seen(
            environment,
            variable,
            &crate::ledger::fingerprint(key, environment, variable, value),
        )
    };
    let cx = Context {
        manifest,
        environment,
        production: manifest.is_production(environment),
        env,
        vars: build_views(manifest, environment, env),
        catalog: Catalog::builtin(),
        now: options.now.unwrap_or_else(Utc::now),
        other_secrets,
        fingerprint: &fingerprint,
        rotation_first_seen: &rotation_first_seen,
    };
    let mut findings = Vec::new();
    for rule in RULES {
        let level = manifest.rule_levels.get(&RuleId::from(rule.rule)).copied();
        if level == Some(greenlight_core::manifest::RuleLevel::Off) {
            continue;
        }
        let mut out = Vec::new();
        (rule.run)(&cx, &mut out);
        for mut f in out {
            if let Some(severity) = level.and_then(|l| l.severity()) {
                f.severity = severity;
            }
            if let Some(loc) = &f.location {
                if env.allows(&loc.path, loc.line, f.rule.id()) {
                    continue;
                }
            }
            findings.push(f);
        }
    }
    Ok(findings)
}

/// Convenience for callers that only need the rules' registry.
pub fn rules() -> &'static [rules::RuleInfo] {
    RULES
}
