//! Editing `.env` files in place: one variable's value is replaced on its own line (or appended),
//! every other byte — comments, order, blank lines, quoting of other values — is kept, and the
//! file is replaced atomically.

use std::path::Path;

use greenlight_core::error::{read_text, InputError};
use greenlight_core::source::dotenv;

/// Quotes a value so that every dotenv implementation reads it back unchanged.
fn quoted(value: &str) -> String {
    if !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:@+=~,%".contains(c))
    {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', ""))
    }
}

/// `text` with `key` set to `value`: the last assignment of `key` is rewritten in place, or a line
/// is appended.
pub fn set_in_text(text: &str, key: &str, value: &str) -> String {
    let parsed = dotenv::parse(text);
    let new_value = quoted(value);
    match parsed.entries.iter().rev().find(|e| e.key == key) {
        Some(e) => {
            // An empty value has an empty span right after `=`.
            let span = e.value_span.clone();
            format!("{}{}{}", &text[..span.start], new_value, &text[span.end..])
        }
        None => {
            let sep = if text.is_empty() || text.ends_with('\n') {
                ""
            } else {
                "\n"
            };
            format!("{text}{sep}{key}={new_value}\n")
        }
    }
}

/// Sets `key` in the env file at `path` (created if missing), atomically.
pub fn set_in_file(path: &Path, key: &str, value: &str) -> Result<(), InputError> {
    if !key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
        || key.is_empty()
    {
        return Err(InputError::Usage(format!(
            "`{key}` is not a valid variable name"
        )));
    }
    let text = if path.exists() {
        read_text(path)?
    } else {
        String::new()
    };
    greenlight_core::fsutil::write_atomic(path, set_in_text(&text, key, value).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_in_place_keeping_everything_else() {
        let text =
            "# header\nA=1 # keep me\n\nJWT_SECRET=\"old value\"  # rotated monthly\nB='x'\n";
        let out = set_in_text(text, "JWT_SECRET", "n3w-v4lue");
        assert_eq!(
            out,
            "# header\nA=1 # keep me\n\nJWT_SECRET=n3w-v4lue  # rotated monthly\nB='x'\n"
        );
        let out = set_in_text("A=1", "NEW", "v");
        assert_eq!(out, "A=1\nNEW=v\n");
        let out = set_in_text("EMPTY=\nB=2\n", "EMPTY", "x");
        assert_eq!(out, "EMPTY=x\nB=2\n");
    }
}
