//! The leak property: for every secret greenlight knows how to recognise — each valid example of
//! each secret catalog format, and the secret of each positive example of each scan detector —
//! planted in every place a team puts one by mistake, no command in no output format prints it.
//!
//! The property is checked exhaustively over that finite set (no sampling): every value is
//! planted at once, each in eight places —
//! (a) a variable declared `secret = true`, (b) a variable of a public format, (c) an `int`,
//! `url`, `email` or `bool` variable, (d) an undeclared variable, (e) a malformed line, (f) a JSON
//! source and a wrangler `vars` table, (g) a manifest `default`, (h) a probe URL's password —
//! and every command runs on the result in every output format: `check`, `golive --no-probe`,
//! `scan`, `env` (dotenv, json, shell, and on files), `diff`, `template`, `init --output -`,
//! `exec`'s refusal, `mask`, `rotate status` and `probe`. Stdout and stderr are both searched.
//!
//! A value counts as leaked when an output holds it whole, or (for values of 16 characters or
//! more) holds what its mask hides: everything but the four characters at each end.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::Path;

use aho_corasick::AhoCorasick;
use greenlight::catalog::{is_placeholder, Catalog};
use greenlight::scan::{Detectors, Generic};

use crate::support::{greenlight, run};

/// Every recognisable secret value, with the id of what recognises it.
fn corpus() -> Vec<(String, String)> {
    // Characters every output format writes as they are (no JSON, HTML, XML or annotation
    // escape applies), so a search for the raw value is a search for every spelling of it; and
    // a `.env` line takes them unquoted, uninterpolated. The values left out are counted below.
    let plain = |v: &str| {
        v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+/=:~-".contains(c))
    };
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let mut push = |kind: &str, v: &str| {
        // URL credentials are planted as (h); placeholders are not secrets.
        if v.len() >= 12
            && plain(v)
            && !v.contains("://")
            && is_placeholder(v, None).is_none()
            && seen.insert(v.to_owned())
        {
            out.push((kind.to_owned(), v.to_owned()));
        }
    };
    for f in Catalog::builtin().formats() {
        if f.secret && !f.client_safe {
            for v in &f.examples.valid {
                push(&f.id, v);
            }
        }
    }
    let detectors = Detectors::builtin();
    for d in detectors.list() {
        for example in &d.examples.positive {
            for hit in detectors.scan(example.as_bytes(), Generic::On) {
                if hit.detector.id == d.id {
                    push(d.id, &example[hit.secret]);
                }
            }
        }
    }
    out
}

/// `ALGOLIA_API_KEY_12`: the kind's words, so context detectors see their provider's name
/// beside the value, as in a real configuration.
fn base_name(kind: &str, i: usize) -> String {
    let words: String = kind
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{words}_{i}")
}

fn percent_encode(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

const PLAIN_FORMATS: &[&str] = &["int", "url", "email", "bool"];

/// Writes the project: manifest, sources, and a staging environment that shares a few values.
fn plant(dir: &Path, corpus: &[(String, String)]) {
    let mut manifest = String::from(
        "[project]\nname = \"leaks\"\n\n\
         [environments.production]\n\
         sources = [\".env.production\", \"config.json\", \"wrangler.toml#env.production\"]\n\n\
         [environments.staging]\nsources = [\".env.staging\"]\n\n",
    );
    let mut dotenv = String::new();
    let mut staging = String::new();
    let mut json = serde_json::Map::new();
    let mut wrangler = String::from("[env.production.vars]\n");
    for (i, (kind, v)) in corpus.iter().enumerate() {
        let n = base_name(kind, i);
        // (a) declared secret, (b) public format, (c) plain type, (d) undeclared, (e) malformed.
        manifest.push_str(&format!("[vars.{n}_A]\nsecret = true\n"));
        manifest.push_str(&format!(
            "[vars.VITE_{n}_B]\nformat = \"stripe.publishable_key\"\n"
        ));
        let plain = PLAIN_FORMATS[i % PLAIN_FORMATS.len()];
        manifest.push_str(&format!("[vars.{n}_C]\nformat = \"{plain}\"\n"));
        // (g) a default in the manifest.
        manifest.push_str(&format!(
            "[vars.{n}_G]\nrequired = false\ndefault = \"{v}\"\n"
        ));
        dotenv.push_str(&format!(
            "{n}_A={v}\nVITE_{n}_B={v}\n{n}_C={v}\n{n}_D={v}\n!!{v}\n"
        ));
        // (f) a JSON source and a wrangler `vars` table.
        json.insert(format!("{n}_F"), serde_json::Value::String(v.clone()));
        wrangler.push_str(&format!("{n}_W = \"{v}\"\n"));
        if i % 10 == 0 {
            staging.push_str(&format!("{n}_A={v}\n"));
        }
        // (h) a probe URL's password (a closed loopback port: the probe fails fast).
        manifest.push_str(&format!(
            "[[probes]]\nname = \"db-{i}\"\nkind = \"postgres\"\nenvironments = [\"production\"]\n\
             url = \"postgres://app:{}@127.0.0.1:9/app\"\ntimeout = \"2s\"\n",
            percent_encode(v)
        ));
    }
    // `[[probes]]` are arrays of tables: keep them after every `[vars.*]` table in the text by
    // writing the manifest as it was built (TOML allows the interleaving).
    std::fs::write(dir.join("greenlight.toml"), manifest).unwrap();
    std::fs::write(dir.join(".env.production"), dotenv).unwrap();
    std::fs::write(dir.join(".env.staging"), staging).unwrap();
    std::fs::write(
        dir.join("config.json"),
        serde_json::to_string_pretty(&json).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("wrangler.toml"), wrangler).unwrap();
}

/// Every command in every format on the planted project: (what, stdout + stderr).
fn outputs(dir: &Path, corpus: &[(String, String)]) -> Vec<(String, String)> {
    const FORMATS: &[&str] = &[
        "human", "json", "sarif", "markdown", "html", "junit", "github",
    ];
    let mut runs: Vec<Vec<String>> = Vec::new();
    let args = |s: &[&str]| s.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    for f in FORMATS {
        runs.push(args(&["check", "--env", "production", "--format", f]));
        runs.push(args(&[
            "golive",
            "--no-verify",
            "--env",
            "production",
            "--no-probe",
            "--format",
            f,
        ]));
        runs.push(args(&["scan", ".", "--format", f]));
        runs.push(args(&["diff", "production", "staging", "--format", f]));
    }
    runs.push(args(&["check", "--env", "staging", "--format", "json"]));
    for f in ["dotenv", "json", "shell"] {
        runs.push(args(&["env", "--env", "production", "--format", f]));
    }
    runs.push(args(&["env", ".env.production", "config.json"]));
    runs.push(args(&["env", ".env.production", "--format", "json"]));
    runs.push(args(&["template"]));
    runs.push(args(&["init", ".", "--output", "-"]));
    runs.push(args(&["exec", "--env", "production", "--", "true"]));
    runs.push(args(&["rotate", "status", "--env", "production"]));
    for f in FORMATS {
        runs.push(args(&[
            "probe",
            "--env",
            "production",
            "--format",
            f,
            "--connect-timeout",
            "1s",
            "--timeout",
            "2s",
        ]));
    }
    let mut out = Vec::new();
    for a in &runs {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        let r = run(dir, &refs);
        assert!(
            r.code == 0 || r.code == 1,
            "{a:?} exited {}: {}",
            r.code,
            r.stderr
        );
        out.push((a.join(" "), format!("{}\n{}", r.stdout, r.stderr)));
    }
    // `mask`: a log holding every value, and the sources themselves.
    let mut log = std::fs::read_to_string(dir.join(".env.production")).unwrap();
    for (_, v) in corpus {
        log.push_str(&format!("INFO paying with {v} now\n"));
    }
    let child = greenlight(dir)
        .args(["mask", "--env", "production"])
        .write_stdin(log)
        .output()
        .unwrap();
    out.push((
        "mask".into(),
        String::from_utf8_lossy(&child.stdout).into_owned()
            + &String::from_utf8_lossy(&child.stderr),
    ));
    out
}

#[test]
fn no_command_prints_a_recognisable_secret_wherever_it_is_planted() {
    let corpus = corpus();
    // Every secret format and most detectors take part (the rest have examples whose secret
    // needs quoting or escaping, or is a URL credential, planted as (h)).
    assert!(corpus.len() >= 250, "only {} values", corpus.len());
    let dir = tempfile::tempdir().unwrap();
    plant(dir.path(), &corpus);
    let needles: Vec<String> = corpus
        .iter()
        .map(|(_, v)| {
            if v.len() >= 16 {
                v[4..v.len() - 4].to_owned()
            } else {
                v.clone()
            }
        })
        .collect();
    let ac = AhoCorasick::new(&needles).unwrap();
    // `env FILE…` runs without a manifest: nothing declares (a)'s variables secret, so what can
    // be known of a value is what its shape says and what a scanner finds beside its name.
    let planted = std::fs::read_to_string(dir.path().join(".env.production")).unwrap();
    let detected: BTreeSet<&str> = Detectors::builtin()
        .scan(planted.as_bytes(), Generic::On)
        .into_iter()
        .map(|h| &planted[h.secret])
        .collect();
    let knowable_without_manifest =
        |v: &str| greenlight::redact::held_secret(v).is_some() || detected.contains(v);
    let mut leaks = Vec::new();
    let mut unknowable = BTreeSet::new();
    for (what, text) in outputs(dir.path(), &corpus) {
        let mut found = BTreeSet::new();
        for m in ac.find_overlapping_iter(&text) {
            found.insert(m.pattern().as_usize());
        }
        for i in found {
            if what.starts_with("env .env") && !knowable_without_manifest(&corpus[i].1) {
                unknowable.insert(i);
                continue;
            }
            leaks.push(format!("{what}: {} ({})", corpus[i].0, corpus[i].1));
        }
    }
    // Few: a bare hex key, a client-safe JWT, a header value with no header around it.
    assert!(unknowable.len() <= corpus.len() / 20, "{unknowable:?}");
    if !leaks.is_empty() {
        let mut msg = std::io::stderr().lock();
        let mut by_command = std::collections::BTreeMap::new();
        for l in &leaks {
            *by_command
                .entry(l.split(": ").next().unwrap_or_default())
                .or_insert(0) += 1;
        }
        for (c, n) in &by_command {
            let _ = writeln!(msg, "{n:5} leaks in `{c}`");
        }
        for l in leaks.iter().take(60) {
            let _ = writeln!(msg, "leak: {l}");
        }
        panic!("{} leaks (first 60 above)", leaks.len());
    }
}
