//! `debug-enabled-in-production`: debug switches and development modes in production.

use super::{Context, Rule, RuleInfo};
use greenlight_core::catalog::parse_bool;
use greenlight_core::finding::{Finding, Severity};

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::DebugEnabledInProduction,
    run,
};

/// `DEBUG`, `…_DEBUG`, `…_DEBUG_MODE`, `…ENABLE_DEBUG`, `…ENABLE_TEST_ROUTES`,
/// `…ENABLE_CONSOLE_LOGS` (seed 004's switches), in any case.
fn is_debug_switch(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    n == "DEBUG"
        || [
            "_DEBUG",
            "_DEBUG_MODE",
            "DEBUG_MODE",
            "ENABLE_DEBUG",
            "ENABLE_TEST_ROUTES",
            "ENABLE_CONSOLE_LOGS",
            "ENABLE_DEBUG_ROUTES",
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
    let n = name.to_ascii_uppercase();
    ["LOG_LEVEL", "LOGLEVEL", "LOGGING_LEVEL"]
        .iter()
        .any(|s| n == *s || n.ends_with(&format!("_{s}")))
}

/// Log filters whose directives name levels (`RUST_LOG=info,my_app=debug`, `RUST_LOG=trace`).
fn is_log_filter(name: &str) -> bool {
    matches!(name, "RUST_LOG" | "GO_LOG" | "GODEBUG_LOG" | "SPDLOG_LEVEL")
}

/// Does a log filter turn debug or trace output on for any target?
fn filter_enables_debug(value: &str) -> bool {
    value.split(',').any(|directive| {
        let level = directive.rsplit('=').next().unwrap_or(directive).trim();
        level.eq_ignore_ascii_case("debug") || level.eq_ignore_ascii_case("trace")
    })
}

/// Node's `debug` package reads namespaces from `DEBUG` (`DEBUG=*`, `DEBUG=express:*,app`), and
/// node itself from `NODE_DEBUG` (`NODE_DEBUG=http,net`): any namespace list turns debug output on.
fn is_debug_namespaces(name: &str, value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() || parse_bool(v).is_some() {
        return false;
    }
    match name {
        "NODE_DEBUG" => true,
        "DEBUG" => v
            .split([',', ' '])
            .any(|ns| !ns.is_empty() && !ns.starts_with('-')),
        _ => false,
    }
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
        } else if (is_log_level(v.name)
            && matches!(
                lower.as_str(),
                "debug" | "trace" | "verbose" | "silly" | "all"
            ))
            || (is_log_filter(v.name) && filter_enables_debug(value))
        {
            let mut f = cx.finding(INFO.rule, v, format!("`{}` turns on debug or trace logging in production; debug logs are slow and tend to contain secrets", v.name));
            f.severity = Severity::Warning;
            out.push(f);
        } else if is_debug_namespaces(v.name, value) {
            let mut f = cx.finding(INFO.rule, v, format!("`{}` lists debug namespaces in production, which turns node's debug output on; debug logs tend to contain secrets", v.name));
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
    fn log_filters_and_debug_namespaces_are_warnings_switches_critical() {
        use greenlight_core::finding::Severity;
        let env = "RUST_LOG=info,my_app=debug\nNODE_DEBUG=http,net\nDEBUG=*\nAPP_LOGLEVEL=trace\n";
        let f = prod("", env, Rule::DebugEnabledInProduction);
        assert_eq!(f.len(), 4, "{f:?}");
        assert!(f.iter().all(|f| f.severity == Severity::Warning));
        let env = "VITE_ENABLE_CONSOLE_LOGS=true\nenable_test_routes=true\nenable_debug=1\n";
        let f = prod("", env, Rule::DebugEnabledInProduction);
        assert_eq!(f.len(), 3, "{f:?}");
        assert!(f.iter().all(|f| f.severity == Severity::Critical));
        let quiet = "RUST_LOG=info,hyper=warn\nDEBUG=-*\nNODE_DEBUG=\n";
        assert!(prod("", quiet, Rule::DebugEnabledInProduction).is_empty());
    }

    #[test]
    fn passes_on_production_settings() {
        let env = "DEBUG=false\nNODE_ENV=production\nLOG_LEVEL=INFO\nVITE_ENABLE_DEBUG=false\n";
        assert!(prod("", env, Rule::DebugEnabledInProduction).is_empty());
    }
}
