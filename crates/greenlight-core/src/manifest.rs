//! `greenlight.toml`: what an application needs in production.
//!
//! Parsed with serde in a first pass (unknown keys are errors that point at their line), then
//! validated as a whole in a second pass that collects every problem at once: unknown formats
//! (with a did-you-mean), malformed conditions, patterns and durations, references to unknown
//! environments, variables and rules. See `docs/manifest.md` for the reference.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use crate::catalog::Catalog;
use crate::condition::Condition;
use crate::error::{InputError, ManifestProblem};
use crate::finding::Severity;
use crate::rule::RuleId;

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Project {
    pub name: String,
    /// The environments in the order they are reported; defaults to the `[environments]` tables.
    #[serde(default)]
    pub environments: Vec<String>,
    /// Variables the application reads that are not worth declaring (`npm_*`, `PATH`, …).
    #[serde(default)]
    pub ignore_undeclared: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum SourceSpec {
    /// `".env.production"`, `"wrangler.toml#env.production"`, `"config.json#/env"`.
    Path(String),
    Table {
        path: String,
        #[serde(default)]
        kind: Option<String>,
        #[serde(default)]
        optional: bool,
    },
}

impl SourceSpec {
    pub fn path(&self) -> &str {
        match self {
            SourceSpec::Path(p) => p,
            SourceSpec::Table { path, .. } => path,
        }
    }
    pub fn optional(&self) -> bool {
        matches!(self, SourceSpec::Table { optional: true, .. })
    }
    pub fn kind(&self) -> Option<&str> {
        match self {
            SourceSpec::Table { kind, .. } => kind.as_deref(),
            SourceSpec::Path(_) => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentSpec {
    #[serde(default)]
    pub sources: Vec<SourceSpec>,
    /// Whether production rules apply; defaults to true for an environment named
    /// `production`, `prod` or `live`.
    #[serde(default)]
    pub production: Option<bool>,
    /// Also read the process environment (declared variables only), after the files.
    #[serde(default)]
    pub process_env: bool,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Required {
    Always(bool),
    In(Vec<String>),
}

/// One variable's requirements. Every field is optional; `env.NAME` overrides fields for one
/// environment.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VarSpec {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub format: Option<Spanned<String>>,
    #[serde(default)]
    pub secret: Option<bool>,
    #[serde(default)]
    pub required: Option<Required>,
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub min_length: Option<usize>,
    #[serde(default)]
    pub max_length: Option<usize>,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub values: Option<Vec<String>>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub pattern: Option<Spanned<String>>,
    #[serde(default)]
    pub contains: Option<String>,
    #[serde(default)]
    pub client_exposed: Option<bool>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub rotate_every: Option<Spanned<String>>,
    /// The variable that records this secret's last rotation (an RFC 3339 date-time).
    #[serde(default)]
    pub rotated_at: Option<String>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub enabled_if: Option<Spanned<String>>,
    /// An example value for `greenlight template` (never a real secret).
    #[serde(default)]
    pub example: Option<String>,
    /// `false` turns off the probe a `postgres.url` or `redis.url` variable implies.
    pub probe: Option<bool>,
    #[serde(default)]
    pub env: IndexMap<String, VarSpec>,
}

impl VarSpec {
    /// This spec with the overrides of `environment` applied.
    pub fn for_environment(&self, environment: &str) -> VarSpec {
        let mut out = self.clone();
        out.env = IndexMap::new();
        let Some(o) = self.env.get(environment) else {
            return out;
        };
        macro_rules! take {
            ($($f:ident),*) => { $( if o.$f.is_some() { out.$f = o.$f.clone(); } )* };
        }
        take!(
            description,
            format,
            secret,
            required,
            default,
            min_length,
            max_length,
            min,
            max,
            values,
            pattern,
            contains,
            client_exposed,
            rotate_every,
            rotated_at,
            enabled_if,
            example,
            probe
        );
        out
    }

    pub fn required_in(&self, environment: &str) -> bool {
        match &self.required {
            None => self.default.is_none(),
            Some(Required::Always(b)) => *b,
            Some(Required::In(envs)) => envs.iter().any(|e| e == environment),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Service {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub enabled_if: Option<Spanned<String>>,
    #[serde(default)]
    pub vars: IndexMap<String, VarSpec>,
    /// `[services.X.verify]`: what `greenlight verify` asks the provider about this service's
    /// credentials beyond "does it work" (docs/verify.md).
    #[serde(default)]
    pub verify: Option<VerifySpec>,
}

/// What the provider must confirm about a service's credentials. Every string may use
/// `${VAR}` (the environment's value).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifySpec {
    /// The provider (an id of `greenlight verify --providers`); inferred from the formats of the
    /// service's variables when absent.
    #[serde(default)]
    pub provider: Option<String>,
    /// `false`: never verify this service's credentials.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Only in these environments.
    #[serde(default)]
    pub environments: Option<Vec<String>>,
    /// Which variable fills a provider's role, where the formats do not say
    /// (`vars.token = "TWILIO_AUTH_TOKEN"`).
    #[serde(default)]
    pub vars: IndexMap<String, String>,
    /// The account the credentials must belong to (Stripe `acct_…`, AWS account id, GitHub
    /// login, Slack team id, Twilio Account SID).
    #[serde(default)]
    pub account: Option<String>,
    /// Scopes the credential must have.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// Scopes it may have besides `scopes`; anything else is `credential-scope-excess`.
    #[serde(default)]
    pub allow_scopes: Option<Vec<String>>,
    /// A webhook endpoint the provider must have registered (Stripe).
    #[serde(default)]
    pub webhook: Option<WebhookExpectation>,
    /// The sender address that must be verified or on an authenticated domain (SendGrid).
    #[serde(default)]
    pub sender: Option<String>,
    /// The sending domain whose SPF, DKIM and lockdown must pass (MailChannels).
    #[serde(default)]
    pub domain: Option<String>,
    /// The Workers script whose secrets must include the manifest's (Cloudflare).
    #[serde(default)]
    pub worker: Option<String>,
    /// The secret names the Worker must have; by default every secret variable the manifest
    /// declares for this environment outside this service.
    #[serde(default)]
    pub secrets: Option<Vec<String>>,
    /// A bucket that must exist (R2).
    #[serde(default)]
    pub bucket: Option<String>,
    #[serde(skip)]
    pub line: usize,
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookExpectation {
    pub url: String,
    #[serde(default)]
    pub events: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuleLevel {
    Off,
    Critical,
    Warning,
    Recommendation,
}

impl RuleLevel {
    pub fn severity(self) -> Option<Severity> {
        match self {
            RuleLevel::Off => None,
            RuleLevel::Critical => Some(Severity::Critical),
            RuleLevel::Warning => Some(Severity::Warning),
            RuleLevel::Recommendation => Some(Severity::Recommendation),
        }
    }
}

/// `[scan]`: what `greenlight scan` leaves out.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanConfig {
    /// gitignore-syntax patterns of paths not to report (fixtures, vendored code).
    #[serde(default)]
    pub exclude_paths: Vec<String>,
    /// Detector ids not to report.
    #[serde(default)]
    pub exclude_rules: Vec<String>,
    /// Files larger than this many bytes are skipped with a note.
    #[serde(default)]
    pub max_file_size: Option<u64>,
    /// Findings below this confidence are not reported (`low`, `medium`, `high`); all by
    /// default. `scan --min-confidence` overrides it.
    #[serde(default)]
    pub min_confidence: Option<crate::finding::Confidence>,
}

/// One `[[probes]]` entry: a live check of the deployed environment (see `docs/probe.md`).
/// String fields may reference the environment's variables as `${NAME}`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProbeSpec {
    /// Shown in reports and used by checklist items; defaults to `kind` and host.
    pub name: Option<String>,
    #[schemars(schema_with = "probe_kind_schema")]
    pub kind: String,
    pub service: Option<String>,
    pub url: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    /// The environments this probe applies to; all when absent.
    pub environments: Option<Vec<String>>,
    /// Whole-probe time limit (default 10s).
    pub timeout: Option<String>,
    /// Time limit of each connection attempt (default 3s).
    pub connect_timeout: Option<String>,
    /// A PEM file of extra trusted roots (an internal CA), relative to the manifest.
    pub ca: Option<String>,
    /// TLS certificates are verified unless this says `false` explicitly.
    pub tls_verify: Option<bool>,
    /// tls: warn this many days before the certificate expires (default 30).
    pub expiry_days: Option<u32>,
    /// tls: the plain-http URL that must redirect to https (default `http://HOST/` on port 443).
    pub http_url: Option<String>,
    /// headers: `browser` (default: CSP and framing required) or `api`.
    pub profile: Option<String>,
    /// http: the `version`/`releaseId` the health endpoint must report.
    pub expect_version: Option<String>,
    /// webhook: `stripe`, `github` or `standard` (Standard Webhooks / Svix).
    pub scheme: Option<String>,
    /// webhook: the signing secret, usually `${STRIPE_WEBHOOK_SECRET}`; never sent, only used to sign.
    pub secret: Option<String>,
    /// webhook: also send one correctly signed event, which must be accepted (2xx).
    pub positive_control: Option<bool>,
    /// tcp: `smtp` to require STARTTLS.
    pub starttls: Option<String>,
    /// redis: `cache`, `store` or `queue`, to judge the eviction and persistence settings.
    pub role: Option<String>,
    /// metrics: the metric names the exposition must contain, each optionally with the label
    /// names it must carry (`stripe_webhook_events_total{event_type}`). Dots are read as
    /// underscores, as OpenTelemetry's Prometheus exporter writes them.
    #[serde(default)]
    pub metrics: Option<Vec<String>>,
    /// postgres: compare the database's migration table with the repository's migrations.
    #[serde(default)]
    pub migrations: Option<MigrationsSpec>,
    /// headers: the origins CORS may allow (each may be `${VAR}` holding a comma-separated
    /// list, such as `CORS_ORIGINS`); any other origin allowed is a finding.
    #[serde(default)]
    pub allowed_origins: Option<Vec<String>>,
    /// ratelimit: the requests the endpoint allows per `window`; the probe sends at most this
    /// plus a margin (10 %, at least 2).
    #[serde(default)]
    pub limit: Option<u32>,
    /// ratelimit: the limit's window (`1m`, `60s`); default one minute.
    #[serde(default)]
    pub window: Option<String>,
    /// sqlite: the database file, or a directory holding one (wrangler's local D1 state,
    /// `.wrangler/state/v3/d1`), relative to the manifest. Opened read-only.
    #[serde(default)]
    pub database: Option<String>,
    /// email: the sending domain, or an address (`${MAILCHANNELS_FROM_EMAIL}`) whose domain is
    /// taken.
    #[serde(default)]
    pub domain: Option<String>,
    /// email: the providers that send for the domain (`mailchannels`, `sendgrid`, … or an SPF
    /// include domain): each must be in SPF; MailChannels also needs its Domain Lockdown record.
    #[serde(default)]
    pub senders: Option<Vec<String>>,
    /// email: the DKIM selectors to look up (`<selector>._domainkey.<domain>`); the senders'
    /// default selectors when absent.
    #[serde(default)]
    pub dkim_selectors: Option<Vec<String>>,
    /// email: the MailChannels account id the Domain Lockdown record must name (`auth=`).
    #[serde(default)]
    pub mailchannels_account: Option<String>,
    /// email: the domain receives mail, so it needs MX records.
    #[serde(default)]
    pub mx: Option<bool>,
    /// email: the DNS servers to ask (`IP` or `IP:PORT`); the system's resolvers when absent.
    #[serde(default)]
    pub nameservers: Option<Vec<String>>,
    /// The probe may be skipped: when it cannot run (a variable it needs is unset), that is a
    /// warning. Otherwise, in production, a probe that cannot run keeps the verdict from go.
    #[serde(default)]
    pub optional: Option<bool>,
    /// Set by the parser: where the entry starts in the manifest.
    #[serde(skip)]
    pub line: usize,
}

/// `migrations = { tool = "alembic", path = "alembic/versions", schema = "public" }` of a
/// `postgres` probe.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrationsSpec {
    /// alembic | prisma | drizzle | rails | django | sql (the tables a `schema.sql` creates) |
    /// d1 (wrangler d1 migrations, `sqlite` probes)
    pub tool: String,
    /// The migrations' directory, relative to the manifest (the tool's default when absent).
    #[serde(default)]
    pub path: Option<String>,
    /// The schema of the tool's table (`public`; `drizzle` for Drizzle).
    #[serde(default)]
    pub schema: Option<String>,
}

/// An `email` probe's `nameservers` entry: `IP` (port 53) or `IP:PORT` (`[v6]:PORT`).
pub fn parse_nameserver(text: &str) -> Option<std::net::SocketAddr> {
    let t = text.trim();
    if let Ok(a) = t.parse::<std::net::SocketAddr>() {
        return Some(a);
    }
    t.parse::<std::net::IpAddr>()
        .ok()
        .map(|ip| std::net::SocketAddr::new(ip, 53))
}

/// A `metrics` entry: the metric name (dots read as underscores) and the label names it must
/// carry. `None` when it is not `name` or `name{label,…}`.
pub fn parse_metric_spec(spec: &str) -> Option<(String, Vec<String>)> {
    let (name, labels) = match spec.split_once('{') {
        Some((n, rest)) => (n.trim(), rest.strip_suffix('}')?),
        None => (spec.trim(), ""),
    };
    let ident = |s: &str| {
        !s.is_empty()
            && s.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '.')
    };
    if !ident(name) {
        return None;
    }
    let labels: Vec<String> = labels
        .split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if labels
        .iter()
        .any(|l| !ident(l) || l.contains(':') || l.contains('.'))
    {
        return None;
    }
    Some((name.replace('.', "_"), labels))
}

/// One `[[checklist]]` item of the go-live checklist: automatic (`auto` lists rule ids and
/// `probe:NAME`s that must all pass) or manual (needs a sign-off, `greenlight signoff ID`).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    pub id: String,
    pub title: String,
    /// security, payments, monitoring, backups, …: the decision document groups by it.
    #[serde(default = "default_section")]
    pub section: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub auto: Vec<String>,
    /// A required item blocks go-live until it passes or is signed off (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Set by the parser: where the item starts in the manifest.
    #[serde(skip)]
    pub line: usize,
}

fn default_section() -> String {
    "general".to_owned()
}

impl ChecklistItem {
    pub fn is_manual(&self) -> bool {
        self.auto.is_empty()
    }

    pub fn is_required(&self) -> bool {
        self.required != Some(false)
    }
}

/// The probe kinds, in the order `docs/probe.md` describes them.
pub const PROBE_KINDS: &[&str] = &[
    "postgres",
    "redis",
    "http",
    "tls",
    "headers",
    "webhook",
    "tcp",
    "metrics",
    "ratelimit",
    "email",
    "sqlite",
];

/// `kind` of a probe: one of [`PROBE_KINDS`], so that an editor completes it.
fn probe_kind_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "enum": PROBE_KINDS,
        "description": "What the probe checks (docs/probe.md)."
    })
}

/// Where the published schema lives: `init` writes it into the `#:schema` comment that Taplo
/// (and Even Better TOML, which uses it) reads.
pub const SCHEMA_URL: &str =
    "https://raw.githubusercontent.com/greenlight-dev/greenlight/main/schemas/greenlight.schema.json";

/// The JSON Schema (draft 2020-12) of `greenlight.toml`, generated from the types the parser
/// deserializes into, so that it cannot describe a manifest the parser would read otherwise.
/// The second pass's checks (known formats, conditions, references) are beyond it.
pub fn json_schema() -> serde_json::Value {
    let mut schema =
        serde_json::to_value(schemars::schema_for!(RawManifest)).expect("a schema is JSON");
    let top = schema.as_object_mut().expect("an object schema");
    top.insert("$id".into(), SCHEMA_URL.into());
    top.insert("title".into(), "greenlight.toml".into());
    top.insert(
        "description".into(),
        "What an application needs in production: environments, services, variables, probes and the go-live checklist (docs/manifest.md).".into(),
    );
    schema
}

/// The file name greenlight looks for.
pub const MANIFEST_FILE: &str = "greenlight.toml";

/// The manifest for a command run in `start`: `greenlight.toml` there or in the nearest parent
/// that has one, as cargo finds `Cargo.toml`.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(start).ok()?;
    let found = absolute
        .ancestors()
        .map(|dir| dir.join(MANIFEST_FILE))
        .find(|candidate| candidate.is_file())?;
    // Shown relative to `start` where it can be (`greenlight.toml`, `../greenlight.toml`).
    let depth = absolute.ancestors().count() - found.parent()?.ancestors().count();
    let mut relative = PathBuf::new();
    for _ in 0..depth {
        relative.push("..");
    }
    Some(start.join(relative).join(MANIFEST_FILE))
        .map(|p| p.strip_prefix("./").map(Path::to_path_buf).unwrap_or(p))
}

/// The root of the git repository holding `start` (the nearest parent with `.git`), or `start`
/// itself outside a repository.
pub fn repository_root(start: &Path) -> PathBuf {
    let Ok(absolute) = std::path::absolute(start) else {
        return start.to_path_buf();
    };
    match absolute.ancestors().find(|d| d.join(".git").exists()) {
        Some(root) => {
            let depth = absolute.ancestors().count() - root.ancestors().count();
            let mut relative = start.to_path_buf();
            for _ in 0..depth {
                relative.push("..");
            }
            relative
        }
        None => start.to_path_buf(),
    }
}

/// Every `greenlight.toml` below `root` (one per app of a monorepo), in path order. The walk
/// honours `.gitignore`, so `node_modules/` and build output are not searched.
pub fn find_all(root: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = ignore::WalkBuilder::new(root)
        .hidden(true)
        .filter_entry(|e| e.file_name() != "node_modules" && e.file_name() != "target")
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()) && e.file_name() == MANIFEST_FILE)
        .map(|e| {
            let p = e.into_path();
            p.strip_prefix("./").map(Path::to_path_buf).unwrap_or(p)
        })
        .collect();
    found.sort();
    found
}

/// The manifest as serde reads it (the first pass).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    project: Project,
    #[serde(default)]
    environments: IndexMap<String, EnvironmentSpec>,
    #[serde(default)]
    services: IndexMap<String, Service>,
    #[serde(default)]
    vars: IndexMap<String, VarSpec>,
    #[serde(default)]
    #[schemars(with = "IndexMap<String, RuleLevel>")]
    rules: IndexMap<String, Spanned<RuleLevel>>,
    #[serde(default)]
    scan: ScanConfig,
    #[serde(default)]
    #[schemars(with = "Vec<ProbeSpec>")]
    probes: Vec<Spanned<ProbeSpec>>,
    #[serde(default)]
    #[schemars(with = "Vec<ChecklistItem>")]
    checklist: Vec<Spanned<ChecklistItem>>,
}

/// A declared variable with where it was declared.
#[derive(Debug, Clone)]
pub struct Declaration {
    pub name: String,
    pub spec: VarSpec,
    pub service: Option<String>,
    /// 1-based line and column of the declaration in the manifest.
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone)]
pub struct Manifest {
    pub path: PathBuf,
    /// The directory source paths are relative to.
    pub root: PathBuf,
    pub text: String,
    pub project: Project,
    pub environments: IndexMap<String, EnvironmentSpec>,
    pub services: IndexMap<String, Service>,
    pub declarations: IndexMap<String, Declaration>,
    pub rule_levels: IndexMap<RuleId, RuleLevel>,
    pub scan: ScanConfig,
    pub probes: Vec<ProbeSpec>,
    pub checklist: Vec<ChecklistItem>,
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Manifest, InputError> {
        let text = std::fs::read_to_string(path).map_err(|e| InputError::io(path, e))?;
        Manifest::parse(path, text)
    }

    pub fn parse(path: &Path, text: String) -> Result<Manifest, InputError> {
        let raw: RawManifest = toml::from_str(&text).map_err(|e| {
            let (line, column) = e.span().map_or((0, 0), |s| line_col(&text, s.start));
            InputError::Manifest {
                path: path.to_path_buf(),
                problems: vec![ManifestProblem {
                    line,
                    column,
                    message: e.message().to_owned(),
                }],
            }
        })?;
        let mut problems = Vec::new();
        let catalog = Catalog::builtin();

        let mut declarations: IndexMap<String, Declaration> = IndexMap::new();
        let positions = declaration_index(&text);
        let mut declare = |name: &str,
                           spec: &VarSpec,
                           service: Option<&str>,
                           problems: &mut Vec<ManifestProblem>| {
            let (line, column) = positions
                .get(&(service.map(str::to_owned), name.to_owned()))
                .copied()
                .unwrap_or((0, 0));
            if let Some(previous) = declarations.get(name) {
                problems.push(ManifestProblem {
                    line,
                    column,
                    message: format!(
                        "variable `{name}` is declared twice (first at line {})",
                        previous.line
                    ),
                });
                return;
            }
            declarations.insert(
                name.to_owned(),
                Declaration {
                    name: name.to_owned(),
                    spec: spec.clone(),
                    service: service.map(str::to_owned),
                    line,
                    column,
                },
            );
        };
        for (name, spec) in &raw.vars {
            declare(name, spec, None, &mut problems);
        }
        for (service, s) in &raw.services {
            for (name, spec) in &s.vars {
                declare(name, spec, Some(service), &mut problems);
            }
        }

        let env_names: Vec<&str> = raw.environments.keys().map(String::as_str).collect();
        for name in &raw.project.environments {
            if !raw.environments.contains_key(name) {
                let (line, column) = find_text(&text, &format!("\"{name}\""));
                problems.push(ManifestProblem { line, column, message: format!("environment `{name}` is listed in [project] but has no [environments.{name}] table") });
            }
        }
        for (name, env) in &raw.environments {
            // An environment checked only by its probes needs no source file.
            let probed = raw.probes.iter().any(|p| {
                p.get_ref()
                    .environments
                    .as_ref()
                    .is_none_or(|envs| envs.iter().any(|e| e == name))
            });
            if env.sources.is_empty() && !env.process_env && !probed {
                let (line, column) = find_text(&text, &format!("[environments.{name}]"));
                problems.push(ManifestProblem {
                    line,
                    column,
                    message: format!("environment `{name}` has no sources"),
                });
            }
        }

        let check_condition = |c: &Spanned<String>, problems: &mut Vec<ManifestProblem>| {
            if let Err(e) = Condition::parse(c.get_ref()) {
                let (line, column) = line_col(&text, c.span().start + 1 + e.offset);
                problems.push(ManifestProblem {
                    line,
                    column,
                    message: format!("invalid condition: {}", e.message),
                });
            }
        };
        for s in raw.services.values() {
            if let Some(c) = &s.enabled_if {
                check_condition(c, &mut problems);
            }
        }
        for decl in declarations.values() {
            let mut specs = vec![(None, &decl.spec)];
            for (env, o) in &decl.spec.env {
                if !raw.environments.contains_key(env) {
                    problems.push(ManifestProblem {
                        line: decl.line,
                        column: decl.column,
                        message: format!(
                            "`{}` has overrides for unknown environment `{env}`{}",
                            decl.name,
                            did_you_mean(crate::suggest::closest(env, env_names.iter().copied()))
                        ),
                    });
                }
                specs.push((Some(env), o));
            }
            for (_, spec) in specs {
                if let Some(f) = &spec.format {
                    if catalog.resolve(f.get_ref()).is_none() {
                        let (line, column) = line_col(&text, f.span().start);
                        problems.push(ManifestProblem {
                            line,
                            column,
                            message: format!(
                                "unknown format `{}`{}",
                                f.get_ref(),
                                did_you_mean(catalog.suggest(f.get_ref()))
                            ),
                        });
                    }
                }
                if let Some(p) = &spec.pattern {
                    if let Err(e) = Regex::new(p.get_ref()) {
                        let (line, column) = line_col(&text, p.span().start);
                        let first = e.to_string().lines().last().unwrap_or_default().to_owned();
                        problems.push(ManifestProblem {
                            line,
                            column,
                            message: format!("invalid pattern: {first}"),
                        });
                    }
                }
                if let Some(r) = &spec.rotate_every {
                    if crate::catalog::parse_duration(r.get_ref()).is_none() {
                        let (line, column) = line_col(&text, r.span().start);
                        problems.push(ManifestProblem {
                            line,
                            column,
                            message: format!(
                                "`rotate_every = \"{}\"` is not a duration such as 30d, 90d or 1y",
                                r.get_ref()
                            ),
                        });
                    }
                }
                if let Some(c) = &spec.enabled_if {
                    check_condition(c, &mut problems);
                }
                if let Some(Required::In(envs)) = &spec.required {
                    for e in envs {
                        if !raw.environments.contains_key(e) {
                            problems.push(ManifestProblem {
                                line: decl.line,
                                column: decl.column,
                                message: format!(
                                    "`{}` is required in unknown environment `{e}`{}",
                                    decl.name,
                                    did_you_mean(crate::suggest::closest(
                                        e,
                                        env_names.iter().copied()
                                    ))
                                ),
                            });
                        }
                    }
                }
            }
            if let Some(r) = &decl.spec.rotated_at {
                if !declarations.contains_key(r) {
                    problems.push(ManifestProblem {
                        line: decl.line,
                        column: decl.column,
                        message: format!(
                            "`{}` records its rotation in `{r}`, which is not declared",
                            decl.name
                        ),
                    });
                }
            }
        }

        let mut rule_levels = IndexMap::new();
        for (id, level) in &raw.rules {
            // `[rules]` sets the levels of `check`'s rules.
            match RuleId::get(id).filter(|r| r.command() == "check") {
                Some(rule) => {
                    rule_levels.insert(rule, *level.get_ref());
                }
                None => {
                    let (line, column) = find_text(&text, id);
                    let ids: Vec<&str> = crate::rule::rules_of("check").map(|r| r.id()).collect();
                    problems.push(ManifestProblem {
                        line,
                        column,
                        message: format!(
                            "unknown rule `{id}`{}",
                            did_you_mean(crate::suggest::closest(id, ids))
                        ),
                    });
                }
            }
        }

        let probes = validate_probes(&text, &raw.probes, &raw.environments, &mut problems);
        let service_names: Vec<&str> = raw.services.keys().map(String::as_str).collect();
        let checklist = validate_checklist(
            &text,
            &raw.checklist,
            &probes,
            &service_names,
            &mut problems,
        );

        if !problems.is_empty() {
            problems.sort_by_key(|p| (p.line, p.column));
            return Err(InputError::Manifest {
                path: path.to_path_buf(),
                problems,
            });
        }

        let root = path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let root = if root.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            root
        };
        let mut services = raw.services;
        for (name, service) in services.iter_mut() {
            if let Some(v) = service.verify.as_mut() {
                let header = format!("[services.{name}.verify]");
                let at = if text.contains(&header) {
                    header
                } else {
                    format!("[services.{name}]")
                };
                v.line = find_text(&text, &at).0;
            }
        }
        let mut project = raw.project;
        if project.environments.is_empty() {
            project.environments = raw.environments.keys().cloned().collect();
        }
        Ok(Manifest {
            path: path.to_path_buf(),
            root,
            text,
            project,
            environments: raw.environments,
            services,
            declarations,
            rule_levels,
            scan: raw.scan,
            probes,
            checklist,
        })
    }

    pub fn is_production(&self, environment: &str) -> bool {
        self.environments
            .get(environment)
            .and_then(|e| e.production)
            .unwrap_or(matches!(environment, "production" | "prod" | "live"))
    }

    /// The manifest's path as shown in findings (relative to the working directory when given so).
    pub fn display_path(&self) -> String {
        self.path.display().to_string()
    }
}

/// Checks each `[[probes]]` entry for what its kind needs, and gives it its line.
fn validate_probes(
    text: &str,
    raw: &[Spanned<ProbeSpec>],
    environments: &IndexMap<String, EnvironmentSpec>,
    problems: &mut Vec<ManifestProblem>,
) -> Vec<ProbeSpec> {
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for spanned in raw {
        let mut p = spanned.get_ref().clone();
        let (line, column) = line_col(text, spanned.span().start);
        p.line = line;
        // A problem with one key of the entry is located at that key's line.
        // The entry's text: from its span (which may cover only its header) to the next table.
        let from = spanned.span().start;
        let rest = &text[from..];
        let entry_len = rest[1..]
            .find("\n[")
            .map_or(rest.len(), |i| (i + 1).max(spanned.span().len()));
        let entry = &rest[..entry_len];
        let key_at = |key: &str| {
            let at = entry
                .match_indices(key)
                .find(|(i, _)| {
                    entry[i + key.len()..].trim_start().starts_with('=')
                        && (*i == 0 || !entry.as_bytes()[i - 1].is_ascii_alphanumeric())
                })
                .map_or(0, |(i, _)| i);
            line_col(text, from + at)
        };
        let kind = p.kind.as_str();
        if !PROBE_KINDS.contains(&kind) {
            let (line, column) = key_at("kind");
            problems.push(ManifestProblem {
                line,
                column,
                message: format!(
                    "unknown probe kind `{kind}`{}; kinds are {}",
                    did_you_mean(crate::suggest::closest(kind, PROBE_KINDS.iter().copied())),
                    PROBE_KINDS.join(", ")
                ),
            });
        }
        // A literal URL that does not parse is a typo in the manifest, not an unreachable
        // service (`${VAR}` URLs are checked once their variables are substituted).
        if let Some(u) = p.url.as_deref().filter(|u| !u.contains("${")) {
            if let Err(e) = url::Url::parse(u) {
                let (line, column) = key_at("url");
                problems.push(ManifestProblem {
                    line,
                    column,
                    message: format!("the probe's `url` is not a valid URL ({e})"),
                });
            }
        }
        let mut problem = |message: String| {
            problems.push(ManifestProblem {
                line,
                column,
                message,
            })
        };
        let needs_url = matches!(
            kind,
            "postgres" | "redis" | "http" | "headers" | "webhook" | "metrics" | "ratelimit"
        );
        if needs_url && p.url.is_none() {
            problem(format!("a `{kind}` probe needs `url`"));
        }
        if kind == "tls" && p.url.is_none() && p.host.is_none() {
            problem("a `tls` probe needs `url` or `host`".into());
        }
        if kind == "tcp" && (p.host.is_none() || p.port.is_none()) {
            problem("a `tcp` probe needs `host` and `port`".into());
        }
        if kind == "ratelimit" {
            match p.limit {
                None => problem("a `ratelimit` probe needs `limit`, the requests allowed per `window`: it never sends more than that and a margin".into()),
                Some(0) | Some(10_001..) => problem("`limit` must be between 1 and 10000 requests".into()),
                _ => {}
            }
            if let Some(w) = &p.window {
                if crate::catalog::parse_duration(w).is_none_or(|s| s <= 0.0) {
                    problem(format!(
                        "`window = \"{w}\"` is not a duration such as 1m or 60s"
                    ));
                }
            }
        } else if p.limit.is_some() || p.window.is_some() {
            problem(format!(
                "`limit` and `window` are for a `ratelimit` probe, not `{kind}`"
            ));
        }
        if kind == "sqlite" && p.database.is_none() {
            problem("a `sqlite` probe needs `database`: the database file, or a directory holding one (`.wrangler/state/v3/d1`)".into());
        }
        if kind != "sqlite" && p.database.is_some() {
            problem(format!("`database` is for a `sqlite` probe, not `{kind}`"));
        }
        if let Some(m) = &p.migrations {
            if kind != "postgres" && kind != "sqlite" {
                problem(format!(
                    "`migrations` is for a `postgres` or `sqlite` probe, not `{kind}`"
                ));
            }
            if m.tool == "d1" && kind != "sqlite" {
                problem(
                    "migrations tool `d1` (wrangler d1 migrations) is for a `sqlite` probe".into(),
                );
            }
            const TOOLS: &[&str] = &[
                "alembic", "prisma", "drizzle", "rails", "django", "sql", "d1",
            ];
            if !TOOLS.contains(&m.tool.as_str()) {
                problem(format!(
                    "migrations tool `{}` is not one of {}{}",
                    m.tool,
                    TOOLS.join(", "),
                    did_you_mean(crate::suggest::closest(&m.tool, TOOLS.iter().copied()))
                ));
            }
            if let Some(schema) = &m.schema {
                let ident = !schema.is_empty()
                    && schema
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
                    && schema
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                if !ident {
                    problem(format!(
                        "migrations schema `{schema}` must be a lowercase identifier"
                    ));
                }
            }
        }
        if kind == "email" {
            if p.domain.is_none() {
                problem("an `email` probe needs `domain` (a domain, an address, or `${VAR}` holding one)".into());
            }
            for s in p.senders.iter().flatten() {
                if crate::catalog::email_sender(s).is_none() {
                    let known: Vec<&str> = crate::catalog::email_senders()
                        .keys()
                        .map(String::as_str)
                        .collect();
                    problem(format!(
                        "unknown email sender `{s}`{}; known senders are {} (or name its SPF include domain)",
                        did_you_mean(crate::suggest::closest(s, known.iter().copied())),
                        known.join(", ")
                    ));
                }
            }
            for sel in p.dkim_selectors.iter().flatten() {
                let ok = !sel.is_empty()
                    && sel.split('.').all(|l| {
                        !l.is_empty()
                            && l.chars()
                                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                    });
                if !ok {
                    problem(format!(
                        "`{sel}` is not a DKIM selector (letters, digits, `-`, `_`, `.`)"
                    ));
                }
            }
            for ns in p.nameservers.iter().flatten() {
                if parse_nameserver(ns).is_none() {
                    problem(format!(
                        "nameserver `{ns}` is not an IP address or IP:PORT (`127.0.0.1:53`, `[::1]:53`)"
                    ));
                }
            }
        } else {
            for (field, set) in [
                ("domain", p.domain.is_some()),
                ("senders", p.senders.is_some()),
                ("dkim_selectors", p.dkim_selectors.is_some()),
                ("mailchannels_account", p.mailchannels_account.is_some()),
                ("mx", p.mx.is_some()),
                ("nameservers", p.nameservers.is_some()),
            ] {
                if set {
                    problem(format!("`{field}` is for an `email` probe, not `{kind}`"));
                }
            }
        }
        if p.allowed_origins.is_some() && kind != "headers" {
            problem(format!(
                "`allowed_origins` is for a `headers` probe, not `{kind}`"
            ));
        }
        if p.metrics.is_some() && kind != "metrics" {
            problem(format!("`metrics` is for a `metrics` probe, not `{kind}`"));
        }
        for m in p.metrics.iter().flatten() {
            if crate::manifest::parse_metric_spec(m).is_none() {
                problem(format!(
                    "`{m}` is not a metric name, optionally with label names: `name` or `name{{label,other}}`"
                ));
            }
        }
        let choices: [(&str, &Option<String>, &[&str]); 4] = [
            ("scheme", &p.scheme, &["stripe", "github", "standard"]),
            ("profile", &p.profile, &["browser", "api"]),
            ("starttls", &p.starttls, &["smtp"]),
            ("role", &p.role, &["cache", "store", "queue"]),
        ];
        for (field, value, allowed) in choices {
            if let Some(v) = value {
                if !allowed.contains(&v.as_str()) {
                    problem(format!(
                        "`{field} = \"{v}\"` is not one of {}",
                        allowed.join(", ")
                    ));
                }
            }
        }
        if kind == "webhook" && p.scheme.is_none() {
            problem("a `webhook` probe needs `scheme` (stripe, github or standard)".into());
        }
        for (field, value) in [
            ("timeout", &p.timeout),
            ("connect_timeout", &p.connect_timeout),
        ] {
            if let Some(v) = value {
                if crate::catalog::parse_duration(v).is_none_or(|d| d <= 0.0) {
                    problem(format!(
                        "`{field} = \"{v}\"` is not a duration such as 5s or 500ms"
                    ));
                }
            }
        }
        for e in p.environments.iter().flatten() {
            if !environments.contains_key(e) {
                problem(format!(
                    "probe applies to unknown environment `{e}`{}",
                    did_you_mean(crate::suggest::closest(
                        e,
                        environments.keys().map(String::as_str)
                    ))
                ));
            }
        }
        if let Some(name) = &p.name {
            if let Some(first) = names.insert(name.clone(), line) {
                problem(format!(
                    "probe name `{name}` is used twice (first at line {first})"
                ));
            }
        }
        out.push(p);
    }
    out
}

/// Checks `[[checklist]]` items: unique ids, and `auto` entries that name a known rule id or a
/// declared probe (`probe:NAME`).
fn validate_checklist(
    text: &str,
    raw: &[Spanned<ChecklistItem>],
    probes: &[ProbeSpec],
    services: &[&str],
    problems: &mut Vec<ManifestProblem>,
) -> Vec<ChecklistItem> {
    // Any rule of the registry that a command of `golive` reports (check, probe, verify);
    // detectors below.
    let rule_ids: Vec<String> = crate::rule::registry()
        .iter()
        .filter(|m| matches!(m.command.as_str(), "check" | "probe" | "verify"))
        .map(|m| m.id.clone())
        .collect();
    let probe_names: Vec<String> = probes.iter().filter_map(|p| p.name.clone()).collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for spanned in raw {
        let mut item = spanned.get_ref().clone();
        let (line, column) = line_col(text, spanned.span().start);
        item.line = line;
        let mut problem = |message: String| {
            problems.push(ManifestProblem {
                line,
                column,
                message,
            })
        };
        if item.id.is_empty()
            || !item
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            problem(format!(
                "checklist id `{}` must be letters, digits, `-`, `_` or `.`",
                item.id
            ));
        }
        if let Some(first) = seen.insert(item.id.clone(), line) {
            problem(format!(
                "checklist id `{}` is used twice (first at line {first})",
                item.id
            ));
        }
        for entry in &item.auto {
            if let Some(service) = entry.strip_prefix("verify:") {
                if !services.contains(&service) {
                    problem(format!(
                        "checklist `{}` needs the verification of service `{service}`, which the manifest does not declare{}",
                        item.id,
                        did_you_mean(crate::suggest::closest(service, services.iter().copied()))
                    ));
                }
            } else if let Some(name) = entry.strip_prefix("probe:") {
                if !probe_names.iter().any(|n| n == name) {
                    problem(format!(
                        "checklist `{}` needs probe `{name}`, which no [[probes]] entry names{}",
                        item.id,
                        did_you_mean(crate::suggest::closest(
                            name,
                            probe_names.iter().map(String::as_str)
                        ))
                    ));
                }
            } else if !rule_ids.iter().any(|r| r == entry)
                // Detectors are loaded only when needed: they are not on `check`'s path.
                && crate::detect::Detectors::builtin().get(entry).is_none()
            {
                problem(format!(
                    "checklist `{}` needs unknown rule `{entry}`{} (use `probe:NAME` for a probe, `verify:SERVICE` for a verification)",
                    item.id,
                    did_you_mean(crate::suggest::closest(
                        entry,
                        rule_ids.iter().map(String::as_str)
                    ))
                ));
            }
        }
        out.push(item);
    }
    out
}

fn did_you_mean(s: Option<&str>) -> String {
    s.map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

/// Line starts of a text, for many offset → line:column lookups without rescanning it.
pub struct LineIndex<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    pub fn new(text: &'t str) -> LineIndex<'t> {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { text, starts }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        (line, self.text[start..offset].chars().count() + 1)
    }

    /// The byte offset where the line holding `offset` starts.
    pub fn line_start(&self, offset: usize) -> usize {
        let line = self
            .starts
            .partition_point(|&s| s <= offset.min(self.text.len()));
        self.starts[line - 1]
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..offset].chars().count() + 1)
}

fn find_text(text: &str, needle: &str) -> (usize, usize) {
    text.find(needle).map_or((0, 0), |o| line_col(text, o))
}

/// Where each variable is declared: `[vars.NAME]`, `[services.S.vars.NAME]`, `NAME = …` under
/// `[vars]` or `[services.S.vars]`, and `vars.NAME = …` under `[services.S]`. One pass over the
/// lines (names are plain identifiers, so no TOML parse is needed to find them); keyed by
/// (service, name), first declaration wins.
fn declaration_index(text: &str) -> HashMap<(Option<String>, String), (usize, usize)> {
    let mut index = HashMap::new();
    let mut table = String::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let column_of = |name: &str| {
            line.find(name)
                .map_or(indent + 1, |b| line[..b].chars().count() + 1)
        };
        let mut insert = |service: Option<&str>, name: &str| {
            let name = name.trim().trim_matches('"');
            if !name.is_empty() {
                index
                    .entry((service.map(str::to_owned), name.to_owned()))
                    .or_insert((i + 1, column_of(name)));
            }
        };
        if let Some(header) = trimmed.strip_prefix('[') {
            table = header
                .split(']')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned();
            if let Some(name) = table.strip_prefix("vars.") {
                insert(None, name);
            } else if let Some(rest) = table.strip_prefix("services.") {
                if let Some((service, name)) = rest.split_once(".vars.") {
                    insert(Some(service), name);
                }
            }
            continue;
        }
        let Some((key, _)) = trimmed.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if table == "vars" {
            insert(None, key);
        } else if let Some(rest) = table.strip_prefix("services.") {
            match rest.strip_suffix(".vars") {
                Some(service) => insert(Some(service), key),
                None => {
                    if let Some(name) = key.strip_prefix("vars.") {
                        insert(Some(rest), name);
                    }
                }
            }
        }
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed `schemas/greenlight.schema.json` is what the types generate; after changing
    /// the manifest types, regenerate it with `GREENLIGHT_WRITE_SCHEMA=1 cargo test -p
    /// greenlight-core committed_schema`.
    #[test]
    fn committed_schema_is_the_one_the_types_generate() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/greenlight.schema.json");
        let generated = serde_json::to_string_pretty(&json_schema()).unwrap() + "\n";
        if std::env::var_os("GREENLIGHT_WRITE_SCHEMA").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "schemas/greenlight.schema.json has drifted from the manifest types: regenerate it with GREENLIGHT_WRITE_SCHEMA=1 cargo test -p greenlight-core committed_schema"
        );
    }

    fn parse(text: &str) -> Result<Manifest, InputError> {
        Manifest::parse(Path::new("greenlight.toml"), text.to_owned())
    }

    const OK: &str = r#"
[project]
name = "demo"

[environments.production]
sources = [".env.production"]

[services.stripe]
vars.STRIPE_SECRET_KEY = { format = "stripe.secret_key", secret = true }

[vars.JWT_SECRET]
format = "jwt.hs256_secret"
"#;

    #[test]
    fn parses_and_locates_declarations() {
        let m = parse(OK).unwrap();
        assert_eq!(m.declarations["STRIPE_SECRET_KEY"].line, 9);
        assert_eq!(m.declarations["STRIPE_SECRET_KEY"].column, 6);
        assert_eq!(m.declarations["JWT_SECRET"].line, 11);
        assert!(m.is_production("production"));
    }

    /// A probe-only manifest needs no source file; a probe's bad kind or malformed literal URL
    /// is a manifest error at that key's line, not an unreachable service.
    #[test]
    fn probe_entries_are_checked_where_they_are_written() {
        let probe_only = "[project]\nname = \"p\"\n[environments.production]\nsources = []\n\n[[probes]]\nkind = \"http\"\nurl = \"https://app.acme-corp.io/health\"\n";
        assert!(parse(probe_only).is_ok());
        let no_probe = "[project]\nname = \"p\"\n[environments.production]\nsources = []\n";
        assert!(parse(no_probe).is_err());

        let bad = "[project]\nname = \"p\"\n[environments.production]\nsources = []\n\n[[probes]]\nname = \"api\"\nkind = \"htp\"\nurl = \"https://app.acme-corp.io/health\"\n\n[[probes]]\nkind = \"postgres\"\nurl = \"postgres://[::1\"\n";
        let Err(InputError::Manifest { problems, .. }) = parse(bad) else {
            panic!("a bad probe entry is a manifest error")
        };
        let kind = problems
            .iter()
            .find(|p| p.message.contains("unknown probe kind"))
            .unwrap();
        assert_eq!(kind.line, 8, "at the `kind` line");
        assert!(
            kind.message.contains("did you mean `http`"),
            "{}",
            kind.message
        );
        let url = problems
            .iter()
            .find(|p| p.message.contains("not a valid URL"))
            .unwrap();
        assert_eq!(url.line, 13, "at the `url` line");
    }

    #[test]
    fn unknown_key_points_at_its_line() {
        let err =
            parse(&OK.replace("secret = true }", "secret = true, formt = \"x\" }")).unwrap_err();
        let InputError::Manifest { problems, .. } = err else {
            panic!()
        };
        assert_eq!(problems[0].line, 9);
        assert!(
            problems[0].message.contains("formt"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn collects_all_semantic_problems_with_suggestions() {
        let text = OK.replace("stripe.secret_key", "stripe.secretkey").replace(
            "jwt.hs256_secret\"",
            "jwt.hs256_secret\"\nenabled_if = \"A ==\"",
        );
        let err = parse(&text).unwrap_err();
        let InputError::Manifest { problems, .. } = err else {
            panic!()
        };
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0]
            .message
            .contains("did you mean `stripe.secret_key`"));
        assert!(problems[1].message.contains("invalid condition"));
    }
}
