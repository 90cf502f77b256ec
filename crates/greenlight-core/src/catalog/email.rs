//! The email senders an `email` probe knows (`catalog/email-senders.toml`): the SPF include each
//! provider documents and the DKIM selectors it signs with by default.

use std::sync::LazyLock;

use indexmap::IndexMap;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSender {
    pub name: String,
    /// Any one of these as an `include:` (directly or nested) satisfies the SPF check.
    pub spf: Vec<String>,
    #[serde(default)]
    pub dkim_selectors: Vec<String>,
    /// The provider refuses mail for a domain without its Domain Lockdown record
    /// (`_mailchannels.<domain>`).
    #[serde(default)]
    pub lockdown: bool,
}

static SENDERS: LazyLock<IndexMap<String, EmailSender>> = LazyLock::new(|| {
    toml::from_str(include_str!("../../catalog/email-senders.toml"))
        .expect("catalog/email-senders.toml is valid (tested)")
});

/// Every known sender, by the id a manifest uses (`mailchannels`, `sendgrid`, …).
pub fn email_senders() -> &'static IndexMap<String, EmailSender> {
    &SENDERS
}

/// A manifest's `senders` entry: a known id, or an SPF include domain used as it is.
pub fn email_sender(id: &str) -> Option<EmailSender> {
    if let Some(s) = SENDERS.get(id) {
        return Some(s.clone());
    }
    let domain = id.trim_end_matches('.').to_ascii_lowercase();
    let is_domain = domain.contains('.')
        && domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    is_domain.then(|| EmailSender {
        name: domain.clone(),
        spf: vec![domain],
        dkim_selectors: Vec::new(),
        lockdown: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_loads_and_every_include_is_a_domain() {
        assert!(email_senders().len() >= 5);
        for (id, s) in email_senders() {
            assert!(!s.spf.is_empty(), "{id}");
            for d in &s.spf {
                assert!(email_sender(d).is_some(), "{id}: {d}");
            }
        }
        assert!(email_sender("mailchannels").unwrap().lockdown);
        assert_eq!(
            email_sender("_spf.Example.net.").unwrap().spf,
            ["_spf.example.net"]
        );
        assert!(email_sender("nosuchsender").is_none());
    }
}
