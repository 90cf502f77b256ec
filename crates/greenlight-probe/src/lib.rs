//! `greenlight probe`: live checks of a deployed environment.
//!
//! Each kind is one module with two halves: `collect` talks to the network and records
//! *evidence* (a plain, serialisable struct), and `analyse` is a pure function from evidence to
//! check results. Analysers are unit-tested on recorded evidence; collectors are tested against
//! real servers on loopback (`crates/greenlight-cli/tests/all/probe.rs`). A check the probe could
//! not decide is `unknown`, never `pass`.
//!
//! Probes come from the manifest's `[[probes]]` and from variables whose format implies one
//! (`postgres.url`, `redis.url`). They run concurrently on one runtime; each has a connect
//! timeout on every connection and a total timeout, so the whole run takes about as long as its
//! slowest probe.
//!
//! This is greenlight's network side (tokio, reqwest with rustls, tokio-postgres, redis,
//! x509-parser): nothing below it opens a socket. It guarantees that it talks only to the hosts
//! the manifest names, with timeouts and TLS verification on, and that every target and message
//! it reports has passed through the environment's redactor.

pub mod email;
pub mod headers;
pub mod health;
pub mod metrics;
pub mod migrations;
pub mod net;
pub mod postgres;
pub mod ratelimit;
pub mod redis;
pub mod rules;
pub mod sqlite;
pub mod tcp;
pub mod tls;
pub mod webhook;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

use greenlight_check::rules::build_views;
use greenlight_core::error::InputError;
use greenlight_core::finding::{Finding, Location, Report, Severity};
use greenlight_core::manifest::{Manifest, ProbeSpec};
use greenlight_core::redact::Redactor;
use greenlight_core::source::{self, Environment, LoadOptions};

pub use rules::{ProbeRule, PROBE_RULES};

/// The outcome of one check of a probe (shared with `verify`).
pub use greenlight_core::finding::CheckStatus as Status;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    /// A stable check id such as `pg.auth_required` (the table of `../shared/probe-checks.md`).
    pub check: &'static str,
    pub status: Status,
    /// The rule a failure is reported under.
    pub rule: ProbeRule,
    /// The severity of a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    pub message: String,
}

impl CheckResult {
    pub fn pass(check: &'static str, rule: ProbeRule, message: impl Into<String>) -> CheckResult {
        CheckResult {
            check,
            status: Status::Pass,
            rule,
            severity: None,
            message: message.into(),
        }
    }

    pub fn fail(
        check: &'static str,
        rule: ProbeRule,
        severity: Severity,
        message: impl Into<String>,
    ) -> CheckResult {
        CheckResult {
            check,
            status: Status::Fail,
            rule,
            severity: Some(severity),
            message: message.into(),
        }
    }

    /// A failure at the rule's default severity.
    pub fn fail_default(
        check: &'static str,
        rule: ProbeRule,
        message: impl Into<String>,
    ) -> CheckResult {
        CheckResult::fail(check, rule, rule.info().severity(), message)
    }

    /// A request or connection that failed: a certificate that does not verify is
    /// `tls-certificate-invalid`, anything else `probe-unreachable`.
    pub fn request_failed(check: &'static str, err: &str) -> CheckResult {
        let rule = if net::is_certificate_error(err) {
            ProbeRule::TlsCertificateInvalid
        } else {
            ProbeRule::ProbeUnreachable
        };
        CheckResult::fail_default(check, rule, err)
    }

    pub fn unknown(
        check: &'static str,
        rule: ProbeRule,
        message: impl Into<String>,
    ) -> CheckResult {
        CheckResult {
            check,
            status: Status::Unknown,
            rule,
            severity: None,
            message: message.into(),
        }
    }
}

/// Whether a connection error is the server rejecting the configured credentials (PostgreSQL's
/// SQLSTATE 28P01/28000 messages, Redis' `WRONGPASS` and `invalid password`), as opposed to not
/// answering.
pub fn is_credential_rejection(err: &str) -> bool {
    let e = err.to_ascii_lowercase();
    e.contains("password authentication failed")
        || e.contains("wrongpass")
        || e.contains("invalid password")
        || e.contains("invalid username-password pair")
        || (e.contains("authentication") && e.contains("failed") && !e.contains("tls"))
}

/// A probe's failure to log in with the manifest's credentials: `credential-invalid`, critical in
/// production.
pub fn credential_rejected(check: &'static str, err: &str, ctx: Context) -> CheckResult {
    CheckResult::fail(
        check,
        ProbeRule::CredentialInvalid,
        if ctx.production {
            Severity::Critical
        } else {
            Severity::Warning
        },
        format!("the server answered and rejected the configured credentials: {err}"),
    )
}

/// What the analysers know besides the evidence.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub production: bool,
    pub now: DateTime<Utc>,
}

/// One probe's result, as reported in the JSON envelope's `probes`.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeResult {
    pub name: String,
    pub kind: String,
    /// The URL or host:port probed, password removed.
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// `fail` if any check failed, else `unknown` if any could not be decided, else `pass`.
    pub status: Status,
    pub duration_ms: u64,
    pub checks: Vec<CheckResult>,
    /// Where the probe is declared (the `[[probes]]` entry, or the implying variable).
    #[serde(skip)]
    pub location: Option<Location>,
    #[serde(skip)]
    pub variable: Option<String>,
}

greenlight_core::redact_fields!(CheckResult { message });
greenlight_core::redact_fields!(ProbeResult {
    name,
    kind,
    target,
    service,
    checks,
    location,
    variable,
});

/// The envelope's `probes` entry: what `probe` checked, probe by probe, including the checks
/// that passed or could not tell.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct ProbeResults(pub Vec<ProbeResult>);

impl greenlight_core::redact::Redact for ProbeResults {
    fn redact(&mut self, r: &Redactor) {
        self.0.redact(r);
    }
}

greenlight_core::section!(ProbeResults, "probes");

impl ProbeResult {
    fn status_of(checks: &[CheckResult]) -> Status {
        // A recommendation does not fail a probe; it is reported beside it.
        let fails = |c: &CheckResult| {
            c.status == Status::Fail && c.severity != Some(Severity::Recommendation)
        };
        if checks.iter().any(fails) {
            Status::Fail
        } else if checks.is_empty() || checks.iter().any(|c| c.status == Status::Unknown) {
            Status::Unknown
        } else {
            Status::Pass
        }
    }
}

/// A probe ready to run: its manifest entry with the environment's variables substituted.
#[derive(Debug, Clone)]
pub struct Planned {
    pub name: String,
    pub spec: ProbeSpec,
    pub service: Option<String>,
    pub variable: Option<String>,
    pub location: Option<Location>,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub tls: net::TlsSettings,
    /// Why the probe cannot run (a referenced variable is unset, a CA file is unreadable).
    pub problem: Option<String>,
}

impl Planned {
    /// The URL or host:port, for reports: never with a password.
    pub fn target(&self) -> String {
        if let Some(u) = &self.spec.url {
            return greenlight_core::mask::redact_url_password(u).unwrap_or_else(|| u.clone());
        }
        if let Some(d) = &self.spec.domain {
            return email::domain_of(d);
        }
        if let Some(d) = &self.spec.database {
            return d.clone();
        }
        match (&self.spec.host, self.spec.port) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.clone(),
            _ => String::new(),
        }
    }

    pub fn url(&self) -> Result<url::Url, String> {
        let raw = self.spec.url.as_deref().unwrap_or_default();
        url::Url::parse(raw).map_err(|e| format!("`{}` is not a URL: {e}", self.target()))
    }
}

#[derive(Debug, Clone)]
pub struct ProbeOptions {
    pub environment: String,
    pub load: LoadOptions,
    /// Only the probes with these names (all when empty).
    pub only: Vec<String>,
    /// Defaults for probes that do not set their own.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub now: Option<DateTime<Utc>>,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            environment: String::new(),
            load: LoadOptions::default(),
            only: Vec::new(),
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            now: None,
        }
    }
}

/// The result of `probe`: the report (findings plus every probe's checks).
pub struct Probed {
    pub report: Report,
    /// Knows the environment's secret values: seal the report with it.
    pub redactor: Redactor,
}

/// Loads the environment, plans and runs its probes, and reports.
pub fn probe(manifest: &Manifest, options: &ProbeOptions) -> Result<Probed, InputError> {
    let env = source::load_environment(manifest, &options.environment, &options.load)?;
    let planned = plan(manifest, &options.environment, &env, options)?;
    let ctx = Context {
        production: manifest.is_production(&options.environment),
        now: options.now.unwrap_or_else(Utc::now),
    };
    let results = run(planned, ctx);
    let masker = Redactor::new(greenlight_check::check::secret_values(
        manifest,
        &options.environment,
        &env,
    ));
    let results: Vec<ProbeResult> = results
        .into_iter()
        .map(|r| mask_result(r, &masker))
        .collect();
    let findings = findings_of(&results);
    let mut report = Report::new("probe", Some(options.environment.clone()), findings);
    report.set_section(ProbeResults(results));
    Ok(Probed {
        report,
        redactor: masker,
    })
}

/// The probes of an environment: declared ones that apply to it, then those implied by its
/// `postgres.url` and `redis.url` variables (unless a declared probe uses the variable already or
/// the variable says `probe = false`).
pub fn plan(
    manifest: &Manifest,
    environment: &str,
    env: &Environment,
    options: &ProbeOptions,
) -> Result<Vec<Planned>, InputError> {
    let mut out = Vec::new();
    let manifest_path = manifest.display_path();
    for spec in &manifest.probes {
        if let Some(envs) = &spec.environments {
            if !envs.iter().any(|e| e == environment) {
                continue;
            }
        }
        let mut problem = None;
        let mut resolved = spec.clone();
        for field in [
            &mut resolved.url,
            &mut resolved.host,
            &mut resolved.secret,
            &mut resolved.http_url,
            &mut resolved.expect_version,
            &mut resolved.domain,
            &mut resolved.mailchannels_account,
            &mut resolved.database,
        ] {
            if let Some(v) = field.as_mut() {
                match interpolate(v, env) {
                    Ok(s) => *v = s,
                    Err(missing) => {
                        problem.get_or_insert(format!(
                            "references `${{{missing}}}`, which is not set in environment `{environment}`"
                        ));
                    }
                }
            }
        }
        if let Some(origins) = resolved.allowed_origins.as_mut() {
            let mut out = Vec::new();
            for o in origins.iter() {
                match interpolate(o, env) {
                    Ok(v) => out.extend(
                        v.split(',')
                            .map(|o| o.trim().trim_end_matches('/').to_owned())
                            .filter(|o| !o.is_empty()),
                    ),
                    Err(missing) => {
                        problem.get_or_insert(format!(
                            "references `${{{missing}}}`, which is not set in environment `{environment}`"
                        ));
                    }
                }
            }
            *origins = out;
        }
        let name = spec.name.clone().unwrap_or_else(|| default_name(&resolved));
        let variable = spec
            .url
            .as_deref()
            .and_then(|u| u.strip_prefix("${"))
            .and_then(|u| u.split('}').next())
            .map(str::to_owned);
        out.push(planned(
            manifest,
            name,
            resolved,
            variable,
            Some(Location {
                path: manifest_path.clone(),
                line: spec.line,
                column: 1,
            }),
            problem,
            options,
        ));
    }
    let used: Vec<String> = out.iter().filter_map(|p| p.variable.clone()).collect();
    for view in build_views(manifest, environment, env) {
        let Some(decl) = view.declaration else {
            continue;
        };
        let kind = match view.format.map(|f| f.format.id.as_str()) {
            Some("postgres.url") => "postgres",
            Some("redis.url") => "redis",
            _ => continue,
        };
        let spec = view.spec.as_ref().expect("declared");
        if spec.probe == Some(false)
            || !view.active
            || !view.has_real_value()
            || used.iter().any(|u| u == view.name)
        {
            continue;
        }
        let resolved = ProbeSpec {
            kind: kind.to_owned(),
            url: view.value().map(str::to_owned),
            ..ProbeSpec::default()
        };
        out.push(planned(
            manifest,
            view.name.to_owned(),
            resolved,
            Some(view.name.to_owned()),
            Some(Location {
                path: manifest_path.clone(),
                line: decl.line,
                column: decl.column,
            }),
            None,
            options,
        ));
        out.last_mut().expect("pushed").service = view.service.map(str::to_owned);
    }
    if !options.only.is_empty() {
        for name in &options.only {
            if !out.iter().any(|p| &p.name == name) {
                let names: Vec<&str> = out.iter().map(|p| p.name.as_str()).collect();
                let hint = greenlight_core::did_you_mean(name, names.iter().copied())
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(InputError::Usage(format!(
                    "no probe named `{name}` in environment `{environment}`{hint}; it has: {}",
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                )));
            }
        }
        out.retain(|p| options.only.contains(&p.name));
    }
    Ok(out)
}

fn planned(
    manifest: &Manifest,
    name: String,
    spec: ProbeSpec,
    variable: Option<String>,
    location: Option<Location>,
    mut problem: Option<String>,
    options: &ProbeOptions,
) -> Planned {
    let duration = |v: &Option<String>, default: Duration| {
        v.as_deref()
            .and_then(greenlight_core::catalog::parse_duration)
            .map_or(default, Duration::from_secs_f64)
    };
    let ca = spec.ca.as_deref().map(|c| manifest.root.join(c));
    let mut spec = spec;
    if let Some(d) = spec.database.as_mut() {
        *d = manifest.root.join(&*d).display().to_string();
    }
    // The repository's migrations are read relative to the manifest.
    if let Some(m) = spec.migrations.as_mut() {
        let rel = m
            .path
            .clone()
            .unwrap_or_else(|| migrations::default_path(&m.tool).to_owned());
        m.path = Some(manifest.root.join(rel).display().to_string());
    }
    let tls = match net::TlsSettings::load(ca.as_deref(), spec.tls_verify != Some(false)) {
        Ok(t) => t,
        Err(e) => {
            problem.get_or_insert(e);
            net::TlsSettings {
                verify: true,
                ..Default::default()
            }
        }
    };
    Planned {
        name,
        service: spec.service.clone(),
        timeout: duration(&spec.timeout, options.timeout),
        connect_timeout: duration(&spec.connect_timeout, options.connect_timeout),
        spec,
        variable,
        location,
        tls,
        problem,
    }
}

fn default_name(spec: &ProbeSpec) -> String {
    let host = spec
        .url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.host_str().map(str::to_owned))
        .or_else(|| spec.host.clone())
        .unwrap_or_default();
    format!("{} {host}", spec.kind).trim().to_owned()
}

/// Replaces `${NAME}` with the environment's value; the error is the first unset name.
pub fn interpolate(text: &str, env: &Environment) -> Result<String, String> {
    env.interpolate(text)
}

/// Runs every probe concurrently and waits for all of them.
pub fn run(planned: Vec<Planned>, ctx: Context) -> Vec<ProbeResult> {
    if planned.is_empty() {
        return Vec::new();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    runtime.block_on(async move {
        let handles: Vec<_> = planned
            .into_iter()
            .map(|p| tokio::spawn(run_one(p, ctx)))
            .collect();
        let mut out = Vec::with_capacity(handles.len());
        for h in handles {
            out.push(h.await.expect("a probe task does not panic"));
        }
        out
    })
}

async fn run_one(p: Planned, ctx: Context) -> ProbeResult {
    let start = Instant::now();
    let checks = match &p.problem {
        // Could not tell is not a pass: in production a probe that cannot run blocks go, unless
        // the manifest marks it optional.
        Some(problem) if ctx.production && p.spec.optional != Some(true) => {
            vec![CheckResult::fail(
                "probe.planned",
                ProbeRule::ProbeInconclusive,
                Severity::Critical,
                format!(
                    "probe not run: {problem}; in production a probe that cannot run keeps the \
                     verdict from go (mark it `optional = true` if it may be skipped)"
                ),
            )]
        }
        Some(problem) => vec![CheckResult::unknown(
            "probe.planned",
            ProbeRule::ProbeInconclusive,
            format!("probe not run: {problem}"),
        )],
        None => match tokio::time::timeout(p.timeout, collect_and_analyse(&p, ctx)).await {
            Ok(checks) => checks,
            Err(_) => vec![CheckResult::fail_default(
                "probe.reachable",
                ProbeRule::ProbeUnreachable,
                format!(
                    "{} did not complete within {} (the probe's timeout)",
                    p.target(),
                    net::human_duration(p.timeout)
                ),
            )],
        },
    };
    ProbeResult {
        status: ProbeResult::status_of(&checks),
        name: p.name.clone(),
        kind: p.spec.kind.clone(),
        target: p.target(),
        service: p.service.clone(),
        duration_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
        checks,
        location: p.location.clone(),
        variable: p.variable.clone(),
    }
}

async fn collect_and_analyse(p: &Planned, ctx: Context) -> Vec<CheckResult> {
    match p.spec.kind.as_str() {
        "postgres" => postgres::analyse(&postgres::collect(p).await, ctx),
        "redis" => redis::analyse(&redis::collect(p).await, p.spec.role.as_deref(), ctx),
        "http" => health::analyse(
            &health::collect(p).await,
            p.spec.expect_version.as_deref(),
            ctx,
        ),
        "headers" => headers::analyse(
            &headers::collect(p).await,
            headers::Profile::of(p.spec.profile.as_deref()),
            ctx,
        ),
        "tls" => tls::analyse(
            &tls::collect(p).await,
            p.spec.expiry_days.unwrap_or(30),
            ctx,
        ),
        "webhook" => webhook::analyse(&webhook::collect(p).await, ctx),
        "tcp" => tcp::analyse(&tcp::collect(p).await, ctx),
        "ratelimit" => ratelimit::analyse(&ratelimit::collect(p).await, ctx),
        "metrics" => metrics::analyse(
            &metrics::collect(p).await,
            p.spec.metrics.as_deref().unwrap_or_default(),
            ctx,
        ),
        "sqlite" => sqlite::analyse(&sqlite::collect(p).await, ctx),
        "email" => {
            let expect = email::Expect::of(p);
            email::analyse(&email::collect(p, &expect).await, &expect, ctx)
        }
        other => vec![CheckResult::unknown(
            "probe.kind",
            ProbeRule::ProbeInconclusive,
            format!("unknown probe kind `{other}`"),
        )],
    }
}

/// Every secret of the environment, for masking what servers say back (an error that echoes a
/// URL, a header that echoes a token).
fn mask_text(redactor: &Redactor, text: &str) -> String {
    redactor.redact(text)
}

fn mask_result(mut r: ProbeResult, masker: &Redactor) -> ProbeResult {
    r.target = mask_text(masker, &r.target);
    for c in &mut r.checks {
        c.message = mask_text(masker, &c.message);
    }
    r
}

/// A finding for each failed check, and a `probe-inconclusive` warning for each unknown one.
pub fn findings_of(results: &[ProbeResult]) -> Vec<Finding> {
    let mut out = Vec::new();
    for r in results {
        for c in &r.checks {
            let (rule, severity) = match c.status {
                Status::Pass => continue,
                Status::Fail => (c.rule, c.severity.unwrap_or(c.rule.info().severity())),
                Status::Unknown => (
                    ProbeRule::ProbeInconclusive,
                    ProbeRule::ProbeInconclusive.info().severity(),
                ),
            };
            let message = match c.status {
                Status::Unknown if c.rule != ProbeRule::ProbeInconclusive => format!(
                    "probe `{}`: could not tell ({}): {}",
                    r.name,
                    c.rule.id(),
                    c.message
                ),
                _ => format!("probe `{}`: {}", r.name, c.message),
            };
            out.push(Finding {
                rule: rule.into(),
                severity,
                message,
                variable: r.variable.clone(),
                service: r.service.clone(),
                location: r.location.clone(),
                value: None,
                commit: None,
                author: None,
                fingerprint: None,
                source: None,
                probe: Some(r.name.clone()),
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

/// A short, printable excerpt of a response body (bodies can be large or binary).
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    if text.chars().count() > max {
        format!("{one_line}…")
    } else {
        one_line
    }
}

/// Helpers of the analysers' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::{CheckResult, Context, ProbeRule, Status};
    use greenlight_core::finding::Severity;

    pub fn ctx(production: bool) -> Context {
        Context {
            production,
            now: chrono::Utc::now(),
        }
    }

    /// (check, rule, severity) of the failed checks.
    pub fn failed(checks: &[CheckResult]) -> Vec<(&'static str, ProbeRule, Severity)> {
        checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .map(|c| {
                (
                    c.check,
                    c.rule,
                    c.severity.expect("a failure has a severity"),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_fail_then_unknown_then_pass() {
        let pass = CheckResult::pass("a", ProbeRule::AuthNotRequired, "ok");
        let unknown = CheckResult::unknown("b", ProbeRule::AuthNotRequired, "?");
        let fail = CheckResult::fail_default("c", ProbeRule::AuthNotRequired, "no");
        assert_eq!(
            ProbeResult::status_of(std::slice::from_ref(&pass)),
            Status::Pass
        );
        assert_eq!(
            ProbeResult::status_of(&[pass.clone(), unknown.clone()]),
            Status::Unknown
        );
        assert_eq!(ProbeResult::status_of(&[unknown, fail, pass]), Status::Fail);
        assert_eq!(ProbeResult::status_of(&[]), Status::Unknown);
    }

    #[test]
    fn unknown_checks_become_inconclusive_findings_never_passes() {
        let r = ProbeResult {
            name: "cache".into(),
            kind: "redis".into(),
            target: "redis://cache:6379".into(),
            service: None,
            status: Status::Unknown,
            duration_ms: 1,
            checks: vec![CheckResult::unknown(
                "redis.maxmemory_policy",
                ProbeRule::CacheMisconfigured,
                "CONFIG GET refused",
            )],
            location: None,
            variable: None,
        };
        let f = findings_of(&[r]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule.id(), "probe-inconclusive");
        assert!(f[0]
            .message
            .contains("could not tell (cache-misconfigured)"));
    }
}
