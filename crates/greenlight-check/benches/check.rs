//! `check` on a 500-variable manifest, in process: loading, parsing, interpolation and every rule.
//! Run with `cargo bench -p greenlight --bench check` (or `bench/run`, which also times the whole
//! command against an empty exec).

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use greenlight_check::check::{check, CheckOptions};
use greenlight_core::manifest::Manifest;

/// Writes a manifest of `n` variables over 50 services with realistic formats, and a matching
/// `.env.production` and `.env.staging`.
pub fn write_fixture(dir: &Path, n: usize) {
    let formats = [
        ("https_url", "https://svc{i}.example-corp.io/api"),
        ("int", "{i}000"),
        ("bool", "true"),
        ("email", "team{i}@example-corp.io"),
        ("secret", "Qz7Wx3Ev9Rb5Tn1Ym8Uk4Il0Op6Aa2Ss{i}"),
        (
            "stripe.secret_key",
            "sk_live_7uXtXRKyccefTDgpukRzthFvQDYUN7jm8lBwQ32dLK{i}",
        ),
        (
            "postgres.url",
            "postgresql://app:Zq8vN3xLw2pR7tY5@db{i}.example-corp.io:5432/app?sslmode=verify-full",
        ),
        ("log_level", "info"),
        ("duration", "{i}s"),
        (
            "hex:32",
            "454ca2c94e6aaf07012987df44e34edc3488ce619e024da9188cbc06fa09{i:04}",
        ),
    ];
    let mut manifest = String::from("[project]\nname = \"bench\"\n\n[environments.production]\nsources = [\".env.production\"]\n\n[environments.staging]\nsources = [\".env.staging\"]\n");
    let mut prod = String::new();
    let mut staging = String::new();
    for s in 0..50 {
        manifest.push_str(&format!("\n[services.s{s}]\n"));
        for j in 0..n / 50 {
            let i = s * (n / 50) + j;
            let (format, value) = formats[i % formats.len()];
            manifest.push_str(&format!("vars.VAR_{i} = {{ format = \"{format}\" }}\n"));
            let v = value
                .replace("{i}", &i.to_string())
                .replace("{i:04}", &format!("{:04}", i % 10_000));
            prod.push_str(&format!("VAR_{i}={v}\n"));
            staging.push_str(&format!("VAR_{i}={}\n", v.replace("sk_live_", "sk_test_")));
        }
    }
    std::fs::write(dir.join("greenlight.toml"), manifest).unwrap();
    std::fs::write(dir.join(".env.production"), prod).unwrap();
    std::fs::write(dir.join(".env.staging"), staging).unwrap();
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), 500);
    let manifest_path = dir.path().join("greenlight.toml");
    let options = CheckOptions {
        environment: "production".into(),
        ..Default::default()
    };
    c.bench_function("check 500 variables (manifest + sources + rules)", |b| {
        b.iter(|| {
            let manifest = Manifest::load(&manifest_path).unwrap();
            check(&manifest, &options).unwrap()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
