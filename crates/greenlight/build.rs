//! Converts the catalog's TOML data files to JSON at build time. TOML is what people edit;
//! JSON is what the binary parses at start-up, several times faster, and every `check` pays
//! that cost. The data is unchanged: the same serde types read both.

use std::path::Path;

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    println!("cargo:rerun-if-changed=catalog");
    for name in ["providers", "keys", "types", "detectors"] {
        let source = Path::new("catalog").join(format!("{name}.toml"));
        let text = std::fs::read_to_string(&source)
            .unwrap_or_else(|e| panic!("{}: {e}", source.display()));
        let value: toml::Value =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
        let json = serde_json::to_string(&value).expect("TOML data converts to JSON");
        std::fs::write(Path::new(&out).join(format!("{name}.json")), json)
            .expect("OUT_DIR is writable");
    }
}
