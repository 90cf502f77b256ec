//! `secret-reused-across-environments`: a production secret that another environment also has.

use super::{Context, Rule, RuleInfo};
use greenlight_core::finding::Finding;

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::SecretReusedAcrossEnvironments,
    run,
};

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    if !cx.production || cx.other_secrets.is_empty() {
        return;
    }
    for v in cx.present() {
        if v.placeholder.is_some() {
            continue;
        }
        // The password inside a connection URL, reused even where the hosts differ (seed 003:
        // "rotate all staging secrets, never reuse in production").
        if let Some(pw) = v.value().and_then(super::url_password) {
            for o in cx
                .other_secrets
                .get(&(cx.fingerprint)(&pw))
                .into_iter()
                .flatten()
            {
                out.push(cx.finding(
                    INFO.rule,
                    v,
                    format!(
                        "the password in `{}` is also used by {} in `{}` at {}:{}; give each environment its own database credentials",
                        v.name, o.environment, o.variable, o.location.path, o.location.line
                    ),
                ));
            }
            continue;
        }
        if !v.secret || !v.has_real_value() {
            continue;
        }
        let Some(others) = cx
            .other_secrets
            .get(&(cx.fingerprint)(v.value().unwrap_or_default()))
        else {
            continue;
        };
        for o in others {
            let same = if o.variable == v.name {
                String::new()
            } else {
                format!(" (as `{}`)", o.variable)
            };
            out.push(cx.finding(
                INFO.rule,
                v,
                format!(
                    "`{}` is also used by {}{same} at {}:{}; rotate it and give each environment its own",
                    v.name, o.environment, o.location.path, o.location.line
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{testing::findings, Rule};

    const DECLS: &str = "[vars.OPENAI_API_KEY]\nformat = \"openai.api_key\"\n";
    const KEY: &str = "OPENAI_API_KEY=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\n";

    #[test]
    fn fails_when_staging_has_the_production_secret() {
        let f = findings(
            DECLS,
            &[(".env.production", KEY), (".env.staging", KEY)],
            "production",
            Rule::SecretReusedAcrossEnvironments,
        );
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("staging"));
    }

    #[test]
    fn a_url_password_reused_on_another_host_is_found() {
        let decls = "[vars.DATABASE_URL]\nformat = \"postgres.url\"\n";
        let f = findings(
            decls,
            &[
                (".env.production", "DATABASE_URL=postgres://app:Zq8rT2vLm9pX4wK7@db.prod.acme-corp.io:5432/app?sslmode=require\n"),
                (".env.staging", "DATABASE_URL=postgres://app:Zq8rT2vLm9pX4wK7@db.staging.acme-corp.io:5432/app?sslmode=require\n"),
            ],
            "production",
            Rule::SecretReusedAcrossEnvironments,
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].message.contains("password in `DATABASE_URL`"),
            "{}",
            f[0].message
        );
        assert!(!f[0].message.contains("Zq8rT2vL"));
        // Different passwords: nothing.
        let f = findings(
            decls,
            &[
                (".env.production", "DATABASE_URL=postgres://app:Zq8rT2vLm9pX4wK7@db.prod.acme-corp.io:5432/app?sslmode=require\n"),
                (".env.staging", "DATABASE_URL=postgres://app:Hn3kW8sQp2rV6yB1@db.staging.acme-corp.io:5432/app?sslmode=require\n"),
            ],
            "production",
            Rule::SecretReusedAcrossEnvironments,
        );
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn passes_when_distinct_or_other_environment_absent() {
        let other = "OPENAI_API_KEY=sk-proj-qcbJOnGrrPzIjKMpDeO-zmjWWZm3y6qwI3d8fA2g4TFiTVqjwf6VPI05bFtne4nZhBjKJEaHvMT3BlbkFJDR9\n";
        assert!(findings(
            DECLS,
            &[(".env.production", KEY), (".env.staging", other)],
            "production",
            Rule::SecretReusedAcrossEnvironments
        )
        .is_empty());
        assert!(findings(
            DECLS,
            &[(".env.production", KEY)],
            "production",
            Rule::SecretReusedAcrossEnvironments
        )
        .is_empty());
    }
}
