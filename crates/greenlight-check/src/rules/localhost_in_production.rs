//! `localhost-in-production`: production pointing at a developer's machine.

use super::{is_local_host, urls_in, Context, Rule, RuleInfo};
use greenlight_core::finding::Finding;

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::LocalhostInProduction,
    run,
};

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    if !cx.production {
        return;
    }
    for v in cx.present() {
        let Some(value) = v.value() else { continue };
        let urls = urls_in(value);
        let mut hosts: Vec<String> = urls
            .iter()
            .map(|u| u.host_str().unwrap_or_default().to_owned())
            .collect();
        if urls.is_empty()
            && (v.format.is_some_and(|f| f.format.id == "hostname") || v.name.ends_with("_HOST"))
        {
            hosts.push(value.trim().to_owned());
        }
        if let Some(host) = hosts.into_iter().find(|h| is_local_host(h)) {
            out.push(cx.finding(
                INFO.rule,
                v,
                format!(
                    "`{}` points at `{host}`, which in production is the server itself",
                    v.name
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{testing::prod, Rule};

    #[test]
    fn fails_on_loopback() {
        let env = "APP_URL=http://localhost:3000\nREDIS_URL=redis://127.0.0.1:6379\nSMTP_HOST=localhost\n";
        assert_eq!(prod("", env, Rule::LocalhostInProduction).len(), 3);
    }

    #[test]
    fn passes_on_real_hosts() {
        let env = "APP_URL=https://app.example.net\nSMTP_HOST=smtp.sendgrid.net\n";
        assert!(prod("", env, Rule::LocalhostInProduction).is_empty());
    }
}
