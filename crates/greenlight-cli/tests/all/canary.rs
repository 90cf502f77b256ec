//! The canary test: distinct secret values are planted in every example, every command and
//! output format is run on them, and no output, error message or report may contain any of them
//! beyond its mask (which shows at most four characters at each end).
//!
//! Extend this test with every new output: it is the guard of "nothing leaks".

use std::collections::HashSet;
use std::path::Path;

use greenlight::manifest::Manifest;
use greenlight::rules::build_views;
use greenlight::source::{load_environment, LoadOptions};

use crate::support::{example_copy, run, EXAMPLES, NOW};

/// A deterministic, class-preserving replacement: digits stay digits, hex letters stay hex
/// letters, case is kept, punctuation and the first 8 characters (provider prefixes) are kept,
/// so the canary still has its format and takes the same paths through the rules.
fn canary_for(value: &str, seed: u64) -> String {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let pick = |set: &[u8], r: u64| set[r as usize % set.len()] as char;
    value
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i < 8 {
                return c;
            }
            match c {
                '0'..='9' => pick(b"0123456789", next(10)),
                'a'..='f' => pick(b"abcdef", next(6)),
                'g'..='z' => pick(b"ghijklmnopqrstuvwxyz", next(20)),
                'A'..='F' => pick(b"ABCDEF", next(6)),
                'G'..='Z' => pick(b"GHIJKLMNOPQRSTUVWXYZ", next(20)),
                other => other,
            }
        })
        .collect()
}

/// The secret part of a value: a URL's password, or the whole value.
fn secret_part(value: &str) -> Option<&str> {
    if let Some(rest) = value.split_once("://").map(|(_, r)| r) {
        let authority = rest.split(['/', '?']).next()?;
        let userinfo = authority.rsplit_once('@')?.0;
        return userinfo
            .split_once(':')
            .map(|(_, p)| p)
            .filter(|p| !p.is_empty());
    }
    Some(value)
}

/// Plants canaries in every secret value of every environment of the example in `dir`; returns
/// the canaries.
fn plant(dir: &Path) -> Vec<String> {
    let manifest = Manifest::load(&dir.join("greenlight.toml")).unwrap();
    let mut replacements: Vec<(std::path::PathBuf, String, String)> = Vec::new();
    let mut seed = 1u64;
    for env_name in manifest.environments.keys() {
        let Ok(env) = load_environment(&manifest, env_name, &LoadOptions::default()) else {
            continue;
        };
        for view in build_views(&manifest, env_name, &env) {
            let Some(a) = view.assignment else { continue };
            // Real secrets only: a placeholder is not a secret to leak.
            if !view.secret || !view.has_real_value() || a.value.len() < 12 {
                continue;
            }
            let Some(part) = secret_part(&a.value) else {
                continue;
            };
            if part.len() < 12 {
                continue;
            }
            seed += 1;
            let canary = canary_for(part, seed);
            if canary == part {
                continue;
            }
            replacements.push((a.origin.file.clone().unwrap(), part.to_owned(), canary));
        }
    }
    let mut canaries = Vec::new();
    for (file, old, new) in replacements {
        let text = std::fs::read_to_string(&file).unwrap();
        // Replace the first remaining occurrence: a value shared by two variables is planted twice
        // with two canaries where it occurs twice.
        if let Some(i) = text.find(&old) {
            let text = format!("{}{}{}", &text[..i], new, &text[i + old.len()..]);
            std::fs::write(&file, text).unwrap();
            canaries.push(new);
        }
    }
    assert!(!canaries.is_empty());
    canaries
}

pub fn assert_no_canary(context: &str, output: &str, canaries: &[String]) {
    for c in canaries {
        // The first 8 characters are the kept provider prefix (shared with public keys such as
        // a site key); the planted, random part follows.
        let chars: Vec<char> = c.chars().skip(8).collect();
        for w in chars.windows(10) {
            let window: String = w.iter().collect();
            assert!(
                !output.contains(&window),
                "{context}: output contains a secret fragment `{window}`:\n{output}"
            );
        }
    }
}

#[test]
fn no_output_contains_a_planted_secret() {
    for example in EXAMPLES {
        let dir = example_copy(example);
        let canaries = plant(dir.path());
        let unique: HashSet<&String> = canaries.iter().collect();
        assert_eq!(unique.len(), canaries.len(), "canaries are distinct");
        let manifest = Manifest::load(&dir.path().join("greenlight.toml")).unwrap();
        for env in manifest.environments.keys() {
            let mut outputs = Vec::new();
            for format in [
                "human", "json", "sarif", "markdown", "html", "junit", "github",
            ] {
                outputs.push(run(
                    dir.path(),
                    &["check", "--env", env, "--now", NOW, "--format", format],
                ));
                outputs.push(run(
                    dir.path(),
                    &[
                        "golive",
                        "--no-verify",
                        "--env",
                        env,
                        "--no-probe",
                        "--now",
                        NOW,
                        "--format",
                        format,
                    ],
                ));
            }
            // `verify` against the provider emulators (some echo the credential they reject,
            // as a provider's error may): every format, and `check --verify`.
            let endpoints = crate::providers::emulators()
                .endpoints
                .display()
                .to_string();
            for format in [
                "human", "json", "sarif", "markdown", "html", "junit", "github",
            ] {
                outputs.push(run(
                    dir.path(),
                    &[
                        "verify",
                        "--env",
                        env,
                        "--format",
                        format,
                        "--provider-endpoints",
                        &endpoints,
                    ],
                ));
            }
            outputs.push(run(
                dir.path(),
                &[
                    "check",
                    "--verify",
                    "--env",
                    env,
                    "--format",
                    "json",
                    "--provider-endpoints",
                    &endpoints,
                ],
            ));
            for format in ["dotenv", "json", "shell"] {
                outputs.push(run(dir.path(), &["env", "--env", env, "--format", format]));
            }
            for r in outputs {
                assert!(r.code == 0 || r.code == 1, "{example}/{env}: {}", r.stderr);
                assert_no_canary(&format!("{example}/{env} stdout"), &r.stdout, &canaries);
                assert_no_canary(&format!("{example}/{env} stderr"), &r.stderr, &canaries);
            }
        }
        // The lifecycle commands: none may print a secret (only `gen` prints the one it made).
        let envs: Vec<&String> = manifest.environments.keys().collect();
        let mut more = vec![
            run(dir.path(), &["template"]),
            run(dir.path(), &["init", ".", "--output", "-"]),
            run(
                dir.path(),
                &["diff", envs[0], envs[envs.len() - 1], "--format", "json"],
            ),
            run(dir.path(), &["diff", envs[0], envs[envs.len() - 1]]),
        ];
        for env in &envs {
            more.push(run(dir.path(), &["rotate", "status", "--env", env]));
            more.push(run(dir.path(), &["exec", "--env", env, "--", "true"]));
        }
        for r in more {
            assert!(r.code <= 2 && r.code >= 0, "{example}: {}", r.stderr);
            assert_no_canary(
                &format!("{example} lifecycle"),
                &(r.stdout + &r.stderr),
                &canaries,
            );
        }
        // `mask` of a log holding every canary masks every one of them.
        let log: String = canaries
            .iter()
            .map(|c| format!("INFO value={c} done\n"))
            .collect();
        let out = crate::support::greenlight(dir.path())
            .arg("mask")
            .write_stdin(log)
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_no_canary(
            &format!("{example} mask"),
            &String::from_utf8_lossy(&out.stdout),
            &canaries,
        );
        // `scan` of the planted tree, in every format (it must find secrets and mask them).
        for format in ["human", "json", "sarif"] {
            let r = run(dir.path(), &["scan", ".", "--format", format]);
            assert!(r.code == 0 || r.code == 1, "{example} scan: {}", r.stderr);
            assert_no_canary(
                &format!("{example} scan {format}"),
                &(r.stdout + &r.stderr),
                &canaries,
            );
        }
        // Files read directly, without a manifest.
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.starts_with(".env") {
                let r = run(dir.path(), &["env", &name, "--format", "json"]);
                assert_no_canary(
                    &format!("{example} env {name}"),
                    &(r.stdout + &r.stderr),
                    &canaries,
                );
            }
        }
    }
}

#[test]
fn error_messages_do_not_contain_secrets() {
    let dir = example_copy("ross-tax-academy");
    let canaries = plant(dir.path());
    // A wrangler.toml broken on a line that holds a secret.
    let wrangler = dir.path().join("wrangler.seed.toml");
    let text = std::fs::read_to_string(&wrangler).unwrap();
    let secret = "sk_live_Qz7Wx3Ev9Rb5Tn1Ym8Uk4Il0Op6Aa2Ss";
    std::fs::write(
        &wrangler,
        text.replace(
            "STRIPE_SECRET_KEY = \"",
            &format!("STRIPE_SECRET_KEY = {secret}\" \""),
        ),
    )
    .unwrap();
    let r = run(dir.path(), &["check", "--env", "seed"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let all = vec![secret.to_owned()];
    assert_no_canary("broken wrangler", &(r.stdout.clone() + &r.stderr), &all);
    assert_no_canary("broken wrangler", &(r.stdout + &r.stderr), &canaries);
    // A manifest with a bad key next to a secret-looking default.
    std::fs::write(
        dir.path().join("bad.toml"),
        format!("[project]\nname = \"x\"\n[vars.K]\ndefault = \"{secret}\"\nbogus = 1\n"),
    )
    .unwrap();
    let r = run(dir.path(), &["check", "--manifest", "bad.toml"]);
    assert_eq!(r.code, 2);
    assert_no_canary("bad manifest", &(r.stdout + &r.stderr), &all);
}
