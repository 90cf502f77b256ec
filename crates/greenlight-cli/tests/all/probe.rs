//! `greenlight probe` against real servers on loopback (see `servers.rs`): every probe kind,
//! good and bad configurations, timeouts, concurrency, and no secret in any output.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::canary::assert_no_canary;
use crate::servers::{servers, PG_PASSWORD, REDIS_PASSWORD, STANDARD_SECRET, WEBHOOK_SECRET};
use crate::support::run;

/// A project with a production and a staging environment whose `.env` files hold `env`, and the
/// given declarations and probes. Returns the directory.
fn project(declarations: &str, env: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let s = servers();
    let manifest = format!(
        r#"[project]
name = "probe-test"

[environments.production]
sources = [".env.production"]
production = true

[environments.staging]
sources = [".env.staging"]
production = false

{declarations}
"#
    )
    .replace("CA_PEM", &s.ca_pem.display().to_string());
    std::fs::write(dir.path().join("greenlight.toml"), manifest).unwrap();
    std::fs::write(dir.path().join(".env.production"), env).unwrap();
    std::fs::write(dir.path().join(".env.staging"), env).unwrap();
    dir
}

struct Probed {
    code: i32,
    json: Value,
    stdout: String,
    stderr: String,
}

fn probe(dir: &tempfile::TempDir, env: &str, extra: &[&str]) -> Probed {
    let mut args = vec!["probe", "--env", env, "--format", "json"];
    args.extend_from_slice(extra);
    let r = run(dir.path(), &args);
    let json = serde_json::from_str(&r.stdout).unwrap_or_else(|e| {
        panic!("not JSON ({e}):\n{}\n{}", r.stdout, r.stderr);
    });
    crate::golive::assert_valid_report("probe", &r.stdout);
    Probed {
        code: r.code,
        json,
        stdout: r.stdout,
        stderr: r.stderr,
    }
}

impl Probed {
    /// (check, status, rule, severity) of one probe's checks.
    fn checks(&self, name: &str) -> Vec<(String, String, String, String)> {
        let probe = self.json["probes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no probe `{name}` in {}", self.stdout));
        probe["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["check"].as_str().unwrap().to_owned(),
                    c["status"].as_str().unwrap().to_owned(),
                    c["rule"].as_str().unwrap().to_owned(),
                    c["severity"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    }

    fn status_of(&self, name: &str, check: &str) -> String {
        self.checks(name)
            .into_iter()
            .find(|c| c.0 == check)
            .unwrap_or_else(|| panic!("no check {check} in {name}: {}", self.stdout))
            .1
    }

    fn rules(&self) -> Vec<String> {
        self.json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_owned())
            .collect()
    }

    fn message_of(&self, rule: &str) -> String {
        self.json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule)
            .unwrap_or_else(|| panic!("no {rule} finding: {}", self.stdout))["message"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

#[test]
fn postgres_over_tls_with_a_password_and_hostssl_only_passes() {
    let s = servers();
    let dir = project(
        r#"[vars.DATABASE_URL]
format = "postgres.url"
secret = true
probe = false

[[probes]]
name = "db"
kind = "postgres"
url = "${DATABASE_URL}"
ca = "CA_PEM"
"#,
        &format!(
            "DATABASE_URL=postgresql://tls_user:{PG_PASSWORD}@127.0.0.1:{}/app?sslmode=verify-full\n",
            s.pg_tls_port
        ),
    );
    let p = probe(&dir, "production", &[]);
    assert_eq!(p.code, 0, "{}{}", p.stdout, p.stderr);
    for check in [
        "pg.reachable",
        "pg.auth_required",
        "pg.tls_in_use",
        "pg.tls_enforced",
        "pg.superuser",
    ] {
        assert_eq!(p.status_of("db", check), "pass", "{check}: {}", p.stdout);
    }
    assert_eq!(p.json["verdict"], "go");
}

#[test]
fn postgres_that_also_accepts_plaintext_is_a_warning() {
    let s = servers();
    let dir = project(
        r#"[[probes]]
name = "db"
kind = "postgres"
url = "postgresql://pw_user:${PG_PASSWORD}@127.0.0.1:PORT/app?sslmode=require"
ca = "CA_PEM"
"#
        .replace("PORT", &s.pg_tls_port.to_string())
        .as_str(),
        &format!("PG_PASSWORD={PG_PASSWORD}\n"),
    );
    let p = probe(&dir, "production", &[]);
    assert_eq!(p.status_of("db", "pg.tls_in_use"), "pass");
    assert_eq!(p.status_of("db", "pg.tls_enforced"), "fail");
    assert_eq!(p.status_of("db", "pg.auth_required"), "pass");
    assert!(p
        .message_of("tls-not-enforced")
        .contains("also accepts unencrypted logins for `pw_user`"));
    assert_eq!(p.code, 0, "a warning does not block: {}", p.stdout);
}

#[test]
fn postgres_trust_login_is_auth_not_required() {
    let s = servers();
    let dir = project(
        &format!(
            "[[probes]]\nname = \"db\"\nkind = \"postgres\"\nurl = \"postgresql://trust_user@127.0.0.1:{}/app?sslmode=disable\"\n",
            s.pg_plain_port
        ),
        "",
    );
    let p = probe(&dir, "staging", &[]);
    assert_eq!(p.code, 1, "{}", p.stdout);
    assert_eq!(p.status_of("db", "pg.auth_required"), "fail");
    assert!(p
        .message_of("auth-not-required")
        .contains("lets user `trust_user` in without a password"));
}

#[test]
fn postgres_without_tls_in_production() {
    let s = servers();
    let dir = project(
        &format!(
            "[[probes]]\nname = \"plain\"\nkind = \"postgres\"\nurl = \"postgresql://pw_user:{PG_PASSWORD}@127.0.0.1:{port}/app?sslmode=disable\"\n\n\
             [[probes]]\nname = \"required\"\nkind = \"postgres\"\nurl = \"postgresql://pw_user:{PG_PASSWORD}@127.0.0.1:{port}/app?sslmode=require\"\n",
            port = s.pg_plain_port
        ),
        "",
    );
    let p = probe(&dir, "production", &[]);
    assert_eq!(p.code, 1);
    assert_eq!(p.status_of("plain", "pg.reachable"), "pass");
    assert_eq!(p.status_of("plain", "pg.tls_in_use"), "fail");
    assert_eq!(p.status_of("required", "pg.tls_in_use"), "fail");
    // The same server is fine outside production (TLS is judged in production only).
    let staging = probe(&dir, "staging", &["--only", "plain"]);
    assert_eq!(staging.code, 0, "{}", staging.stdout);
}

#[test]
fn a_postgres_url_variable_implies_a_probe_and_wrong_credentials_are_reported() {
    let s = servers();
    let dir = project(
        "[vars.DATABASE_URL]\nformat = \"postgres.url\"\nsecret = true\n\n\
         [vars.REDIS_URL]\nformat = \"redis.url\"\nsecret = true\n",
        &format!(
            "DATABASE_URL=postgresql://pw_user:not-the-password@127.0.0.1:{}/app\n\
             REDIS_URL=redis://:not-the-redis-password@127.0.0.1:{}\n",
            s.pg_plain_port, s.redis_auth_port
        ),
    );
    // A server that answers and rejects the credentials is its own outcome, not "unreachable":
    // critical in production, a warning elsewhere.
    let p = probe(&dir, "production", &[]);
    assert_eq!(p.code, 1);
    assert_eq!(p.checks("DATABASE_URL")[0].0, "pg.auth");
    assert!(p
        .checks("REDIS_URL")
        .iter()
        .any(|c| c.0 == "redis.auth" && c.1 == "fail"));
    let rejected: Vec<&serde_json::Value> = p.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "credential-invalid")
        .collect();
    assert_eq!(rejected.len(), 2, "{}", p.stdout);
    assert!(rejected.iter().all(|f| f["severity"] == "critical"));
    let m = p.message_of("credential-invalid");
    assert!(m.contains("rejected the configured credentials"), "{m}");
    assert!(
        !p.rules().contains(&"probe-unreachable".to_owned()),
        "{:?}",
        p.rules()
    );
    let staging = probe(&dir, "staging", &[]);
    assert!(staging.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "credential-invalid")
        .all(|f| f["severity"] == "warning"));
    assert!(!p.stdout.contains("not-the-password") && !p.stdout.contains("not-the-redis-password"));
}

#[test]
fn redis_with_and_without_a_password_and_over_tls() {
    let s = servers();
    let dir = project(
        &format!(
            r#"[[probes]]
name = "open"
kind = "redis"
url = "redis://127.0.0.1:{open}"
role = "cache"

[[probes]]
name = "auth"
kind = "redis"
url = "redis://:${{REDIS_PASSWORD}}@127.0.0.1:{auth}/0"

[[probes]]
name = "tls"
kind = "redis"
url = "rediss://:${{REDIS_PASSWORD}}@127.0.0.1:{tls}"
ca = "CA_PEM"
role = "queue"
"#,
            open = s.redis_open_port,
            auth = s.redis_auth_port,
            tls = s.redis_tls_port
        ),
        &format!("REDIS_PASSWORD={REDIS_PASSWORD}\n"),
    );
    let p = probe(&dir, "production", &[]);
    assert_eq!(p.status_of("open", "redis.auth_required"), "fail");
    assert_eq!(p.status_of("open", "redis.tls"), "fail");
    assert_eq!(p.status_of("open", "redis.maxmemory_policy"), "fail");
    assert_eq!(p.status_of("auth", "redis.reachable"), "pass");
    assert_eq!(p.status_of("auth", "redis.auth_required"), "pass");
    assert_eq!(p.status_of("auth", "redis.settings"), "fail");
    assert_eq!(p.status_of("tls", "redis.tls"), "pass");
    assert_eq!(p.status_of("tls", "redis.auth_required"), "pass");
    // A queue without persistence loses jobs.
    assert_eq!(p.status_of("tls", "redis.persistence"), "fail");
    assert!(p
        .message_of("auth-not-required")
        .contains("answers commands without a password"));
    assert_eq!(p.code, 1);
}

fn http_probe(name: &str, kind: &str, url: &str, extra: &str) -> String {
    format!("[[probes]]\nname = \"{name}\"\nkind = \"{kind}\"\nurl = \"{url}\"\nca = \"CA_PEM\"\n{extra}\n")
}

#[test]
fn health_endpoints_in_every_format() {
    let s = servers();
    let base = format!("https://127.0.0.1:{}", s.https_port);
    let probes = [
        http_probe(
            "pass",
            "http",
            &format!("{base}/health/pass"),
            "expect_version = \"1.4.2\"",
        ),
        http_probe("plain", "http", &format!("{base}/plain"), ""),
        http_probe("fail", "http", &format!("{base}/health/fail"), ""),
        http_probe(
            "fail200",
            "http",
            &format!("{base}/health/fail-behind-200"),
            "",
        ),
        http_probe(
            "actuator",
            "http",
            &format!("{base}/health/actuator-down"),
            "",
        ),
        http_probe(
            "old",
            "http",
            &format!("{base}/health/pass"),
            "expect_version = \"2.0.0\"",
        ),
    ]
    .concat();
    let p = probe(&project(&probes, ""), "production", &[]);
    assert_eq!(p.status_of("pass", "health.version_matches"), "pass");
    assert!(p.checks("plain").iter().all(|c| c.1 == "pass"));
    assert_eq!(p.status_of("fail", "health.http_status"), "fail");
    assert_eq!(p.status_of("fail200", "health.body_status"), "fail");
    assert_eq!(p.status_of("actuator", "health.http_status"), "fail");
    assert_eq!(p.status_of("old", "health.version_matches"), "fail");
    let messages: Vec<&str> = p.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "health-check-failing")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("postgres:connections [db-1] (fail: connection pool exhausted)")),
        "{messages:?}"
    );
    assert!(messages.iter().any(|m| m.contains("db (DOWN)")));
    assert!(messages
        .iter()
        .any(|m| m.contains("serves version `1.4.2`, not the expected `2.0.0`")));
    assert_eq!(p.code, 1);
}

#[test]
fn tls_certificates_valid_expired_and_for_another_host() {
    let s = servers();
    let probes = [
        http_probe(
            "valid",
            "tls",
            &format!("https://localhost:{}/", s.https_port),
            &format!("http_url = \"http://localhost:{}/\"", s.http_port),
        ),
        http_probe(
            "expired",
            "tls",
            &format!("https://localhost:{}/", s.https_expired_port),
            "",
        ),
        http_probe(
            "wronghost",
            "tls",
            &format!("https://localhost:{}/", s.https_wrong_host_port),
            "",
        ),
        http_probe(
            "soon",
            "tls",
            &format!("https://localhost:{}/", s.https_port),
            "expiry_days = 10000",
        ),
        http_probe(
            "noredirect",
            "tls",
            &format!("https://localhost:{}/", s.https_port),
            &format!("http_url = \"http://localhost:{}/plain\"", s.http_port),
        ),
    ]
    .concat();
    let p = probe(&project(&probes, ""), "production", &[]);
    assert_eq!(p.status_of("valid", "tls.cert.trusted"), "pass");
    assert_eq!(p.status_of("valid", "tls.cert.expiry"), "pass");
    assert_eq!(p.status_of("valid", "tls.protocol"), "pass");
    assert_eq!(p.status_of("valid", "http.redirect.https"), "pass");
    assert_eq!(p.status_of("expired", "tls.cert.trusted"), "fail");
    assert_eq!(p.status_of("wronghost", "tls.cert.trusted"), "fail");
    assert_eq!(p.status_of("soon", "tls.cert.expiry"), "fail");
    assert_eq!(p.status_of("noredirect", "http.redirect.https"), "fail");
    let invalid: Vec<String> = p.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "tls-certificate-invalid")
        .map(|f| f["message"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        invalid.iter().any(|m| m.contains("expired 2021-01-01")),
        "{invalid:?}"
    );
    assert!(
        invalid
            .iter()
            .any(|m| m.contains("is for wrong.test, not localhost")),
        "{invalid:?}"
    );
    assert!(p.rules().contains(&"tls-certificate-expiring".to_owned()));
    // An HTTP probe against the expired certificate fails verification, as clients would.
    let p = probe(
        &project(
            &http_probe(
                "h",
                "http",
                &format!("https://localhost:{}/plain", s.https_expired_port),
                "",
            ),
            "",
        ),
        "production",
        &[],
    );
    assert_eq!(p.rules(), ["tls-certificate-invalid"]);
}

#[test]
fn security_headers_good_and_bad() {
    let s = servers();
    let base = format!("https://127.0.0.1:{}", s.https_port);
    let probes = [
        http_probe("good", "headers", &format!("{base}/headers/good"), ""),
        http_probe("bad", "headers", &format!("{base}/headers/bad"), ""),
    ]
    .concat();
    let p = probe(&project(&probes, ""), "production", &[]);
    assert!(
        p.checks("good").iter().all(|c| c.1 == "pass"),
        "{:?}",
        p.checks("good")
    );
    for check in [
        "http.hsts.max_age",
        "http.csp.unsafe_inline",
        "http.framing",
        "http.nosniff",
        "http.cookies",
        "http.cors.credentialed_reflection",
    ] {
        assert_eq!(p.status_of("bad", check), "fail", "{check}");
    }
    assert_eq!(p.code, 1);
    assert!(
        !p.stdout.contains("s3ss10n-v4lue"),
        "cookie values never appear"
    );
}

#[test]
fn metrics_endpoints_export_what_the_manifest_lists() {
    let s = servers();
    let base = format!("https://127.0.0.1:{}", s.https_port);
    let probes = [
        http_probe(
            "complete",
            "metrics",
            &format!("{base}/metrics"),
            "metrics = [\"billing.credits_purchased_total{package}\", \"stripe.webhook_events{event_type}\", \"http_request_duration_seconds{route}\"]",
        ),
        http_probe(
            "incomplete",
            "metrics",
            &format!("{base}/metrics"),
            "metrics = [\"stripe.webhook_failures_total\", \"stripe_webhook_events_total{event_type,outcome}\"]",
        ),
        http_probe("html", "metrics", &format!("{base}/plain"), ""),
        http_probe("absent", "metrics", &format!("{base}/nothing-here"), ""),
    ]
    .concat();
    let p = probe(&project(&probes, ""), "production", &[]);
    assert_eq!(p.status_of("complete", "metrics.present"), "pass");
    assert_eq!(p.status_of("incomplete", "metrics.present"), "fail");
    let missing: String = p.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "metrics-missing")
        .map(|f| f["message"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        missing.contains("stripe_webhook_failures_total") && missing.contains("without outcome"),
        "{missing}"
    );
    assert_eq!(p.status_of("html", "metrics.exposition"), "fail");
    assert_eq!(p.status_of("absent", "metrics.reachable"), "fail");
    assert_eq!(p.code, 1);
}

#[test]
fn migrations_applied_or_pending_for_every_tool() {
    let s = servers();
    s.psql_plain(
        "DROP SCHEMA IF EXISTS mig_alembic, mig_prisma, mig_drizzle, mig_rails, mig_django, mig_empty, mig_sql CASCADE; \
         CREATE SCHEMA mig_sql; CREATE TABLE mig_sql.users (id int); CREATE TABLE mig_sql.enrollments (id int); \
         CREATE SCHEMA mig_alembic; CREATE TABLE mig_alembic.alembic_version (version_num varchar(32) PRIMARY KEY); \
         INSERT INTO mig_alembic.alembic_version VALUES ('b2'); \
         CREATE SCHEMA mig_prisma; CREATE TABLE mig_prisma._prisma_migrations (id text, migration_name text, finished_at timestamptz, rolled_back_at timestamptz); \
         INSERT INTO mig_prisma._prisma_migrations VALUES ('1', '20260101000000_init', now(), NULL), ('2', '20260201000000_courses', NULL, NULL); \
         CREATE SCHEMA mig_drizzle; CREATE TABLE mig_drizzle.__drizzle_migrations (id serial, hash text, created_at bigint); \
         INSERT INTO mig_drizzle.__drizzle_migrations (hash, created_at) VALUES ('h0', 1767225600000), ('h1', 1769904000000); \
         CREATE SCHEMA mig_rails; CREATE TABLE mig_rails.schema_migrations (version varchar PRIMARY KEY); \
         INSERT INTO mig_rails.schema_migrations VALUES ('20260101000000'), ('20260102000000'), ('20250101000000'); \
         CREATE SCHEMA mig_django; CREATE TABLE mig_django.django_migrations (id serial, app varchar, name varchar, applied timestamptz); \
         INSERT INTO mig_django.django_migrations (app, name, applied) VALUES ('auth', '0001_initial', now()), ('billing', '0001_initial', now()), ('billing', '0002_credits', now()); \
         CREATE SCHEMA mig_empty; \
         GRANT USAGE ON SCHEMA mig_alembic, mig_prisma, mig_drizzle, mig_rails, mig_django, mig_empty, mig_sql TO pw_user; \
         GRANT SELECT ON ALL TABLES IN SCHEMA mig_alembic, mig_prisma, mig_drizzle, mig_rails, mig_django TO pw_user;",
    );
    let url = format!(
        "postgresql://pw_user:{PG_PASSWORD}@127.0.0.1:{}/app",
        s.pg_plain_port
    );
    let probe_of = |name: &str, tool: &str, schema: &str| {
        format!("[[probes]]\nname = \"{name}\"\nkind = \"postgres\"\nurl = \"{url}\"\nmigrations = {{ tool = \"{tool}\", schema = \"{schema}\" }}\n\n")
    };
    let probes = [
        probe_of("alembic", "alembic", "mig_alembic"),
        probe_of("prisma", "prisma", "mig_prisma"),
        probe_of("drizzle", "drizzle", "mig_drizzle"),
        probe_of("rails", "rails", "mig_rails"),
        probe_of("django", "django", "mig_django"),
        probe_of("never-migrated", "alembic", "mig_empty"),
        probe_of("schema-sql", "sql", "mig_sql"),
        format!("[[probes]]\nname = \"schema-sql-ok\"\nkind = \"postgres\"\nurl = \"{url}\"\nmigrations = {{ tool = \"sql\", path = \"db/schema-v1.sql\", schema = \"mig_sql\" }}\n\n"),
    ]
    .concat();
    let dir = project(&probes, "");
    let write = |rel: &str, text: &str| {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "alembic/versions/a1_init.py",
        "revision = 'a1'\ndown_revision = None\n",
    );
    write(
        "alembic/versions/b2_users.py",
        "revision = 'b2'\ndown_revision = 'a1'\n",
    );
    write(
        "alembic/versions/c3_courses.py",
        "revision = 'c3'\ndown_revision = 'b2'\n",
    );
    write(
        "alembic/versions/d4_credits.py",
        "revision: str = 'd4'\ndown_revision: Union[str, None] = 'c3'\n",
    );
    write(
        "prisma/migrations/20260101000000_init/migration.sql",
        "CREATE TABLE users ();",
    );
    write(
        "prisma/migrations/20260201000000_courses/migration.sql",
        "CREATE TABLE courses ();",
    );
    write(
        "prisma/migrations/migration_lock.toml",
        "provider = \"postgresql\"",
    );
    write(
        "drizzle/meta/_journal.json",
        r#"{"version":"7","dialect":"postgresql","entries":[{"idx":0,"when":1767225600000,"tag":"0000_init"},{"idx":1,"when":1769904000000,"tag":"0001_credits"},{"idx":2,"when":1772323200000,"tag":"0002_ledger"}]}"#,
    );
    write(
        "db/migrate/20260101000000_create_users.rb",
        "class CreateUsers; end",
    );
    write(
        "db/migrate/20260102000000_create_courses.rb",
        "class CreateCourses; end",
    );
    write("billing/migrations/0001_initial.py", "");
    write("billing/migrations/0002_credits.py", "");
    write("billing/migrations/__init__.py", "");
    write(
        "schema.sql",
        "-- Ross Tax Academy style schema\nCREATE TABLE IF NOT EXISTS users (id int);\nCREATE TABLE enrollments (id int);\nCREATE TABLE payments (id int);\n",
    );
    write(
        "db/schema-v1.sql",
        "CREATE TABLE users (id int);\nCREATE TABLE enrollments (id int);\nCREATE INDEX i ON users(id);\n",
    );
    let p = probe(&dir, "production", &[]);
    assert_eq!(p.status_of("schema-sql", "pg.migrations"), "fail");
    assert_eq!(p.status_of("schema-sql-ok", "pg.migrations"), "pass");
    assert_eq!(p.status_of("alembic", "pg.migrations"), "fail");
    assert_eq!(p.status_of("prisma", "pg.migrations"), "fail");
    assert_eq!(p.status_of("drizzle", "pg.migrations"), "fail");
    assert_eq!(p.status_of("rails", "pg.migrations"), "pass");
    assert_eq!(p.status_of("rails", "pg.migrations.unknown"), "fail");
    assert_eq!(p.status_of("django", "pg.migrations"), "pass");
    assert_eq!(p.status_of("never-migrated", "pg.migrations"), "fail");
    let messages: Vec<String> = p.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "migrations-pending")
        .map(|f| {
            format!(
                "{}: {} {}",
                f["probe"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
                f["message"].as_str().unwrap()
            )
        })
        .collect();
    let of = |name: &str| {
        messages
            .iter()
            .find(|m| m.starts_with(&format!("{name}: ")))
            .cloned()
            .unwrap_or_default()
    };
    assert!(
        of("alembic").contains("critical")
            && of("alembic").contains("c3_courses.py, d4_credits.py"),
        "{messages:#?}"
    );
    assert!(
        of("prisma").contains("20260201000000_courses"),
        "{messages:#?}"
    );
    assert!(
        of("drizzle").contains("0002_ledger") && !of("drizzle").contains("0001_credits"),
        "{messages:#?}"
    );
    assert!(
        of("rails").contains("warning") && of("rails").contains("20250101000000"),
        "{messages:#?}"
    );
    assert!(of("never-migrated").contains("4 of 4"), "{messages:#?}");
    assert!(
        of("schema-sql").contains("1 of 3 tables") && of("schema-sql").contains("table payments"),
        "{messages:#?}"
    );
    assert_eq!(p.code, 1);
}

#[test]
fn cors_allows_the_production_origins_and_no_other() {
    let s = servers();
    let base = format!("https://127.0.0.1:{}", s.https_port);
    let origins = "allowed_origins = [\"${CORS_ORIGINS}\"]\nprofile = \"api\"";
    let probes = [
        http_probe(
            "listed",
            "headers",
            &format!("{base}/cors/allowlist"),
            origins,
        ),
        http_probe(
            "reflecting",
            "headers",
            &format!("{base}/cors/reflect"),
            origins,
        ),
    ]
    .concat();
    let env = "CORS_ORIGINS=https://app.academy.test, https://admin.academy.test\n";
    let p = probe(&project(&probes, env), "production", &[]);
    assert_eq!(p.status_of("listed", "http.cors.allow_list"), "pass");
    assert_eq!(p.status_of("listed", "http.cors.allowed_origin"), "pass");
    assert_eq!(p.status_of("reflecting", "http.cors.allow_list"), "fail");
    let msg: Vec<&str> = p.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["probe"] == "reflecting")
        .filter_map(|f| f["message"].as_str())
        .filter(|m| m.contains(" allows "))
        .collect();
    assert!(
        msg.len() == 1
            && msg[0].contains("greenlight-probe.invalid")
            && msg[0].contains("https://admin.academy.test"),
        "{msg:?}"
    );
}

#[test]
fn rate_limits_enforced_bare_and_missing_within_a_strict_bound() {
    let s = servers();
    let base = format!("https://127.0.0.1:{}", s.https_port);
    let probes = [
        http_probe(
            "limited",
            "ratelimit",
            &format!("{base}/limited?bucket=a"),
            "limit = 5\nwindow = \"1m\"",
        ),
        http_probe(
            "bare",
            "ratelimit",
            &format!("{base}/limited-bare?bucket=b"),
            "limit = 5",
        ),
        http_probe(
            "open",
            "ratelimit",
            &format!("{base}/unlimited?bucket=c"),
            "limit = 5",
        ),
    ]
    .concat();
    let p = probe(&project(&probes, ""), "production", &[]);
    assert_eq!(p.status_of("limited", "ratelimit.enforced"), "pass");
    assert_eq!(p.status_of("limited", "ratelimit.headers"), "pass");
    assert_eq!(p.status_of("bare", "ratelimit.enforced"), "pass");
    assert_eq!(p.status_of("bare", "ratelimit.headers"), "fail");
    assert_eq!(p.status_of("open", "ratelimit.enforced"), "fail");
    assert!(p
        .message_of("rate-limit-missing")
        .contains("accepted 7 requests"));
    // Never more than the limit and its margin; stops at the first 429.
    assert_eq!(crate::servers::hits("a"), 6);
    assert_eq!(crate::servers::hits("b"), 6);
    assert_eq!(crate::servers::hits("c"), 7);
    // The human report: each probe's findings under its own heading, and a status that follows
    // the worst finding (warn for a warning, note for a recommendation only).
    let dir = project(
        &[
            http_probe(
                "limited2",
                "ratelimit",
                &format!("{base}/limited?bucket=e"),
                "limit = 5",
            ),
            http_probe(
                "bare2",
                "ratelimit",
                &format!("{base}/limited-bare?bucket=f"),
                "limit = 5",
            ),
            http_probe(
                "open2",
                "ratelimit",
                &format!("{base}/unlimited?bucket=g"),
                "limit = 5",
            ),
        ]
        .concat(),
        "",
    );
    let human = run(dir.path(), &["probe", "--format", "human"]).stdout;
    assert!(
        human.contains("── probe open2 ──") && human.contains("── probe bare2 ──"),
        "{human}"
    );
    let row = |name: &str| {
        human
            .lines()
            .find(|l| l.contains(&format!(" {name} ")) && l.contains("ratelimit"))
            .unwrap_or_else(|| panic!("{name}: {human}"))
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(row("limited2"), "pass");
    assert_eq!(row("bare2"), "note");
    assert_eq!(row("open2"), "warn");
    // A ratelimit probe without its limit is a manifest error, not a flood.
    let dir = project(
        &http_probe("x", "ratelimit", &format!("{base}/unlimited?bucket=d"), ""),
        "",
    );
    let r = run(dir.path(), &["probe"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("needs `limit`"), "{}", r.stderr);
    assert_eq!(crate::servers::hits("d"), 0);
}

#[test]
fn webhook_endpoints_that_verify_and_one_that_does_not() {
    let s = servers();
    let base = format!("https://127.0.0.1:{}", s.https_port);
    let probes = [
        http_probe(
            "stripe",
            "webhook",
            &format!("{base}/webhook/stripe-verified"),
            "scheme = \"stripe\"\nsecret = \"${STRIPE_WEBHOOK_SECRET}\"\npositive_control = true",
        ),
        http_probe(
            "standard",
            "webhook",
            &format!("{base}/webhook/standard-verified"),
            "scheme = \"standard\"\nsecret = \"${SVIX_SECRET}\"\npositive_control = true",
        ),
        http_probe(
            "naive",
            "webhook",
            &format!("{base}/webhook/naive"),
            "scheme = \"stripe\"\nsecret = \"${STRIPE_WEBHOOK_SECRET}\"",
        ),
        http_probe(
            "wrongsecret",
            "webhook",
            &format!("{base}/webhook/stripe-verified"),
            "scheme = \"stripe\"\nsecret = \"whsec_not_the_deployed_one\"\npositive_control = true",
        ),
    ]
    .concat();
    let env = format!("STRIPE_WEBHOOK_SECRET={WEBHOOK_SECRET}\nSVIX_SECRET={STANDARD_SECRET}\n");
    let p = probe(&project(&probes, &env), "production", &[]);
    for name in ["stripe", "standard"] {
        let checks = p.checks(name);
        assert_eq!(checks.len(), 7, "{checks:?}");
        assert!(checks.iter().all(|c| c.1 == "pass"), "{name}: {checks:?}");
    }
    let naive = p.checks("naive");
    for check in [
        "webhook.rejects_unsigned",
        "webhook.rejects_malformed",
        "webhook.rejects_bad_signature",
        "webhook.rejects_tampered_body",
        "webhook.rejects_stale",
        "webhook.rejects_future",
    ] {
        assert!(
            naive.iter().any(|c| c.0 == check && c.1 == "fail"),
            "{check}: {naive:?}"
        );
    }
    assert_eq!(
        p.status_of("wrongsecret", "webhook.positive_control"),
        "fail"
    );
    assert!(p
        .message_of("webhook-accepts-unsigned")
        .contains("accepted a request without a signature (HTTP 200)"));
    assert!(p.rules().contains(&"webhook-rejects-signed".to_owned()));
    assert_eq!(p.code, 1);
}

#[test]
fn tcp_and_smtp_starttls() {
    let s = servers();
    let probes = format!(
        "[[probes]]\nname = \"smtp\"\nkind = \"tcp\"\nhost = \"localhost\"\nport = {}\nstarttls = \"smtp\"\nca = \"CA_PEM\"\n\n\
         [[probes]]\nname = \"smtp-plain\"\nkind = \"tcp\"\nhost = \"127.0.0.1\"\nport = {}\nstarttls = \"smtp\"\n\n\
         [[probes]]\nname = \"closed\"\nkind = \"tcp\"\nhost = \"127.0.0.1\"\nport = {}\n",
        s.smtp_starttls_port, s.smtp_plain_port, s.closed_port
    );
    let p = probe(&project(&probes, ""), "production", &[]);
    assert!(
        p.checks("smtp").iter().all(|c| c.1 == "pass"),
        "{:?}",
        p.checks("smtp")
    );
    assert_eq!(p.status_of("smtp-plain", "smtp.starttls"), "fail");
    assert_eq!(p.status_of("closed", "tcp.reachable"), "fail");
    let m = p.message_of("probe-unreachable");
    assert!(
        m.contains(&format!(
            "cannot connect to 127.0.0.1:{}: connection refused (os error 111)",
            s.closed_port
        )),
        "{m}"
    );
}

#[test]
fn a_blackholed_peer_ends_at_the_timeout_with_a_clear_finding() {
    let s = servers();
    let probes = format!(
        "[[probes]]\nname = \"hole\"\nkind = \"http\"\nurl = \"http://127.0.0.1:{}/health\"\ntimeout = \"1s\"\n\n\
         [[probes]]\nname = \"hole-db\"\nkind = \"postgres\"\nurl = \"postgresql://app:x@127.0.0.1:{}/app\"\ntimeout = \"1s\"\n",
        s.blackhole_port, s.blackhole_port
    );
    let started = Instant::now();
    let p = probe(&project(&probes, ""), "staging", &[]);
    let elapsed = started.elapsed();
    assert_eq!(p.code, 1);
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    let unreachable: Vec<&str> = p.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "probe-unreachable")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(unreachable.len(), 2, "{}", p.stdout);
    let port = s.blackhole_port.to_string();
    assert!(
        unreachable
            .iter()
            .all(|m| m.contains(&port) && m.contains("1s")),
        "{unreachable:?}"
    );
}

#[test]
fn ten_slow_probes_take_about_as_long_as_one() {
    let s = servers();
    let probes: String = (0..10)
        .map(|i| {
            http_probe(
                &format!("slow{i}"),
                "http",
                &format!("https://127.0.0.1:{}/slow", s.https_port),
                "timeout = \"5s\"",
            )
        })
        .collect();
    let dir = project(&probes, "");
    let started = Instant::now();
    let p = probe(&dir, "production", &[]);
    let elapsed = started.elapsed();
    assert_eq!(p.code, 0, "{}", p.stdout);
    assert_eq!(p.json["probes"].as_array().unwrap().len(), 10);
    for probe in p.json["probes"].as_array().unwrap() {
        assert!(probe["duration_ms"].as_u64().unwrap() >= 1000);
    }
    assert!(
        elapsed < Duration::from_secs(2),
        "ten 1-second probes took {elapsed:?}"
    );
}

#[test]
fn probe_outputs_never_contain_secrets() {
    let s = servers();
    let probes = format!(
        "[vars.DATABASE_URL]\nformat = \"postgres.url\"\nsecret = true\n\n\
         [vars.REDIS_URL]\nformat = \"redis.url\"\nsecret = true\n\n\
         [vars.STRIPE_WEBHOOK_SECRET]\nformat = \"stripe.webhook_secret\"\nsecret = true\n\n{}",
        http_probe(
            "hook",
            "webhook",
            &format!(
                "https://127.0.0.1:{}/webhook/naive?token=${{STRIPE_WEBHOOK_SECRET}}",
                s.https_port
            ),
            "scheme = \"stripe\"\nsecret = \"${STRIPE_WEBHOOK_SECRET}\"\npositive_control = true",
        ) + &[
            // The newer kinds, each with the secret in its URL as a token would be.
            http_probe(
                "metrics",
                "metrics",
                &format!(
                    "https://127.0.0.1:{}/metrics?token=${{STRIPE_WEBHOOK_SECRET}}",
                    s.https_port
                ),
                "metrics = [\"stripe.webhook_failures_total\"]",
            ),
            http_probe(
                "ratelimit",
                "ratelimit",
                &format!(
                    "https://127.0.0.1:{}/unlimited?bucket=canary&token=${{STRIPE_WEBHOOK_SECRET}}",
                    s.https_port
                ),
                "limit = 2",
            ),
            http_probe(
                "cors",
                "headers",
                &format!(
                    "https://127.0.0.1:{}/cors/reflect?token=${{STRIPE_WEBHOOK_SECRET}}",
                    s.https_port
                ),
                "allowed_origins = [\"https://app.academy.test\"]",
            ),
            // DNS: a secret in the name asked and in the account the lockdown must name.
            email_probe(
                "email-name",
                "noreply@${STRIPE_WEBHOOK_SECRET}.greenlight.test",
                &crate::dns::dns().addr,
                "",
            ),
            email_probe(
                "email-account",
                "good.greenlight.test",
                &crate::dns::dns().addr,
                "mailchannels_account = \"${STRIPE_WEBHOOK_SECRET}\"",
            ),
        ]
        .concat()
    );
    let env = format!(
        "DATABASE_URL=postgresql://pw_user:{PG_PASSWORD}@127.0.0.1:{}/app\n\
         REDIS_URL=redis://:{REDIS_PASSWORD}@127.0.0.1:{}\n\
         STRIPE_WEBHOOK_SECRET={WEBHOOK_SECRET}\n",
        s.pg_tls_port, s.redis_open_port
    );
    let dir = project(&probes, &env);
    let canaries = [
        PG_PASSWORD.to_owned(),
        REDIS_PASSWORD.to_owned(),
        WEBHOOK_SECRET.to_owned(),
    ];
    for env in ["production", "staging"] {
        for format in [
            "human", "json", "sarif", "markdown", "html", "junit", "github",
        ] {
            let r = run(dir.path(), &["probe", "--env", env, "--format", format]);
            assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
            assert_no_canary(&format!("probe {env} {format}"), &r.stdout, &canaries);
            assert_no_canary(
                &format!("probe {env} {format} stderr"),
                &r.stderr,
                &canaries,
            );
        }
    }
}

#[test]
fn bad_probe_declarations_are_clear_errors() {
    let dir = project(
        "[[probes]]\nkind = \"postgress\"\nurl = \"x\"\n\n[[probes]]\nkind = \"webhook\"\nurl = \"https://x\"\nscheme = \"paypal\"\n\n[[probes]]\nkind = \"tcp\"\nhost = \"x\"\n",
        "",
    );
    let r = run(dir.path(), &["probe", "--env", "production"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("unknown probe kind `postgress`; did you mean `postgres`?"),
        "{}",
        r.stderr
    );
    assert!(r
        .stderr
        .contains("`scheme = \"paypal\"` is not one of stripe, github, standard"));
    assert!(r.stderr.contains("a `tcp` probe needs `host` and `port`"));
    let dir = project(
        "[[probes]]\nname = \"a\"\nkind = \"http\"\nurl = \"${MISSING}/health\"\n",
        "",
    );
    let p = probe(&dir, "production", &[]);
    assert_eq!(p.rules(), ["probe-inconclusive"]);
    assert!(p
        .message_of("probe-inconclusive")
        .contains("references `${MISSING}`"));
    let r = run(dir.path(), &["probe", "--env", "production", "--only", "b"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no probe named `b`"), "{}", r.stderr);
}

#[test]
fn golive_runs_the_probes_and_checklist_items_follow_them() {
    let s = servers();
    let base = format!("https://127.0.0.1:{}", s.https_port);
    let manifest = [
        http_probe("health", "http", &format!("{base}/health/pass"), ""),
        http_probe("broken-health", "http", &format!("{base}/health/fail"), "environments = [\"staging\"]"),
        "[[checklist]]\nid = \"health-ok\"\ntitle = \"Health endpoint answers\"\nsection = \"post-deployment\"\nauto = [\"probe:health\"]\n\n\
         [[checklist]]\nid = \"staging-health\"\ntitle = \"Staging health\"\nsection = \"post-deployment\"\nauto = [\"probe:broken-health\"]\nrequired = false\n"
            .to_owned(),
    ]
    .concat();
    let dir = project(&manifest, "");
    let r = run(
        dir.path(),
        &[
            "golive",
            "--no-verify",
            "--env",
            "production",
            "--format",
            "json",
        ],
    );
    crate::golive::assert_valid_report("golive with probes", &r.stdout);
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    let items = json["checklist"].as_array().unwrap();
    assert_eq!(items[0]["status"], "passed", "{}", r.stdout);
    // The staging-only probe does not apply to production: not a pass.
    assert_eq!(items[1]["status"], "unknown");
    assert_eq!(
        json["verdict"], "go",
        "an optional unknown item does not block"
    );
    assert_eq!(r.code, 0);
    let r = run(
        dir.path(),
        &[
            "golive",
            "--no-verify",
            "--env",
            "staging",
            "--format",
            "json",
        ],
    );
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    let items = json["checklist"].as_array().unwrap();
    assert_eq!(items[1]["status"], "failed");
    assert_eq!(json["verdict"], "no-go");
    assert!(json["blocking"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b.as_str().unwrap().contains("health-check-failing")));
    // A risk accepted for a probe (by its name) covers that probe's findings.
    let r = run(
        dir.path(),
        &[
            "golive",
            "--no-verify",
            "--env",
            "staging",
            "--format",
            "json",
            "--allow",
            "health-check-failing:broken-health",
            "--reason",
            "staging database is being rebuilt",
            "--expires",
            "7d",
            "--by",
            "Sam",
        ],
    );
    crate::golive::assert_valid_report("golive --allow for a probe", &r.stdout);
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(json["accepted"][0]["covers"], 1, "{}", r.stdout);
    assert_eq!(json["accepted_findings"][0]["probe"], "broken-health");
    assert_eq!(
        json["verdict"], "go",
        "the only critical finding is accepted; the item is optional"
    );
}

/// Could not tell is not a pass: in production a probe whose URL needs an unset variable keeps
/// the verdict from go, unless the manifest marks it `optional`; outside production it is a
/// warning. The probe touches no network: it never runs.
#[test]
fn a_probe_that_cannot_run_blocks_go_in_production_unless_optional() {
    let declarations = "[[probes]]\nname = \"health\"\nkind = \"http\"\nurl = \"${HEALTH_URL}\"\n";
    let dir = project(declarations, "APP=1\n");
    let p = probe(&dir, "production", &[]);
    assert_eq!(p.code, 1, "{}", p.stdout);
    assert_eq!(p.json["verdict"], "no-go");
    let checks = p.checks("health");
    assert_eq!(checks[0].2, "probe-inconclusive");
    assert_eq!(checks[0].3, "critical");

    let p = probe(&dir, "staging", &[]);
    assert_eq!(p.code, 0, "{}", p.stdout);
    assert_eq!(p.json["verdict"], "go");

    let optional = format!("{declarations}optional = true\n");
    let dir = project(&optional, "APP=1\n");
    let p = probe(&dir, "production", &[]);
    assert_eq!(p.code, 0, "{}", p.stdout);
    assert_eq!(p.json["summary"]["warning"], 1);
}

fn email_probe(name: &str, domain: &str, nameserver: &str, extra: &str) -> String {
    format!(
        "[[probes]]\nname = \"{name}\"\nkind = \"email\"\ndomain = \"{domain}\"\nsenders = [\"mailchannels\"]\ndkim_selectors = [\"mc\"]\nnameservers = [\"{nameserver}\"]\nconnect_timeout = \"500ms\"\n{extra}\n"
    )
}

#[test]
fn email_dns_records_good_weak_broken_and_unanswered() {
    let dns = crate::dns::dns();
    let ns = dns.addr.as_str();
    let mut probes = String::new();
    // The domain comes from an address held in a variable, as the seeds configure it.
    probes.push_str(&email_probe(
        "good",
        "${MAILCHANNELS_FROM_EMAIL}",
        ns,
        "mailchannels_account = \"${MAILCHANNELS_ACCOUNT_ID}\"\nmx = true",
    ));
    probes.push_str(&email_probe("sub", "mail.good.greenlight.test", ns, ""));
    probes.push_str(&email_probe("weak", "weak.greenlight.test", ns, ""));
    probes.push_str(&email_probe(
        "broken",
        "broken.greenlight.test",
        ns,
        "mailchannels_account = \"acme\"\nmx = true",
    ));
    probes.push_str(&email_probe("toomany", "toomany.greenlight.test", ns, ""));
    probes.push_str(&email_probe("twospf", "twospf.greenlight.test", ns, ""));
    probes.push_str(&email_probe("nothere", "nothere.greenlight.test", ns, ""));
    probes.push_str(&email_probe(
        "silent",
        "good.greenlight.test",
        &dns.blackhole,
        "",
    ));
    let dir = project(
        &probes,
        "MAILCHANNELS_FROM_EMAIL=noreply@good.greenlight.test\nMAILCHANNELS_ACCOUNT_ID=acme\n",
    );
    let started = Instant::now();
    let p = probe(&dir, "production", &[]);
    let took = started.elapsed();

    // Everything in place: every check passes.
    let good = p.checks("good");
    assert!(good.iter().all(|c| c.1 == "pass"), "{good:?}");
    for id in [
        "email.spf",
        "email.spf_senders",
        "email.spf_all",
        "email.spf_lookups",
        "email.dkim",
        "email.dmarc",
        "email.lockdown",
        "email.mx",
    ] {
        assert!(good.iter().any(|c| c.0 == id), "{id}: {good:?}");
    }
    // A subdomain without its own DMARC record inherits the parent's (DMARCbis tree walk).
    let sub = p.checks("sub");
    assert!(sub.iter().all(|c| c.1 == "pass"), "{sub:?}");
    assert!(p
        .stdout
        .contains("DMARC p=reject (from _dmarc.good.greenlight.test)"));

    // Present but not enforcing: warnings under email-auth-weak.
    let weak = p.checks("weak");
    let weak_fails: Vec<(&str, &str, &str)> = weak
        .iter()
        .filter(|c| c.1 == "fail")
        .map(|c| (c.0.as_str(), c.2.as_str(), c.3.as_str()))
        .collect();
    assert_eq!(
        weak_fails,
        [
            ("email.spf_all", "email-auth-weak", "warning"),
            ("email.dmarc", "email-auth-weak", "warning")
        ]
    );

    // Broken: each problem named, critical in production.
    let broken: Vec<(String, String)> = p
        .checks("broken")
        .into_iter()
        .filter(|c| c.1 == "fail")
        .map(|c| (c.0, c.2))
        .collect();
    let expected: Vec<(String, String)> = [
        ("email.spf_senders", "email-auth-missing"),
        ("email.dkim", "email-auth-missing"),
        ("email.dmarc", "email-auth-missing"),
        ("email.lockdown", "email-auth-missing"),
        ("email.mx", "email-mx-missing"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(broken, expected);
    assert_eq!(p.status_of("toomany", "email.spf_lookups"), "fail");
    assert_eq!(p.status_of("twospf", "email.spf"), "fail");
    assert_eq!(p.status_of("nothere", "email.domain"), "fail");
    let messages = p.stdout.clone();
    assert!(
        messages.contains("`cfid=` is no longer honoured"),
        "{messages}"
    );
    assert!(messages.contains("does not include relay.mailchannels.net (MailChannels)"));
    assert!(messages.contains("more than 10 DNS lookups"));

    // A DNS server that never answers: could not tell, never a pass, within the limit.
    let silent = p.checks("silent");
    assert!(silent.iter().all(|c| c.1 == "unknown"), "{silent:?}");
    assert!(messages.contains("within 500ms"), "{messages}");
    assert!(p.rules().contains(&"probe-inconclusive".to_owned()));
    assert!(took < Duration::from_secs(30), "{took:?}");
    assert_eq!(p.code, 1);
}

#[test]
fn email_probe_declarations_are_checked() {
    let dir = project(
        "[[probes]]\nkind = \"email\"\nsenders = [\"mailchanels\"]\nnameservers = [\"dns.example\"]\n\n[[probes]]\nkind = \"http\"\nurl = \"https://x\"\nmx = true\n",
        "",
    );
    let r = run(dir.path(), &["probe", "--env", "production"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    for needle in [
        "an `email` probe needs `domain`",
        "unknown email sender `mailchanels`; did you mean `mailchannels`?",
        "nameserver `dns.example` is not an IP address",
        "`mx` is for an `email` probe, not `http`",
    ] {
        assert!(r.stderr.contains(needle), "{needle}: {}", r.stderr);
    }
}

#[test]
fn a_local_d1_database_is_checked_against_its_migrations_read_only() {
    let dir = project(
        "[[probes]]\nname = \"d1-local\"\nkind = \"sqlite\"\ndatabase = \".wrangler/state/v3/d1\"\nmigrations = { tool = \"d1\" }\n\n\
         [[probes]]\nname = \"d1-schema\"\nkind = \"sqlite\"\ndatabase = \".wrangler/state/v3/d1\"\nmigrations = { tool = \"sql\", path = \"schema.sql\" }\n\n\
         [[probes]]\nname = \"d1-missing\"\nkind = \"sqlite\"\ndatabase = \"nowhere/d1\"\noptional = true\n",
        "",
    );
    let state = dir
        .path()
        .join(".wrangler/state/v3/d1/miniflare-D1DatabaseObject");
    std::fs::create_dir_all(&state).unwrap();
    let db = state.join("0f3c1d.sqlite");
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(
            "CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL);
             INSERT INTO d1_migrations (name) VALUES ('0001_init.sql');
             CREATE TABLE users (id INTEGER PRIMARY KEY);",
        )
        .unwrap();
    }
    let write = |rel: &str, text: &str| {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "migrations/0001_init.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY);",
    );
    write(
        "migrations/0002_enrollments.sql",
        "CREATE TABLE enrollments (id INTEGER);",
    );
    write("schema.sql", "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY);\nCREATE TABLE IF NOT EXISTS enrollments (id INTEGER);\n");
    let before = std::fs::read(&db).unwrap();
    let p = probe(&dir, "production", &[]);
    assert_eq!(p.status_of("d1-local", "sqlite.open"), "pass");
    assert_eq!(p.status_of("d1-local", "sqlite.migrations"), "fail");
    assert_eq!(p.status_of("d1-schema", "sqlite.migrations"), "fail");
    assert_eq!(p.status_of("d1-missing", "sqlite.open"), "unknown");
    assert!(p.stdout.contains("0002_enrollments.sql"), "{}", p.stdout);
    assert!(p.stdout.contains("table enrollments"));
    // Opened read-only: the file is byte for byte what it was.
    assert_eq!(std::fs::read(&db).unwrap(), before);
    assert_eq!(p.code, 1);
}
