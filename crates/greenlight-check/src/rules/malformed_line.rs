//! `malformed-line`: lines of a `.env` file that are not assignments.

use super::{source_issue_finding, Context, Rule, RuleInfo};
use greenlight_core::finding::Finding;
use greenlight_core::source::dotenv::SyntaxIssueKind;

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::MalformedLine,
    run,
};

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for issue in cx
        .env
        .issues
        .iter()
        .filter(|i| i.kind == SyntaxIssueKind::Malformed)
    {
        out.push(source_issue_finding(cx, &INFO, issue));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{testing::prod, Rule};

    #[test]
    fn fails_on_garbage_lines() {
        let f = prod("", "A=1\n!! not an assignment\nB=2\n", Rule::MalformedLine);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].location.as_ref().map(|l| l.line), Some(2));
    }

    #[test]
    fn passes_on_comments_and_blank_lines() {
        assert!(prod("", "# comment\n\nA=1\n", Rule::MalformedLine).is_empty());
    }
}
