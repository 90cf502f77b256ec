//! The sign-off file: any text is either read or refused with an error, never a panic; what is
//! read renders and reads back the same.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let path = std::path::Path::new("greenlight.signoffs.toml");
        if let Ok(file) = greenlight::golive::Signoffs::parse(path, text) {
            let again = greenlight::golive::Signoffs::parse(path, &file.render())
                .expect("a rendered file reads back");
            assert_eq!(again.signoffs.len(), file.signoffs.len());
            assert_eq!(again.accepted.len(), file.accepted.len());
        }
    }
});
