//! File writes that never leave a half-written file: write a temporary file in the same
//! directory, flush it, then rename it over the target.

use std::io::Write;
use std::path::Path;

use crate::error::InputError;

pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), InputError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("greenlight");
    let tmp = dir.join(format!(".{name}.greenlight-tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| InputError::io(path, e))
}
