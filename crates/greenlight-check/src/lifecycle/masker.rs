//! `greenlight mask`: a log filter. Every value of the loaded environment that is a secret, and
//! every secret the scan detectors recognise, is replaced with its mask; everything else passes
//! through byte for byte. Works on whole lines in bounded chunks, so a `tail -f` is masked as it
//! flows and memory stays flat.

use greenlight_core::detect::Detectors;
use greenlight_core::redact::Redactor;

/// The log filter: a [`Redactor`] over a stream of whole lines.
pub struct Masker {
    redactor: Redactor,
}

impl Masker {
    /// A masker for these known secret values (short values are left to the detectors: masking
    /// every `1234` in a log would destroy it).
    pub fn new(secrets: &[String]) -> Masker {
        Masker {
            redactor: Redactor::new(secrets),
        }
    }

    /// A masker for a long stream (`greenlight mask`): the detectors' candidate pass is built as
    /// a DFA, 5 ms once for a faster pass over every chunk.
    pub fn for_stream(secrets: &[String]) -> Masker {
        Detectors::builtin().prepare_bulk();
        Masker::new(secrets)
    }

    /// Masks `chunk` (whole lines) into `out`.
    pub fn mask(&self, chunk: &[u8], out: &mut Vec<u8>) {
        self.redactor.mask_bytes(chunk, out);
    }
}

pub use greenlight_core::redact::mask_detected;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_known_and_detected_secrets_only() {
        let m = Masker::new(&["455rtQjghdOHzLN3YZ3AQ81H3KEf7OeS".into()]);
        let mut out = Vec::new();
        m.mask(b"INFO paying with secret 455rtQjghdOHzLN3YZ3AQ81H3KEf7OeS ok\nDEBUG key=sk_live_7uXtXRKyccefTDgpukRzthFvQDYUN7jm8lBwQ32dLKI28Ih0nEntw\nplain line\n", &mut out);
        let s = String::from_utf8(out).unwrap();
        assert_eq!(
            s,
            "INFO paying with secret 455r…7OeS ok\nDEBUG key=sk_l…Entw\nplain line\n"
        );
    }
}
