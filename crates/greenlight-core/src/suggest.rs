//! "Did you mean" suggestions for unknown names (variables, formats, rules, manifest keys).

/// The candidate closest to `unknown`, when it is close enough to be a plausible typo.
pub fn closest<'a>(
    unknown: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = unknown.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    #[test]
    fn suggests_close_names_only() {
        let names = ["STRIPE_SECRET_KEY", "STRIPE_PUBLIC_KEY", "DATABASE_URL"];
        assert_eq!(
            super::closest("STRIPE_SECRET_KY", names),
            Some("STRIPE_SECRET_KEY")
        );
        assert_eq!(super::closest("TOTALLY_DIFFERENT", names), None);
    }
}
