//! A manifest of any content gives a manifest or a located error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = greenlight::manifest::Manifest::parse(std::path::Path::new("greenlight.toml"), text.to_owned());
    }
});
