//! `undeclared-variable`: a variable the sources set but the manifest does not know.

use super::{Context, Rule, RuleInfo};
use greenlight_core::finding::Finding;

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::UndeclaredVariable,
    run,
};

fn ignored(patterns: &[String], name: &str) -> bool {
    patterns.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => p == name,
    })
}

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let declared: Vec<&str> = cx
        .manifest
        .declarations
        .keys()
        .map(String::as_str)
        .collect();
    for v in cx.present() {
        if v.declaration.is_some() || ignored(&cx.manifest.project.ignore_undeclared, v.name) {
            continue;
        }
        let unset: Vec<&str> = declared
            .iter()
            .copied()
            .filter(|d| cx.env.get(d).is_none())
            .collect();
        let hint = greenlight_core::did_you_mean(v.name, unset)
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_else(|| {
                "; declare it in greenlight.toml or list it in `ignore_undeclared`".to_owned()
            });
        // What it holds, when its value is a secret of a recognised kind: an undeclared secret
        // is never checked for placeholders, test modes or reuse.
        let holds = v
            .held_secret
            .map(|kind| format!(" and holds a {kind}"))
            .unwrap_or_default();
        out.push(cx.finding(
            INFO.rule,
            v,
            format!("`{}` is not declared in the manifest{holds}{hint}", v.name),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{testing::prod, Rule};

    #[test]
    fn fails_with_did_you_mean() {
        let f = prod(
            "[vars.STRIPE_SECRET_KEY]\nrequired = false\n",
            "STRIPE_SECRET_KY=1\n",
            Rule::UndeclaredVariable,
        );
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.contains("did you mean `STRIPE_SECRET_KEY`"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn says_which_secret_an_undeclared_variable_holds() {
        let f = prod(
            "[vars.A]\nrequired = false\n",
            "PAYMENTS=sk_live_7uXtXRKyccefTDgpukRzthFvQDYUN7jm8lBwQ32dLKI28Ih0\n",
            Rule::UndeclaredVariable,
        );
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("holds a Stripe"), "{}", f[0].message);
        assert_eq!(f[0].severity, greenlight_core::finding::Severity::Warning);
        assert!(!f[0].value.as_ref().unwrap().as_str().contains("yccefTDg"));
    }

    #[test]
    fn passes_when_declared_or_ignored() {
        let decls = "[vars.A]\n";
        assert!(prod(decls, "A=1\n", Rule::UndeclaredVariable).is_empty());
    }
}
