//! `env-file-not-ignored`: a `.env*` file with real secrets that git tracks or does not ignore.

use std::path::Path;

use super::{Context, Rule, RuleInfo};
use greenlight_core::finding::{Finding, Location, Severity};
use greenlight_core::source::SourceKind;

pub(super) const INFO: RuleInfo = RuleInfo {
    rule: Rule::EnvFileNotIgnored,
    run,
};

#[derive(Debug, PartialEq, Eq)]
enum GitState {
    Tracked,
    NotIgnored,
    Ignored,
    NoRepository,
}

fn git_state(file: &Path) -> GitState {
    let Ok(abs) = file.canonicalize() else {
        return GitState::NoRepository;
    };
    let Ok(repo) = git2::Repository::discover(abs.parent().unwrap_or(&abs)) else {
        return GitState::NoRepository;
    };
    let Some(workdir) = repo.workdir().and_then(|w| w.canonicalize().ok()) else {
        return GitState::NoRepository;
    };
    let Ok(rel) = abs.strip_prefix(&workdir) else {
        return GitState::NoRepository;
    };
    if repo.index().ok().and_then(|i| i.get_path(rel, 0)).is_some() {
        return GitState::Tracked;
    }
    match repo.is_path_ignored(rel) {
        Ok(true) => GitState::Ignored,
        _ => GitState::NotIgnored,
    }
}

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for source in cx
        .env
        .sources
        .iter()
        .filter(|s| s.kind == SourceKind::Dotenv)
    {
        let Some(file) = &source.file else { continue };
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if !name.starts_with(".env")
            || name.ends_with(".example")
            || name.ends_with(".template")
            || name.ends_with(".sample")
        {
            continue;
        }
        let secrets: Vec<&str> = cx
            .present()
            .filter(|v| {
                v.secret
                    && v.has_real_value()
                    && v.assignment.is_some_and(|a| a.origin.path == source.path)
            })
            .map(|v| v.name)
            .collect();
        let Some(first) = secrets.first() else {
            continue;
        };
        let (severity, what) = match git_state(file) {
            GitState::Tracked => (Severity::Critical, "is committed to git"),
            GitState::NotIgnored => (
                Severity::Warning,
                "is not ignored by git (one `git add .` from being committed)",
            ),
            GitState::Ignored | GitState::NoRepository => continue,
        };
        let more = if secrets.len() > 1 {
            format!(" and {} more", secrets.len() - 1)
        } else {
            String::new()
        };
        out.push(Finding {
            rule: INFO.rule.into(),
            severity,
            message: format!("{} {what} and holds secrets (`{first}`{more}); add it to .gitignore and keep secrets in a secret store", source.path),
            variable: None,
            service: None,
            location: Some(Location { path: source.path.clone(), line: 1, column: 1 }),
            value: None,
            verification: None,
            confidence: None,
            why: None,
            help: None,
            commit: None,
            author: None,
            fingerprint: None,
            source: None,
            probe: None,
            snippet: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{testing::findings_in, Rule};
    use greenlight_core::finding::Severity;

    const DECLS: &str = "[vars.JWT_SECRET]\nsecret = true\n";
    const ENV: &str =
        "JWT_SECRET=G3brCGUFzdlIfv2DZi-mo-7gfP-04SAomzYQ2UkwvjbXtroV8ByV_btub0LIfKFW\n";

    #[test]
    fn fails_when_tracked_or_not_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        let f = findings_in(
            dir.path(),
            DECLS,
            &[(".env.production", ENV)],
            "production",
            Rule::EnvFileNotIgnored,
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
        let mut index = repo.index().unwrap();
        index
            .add_path(std::path::Path::new(".env.production"))
            .unwrap();
        index.write().unwrap();
        let f = findings_in(
            dir.path(),
            DECLS,
            &[(".env.production", ENV)],
            "production",
            Rule::EnvFileNotIgnored,
        );
        assert_eq!(f[0].severity, Severity::Critical);
    }

    #[test]
    fn passes_when_ignored() {
        let dir = tempfile::tempdir().unwrap();
        git2::Repository::init(dir.path()).unwrap();
        std::fs::write(dir.path().join(".gitignore"), ".env*\n").unwrap();
        let f = findings_in(
            dir.path(),
            DECLS,
            &[(".env.production", ENV)],
            "production",
            Rule::EnvFileNotIgnored,
        );
        assert!(f.is_empty());
    }
}
