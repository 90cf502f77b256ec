//! `debug-enabled-in-production`: debug switches and development modes in production.

use super::{Context, Rule, RuleInfo};
use crate::catalog::parse_bool;
use crate::finding::{Finding, Severity};

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::DebugEnabledInProduction,
    severity: Severity::Critical,
    summary: "Debug mode, a development runtime mode or debug logging is on in production",
    doc: include_str!("docs/debug-enabled-in-production.md"),
    run,
};

/// `DEBUG`, `…_DEBUG`, `…_DEBUG_MODE`, `…ENABLE_DEBUG`, `…ENABLE_TEST_ROUTES`.
fn is_debug_switch(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    n == "DEBUG"
        || [
            "_DEBUG",
            "_DEBUG_MODE",
            "DEBUG_MODE",
            "ENABLE_DEBUG",
            "ENABLE_TEST_ROUTES",
        ]
        .iter()
        .any(|s| n.ends_with(s))
}

/// `NODE_ENV`, `APP_ENV`, `ENVIRONMENT`, … and their bundler-prefixed copies.
fn is_runtime_mode(name: &str) -> bool {
    let base = super::CLIENT_PREFIXES
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name);
    matches!(
        base,
        "NODE_ENV"
            | "APP_ENV"
            | "ENVIRONMENT"
            | "RAILS_ENV"
            | "RACK_ENV"
            | "FLASK_ENV"
            | "DJANGO_ENV"
            | "ASPNETCORE_ENVIRONMENT"
            | "GO_ENV"
            | "MIX_ENV"
    )
}

fn is_log_level(name: &str) -> bool {
    name == "LOG_LEVEL" || name.ends_with("_LOG_LEVEL")
}

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    if !cx.production {
        return;
    }
    for v in cx.present() {
        let Some(value) = v.value() else { continue };
        let lower = value.trim().to_ascii_lowercase();
        if is_debug_switch(v.name) && parse_bool(value) == Some(true) {
            out.push(cx.finding(INFO.rule, v, format!("`{}` turns debugging on in production: stack traces, test routes and verbose errors reach users", v.name)));
        } else if is_runtime_mode(v.name)
            && matches!(
                lower.as_str(),
                "development" | "dev" | "debug" | "local" | "test"
            )
        {
            out.push(cx.finding(INFO.rule, v, format!("`{}` is `{value}` in production; frameworks then disable caching, minification and error hiding", v.name)));
        } else if is_log_level(v.name)
            && matches!(lower.as_str(), "debug" | "trace" | "verbose" | "silly")
        {
            let mut f = cx.finding(INFO.rule, v, format!("`{}` is `{value}` in production; debug logs are slow and tend to contain secrets", v.name));
            f.severity = Severity::Warning;
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{testing::prod, Rule};

    #[test]
    fn fails_on_debug_settings() {
        let env = "DEBUG=true\nNODE_ENV=development\nLOG_LEVEL=debug\nVITE_ENABLE_DEBUG=1\n";
        assert_eq!(prod("", env, Rule::DebugEnabledInProduction).len(), 4);
    }

    #[test]
    fn passes_on_production_settings() {
        let env = "DEBUG=false\nNODE_ENV=production\nLOG_LEVEL=INFO\nVITE_ENABLE_DEBUG=false\n";
        assert!(prod("", env, Rule::DebugEnabledInProduction).is_empty());
    }
}
