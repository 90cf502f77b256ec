//! `greenlight mask`: a log filter. Every value of the loaded environment that is a secret, and
//! every secret the scan detectors recognise, is replaced with its mask; everything else passes
//! through byte for byte. Works on whole lines in bounded chunks, so a `tail -f` is masked as it
//! flows and memory stays flat.

use aho_corasick::{AhoCorasick, MatchKind};

use crate::mask::mask_secret;
use crate::scan::Detectors;

pub struct Masker {
    known: Option<AhoCorasick>,
}

impl Masker {
    /// A masker for these known secret values (short values are left to the detectors: masking
    /// every `1234` in a log would destroy it).
    pub fn new(secrets: &[String]) -> Masker {
        let mut values: Vec<&str> = secrets
            .iter()
            .map(String::as_str)
            .filter(|s| s.len() >= 8)
            .collect();
        values.sort_unstable();
        values.dedup();
        let known = (!values.is_empty()).then(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&values)
                .expect("literal patterns build")
        });
        Masker { known }
    }

    /// A masker for a long stream (`greenlight mask`): the detectors' candidate pass is built as
    /// a DFA, 5 ms once for a faster pass over every chunk.
    pub fn for_stream(secrets: &[String]) -> Masker {
        Detectors::builtin().prepare_bulk();
        Masker::new(secrets)
    }

    /// Masks `chunk` (whole lines) into `out`.
    pub fn mask(&self, chunk: &[u8], out: &mut Vec<u8>) {
        let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
        if let Some(ac) = &self.known {
            ranges.extend(ac.find_iter(chunk).map(|m| m.range()));
        }
        for hit in Detectors::builtin().scan(chunk, crate::scan::Generic::On) {
            ranges.push(hit.secret);
        }
        if ranges.is_empty() {
            out.extend_from_slice(chunk);
            return;
        }
        ranges.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
        let mut at = 0;
        for r in ranges {
            if r.start < at {
                continue; // inside a range already masked
            }
            out.extend_from_slice(&chunk[at..r.start]);
            let secret = String::from_utf8_lossy(&chunk[r.clone()]);
            out.extend_from_slice(mask_secret(&secret).as_bytes());
            at = r.end;
        }
        out.extend_from_slice(&chunk[at..]);
    }
}

/// `text` with every secret the detectors recognise masked (for the context shown around a
/// finding: the rest of its line may hold another secret).
pub fn mask_detected(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    Masker::new(&[]).mask(text.as_bytes(), &mut out);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

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
