//! The `sqlite` probe: a local SQLite database — Cloudflare D1's local state under
//! `.wrangler/state/v3/d1`, or any database file the manifest names — opened read-only, and its
//! migration state compared with the repository's (`migrations = { tool = "d1" }` for wrangler's
//! `d1_migrations`, `tool = "sql"` for the tables a `schema.sql` creates, or any tool the
//! `postgres` probe knows). It never writes: the connection is opened with
//! `SQLITE_OPEN_READ_ONLY` and only `SELECT`s are run.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};

use super::migrations as mig;
use super::rules::ProbeRule;
use super::{CheckResult, Context, Planned};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The database file found (or the path named, when none was).
    pub database: String,
    /// Tables in the database, or why it could not be opened.
    pub opened: Result<usize, Failure>,
    pub migrations: Option<mig::Evidence>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Failure {
    /// Nothing at the path: the local database was never created (`wrangler dev` not run).
    Absent(String),
    /// A file that is not a readable SQLite database.
    Unreadable(String),
}

/// The database file: the path itself, or the most recently modified `*.sqlite` below a
/// directory (wrangler keeps one per database, named by a hash), at most four levels down.
pub fn find_database(path: &Path) -> Result<PathBuf, Failure> {
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    if !path.is_dir() {
        return Err(Failure::Absent(format!(
            "{} does not exist (for a local D1 database, run `wrangler d1 migrations apply --local` or `wrangler dev` once)",
            path.display()
        )));
    }
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    let mut stack = vec![(path.to_path_buf(), 0)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() && depth < 4 {
                stack.push((p, depth + 1));
            } else if p
                .extension()
                .is_some_and(|x| x == "sqlite" || x == "sqlite3" || x == "db")
            {
                let modified = e
                    .metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH);
                if best.as_ref().is_none_or(|(t, _)| modified > *t) {
                    best = Some((modified, p));
                }
            }
        }
    }
    best.map(|(_, p)| p).ok_or_else(|| {
        Failure::Absent(format!(
            "no SQLite database (*.sqlite) under {}",
            path.display()
        ))
    })
}

fn read(path: &Path, migrations: Option<(&str, &str)>) -> Evidence {
    let database = path.display().to_string();
    let conn = match Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) {
        Ok(c) => c,
        Err(e) => {
            return Evidence {
                database,
                opened: Err(Failure::Unreadable(e.to_string())),
                migrations: None,
            }
        }
    };
    // Opening is lazy: the first read tells whether the file is a database at all.
    let opened = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| usize::try_from(n).unwrap_or(0))
        .map_err(|e| Failure::Unreadable(e.to_string()));
    let migrations = match (&opened, migrations) {
        (Ok(_), Some((tool, repo_path))) => {
            let applied = conn
                .prepare(mig::applied_query_sqlite(tool))
                .and_then(|mut st| {
                    st.query_map([], |r| r.get::<_, String>(0))?
                        .collect::<Result<Vec<String>, _>>()
                })
                .map_err(|e| e.to_string());
            Some(mig::Evidence {
                tool: tool.to_owned(),
                path: repo_path.to_owned(),
                repository: mig::read_repository(tool, Path::new(repo_path)),
                applied,
            })
        }
        _ => None,
    };
    Evidence {
        database,
        opened,
        migrations,
    }
}

pub async fn collect(p: &Planned) -> Evidence {
    let named = PathBuf::from(p.spec.database.clone().unwrap_or_default());
    let migrations = p
        .spec
        .migrations
        .as_ref()
        .map(|m| (m.tool.clone(), m.path.clone().unwrap_or_default()));
    let found = find_database(&named);
    // SQLite is blocking I/O: off the runtime's worker threads.
    tokio::task::spawn_blocking(move || match found {
        Ok(path) => read(
            &path,
            migrations.as_ref().map(|(t, r)| (t.as_str(), r.as_str())),
        ),
        Err(f) => Evidence {
            database: named.display().to_string(),
            opened: Err(f),
            migrations: None,
        },
    })
    .await
    .unwrap_or_else(|e| Evidence {
        database: String::new(),
        opened: Err(Failure::Unreadable(format!(
            "the read was interrupted: {e}"
        ))),
        migrations: None,
    })
}

pub fn analyse(e: &Evidence, ctx: Context) -> Vec<CheckResult> {
    let mut out = Vec::new();
    match &e.opened {
        Err(Failure::Absent(why)) => {
            out.push(CheckResult::unknown(
                "sqlite.open",
                ProbeRule::ProbeUnreachable,
                why.clone(),
            ));
            return out;
        }
        Err(Failure::Unreadable(why)) => {
            out.push(CheckResult::fail_default(
                "sqlite.open",
                ProbeRule::ProbeUnreachable,
                format!("{} is not a readable SQLite database: {why}", e.database),
            ));
            return out;
        }
        Ok(n) => out.push(CheckResult::pass(
            "sqlite.open",
            ProbeRule::ProbeUnreachable,
            format!("{} opened read-only ({n} tables)", e.database),
        )),
    }
    if let Some(m) = &e.migrations {
        out.extend(mig::analyse(m, ctx.production, "sqlite"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ctx;
    use crate::Status;

    fn db(dir: &Path, name: &str, sql: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let c = Connection::open(&path).unwrap();
        c.execute_batch(sql).unwrap();
        path
    }

    #[test]
    fn a_local_d1_database_is_found_and_compared_with_its_migrations() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join(".wrangler/state/v3/d1");
        db(
            &state,
            "miniflare-D1DatabaseObject/abc123.sqlite",
            "CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY, name TEXT, applied_at TEXT);
             INSERT INTO d1_migrations (name) VALUES ('0001_init.sql');
             CREATE TABLE users (id INTEGER);",
        );
        let migrations = dir.path().join("migrations");
        std::fs::create_dir_all(&migrations).unwrap();
        std::fs::write(
            migrations.join("0001_init.sql"),
            "CREATE TABLE users (id INTEGER);",
        )
        .unwrap();
        std::fs::write(
            migrations.join("0002_courses.sql"),
            "CREATE TABLE courses (id INTEGER);",
        )
        .unwrap();

        let found = find_database(&state).unwrap();
        assert!(found.ends_with("abc123.sqlite"));
        let e = read(&found, Some(("d1", &migrations.display().to_string())));
        let checks = analyse(&e, ctx(true));
        let m = checks
            .iter()
            .find(|c| c.check == "sqlite.migrations")
            .unwrap();
        assert_eq!(m.status, Status::Fail);
        assert!(m.message.contains("0002_courses.sql"), "{}", m.message);

        // schema.sql: every table it creates must exist.
        let schema = dir.path().join("schema.sql");
        std::fs::write(&schema, "CREATE TABLE IF NOT EXISTS users (id INTEGER);\nCREATE TABLE enrollments (id INTEGER);").unwrap();
        let e = read(&found, Some(("sql", &schema.display().to_string())));
        let checks = analyse(&e, ctx(true));
        let m = checks
            .iter()
            .find(|c| c.check == "sqlite.migrations")
            .unwrap();
        assert_eq!(m.status, Status::Fail);
        assert!(m.message.contains("table enrollments"), "{}", m.message);

        // Read-only: nothing was written (the file's tables are unchanged).
        let c = Connection::open(&found).unwrap();
        let n: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type='table'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 2);
    }

    #[test]
    fn absent_and_unreadable_databases() {
        let dir = tempfile::tempdir().unwrap();
        let e = Evidence {
            database: "x".into(),
            opened: find_database(&dir.path().join("nothing")).map(|_| 0),
            migrations: None,
        };
        let checks = analyse(&e, ctx(true));
        assert_eq!(checks[0].status, Status::Unknown);
        assert!(checks[0]
            .message
            .contains("wrangler d1 migrations apply --local"));

        let junk = dir.path().join("junk.sqlite");
        std::fs::write(
            &junk,
            "not a database, just text that is long enough to have a header",
        )
        .unwrap();
        let checks = analyse(&read(&junk, None), ctx(true));
        assert_eq!(checks[0].status, Status::Fail);
        assert_eq!(checks[0].rule, ProbeRule::ProbeUnreachable);
    }
}
