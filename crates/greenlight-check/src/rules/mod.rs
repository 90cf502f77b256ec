//! The rules of `check`: one file per rule, each with its id, default severity, documentation
//! (`rules/docs/<id>.md`, the text of `greenlight explain`) and tests, listed once in [`RULES`].
//!
//! Rule ids are stable: they are what users put in `[rules]`, allow comments and baselines.
//! `tests::rule_ids_are_stable` snapshots the list; add rules, never rename them.

mod ambiguous_syntax;
mod debug_enabled_in_production;
mod duplicate_key;
mod empty_value;
mod env_file_not_ignored;
mod insecure_url;
mod invalid_format;
mod invalid_value;
mod live_credential_outside_production;
mod localhost_in_production;
mod malformed_line;
mod mismatched_key_modes;
mod missing_required;
mod placeholder_value;
mod rotation_overdue;
mod secret_exposed_to_client;
mod secret_in_config_file;
mod secret_reused_across_environments;
mod shared_secret_value;
mod test_credential_in_production;
mod test_mode_in_production;
mod undeclared_variable;
mod weak_secret;

#[cfg(test)]
pub(crate) mod testing;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use strum::{EnumIter, EnumString, IntoEnumIterator, IntoStaticStr};

use greenlight_core::catalog::{self, Catalog, FormatRef, Mode};
use greenlight_core::finding::{Finding, Location, RuleId, Severity, Snippet};
use greenlight_core::fingerprint::Fingerprint;
use greenlight_core::manifest::{Declaration, Manifest, VarSpec};
use greenlight_core::mask;
use greenlight_core::source::{Assignment, Environment};

/// Every rule id. The enum and its kebab-case ids are derived, so they cannot drift apart.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumString, IntoStaticStr, EnumIter,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Rule {
    MissingRequired,
    EmptyValue,
    PlaceholderValue,
    InvalidFormat,
    InvalidValue,
    TestCredentialInProduction,
    TestModeInProduction,
    LiveCredentialOutsideProduction,
    InsecureUrl,
    LocalhostInProduction,
    WeakSecret,
    SharedSecretValue,
    SecretReusedAcrossEnvironments,
    SecretExposedToClient,
    UndeclaredVariable,
    DuplicateKey,
    DebugEnabledInProduction,
    MismatchedKeyModes,
    RotationOverdue,
    SecretInConfigFile,
    EnvFileNotIgnored,
    AmbiguousSyntax,
    MalformedLine,
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl Rule {
    pub fn id(self) -> &'static str {
        self.into()
    }

    pub fn all() -> Vec<Rule> {
        Rule::iter().collect()
    }

    pub fn info(self) -> &'static RuleInfo {
        RULES
            .iter()
            .find(|r| r.rule == self)
            .expect("every rule is registered")
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// A rule's code: the function `check` runs. Its metadata — severity, summary, documentation —
/// is its entry in the rule registry (`greenlight-core/rules/registry.toml`), found by its id.
pub struct RuleInfo {
    pub rule: Rule,
    pub run: fn(&Context<'_>, &mut Vec<Finding>),
}

impl RuleInfo {
    pub fn id(&self) -> RuleId {
        RuleId::of(self.rule.id())
    }

    pub fn severity(&self) -> Severity {
        self.id().severity()
    }

    pub fn summary(&self) -> &'static str {
        self.id().summary()
    }

    /// Markdown with the headings *What it checks*, *Why it matters*, *Failing example*,
    /// *Passing example*.
    pub fn doc(&self) -> &'static str {
        self.id().doc()
    }
}

impl From<Rule> for RuleId {
    fn from(r: Rule) -> RuleId {
        RuleId::of(r.id())
    }
}

impl PartialEq<Rule> for RuleId {
    fn eq(&self, other: &Rule) -> bool {
        self.id() == other.id()
    }
}

/// The one ordered registry of rules.
pub static RULES: &[RuleInfo] = &[
    missing_required::INFO,
    empty_value::INFO,
    placeholder_value::INFO,
    invalid_format::INFO,
    invalid_value::INFO,
    test_credential_in_production::INFO,
    test_mode_in_production::INFO,
    live_credential_outside_production::INFO,
    insecure_url::INFO,
    localhost_in_production::INFO,
    weak_secret::INFO,
    shared_secret_value::INFO,
    secret_reused_across_environments::INFO,
    secret_exposed_to_client::INFO,
    undeclared_variable::INFO,
    duplicate_key::INFO,
    debug_enabled_in_production::INFO,
    mismatched_key_modes::INFO,
    rotation_overdue::INFO,
    secret_in_config_file::INFO,
    env_file_not_ignored::INFO,
    ambiguous_syntax::INFO,
    malformed_line::INFO,
];

/// Prefixes that bundlers inline into browser code.
pub const CLIENT_PREFIXES: &[&str] = &[
    "VITE_",
    "NEXT_PUBLIC_",
    "REACT_APP_",
    "NUXT_PUBLIC_",
    "EXPO_PUBLIC_",
    "GATSBY_",
    "PUBLIC_",
    "VUE_APP_",
];

/// One variable as the rules see it: its declaration (if any), its value (if set) and what
/// greenlight concluded about it.
pub struct VarView<'a> {
    pub name: &'a str,
    pub declaration: Option<&'a Declaration>,
    /// The declaration's spec with this environment's overrides applied.
    pub spec: Option<VarSpec>,
    pub format: Option<FormatRef<'static>>,
    pub assignment: Option<&'a Assignment>,
    /// The variable's condition (and its service's) holds; inactive variables are not checked.
    pub active: bool,
    pub secret: bool,
    pub client_exposed: bool,
    pub service: Option<&'a str>,
    /// Why the value is a placeholder, when it is one.
    pub placeholder: Option<&'static str>,
    /// The catalog format an undeclared value was recognised as.
    pub recognised: Option<&'static catalog::Format>,
    /// The kind of secret the value is, by its shape alone, whatever the declaration says
    /// (`Some("Stripe secret API key")`): such a value is masked and treated as a secret.
    pub held_secret: Option<&'static str>,
    /// Declared (or, undeclared, recognised) as a secret — as opposed to `secret`, which is also
    /// true when only the value says so.
    pub declared_secret: bool,
    /// The value is a reference to a secret store (`op://…`, `encrypted:…`), resolved at deploy
    /// or run time: not a value to judge.
    pub reference: Option<&'static catalog::SecretStore>,
}

impl VarView<'_> {
    pub fn value(&self) -> Option<&str> {
        self.assignment.map(|a| a.value.as_str())
    }

    /// The format the value is checked against: declared, or recognised from the value.
    pub fn effective_format(&self) -> Option<&'static catalog::Format> {
        self.format.map(|f| f.format).or(self.recognised)
    }

    pub fn mode(&self) -> Option<Mode> {
        let f = self.effective_format()?;
        self.value().and_then(|v| f.mode(v))
    }

    /// Set to a real value: present, non-empty and not a placeholder.
    pub fn has_real_value(&self) -> bool {
        self.value().is_some_and(|v| !v.is_empty()) && self.placeholder.is_none()
    }
}

/// A secret of another environment, by keyed fingerprint.
#[derive(Debug, Clone)]
pub struct OtherSecret {
    pub environment: String,
    pub variable: String,
    pub location: Location,
}

/// Everything a rule may look at.
pub struct Context<'a> {
    pub manifest: &'a Manifest,
    pub environment: &'a str,
    pub production: bool,
    pub env: &'a Environment,
    pub vars: Vec<VarView<'a>>,
    pub catalog: &'static Catalog,
    pub now: DateTime<Utc>,
    /// Fingerprints of the secret values of the other environments whose sources exist.
    pub other_secrets: HashMap<Fingerprint, Vec<OtherSecret>>,
    pub fingerprint: &'a dyn Fn(&str) -> Fingerprint,
    /// When the rotation ledger first saw this (variable, value), if it has and its key is here.
    pub rotation_first_seen: &'a dyn Fn(&str, &str) -> Option<DateTime<Utc>>,
}

impl<'a> Context<'a> {
    /// Variables that are checked: active ones with a value (a secret-store reference is set,
    /// but its value is the store's to give, so it is not checked here).
    pub fn present(&self) -> impl Iterator<Item = &VarView<'a>> {
        self.vars
            .iter()
            .filter(|v| v.active && v.assignment.is_some() && v.reference.is_none())
    }

    /// A finding about a variable, located at its value (or its declaration when unset).
    pub fn finding(&self, rule: Rule, var: &VarView<'_>, message: String) -> Finding {
        let (location, snippet, value) = match var.assignment {
            Some(a) => {
                let shown = greenlight_core::redact::Shown::of(&a.value, var.secret);
                (Some(location_of(a)), snippet_of(a, var.secret), Some(shown))
            }
            None => (
                var.declaration.map(|d| self.declaration_location(d)),
                None,
                None,
            ),
        };
        Finding {
            rule: rule.into(),
            severity: rule.info().severity(),
            message,
            variable: Some(var.name.to_owned()),
            service: var.service.map(str::to_owned),
            location,
            value,
            verification: None,
            confidence: None,
            why: None,
            help: None,
            commit: None,
            author: None,
            fingerprint: None,
            source: None,
            probe: None,
            snippet,
        }
    }

    pub fn declaration_location(&self, d: &Declaration) -> Location {
        Location {
            path: self.manifest.display_path(),
            line: d.line,
            column: d.column,
        }
    }
}

pub fn location_of(a: &Assignment) -> Location {
    Location {
        path: a.origin.path.clone(),
        line: a.origin.line,
        column: a.origin.column,
    }
}

/// The source line with the value masked (or its URL password removed) and underlined.
pub fn snippet_of(a: &Assignment, secret: bool) -> Option<Snippet> {
    if a.origin.line == 0 {
        return None;
    }
    let chars: Vec<char> = a.origin.line_text.chars().collect();
    let cols = a.origin.value_columns.clone();
    if cols.start > chars.len() || cols.end > chars.len() {
        return None;
    }
    let before: String = chars[..cols.start].iter().collect();
    let raw: String = chars[cols.clone()].iter().collect();
    let after: String = chars[cols.end..].iter().collect();
    // The raw text may be quoted; mask what is inside the quotes and keep them.
    let (open, inner, close) = match raw.chars().next() {
        Some(q @ ('"' | '\'' | '`')) if raw.len() >= 2 && raw.ends_with(q) => (
            q.to_string(),
            raw[1..raw.len() - 1].to_owned(),
            q.to_string(),
        ),
        _ => (String::new(), raw.clone(), String::new()),
    };
    let shown = greenlight_core::redact::Shown::of(&a.value, secret);
    let shown = if shown.as_str() != a.value {
        // Mask the value the application receives, not the raw text, so the mask matches the
        // `value` field; for multi-line or interpolated values that is the honest choice.
        shown.as_str().to_owned()
    } else if secret || greenlight_core::redact::held_secret(&inner).is_some() {
        // The raw text differs from the value (escapes, interpolation) and is itself secret.
        mask::mask_secret(&inner)
    } else {
        inner
    };
    let shown = format!("{open}{shown}{close}");
    // The rest of the line (a comment, another assignment) may hold another secret.
    let before = greenlight_core::redact::mask_detected(&before);
    let after = greenlight_core::redact::mask_detected(&after);
    let start = before.chars().count();
    let end = start + shown.chars().count();
    // Anything after the value on the line may be a comment; it is shown as written, unless the
    // value spans lines (then the rest is part of the value).
    let after = if a.value.contains('\n') {
        String::new()
    } else {
        after
    };
    Some(Snippet {
        line_text: format!("{before}{shown}{after}"),
        columns: start..end,
    })
}

/// Builds the view of every declared variable and every undeclared assignment.
pub fn build_views<'a>(
    manifest: &'a Manifest,
    environment: &str,
    env: &'a Environment,
) -> Vec<VarView<'a>> {
    let catalog = Catalog::builtin();
    let lookup = |name: &str| {
        env.value(name).map(str::to_owned).or_else(|| {
            manifest
                .declarations
                .get(name)
                .and_then(|d| d.spec.for_environment(environment).default)
        })
    };
    let mut views = Vec::new();
    for d in manifest.declarations.values() {
        let spec = d.spec.for_environment(environment);
        let format = spec
            .format
            .as_ref()
            .and_then(|f| catalog.resolve(f.get_ref()));
        let assignment = env.get(&d.name);
        let service_active = d
            .service
            .as_ref()
            .and_then(|s| manifest.services.get(s))
            .and_then(|s| s.enabled_if.as_ref())
            .is_none_or(|c| {
                greenlight_core::condition::Condition::parse(c.get_ref())
                    .is_ok_and(|c| c.eval(&lookup))
            });
        let var_active = spec.enabled_if.as_ref().is_none_or(|c| {
            greenlight_core::condition::Condition::parse(c.get_ref()).is_ok_and(|c| c.eval(&lookup))
        });
        let format_secret = format.is_some_and(|f| f.format.secret && !f.format.client_safe);
        let declared_secret = spec.secret.unwrap_or(format_secret);
        // A value of its declared public format is that format's, even where a secret shares
        // its shape (a Firebase web key is a Google API key by shape).
        let held_secret = assignment
            .filter(|a| {
                !format.is_some_and(|f| {
                    f.format.client_safe
                        && f.format
                            .validate(&a.value, f.param, &f.format.values)
                            .is_ok()
                })
            })
            .and_then(|a| greenlight_core::redact::held_secret(&a.value));
        let secret = declared_secret || held_secret.is_some();
        let client_exposed = spec
            .client_exposed
            .unwrap_or_else(|| CLIENT_PREFIXES.iter().any(|p| d.name.starts_with(p)));
        let placeholder_format = format
            .map(|f| f.format)
            .or_else(|| secret.then(|| catalog.get("secret")).flatten());
        let reference = assignment.and_then(|a| catalog::secret_reference(&a.value));
        let placeholder = assignment
            .filter(|_| reference.is_none())
            .and_then(|a| catalog::is_placeholder(&a.value, placeholder_format));
        views.push(VarView {
            name: &d.name,
            declaration: Some(d),
            spec: Some(spec),
            format,
            assignment,
            active: service_active && var_active,
            secret,
            client_exposed,
            service: d.service.as_deref(),
            placeholder,
            recognised: None,
            held_secret,
            declared_secret,
            reference,
        });
    }
    for a in env.resolved() {
        if manifest.declarations.contains_key(&a.name) {
            continue;
        }
        let reference = catalog::secret_reference(&a.value);
        let recognised = catalog.recognise(&a.value);
        let declared_secret = recognised.map_or_else(
            || catalog::looks_secret_name(&a.name) && !a.value.is_empty(),
            |f| f.secret && !f.client_safe,
        );
        let held_secret = greenlight_core::redact::held_secret(&a.value);
        let secret = declared_secret || held_secret.is_some();
        let placeholder_format =
            recognised.or_else(|| secret.then(|| catalog.get("secret")).flatten());
        views.push(VarView {
            name: &a.name,
            declaration: None,
            spec: None,
            format: None,
            assignment: Some(a),
            active: true,
            secret,
            client_exposed: CLIENT_PREFIXES.iter().any(|p| a.name.starts_with(p)),
            service: None,
            placeholder: catalog::is_placeholder(&a.value, placeholder_format)
                .filter(|_| reference.is_none()),
            recognised,
            held_secret,
            declared_secret,
            reference,
        });
    }
    views
}

/// Every secret value of an environment, for a [`greenlight_core::redact::Redactor`]: the values of variables declared
/// or recognised as secrets, values whose shape is a secret's whatever their variable, URL
/// passwords (as written and decoded), and secret-shaped defaults and examples in the manifest.
pub fn secret_values(manifest: &Manifest, environment: &str, env: &Environment) -> Vec<String> {
    let mut secrets: Vec<String> = build_views(manifest, environment, env)
        .iter()
        .filter(|v| v.secret)
        .filter_map(|v| v.value().map(str::to_owned))
        .collect();
    for a in env.resolved() {
        if let Ok(u) = url::Url::parse(&a.value) {
            if let Some(pw) = u.password() {
                secrets.push(pw.to_owned());
                secrets.extend(decode_percent(pw));
            }
        }
    }
    // What a scanner finds in the sources as written: secrets recognised by the name beside
    // them (`ALGOLIA_ADMIN_KEY=…`), on malformed lines, in comments.
    for source in &env.sources {
        let Some(text) = &source.text else { continue };
        for hit in greenlight_core::detect::Detectors::builtin()
            .scan(text.as_bytes(), greenlight_core::detect::Generic::On)
        {
            secrets.extend(text.get(hit.secret).map(str::to_owned));
        }
    }
    for d in manifest.declarations.values() {
        let spec = d.spec.for_environment(environment);
        for v in [spec.default.as_deref(), spec.example.as_deref()]
            .into_iter()
            .flatten()
        {
            if greenlight_core::redact::held_secret(v).is_some() {
                secrets.push(v.to_owned());
            }
        }
    }
    secrets
}

fn decode_percent(s: &str) -> Option<String> {
    let bytes: Vec<u8> = url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned().into_bytes())?;
    String::from_utf8(bytes).ok().filter(|d| d != s)
}

/// A finding about a syntax issue of a source (`ambiguous-syntax`, `malformed-line`).
pub(crate) fn source_issue_finding(
    cx: &Context<'_>,
    info: &RuleInfo,
    issue: &greenlight_core::source::SourceIssue,
) -> Finding {
    let var = issue
        .key
        .as_deref()
        .and_then(|k| cx.vars.iter().find(|v| v.name == k));
    Finding {
        rule: info.rule.into(),
        severity: info.severity(),
        message: issue.message.clone(),
        variable: issue.key.clone(),
        service: var.and_then(|v| v.service.map(str::to_owned)),
        location: Some(Location {
            path: issue.origin.path.clone(),
            line: issue.origin.line,
            column: issue.origin.column,
        }),
        value: None,
        verification: None,
        confidence: None,
        why: None,
        help: None,
        commit: None,
        author: None,
        source: None,
        probe: None,
        fingerprint: None,
        snippet: None,
    }
}

/// Every URL in a value: the value itself, or each item of a comma- or space-separated list
/// (`CORS_ORIGINS=https://a.example,http://localhost:5173`).
pub(crate) fn urls_in(value: &str) -> Vec<url::Url> {
    if let Some(u) = parse_url(value) {
        if !value.contains(',') && !value.trim().contains(' ') {
            return vec![u];
        }
    }
    value.split([',', ' ']).filter_map(parse_url).collect()
}

/// The password of a connection URL (`postgres://app:PASSWORD@db/x`), as written in the URL.
pub fn url_password(value: &str) -> Option<String> {
    let u = parse_url(value)?;
    u.password().filter(|p| !p.is_empty()).map(str::to_owned)
}

/// A value that is a URL with a host (`scheme://host…`), parsed.
pub(crate) fn parse_url(value: &str) -> Option<url::Url> {
    if !value.contains("://") {
        return None;
    }
    let u = url::Url::parse(value.trim()).ok()?;
    u.host_str().filter(|h| !h.is_empty())?;
    Some(u)
}

/// Hosts that only ever mean "this machine".
pub(crate) fn is_local_host(host: &str) -> bool {
    let h = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    h == "localhost"
        || h.ends_with(".localhost")
        || h == "0.0.0.0"
        || h == "::1"
        || h == "::"
        || h.parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
        || h == "host.docker.internal"
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ids are public API: this list may only grow.
    #[test]
    fn rule_ids_are_stable() {
        let ids: Vec<&str> = Rule::all().iter().map(|r| r.id()).collect();
        assert_eq!(
            ids,
            [
                "missing-required",
                "empty-value",
                "placeholder-value",
                "invalid-format",
                "invalid-value",
                "test-credential-in-production",
                "test-mode-in-production",
                "live-credential-outside-production",
                "insecure-url",
                "localhost-in-production",
                "weak-secret",
                "shared-secret-value",
                "secret-reused-across-environments",
                "secret-exposed-to-client",
                "undeclared-variable",
                "duplicate-key",
                "debug-enabled-in-production",
                "mismatched-key-modes",
                "rotation-overdue",
                "secret-in-config-file",
                "env-file-not-ignored",
                "ambiguous-syntax",
                "malformed-line",
            ]
        );
    }

    #[test]
    fn registry_lists_every_rule_once_with_a_complete_doc() {
        for rule in Rule::all() {
            assert_eq!(RULES.iter().filter(|r| r.rule == rule).count(), 1, "{rule}");
            let id = RuleId::of(rule.id());
            assert_eq!(id.command(), "check", "{rule}");
            let doc = rule.info().doc();
            for heading in [
                "## What it checks",
                "## Why it matters",
                "## Failing example",
                "## Passing example",
            ] {
                assert!(doc.contains(heading), "{rule}: doc lacks {heading}");
            }
            assert!(
                doc.starts_with(&format!("# {}", rule.id())),
                "{rule}: doc title"
            );
        }
        assert_eq!(RULES.len(), Rule::all().len());
        // Every check rule of the registry has its code here.
        assert_eq!(
            greenlight_core::rule::rules_of("check").count(),
            Rule::all().len()
        );
    }
}
