//! Every rule id of every subsystem — check rules, probe rules, diff rules and scan detectors —
//! in one snapshot (as cargo-deny does for its codes). Ids are public API: users put them in
//! `[rules]`, allow comments, baselines and checklist `auto` entries. Adding a rule adds a line
//! here; renaming or removing one fails this test.

use std::collections::HashSet;

#[test]
fn registry_ids_are_unique_and_stable() {
    let mut lines = Vec::new();
    let mut seen = HashSet::new();
    for m in greenlight::rule::registry() {
        assert!(seen.insert(m.id.clone()), "`{}` is registered twice", m.id);
        lines.push(format!(
            "{:<6} {:<14} {}",
            m.command,
            m.severity.as_str(),
            m.id
        ));
    }
    for d in greenlight::scan::Detectors::builtin().list() {
        assert!(
            seen.insert(d.id.to_owned()),
            "`{}` is registered twice",
            d.id
        );
        lines.push(format!(
            "{:<6} {:<14} {}",
            d.meta.command,
            d.severity.as_str(),
            d.id
        ));
    }
    insta::assert_snapshot!(lines.join("\n"));
}

/// Every subsystem's code names only registered rules, and every registered rule has its code.
#[test]
fn every_registered_rule_has_its_code_and_every_code_its_entry() {
    use greenlight::rule::rules_of;
    let check: Vec<&str> = greenlight::rules::RULES
        .iter()
        .map(|r| r.rule.id())
        .collect();
    assert_eq!(check, rules_of("check").map(|r| r.id()).collect::<Vec<_>>());
    // `probe` also reports `credential-invalid`, which `verify` owns.
    let probe: Vec<&str> = greenlight::probe::PROBE_RULES
        .iter()
        .map(|r| r.rule.id())
        .filter(|id| *id != "credential-invalid")
        .collect();
    assert_eq!(probe, rules_of("probe").map(|r| r.id()).collect::<Vec<_>>());
    // Every rule the checks of `verify` name is registered under `verify` (or is `check`'s
    // `test-credential-in-production`).
    for id in [
        "credential-invalid",
        "credential-wrong-account",
        "credential-scope-missing",
        "credential-scope-excess",
        "credential-expiring",
        "webhook-not-registered",
        "provider-setup-incomplete",
        "credential-unverifiable",
    ] {
        assert_eq!(greenlight::rule::RuleId::of(id).command(), "verify", "{id}");
    }
    assert_eq!(
        rules_of("diff").map(|r| r.id()).collect::<Vec<_>>(),
        [
            "missing-in-environment",
            "mode-differs",
            "host-shared-across-environments"
        ]
    );
}
