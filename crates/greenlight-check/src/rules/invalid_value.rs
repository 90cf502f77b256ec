//! `invalid-value`: a value outside the manifest's own constraints (length, bounds, enumeration,
//! pattern, required substring).

use regex::Regex;

use super::{Context, Rule, RuleInfo};
use greenlight_core::catalog::Check;
use greenlight_core::finding::Finding;

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::InvalidValue,
    run,
};

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for v in cx.present() {
        let (Some(spec), Some(value)) = (&v.spec, v.value()) else {
            continue;
        };
        if value.is_empty() || v.placeholder.is_some() {
            continue;
        }
        let mut problems: Vec<String> = Vec::new();
        let len = value.chars().count();
        if let Some(min) = spec.min_length {
            if len < min {
                problems.push(format!(
                    "is {len} characters long; at least {min} are required"
                ));
            }
        }
        if let Some(max) = spec.max_length {
            if len > max {
                problems.push(format!(
                    "is {len} characters long; at most {max} are allowed"
                ));
            }
        }
        if spec.min.is_some() || spec.max.is_some() {
            match value.trim().parse::<f64>() {
                Ok(n) => {
                    if let Some(min) = spec.min {
                        if n < min {
                            problems.push(format!("is {n}, below the minimum {min}"));
                        }
                    }
                    if let Some(max) = spec.max {
                        if n > max {
                            problems.push(format!("is {n}, above the maximum {max}"));
                        }
                    }
                }
                Err(_) => {
                    problems.push("is not a number, but the manifest sets numeric bounds".into())
                }
            }
        }
        // An `enum` format already reports values outside the list.
        let enum_format = v.format.is_some_and(|f| f.format.check == Check::Enum);
        if let Some(values) = &spec.values {
            if !enum_format && !values.iter().any(|a| a == value) {
                let shown = if v.secret {
                    String::new()
                } else {
                    format!(" (`{value}`)")
                };
                problems.push(format!("is not one of {}{shown}", values.join(", ")));
            }
        }
        if let Some(p) = &spec.pattern {
            if let Ok(re) = Regex::new(p.get_ref()) {
                if !re.is_match(value) {
                    problems.push(format!("does not match the pattern `{}`", p.get_ref()));
                }
            }
        }
        if let Some(needle) = &spec.contains {
            if !value.contains(needle.as_str()) {
                problems.push(format!("does not contain `{needle}`"));
            }
        }
        for p in problems {
            out.push(cx.finding(INFO.rule, v, format!("`{}` {p}", v.name)));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{testing::prod, Rule};

    const DECLS: &str = r#"
[vars.VITE_IKHOKHA_TIMEOUT]
format = "int"
min = 30000
[vars.VITE_IKHOKHA_API_URL]
format = "https_url"
contains = "api.ikhokha.com"
[vars.VITE_NODE_ENV]
values = ["development", "production"]
env.production = { values = ["production"] }
"#;

    #[test]
    fn fails_outside_constraints() {
        let env = "VITE_IKHOKHA_TIMEOUT=5000\nVITE_IKHOKHA_API_URL=https://dev.ikhokha.com/api\nVITE_NODE_ENV=development\n";
        let f = prod(DECLS, env, Rule::InvalidValue);
        assert_eq!(f.len(), 3, "{f:?}");
    }

    #[test]
    fn passes_inside_constraints() {
        let env = "VITE_IKHOKHA_TIMEOUT=45000\nVITE_IKHOKHA_API_URL=https://api.ikhokha.com\nVITE_NODE_ENV=production\n";
        assert!(prod(DECLS, env, Rule::InvalidValue).is_empty());
    }
}
