//! Keyed fingerprints of secret values, for comparing secrets without keeping or showing them.
//!
//! HMAC-SHA-256 with a key drawn from the OS random source for each run: equal values give equal
//! fingerprints within a run, and a fingerprint is useless outside it, so nothing that could be
//! brute-forced offline is ever stored or printed.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

pub type Fingerprint = [u8; 32];

pub struct Fingerprinter {
    /// The HMAC with its key schedule done once; each fingerprint clones it.
    keyed: Hmac<Sha256>,
}

impl Fingerprinter {
    /// A fingerprinter with a fresh random key.
    pub fn random() -> Fingerprinter {
        let mut key = Zeroizing::new([0u8; 32]);
        getrandom::fill(key.as_mut()).expect("the OS random source is available");
        let keyed =
            <Hmac<Sha256> as Mac>::new_from_slice(key.as_ref()).expect("HMAC takes any key length");
        Fingerprinter { keyed }
    }

    pub fn fingerprint(&self, value: &str) -> Fingerprint {
        let mut mac = self.keyed.clone();
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn equal_values_equal_fingerprints_within_a_run_only() {
        let a = super::Fingerprinter::random();
        let b = super::Fingerprinter::random();
        assert_eq!(a.fingerprint("x"), a.fingerprint("x"));
        assert_ne!(a.fingerprint("x"), a.fingerprint("y"));
        assert_ne!(a.fingerprint("x"), b.fingerprint("x"));
    }
}
