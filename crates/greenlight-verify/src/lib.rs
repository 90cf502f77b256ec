//! `greenlight verify`: asks each credential's own provider whether it works, and whether it is
//! the right one for this production — live, the right account, the scopes it needs and no
//! more, the webhook registered for the events the app handles, the sender authenticated, the
//! Worker's secrets in place.
//!
//! How each provider is asked is data (`providers.toml`, [`spec`]); what needs code is a small
//! named function: request signing ([`sign`]) and the checks beyond "alive" ([`checks`]). The
//! network goes through one client ([`http`]) that sends a credential only to its provider's
//! pinned host, over verified TLS, without redirects, with per-host limits. A provider that
//! cannot be asked, a timeout, a 429 or a 5xx is `unknown` — never a pass.
//!
//! Like `probe`, this is a network subsystem: only `verify`, `check --verify`, `scan --verify`
//! and `golive` (unless `--no-verify`) call it.

pub mod checks;
pub mod http;
pub mod sign;
pub mod spec;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use greenlight_check::rules::build_views;
use greenlight_core::error::InputError;
use greenlight_core::finding::{Finding, Location, Report, RuleId, Severity};
use greenlight_core::manifest::Manifest;
use greenlight_core::redact::Redactor;
use greenlight_core::source::{self, Environment, LoadOptions};

pub use http::Endpoints;
use spec::{Call, Provider};

/// The outcome of one check (shared with `probe`).
pub use greenlight_core::finding::CheckStatus as Status;

/// What the provider said of one credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Liveness {
    Valid,
    Invalid,
    Unknown,
}

impl Liveness {
    pub fn as_str(self) -> &'static str {
        match self {
            Liveness::Valid => "valid",
            Liveness::Invalid => "invalid",
            Liveness::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// A stable check id (`credential.key`, `stripe.webhook`, `scopes.required`, …).
    pub check: String,
    pub status: Status,
    /// The rule a failure is reported under.
    pub rule: RuleId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    pub message: String,
}

impl Check {
    pub fn pass(check: &str, rule: RuleId, message: impl Into<String>) -> Check {
        Check {
            check: check.to_owned(),
            status: Status::Pass,
            rule,
            severity: None,
            message: message.into(),
        }
    }
    pub fn fail(
        check: &str,
        rule: RuleId,
        severity: Severity,
        message: impl Into<String>,
    ) -> Check {
        Check {
            check: check.to_owned(),
            status: Status::Fail,
            rule,
            severity: Some(severity),
            message: message.into(),
        }
    }
    pub fn unknown(check: &str, rule: RuleId, message: impl Into<String>) -> Check {
        Check {
            check: check.to_owned(),
            status: Status::Unknown,
            rule,
            severity: None,
            message: message.into(),
        }
    }
}

/// One credential's verdict within a verification.
#[derive(Debug, Clone, Serialize)]
pub struct Credential {
    pub role: String,
    pub variable: String,
    pub status: Liveness,
}

/// One service's credentials verified together with one provider: the envelope's
/// `verifications` entries.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub service: String,
    pub provider: String,
    pub title: String,
    /// The host asked (pinned), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// `fail` if any check failed, else `unknown` if any could not tell, else `pass`.
    pub status: Status,
    pub credentials: Vec<Credential>,
    /// What the provider said that is not secret: account, scopes, mode, TTL, …
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub facts: BTreeMap<String, Value>,
    pub checks: Vec<Check>,
    /// What verification cannot see (quota, spend limits, redirect URIs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub requests: usize,
    pub duration_ms: u64,
    #[serde(skip)]
    pub location: Option<Location>,
}

greenlight_core::redact_fields!(Check { check, message });
greenlight_core::redact_fields!(Credential { role, variable });

impl greenlight_core::redact::Redact for Verification {
    fn redact(&mut self, r: &Redactor) {
        self.service.redact(r);
        self.provider.redact(r);
        self.title.redact(r);
        self.host.redact(r);
        self.credentials.redact(r);
        self.checks.redact(r);
        self.notes.redact(r);
        self.location.redact(r);
        for v in self.facts.values_mut() {
            redact_value(v, r);
        }
    }
}

fn redact_value(v: &mut Value, r: &Redactor) {
    match v {
        Value::String(s) => *s = r.redact(s),
        Value::Array(a) => a.iter_mut().for_each(|v| redact_value(v, r)),
        Value::Object(o) => o.values_mut().for_each(|v| redact_value(v, r)),
        _ => {}
    }
}

/// The envelope's `verifications`.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Verifications(pub Vec<Verification>);

impl greenlight_core::redact::Redact for Verifications {
    fn redact(&mut self, r: &Redactor) {
        self.0.redact(r);
    }
}

greenlight_core::section!(Verifications, "verifications");

impl Verifications {
    /// The verification status of a service (all its providers): for golive's `verify:SERVICE`.
    pub fn status_of(&self, service: &str) -> Option<Status> {
        let of: Vec<Status> = self
            .0
            .iter()
            .filter(|v| v.service == service)
            .map(|v| v.status)
            .collect();
        if of.is_empty() {
            None
        } else if of.contains(&Status::Fail) {
            Some(Status::Fail)
        } else if of.contains(&Status::Unknown) {
            Some(Status::Unknown)
        } else {
            Some(Status::Pass)
        }
    }
}

/// What the manifest expects of a service's credentials, `${VAR}`s resolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expect {
    pub account: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub allow_scopes: Option<Vec<String>>,
    pub webhook: Option<WebhookExpect>,
    pub sender: Option<String>,
    pub domain: Option<String>,
    pub worker: Option<String>,
    pub secrets: Vec<String>,
    pub bucket: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookExpect {
    pub url: String,
    pub events: Vec<String>,
}

impl Expect {
    fn get(&self, name: &str) -> Option<String> {
        match name {
            "account" => self.account.clone(),
            "sender" => self.sender.clone(),
            "domain" => self.domain.clone(),
            "worker" => self.worker.clone(),
            "bucket" => self.bucket.clone(),
            "webhook" => self.webhook.as_ref().map(|w| w.url.clone()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct VerifyOptions {
    pub environment: String,
    pub load: LoadOptions,
    /// Only these services (all when empty).
    pub only: Vec<String>,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Test emulators instead of the providers (loopback only; the CLI warns).
    pub endpoints: Endpoints,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            environment: String::new(),
            load: LoadOptions::default(),
            only: Vec::new(),
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            endpoints: Endpoints::default(),
        }
    }
}

/// The result of `verify`.
pub struct Verified {
    pub report: Report,
    pub redactor: Redactor,
}

/// One group of credentials to verify together.
#[derive(Debug, Clone)]
pub struct Planned {
    pub service: String,
    pub provider: &'static Provider,
    /// Role → value (raw: never shown), role → variable.
    values: HashMap<String, String>,
    variables: HashMap<String, String>,
    expect: Expect,
    location: Option<Location>,
    /// Why nothing is sent (a provider that cannot be asked, a missing credential).
    problem: Option<String>,
}

/// Loads the environment, plans and runs its verifications, and reports.
pub fn verify(manifest: &Manifest, options: &VerifyOptions) -> Result<Verified, InputError> {
    let env = source::load_environment(manifest, &options.environment, &options.load)?;
    let planned = plan(manifest, &options.environment, &env, &options.only)?;
    let production = manifest.is_production(&options.environment);
    let results = run(planned, options, production);
    let redactor = Redactor::new(greenlight_check::check::secret_values(
        manifest,
        &options.environment,
        &env,
    ));
    let findings = findings_of(&results);
    let mut report = Report::new("verify", Some(options.environment.clone()), findings);
    report.set_section(Verifications(results));
    Ok(Verified { report, redactor })
}

/// The providers that apply to a service: the one its `verify.provider` names, or every provider
/// whose first role one of its variables fills by format.
fn providers_of(
    manifest: &Manifest,
    service: &str,
    named: Option<&str>,
) -> Result<Vec<&'static Provider>, InputError> {
    if let Some(id) = named {
        return spec::provider(id).map(|p| vec![p]).ok_or_else(|| {
            let ids = spec::providers().iter().map(|p| p.id.as_str());
            let hint = greenlight_core::did_you_mean(id, ids)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            InputError::Usage(format!(
                "{}: [services.{service}.verify] names provider `{id}`, which greenlight does not know{hint}; `greenlight verify --providers` lists them",
                manifest.display_path()
            ))
        });
    }
    let formats: Vec<&str> = manifest
        .services
        .get(service)
        .map(|s| {
            s.vars
                .values()
                .filter_map(|v| v.format.as_ref().map(|f| f.get_ref().as_str()))
                .collect()
        })
        .unwrap_or_default();
    Ok(spec::providers()
        .iter()
        .filter(|p| {
            p.roles
                .get(&p.credential)
                .is_some_and(|r| r.formats.iter().any(|f| formats.contains(&f.as_str())))
        })
        .collect())
}

/// The verifications of an environment, one per (service, provider).
pub fn plan(
    manifest: &Manifest,
    environment: &str,
    env: &Environment,
    only: &[String],
) -> Result<Vec<Planned>, InputError> {
    let views = build_views(manifest, environment, env);
    for name in only {
        if !manifest.services.contains_key(name) {
            let hint =
                greenlight_core::did_you_mean(name, manifest.services.keys().map(String::as_str))
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
            return Err(InputError::Usage(format!(
                "no service named `{name}` in the manifest{hint}"
            )));
        }
    }
    let mut out = Vec::new();
    for (service_name, service) in &manifest.services {
        if !only.is_empty() && !only.contains(service_name) {
            continue;
        }
        let spec = service.verify.clone().unwrap_or_default();
        if spec.enabled == Some(false) {
            continue;
        }
        if spec
            .environments
            .as_ref()
            .is_some_and(|e| !e.iter().any(|e| e == environment))
        {
            continue;
        }
        // A service whose condition does not hold in this environment is not used: nothing to ask.
        let in_service: Vec<_> = views
            .iter()
            .filter(|v| v.service == Some(service_name.as_str()))
            .collect();
        if !in_service.is_empty() && !in_service.iter().any(|v| v.active) {
            continue;
        }
        let header = format!("[services.{service_name}]");
        let line = if spec.line > 0 {
            spec.line
        } else {
            manifest
                .text
                .find(&header)
                .map_or(1, |at| manifest.text[..at].matches('\n').count() + 1)
        };
        let location = Some(Location {
            path: manifest.display_path(),
            line,
            column: 1,
        });
        for provider in providers_of(manifest, service_name, spec.provider.as_deref())? {
            let mut values = HashMap::new();
            let mut variables = HashMap::new();
            let mut problems = Vec::new();
            for (role_name, role) in &provider.roles {
                // The manifest's mapping, then the service's variables by format, then a variable
                // of that format declared once anywhere in the manifest.
                let mapped = spec.vars.get(role_name).cloned();
                let by_format = |in_service_only: bool| -> Vec<&str> {
                    views
                        .iter()
                        .filter(|v| v.declaration.is_some())
                        .filter(|v| !in_service_only || v.service == Some(service_name.as_str()))
                        .filter(|v| {
                            v.format
                                .is_some_and(|f| role.formats.iter().any(|rf| rf == &f.format.id))
                        })
                        .map(|v| v.name)
                        .collect()
                };
                let var = mapped.or_else(|| {
                    let local = by_format(true);
                    if let Some(v) = local.first() {
                        return Some((*v).to_owned());
                    }
                    let global = by_format(false);
                    (global.len() == 1).then(|| global[0].to_owned())
                });
                let Some(var) = var else {
                    if !role.optional {
                        problems.push(format!(
                            "needs its {role_name} ({}); declare it in [services.{service_name}] or map it with verify.vars.{role_name}",
                            if role.formats.is_empty() { "a variable".to_owned() } else { format!("format {}", role.formats.join(" or ")) }
                        ));
                    }
                    continue;
                };
                let view = views.iter().find(|v| v.name == var);
                let value = view.and_then(|v| v.value()).unwrap_or("");
                if value.is_empty() {
                    if !role.optional {
                        problems.push(format!("`{var}` is not set in {environment}"));
                    }
                    continue;
                }
                if let Some(reason) = view.and_then(|v| v.placeholder) {
                    problems.push(format!(
                        "`{var}` is a placeholder ({reason}): nothing to ask"
                    ));
                    continue;
                }
                if let Some(f) = view.and_then(|v| v.format) {
                    if f.format.validate(value, f.param, &[]).is_err() {
                        problems.push(format!(
                            "`{var}` does not have the shape of a {} (see `check`): not sent",
                            f.format.title
                        ));
                        continue;
                    }
                }
                values.insert(role_name.clone(), value.to_owned());
                variables.insert(role_name.clone(), var);
            }
            for (name, d) in &provider.derive {
                if let Some(v) = values.get(&d.from) {
                    let re =
                        regex::Regex::new(&d.pattern).expect("validated by the providers test");
                    match re.captures(v).and_then(|c| c.get(1)) {
                        Some(m) => {
                            values.insert(name.clone(), m.as_str().to_owned());
                        }
                        None => problems.push(format!(
                            "`{}` is not a {} URL of the form the provider's API is reached at",
                            variables.get(&d.from).cloned().unwrap_or_default(),
                            provider.title
                        )),
                    }
                }
            }
            let (expect, expect_problem) = expectations(manifest, service_name, &spec, env, &views);
            problems.extend(expect_problem);
            let problem = provider
                .unverifiable
                .clone()
                .or_else(|| (!problems.is_empty()).then(|| problems.join("; ")));
            out.push(Planned {
                service: service_name.clone(),
                provider,
                values,
                variables,
                expect,
                location: location.clone(),
                problem,
            });
        }
    }
    Ok(out)
}

fn expectations(
    manifest: &Manifest,
    service: &str,
    spec: &greenlight_core::manifest::VerifySpec,
    env: &Environment,
    views: &[greenlight_check::rules::VarView<'_>],
) -> (Expect, Option<String>) {
    let mut problem = None;
    let mut resolve = |s: &Option<String>| -> Option<String> {
        let s = s.as_ref()?;
        match env.interpolate(s) {
            Ok(v) => Some(v),
            Err(missing) => {
                problem.get_or_insert(format!(
                    "verify expects a value from `${{{missing}}}`, which is not set"
                ));
                None
            }
        }
    };
    let sender = resolve(&spec.sender);
    let domain = resolve(&spec.domain).or_else(|| {
        sender
            .as_deref()
            .and_then(|s| s.rsplit_once('@'))
            .map(|(_, d)| d.to_owned())
    });
    let webhook = spec.webhook.as_ref().and_then(|w| {
        Some(WebhookExpect {
            url: resolve(&Some(w.url.clone()))?,
            events: w.events.clone(),
        })
    });
    let worker = resolve(&spec.worker);
    let secrets = match &spec.secrets {
        Some(s) => s.clone(),
        None if worker.is_some() => {
            let service_vars: Vec<&String> = manifest
                .services
                .get(service)
                .map(|s| s.vars.keys().collect())
                .unwrap_or_default();
            views
                .iter()
                .filter(|v| v.declaration.is_some() && v.declared_secret && v.active)
                .filter(|v| !service_vars.iter().any(|s| s.as_str() == v.name))
                .map(|v| v.name.to_owned())
                .collect()
        }
        None => Vec::new(),
    };
    let expect = Expect {
        account: resolve(&spec.account),
        scopes: spec.scopes.clone(),
        allow_scopes: spec.allow_scopes.clone(),
        webhook,
        sender,
        domain,
        worker,
        secrets,
        bucket: resolve(&spec.bucket),
    };
    (expect, problem)
}

/// Runs every planned verification concurrently (each one's calls in order), asking each distinct
/// set of credentials once.
pub fn run(planned: Vec<Planned>, options: &VerifyOptions, production: bool) -> Vec<Verification> {
    if planned.is_empty() {
        return Vec::new();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let client = std::sync::Arc::new(http::Client::new(
        options.timeout,
        options.connect_timeout,
        options.endpoints.clone(),
    ));
    // The same credentials with the same expectations (one key in two services) are asked once.
    let key = |p: &Planned| {
        let mut v: Vec<_> = p.values.iter().collect();
        v.sort();
        format!("{}|{:?}|{:?}|{:?}", p.provider.id, v, p.expect, p.problem)
    };
    let mut first_of: HashMap<String, usize> = HashMap::new();
    let mut unique = Vec::new();
    let mut slot = Vec::new();
    for p in &planned {
        let k = key(p);
        let i = *first_of.entry(k).or_insert_with(|| {
            unique.push(p.clone());
            unique.len() - 1
        });
        slot.push(i);
    }
    let results: Vec<Verification> = runtime.block_on(async {
        let handles: Vec<_> = unique
            .into_iter()
            .map(|p| {
                let client = client.clone();
                tokio::spawn(async move { run_one(p, &client, production).await })
            })
            .collect();
        let mut out = Vec::with_capacity(handles.len());
        for h in handles {
            out.push(h.await.expect("a verification task does not panic"));
        }
        out
    });
    planned
        .iter()
        .zip(slot)
        .map(|(p, i)| {
            let mut v = results[i].clone();
            if v.service != p.service {
                v.service = p.service.clone();
                v.location = p.location.clone();
                v.requests = 0;
            }
            v
        })
        .collect()
}

/// How one call went.
#[derive(Debug, Clone, PartialEq)]
enum Answered {
    Valid,
    Invalid(String),
    Denied,
    Unknown(String),
}

async fn run_one(p: Planned, client: &http::Client, production: bool) -> Verification {
    let started = Instant::now();
    let provider = p.provider;
    let mut facts: BTreeMap<String, Value> = BTreeMap::new();
    let mut answered = BTreeSet::new();
    let mut denied = BTreeSet::new();
    let mut by_role: BTreeMap<String, Vec<Answered>> = BTreeMap::new();
    let mut requests = 0;
    let mut host_shown = provider.host.clone();
    if p.problem.is_none() {
        for call in &provider.call {
            let role = provider.call_role(call).to_owned();
            if !p.values.contains_key(&role) {
                continue;
            }
            // A credential the provider rejected, or could not judge (rate limited, down), is
            // not asked again in this run.
            if by_role.get(&role).is_some_and(|a| {
                a.iter()
                    .any(|a| matches!(a, Answered::Invalid(_) | Answered::Unknown(_)))
            }) {
                continue;
            }
            if let Some(n) = &call.needs {
                if p.expect.get(n).is_none() {
                    continue;
                }
            }
            let outcome = match build_request(&p, call) {
                Err(why) => Answered::Unknown(why),
                Ok(None) => Answered::Unknown(format!(
                    "{} is asked with {}: set it under [services.{}.verify]",
                    provider.title,
                    missing_values(&p, call).join(", "),
                    p.service
                )),
                Ok(Some(req)) => {
                    host_shown = Some(req.host.clone());
                    requests += 1;
                    match client.send(&req).await {
                        Err(f) => Answered::Unknown(f.0),
                        Ok(a) => judge(call, &a, &mut facts),
                    }
                }
            };
            match &outcome {
                Answered::Valid => {
                    answered.insert(call.id.clone());
                }
                Answered::Denied => {
                    denied.insert(call.id.clone());
                }
                _ => {}
            }
            by_role.entry(role).or_default().push(outcome);
        }
    }
    let mut checks = Vec::new();
    let mut credentials = Vec::new();
    let blocking = if production {
        Severity::Critical
    } else {
        Severity::Warning
    };
    let mut any_invalid = false;
    let roles_judged: Vec<&String> = provider
        .roles
        .keys()
        .filter(|r| {
            p.values.contains_key(*r)
                && provider
                    .call
                    .iter()
                    .any(|c| provider.call_role(c) == r.as_str())
        })
        .collect();
    if let Some(problem) = &p.problem {
        checks.push(Check::unknown(
            "credential",
            RuleId::of("credential-unverifiable"),
            problem.clone(),
        ));
        for (role, var) in &p.variables {
            credentials.push(Credential {
                role: role.clone(),
                variable: var.clone(),
                status: Liveness::Unknown,
            });
        }
    }
    for role in roles_judged.iter().filter(|_| p.problem.is_none()) {
        let var = p.variables.get(*role).cloned().unwrap_or_default();
        let outcomes = by_role.get(*role).cloned().unwrap_or_default();
        let check_id = format!("credential.{role}");
        let (status, check) = if let Some(Answered::Invalid(why)) =
            outcomes.iter().find(|a| matches!(a, Answered::Invalid(_)))
        {
            any_invalid = true;
            (
                Liveness::Invalid,
                Check::fail(
                    &check_id,
                    RuleId::of("credential-invalid"),
                    blocking,
                    format!("{} rejects `{var}`: {why}", provider.title),
                ),
            )
        } else if outcomes
            .iter()
            .any(|a| matches!(a, Answered::Valid | Answered::Denied))
        {
            (
                Liveness::Valid,
                Check::pass(
                    &check_id,
                    RuleId::of("credential-invalid"),
                    format!("{} accepts `{var}`", provider.title),
                ),
            )
        } else {
            let why = outcomes
                .iter()
                .find_map(|a| match a {
                    Answered::Unknown(w) => Some(w.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| "no call could be made with it".to_owned());
            (
                Liveness::Unknown,
                Check::unknown(
                    &check_id,
                    RuleId::of("credential-unverifiable"),
                    format!("`{var}` could not be verified: {why}"),
                ),
            )
        };
        credentials.push(Credential {
            role: (*role).clone(),
            variable: var,
            status,
        });
        checks.push(check);
    }
    // Roles that no call judges (a publishable key, an account id) are listed as context.
    for (role, var) in &p.variables {
        if !credentials.iter().any(|c| &c.role == role) {
            credentials.push(Credential {
                role: role.clone(),
                variable: var.clone(),
                status: Liveness::Unknown,
            });
        }
    }
    // The checks beyond "alive" read what the provider said: they run when every credential it
    // judged is valid (an unknown credential's checks would only repeat "could not tell").
    let all_valid = credentials
        .iter()
        .filter(|c| roles_judged.iter().any(|r| **r == c.role))
        .all(|c| c.status == Liveness::Valid);
    if p.problem.is_none() && !any_invalid && all_valid {
        let ctx = checks::Ctx {
            provider,
            facts: &facts,
            answered: &answered,
            denied: &denied,
            expect: &p.expect,
            values: &p.values,
            variables: &p.variables,
            production,
        };
        for name in &provider.checks {
            checks.extend(checks::run(name, &ctx));
        }
    }
    let status = if checks
        .iter()
        .any(|c| c.status == Status::Fail && c.severity != Some(Severity::Recommendation))
    {
        Status::Fail
    } else if checks.is_empty() || checks.iter().any(|c| c.status == Status::Unknown) {
        Status::Unknown
    } else {
        Status::Pass
    };
    Verification {
        service: p.service.clone(),
        provider: provider.id.clone(),
        title: provider.title.clone(),
        host: host_shown,
        status,
        credentials,
        facts: shown_facts(&facts),
        checks,
        notes: provider.notes.clone(),
        requests,
        duration_ms: started.elapsed().as_millis() as u64,
        location: p.location.clone(),
    }
}

/// The facts a report shows: short scalars and scope lists, not whole listings.
fn shown_facts(facts: &BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    const SHOWN: &[&str] = &[
        "account",
        "arn",
        "charges_enabled",
        "country",
        "expires_on",
        "policies",
        "renewable",
        "scopes",
        "status",
        "team",
        "ttl",
        "type",
    ];
    facts
        .iter()
        .filter(|(k, v)| SHOWN.contains(&k.as_str()) && !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Fills a template's `{name}`s; `encode` percent-encodes each value (paths). `None` when a
/// name has no value.
fn fill(template: &str, p: &Planned, encode: bool) -> Option<String> {
    let mut out = template.to_owned();
    for name in spec::placeholders(template) {
        let v = p.values.get(name).cloned().or_else(|| p.expect.get(name))?;
        let v = if encode { sign::uri_encode(&v) } else { v };
        out = out.replace(&format!("{{{name}}}"), &v);
    }
    Some(out)
}

/// The `{name}`s of a call that have no value.
fn missing_values(p: &Planned, call: &Call) -> Vec<String> {
    let texts = std::iter::once(&call.path)
        .chain(call.headers.values())
        .chain(call.query.values())
        .chain(call.form.values())
        .chain(call.json.values())
        .chain(call.basic.iter().flatten());
    let mut out: Vec<String> = texts
        .flat_map(|t| spec::placeholders(t))
        .filter(|n| !p.values.contains_key(*n) && p.expect.get(n).is_none())
        .map(|n| format!("a {n}"))
        .collect();
    out.dedup();
    out
}

/// A DNS label: what a `{role}` in a host may be.
fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn build_request(p: &Planned, call: &Call) -> Result<Option<http::Outgoing>, String> {
    let provider = p.provider;
    let host_template = provider.host.as_deref().unwrap_or_default();
    let (host, port) = if host_template == "{address}" {
        // Vault: the manifest's own server, https only.
        let address = p.values.get("address").cloned().unwrap_or_default();
        let url =
            url::Url::parse(&address).map_err(|_| "the Vault address is not a URL".to_owned())?;
        if url.scheme() != "https" {
            return Err(format!(
                "the Vault address is {}://, and a token is only sent over https",
                url.scheme()
            ));
        }
        (url.host_str().unwrap_or_default().to_owned(), url.port())
    } else {
        for name in spec::placeholders(host_template) {
            let v = p
                .values
                .get(name)
                .cloned()
                .or_else(|| p.expect.get(name))
                .unwrap_or_default();
            if !is_label(&v) {
                return Err(format!(
                    "the {name} is not a plain DNS label, so no provider host can be built from it"
                ));
            }
        }
        let Some(host) = fill(host_template, p, false) else {
            return Ok(None);
        };
        (host, None)
    };
    let Some(path) = fill(&call.path, p, true) else {
        return Ok(None);
    };
    let mut query: Vec<(String, String)> = Vec::new();
    for (k, v) in &call.query {
        let Some(v) = fill(v, p, false) else {
            return Ok(None);
        };
        query.push((k.clone(), v));
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    for (k, v) in &call.headers {
        let Some(v) = fill(v, p, false) else {
            return Ok(None);
        };
        headers.push((k.clone(), v));
    }
    let mut body = Vec::new();
    if !call.form.is_empty() {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &call.form {
            let Some(v) = fill(v, p, false) else {
                return Ok(None);
            };
            form.append_pair(k, &v);
        }
        body = form.finish().into_bytes();
        headers.push((
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
    } else if !call.json.is_empty() {
        let mut obj = serde_json::Map::new();
        for (k, v) in &call.json {
            let Some(v) = fill(v, p, false) else {
                return Ok(None);
            };
            obj.insert(k.clone(), Value::String(v));
        }
        body = serde_json::to_vec(&obj).expect("serialisable");
        headers.push(("content-type".into(), "application/json".into()));
    }
    if let Some([user, pass]) = &call.basic {
        let (Some(u), Some(pw)) = (fill(user, p, false), fill(pass, p, false)) else {
            return Ok(None);
        };
        use base64::Engine as _;
        let b = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{pw}"));
        headers.push(("authorization".into(), format!("Basic {b}")));
    }
    Ok(Some(http::Outgoing {
        method: call.method.parse().map_err(|_| "bad method".to_owned())?,
        host,
        port,
        path,
        query,
        headers,
        body,
        call: call.id.clone(),
        sign: call.sign.clone().map(|scheme| http::Signing {
            scheme,
            values: p.values.clone(),
        }),
    }))
}

/// Reads an answer: the status class, then body predicates, then facts.
fn judge(call: &Call, a: &http::Answer, facts: &mut BTreeMap<String, Value>) -> Answered {
    let json: Option<Value> = serde_json::from_str(&a.body).ok();
    if call.invalid.contains(&a.status) {
        return Answered::Invalid(describe_rejection(a.status, json.as_ref()));
    }
    if call.denied.contains(&a.status) {
        return Answered::Denied;
    }
    if !call.valid.contains(&a.status) {
        return Answered::Unknown(match a.status {
            429 => "rate limited (429) after waiting as asked".to_owned(),
            s if s >= 500 => format!("the provider answered {s}"),
            s => format!("unexpected answer {s}"),
        });
    }
    if let Some(body) = &json {
        if let Some(pred) = call.invalid_if.iter().find(|p| p.holds(body)) {
            let said = body
                .pointer(&pred.pointer)
                .map(short)
                .unwrap_or_else(|| "nothing".into());
            return Answered::Invalid(format!(
                "the answer says {} = {said}",
                pred.pointer.trim_start_matches('/')
            ));
        }
    } else if !call.invalid_if.is_empty() {
        return Answered::Unknown("the answer is not JSON".into());
    }
    for (name, from) in &call.facts {
        let v = if let Some(h) = from.strip_prefix("header:") {
            a.headers.get(h).map(|v| Value::String(v.clone()))
        } else if let Some(tag) = from.strip_prefix("xml:") {
            let all = xml_texts(&a.body, tag);
            match all.len() {
                0 => None,
                1 if name != "buckets" => Some(Value::String(all[0].clone())),
                _ => Some(Value::Array(all.into_iter().map(Value::String).collect())),
            }
        } else {
            json.as_ref().and_then(|j| j.pointer(from)).cloned()
        };
        if let Some(v) = v {
            facts.insert(name.clone(), v);
        } else if name == "buckets" {
            facts.insert(name.clone(), Value::Array(Vec::new()));
        }
    }
    Answered::Valid
}

fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    s.chars().take(60).collect()
}

/// The provider's reason for a rejection, from the usual places in an error body: its code
/// (`invalid_grant`, `invalid_auth`) and its message.
fn describe_rejection(status: u16, json: Option<&Value>) -> String {
    let first = |pointers: &[&str]| {
        json.and_then(|j| {
            pointers.iter().find_map(|p| {
                j.pointer(p)
                    .and_then(Value::as_str)
                    .map(|s| s.chars().take(120).collect::<String>())
            })
        })
    };
    let code = first(&[
        "/error",
        "/error/code",
        "/error/type",
        "/errors/0/code",
        "/code",
    ]);
    let message = first(&[
        "/error/message",
        "/error_description",
        "/message",
        "/errors/0/message",
        "/errors/0",
        "/msg",
    ]);
    match (code, message) {
        (Some(c), Some(m)) => format!("{status} {c}, \"{m}\""),
        (Some(c), None) => format!("{status} {c}"),
        (None, Some(m)) => format!("{status}, \"{m}\""),
        (None, None) => status.to_string(),
    }
}

/// The texts of every `<tag>…</tag>` in an XML answer. AWS's and S3's answers are flat,
/// documented shapes; an XML parser would add a dependency for two tags.
fn xml_texts(body: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(after[..j].trim().to_owned());
        rest = &after[j + close.len()..];
    }
    out
}

/// Findings: every failed check under its rule, every check that could not tell as
/// `credential-unverifiable`.
pub fn findings_of(results: &[Verification]) -> Vec<Finding> {
    let mut out = Vec::new();
    for v in results {
        for c in &v.checks {
            let (rule, severity, message) = match c.status {
                Status::Pass => continue,
                Status::Fail => (
                    c.rule,
                    c.severity.unwrap_or(c.rule.severity()),
                    c.message.clone(),
                ),
                Status::Unknown => {
                    let r = RuleId::of("credential-unverifiable");
                    (
                        r,
                        r.severity(),
                        format!("{}: could not tell: {}", c.check, c.message),
                    )
                }
            };
            let variable = v.credentials.first().map(|c| c.variable.clone());
            out.push(Finding {
                rule,
                severity,
                message: format!("{} ({}): {message}", v.title, v.service),
                variable,
                service: Some(v.service.clone()),
                location: v.location.clone(),
                value: None,
                commit: None,
                author: None,
                fingerprint: None,
                probe: None,
                source: None,
                verification: None,
                confidence: None,
                why: None,
                help: None,
                snippet: None,
            });
        }
    }
    out
}

/// What a secret's provider said of a secret that `scan` found.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretVerdict {
    pub status: Liveness,
    /// The provider asked, or the one that cannot be asked.
    pub provider: String,
    pub reason: String,
}

/// The provider that can judge a found secret on its own: its credential role takes the
/// secret's format or detector, it needs no other credential, and its host is fixed.
fn provider_for_secret(held: &greenlight_core::text_findings::Held) -> Option<&'static Provider> {
    spec::providers().iter().find(|p| {
        let Some(role) = p.roles.get(&p.credential) else {
            return false;
        };
        let takes = held
            .format
            .is_some_and(|f| role.formats.iter().any(|r| r == f))
            || role.detectors.iter().any(|d| d == held.detector);
        let alone = p
            .roles
            .iter()
            .all(|(name, r)| name == &p.credential || r.optional);
        let fixed_host = p
            .host
            .as_deref()
            .is_none_or(|h| spec::placeholders(h).is_empty());
        takes && alone && fixed_host
    })
}

/// Asks each distinct found secret's provider (once per secret), for `scan --verify`. The map is
/// keyed like the input (a finding's fingerprint).
pub fn verify_secrets(
    held: &[(String, &greenlight_core::text_findings::Held)],
    options: &VerifyOptions,
) -> HashMap<String, SecretVerdict> {
    let mut planned = Vec::new();
    let mut keys = Vec::new();
    let mut out = HashMap::new();
    for (key, h) in held {
        let Some(provider) = provider_for_secret(h) else {
            out.insert(
                key.clone(),
                SecretVerdict {
                    status: Liveness::Unknown,
                    provider: String::new(),
                    reason: "greenlight cannot ask this kind of secret's provider".into(),
                },
            );
            continue;
        };
        let mut values = HashMap::new();
        values.insert(provider.credential.clone(), h.secret.clone());
        let mut variables = HashMap::new();
        variables.insert(provider.credential.clone(), h.detector.to_owned());
        planned.push(Planned {
            service: "scan".into(),
            provider,
            values,
            variables,
            expect: Expect::default(),
            location: None,
            problem: provider.unverifiable.clone(),
        });
        keys.push(key.clone());
    }
    let results = run(planned, options, true);
    for (key, v) in keys.into_iter().zip(results) {
        let status = v
            .credentials
            .iter()
            .find(|c| c.role == spec::provider(&v.provider).map_or("", |p| p.credential.as_str()))
            .map_or(Liveness::Unknown, |c| c.status);
        let reason = v
            .checks
            .iter()
            .find(|c| c.check.starts_with("credential"))
            .map(|c| c.message.clone())
            .unwrap_or_default();
        out.insert(
            key,
            SecretVerdict {
                status,
                provider: v.title.clone(),
                reason,
            },
        );
    }
    out
}
