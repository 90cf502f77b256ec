//! Converts the catalog's and the rule registry's TOML data files to JSON at build time. TOML is
//! what people edit; JSON is what the binary parses at start-up, several times faster, and every
//! `check` pays that cost. The data is unchanged: the same serde types read both. Each rule's
//! documentation (`rules/docs/<id>.md`) is put beside its entry, so a rule without a doc does not
//! build.

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

    println!("cargo:rerun-if-changed=rules");
    let text = std::fs::read_to_string("rules/registry.toml").expect("rules/registry.toml");
    let mut registry: toml::Value = toml::from_str(&text).expect("rules/registry.toml parses");
    for rule in registry["rule"]
        .as_array_mut()
        .expect("[[rule]] entries")
        .iter_mut()
    {
        let id = rule["id"]
            .as_str()
            .expect("every rule has an id")
            .to_owned();
        let doc = Path::new("rules/docs").join(format!("{id}.md"));
        let doc = std::fs::read_to_string(&doc)
            .unwrap_or_else(|e| panic!("rule `{id}` has no documentation {}: {e}", doc.display()));
        rule.as_table_mut()
            .expect("a table")
            .insert("doc".into(), toml::Value::String(doc));
    }
    let json = serde_json::to_string(&registry).expect("TOML data converts to JSON");
    std::fs::write(Path::new(&out).join("rules.json"), json).expect("OUT_DIR is writable");
}
