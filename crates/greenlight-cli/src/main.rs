//! The `greenlight` command: argument parsing, output selection and exit status over the
//! `greenlight` engine crate. Exit status: 0 go, 1 no-go, 2 usage or input error.

// The binary is the one place that prints; the workspace denies printing in the libraries.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use greenlight::catalog::{looks_secret_name, Catalog};
use greenlight::check::{check, CheckOptions};
use greenlight::error::InputError;
use greenlight::finding::Verdict;
use greenlight::manifest::Manifest;
use greenlight::redact::{Redacted, Redactor};
use greenlight::rules::{build_views, Rule, RULES};
use greenlight::source::{self, Environment, LoadOptions};

#[derive(Parser)]
#[command(name = "greenlight", version, about = "The go/no-go gate for putting an application into production", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Human,
    Json,
    Sarif,
    Markdown,
    Html,
    Junit,
    Github,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RotateAction {
    Status,
    Record,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EnvFormat {
    Json,
    Dotenv,
    Shell,
}

#[derive(Subcommand)]
enum Command {
    /// Validate one environment's configuration against the manifest: go or no-go.
    Check {
        /// The manifest.
        #[arg(long, short, default_value = "greenlight.toml")]
        manifest: PathBuf,
        /// The environment to check.
        #[arg(long = "env", short = 'e', default_value = "production")]
        environment: String,
        #[arg(long, short, value_enum, default_value = "human")]
        format: ReportFormat,
        /// Also read the process environment (declared variables only).
        #[arg(long)]
        process_env: bool,
        /// Measure rotation ages against this time (RFC 3339) instead of now.
        #[arg(long, hide = true)]
        now: Option<String>,
    },
    /// Find leaked secrets in files (and with --git in the whole git history).
    Scan(ScanArgs),
    /// Live checks of the deployed environment: databases, caches, health, TLS, headers, webhooks.
    Probe(ProbeArgs),
    /// The go/no-go decision: check + scan + probe + the checklist, as one document.
    Golive(GoliveArgs),
    /// Sign off a manual checklist item (recorded in greenlight.signoffs.toml).
    Signoff {
        /// The checklist item's id.
        item: String,
        /// Who confirms it.
        #[arg(long)]
        by: String,
        #[arg(long)]
        note: Option<String>,
        /// How long the sign-off holds (e.g. 30d) or until when (RFC 3339 or YYYY-MM-DD).
        #[arg(long)]
        expires: Option<String>,
        #[arg(long, short, default_value = "greenlight.toml")]
        manifest: PathBuf,
        #[arg(long = "env", short = 'e', default_value = "production")]
        environment: String,
    },
    /// Check the environment, then run CMD with it (refuses on critical findings).
    Exec {
        #[arg(long, short, default_value = "greenlight.toml")]
        manifest: PathBuf,
        #[arg(long = "env", short = 'e', default_value = "production")]
        environment: String,
        /// Start CMD even when critical findings remain (they are printed).
        #[arg(long)]
        warn_only: bool,
        /// The command and its arguments.
        #[arg(
            required = true,
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "CMD"
        )]
        command: Vec<std::ffi::OsString>,
    },
    /// Generate a strong secret: hex-N, base64-N, jwt, fernet, aes-256, webhook, password.
    Gen {
        kind: String,
        /// Password length (`password`).
        #[arg(long, default_value_t = 24)]
        length: usize,
        /// Passwords without symbols.
        #[arg(long)]
        no_symbols: bool,
        /// Write the secret into FILE as VAR (in place, keeping comments and order) instead of
        /// printing it.
        #[arg(long, requires = "file")]
        set: Option<String>,
        #[arg(long, requires = "set")]
        file: Option<PathBuf>,
    },
    /// Write `.env.example` from the manifest (to stdout, or --output).
    Template {
        #[arg(long, short, default_value = "greenlight.toml")]
        manifest: PathBuf,
        #[arg(long = "env", short = 'e')]
        environment: Option<String>,
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Compare two environments: missing variables, shared secrets, modes, shared hosts.
    Diff {
        a: String,
        b: String,
        #[arg(long, short, default_value = "greenlight.toml")]
        manifest: PathBuf,
        #[arg(long, short, value_enum, default_value = "human")]
        format: ReportFormat,
    },
    /// Filter stdin to stdout, masking the environment's secrets and every detected secret.
    Mask {
        #[arg(long, short, default_value = "greenlight.toml")]
        manifest: PathBuf,
        /// The environment whose secret values are masked (when the manifest exists).
        #[arg(long = "env", short = 'e')]
        environment: Option<String>,
    },
    /// Rotation tracking: `status` (exit 1 when a rotation is overdue) and `record`.
    Rotate {
        #[arg(value_enum)]
        action: RotateAction,
        #[arg(long, short, default_value = "greenlight.toml")]
        manifest: PathBuf,
        #[arg(long = "env", short = 'e', default_value = "production")]
        environment: String,
    },
    /// Write a first greenlight.toml from the .env* and wrangler.toml files of a directory.
    Init {
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Where to write the manifest (default: DIR/greenlight.toml; `-` for stdout).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Replace an existing manifest.
        #[arg(long)]
        force: bool,
    },
    /// Print the resolved environment: what the application will really receive.
    Env {
        /// Files to read instead of a manifest environment (.env, wrangler.toml#env.X, x.json).
        files: Vec<PathBuf>,
        #[arg(long, short, default_value = "greenlight.toml")]
        manifest: PathBuf,
        /// The manifest environment to print (when no FILE is given).
        #[arg(long = "env", short = 'e')]
        environment: Option<String>,
        #[arg(long, short, value_enum, default_value = "dotenv")]
        format: EnvFormat,
        /// Print secrets unmasked.
        #[arg(long)]
        reveal: bool,
        /// A literal parse: no `${VAR}` interpolation.
        #[arg(long)]
        no_expand: bool,
        /// Let the process environment take part, as dotenv-expand does at run time.
        #[arg(long)]
        process_env: bool,
    },
    /// List the rules with their default severity.
    Rules {
        #[arg(long, short, value_enum, default_value = "human")]
        format: ReportFormat,
    },
    /// Show one rule's documentation, with a failing and a passing example.
    Explain {
        /// A rule id, e.g. placeholder-value.
        rule: String,
    },
    /// List the formats of the built-in catalog.
    Formats,
}

#[derive(clap::Args)]
struct ProbeArgs {
    #[arg(long, short, default_value = "greenlight.toml")]
    manifest: PathBuf,
    /// The environment whose probes run (its variables fill `${VAR}` in probe URLs).
    #[arg(long = "env", short = 'e', default_value = "production")]
    environment: String,
    #[arg(long, short, value_enum, default_value = "human")]
    format: ReportFormat,
    /// Run only the probe with this name (repeatable).
    #[arg(long = "only", value_name = "NAME")]
    only: Vec<String>,
    /// Total time limit of each probe that sets none (e.g. 10s).
    #[arg(long, default_value = "10s")]
    timeout: String,
    /// Time limit of each connection attempt, for probes that set none (e.g. 3s).
    #[arg(long, default_value = "3s")]
    connect_timeout: String,
    /// Also read the process environment (declared variables only).
    #[arg(long)]
    process_env: bool,
}

#[derive(clap::Args)]
struct GoliveArgs {
    #[arg(long, short, default_value = "greenlight.toml")]
    manifest: PathBuf,
    #[arg(long = "env", short = 'e', default_value = "production")]
    environment: String,
    #[arg(long, short, value_enum, default_value = "human")]
    format: ReportFormat,
    /// Write the document to FILE (atomically) instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Leave the probes out (an offline review: probe-based checklist items are unknown).
    #[arg(long)]
    no_probe: bool,
    /// Also scan the git history.
    #[arg(long)]
    git: bool,
    /// Accept a risk before deciding: RULE:VARIABLE (or RULE:PROBE); needs --reason and --expires.
    #[arg(long, value_name = "RULE:TARGET", requires_all = ["reason", "expires", "by"])]
    allow: Option<String>,
    #[arg(long)]
    reason: Option<String>,
    /// Until when the accepted risk holds (e.g. 30d, YYYY-MM-DD, RFC 3339).
    #[arg(long)]
    expires: Option<String>,
    /// Who accepts the risk.
    #[arg(long)]
    by: Option<String>,
    /// Decide as of this time (RFC 3339) instead of now.
    #[arg(long, hide = true)]
    now: Option<String>,
    #[arg(long, default_value = "10s")]
    timeout: String,
    #[arg(long, default_value = "3s")]
    connect_timeout: String,
}

/// `30d` from now, `2026-12-31`, or an RFC 3339 time.
fn parse_until(
    value: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, InputError> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc());
    }
    if let Some(secs) = greenlight::catalog::parse_duration(value).filter(|s| *s > 0.0) {
        return Ok(now + chrono::Duration::seconds(secs as i64));
    }
    Err(InputError::Usage(format!(
        "--expires `{value}` is neither a duration (30d) nor a date (2026-12-31)"
    )))
}

fn parse_now(now: Option<&str>) -> Result<chrono::DateTime<chrono::Utc>, InputError> {
    match now {
        None => Ok(chrono::Utc::now()),
        Some(n) => chrono::DateTime::parse_from_rfc3339(n)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|_| InputError::Usage(format!("--now `{n}` is not an RFC 3339 date-time"))),
    }
}

fn golive_command(args: GoliveArgs) -> Result<ExitCode, InputError> {
    let manifest = Manifest::load(&args.manifest)?;
    let now = parse_now(args.now.as_deref())?;
    if let Some(spec) = &args.allow {
        let expires = parse_until(args.expires.as_deref().unwrap_or_default(), now)?;
        greenlight::golive::accept(
            &manifest,
            spec,
            &args.environment,
            args.reason.as_deref().unwrap_or_default(),
            args.by.as_deref().unwrap_or_default(),
            expires,
            now,
        )?;
    }
    let options = greenlight::golive::GoliveOptions {
        environment: args.environment,
        load: LoadOptions::default(),
        probes: !args.no_probe,
        probe: greenlight::probe::ProbeOptions {
            timeout: parse_duration_arg("--timeout", &args.timeout)?,
            connect_timeout: parse_duration_arg("--connect-timeout", &args.connect_timeout)?,
            ..Default::default()
        },
        git: args.git,
        now: Some(now),
    };
    let report = greenlight::golive::golive(&manifest, &options)?;
    let text = render(&report, &manifest.project.name, args.format);
    match &args.output {
        Some(path) => greenlight::fsutil::write_atomic(path, text.as_bytes())?,
        None => emit(&text),
    }
    Ok(exit_code(report.verdict))
}

fn parse_duration_arg(flag: &str, value: &str) -> Result<std::time::Duration, InputError> {
    greenlight::catalog::parse_duration(value)
        .filter(|d| *d > 0.0)
        .map(std::time::Duration::from_secs_f64)
        .ok_or_else(|| {
            InputError::Usage(format!(
                "{flag} `{value}` is not a duration such as 5s or 500ms"
            ))
        })
}

fn probe_command(args: ProbeArgs) -> Result<ExitCode, InputError> {
    let manifest = Manifest::load(&args.manifest)?;
    let options = greenlight::probe::ProbeOptions {
        environment: args.environment,
        load: LoadOptions {
            process_env: args.process_env,
            no_expand: false,
        },
        only: args.only,
        timeout: parse_duration_arg("--timeout", &args.timeout)?,
        connect_timeout: parse_duration_arg("--connect-timeout", &args.connect_timeout)?,
        now: None,
    };
    let probed = greenlight::probe::probe(&manifest, &options)?;
    let report = probed.redactor.seal(probed.report);
    emit(&render(&report, &manifest.project.name, args.format));
    Ok(exit_code(report.verdict))
}

/// 0 for go, 1 for no-go (2, for bad input, comes from the error path).
fn exit_code(verdict: Verdict) -> ExitCode {
    match verdict {
        Verdict::Go => ExitCode::SUCCESS,
        Verdict::NoGo => ExitCode::from(1),
    }
}

/// One sealed report in the chosen format: every command that produces findings goes through
/// here.
fn render(
    report: &Redacted<greenlight::finding::Report>,
    project: &str,
    format: ReportFormat,
) -> String {
    use greenlight::report::Format;
    let format = match format {
        ReportFormat::Human => Format::Human {
            color: color_stdout(),
        },
        ReportFormat::Json => Format::Json,
        ReportFormat::Sarif => Format::Sarif,
        ReportFormat::Markdown => Format::Markdown,
        ReportFormat::Html => Format::Html,
        ReportFormat::Junit => Format::Junit,
        ReportFormat::Github => Format::Github,
    };
    greenlight::report::render(report, project, format)
}

/// Writes to stdout; a closed pipe (`greenlight … | head`) ends the program quietly.
fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
    }
}

fn color_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn main() -> ExitCode {
    // A panic message may carry data; never print it. Say where, and how to report it.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("greenlight: internal error{at}; please report it (no details are printed, as they may contain secrets)");
    }));
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            // Errors name files, lines and keys, never values; the redactor makes sure.
            eprintln!(
                "greenlight: {}",
                Redactor::detectors_only().redact(&e.to_string())
            );
            ExitCode::from(2)
        }
    }
}

/// Whether a variable's value is a secret: `(name, value) -> bool`.
type SecretTest = Box<dyn Fn(&str, &str) -> bool>;

fn run(command: Command) -> Result<ExitCode, InputError> {
    match command {
        Command::Check {
            manifest,
            environment,
            format,
            process_env,
            now,
        } => {
            let manifest = Manifest::load(&manifest)?;
            let now = now
                .map(|n| {
                    n.parse().map_err(|_| {
                        InputError::Usage(format!("--now `{n}` is not an RFC 3339 date-time"))
                    })
                })
                .transpose()?;
            let options = CheckOptions {
                environment,
                load: LoadOptions {
                    process_env,
                    no_expand: false,
                },
                now,
            };
            let report = check(&manifest, &options)?.sealed();
            let text = render(&report, &manifest.project.name, format);
            emit(&text);
            Ok(exit_code(report.verdict))
        }
        Command::Scan(args) => scan_command(args),
        Command::Probe(args) => probe_command(args),
        Command::Golive(args) => golive_command(args),
        Command::Signoff {
            item,
            by,
            note,
            expires,
            manifest,
            environment,
        } => {
            let manifest = Manifest::load(&manifest)?;
            let now = parse_now(std::env::var("GREENLIGHT_NOW").ok().as_deref())?;
            let expires = expires.map(|e| parse_until(&e, now)).transpose()?;
            let s =
                greenlight::golive::sign(&manifest, &item, &environment, &by, note, expires, now)?;
            emit(&format!(
                "signed off `{}` for {} as {}{}; recorded in {}\n",
                s.item,
                s.environment,
                s.by,
                s.expires
                    .map(|e| format!(" until {}", e.format("%Y-%m-%d")))
                    .unwrap_or_default(),
                greenlight::golive::signoffs::FILE_NAME
            ));
            Ok(ExitCode::SUCCESS)
        }
        Command::Exec {
            manifest,
            environment,
            warn_only,
            command,
        } => exec_command(&manifest, &environment, warn_only, &command),
        Command::Gen {
            kind,
            length,
            no_symbols,
            set,
            file,
        } => {
            let policy = greenlight::lifecycle::gen::PasswordPolicy {
                length,
                symbols: !no_symbols,
            };
            let secret = greenlight::lifecycle::gen::generate(&kind, policy)?;
            match (set, file) {
                (Some(var), Some(file)) => {
                    greenlight::lifecycle::edit::set_in_file(&file, &var, &secret)?;
                    eprintln!("greenlight: set {var} in {} (a new {kind})", file.display());
                }
                _ => emit(&format!("{secret}\n")),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Template {
            manifest,
            environment,
            output,
        } => {
            let manifest = Manifest::load(&manifest)?;
            if let Some(e) = &environment {
                if !manifest.environments.contains_key(e) {
                    return Err(InputError::Usage(format!("unknown environment `{e}`")));
                }
            }
            let text = greenlight::lifecycle::template::render(&manifest, environment.as_deref());
            match output {
                Some(path) => greenlight::fsutil::write_atomic(&path, text.as_bytes())?,
                None => emit(&text),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff {
            a,
            b,
            manifest,
            format,
        } => {
            let manifest = Manifest::load(&manifest)?;
            let report = greenlight::lifecycle::diff::diff(&manifest, &a, &b)?;
            let problems = report
                .findings
                .iter()
                .any(|f| f.severity != greenlight::finding::Severity::Recommendation);
            let text = render(&report, &manifest.project.name, format);
            emit(&text);
            Ok(if problems {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Mask {
            manifest,
            environment,
        } => mask_command(&manifest, environment.as_deref()),
        Command::Rotate {
            action,
            manifest,
            environment,
        } => rotate_command(action, &manifest, &environment),
        Command::Init { dir, output, force } => {
            let text = greenlight::lifecycle::init::init(&dir)?;
            match output.as_deref() {
                Some(p) if p == std::path::Path::new("-") => emit(&text),
                other => {
                    let path = other
                        .map(PathBuf::from)
                        .unwrap_or_else(|| dir.join("greenlight.toml"));
                    if path.exists() && !force {
                        return Err(InputError::Usage(format!(
                            "{} exists; use --force to replace it or --output - to print",
                            path.display()
                        )));
                    }
                    greenlight::fsutil::write_atomic(&path, text.as_bytes())?;
                    eprintln!("greenlight: wrote {}", path.display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Env {
            files,
            manifest,
            environment,
            format,
            reveal,
            no_expand,
            process_env,
        } => {
            let (env, secret): (Environment, SecretTest) = if files.is_empty() {
                let manifest = Manifest::load(&manifest)?;
                let environment = environment.unwrap_or_else(|| "production".into());
                let env = source::load_environment(
                    &manifest,
                    &environment,
                    &LoadOptions {
                        process_env,
                        no_expand,
                    },
                )?;
                let secrets: Vec<String> = build_views(&manifest, &environment, &env)
                    .into_iter()
                    .filter(|v| v.declared_secret)
                    .map(|v| v.name.to_owned())
                    .collect();
                // Values the detectors find in the sources as written (by the name beside them).
                let found: std::collections::HashSet<String> =
                    greenlight::check::secret_values(&manifest, &environment, &env)
                        .into_iter()
                        .collect();
                (
                    env,
                    Box::new(move |name: &str, value: &str| {
                        secrets.iter().any(|s| s == name) || found.contains(value)
                    }),
                )
            } else {
                if environment.is_some() {
                    return Err(InputError::Usage(
                        "give either --env or FILEs, not both".into(),
                    ));
                }
                let process: Option<HashMap<String, String>> = process_env.then(|| {
                    std::env::vars_os()
                        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                        .collect()
                });
                let env = source::load_paths(&files, process.as_ref(), no_expand)?;
                let catalog = Catalog::builtin();
                let found: std::collections::HashSet<String> = env
                    .sources
                    .iter()
                    .filter_map(|s| s.text.as_deref())
                    .flat_map(|text| {
                        greenlight::scan::Detectors::builtin()
                            .scan(text.as_bytes(), greenlight::scan::Generic::On)
                            .into_iter()
                            .filter_map(|hit| text.get(hit.secret).map(str::to_owned))
                    })
                    .collect();
                (
                    env,
                    Box::new(move |name: &str, value: &str| {
                        looks_secret_name(name)
                            || found.contains(value)
                            || catalog
                                .recognise(value)
                                .is_some_and(|f| f.secret && !f.client_safe)
                    }),
                )
            };
            for issue in &env.issues {
                eprintln!(
                    "warning: {}:{}:{}: {}",
                    issue.origin.path,
                    issue.origin.line,
                    issue.origin.column,
                    Redactor::detectors_only().redact(&issue.message)
                );
            }
            // Masked by declaration, and by value: a secret pasted into a public or undeclared
            // variable is masked too, and said so (on stderr, so stdout stays parseable).
            let mut masked_by_value: Vec<String> = Vec::new();
            let pairs: Vec<(String, String)> = env
                .resolved()
                .map(|a| {
                    let declared = secret(&a.name, &a.value);
                    let shown = if reveal {
                        a.value.clone()
                    } else {
                        if !declared {
                            if let Some(kind) = greenlight::redact::held_secret(&a.value) {
                                masked_by_value.push(format!("{} (holds a {kind})", a.name));
                            }
                        }
                        greenlight::redact::Shown::of(&a.value, declared)
                            .as_str()
                            .to_owned()
                    };
                    (a.name.clone(), shown)
                })
                .collect();
            emit(&render_env(&pairs, format));
            if !masked_by_value.is_empty() {
                eprintln!(
                    "greenlight: masked for what they hold, though not declared secret: {}",
                    masked_by_value.join(", ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules { format } => {
            // Check rules, then probe rules: (command, id, severity, summary).
            let all: Vec<(&str, &str, &str, &str)> = RULES
                .iter()
                .map(|r| ("check", r.rule.id(), r.severity.as_str(), r.summary))
                .chain(
                    greenlight::probe::PROBE_RULES
                        .iter()
                        .map(|r| ("probe", r.rule.id(), r.severity.as_str(), r.summary)),
                )
                .collect();
            let text = match format {
                ReportFormat::Human
                | ReportFormat::Markdown
                | ReportFormat::Html
                | ReportFormat::Junit
                | ReportFormat::Github => {
                    let width = all.iter().map(|r| r.1.len()).max().unwrap_or(0);
                    all.iter()
                        .map(|(command, id, severity, summary)| {
                            format!("{id:width$}  {command:5}  {severity:14}  {summary}\n")
                        })
                        .collect::<String>()
                }
                ReportFormat::Json | ReportFormat::Sarif => {
                    let list: Vec<_> = all
                        .iter()
                        .map(|(command, id, severity, summary)| serde_json::json!({"id": id, "command": command, "severity": severity, "summary": summary}))
                        .collect();
                    serde_json::to_string_pretty(&list).expect("json") + "\n"
                }
            };
            emit(&text);
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { rule } => {
            if let Ok(r) = rule.parse::<greenlight::probe::ProbeRule>() {
                emit(r.info().doc);
                return Ok(ExitCode::SUCCESS);
            }
            if let Some(d) = greenlight::scan::Detectors::builtin().get(&rule) {
                emit(&d.doc());
                return Ok(ExitCode::SUCCESS);
            }
            let Ok(r) = rule.parse::<Rule>() else {
                let ids: Vec<&str> = RULES
                    .iter()
                    .map(|r| r.rule.id())
                    .chain(greenlight::probe::PROBE_RULES.iter().map(|r| r.rule.id()))
                    .chain(
                        greenlight::scan::Detectors::builtin()
                            .list()
                            .iter()
                            .map(|d| d.id),
                    )
                    .collect();
                let hint = greenlight::did_you_mean(&rule, ids)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(InputError::Usage(format!(
                    "unknown rule `{rule}`{hint}; `greenlight rules` lists them"
                )));
            };
            emit(r.info().doc);
            Ok(ExitCode::SUCCESS)
        }
        Command::Formats => {
            let catalog = Catalog::builtin();
            let width = catalog
                .formats()
                .iter()
                .map(|f| f.id.len())
                .max()
                .unwrap_or(0);
            let text: String = catalog
                .formats()
                .iter()
                .map(|f| {
                    let tag = if f.secret && !f.client_safe {
                        "secret"
                    } else if f.client_safe {
                        "public"
                    } else {
                        ""
                    };
                    format!("{:width$}  {:6}  {}\n", f.id, tag, f.title)
                })
                .collect();
            emit(&text);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn render_env(pairs: &[(String, String)], format: EnvFormat) -> String {
    match format {
        EnvFormat::Json => {
            let map: serde_json::Map<String, serde_json::Value> = pairs
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            serde_json::to_string(&map).expect("json") + "\n"
        }
        EnvFormat::Dotenv => pairs
            .iter()
            .map(|(k, v)| format!("{k}={}\n", dotenv_quote(v)))
            .collect(),
        EnvFormat::Shell => pairs
            .iter()
            .map(|(k, v)| format!("export {k}='{}'\n", v.replace('\'', "'\\''")))
            .collect(),
    }
}

/// Quotes a value so that node's dotenv reads it back unchanged where its dialect allows.
fn dotenv_quote(v: &str) -> String {
    let plain = !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:@,+=%~*…".contains(c));
    if plain || v.is_empty() {
        v.to_owned()
    } else if !v.contains('\'') && !v.contains('\n') {
        format!("'{v}'")
    } else {
        format!("\"{}\"", v.replace('\n', "\\n").replace('\r', "\\r"))
    }
}

/// The arguments of `greenlight scan`.
#[derive(clap::Args)]
struct ScanArgs {
    /// Files or directories to scan.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Also scan every blob reachable from any ref of the repository at the first PATH.
    #[arg(long)]
    git: bool,
    /// Only the history, not the working tree (with --git).
    #[arg(long, requires = "git")]
    history_only: bool,
    /// Scan files that .gitignore (and .ignore) exclude.
    #[arg(long)]
    no_ignore: bool,
    /// Skip files larger than this many bytes (reported in the summary).
    #[arg(long)]
    max_file_size: Option<u64>,
    /// Report only findings that are not in this baseline file.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Write the current findings as a baseline and exit 0.
    #[arg(long)]
    write_baseline: Option<PathBuf>,
    /// The manifest whose `[scan]` table excludes paths and rules (used when it exists).
    #[arg(long, short, default_value = "greenlight.toml")]
    manifest: PathBuf,
    #[arg(long, short, value_enum, default_value = "human")]
    format: ReportFormat,
}

fn scan_command(args: ScanArgs) -> Result<ExitCode, InputError> {
    use greenlight::scan::{baseline::Baseline, scan, ScanOptions, DEFAULT_MAX_FILE_SIZE};
    for p in &args.paths {
        if !p.exists() {
            return Err(InputError::Usage(format!(
                "{}: no such file or directory",
                p.display()
            )));
        }
    }
    let config = if args.manifest.exists() {
        Some(Manifest::load(&args.manifest)?.scan)
    } else {
        None
    };
    let config = config.unwrap_or_default();
    let baseline = args.baseline.as_deref().map(Baseline::load).transpose()?;
    let options = ScanOptions {
        paths: args.paths,
        no_ignore: args.no_ignore,
        max_file_size: args
            .max_file_size
            .or(config.max_file_size)
            .unwrap_or(DEFAULT_MAX_FILE_SIZE),
        git: args.git,
        history_only: args.history_only,
        exclude_paths: config.exclude_paths,
        exclude_rules: config.exclude_rules,
    };
    // A progress bar only when a person is watching stderr.
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} scanning… {msg}").expect("template"),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    });
    let scanned = std::sync::atomic::AtomicU64::new(0);
    let progress = |n: u64| {
        let total = scanned.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
        if let Some(bar) = &bar {
            bar.set_message(format!("{:.1} MiB", total as f64 / 1048576.0));
        }
    };
    let mut result = scan(&options, &progress);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if let Some(path) = &args.write_baseline {
        Baseline::from_findings(&result.findings).save(path)?;
        eprintln!(
            "greenlight: wrote {} finding(s) to the baseline {}",
            result.findings.len(),
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(b) = &baseline {
        result.findings.retain(|f| !b.contains(f));
    }
    let remaining = result.findings.len();
    let mut report = greenlight::finding::Report::new("scan", None, result.findings);
    report.scan = Some(result.summary);
    // Scan findings carry masked values; the detectors look over every other string.
    let report = Redactor::detectors_only().seal(report);
    let mut text = render(&report, "files", args.format);
    if args.format == ReportFormat::Human {
        // What was read and what was not: never silent.
        let s = report.scan.as_ref().expect("set above");
        let history = if args.git {
            format!(", {} commits, {} unique blobs", s.commits, s.blobs_scanned)
        } else {
            String::new()
        };
        text.push_str(&format!(
            "scanned {} files ({:.1} MiB){history}\n",
            s.files_scanned,
            s.bytes_scanned as f64 / 1048576.0
        ));
        if !s.skipped.is_empty() {
            text.push_str(&format!("skipped {}:\n", s.skipped.len()));
            for k in &s.skipped {
                text.push_str(&format!("  {}: {}\n", k.path, k.reason));
            }
        }
    }
    emit(&text);
    Ok(if remaining > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn exec_command(
    manifest: &std::path::Path,
    environment: &str,
    warn_only: bool,
    command: &[std::ffi::OsString],
) -> Result<ExitCode, InputError> {
    use std::os::unix::process::CommandExt;
    let manifest = Manifest::load(manifest)?;
    let options = CheckOptions {
        environment: environment.to_owned(),
        ..Default::default()
    };
    let checked = check(&manifest, &options)?;
    let env = checked.env.clone();
    let report = checked.sealed();
    if report.verdict == Verdict::NoGo {
        eprint!(
            "{}",
            greenlight::report::render(
                &report,
                &manifest.project.name,
                greenlight::report::Format::Human {
                    color: std::io::stderr().is_terminal()
                }
            )
        );
        if !warn_only {
            eprintln!(
                "greenlight: not starting {}: critical findings (use --warn-only to start anyway)",
                command[0].to_string_lossy()
            );
            return Ok(ExitCode::from(1));
        }
    }
    let mut child = std::process::Command::new(&command[0]);
    child.args(&command[1..]);
    for a in env.resolved() {
        child.env(&a.name, &a.value);
    }
    // exec(2): the command replaces greenlight, so signals reach it directly and its exit status is
    // the exit status.
    let err = child.exec();
    eprintln!(
        "greenlight: cannot run {}: {err}",
        command[0].to_string_lossy()
    );
    Ok(ExitCode::from(
        if err.kind() == std::io::ErrorKind::NotFound {
            127
        } else {
            126
        },
    ))
}

fn mask_command(
    manifest: &std::path::Path,
    environment: Option<&str>,
) -> Result<ExitCode, InputError> {
    use std::io::Read;
    let mut secrets = Vec::new();
    if manifest.exists() {
        let m = Manifest::load(manifest)?;
        let envs: Vec<String> = match environment {
            Some(e) => vec![e.to_owned()],
            None => m
                .environments
                .keys()
                .filter(|e| source::sources_exist(&m, e))
                .cloned()
                .collect(),
        };
        for e in envs {
            let env = source::load_environment(&m, &e, &LoadOptions::default())?;
            secrets.extend(
                build_views(&m, &e, &env)
                    .into_iter()
                    .filter(|v| v.secret && v.has_real_value())
                    .filter_map(|v| v.value().map(str::to_owned)),
            );
        }
    } else if let Some(e) = environment {
        return Err(InputError::Usage(format!(
            "--env {e} needs a manifest; {} does not exist",
            manifest.display()
        )));
    }
    let masker = greenlight::lifecycle::masker::Masker::for_stream(&secrets);
    let mut input = std::io::stdin().lock();
    let mut out = std::io::stdout().lock();
    let mut buf = vec![0u8; 256 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    let mut masked: Vec<u8> = Vec::with_capacity(buf.len());
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(InputError::Usage(format!("reading stdin: {e}"))),
        };
        pending.extend_from_slice(&buf[..n]);
        // Mask whole lines as soon as they arrive; keep the unfinished one for the next read.
        let Some(last_nl) = pending.iter().rposition(|&b| b == b'\n') else {
            continue;
        };
        masked.clear();
        masker.mask(&pending[..=last_nl], &mut masked);
        pending.drain(..=last_nl);
        if out.write_all(&masked).and_then(|_| out.flush()).is_err() {
            return Ok(ExitCode::SUCCESS); // the reader went away
        }
    }
    if !pending.is_empty() {
        masked.clear();
        masker.mask(&pending, &mut masked);
        let _ = out.write_all(&masked).and_then(|_| out.flush());
    }
    Ok(ExitCode::SUCCESS)
}

fn rotate_command(
    action: RotateAction,
    manifest_path: &std::path::Path,
    environment: &str,
) -> Result<ExitCode, InputError> {
    use greenlight::lifecycle::ledger::{self, Ledger};
    let manifest = Manifest::load(manifest_path)?;
    let env = source::load_environment(&manifest, environment, &LoadOptions::default())?;
    let views = build_views(&manifest, environment, &env);
    let ledger_path = Ledger::path_beside(manifest_path);
    let mut book = Ledger::load(&ledger_path)?;
    let now = chrono_now();
    let tracked: Vec<_> = views
        .iter()
        .filter(|v| v.spec.as_ref().is_some_and(|s| s.rotate_every.is_some()) && v.has_real_value())
        .collect();
    match action {
        RotateAction::Record => {
            let key = ledger::key(true)?.expect("created");
            let mut new = 0;
            for v in &tracked {
                let fp =
                    ledger::fingerprint(&key, environment, v.name, v.value().unwrap_or_default());
                if book.record(environment, v.name, fp, now) {
                    new += 1;
                }
            }
            book.save(&ledger_path)?;
            eprintln!(
                "greenlight: {new} new value(s) recorded in {} ({} tracked)",
                ledger_path.display(),
                tracked.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        RotateAction::Status => {
            let key = ledger::key(false)?;
            let mut overdue = 0;
            let mut text = String::new();
            for v in &tracked {
                let spec = v.spec.as_ref().expect("tracked");
                let period = spec.rotate_every.as_ref().expect("tracked");
                let seconds = greenlight::catalog::parse_duration(period.get_ref()).unwrap_or(0.0);
                let first_seen = |variable: &str, value: &str| {
                    let k = key.as_ref()?;
                    book.first_seen(
                        environment,
                        variable,
                        &ledger::fingerprint(k, environment, variable, value),
                    )
                };
                let since = match ledger::last_rotation(spec, &env, v.name, &first_seen) {
                    ledger::LastRotation::Recorded { at, .. }
                    | ledger::LastRotation::Ledger(at) => Some(at),
                    ledger::LastRotation::Unreadable { .. } | ledger::LastRotation::Unknown => None,
                };
                let line = match since {
                    Some(t) => {
                        let age = now.signed_duration_since(t);
                        let late = age.num_seconds() as f64 > seconds;
                        overdue += usize::from(late);
                        format!("{:<32} every {:<6} last {}  {} days  {}", v.name, period.get_ref(), t.format("%Y-%m-%d"), age.num_days(), if late { "OVERDUE" } else { "ok" })
                    }
                    None => format!("{:<32} every {:<6} unknown (set `rotated_at` or run `greenlight rotate record`)", v.name, period.get_ref()),
                };
                text.push_str(&line);
                text.push('\n');
            }
            text.push_str(&format!("{} tracked, {overdue} overdue\n", tracked.len()));
            emit(&text);
            Ok(if overdue > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}

fn chrono_now() -> greenlight::lifecycle::ledger::Now {
    greenlight::lifecycle::ledger::now()
}
