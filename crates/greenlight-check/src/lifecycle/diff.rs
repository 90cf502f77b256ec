//! `greenlight diff A B`: what differs between two environments — variables missing on either
//! side, secrets both share (by keyed fingerprint, never by value), live/test modes that differ,
//! and URLs of one that point at the other's hosts.

use std::collections::HashMap;

use crate::rules::{build_views, location_of, parse_url, Rule, VarView};
use greenlight_core::error::InputError;
use greenlight_core::finding::{Finding, Report, RuleId, Severity};
use greenlight_core::fingerprint::Fingerprinter;
use greenlight_core::manifest::Manifest;
use greenlight_core::redact::{Redacted, Redactor};
use greenlight_core::source::{load_environment, LoadOptions};

/// The differences of two environments, as a report sealed by a redactor that knows the secret
/// values of both.
pub fn diff(manifest: &Manifest, a: &str, b: &str) -> Result<Redacted<Report>, InputError> {
    let (findings, redactor) = diff_findings(manifest, a, b)?;
    let report = Report::new("diff", Some(format!("{a}..{b}")), findings);
    Ok(redactor.seal(report))
}

fn diff_findings(
    manifest: &Manifest,
    a: &str,
    b: &str,
) -> Result<(Vec<Finding>, Redactor), InputError> {
    let env_a = load_environment(manifest, a, &LoadOptions::default())?;
    let env_b = load_environment(manifest, b, &LoadOptions::default())?;
    let views_a = build_views(manifest, a, &env_a);
    let views_b = build_views(manifest, b, &env_b);
    let mut secrets = crate::rules::secret_values(manifest, a, &env_a);
    secrets.extend(crate::rules::secret_values(manifest, b, &env_b));
    let redactor = Redactor::new(secrets);
    let by_name = |views: &'_ [VarView<'_>]| -> HashMap<String, usize> {
        views
            .iter()
            .enumerate()
            .filter(|(_, v)| v.assignment.is_some())
            .map(|(i, v)| (v.name.to_owned(), i))
            .collect()
    };
    let (names_a, names_b) = (by_name(&views_a), by_name(&views_b));
    let mut out = Vec::new();
    let mut finding = |rule: RuleId, severity: Severity, view: &VarView<'_>, message: String| {
        let a = view.assignment.expect("present");
        out.push(Finding {
            rule,
            severity,
            message,
            variable: Some(view.name.to_owned()),
            service: view.service.map(str::to_owned),
            location: Some(location_of(a)),
            value: Some(greenlight_core::redact::Shown::of(&a.value, view.secret)),
            commit: None,
            author: None,
            fingerprint: None,
            source: None,
            probe: None,
            verification: None,
            confidence: None,
            why: None,
            help: None,
            snippet: crate::rules::snippet_of(a, view.secret),
        });
    };
    for (views, names_other, this, other) in
        [(&views_a, &names_b, a, b), (&views_b, &names_a, b, a)]
    {
        for v in views.iter().filter(|v| v.assignment.is_some()) {
            if !names_other.contains_key(v.name) {
                finding(
                    RuleId::of("missing-in-environment"),
                    Severity::Warning,
                    v,
                    format!("`{}` is set in {this} but not in {other}", v.name),
                );
            }
        }
    }
    let fp = Fingerprinter::random();
    let secrets_b: HashMap<[u8; 32], &VarView<'_>> = views_b
        .iter()
        .filter(|v| v.secret && v.has_real_value())
        .map(|v| (fp.fingerprint(v.value().unwrap_or_default()), v))
        .collect();
    for v in views_a.iter().filter(|v| v.secret && v.has_real_value()) {
        if let Some(o) = secrets_b.get(&fp.fingerprint(v.value().unwrap_or_default())) {
            let loc = o
                .assignment
                .map(location_of)
                .map(|l| format!("{}:{}", l.path, l.line))
                .unwrap_or_default();
            finding(
                Rule::SecretReusedAcrossEnvironments.into(),
                Severity::Critical,
                v,
                format!(
                    "`{}` in {a} holds the same secret as `{}` in {b} ({loc})",
                    v.name, o.name
                ),
            );
        }
    }
    for v in views_a.iter().filter(|v| v.assignment.is_some()) {
        let Some(&j) = names_b.get(v.name) else {
            continue;
        };
        let o = &views_b[j];
        if let (Some(ma), Some(mb)) = (v.mode(), o.mode()) {
            if ma != mb {
                finding(
                    RuleId::of("mode-differs"),
                    Severity::Recommendation,
                    v,
                    format!("`{}` is {ma:?} mode in {a} and {mb:?} mode in {b}", v.name)
                        .to_lowercase()
                        .replace(&v.name.to_lowercase(), v.name),
                );
            }
        }
        let (Some(ua), Some(ub)) = (v.value().and_then(parse_url), o.value().and_then(parse_url))
        else {
            continue;
        };
        // Infrastructure only: two environments sharing a database, cache or broker (or any URL
        // with credentials) is a defect; sharing a SaaS host (an error tracker, an API) is not.
        let infrastructure = |u: &url::Url| {
            matches!(
                u.scheme(),
                "postgres"
                    | "postgresql"
                    | "mysql"
                    | "mongodb"
                    | "mongodb+srv"
                    | "redis"
                    | "rediss"
                    | "amqp"
                    | "amqps"
            ) || u.password().is_some()
        };
        if infrastructure(&ua)
            && ua.host_str() == ub.host_str()
            && !crate::rules::is_local_host(ua.host_str().unwrap_or_default())
        {
            finding(
                RuleId::of("host-shared-across-environments"),
                Severity::Warning,
                v,
                format!(
                    "`{}` points at the same host `{}` in {a} and {b}",
                    v.name,
                    ua.host_str().unwrap_or_default()
                ),
            );
        }
    }
    Ok((out, redactor))
}
