//! `greenlight gen KIND`: strong secrets from the operating system's random source.

use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;

use greenlight_core::error::InputError;

/// The kinds `gen` knows, for help and errors.
pub const KINDS: &[&str] = &[
    "hex-N", "base64-N", "jwt", "fernet", "aes-256", "webhook", "password",
];

fn random(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes
}

/// Password policy for `gen password`.
#[derive(Debug, Clone, Copy)]
pub struct PasswordPolicy {
    pub length: usize,
    pub symbols: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            length: 24,
            symbols: true,
        }
    }
}

/// A uniformly random password with at least one character of each class; rejection sampling
/// keeps the choice unbiased.
fn password(policy: PasswordPolicy) -> String {
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGITS: &[u8] = b"23456789";
    const SYMBOLS: &[u8] = b"!#%+-.:=?@^_~";
    let mut alphabet: Vec<u8> = [LOWER, UPPER, DIGITS].concat();
    if policy.symbols {
        alphabet.extend_from_slice(SYMBOLS);
    }
    let pick = |set: &[u8]| -> u8 {
        let limit = 256 - (256 % set.len());
        loop {
            let b = random(1)[0] as usize;
            if b < limit {
                return set[b % set.len()];
            }
        }
    };
    loop {
        let p: Vec<u8> = (0..policy.length.max(8)).map(|_| pick(&alphabet)).collect();
        let has = |set: &[u8]| p.iter().any(|c| set.contains(c));
        if has(LOWER) && has(UPPER) && has(DIGITS) && (!policy.symbols || has(SYMBOLS)) {
            return String::from_utf8(p).expect("ascii");
        }
    }
}

/// Generates a secret of `kind`.
pub fn generate(kind: &str, policy: PasswordPolicy) -> Result<String, InputError> {
    let bytes_of = |prefix: &str| -> Option<Result<usize, InputError>> {
        kind.strip_prefix(prefix).map(|n| {
            n.parse::<usize>()
                .ok()
                .filter(|n| (8..=1024).contains(n))
                .ok_or_else(|| {
                    InputError::Usage(format!(
                        "`{kind}`: the byte count must be between 8 and 1024"
                    ))
                })
        })
    };
    if let Some(n) = bytes_of("hex-") {
        return Ok(random(n?).iter().map(|b| format!("{b:02x}")).collect());
    }
    if let Some(n) = bytes_of("base64-") {
        return Ok(STANDARD.encode(random(n?)));
    }
    Ok(match kind {
        // RFC 7518 §3.2: at least 256 bits for HS256; 64 bytes also covers HS512.
        "jwt" | "jwt-hs256" => URL_SAFE_NO_PAD.encode(random(64)),
        "fernet" => URL_SAFE.encode(random(32)),
        "aes-256" | "aes256" => random(32).iter().map(|b| format!("{b:02x}")).collect(),
        "webhook" => format!("whsec_{}", STANDARD.encode(random(32))),
        "password" => password(policy),
        other => {
            let hint = greenlight_core::did_you_mean(other, KINDS.iter().copied())
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            return Err(InputError::Usage(format!(
                "unknown kind `{other}`{hint}; kinds: {}",
                KINDS.join(", ")
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenlight_core::catalog::Catalog;

    #[test]
    fn generated_secrets_have_their_formats_and_are_strong() {
        let c = Catalog::builtin();
        let p = PasswordPolicy::default();
        assert!(c
            .get("fernet.key")
            .unwrap()
            .validate(&generate("fernet", p).unwrap(), None, &[])
            .is_ok());
        assert!(c
            .get("aes256.key")
            .unwrap()
            .validate(&generate("aes-256", p).unwrap(), Some(32), &[])
            .is_ok());
        assert!(c
            .get("hex")
            .unwrap()
            .validate(&generate("hex-32", p).unwrap(), Some(32), &[])
            .is_ok());
        assert!(c
            .get("jwt.hs256_secret")
            .unwrap()
            .validate(&generate("jwt", p).unwrap(), None, &[])
            .is_ok());
        assert!(c
            .get("stripe.webhook_secret")
            .unwrap()
            .validate(&generate("webhook", p).unwrap(), None, &[])
            .is_ok());
        assert_ne!(
            generate("hex-32", p).unwrap(),
            generate("hex-32", p).unwrap()
        );
        let pw = generate(
            "password",
            PasswordPolicy {
                length: 16,
                symbols: false,
            },
        )
        .unwrap();
        assert_eq!(pw.len(), 16);
        assert!(pw.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(generate("hex-3", p).is_err());
        assert!(generate("fernett", p)
            .unwrap_err()
            .to_string()
            .contains("did you mean `fernet`"));
    }
}
