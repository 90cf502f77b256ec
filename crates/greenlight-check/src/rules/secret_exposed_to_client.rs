//! `secret-exposed-to-client`: a secret in a variable that bundlers ship to browsers.

use super::{Context, Rule, RuleInfo, CLIENT_PREFIXES};
use greenlight_core::finding::Finding;

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::SecretExposedToClient,
    run,
};

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for v in cx.present() {
        if !v.client_exposed || !v.secret || v.value().is_none_or(str::is_empty) {
            continue;
        }
        let prefix = CLIENT_PREFIXES.iter().find(|p| v.name.starts_with(*p));
        let how = match prefix {
            Some(p) => format!("the `{p}` prefix makes bundlers inline it into the JavaScript every visitor downloads"),
            None => "the manifest marks it `client_exposed`: it is shipped to browsers".to_owned(),
        };
        out.push(cx.finding(
            INFO.rule,
            v,
            format!("`{}` is a secret, but {how}; keep it server-side", v.name),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{testing::prod, Rule};

    #[test]
    fn fails_on_vite_secret() {
        let decls = "[vars.VITE_IKHOKHA_API_SECRET]\nformat = \"ikhokha.api_secret\"\n";
        let f = prod(
            decls,
            "VITE_IKHOKHA_API_SECRET=455rtQjghdOHzLN3YZ3AQ81H3KEf7OeS\n",
            Rule::SecretExposedToClient,
        );
        assert_eq!(f.len(), 1);
        // Undeclared, recognised by its name.
        let f = prod("", "NEXT_PUBLIC_STRIPE_SECRET_KEY=sk_live_7uXtXRKyccefTDgpukRzthFvQDYUN7jm8lBwQ32dLKI28Ih0\n", Rule::SecretExposedToClient);
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn passes_on_publishable_keys() {
        let decls = "[vars.VITE_STRIPE_PUBLIC_KEY]\nformat = \"stripe.publishable_key\"\n[vars.VITE_PUSHER_KEY]\nformat = \"pusher.key\"\n";
        let env = "VITE_STRIPE_PUBLIC_KEY=pk_live_uq0HdOi7rQf0Vh1HjOd3yYV3cfHEs8XiuMxvMfynWZQ81ate8KZ64\nVITE_PUSHER_KEY=d3692967792ab45fd738\n";
        assert!(prod(decls, env, Rule::SecretExposedToClient).is_empty());
    }
}
