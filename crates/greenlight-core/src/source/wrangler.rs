//! `wrangler.toml`: `[vars]`, `[env.NAME.vars]` (tables or inline tables), and any table under
//! the environment whose name says it holds secrets (`[env.production.secrets]`), which is where
//! teams write values that belong in `wrangler secret put`.

use std::path::Path;

use toml_edit::{Item, TableLike};

use super::{Assignment, Origin, SourceKind};
use crate::error::InputError;
use crate::manifest::{line_col, LineIndex};

pub(super) fn read(
    display: &str,
    file: &Path,
    text: &str,
    selector: Option<&str>,
) -> Result<Vec<Assignment>, InputError> {
    let doc = toml_edit::Document::parse(text).map_err(|e| {
        let (line, column) = e.span().map_or((0, 0), |s| line_col(text, s.start));
        InputError::Source {
            path: file.to_path_buf(),
            line,
            column,
            message: e.message().to_owned(),
        }
    })?;
    let root = doc.as_table();
    let scope: Option<&dyn TableLike> = match selector {
        None => Some(root as &dyn TableLike),
        Some(sel) => {
            let mut item: Option<&Item> = None;
            let mut table: &dyn TableLike = root;
            for part in sel.split('.') {
                item = table.get(part);
                match item.and_then(Item::as_table_like) {
                    Some(t) => table = t,
                    None => {
                        return Err(InputError::Source {
                            path: file.to_path_buf(),
                            line: 0,
                            column: 0,
                            message: format!("no table `{sel}` in this file"),
                        })
                    }
                }
            }
            item.and_then(Item::as_table_like)
        }
    };
    let Some(scope) = scope else {
        return Ok(Vec::new());
    };
    let index = LineIndex::new(text);
    let mut out = Vec::new();
    for (name, item) in scope.iter() {
        let secret_table = matches!(
            name.to_ascii_lowercase().as_str(),
            "secrets" | "secret" | "credentials"
        );
        if name != "vars" && !secret_table {
            continue;
        }
        let Some(table) = item.as_table_like() else {
            continue;
        };
        for (key, value) in table.iter() {
            let Some(v) = value.as_value() else { continue };
            let text_value = match v {
                toml_edit::Value::String(s) => s.value().clone(),
                toml_edit::Value::Integer(i) => i.value().to_string(),
                toml_edit::Value::Float(f) => f.value().to_string(),
                toml_edit::Value::Boolean(b) => b.value().to_string(),
                _ => continue, // arrays and tables are not environment variables
            };
            let span = v.span().or_else(|| value.span()).unwrap_or(0..0);
            let mut origin = Origin::at(
                SourceKind::Wrangler,
                display,
                Some(file),
                &index,
                text,
                span,
            );
            origin.in_secret_table = secret_table;
            out.push(Assignment {
                name: key.to_owned(),
                value: text_value,
                origin,
            });
        }
    }
    Ok(out)
}
