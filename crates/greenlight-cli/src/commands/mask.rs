//! `greenlight mask`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use greenlight::error::InputError;
use greenlight::manifest::Manifest;
use greenlight::rules::build_views;
use greenlight::source::{self, LoadOptions};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, short, default_value_os_t = super::default_manifest())]
    pub manifest: PathBuf,
    /// The environment whose secret values are masked (when the manifest exists).
    #[arg(long = "env", short = 'e')]
    pub environment: Option<String>,
}

pub fn run(args: Args) -> Result<ExitCode, InputError> {
    let Args {
        manifest,
        environment,
    } = args;
    mask_command(&manifest, environment.as_deref())
}

pub(crate) fn mask_command(
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
