//! Git history: every blob reachable from any ref, read once.
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

struct Introduced {
    order: usize,
    commit: Oid,
    path: String,
    author: String,
}

pub(super) fn scan_history(
    root: &Path,
    options: &ScanOptions,
    progress: Progress<'_>,
    result: &mut ScanResult,
) {
    let repo = match Repository::open_ext(
        root,
        git2::RepositoryOpenFlags::empty(),
        std::iter::empty::<&std::ffi::OsStr>(),
    ) {
        Ok(r) => r,
        Err(e) => {
            result.summary.skipped.push(Skipped {
                path: root.display().to_string(),
                reason: format!("not a git repository: {}", e.message()),
            });
            return;
        }
    };
    let repo_path = repo.path().to_path_buf();
    let mut blobs: HashMap<Oid, Introduced> = HashMap::new();
    let mut commits = 0u64;
    let walk = (|| -> Result<Vec<Oid>, git2::Error> {
        let mut walk = repo.revwalk()?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
        walk.push_glob("*")?;
        if repo.head().is_ok() {
            walk.push_head()?;
        }
        walk.collect()
    })();
    let oids = match walk {
        Ok(o) => o,
        Err(e) => {
            result.summary.skipped.push(Skipped {
                path: repo_path.display().to_string(),
                reason: format!("history not readable: {}", e.message()),
            });
            return;
        }
    };
    let mut diff_options = DiffOptions::new();
    diff_options.skip_binary_check(true);
    for (order, oid) in oids.iter().enumerate() {
        let introduced = (|| -> Result<(), git2::Error> {
            let commit = repo.find_commit(*oid)?;
            let tree = commit.tree()?;
            let parent_tree = match commit.parent(0) {
                Ok(p) => Some(p.tree()?),
                Err(_) => None,
            };
            let diff =
                repo.diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), Some(&mut diff_options))?;
            let author = {
                let a = commit.author();
                format!("{} <{}>", a.name().unwrap_or("?"), a.email().unwrap_or("?"))
            };
            for delta in diff.deltas() {
                let file = delta.new_file();
                if file.id().is_zero()
                    || !matches!(
                        delta.status(),
                        git2::Delta::Added
                            | git2::Delta::Modified
                            | git2::Delta::Renamed
                            | git2::Delta::Copied
                            | git2::Delta::Typechange
                    )
                {
                    continue;
                }
                blobs.entry(file.id()).or_insert_with(|| Introduced {
                    order,
                    commit: *oid,
                    path: file
                        .path()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
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

    let max = options.max_file_size;
    let mut list: Vec<(&Oid, &Introduced)> = blobs.iter().collect();
    list.sort_by_key(|(_, i)| i.order);
    let scanned: Vec<(usize, Result<Vec<FoundInBlob>, Skipped>, u64)> = list
        .par_iter()
        .map_init(
            || Repository::open(&repo_path).ok(),
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
                for (f, _) in &mut found {
                    f.commit = Some(intro.commit.to_string());
                    f.author = Some(intro.author.clone());
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
