//! The generic validators behind [`super::Check`], and placeholder recognition.
//!
//! Hand-written where no crate fits: the crontab grammar (the `cron` crates implement Quartz's
//! six-field dialect, not crontab(5)), durations in the forms configuration files use, and the
//! placeholder heuristics, which are greenlight's own knowledge. URLs are parsed with `url`,
//! base64 with `base64`, dates with `chrono`.

use std::sync::LazyLock;

use base64::Engine as _;
use regex::Regex;

use super::{Check, Format};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Live,
    Test,
}

pub(super) fn validate(
    f: &Format,
    value: &str,
    param: Option<usize>,
    values: &[String],
) -> Result<(), String> {
    if let Some(min) = f.min_length {
        if value.chars().count() < min {
            return Err(format!(
                "is {} characters long; a {} needs at least {min}",
                value.chars().count(),
                f.title
            ));
        }
    }
    match f.check {
        Check::Pattern | Check::Any => Ok(()),
        Check::Secret => non_empty(value),
        Check::Url => url(value, &["http", "https", "ws", "wss"]).map(|_| ()),
        Check::HttpsUrl => url(value, &["https"]).map(|_| ()),
        Check::Email => email(value),
        Check::Hostname => hostname(value),
        Check::Bool => parse_bool(value)
            .map(|_| ())
            .ok_or_else(|| "is not a boolean (true/false, 1/0, yes/no, on/off)".into()),
        Check::Int => {
            let n: i64 = value
                .trim()
                .parse()
                .map_err(|_| "is not an integer".to_string())?;
            bounds(n as f64, f.min, f.max)
        }
        Check::Float => {
            let n: f64 = value
                .trim()
                .parse()
                .map_err(|_| "is not a number".to_string())?;
            if !n.is_finite() {
                return Err("is not a finite number".into());
            }
            bounds(n, f.min, f.max)
        }
        Check::Enum => {
            let allowed: &[String] = if values.is_empty() { &f.values } else { values };
            let ok = allowed.iter().any(|a| {
                if f.case_insensitive {
                    a.eq_ignore_ascii_case(value)
                } else {
                    a == value
                }
            });
            if ok || allowed.is_empty() {
                Ok(())
            } else {
                Err(format!("is not one of {}", allowed.join(", ")))
            }
        }
        Check::Duration => parse_duration(value)
            .map(|_| ())
            .ok_or_else(|| "is not a duration such as 30s, 15m, 7d or PT30M".into()),
        Check::Cron => cron(value),
        Check::Uuid => uuid(value),
        Check::Datetime => parse_datetime(value)
            .map(|_| ())
            .ok_or_else(|| "is not an RFC 3339 date-time or YYYY-MM-DD date".into()),
        Check::Fernet => fernet(value),
        Check::KeyBytes => key_bytes(value, param.or(f.bytes).unwrap_or(32)),
        Check::Hex => hex(value, param.or(f.bytes)),
        Check::Base64 => base64_bytes(value, param.or(f.bytes)),
        Check::Jwt => jwt(value),
        Check::PostgresUrl => postgres_url(value),
        Check::RedisUrl => redis_url(value),
        Check::Origins => origins(value),
    }
}

fn non_empty(value: &str) -> Result<(), String> {
    if value.is_empty() {
        Err("is empty".into())
    } else {
        Ok(())
    }
}

fn bounds(n: f64, min: Option<f64>, max: Option<f64>) -> Result<(), String> {
    if let Some(min) = min {
        if n < min {
            return Err(format!("is below the minimum {min}"));
        }
    }
    if let Some(max) = max {
        if n > max {
            return Err(format!("is above the maximum {max}"));
        }
    }
    Ok(())
}

pub fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "y" => Some(true),
        "false" | "0" | "no" | "off" | "n" => Some(false),
        _ => None,
    }
}

pub(crate) fn url(value: &str, schemes: &[&str]) -> Result<url::Url, String> {
    let parsed = url::Url::parse(value).map_err(|e| format!("is not a valid URL ({e})"))?;
    if !schemes.contains(&parsed.scheme()) {
        return Err(format!(
            "uses the `{}` scheme; expected {}",
            parsed.scheme(),
            schemes.join(" or ")
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("has no host".into());
    }
    Ok(parsed)
}

fn email(value: &str) -> Result<(), String> {
    static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$").expect("email regex")
    });
    if EMAIL.is_match(value) {
        Ok(())
    } else {
        Err("is not an e-mail address".into())
    }
}

fn hostname(value: &str) -> Result<(), String> {
    static HOST: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$").expect("host regex")
    });
    if HOST.is_match(value) {
        Ok(())
    } else {
        Err("is not a host name".into())
    }
}

/// Parses `30s`, `15m`, `1h30m`, `7d`, `2w`, `500ms` and ISO-8601 `PT30M`/`P1D` into seconds.
/// The human form is parsed by hand (it is on every check's path); ISO 8601 by a regex compiled
/// only when a value starts with `P`.
pub fn parse_duration(value: &str) -> Option<f64> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if v.starts_with('P') {
        return parse_iso_duration(v);
    }
    let bytes = v.as_bytes();
    let mut i = 0;
    let mut total = 0.0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            i += 1;
        }
        let n: f64 = v[start..i].parse().ok()?;
        while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
            i += 1;
        }
        let unit_start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let factor = match &v[unit_start..i] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            "w" => 604_800.0,
            "y" => 31_536_000.0,
            _ => return None,
        };
        total += n * factor;
    }
    Some(total)
}

fn parse_iso_duration(v: &str) -> Option<f64> {
    static ISO: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^P(?:([0-9]+)Y)?(?:([0-9]+)M)?(?:([0-9]+)W)?(?:([0-9]+)D)?(?:T(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+(?:\.[0-9]+)?)S)?)?$").expect("iso regex")
    });
    let c = ISO.captures(v)?;
    if v == "P" || v.ends_with('T') {
        return None;
    }
    let g = |i: usize| {
        c.get(i)
            .and_then(|m| m.as_str().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    Some(
        g(1) * 31_536_000.0
            + g(2) * 2_592_000.0
            + g(3) * 604_800.0
            + g(4) * 86_400.0
            + g(5) * 3600.0
            + g(6) * 60.0
            + g(7),
    )
}

/// crontab(5): five fields or an `@` macro.
fn cron(value: &str) -> Result<(), String> {
    const MACROS: &[&str] = &[
        "@reboot",
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
    ];
    let v = value.trim();
    if v.starts_with('@') {
        return if MACROS.contains(&v) {
            Ok(())
        } else {
            Err(format!("`{v}` is not a cron macro"))
        };
    }
    let fields: Vec<&str> = v.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "has {} fields; a crontab schedule has 5 (minute hour day month weekday)",
            fields.len()
        ));
    }
    const MONTHS: &[&str] = &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let specs: [(&str, u32, u32, &[&str], u32); 5] = [
        ("minute", 0, 59, &[], 0),
        ("hour", 0, 23, &[], 0),
        ("day of month", 1, 31, &[], 0),
        ("month", 1, 12, MONTHS, 1),
        ("day of week", 0, 7, DAYS, 0),
    ];
    for (field, (name, lo, hi, names, base)) in fields.iter().zip(specs) {
        let number = |s: &str| -> Option<u32> {
            s.parse::<u32>().ok().or_else(|| {
                names
                    .iter()
                    .position(|n| n.eq_ignore_ascii_case(s))
                    .map(|i| i as u32 + base)
            })
        };
        for item in field.split(',') {
            let (range, step) = match item.split_once('/') {
                Some((r, s)) => (r, Some(s)),
                None => (item, None),
            };
            if let Some(step) = step {
                if step.parse::<u32>().map_or(true, |s| s == 0) {
                    return Err(format!("has an invalid step `{step}` in the {name} field"));
                }
            }
            if range == "*" {
                continue;
            }
            let (a, b) = match range.split_once('-') {
                Some((a, b)) => (a, Some(b)),
                None => (range, None),
            };
            let start = number(a).ok_or_else(|| format!("has `{a}` in the {name} field"))?;
            let end = match b {
                Some(b) => number(b).ok_or_else(|| format!("has `{b}` in the {name} field"))?,
                None => start,
            };
            if start < lo || end > hi || start > end {
                return Err(format!(
                    "has `{range}` outside {lo}-{hi} in the {name} field"
                ));
            }
        }
    }
    Ok(())
}

fn uuid(value: &str) -> Result<(), String> {
    static UUID: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
            .expect("uuid regex")
    });
    if UUID.is_match(value) {
        Ok(())
    } else {
        Err("is not a UUID".into())
    }
}

pub fn parse_datetime(value: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let v = value.trim();
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(v) {
        return Some(dt.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| dt.and_utc())
}

fn decode_base64(value: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(value).ok())
}

fn fernet(value: &str) -> Result<(), String> {
    use base64::engine::general_purpose::URL_SAFE;
    if value.starts_with("gAAAAA") {
        return Err("is a Fernet token (an encrypted message), not a Fernet key".into());
    }
    match URL_SAFE.decode(value) {
        Ok(bytes) if bytes.len() == 32 => Ok(()),
        Ok(bytes) => Err(format!(
            "decodes to {} bytes; a Fernet key is 32 bytes of url-safe base64 (44 characters)",
            bytes.len()
        )),
        Err(_) => Err(
            "is not url-safe base64 with padding; a Fernet key is 44 characters ending in `=`"
                .into(),
        ),
    }
}

fn key_bytes(value: &str, bytes: usize) -> Result<(), String> {
    if value.len() == bytes * 2 && value.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(());
    }
    match decode_base64(value) {
        Some(b) if b.len() == bytes => Ok(()),
        _ => Err(format!(
            "is neither {} hex characters nor base64 of {bytes} bytes",
            bytes * 2
        )),
    }
}

fn hex(value: &str, bytes: Option<usize>) -> Result<(), String> {
    if value.is_empty() || value.len() % 2 != 0 || !value.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err("is not hex-encoded bytes".into());
    }
    match bytes {
        Some(n) if value.len() != n * 2 => Err(format!(
            "is {} bytes of hex; expected {n} bytes ({} characters)",
            value.len() / 2,
            n * 2
        )),
        _ => Ok(()),
    }
}

fn base64_bytes(value: &str, bytes: Option<usize>) -> Result<(), String> {
    let decoded = decode_base64(value).ok_or_else(|| "is not base64".to_string())?;
    match bytes {
        Some(n) if decoded.len() != n => {
            Err(format!("decodes to {} bytes; expected {n}", decoded.len()))
        }
        _ => Ok(()),
    }
}

/// Decodes a JWT's payload (claims) without verifying it.
pub fn jwt_claims(value: &str) -> Option<serde_json::Value> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = value.split('.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || s.is_empty() {
        return None;
    }
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
    header.get("alg")?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()
}

/// Whether a JWS's first part is a JOSE header: base64url JSON that names its `alg` or `typ`.
pub fn jwt_header_is_valid(value: &str) -> bool {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let Some(h) = value.split('.').next() else {
        return false;
    };
    if URL_SAFE_NO_PAD
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v.get("alg").is_some() || v.get("typ").is_some())
    {
        return true;
    }
    // A header with a damaged byte inside (a corrupted copy) still says what the token is:
    // `{"alg"` or `{"typ"` opens only a JOSE header, and it must still close with `}` (a
    // truncated token is not a credential). Decoded leniently: the damage may leave stray bits.
    use base64::engine::{general_purpose::GeneralPurpose, DecodePaddingMode};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let usable = h.len() - h.len() % 4;
    base64::Engine::decode(&LENIENT, &h[..usable]).is_ok_and(|b| {
        (b.starts_with(br#"{"alg""#) || b.starts_with(br#"{"typ""#)) && b.ends_with(b"}")
    })
}

fn jwt(value: &str) -> Result<(), String> {
    jwt_claims(value)
        .map(|_| ())
        .ok_or_else(|| "is not a JSON Web Token (three base64url parts with a JSON header)".into())
}

fn postgres_url(value: &str) -> Result<(), String> {
    let u = url::Url::parse(value).map_err(|e| format!("is not a valid connection URI ({e})"))?;
    if !matches!(u.scheme(), "postgres" | "postgresql") {
        return Err(format!(
            "uses the `{}` scheme; expected postgresql://",
            u.scheme()
        ));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err("has no host".into());
    }
    for (k, v) in u.query_pairs() {
        if k == "sslmode"
            && ![
                "disable",
                "allow",
                "prefer",
                "require",
                "verify-ca",
                "verify-full",
            ]
            .contains(&v.as_ref())
        {
            return Err(format!("has an unknown sslmode `{v}`"));
        }
    }
    Ok(())
}

fn redis_url(value: &str) -> Result<(), String> {
    let u = url::Url::parse(value).map_err(|e| format!("is not a valid connection URI ({e})"))?;
    if !matches!(u.scheme(), "redis" | "rediss") {
        return Err(format!(
            "uses the `{}` scheme; expected redis:// or rediss://",
            u.scheme()
        ));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err("has no host".into());
    }
    let db = u.path().trim_start_matches('/');
    if !db.is_empty() && db.parse::<u32>().is_err() {
        return Err(format!("has `{db}` where the database number goes"));
    }
    Ok(())
}

fn origins(value: &str) -> Result<(), String> {
    for origin in value.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        if origin == "*" {
            continue;
        }
        let u = url(origin, &["http", "https"]).map_err(|e| format!("has `{origin}` which {e}"))?;
        if u.path() != "/" || origin.ends_with('/') || u.query().is_some() {
            return Err(format!(
                "has `{origin}`, which is not a bare origin (scheme://host[:port])"
            ));
        }
    }
    Ok(())
}

/// Generic placeholder signals, checked on every value before its format: template markers
/// (`YOUR_…`, `<your_…>`, `…_here`), filler (`xxx`, `changeme`, `...`), documented sample values
/// of the catalog, and repeated or sequential characters. Returns why the value is a placeholder.
pub fn is_placeholder(value: &str, format: Option<&Format>) -> Option<&'static str> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if let Some(f) = format {
        if f.is_documented_sample(v) {
            return Some("is a documented sample value");
        }
    }
    if has_template_marker(v) || v.contains("EXAMPLE") {
        // `EXAMPLE` in capitals is AWS's (and others') documentation convention.
        return Some("looks like a template placeholder");
    }
    // Filler words are placeholders only where a secret is expected: `test` is a fine NODE_ENV.
    const FILLER: &[&str] = &[
        "secret",
        "password",
        "passwd",
        "pass",
        "test",
        "testing",
        "example",
        "sample",
        "default",
        "demo",
        "null",
        "none",
        "undefined",
        "foo",
        "bar",
        "abc",
        "abc123",
        "admin",
        "root",
        "key",
        "token",
        "value",
        "string",
        // Textbook passwords: RFC 7617's `Aladdin:opensesame` and the usual jokes.
        "foobar",
        "opensesame",
        "hunter2",
        "qwerty",
        "letmein",
        "passw0rd",
        "p@ssw0rd",
    ];
    // `password1`, `secret123`: a filler word with a counter is still a filler.
    let stem = v.trim_end_matches(|c: char| c.is_ascii_digit());
    let counter = v.len() - stem.len();
    if format.is_some_and(|f| f.secret)
        && counter <= 4
        && FILLER.iter().any(|w| w.eq_ignore_ascii_case(stem))
    {
        return Some("is a filler word, not a secret");
    }
    let chars: Vec<char> = v.chars().collect();
    if chars.len() >= 6 && chars.iter().all(|&c| c == chars[0]) {
        return Some("is one character repeated");
    }
    let lower = v.to_ascii_lowercase();
    if lower.contains("1234567890")
        || lower.contains("abcdefghij")
        || lower.contains("a1b2c3d4")
        || longest_ascending_run(v) >= 7
    {
        return Some("contains a keyboard sequence");
    }
    // `APP_ID`, `SECRET_KEY`: a variable name pasted where its value belongs. Only for typed or
    // secret formats, since enumerations legitimately use such words.
    if format.is_some_and(|f| f.check != Check::Enum && f.check != Check::Any)
        && is_all_caps_name(v)
    {
        return Some("is a variable name, not a value");
    }
    None
}

/// The longest run of consecutive characters of one class, each the next of the one before
/// (`klmnopq`, `3456789`): typed by hand, not drawn at random (a random alphanumeric token holds
/// a run of seven with odds around 1e-10 per position).
fn longest_ascending_run(v: &str) -> usize {
    let mut best = 1;
    let mut run = 1;
    let mut prev: Option<char> = None;
    for c in v.chars() {
        let next = prev.is_some_and(|p| {
            c.is_ascii_alphanumeric()
                && (p.is_ascii_digit() == c.is_ascii_digit())
                && (p.is_ascii_lowercase() == c.is_ascii_lowercase())
                && (c as u32) == (p as u32) + 1
        });
        run = if next { run + 1 } else { 1 };
        best = best.max(run);
        prev = Some(c);
    }
    best
}

/// Template markers, case-insensitively: `your_…`, `<…>`, `[[…]]`, `{{…}}`, `…_here`, `xxx`,
/// `...`, filler words (`changeme`, `todo`, …), `path_to_…`, `example.com` hosts, `user:password@host`.
/// Hand-written rather than one regex: this runs on every value of every check, and the regex
/// cost more to compile than the whole check of a small manifest.
fn has_template_marker(v: &str) -> bool {
    use aho_corasick::AhoCorasick;
    /// What to check around a literal marker once the automaton has found it.
    #[derive(Clone, Copy)]
    enum Kind {
        Your,
        Open(u8, bool),
        Anywhere,
        Word,
        Prefix,
        Host,
        Tld,
        /// `xxx` or `XXX`: one letter repeated; a random token may hold `xXx`.
        Repeat,
    }
    const MARKERS: &[(&str, Kind)] = &[
        ("your", Kind::Your),
        ("<", Kind::Open(b'>', false)),
        ("[[", Kind::Open(b']', true)),
        ("{{", Kind::Open(b'}', true)),
        ("xxx", Kind::Repeat),
        ("...", Kind::Anywhere),
        ("…", Kind::Anywhere),
        ("yyyy-mm-dd", Kind::Anywhere),
        (":password@", Kind::Anywhere),
        ("://user:", Kind::Anywhere),
        ("xyzcompany", Kind::Anywhere),
        ("examplepublickey", Kind::Anywhere),
        ("changeme", Kind::Word),
        ("change_me", Kind::Word),
        ("change-me", Kind::Word),
        ("replaceme", Kind::Word),
        ("replace_me", Kind::Word),
        ("replace-me", Kind::Word),
        ("placeholder", Kind::Word),
        ("fillme", Kind::Word),
        ("fill_me", Kind::Word),
        ("fill-me", Kind::Word),
        ("inserthere", Kind::Word),
        ("insert_here", Kind::Word),
        ("insert-here", Kind::Word),
        ("todo", Kind::Word),
        ("tbd", Kind::Word),
        ("fixme", Kind::Word),
        ("dummy", Kind::Word),
        ("redacted", Kind::Word),
        ("path_to_", Kind::Prefix),
        ("path-to-", Kind::Prefix),
        ("path_to-", Kind::Prefix),
        ("path-to_", Kind::Prefix),
        ("generate_with", Kind::Prefix),
        ("generate-with", Kind::Prefix),
        ("@host", Kind::Host),
        ("example.com", Kind::Tld),
        ("example.org", Kind::Tld),
        ("example.net", Kind::Tld),
    ];
    static AUTOMATON: LazyLock<AhoCorasick> = LazyLock::new(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(MARKERS.iter().map(|(m, _)| m))
            .expect("literal markers build")
    });
    let b = v.as_bytes();
    let alnum = |i: usize| b.get(i).is_some_and(|c| c.is_ascii_alphanumeric());
    let here = b.len() >= 4
        && b[b.len() - 4..].eq_ignore_ascii_case(b"here")
        && (b.len() == 4 || matches!(b[b.len() - 5], b'_' | b'-' | b'.'));
    here || AUTOMATON.find_overlapping_iter(v).any(|m| {
        let (i, j) = (m.start(), m.end());
        match MARKERS[m.pattern().as_usize()].1 {
            Kind::Your => {
                let after = b.get(j).copied();
                ((i == 0 || !alnum(i - 1))
                    && matches!(after, None | Some(b'_' | b'-' | b'.' | b' ')))
                    || (i == 0 && after.is_some_and(|c| c.is_ascii_alphabetic()))
            }
            Kind::Open(close, double) => {
                let rest = &b[j..];
                match rest
                    .iter()
                    .position(|&c| c == close || (!double && c == b'<'))
                {
                    Some(k) if rest[k] == close => !double || rest.get(k + 1) == Some(&close),
                    _ => false,
                }
            }
            Kind::Anywhere => true,
            // `xxxx…`, or `xxx` standing apart (`sk_live_xxx`, `xxx-xxx`); three x's inside a
            // random token are chance.
            Kind::Repeat => {
                b[i..j].iter().all(|&c| c == b[i])
                    && (b.get(j) == Some(&b[i])
                        || (i > 0 && b[i - 1] == b[i])
                        || !alnum(j)
                        || i == 0
                        || !alnum(i - 1))
            }
            // One case throughout (`TODO`, `tbd`), standing apart: a random token may hold
            // `tBD` or `TBD` between digits.
            Kind::Word => {
                (i == 0 || !alnum(i - 1))
                    && !alnum(j)
                    && (b[i..j].iter().all(|c| !c.is_ascii_uppercase())
                        || b[i..j].iter().all(|c| !c.is_ascii_lowercase()))
            }
            Kind::Prefix => i == 0,
            Kind::Host => matches!(b.get(j), None | Some(b':' | b'/')),
            Kind::Tld => {
                (i == 0 || matches!(b[i - 1], b'.' | b'/' | b'@'))
                    && matches!(b.get(j), None | Some(b'/' | b':'))
            }
        }
    })
}

/// `APP_KEY`, `SECRET_KEY`: upper-case words joined by underscores.
fn is_all_caps_name(v: &str) -> bool {
    let mut parts = v.split('_');
    let first_ok = parts
        .next()
        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_uppercase()));
    let rest: Vec<&str> = parts.collect();
    first_ok
        && !rest.is_empty()
        && rest.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        })
}

/// Names that conventionally hold secrets, for variables the manifest does not declare.
pub fn looks_secret_name(name: &str) -> bool {
    static SECRET_NAME: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
        regex::bytes::Regex::new(r"(?i-u)(?:^|_)(?:SECRET|PASSWORD|PASSWD|PWD|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?|AUTH|SIGNING_?KEY|ENCRYPTION_?KEY|DSN_SECRET)(?:_|$)|_KEY$").expect("secret name regex")
    });
    static PUBLIC_NAME: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
        regex::bytes::Regex::new(r"(?i-u)(?:PUBLIC|PUBLISHABLE|SITE)_?KEY$|_KEY_ID$|KEY_ID$|_ID$")
            .expect("public name regex")
    });
    // Settings about a secret, not the secret: `JWT_ACCESS_TOKEN_EXPIRE_MINUTES`, `API_KEY_HEADER`.
    static SETTING_NAME: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
        regex::bytes::Regex::new(r"(?i-u)_(?:MINUTES|SECONDS|DAYS|HOURS|TTL|EXPIRY|EXPIRES|LENGTH|URL|ENDPOINT|ALGORITHM|NAME|HEADER|PATH|FILE|ENABLED)$").expect("setting regex")
    });
    static ALWAYS_SECRET: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
        regex::bytes::Regex::new(r"(?i-u)SECRET|PASSWORD|PASSWD|PRIVATE").expect("always regex")
    });
    let name = name.as_bytes();
    if SETTING_NAME.is_match(name) {
        return false;
    }
    SECRET_NAME.is_match(name) && (!PUBLIC_NAME.is_match(name) || ALWAYS_SECRET.is_match(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_from_the_seeds() {
        for v in [
            "YOUR_CLOUDFLARE_ACCOUNT_ID",
            "sk_live_YOUR_STRIPE_SECRET",
            "<generate_with_openssl_rand_hex_32>",
            "your_account_id",
            "sk_live_your_key_here",
            "mc_your_key_here",
            "PATH_TO_KEY_JSON",
            "https://your-domain.com/api/stripe/webhook",
            "changeme",
            "xxxxxxxx",
        ] {
            assert!(is_placeholder(v, None).is_some(), "{v}");
        }
        for v in [
            "production",
            "noreply@rosstaxacademy.com",
            "https://api.rosstaxacademy.com",
            "gpt-4-turbo",
            "Ross Tax Academy",
            "true",
            "apikey",
        ] {
            assert!(is_placeholder(v, None).is_none(), "{v}");
        }
    }

    #[test]
    fn secret_names() {
        assert!(looks_secret_name("STRIPE_SECRET_KEY"));
        assert!(looks_secret_name("JWT_SECRET"));
        assert!(looks_secret_name("OPENAI_API_KEY"));
        assert!(!looks_secret_name("STRIPE_PUBLIC_KEY"));
        assert!(!looks_secret_name("R2_ACCESS_KEY_ID"));
        assert!(!looks_secret_name("LOG_LEVEL"));
        assert!(looks_secret_name("VAULT_SECRET_ID"));
        assert!(!looks_secret_name("JWT_ACCESS_TOKEN_EXPIRE_MINUTES"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30d"), Some(30.0 * 86_400.0));
        assert_eq!(parse_duration("1h30m"), Some(5400.0));
        assert_eq!(parse_duration("PT30M"), Some(1800.0));
        assert_eq!(parse_duration("soon"), None);
    }
}
