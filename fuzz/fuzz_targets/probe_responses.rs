//! What a probed server sends back is hostile input: health bodies, response headers and SMTP
//! replies are analysed without a panic, whatever they hold.
#![no_main]
use greenlight::probe::{headers, health, Context};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let ctx = Context { production: true, now: chrono::Utc::now() };
    let e = health::Evidence {
        target: "https://x/health".into(),
        response: Ok(health::Response { status: 200, content_type: None, body: text.clone(), elapsed_ms: 1.0 }),
    };
    let _ = health::analyse(&e, Some("1.0"), ctx);
    let headers: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.to_owned()))
        .collect();
    let e = headers::Evidence {
        target: "https://x/".into(),
        https: true,
        response: Ok(headers::Recorded { status: 200, headers }),
        preflight: None,
    };
    let _ = headers::analyse(&e, headers::Profile::Browser, ctx);
});
