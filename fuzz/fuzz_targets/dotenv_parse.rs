//! The `.env` parser must never panic, and its spans must always be valid slices of the input.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let parsed = greenlight::source::dotenv::parse(text);
        for e in &parsed.entries {
            assert_eq!(&text[e.key_span.clone()], e.key);
            assert!(text.get(e.value_span.clone()).is_some());
        }
    }
});
