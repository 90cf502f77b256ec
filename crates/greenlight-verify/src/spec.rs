//! `providers.toml`: how each provider is asked, as data (see the file's header for the fields).
//! Loaded once; `validate` holds the file to the rules that make verification safe: every host is
//! a fixed name (or one DNS label filled from a non-secret role), secrets never go into a host
//! or a path, every format and check named exists.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use indexmap::IndexMap;
use regex::Regex;
use serde::Deserialize;

const PROVIDERS: &str = include_str!("../providers.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderFile {
    pub provider: Vec<Provider>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    pub id: String,
    pub title: String,
    /// Where the facts come from (a section of provider-formats.md).
    pub facts: String,
    pub docs: Vec<String>,
    /// The pinned API host; `None` for providers greenlight cannot ask.
    #[serde(default)]
    pub host: Option<String>,
    /// The main credential's role.
    pub credential: String,
    pub roles: IndexMap<String, Role>,
    #[serde(default)]
    pub derive: IndexMap<String, Derive>,
    #[serde(default)]
    pub unverifiable: Option<String>,
    #[serde(default)]
    pub notes: Vec<String>,
    #[serde(default)]
    pub admin_scopes: Vec<String>,
    /// Scopes the app needs when the manifest does not say (SendGrid: `mail.send`).
    #[serde(default)]
    pub default_scopes: Vec<String>,
    #[serde(default)]
    pub checks: Vec<String>,
    #[serde(default)]
    pub call: Vec<Call>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    #[serde(default)]
    pub formats: Vec<String>,
    #[serde(default)]
    pub detectors: Vec<String>,
    #[serde(default)]
    pub optional: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Derive {
    pub from: String,
    pub pattern: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Call {
    pub id: String,
    /// The role whose credential this call judges (default: the provider's first role).
    #[serde(default)]
    pub role: Option<String>,
    /// The call runs only when the manifest expects this (`webhook`, `sender`, `worker`, …).
    #[serde(default)]
    pub needs: Option<String>,
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    #[serde(default)]
    pub form: BTreeMap<String, String>,
    #[serde(default)]
    pub json: BTreeMap<String, String>,
    #[serde(default)]
    pub basic: Option<[String; 2]>,
    #[serde(default)]
    pub sign: Option<String>,
    #[serde(default)]
    pub valid: Vec<u16>,
    #[serde(default)]
    pub invalid: Vec<u16>,
    #[serde(default)]
    pub denied: Vec<u16>,
    #[serde(default)]
    pub invalid_if: Vec<Predicate>,
    #[serde(default)]
    pub facts: BTreeMap<String, String>,
}

/// A test on a JSON answer: the value at `pointer` equals, does not equal, or (an array)
/// contains a value.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Predicate {
    pub pointer: String,
    #[serde(default)]
    pub equals: Option<serde_json::Value>,
    #[serde(default)]
    pub not_equals: Option<serde_json::Value>,
    #[serde(default)]
    pub contains: Option<serde_json::Value>,
}

impl Predicate {
    pub fn holds(&self, body: &serde_json::Value) -> bool {
        let v = body.pointer(&self.pointer);
        if let Some(e) = &self.equals {
            return v == Some(e);
        }
        if let Some(e) = &self.not_equals {
            return v != Some(e);
        }
        if let Some(e) = &self.contains {
            return v.and_then(|v| v.as_array()).is_some_and(|a| a.contains(e));
        }
        false
    }
}

impl Provider {
    pub fn primary_role(&self) -> &str {
        &self.credential
    }

    pub fn call_role<'a>(&'a self, call: &'a Call) -> &'a str {
        call.role.as_deref().unwrap_or_else(|| self.primary_role())
    }

    pub fn derived(&self, name: &str) -> Option<&Derive> {
        self.derive.get(name)
    }
}

/// The providers, parsed and validated once.
pub fn providers() -> &'static [Provider] {
    static P: OnceLock<Vec<Provider>> = OnceLock::new();
    P.get_or_init(|| {
        let file: ProviderFile = toml::from_str(PROVIDERS).expect("providers.toml parses");
        file.provider
    })
}

pub fn provider(id: &str) -> Option<&'static Provider> {
    providers().iter().find(|p| p.id == id)
}

/// `{name}` placeholders of a template.
pub fn placeholders(template: &str) -> Vec<&str> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"\{([a-z_]+)\}").expect("valid"));
    re.captures_iter(template)
        .map(|c| c.get(1).expect("group").as_str())
        .collect()
}

/// The names a template may use besides roles and derived values: what the manifest's
/// `[services.X.verify]` says.
pub const EXPECTATIONS: &[&str] = &["worker", "domain", "sender", "bucket", "webhook", "account"];

/// Every rule that keeps `providers.toml` safe and consistent; the list of what is wrong.
/// `is_check` says whether a named check exists (the checks module reads this one, so it is
/// passed in rather than imported).
pub fn validate(
    providers: &[Provider],
    is_secret_format: impl Fn(&str) -> Option<bool>,
    is_check: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut problems = Vec::new();
    let host_re =
        Regex::new(r"^(?:\{[a-z_]+\}|[a-z0-9-]+(?:\{[a-z_]+\})?)(?:\.[a-z0-9-]+)+$|^\{address\}$")
            .expect("valid");
    let mut ids = std::collections::HashSet::new();
    for p in providers {
        if !ids.insert(&p.id) {
            problems.push(format!("{}: duplicate id", p.id));
        }
        if !p.roles.contains_key(&p.credential) {
            problems.push(format!(
                "{}: credential `{}` is not one of its roles",
                p.id, p.credential
            ));
        }
        let secret_role = |r: &str| -> bool {
            p.roles.get(r).is_some_and(|role| {
                role.formats.is_empty()
                    || role
                        .formats
                        .iter()
                        .any(|f| is_secret_format(f) != Some(false))
            })
        };
        for (name, role) in &p.roles {
            for f in &role.formats {
                if is_secret_format(f).is_none() {
                    problems.push(format!(
                        "{}: role `{name}` names unknown format `{f}`",
                        p.id
                    ));
                }
            }
        }
        for (name, d) in &p.derive {
            if !p.roles.contains_key(&d.from) {
                problems.push(format!(
                    "{}: derive `{name}` from unknown role `{}`",
                    p.id, d.from
                ));
            }
            if Regex::new(&d.pattern).is_err() {
                problems.push(format!(
                    "{}: derive `{name}` pattern does not compile",
                    p.id
                ));
            }
        }
        let known = |n: &str| {
            p.roles.contains_key(n) || p.derive.contains_key(n) || EXPECTATIONS.contains(&n)
        };
        match (&p.host, &p.unverifiable) {
            (None, None) => problems.push(format!("{}: neither host nor unverifiable", p.id)),
            (Some(_), Some(_)) => problems.push(format!("{}: both host and unverifiable", p.id)),
            (None, Some(_)) if !p.call.is_empty() => {
                problems.push(format!("{}: unverifiable but has calls", p.id))
            }
            (Some(h), None) => {
                if !host_re.is_match(h) {
                    problems.push(format!("{}: host `{h}` is not a fixed DNS name", p.id));
                }
                for ph in placeholders(h) {
                    if !known(ph) || secret_role(ph) {
                        problems.push(format!(
                            "{}: host uses `{{{ph}}}`, which is not a non-secret role",
                            p.id
                        ));
                    }
                }
                if p.call.is_empty() {
                    problems.push(format!("{}: a host but no calls", p.id));
                }
            }
            _ => {}
        }
        for c in &p.call {
            let role = p.call_role(c);
            if !p.roles.contains_key(role) {
                problems.push(format!("{} {}: unknown role `{role}`", p.id, c.id));
            }
            if !matches!(c.method.as_str(), "GET" | "POST") {
                problems.push(format!(
                    "{} {}: method {} (GET or a read-only POST only)",
                    p.id, c.id, c.method
                ));
            }
            for ph in placeholders(&c.path) {
                if !known(ph) || secret_role(ph) {
                    problems.push(format!(
                        "{} {}: path uses `{{{ph}}}`, which is not a non-secret value",
                        p.id, c.id
                    ));
                }
            }
            let values = c
                .headers
                .values()
                .chain(c.query.values())
                .chain(c.form.values())
                .chain(c.json.values())
                .chain(c.basic.iter().flatten());
            for v in values {
                for ph in placeholders(v) {
                    if !known(ph) {
                        problems.push(format!("{} {}: unknown placeholder `{{{ph}}}`", p.id, c.id));
                    }
                }
            }
            if let Some(s) = &c.sign {
                if !crate::sign::is_known(s) {
                    problems.push(format!("{} {}: unknown signing scheme `{s}`", p.id, c.id));
                }
            }
            if c.valid.is_empty() {
                problems.push(format!("{} {}: no valid status", p.id, c.id));
            }
            if let Some(n) = &c.needs {
                if !EXPECTATIONS.contains(&n.as_str()) {
                    problems.push(format!("{} {}: needs unknown `{n}`", p.id, c.id));
                }
            }
        }
        for check in &p.checks {
            if !is_check(check) {
                problems.push(format!("{}: unknown check `{check}`", p.id));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret_of(id: &str) -> Option<bool> {
        greenlight_core::catalog::Catalog::builtin()
            .get(id)
            .map(|f| f.secret)
    }

    #[test]
    fn providers_file_is_safe_and_consistent() {
        let problems = validate(providers(), secret_of, crate::checks::is_known);
        assert!(problems.is_empty(), "{problems:#?}");
        assert!(providers().len() >= 20);
    }

    #[test]
    fn a_secret_in_a_host_or_path_is_refused() {
        let mut p = provider("stripe").unwrap().clone();
        p.host = Some("{key}.stripe.com".into());
        p.call[0].path = "/v1/{key}".into();
        let problems = validate(&[p], secret_of, crate::checks::is_known);
        assert!(
            problems.iter().any(|m| m.contains("host uses `{key}`")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|m| m.contains("path uses `{key}`")),
            "{problems:?}"
        );
    }

    #[test]
    fn a_host_must_be_a_fixed_name() {
        let mut p = provider("openai").unwrap().clone();
        for bad in [
            "api.openai.com/evil",
            "{key}",
            "API.openai.com",
            "127.0.0.1:80",
        ] {
            p.host = Some(bad.into());
            assert!(
                !validate(std::slice::from_ref(&p), secret_of, crate::checks::is_known).is_empty(),
                "{bad}"
            );
        }
    }

    #[test]
    fn writes_are_refused() {
        let mut p = provider("openai").unwrap().clone();
        p.call[0].method = "DELETE".into();
        assert!(!validate(&[p], secret_of, crate::checks::is_known).is_empty());
    }

    /// docs/verify.md lists every request greenlight makes, and every provider it cannot ask.
    #[test]
    fn docs_list_every_request() {
        let doc = include_str!("../../../docs/verify.md");
        for p in providers() {
            match &p.host {
                Some(host) => {
                    for c in &p.call {
                        let line = format!("`{} https://{host}{}`", c.method, c.path);
                        assert!(doc.contains(&line), "docs/verify.md lacks {line}");
                    }
                }
                None => assert!(
                    doc.contains(&format!("(`{}`)", p.id)),
                    "docs/verify.md lacks {}",
                    p.id
                ),
            }
        }
    }

    #[test]
    fn predicates() {
        let body = serde_json::json!({"ok": false, "error-codes": ["invalid-input-secret"]});
        let p = |json: &str| -> Predicate { toml::from_str(json).unwrap() };
        assert!(p("pointer = \"/ok\"\nnot_equals = true").holds(&body));
        assert!(!p("pointer = \"/ok\"\nequals = true").holds(&body));
        assert!(p("pointer = \"/error-codes\"\ncontains = \"invalid-input-secret\"").holds(&body));
        assert!(!p("pointer = \"/missing\"\ncontains = \"x\"").holds(&body));
    }
}
