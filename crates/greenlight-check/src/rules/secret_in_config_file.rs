//! `secret-in-config-file`: a secret written into a committed configuration file.

use super::{Context, Rule, RuleInfo};
use greenlight_core::finding::Finding;

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::SecretInConfigFile,
    run,
};

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for v in cx.present() {
        let Some(a) = v.assignment else { continue };
        if !a.origin.kind.is_config_file() || a.value.is_empty() {
            continue;
        }
        // Only secrets: a non-secret that sits in a `secrets` table is misfiled, not leaked.
        if !v.secret {
            continue;
        }
        let in_secrets = a.origin.in_secret_table;
        use greenlight_core::source::SourceKind;
        let store = match a.origin.kind {
            _ if a.origin.path.ends_with("wrangler.toml") => {
                format!("`wrangler secret put {}`", v.name)
            }
            SourceKind::ConfigMap => "a Kubernetes Secret (or a secret store)".to_owned(),
            SourceKind::Compose => {
                "an `env_file` that is not committed, `${VAR}` interpolation or compose `secrets:`"
                    .to_owned()
            }
            _ => "a secret store or an ignored env file".to_owned(),
        };
        let table = if in_secrets {
            " (a `secrets` table in a config file is still committed text)"
        } else {
            ""
        };
        out.push(cx.finding(
            INFO.rule,
            v,
            format!(
                "`{}` is a secret written into {}{table}; set it with {store}",
                v.name, a.origin.path
            ),
        ));
    }
    // Secrets elsewhere in those files (a token in a comment, a key in an unrelated table): the
    // scan detectors find them.
    for source in cx.env.sources.iter().filter(|s| s.kind.is_config_file()) {
        let Some(text) = &source.text else { continue };
        for mut f in greenlight_core::text_findings::scan_bytes(&source.path, text.as_bytes()) {
            let line = f.location.as_ref().map(|l| l.line);
            let reported = out.iter().any(|o| {
                o.location.as_ref().map(|l| (&l.path, l.line)) == line.map(|l| (&source.path, l))
            });
            if reported {
                continue;
            }
            f.message = format!(
                "{} written into {}; committed configuration is no place for it",
                f.rule.summary(),
                source.path
            );
            f.rule = INFO.rule.into();
            f.severity = INFO.severity();
            f.fingerprint = None;
            out.push(f);
        }
    }
    manifest_values(cx, out);
}

/// greenlight.toml is committed too: a `default` or `example` that is a secret (by its shape,
/// or because its variable is a secret and the value is no placeholder) is a leak, and would be
/// handed to every environment that does not set the variable.
fn manifest_values(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let catalog = greenlight_core::catalog::Catalog::builtin();
    for d in cx.manifest.declarations.values() {
        let spec = d.spec.for_environment(cx.environment);
        let format = spec
            .format
            .as_ref()
            .and_then(|f| catalog.resolve(f.get_ref()))
            .map(|f| f.format);
        let declared_secret = spec
            .secret
            .unwrap_or(format.is_some_and(|f| f.secret && !f.client_safe));
        for (key, value) in [("default", &spec.default), ("example", &spec.example)] {
            let Some(value) = value.as_deref().filter(|v| !v.is_empty()) else {
                continue;
            };
            let held = greenlight_core::redact::held_secret(value);
            let placeholder = greenlight_core::catalog::is_placeholder(
                value,
                format.or_else(|| catalog.get("secret")),
            )
            .is_some();
            let what = match held {
                Some(kind) => format!("a {kind}"),
                None if declared_secret && !placeholder && value.len() >= 8 => {
                    "the value of a secret".to_owned()
                }
                None => continue,
            };
            out.push(Finding {
                rule: INFO.rule.into(),
                severity: INFO.severity(),
                message: format!(
                    "the `{key}` of `{}` in {} is {what}; greenlight.toml is committed, so the secret is in the repository",
                    d.name,
                    cx.manifest.display_path()
                ),
                variable: Some(d.name.clone()),
                service: d.service.clone(),
                location: Some(cx.declaration_location(d)),
                value: Some(greenlight_core::redact::Shown::secret(value)),
                verification: None,
                confidence: None,
                why: None,
                help: Some(format!(
                    "remove the {key}, rotate the secret, and set it in each environment's secret store"
                )),
                commit: None,
                author: None,
                fingerprint: None,
                source: None,
                probe: None,
                snippet: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{testing::findings, Rule};

    fn run(wrangler: &str) -> usize {
        let decls = "[vars.STRIPE_SECRET_KEY]\nformat = \"stripe.secret_key\"\nrequired = false\n[vars.LOG_LEVEL]\nrequired = false\n";
        let header = "[environments.edge]\nsources = [\"wrangler.toml#env.production\"]\nproduction = true\n";
        findings(
            &format!("{header}\n{decls}"),
            &[(".env.production", ""), ("wrangler.toml", wrangler)],
            "edge",
            Rule::SecretInConfigFile,
        )
        .len()
    }

    #[test]
    fn fails_on_secret_in_wrangler_toml() {
        assert_eq!(run("[env.production.secrets]\nSTRIPE_SECRET_KEY = \"sk_live_7uXtXRKyccefTDgpukRzthFvQDYUN7jm8lBwQ32dLKI28Ih0\"\n"), 1);
    }

    #[test]
    fn finds_undeclared_secrets_anywhere_in_the_file() {
        assert_eq!(run("# deploy token: ghp_42nYHSAqpf9vX1ts9ygUqNsvm8HPOP1IEztn\n[env.production]\nvars = { LOG_LEVEL = \"info\" }\n"), 1);
    }

    #[test]
    fn a_secret_default_or_example_in_the_manifest_is_found() {
        let decls = "[vars.STRIPE_SECRET_KEY]\nformat = \"stripe.secret_key\"\ndefault = \"sk_live_7uXtXRKyccefTDgpukRzthFvQDYUN7jm8lBwQ32dLKI28Ih0\"\n[vars.HOOK]\nexample = \"ghp_42nYHSAqpf9vX1ts9ygUqNsvm8HPOP1IEztn\"\nrequired = false\n[vars.PORT]\ndefault = \"8080\"\n[vars.SESSION_SECRET]\nsecret = true\nexample = \"<generate with greenlight gen hex-32>\"\n";
        let f = findings(
            decls,
            &[(".env.production", "")],
            "production",
            Rule::SecretInConfigFile,
        );
        let names: Vec<_> = f.iter().filter_map(|f| f.variable.as_deref()).collect();
        assert_eq!(names, ["STRIPE_SECRET_KEY", "HOOK"], "{f:?}");
        for f in &f {
            assert!(f
                .location
                .as_ref()
                .unwrap()
                .path
                .ends_with("greenlight.toml"));
            assert!(!f.value.as_ref().unwrap().as_str().contains("yccefTDg"));
        }
    }

    #[test]
    fn passes_on_plain_vars() {
        assert_eq!(
            run("[env.production]\nvars = { LOG_LEVEL = \"info\" }\n"),
            0
        );
    }
}
