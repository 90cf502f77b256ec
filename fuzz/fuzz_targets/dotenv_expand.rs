//! Interpolation must terminate on any file, however its references loop.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let parsed = greenlight::source::dotenv::parse(text);
        let pairs: Vec<(String, String)> = parsed.resolved().iter().map(|e| (e.key.clone(), e.value.clone())).collect();
        let _ = greenlight::source::expand::expand(&pairs, None);
    }
});
