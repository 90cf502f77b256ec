//! JSON (and JSONC) objects of settings: `config.json` or `config.json#/path/to/object`.
//! Scalar properties are variables; nested objects and arrays are not.

use std::path::Path;

use jsonc_parser::ast::{ObjectPropName, Value};
use jsonc_parser::common::Ranged;

use super::{Assignment, Origin, SourceKind};
use crate::error::InputError;
use crate::manifest::{line_col, LineIndex};

pub(super) fn read(
    display: &str,
    file: &Path,
    text: &str,
    selector: Option<&str>,
) -> Result<Vec<Assignment>, InputError> {
    let err = |offset: usize, message: String| {
        let (line, column) = line_col(text, offset);
        InputError::Source {
            path: file.to_path_buf(),
            line,
            column,
            message,
        }
    };
    let parsed = jsonc_parser::parse_to_ast(text, &Default::default(), &Default::default())
        .map_err(|e| err(e.range().start, e.kind().to_string()))?;
    let mut value = parsed
        .value
        .ok_or_else(|| err(0, "the file holds no JSON value".into()))?;
    if let Some(pointer) = selector {
        for part in pointer.split('/').filter(|p| !p.is_empty()) {
            let Value::Object(obj) = value else {
                return Err(err(0, format!("`{pointer}` does not lead to an object")));
            };
            let found = obj
                .properties
                .into_iter()
                .find(|p| prop_name(&p.name) == part);
            value = found
                .ok_or_else(|| err(0, format!("no property `{part}` on the path `{pointer}`")))?
                .value;
        }
    }
    let Value::Object(obj) = value else {
        return Err(err(0, "expected a JSON object of settings".into()));
    };
    let index = LineIndex::new(text);
    let mut out = Vec::new();
    for prop in obj.properties {
        let name = prop_name(&prop.name);
        let v = match &prop.value {
            Value::StringLit(s) => s.value.to_string(),
            Value::NumberLit(n) => n.value.to_owned(),
            Value::BooleanLit(b) => b.value.to_string(),
            _ => continue,
        };
        let r = prop.value.range();
        out.push(Assignment {
            name,
            value: v,
            origin: Origin::at(
                SourceKind::Json,
                display,
                Some(file),
                &index,
                text,
                r.start..r.end,
            ),
        });
    }
    Ok(out)
}

fn prop_name(name: &ObjectPropName<'_>) -> String {
    match name {
        ObjectPropName::String(s) => s.value.to_string(),
        ObjectPropName::Word(w) => w.value.to_owned(),
    }
}
