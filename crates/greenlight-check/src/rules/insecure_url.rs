//! `insecure-url`: production traffic in cleartext (http, ws, redis without TLS, postgres
//! without enforced TLS).

use super::{is_local_host, urls_in, Context, Rule, RuleInfo};
use greenlight_core::finding::{Finding, Severity};

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::InsecureUrl,
    run,
};

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    if !cx.production {
        return;
    }
    for v in cx.present() {
        let Some(value) = v.value() else { continue };
        if v.placeholder.is_some() {
            continue;
        }
        for u in urls_in(value) {
            let host = u.host_str().unwrap_or_default();
            if is_local_host(host) {
                continue; // localhost-in-production says what is wrong there
            }
            let (message, severity) = match u.scheme() {
                "http" => (
                    format!(
                        "`{}` uses http://; production traffic must use https://",
                        v.name
                    ),
                    Severity::Critical,
                ),
                "ws" => (
                    format!("`{}` uses ws://; use wss://", v.name),
                    Severity::Critical,
                ),
                "redis" => (
                    format!("`{}` connects to Redis without TLS; use rediss://", v.name),
                    Severity::Critical,
                ),
                "postgres" | "postgresql" => {
                    let sslmode = u
                        .query_pairs()
                        .find(|(k, _)| k == "sslmode")
                        .map(|(_, v)| v.into_owned());
                    match sslmode.as_deref() {
                    Some(m @ ("disable" | "allow" | "prefer")) => (
                        format!("`{}` has sslmode={m}, which does not require TLS; use sslmode=verify-full", v.name),
                        Severity::Critical,
                    ),
                    None => (
                        format!("`{}` sets no sslmode, so libpq defaults to `prefer` (TLS not required); add sslmode=verify-full", v.name),
                        Severity::Critical,
                    ),
                    Some("require") => (
                        format!("`{}` has sslmode=require: encrypted but the server is not verified; prefer sslmode=verify-full", v.name),
                        Severity::Recommendation,
                    ),
                    _ => continue,
                }
                }
                "amqp" | "mongodb" | "mysql" | "ftp" | "smtp" => (
                    format!("`{}` uses the cleartext `{}` scheme", v.name, u.scheme()),
                    Severity::Critical,
                ),
                _ => continue,
            };
            let mut f = cx.finding(INFO.rule, v, message);
            f.severity = severity;
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{testing::prod, Rule};
    use greenlight_core::finding::Severity;

    #[test]
    fn fails_on_cleartext_urls() {
        let env = "API=http://api.shop.io\nREDIS_URL=redis://:Xy7vQ2nLp9rT4wZ8@cache.internal:6379/0\nDATABASE_URL=postgresql://app:Zq8vN3xLw2pR7tY5@db.internal:5432/app?sslmode=prefer\nDB2=postgres://app:Zq8vN3xLw2pR7tY5@db.internal/app\n";
        let f = prod("", env, Rule::InsecureUrl);
        assert_eq!(f.len(), 4, "{f:?}");
        assert!(f.iter().all(|f| f.severity == Severity::Critical));
        assert!(f.iter().all(|f| !f
            .value
            .as_deref()
            .unwrap_or_default()
            .contains("Zq8vN3xLw2pR7tY5")));
    }

    #[test]
    fn passes_on_tls_urls() {
        let env = "API=https://api.shop.io\nREDIS_URL=rediss://:Xy7vQ2nLp9rT4wZ8@cache.internal:6380/0\nDATABASE_URL=postgresql://app:Zq8vN3xLw2pR7tY5@db.internal:5432/app?sslmode=verify-full\n";
        assert!(prod("", env, Rule::InsecureUrl).is_empty());
    }
}
