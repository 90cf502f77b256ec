//! `ambiguous-syntax`: `.env` lines the main implementations read differently.

use super::{Context, Rule, RuleInfo};
use crate::finding::{Finding, Location, Severity};
use crate::source::dotenv::SyntaxIssueKind;

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::AmbiguousSyntax,
    severity: Severity::Warning,
    summary:
        "A .env line means different things to node's dotenv, python-dotenv, dotenvy or dotenvx",
    doc: include_str!("docs/ambiguous-syntax.md"),
    run,
};

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for issue in cx
        .env
        .issues
        .iter()
        .filter(|i| i.kind == SyntaxIssueKind::Ambiguous)
    {
        let var = issue
            .key
            .as_deref()
            .and_then(|k| cx.vars.iter().find(|v| v.name == k));
        out.push(Finding {
            rule: INFO.rule,
            severity: INFO.severity,
            message: issue.message.clone(),
            variable: issue.key.clone(),
            service: var.and_then(|v| v.service.map(str::to_owned)),
            location: Some(Location {
                path: issue.origin.path.clone(),
                line: issue.origin.line,
                column: issue.origin.column,
            }),
            value: None,
            help: None,
            snippet: None,
        });
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
