//! Request signing that providers.toml names with `sign = "…"`: AWS Signature Version 4 (STS and
//! R2's S3 API) and Pusher's HMAC request signature.
//!
//! Written here rather than taken from `aws-sigv4`: that crate brings the AWS SDK's runtime
//! (smithy types, http 0.2/1.0 shims, ~20 crates) for one canonical string and four HMACs, which
//! the AWS documentation specifies completely; the test below is AWS's own test-suite vector.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

pub fn is_known(scheme: &str) -> bool {
    scheme == "pusher"
        || scheme
            .strip_prefix("aws-sigv4:")
            .is_some_and(|rest| rest.split(':').count() == 2)
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(data: &[u8]) -> String {
    to_hex(&Sha256::digest(data))
}

/// RFC 3986 unreserved characters stay; everything else is %XX (what SigV4 and Pusher expect).
pub fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What a signature adds to a request.
#[derive(Debug, Default, PartialEq)]
pub struct Signed {
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
}

/// A request as the signers see it.
pub struct Request<'a> {
    pub method: &'a str,
    /// `host` or `host:port`, exactly as the Host header will carry it.
    pub authority: &'a str,
    pub path: &'a str,
    pub query: &'a [(String, String)],
    /// Headers that are sent and must be signed (besides host and the date), lowercase names.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// AWS SigV4: the `Authorization`, `x-amz-date` (and for S3 `x-amz-content-sha256`) headers.
pub fn aws_sigv4(
    req: &Request<'_>,
    service: &str,
    region: &str,
    access_key: &str,
    secret_key: &str,
    amz_date: &str,
) -> Signed {
    let date = &amz_date[..8];
    let payload_hash = sha256_hex(req.body);
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    headers.push(("host".into(), req.authority.to_owned()));
    headers.push(("x-amz-date".into(), amz_date.to_owned()));
    if service == "s3" {
        headers.push(("x-amz-content-sha256".into(), payload_hash.clone()));
    }
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed_headers = headers
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let mut query: Vec<(String, String)> = req
        .query
        .iter()
        .map(|(k, v)| (uri_encode(k), uri_encode(v)))
        .collect();
    query.sort();
    let canonical_query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method, req.path, canonical_query, canonical_headers, signed_headers, payload_hash
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let k_date = hmac(format!("AWS4{secret_key}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    let signature = to_hex(&hmac(&k_signing, string_to_sign.as_bytes()));
    let mut out = Signed::default();
    out.headers.push((
        "authorization".into(),
        format!(
            "AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"
        ),
    ));
    out.headers.push(("x-amz-date".into(), amz_date.to_owned()));
    if service == "s3" {
        out.headers
            .push(("x-amz-content-sha256".into(), payload_hash));
    }
    out
}

/// Pusher's REST API signature: `auth_key`, `auth_timestamp`, `auth_version` and
/// `auth_signature` = hex HMAC-SHA256(secret, "METHOD\nPATH\nsorted query").
pub fn pusher(req: &Request<'_>, key: &str, secret: &str, timestamp: i64) -> Signed {
    let mut query: Vec<(String, String)> = req.query.to_vec();
    query.push(("auth_key".into(), key.to_owned()));
    query.push(("auth_timestamp".into(), timestamp.to_string()));
    query.push(("auth_version".into(), "1.0".into()));
    if !req.body.is_empty() {
        query.push(("body_md5".into(), String::new()));
    }
    query.sort();
    let joined = query
        .iter()
        .map(|(k, v)| format!("{}={v}", k.to_ascii_lowercase()))
        .collect::<Vec<_>>()
        .join("&");
    let to_sign = format!("{}\n{}\n{joined}", req.method, req.path);
    let signature = to_hex(&hmac(secret.as_bytes(), to_sign.as_bytes()));
    let mut query: Vec<(String, String)> = query
        .into_iter()
        .filter(|(k, _)| k.starts_with("auth_"))
        .collect();
    query.push(("auth_signature".into(), signature));
    Signed {
        headers: Vec::new(),
        query,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// aws-sig-v4-test-suite `get-vanilla` (AWS's published SigV4 test suite).
    #[test]
    fn sigv4_matches_the_aws_test_suite() {
        let req = Request {
            method: "GET",
            authority: "example.amazonaws.com",
            path: "/",
            query: &[],
            headers: &[],
            body: b"",
        };
        let signed = aws_sigv4(
            &req,
            "service",
            "us-east-1",
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20150830T123600Z",
        );
        assert_eq!(
            signed.headers[0].1,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn pusher_signs_the_sorted_query() {
        let req = Request {
            method: "GET",
            authority: "api-eu.pusher.com",
            path: "/apps/3/channels",
            query: &[],
            headers: &[],
            body: b"",
        };
        let s = pusher(
            &req,
            "278d425bdf160c739803",
            "7ad3773142a6692b25b8",
            1353088179,
        );
        let names: Vec<&str> = s.query.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "auth_key",
                "auth_timestamp",
                "auth_version",
                "auth_signature"
            ]
        );
        let expected = to_hex(&hmac(
            b"7ad3773142a6692b25b8",
            b"GET\n/apps/3/channels\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0",
        ));
        assert_eq!(s.query[3].1, expected);
    }

    #[test]
    fn encoding_keeps_unreserved_only() {
        assert_eq!(uri_encode("a b/c~d"), "a%20b%2Fc~d");
    }
}
