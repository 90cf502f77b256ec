//! `greenlight init`.

use std::path::PathBuf;
use std::process::ExitCode;

use greenlight::error::InputError;

use super::*;

#[derive(clap::Args)]
pub struct Args {
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Where to write the manifest (default: DIR/greenlight.toml; `-` for stdout).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Replace an existing manifest.
    #[arg(long)]
    pub force: bool,
    /// A monorepo: write one greenlight.toml in each app folder below DIR (each folder with
    /// `.env*` files or a wrangler.toml); existing manifests are kept unless --force.
    #[arg(long, conflicts_with = "output")]
    pub all: bool,
}

pub fn run(args: Args) -> Result<ExitCode, InputError> {
    let Args {
        dir,
        output,
        force,
        all,
    } = args;
    let apps = greenlight::lifecycle::init::app_folders(&dir);
    if all {
        return init_apps(&apps, force);
    }
    let text = match greenlight::lifecycle::init::init(&dir) {
        Ok(text) => text,
        // A monorepo's root has no configuration of its own: offer one manifest per app.
        Err(e) if !apps.is_empty() && output.is_none() => {
            let list: Vec<String> = apps.iter().map(|a| format!("  {}", a.display())).collect();
            return Err(InputError::Usage(format!(
                "{e}\nbut these app folders have configuration:\n{}\nrun `greenlight init --all` to write one greenlight.toml in each (then `greenlight check --all`)",
                list.join("\n")
            )));
        }
        Err(e) => return Err(e),
    };
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

/// `init --all`: one manifest per app folder.
fn init_apps(apps: &[PathBuf], force: bool) -> Result<ExitCode, InputError> {
    if apps.is_empty() {
        return Err(InputError::Usage(
            "--all: no folder below has .env* files or a wrangler.toml".into(),
        ));
    }
    for app in apps {
        let path = app.join("greenlight.toml");
        if path.exists() && !force {
            eprintln!(
                "greenlight: kept {} (exists; --force replaces it)",
                path.display()
            );
            continue;
        }
        let text = greenlight::lifecycle::init::init(app)?;
        greenlight::fsutil::write_atomic(&path, text.as_bytes())?;
        eprintln!("greenlight: wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
