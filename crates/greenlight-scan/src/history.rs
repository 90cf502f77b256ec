//! Git history: every blob reachable from any ref (or from a revision range), read once; and
//! the index (`scan --staged`): the blobs `git commit` would record that HEAD does not have.
//!
//! Commits are walked oldest first (topological order); each commit is diffed against its first
//! parent (root commits against the empty tree), and a blob id seen for the first time is
//! attributed to that commit, path and author. Unchanged subtrees are skipped by id, so the walk
//! costs what the history changed, not commits × files. The unique blobs are then read and
//! scanned in parallel, one repository handle per thread; a secret found in several blobs (the
//! versions of one file) is reported once, at its first introduction.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use git2::{DiffOptions, Oid, Repository, Sort};
use rayon::prelude::*;

/// A finding in a blob, with its secret when the scan keeps them.
type FoundInBlob = (greenlight_core::finding::Finding, Option<Held>);

use super::{
    is_binary, scan_bytes, scan_bytes_with_secrets, Held, Progress, ScanOptions, ScanResult,
    Skipped,
};

/// Which part of a repository's objects a scan reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitScope {
    /// Every commit reachable from any ref.
    AllHistory,
    /// The commits of a revision range: `A..B`, or `REV` for `REV..HEAD` (a pull request's).
    Range(String),
    /// The index: what `git commit` would record. With no paths, only the blobs that differ
    /// from HEAD; with paths (what a pre-commit framework passes: the files being committed, or
    /// every tracked file with `--all-files`), the index's version of each of those files.
    Staged { paths: Vec<std::path::PathBuf> },
}

struct Introduced {
    order: usize,
    /// None for a staged blob (not committed yet).
    commit: Option<Oid>,
    path: String,
    author: String,
}

fn open(root: &Path, result: &mut ScanResult) -> Option<Repository> {
    match Repository::open_ext(
        root,
        git2::RepositoryOpenFlags::empty(),
        std::iter::empty::<&std::ffi::OsStr>(),
    ) {
        Ok(r) => Some(r),
        Err(e) => {
            result.summary.skipped.push(Skipped {
                path: root.display().to_string(),
                reason: format!("not a git repository: {}", e.message()),
            });
            None
        }
    }
}

/// The commits a scope walks, oldest first.
fn commits_of(repo: &Repository, scope: &GitScope) -> Result<Vec<Oid>, git2::Error> {
    let mut walk = repo.revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
    match scope {
        GitScope::Range(range) if range.contains("..") => walk.push_range(range)?,
        GitScope::Range(since) => {
            walk.push_head()?;
            let since = repo.revparse_single(since)?.peel_to_commit()?;
            walk.hide(since.id())?;
        }
        _ => {
            walk.push_glob("*")?;
            if repo.head().is_ok() {
                walk.push_head()?;
            }
        }
    }
    walk.collect()
}

/// Bad revisions are the user's error (exit 2), not a skipped part of the scan.
pub(super) fn check_range(root: &Path, range: &str) -> Result<(), String> {
    let repo = Repository::open_ext(
        root,
        git2::RepositoryOpenFlags::empty(),
        std::iter::empty::<&std::ffi::OsStr>(),
    )
    .map_err(|e| format!("{}: not a git repository ({})", root.display(), e.message()))?;
    let revs: Vec<&str> = match range.split_once("..") {
        Some((a, b)) => vec![a, b],
        None => vec![range],
    };
    for rev in revs.into_iter().filter(|r| !r.is_empty()) {
        repo.revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map_err(|e| {
                format!(
                    "`{rev}` is not a commit of this repository ({})",
                    e.message()
                )
            })?;
    }
    Ok(())
}

/// Scans the staged blobs: those of the index that differ from HEAD's tree (all of them before
/// the first commit), under the paths they will have once committed.
pub(super) fn scan_staged(
    root: &Path,
    scope: &GitScope,
    options: &ScanOptions,
    progress: Progress<'_>,
    result: &mut ScanResult,
) {
    let Some(repo) = open(root, result) else {
        return;
    };
    let GitScope::Staged { paths } = scope else {
        return;
    };
    // libgit2 re-hashes every object it reads by default (most of the time of a 100,000-entry
    // index-to-tree diff); the objects are only read here, and git itself does not re-hash them.
    git2::opts::strict_hash_verification(false);
    let staged = (|| -> Result<Vec<(Oid, Introduced)>, git2::Error> {
        let index = repo.index()?;
        if !paths.is_empty() {
            return Ok(index_blobs(&repo, &index, paths));
        }
        let head = match repo.head() {
            Ok(h) => Some(h.peel_to_tree()?),
            Err(_) => None,
        };
        let mut diff_options = DiffOptions::new();
        diff_options.skip_binary_check(true);
        let diff = repo.diff_tree_to_index(head.as_ref(), Some(&index), Some(&mut diff_options))?;
        Ok(new_blobs(&diff, 0, None, ""))
    })();
    match staged {
        Ok(list) => {
            let repo_path = repo.path().to_path_buf();
            scan_blobs(&repo_path, list, options, progress, result);
        }
        Err(e) => result.summary.skipped.push(Skipped {
            path: repo.path().display().to_string(),
            reason: format!("index not readable: {}", e.message()),
        }),
    }
}

/// The index's blobs at or below `paths` (relative to the working directory), whatever HEAD has.
fn index_blobs(
    repo: &Repository,
    index: &git2::Index,
    paths: &[std::path::PathBuf],
) -> Vec<(Oid, Introduced)> {
    let Some(workdir) = repo.workdir().and_then(|w| w.canonicalize().ok()) else {
        return Vec::new();
    };
    // Each path as the index spells it: relative to the work tree, `/`-separated.
    let wanted: Vec<String> = paths
        .iter()
        .filter_map(|p| {
            let absolute = std::path::absolute(p).ok()?;
            // Canonicalize what exists (symlinked temp dirs), keep the rest as written.
            let absolute = absolute.canonicalize().unwrap_or(absolute);
            let relative = absolute.strip_prefix(&workdir).ok()?;
            Some(
                relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/"),
            )
        })
        .collect();
    index
        .iter()
        .filter_map(|entry| {
            let path = String::from_utf8_lossy(&entry.path).into_owned();
            let under = wanted
                .iter()
                .any(|w| w.is_empty() || path == *w || path.starts_with(&format!("{w}/")));
            under.then(|| {
                (
                    entry.id,
                    Introduced {
                        order: 0,
                        commit: None,
                        path,
                        author: String::new(),
                    },
                )
            })
        })
        .collect()
}

/// The blobs `new` has that `old` does not have at the same path (added, modified, renamed to a
/// new path, turned from a link into a file), with their paths. Subtrees with the same id on both
/// sides are skipped without being read, so a commit costs what it changed, not the size of its
/// tree. libgit2's tree diff does the same work but reads and hash-checks far more tree objects:
/// 100 ms a commit on a 100,000-file repository against well under 1 ms here (bench/workflow).
fn changed_blobs(
    repo: &Repository,
    old: Option<&git2::Tree<'_>>,
    new: &git2::Tree<'_>,
    prefix: &str,
    out: &mut Vec<(Oid, String)>,
) -> Result<(), git2::Error> {
    for entry in new.iter() {
        let Some(name) = entry.name() else { continue };
        let before = old.and_then(|o| o.get_name(name));
        if before.as_ref().is_some_and(|b| b.id() == entry.id()) {
            continue;
        }
        let path = if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}/{name}")
        };
        match entry.kind() {
            Some(git2::ObjectType::Tree) => {
                let subtree = repo.find_tree(entry.id())?;
                let old_subtree = match before {
                    Some(b) if b.kind() == Some(git2::ObjectType::Tree) => {
                        Some(repo.find_tree(b.id())?)
                    }
                    _ => None,
                };
                changed_blobs(repo, old_subtree.as_ref(), &subtree, &path, out)?;
            }
            // Regular files and symlinks (a link's target is text too); submodules (commits)
            // are another repository's history.
            Some(git2::ObjectType::Blob) => out.push((entry.id(), path)),
            _ => {}
        }
    }
    Ok(())
}

/// The blobs a diff adds or changes, each with where it was introduced.
fn new_blobs(
    diff: &git2::Diff<'_>,
    order: usize,
    commit: Option<Oid>,
    author: &str,
) -> Vec<(Oid, Introduced)> {
    diff.deltas()
        .filter(|delta| {
            !delta.new_file().id().is_zero()
                && matches!(
                    delta.status(),
                    git2::Delta::Added
                        | git2::Delta::Modified
                        | git2::Delta::Renamed
                        | git2::Delta::Copied
                        | git2::Delta::Typechange
                )
        })
        .map(|delta| {
            let file = delta.new_file();
            (
                file.id(),
                Introduced {
                    order,
                    commit,
                    path: file
                        .path()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    author: author.to_owned(),
                },
            )
        })
        .collect()
}

pub(super) fn scan_history(
    root: &Path,
    scope: &GitScope,
    options: &ScanOptions,
    progress: Progress<'_>,
    result: &mut ScanResult,
) {
    let Some(repo) = open(root, result) else {
        return;
    };
    let repo_path = repo.path().to_path_buf();
    let mut blobs: HashMap<Oid, Introduced> = HashMap::new();
    let mut commits = 0u64;
    let oids = match commits_of(&repo, scope) {
        Ok(o) => o,
        Err(e) => {
            result.summary.skipped.push(Skipped {
                path: repo_path.display().to_string(),
                reason: format!("history not readable: {}", e.message()),
            });
            return;
        }
    };
    for (order, oid) in oids.iter().enumerate() {
        let introduced = (|| -> Result<(), git2::Error> {
            let commit = repo.find_commit(*oid)?;
            let tree = commit.tree()?;
            let parent_tree = match commit.parent(0) {
                Ok(p) => Some(p.tree()?),
                Err(_) => None,
            };
            let author = {
                let a = commit.author();
                format!("{} <{}>", a.name().unwrap_or("?"), a.email().unwrap_or("?"))
            };
            let mut changed = Vec::new();
            changed_blobs(&repo, parent_tree.as_ref(), &tree, "", &mut changed)?;
            for (id, path) in changed {
                blobs.entry(id).or_insert_with(|| Introduced {
                    order,
                    commit: Some(*oid),
                    path,
                    author: author.clone(),
                });
            }
            Ok(())
        })();
        commits += 1;
        if let Err(e) = introduced {
            result.summary.skipped.push(Skipped {
                path: format!("commit {oid}"),
                reason: format!("unreadable: {}", e.message()),
            });
        }
    }
    result.summary.commits += commits;
    scan_blobs(
        &repo_path,
        blobs.into_iter().collect(),
        options,
        progress,
        result,
    );
}

/// Reads and scans the blobs in parallel (one repository handle per thread); a secret found in
/// several blobs is reported once, at the first in `order`.
fn scan_blobs(
    repo_path: &Path,
    blobs: Vec<(Oid, Introduced)>,
    options: &ScanOptions,
    progress: Progress<'_>,
    result: &mut ScanResult,
) {
    let max = options.max_file_size;
    let mut list: Vec<(&Oid, &Introduced)> = blobs.iter().map(|(o, i)| (o, i)).collect();
    list.sort_by_key(|(_, i)| i.order);
    let scanned: Vec<(usize, Result<Vec<FoundInBlob>, Skipped>, u64)> = list
        .par_iter()
        .map_init(
            || Repository::open(repo_path).ok(),
            |repo, (oid, intro)| {
                let path = intro.path.clone();
                let Some(repo) = repo else {
                    return (
                        intro.order,
                        Err(Skipped {
                            path,
                            reason: "repository not readable".into(),
                        }),
                        0,
                    );
                };
                let blob = match repo.find_blob(**oid) {
                    Ok(b) => b,
                    Err(e) => {
                        return (
                            intro.order,
                            Err(Skipped {
                                path: format!("{path} ({oid})"),
                                reason: format!("corrupt or missing git object: {}", e.message()),
                            }),
                            0,
                        )
                    }
                };
                let content = blob.content();
                if content.len() as u64 > max {
                    return (
                        intro.order,
                        Err(Skipped {
                            path: format!("{path} ({oid})"),
                            reason: format!("larger than the limit ({} bytes)", content.len()),
                        }),
                        0,
                    );
                }
                if is_binary(content) {
                    return (intro.order, Ok(Vec::new()), 0);
                }
                progress(content.len() as u64);
                let mut found: Vec<(_, Option<Held>)> = if options.keep_secrets {
                    scan_bytes_with_secrets(&path, content)
                        .into_iter()
                        .map(|(f, h)| (f, Some(h)))
                        .collect()
                } else {
                    scan_bytes(&path, content)
                        .into_iter()
                        .map(|f| (f, None))
                        .collect()
                };
                if let Some(commit) = intro.commit {
                    for (f, _) in &mut found {
                        f.commit = Some(commit.to_string());
                        f.author = Some(intro.author.clone());
                    }
                }
                (intro.order, Ok(found), content.len() as u64)
            },
        )
        .collect();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut ordered = scanned;
    ordered.sort_by_key(|(order, ..)| *order);
    for (_, outcome, bytes) in ordered {
        result.summary.bytes_scanned += bytes;
        match outcome {
            Ok(found) => {
                result.summary.blobs_scanned += 1;
                for (f, held) in found {
                    if let (Some(h), Some(fp)) = (held, f.fingerprint.clone()) {
                        result.held.insert(fp, h);
                    }
                    // One finding per secret: the first blob (in history order) that holds it.
                    let key = (
                        f.rule.id().to_owned(),
                        f.value.as_ref().map_or("", |v| v.as_str()).to_owned()
                            + &f.location
                                .as_ref()
                                .map(|l| l.path.clone())
                                .unwrap_or_default(),
                    );
                    if seen.insert(key) {
                        result.findings.push(f);
                    }
                }
            }
            Err(skip) => result.summary.skipped.push(skip),
        }
    }
}
