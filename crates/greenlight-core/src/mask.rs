//! Masking: the only way a secret value leaves greenlight.
//!
//! A masked secret shows at most four characters at each end (`sk_l…9f3a`) and only when the
//! value is long enough that they reveal a negligible part of it; shorter secrets show nothing.
//! Connection URLs keep their scheme, user, host and path and lose only the password.

/// Masks a secret value.
pub fn mask_secret(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let n = chars.len();
    let keep = match n {
        0 => return String::new(),
        _ if n >= 24 => 4,
        _ if n >= 16 => 2,
        _ => return "…".to_owned(),
    };
    let head: String = chars[..keep].iter().collect();
    let tail: String = chars[n - keep..].iter().collect();
    format!("{head}…{tail}")
}

/// The text shown for a value: masked when it is a secret, with a URL password removed
/// otherwise.
pub fn display_value(value: &str, secret: bool) -> String {
    if let Some(redacted) = redact_url_password(value) {
        return redacted;
    }
    if secret {
        mask_secret(value)
    } else {
        value.to_owned()
    }
}

/// `postgresql://app:hunter2@db/x` → `postgresql://app:****@db/x`; `None` when there is no
/// password in the URL.
pub fn redact_url_password(value: &str) -> Option<String> {
    let scheme_end = value.find("://")?;
    let rest = &value[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let at = authority.rfind('@')?;
    let userinfo = &authority[..at];
    let colon = userinfo.find(':')?;
    if colon + 1 == userinfo.len() {
        return None;
    }
    Some(format!(
        "{}://{}:****@{}",
        &value[..scheme_end],
        &userinfo[..colon],
        &rest[at + 1..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_little() {
        assert_eq!(
            mask_secret("sk_live_abcdefghijklmnopqrstuvwxyz9f3a"),
            "sk_l…9f3a"
        );
        assert_eq!(mask_secret("0123456789abcdef"), "01…ef");
        assert_eq!(mask_secret("short"), "…");
    }

    #[test]
    fn url_passwords_are_removed() {
        assert_eq!(
            display_value(
                "postgresql://app:hunter2hunter2@db.example.net:5432/app",
                true
            ),
            "postgresql://app:****@db.example.net:5432/app"
        );
        assert_eq!(
            display_value("redis://:pw@cache:6379/0", false),
            "redis://:****@cache:6379/0"
        );
        assert_eq!(
            display_value("https://api.example.net", false),
            "https://api.example.net"
        );
    }
}
