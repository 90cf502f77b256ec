//! `weak-secret`: an opaque secret that is short, low in entropy or a common word.
//!
//! Provider credentials (a Stripe key, a Fernet key) have their shape checked by
//! `invalid-format`; this rule judges the secrets whose strength is the team's choice: JWT
//! signing secrets, internal API keys, `SECRET_KEY`, passwords.

use super::{Context, Rule, RuleInfo};
use greenlight_core::catalog::Check;
use greenlight_core::finding::{Finding, Severity};

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::WeakSecret,
    run,
};

/// Below this a secret can be brute-forced or guessed; 16 characters of random base64 is 96 bits.
const DEFAULT_MIN_LENGTH: usize = 16;
/// Estimated entropy below which a secret is weak, in bits.
const MIN_ENTROPY_BITS: f64 = 64.0;

/// Words people put in secrets they chose themselves.
const COMMON: &[&str] = &[
    "password", "passw0rd", "secret", "qwerty", "letmein", "welcome", "admin", "changeme",
    "default", "iloveyou", "monkey", "dragon", "123456",
];

fn has_common_word(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    COMMON.iter().any(|w| lower.contains(w))
}

/// Shannon entropy of the value's characters times its length: a rough upper bound on the bits
/// an attacker has to guess, which is enough to tell `aaaaaaaaaaaaaaaa` from a random string.
pub(crate) fn entropy_bits(value: &str) -> f64 {
    let chars: Vec<char> = value.chars().collect();
    if chars.is_empty() {
        return 0.0;
    }
    let mut counts = std::collections::HashMap::new();
    for c in &chars {
        *counts.entry(*c).or_insert(0usize) += 1;
    }
    let n = chars.len() as f64;
    let per_char: f64 = counts
        .values()
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum();
    per_char * n
}

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for v in cx.present() {
        if !v.secret || !v.has_real_value() {
            continue;
        }
        // Only opaque secrets: formats with a fixed shape are judged by that shape.
        let format = v.effective_format();
        if format.is_some_and(|f| {
            !matches!(
                f.check,
                Check::Secret | Check::Any | Check::Hex | Check::Base64
            )
        }) {
            continue;
        }
        let value = v.value().unwrap_or_default();
        if value.contains("://") {
            continue; // connection strings: the password inside is not checked here
        }
        let min = v
            .spec
            .as_ref()
            .and_then(|s| s.min_length)
            .or_else(|| format.and_then(|f| f.min_length))
            .unwrap_or(DEFAULT_MIN_LENGTH);
        let len = value.chars().count();
        let bits = entropy_bits(value);
        let problem = if len < min {
            Some(format!("is {len} characters long; use at least {min} random characters (e.g. `greenlight gen hex-32`)"))
        } else if has_common_word(value) && bits < 128.0 {
            Some("contains a common word; generate it randomly instead".to_owned())
        } else if bits < MIN_ENTROPY_BITS {
            Some(format!("has about {bits:.0} bits of entropy; a random secret has at least {MIN_ENTROPY_BITS:.0}"))
        } else {
            None
        };
        if let Some(p) = problem {
            let mut f = cx.finding(INFO.rule, v, format!("`{}` {p}", v.name));
            if !cx.production {
                f.severity = Severity::Warning;
            }
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{testing::prod, Rule};

    const DECLS: &str = "[vars.JWT_SECRET]\nformat = \"jwt.hs256_secret\"\n[vars.API_KEY]\nsecret = true\n[vars.SESSION_SECRET]\nsecret = true\n";

    #[test]
    fn fails_on_weak_secrets() {
        let env =
            "JWT_SECRET=my-jwt-secret-2024\nAPI_KEY=abcabcabcabcabcabcabc\nSESSION_SECRET=short\n";
        let f = prod(DECLS, env, Rule::WeakSecret);
        assert_eq!(f.len(), 3, "{f:?}");
        assert!(f.iter().all(|f| f.value.as_deref() == Some("…")
            || f.value.as_deref().is_some_and(|v| v.contains('…'))));
    }

    #[test]
    fn passes_on_random_secrets() {
        let env = "JWT_SECRET=G3brCGUFzdlIfv2DZi-mo-7gfP-04SAomzYQ2UkwvjbXtroV8ByV_btub0LIfKFW\nAPI_KEY=454ca2c94e6aaf07012987df44e34edc\nSESSION_SECRET=o66SCzkVJfucltY5WeqYmFkfk7DPf5dx\n";
        assert!(prod(DECLS, env, Rule::WeakSecret).is_empty());
    }
}
