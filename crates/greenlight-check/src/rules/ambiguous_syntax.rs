//! `ambiguous-syntax`: `.env` lines the main implementations read differently.

use super::{source_issue_finding, Context, Rule, RuleInfo};
use greenlight_core::finding::Finding;
use greenlight_core::source::dotenv::SyntaxIssueKind;

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::AmbiguousSyntax,
    run,
};

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for issue in cx
        .env
        .issues
        .iter()
        .filter(|i| i.kind == SyntaxIssueKind::Ambiguous)
    {
        out.push(source_issue_finding(cx, &INFO, issue));
    }
    for name in &cx.env.runaway {
        if let Some(v) = cx.vars.iter().find(|v| v.name == name.as_str()) {
            out.push(cx.finding(INFO.rule, v, format!("the interpolation of `{name}` refers back to itself and never ends; dotenv-expand would hang")));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{testing::prod, Rule};

    #[test]
    fn fails_on_divergent_lines() {
        let f = prod("", "A=abc#def\nB=`x`\nC: d\n", Rule::AmbiguousSyntax);
        assert_eq!(f.len(), 3, "{f:?}");
        assert!(f
            .iter()
            .all(|f| f.message.contains("python-dotenv") || f.message.contains("dotenvy")));
    }

    #[test]
    fn passes_on_portable_lines() {
        assert!(prod(
            "",
            "A=abc # comment\nB=\"quoted value\"\nC=${A}\n",
            Rule::AmbiguousSyntax
        )
        .is_empty());
    }
}
