//! Migrations applied: the `postgres` probe, given `migrations = { tool = "…" }`, compares the
//! database's migration table with the migrations in the repository, for the tools the seeds
//! use — Alembic (`alembic_version` and the revision graph of `alembic/versions/*.py`), Prisma
//! (`_prisma_migrations` and `prisma/migrations/*/`), Drizzle (`drizzle.__drizzle_migrations`
//! and `meta/_journal.json`), Rails (`schema_migrations` and `db/migrate/*.rb`) and Django
//! (`django_migrations` and every app's `migrations/NNNN_*.py`), Cloudflare D1's wrangler
//! (`d1_migrations` and `migrations/*.sql`), and a plain `schema.sql` (every table it creates
//! exists). Reading is read-only: one `SELECT` of the tool's own table (or of the catalog's
//! table list), and files of the repository.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::rules::ProbeRule;
use super::CheckResult;
use greenlight_core::finding::Severity;

pub const TOOLS: &[&str] = &[
    "alembic", "prisma", "drizzle", "rails", "django", "sql", "d1",
];

/// Where a tool keeps its migrations by default, relative to the manifest.
pub fn default_path(tool: &str) -> &'static str {
    match tool {
        "alembic" => "alembic/versions",
        "prisma" => "prisma/migrations",
        "drizzle" => "drizzle",
        "rails" => "db/migrate",
        "sql" => "schema.sql",
        "d1" => "migrations",
        _ => ".",
    }
}

/// The schema the tool's table lives in by default.
pub fn default_schema(tool: &str) -> &'static str {
    if tool == "drizzle" {
        "drizzle"
    } else {
        "public"
    }
}

/// One migration of the repository: its id as the database records it, a name to show, and
/// (Alembic) the revisions it follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Migration {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub parents: Vec<String>,
}

/// What the probe found: the repository's migrations and the database's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub tool: String,
    pub path: String,
    pub repository: Result<Vec<Migration>, String>,
    pub applied: Result<Vec<String>, String>,
}

/// The `SELECT` that lists what the tool recorded as applied, one text column. `schema` is
/// validated as an identifier when the manifest loads.
pub fn applied_query(tool: &str, schema: &str) -> String {
    match tool {
        "alembic" => format!("SELECT version_num::text FROM \"{schema}\".alembic_version"),
        "prisma" => format!("SELECT migration_name::text FROM \"{schema}\"._prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL"),
        "drizzle" => format!("SELECT created_at::text FROM \"{schema}\".__drizzle_migrations"),
        "rails" => format!("SELECT version::text FROM \"{schema}\".schema_migrations"),
        // pg_class, not information_schema: the latter hides tables the role cannot read.
        "sql" => format!("SELECT c.relname::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '{schema}' AND c.relkind IN ('r', 'p', 'f', 'v', 'm')"),
        _ => format!("SELECT app || '.' || name FROM \"{schema}\".django_migrations"),
    }
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("valid"))
}

/// The same for a SQLite database (a local D1): wrangler's table, or the table list.
pub fn applied_query_sqlite(tool: &str) -> &'static str {
    match tool {
        "d1" => "SELECT name FROM d1_migrations",
        "sql" => "SELECT name FROM sqlite_master WHERE type = 'table'",
        "prisma" => "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL",
        "drizzle" => "SELECT CAST(created_at AS TEXT) FROM __drizzle_migrations",
        "rails" => "SELECT version FROM schema_migrations",
        "alembic" => "SELECT version_num FROM alembic_version",
        _ => "SELECT app || '.' || name FROM django_migrations",
    }
}

/// The tables a SQL file creates (`CREATE [TEMP] [VIRTUAL] TABLE [IF NOT EXISTS] [schema.]name`),
/// lowercase, without quotes or schema, comments ignored; temporary tables left out.
pub fn created_tables(sql: &str) -> Vec<String> {
    static COMMENT: OnceLock<Regex> = OnceLock::new();
    static CREATE: OnceLock<Regex> = OnceLock::new();
    let comment = re(&COMMENT, r"(?s)--[^\n]*|/\*.*?\*/");
    let ident = r#"(?:"[^"]+"|`[^`]+`|\[[^\]]+\]|[\w$]+)"#;
    let create = re(
        &CREATE,
        &format!(
            r"(?i)\bCREATE\s+(?:(?:GLOBAL\s+|LOCAL\s+)?(TEMP|TEMPORARY)\s+)?(?:VIRTUAL\s+|UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?({ident}(?:\s*\.\s*{ident})?)"
        ),
    );
    let text = comment.replace_all(sql, " ");
    let mut out: Vec<String> = Vec::new();
    for c in create.captures_iter(&text) {
        if c.get(1).is_some() {
            continue;
        }
        let full = &c[2];
        let last = full.rsplit('.').next().unwrap_or(full).trim();
        let name = last
            .trim_matches(|ch| matches!(ch, '"' | '`' | '[' | ']'))
            .to_ascii_lowercase();
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// The migrations of the repository, in the tool's layout.
pub fn read_repository(tool: &str, dir: &Path) -> Result<Vec<Migration>, String> {
    let list = |d: &Path| -> Result<Vec<std::fs::DirEntry>, String> {
        let mut v: Vec<_> = std::fs::read_dir(d)
            .map_err(|e| format!("cannot read {}: {e}", d.display()))?
            .filter_map(Result::ok)
            .collect();
        v.sort_by_key(|e| e.file_name());
        Ok(v)
    };
    let name_of = |e: &std::fs::DirEntry| e.file_name().to_string_lossy().into_owned();
    match tool {
        "alembic" => {
            static REV: OnceLock<Regex> = OnceLock::new();
            static DOWN: OnceLock<Regex> = OnceLock::new();
            static QUOTED: OnceLock<Regex> = OnceLock::new();
            let rev = re(
                &REV,
                r#"(?m)^revision(?:\s*:\s*[^=\n]+)?\s*=\s*['"]([^'"]+)['"]"#,
            );
            let down = re(&DOWN, r"(?m)^down_revision(?:\s*:\s*[^=\n]+)?\s*=\s*(.+)$");
            let quoted = re(&QUOTED, r#"['"]([^'"]+)['"]"#);
            let mut out = Vec::new();
            for e in list(dir)? {
                let name = name_of(&e);
                if !name.ends_with(".py") || name.starts_with("__") {
                    continue;
                }
                let text =
                    std::fs::read_to_string(e.path()).map_err(|err| format!("{name}: {err}"))?;
                let Some(id) = rev.captures(&text).map(|c| c[1].to_owned()) else {
                    continue;
                };
                let parents = down
                    .captures(&text)
                    .map(|c| {
                        quoted
                            .captures_iter(&c[1])
                            .map(|q| q[1].to_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                out.push(Migration { id, name, parents });
            }
            Ok(out)
        }
        "prisma" => Ok(list(dir)?
            .into_iter()
            .filter(|e| e.path().join("migration.sql").is_file())
            .map(|e| {
                let n = name_of(&e);
                Migration {
                    id: n.clone(),
                    name: n,
                    parents: Vec::new(),
                }
            })
            .collect()),
        "drizzle" => {
            let journal = dir.join("meta").join("_journal.json");
            let text = std::fs::read_to_string(&journal)
                .map_err(|e| format!("cannot read {}: {e}", journal.display()))?;
            let v: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| format!("{} is not JSON: {e}", journal.display()))?;
            Ok(v["entries"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|e| {
                            Some(Migration {
                                id: e["when"].as_i64()?.to_string(),
                                name: e["tag"].as_str().unwrap_or("?").to_owned(),
                                parents: Vec::new(),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default())
        }
        "sql" => {
            // A file, or every `.sql` file of a directory.
            let files: Vec<std::path::PathBuf> = if dir.is_dir() {
                list(dir)?
                    .into_iter()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("sql")))
                    .collect()
            } else {
                vec![dir.to_path_buf()]
            };
            let mut out: Vec<Migration> = Vec::new();
            for f in files {
                let text = std::fs::read_to_string(&f)
                    .map_err(|e| format!("cannot read {}: {e}", f.display()))?;
                for t in created_tables(&text) {
                    if !out.iter().any(|m| m.id == t) {
                        out.push(Migration {
                            id: t.clone(),
                            name: format!("table {t}"),
                            parents: Vec::new(),
                        });
                    }
                }
            }
            Ok(out)
        }
        "d1" => Ok(list(dir)?
            .into_iter()
            .map(|e| name_of(&e))
            .filter(|n| n.ends_with(".sql"))
            .map(|n| Migration {
                id: n.clone(),
                name: n,
                parents: Vec::new(),
            })
            .collect()),
        "rails" => {
            static FILE: OnceLock<Regex> = OnceLock::new();
            let file = re(&FILE, r"^(\d+)_([A-Za-z0-9_]+)\.rb$");
            Ok(list(dir)?
                .into_iter()
                .filter_map(|e| {
                    let n = name_of(&e);
                    let c = file.captures(&n)?;
                    Some(Migration {
                        id: c[1].to_owned(),
                        name: n.clone(),
                        parents: Vec::new(),
                    })
                })
                .collect())
        }
        _ => {
            // Django: every `<app>/migrations/NNNN_name.py` under the directory (bounded depth;
            // virtual environments and dependencies are not the project's).
            static FILE: OnceLock<Regex> = OnceLock::new();
            let file = re(&FILE, r"^(\d{4}_[A-Za-z0-9_]+)\.py$");
            let mut out = Vec::new();
            let mut stack = vec![(dir.to_path_buf(), 0)];
            while let Some((d, depth)) = stack.pop() {
                let Ok(entries) = list(&d) else { continue };
                for e in entries {
                    let n = name_of(&e);
                    let path = e.path();
                    if !path.is_dir()
                        || n.starts_with('.')
                        || matches!(
                            n.as_str(),
                            "node_modules" | "venv" | "site-packages" | "__pycache__"
                        )
                    {
                        continue;
                    }
                    if n == "migrations" {
                        let app = d
                            .file_name()
                            .map(|a| a.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        for m in list(&path)? {
                            if let Some(c) = file.captures(&name_of(&m)) {
                                out.push(Migration {
                                    id: format!("{app}.{}", &c[1]),
                                    name: format!("{app}/{}", &c[1]),
                                    parents: Vec::new(),
                                });
                            }
                        }
                    } else if depth < 5 {
                        stack.push((path, depth + 1));
                    }
                }
            }
            out.sort_by(|a, b| a.id.cmp(&b.id));
            Ok(out)
        }
    }
}

/// The repository's migrations the database has not applied, and the applied ones the
/// repository does not have.
pub fn compare(tool: &str, repo: &[Migration], applied: &[String]) -> (Vec<String>, Vec<String>) {
    let ids: BTreeSet<&str> = repo.iter().map(|m| m.id.as_str()).collect();
    let applied_set: BTreeSet<&str> = applied.iter().map(String::as_str).collect();
    let mut extra: Vec<String> = applied_set
        .iter()
        .filter(|a| !ids.contains(*a))
        .map(|a| a.to_string())
        .collect();
    let not_applied = |m: &&Migration| !applied_set.contains(m.id.as_str());
    let pending: Vec<String> = match tool {
        "alembic" => {
            // Applied: the recorded heads and everything they descend from.
            let parents: HashMap<&str, &Vec<String>> =
                repo.iter().map(|m| (m.id.as_str(), &m.parents)).collect();
            let mut done: BTreeSet<&str> = BTreeSet::new();
            let mut stack: Vec<&str> = applied_set.iter().copied().collect();
            while let Some(r) = stack.pop() {
                if done.insert(r) {
                    if let Some(ps) = parents.get(r) {
                        stack.extend(ps.iter().map(String::as_str));
                    }
                }
            }
            repo.iter()
                .filter(|m| !done.contains(m.id.as_str()))
                .map(|m| m.name.clone())
                .collect()
        }
        "drizzle" => {
            let last = applied
                .iter()
                .filter_map(|a| a.parse::<i64>().ok())
                .max()
                .unwrap_or(i64::MIN);
            repo.iter()
                .filter(|m| m.id.parse::<i64>().is_ok_and(|w| w > last))
                .map(|m| m.name.clone())
                .collect()
        }
        "sql" => {
            // The database may hold other tables (the tools' own, extensions'): not a finding.
            extra.clear();
            let applied_lower: BTreeSet<String> =
                applied.iter().map(|a| a.to_ascii_lowercase()).collect();
            repo.iter()
                .filter(|m| !applied_lower.contains(&m.id))
                .map(|m| m.name.clone())
                .collect()
        }
        "django" => {
            // Django's own apps (auth, admin, contenttypes, sessions) are not in the repository.
            let apps: BTreeSet<&str> = repo.iter().filter_map(|m| m.id.split('.').next()).collect();
            extra.retain(|a| a.split('.').next().is_some_and(|app| apps.contains(app)));
            repo.iter()
                .filter(not_applied)
                .map(|m| m.name.clone())
                .collect()
        }
        _ => repo
            .iter()
            .filter(not_applied)
            .map(|m| m.name.clone())
            .collect(),
    };
    (pending, extra)
}

fn shown(list: &[String]) -> String {
    let n = list.len();
    let head: Vec<&str> = list.iter().take(5).map(String::as_str).collect();
    if n > 5 {
        format!("{} and {} more", head.join(", "), n - 5)
    } else {
        head.join(", ")
    }
}

/// `prefix` is the probe's (`pg`, `sqlite`): checks `PREFIX.migrations` and
/// `PREFIX.migrations.unknown`.
pub fn analyse(e: &Evidence, production: bool, prefix: &str) -> Vec<CheckResult> {
    let rule = ProbeRule::MigrationsPending;
    let (main, unknown): (&'static str, &'static str) = match prefix {
        "sqlite" => ("sqlite.migrations", "sqlite.migrations.unknown"),
        _ => ("pg.migrations", "pg.migrations.unknown"),
    };
    let repo = match &e.repository {
        Ok(r) => r,
        Err(err) => {
            return vec![CheckResult::unknown(
                main,
                rule,
                format!(
                    "the {} migrations of the repository cannot be read: {err}",
                    e.tool
                ),
            )]
        }
    };
    let applied = match &e.applied {
        Ok(a) => a.clone(),
        // No table yet: the tool never ran against this database.
        Err(err) if err.contains("does not exist") || err.contains("no such table") => Vec::new(),
        Err(err) => {
            return vec![CheckResult::unknown(
                main,
                rule,
                format!("the {} migration table cannot be read: {err}", e.tool),
            )]
        }
    };
    let (pending, extra) = compare(&e.tool, repo, &applied);
    let mut out = Vec::new();
    if e.tool == "sql" {
        out.push(if repo.is_empty() {
            CheckResult::unknown(main, rule, format!("{} creates no table", e.path))
        } else if pending.is_empty() {
            CheckResult::pass(
                main,
                rule,
                format!("all {} tables of {} exist", repo.len(), e.path),
            )
        } else {
            CheckResult::fail(
                main,
                rule,
                if production {
                    Severity::Critical
                } else {
                    Severity::Warning
                },
                format!(
                    "{} of {} tables of {} do not exist, so it was not applied (or not in full): {}",
                    pending.len(),
                    repo.len(),
                    e.path,
                    shown(&pending)
                ),
            )
        });
        return out;
    }
    if pending.is_empty() {
        out.push(CheckResult::pass(
            main,
            rule,
            format!(
                "all {} {} migrations of {} are applied",
                repo.len(),
                e.tool,
                e.path
            ),
        ));
    } else {
        out.push(CheckResult::fail(
            main,
            rule,
            if production {
                Severity::Critical
            } else {
                Severity::Warning
            },
            format!(
                "{} of {} {} migrations of {} are not applied: {}",
                pending.len(),
                repo.len(),
                e.tool,
                e.path,
                shown(&pending)
            ),
        ));
    }
    if !extra.is_empty() {
        out.push(CheckResult::fail(
            unknown,
            rule,
            Severity::Warning,
            format!("applied in the database but absent from {}: {} (a rollback, or another branch deployed?)", e.path, shown(&extra)),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, parents: &[&str]) -> Migration {
        Migration {
            id: id.into(),
            name: format!("{id}.py"),
            parents: parents.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn schema_sql_tables_are_read_without_comments_or_temporary_tables() {
        let sql = r#"
            -- CREATE TABLE commented_out (id int);
            CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY);
            create table "Enrollments" (id int);
            CREATE TEMP TABLE scratch (x int);
            /* CREATE TABLE old (x int); */
            CREATE TABLE main.`payments` (id int);
            CREATE VIRTUAL TABLE search USING fts5(body);
            CREATE UNLOGGED TABLE public.events (id int);
            CREATE INDEX idx_users ON users(id);
        "#;
        assert_eq!(
            created_tables(sql),
            ["users", "enrollments", "payments", "search", "events"]
        );
        let repo: Vec<Migration> = created_tables(sql)
            .into_iter()
            .map(|t| Migration {
                id: t.clone(),
                name: format!("table {t}"),
                parents: vec![],
            })
            .collect();
        let (pending, extra) = compare(
            "sql",
            &repo,
            &[
                "Users".into(),
                "enrollments".into(),
                "payments".into(),
                "other".into(),
            ],
        );
        assert_eq!(pending, ["table search", "table events"]);
        assert!(extra.is_empty());
    }

    #[test]
    fn alembic_follows_the_revision_graph() {
        let repo = [
            m("a1", &[]),
            m("b2", &["a1"]),
            m("c3", &["b2"]),
            m("d4", &["c3"]),
        ];
        assert_eq!(compare("alembic", &repo, &["d4".into()]), (vec![], vec![]));
        assert_eq!(
            compare("alembic", &repo, &["b2".into()]).0,
            ["c3.py", "d4.py"]
        );
        assert_eq!(compare("alembic", &repo, &[]).0.len(), 4);
        assert_eq!(compare("alembic", &repo, &["zz9".into()]).1, ["zz9"]);
    }

    #[test]
    fn drizzle_applies_what_is_newer_than_the_last_run() {
        let repo = [
            Migration {
                id: "1700000000000".into(),
                name: "0000_init".into(),
                parents: vec![],
            },
            Migration {
                id: "1700000500000".into(),
                name: "0001_credits".into(),
                parents: vec![],
            },
        ];
        assert_eq!(
            compare("drizzle", &repo, &["1700000000000".into()]).0,
            ["0001_credits"]
        );
    }

    #[test]
    fn django_ignores_its_own_apps() {
        let repo = [Migration {
            id: "billing.0001_initial".into(),
            name: "billing/0001_initial".into(),
            parents: vec![],
        }];
        let (pending, extra) = compare(
            "django",
            &repo,
            &[
                "auth.0001_initial".into(),
                "billing.0001_initial".into(),
                "billing.0002_gone".into(),
            ],
        );
        assert!(pending.is_empty());
        assert_eq!(extra, ["billing.0002_gone"]);
    }

    #[test]
    fn alembic_files_are_read_with_their_parents() {
        let dir = std::env::temp_dir().join(format!("gl-alembic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("a1_init.py"),
            "revision = 'a1'\ndown_revision = None\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("b2_users.py"),
            "revision: str = \"b2\"\ndown_revision: Union[str, None] = \"a1\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("c3_merge.py"),
            "revision = 'c3'\ndown_revision = ('a1', 'b2')\n",
        )
        .unwrap();
        let mut repo = read_repository("alembic", &dir).unwrap();
        repo.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(repo[1].parents, ["a1"]);
        assert_eq!(repo[2].parents, ["a1", "b2"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
