//! `greenlight.signoffs.toml`: who confirmed which manual checklist item, and which risks were
//! accepted, when, until when and why. A committed, reviewable file: one `[[signoff]]` or
//! `[[accepted]]` block per entry, kept sorted (item, environment, time), so that two people
//! signing different items produce a clean git merge.
//!
//! Each block carries a `digest` (SHA-256 over its fields) so that a hand edit — a changed name,
//! a pushed-back expiry — is an error, not a silent pass. It is an integrity check against
//! accidents and casual edits, not a signature: whoever can run `greenlight signoff` can write a
//! valid block, and the git history (who committed it) is the audit trail. A sign-off also keeps
//! the digest of the checklist item as it was signed: if the item changes, the sign-off is stale.
//!
//! Edited in place with toml_edit (comments and blocks kept) and written atomically.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table};

use greenlight_core::error::InputError;
use greenlight_core::manifest::{ChecklistItem, Manifest};

pub const FILE_NAME: &str = "greenlight.signoffs.toml";

const HEADER: &str = "\
# Sign-offs of manual checklist items and accepted risks, read by `greenlight golive`.
# Written by `greenlight signoff` and `greenlight golive --allow`; one block per entry, sorted.
# Each block's `digest` covers its fields: edit with the commands, not by hand.
";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signoff {
    pub item: String,
    pub environment: String,
    pub by: String,
    pub at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The checklist item as it was when signed.
    pub item_digest: String,
    #[serde(skip)]
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Accepted {
    pub rule: String,
    /// The variable, or the probe name, the risk is accepted for.
    pub target: String,
    pub environment: String,
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    #[serde(skip)]
    pub line: usize,
}

greenlight_core::redact_fields!(Signoff {
    item,
    environment,
    by,
    note,
    item_digest,
});
greenlight_core::redact_fields!(Accepted {
    rule,
    target,
    environment,
    reason,
    by,
});

#[derive(Debug, Clone, Default)]
pub struct Signoffs {
    pub path: PathBuf,
    pub signoffs: Vec<Signoff>,
    pub accepted: Vec<Accepted>,
    doc: DocumentMut,
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The digest of a checklist item: what a sign-off vouches for.
pub fn item_digest(item: &ChecklistItem) -> String {
    let canonical = serde_json::to_string(item).expect("an item serialises");
    sha256_hex(&canonical)
}

fn block_digest(kind: &str, fields: &[(&str, Option<String>)]) -> String {
    let mut canonical = format!("{kind}\n");
    for (k, v) in fields {
        if let Some(v) = v {
            canonical.push_str(&format!("{k}={v}\n"));
        }
    }
    sha256_hex(&canonical)
}

fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Signoff {
    fn fields(&self) -> Vec<(&'static str, Option<String>)> {
        vec![
            ("item", Some(self.item.clone())),
            ("environment", Some(self.environment.clone())),
            ("by", Some(self.by.clone())),
            ("at", Some(time(&self.at))),
            ("expires", self.expires.as_ref().map(time)),
            ("note", self.note.clone()),
            ("item_digest", Some(self.item_digest.clone())),
        ]
    }
}

impl Accepted {
    fn fields(&self) -> Vec<(&'static str, Option<String>)> {
        vec![
            ("rule", Some(self.rule.clone())),
            ("target", Some(self.target.clone())),
            ("environment", Some(self.environment.clone())),
            ("reason", Some(self.reason.clone())),
            ("by", Some(self.by.clone())),
            ("at", Some(time(&self.at))),
            ("expires", Some(time(&self.expires))),
        ]
    }

    /// Whether this accepted risk covers a finding.
    pub fn covers(&self, f: &greenlight_core::finding::Finding) -> bool {
        f.rule.id() == self.rule
            && (f.variable.as_deref() == Some(self.target.as_str())
                || f.probe.as_deref() == Some(self.target.as_str()))
    }
}

fn table_of(fields: &[(&str, Option<String>)], digest: String) -> Table {
    let mut t = Table::new();
    for (k, v) in fields {
        if let Some(v) = v {
            t.insert(k, toml_edit::value(v.as_str()));
        }
    }
    t.insert("digest", toml_edit::value(digest));
    t
}

impl Signoffs {
    pub fn path_for(manifest: &Manifest) -> PathBuf {
        manifest.root.join(FILE_NAME)
    }

    /// Reads the file beside the manifest; a missing file is an empty one.
    pub fn load(manifest: &Manifest) -> Result<Signoffs, InputError> {
        let path = Signoffs::path_for(manifest);
        let text = match std::fs::read(&path) {
            Ok(bytes) => String::from_utf8(bytes).map_err(|e| InputError::NotUtf8 {
                path: path.clone(),
                offset: e.utf8_error().valid_up_to(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HEADER.to_owned(),
            Err(e) => return Err(InputError::io(&path, e)),
        };
        Signoffs::parse(&path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Signoffs, InputError> {
        let err = |line: usize, message: String| InputError::Source {
            path: path.to_path_buf(),
            line,
            column: 1,
            message,
        };
        let doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
            let line = e
                .span()
                .map_or(0, |s| greenlight_core::manifest::line_col(text, s.start).0);
            err(line, e.message().to_owned())
        })?;
        for (key, _) in doc.iter() {
            if key != "signoff" && key != "accepted" {
                return Err(err(
                    0,
                    format!("unknown table `{key}` (expected [[signoff]] or [[accepted]])"),
                ));
            }
        }
        let mut out = Signoffs {
            path: path.to_path_buf(),
            ..Default::default()
        };
        // The n-th `[[name]]` header line is the n-th block's line (DocumentMut keeps no spans).
        let header_lines = |name: &str| -> Vec<usize> {
            let header = format!("[[{name}]]");
            text.lines()
                .enumerate()
                .filter(|(_, l)| l.trim_start().starts_with(&header))
                .map(|(i, _)| i + 1)
                .collect()
        };
        let tables = |name: &str| -> Result<Vec<(usize, Table)>, InputError> {
            let lines = header_lines(name);
            match doc.get(name) {
                None => Ok(Vec::new()),
                Some(Item::ArrayOfTables(a)) => Ok(a
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (lines.get(i).copied().unwrap_or(0), t.clone()))
                    .collect()),
                Some(_) => Err(err(
                    0,
                    format!("`{name}` must be an array of tables ([[{name}]])"),
                )),
            }
        };
        let get = |t: &Table,
                   line: usize,
                   key: &str,
                   required: bool|
         -> Result<Option<String>, InputError> {
            match t.get(key) {
                None if required => Err(err(line, format!("this block has no `{key}`"))),
                None => Ok(None),
                Some(v) => v
                    .as_str()
                    .map(|s| Some(s.to_owned()))
                    .ok_or_else(|| err(line, format!("`{key}` must be a string"))),
            }
        };
        let date = |line: usize, key: &str, v: String| -> Result<DateTime<Utc>, InputError> {
            DateTime::parse_from_rfc3339(&v)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|_| err(line, format!("`{key} = \"{v}\"` is not an RFC 3339 time")))
        };
        let known = |t: &Table, line: usize, keys: &[&str]| -> Result<(), InputError> {
            for (k, _) in t.iter() {
                if !keys.contains(&k) {
                    return Err(err(line, format!("unknown key `{k}`")));
                }
            }
            Ok(())
        };
        for (line, t) in tables("signoff")? {
            known(
                &t,
                line,
                &[
                    "item",
                    "environment",
                    "by",
                    "at",
                    "expires",
                    "note",
                    "item_digest",
                    "digest",
                ],
            )?;
            let s = Signoff {
                item: get(&t, line, "item", true)?.expect("required"),
                environment: get(&t, line, "environment", true)?.expect("required"),
                by: get(&t, line, "by", true)?.expect("required"),
                at: date(line, "at", get(&t, line, "at", true)?.expect("required"))?,
                expires: get(&t, line, "expires", false)?
                    .map(|v| date(line, "expires", v))
                    .transpose()?,
                note: get(&t, line, "note", false)?,
                item_digest: get(&t, line, "item_digest", true)?.expect("required"),
                line,
            };
            let digest = get(&t, line, "digest", true)?.expect("required");
            if digest != block_digest("signoff", &s.fields()) {
                return Err(err(line, format!(
                    "the sign-off of `{}` by {} was edited by hand (its digest does not match); record it again with `greenlight signoff`",
                    s.item, s.by
                )));
            }
            out.signoffs.push(s);
        }
        for (line, t) in tables("accepted")? {
            known(
                &t,
                line,
                &[
                    "rule",
                    "target",
                    "environment",
                    "reason",
                    "by",
                    "at",
                    "expires",
                    "digest",
                ],
            )?;
            let a = Accepted {
                rule: get(&t, line, "rule", true)?.expect("required"),
                target: get(&t, line, "target", true)?.expect("required"),
                environment: get(&t, line, "environment", true)?.expect("required"),
                reason: get(&t, line, "reason", true)?.expect("required"),
                by: get(&t, line, "by", true)?.expect("required"),
                at: date(line, "at", get(&t, line, "at", true)?.expect("required"))?,
                expires: date(
                    line,
                    "expires",
                    get(&t, line, "expires", true)?.expect("required"),
                )?,
                line,
            };
            let digest = get(&t, line, "digest", true)?.expect("required");
            if digest != block_digest("accepted", &a.fields()) {
                return Err(err(line, format!(
                    "the accepted risk `{}:{}` was edited by hand (its digest does not match); record it again with `greenlight golive --allow`",
                    a.rule, a.target
                )));
            }
            out.accepted.push(a);
        }
        out.doc = doc;
        Ok(out)
    }

    /// Adds a sign-off (replacing an earlier one of the same item, environment and person).
    pub fn add_signoff(&mut self, s: Signoff) {
        self.signoffs
            .retain(|o| !(o.item == s.item && o.environment == s.environment && o.by == s.by));
        self.signoffs.push(s);
        self.signoffs.sort_by(|a, b| {
            (&a.item, &a.environment, a.at, &a.by).cmp(&(&b.item, &b.environment, b.at, &b.by))
        });
    }

    /// Adds an accepted risk (replacing an earlier one of the same rule, target and environment).
    pub fn add_accepted(&mut self, a: Accepted) {
        self.accepted.retain(|o| {
            !(o.rule == a.rule && o.target == a.target && o.environment == a.environment)
        });
        self.accepted.push(a);
        self.accepted.sort_by(|a, b| {
            (&a.rule, &a.target, &a.environment, a.at).cmp(&(
                &b.rule,
                &b.target,
                &b.environment,
                b.at,
            ))
        });
    }

    /// The file's text: its comments kept, the blocks in sorted order.
    pub fn render(&self) -> String {
        let mut doc = self.doc.clone();
        // The file's leading comment: toml_edit keeps it as the document's trailing text when
        // there is no table yet, and as the first table's prefix once there is one.
        let first = ["signoff", "accepted"].iter().find_map(|name| {
            doc.get(name)
                .and_then(Item::as_array_of_tables)
                .and_then(|a| a.iter().next())
                .map(|t| {
                    (
                        t.get("digest").and_then(|d| d.as_str()).map(str::to_owned),
                        t.decor()
                            .prefix()
                            .and_then(|p| p.as_str())
                            .unwrap_or("")
                            .to_owned(),
                    )
                })
        });
        let (header, header_digest) = match first {
            Some((digest, prefix)) => (prefix, digest),
            None => {
                let trailing = doc.trailing().as_str().unwrap_or("").to_owned();
                doc.set_trailing("");
                (trailing, None)
            }
        };
        let header =
            if header.trim().is_empty() && self.signoffs.is_empty() && self.accepted.is_empty() {
                HEADER.to_owned()
            } else if header.trim().is_empty() {
                String::new()
            } else {
                header.trim_end_matches('\n').to_owned() + "\n"
            };
        // Keep each existing block's comments: blocks are matched by their digest.
        let old_decor = |name: &str, digest: &str| -> Option<toml_edit::Decor> {
            if header_digest.as_deref() == Some(digest) {
                return None;
            }
            doc.get(name)
                .and_then(Item::as_array_of_tables)
                .and_then(|a| {
                    a.iter()
                        .find(|t| t.get("digest").and_then(|d| d.as_str()) == Some(digest))
                })
                .map(|t| t.decor().clone())
        };
        let mut signoffs = ArrayOfTables::new();
        for s in &self.signoffs {
            let digest = block_digest("signoff", &s.fields());
            let mut t = table_of(&s.fields(), digest.clone());
            match old_decor("signoff", &digest) {
                Some(d) => *t.decor_mut() = d,
                None => t.decor_mut().set_prefix("\n"),
            }
            signoffs.push(t);
        }
        let mut accepted = ArrayOfTables::new();
        for a in &self.accepted {
            let digest = block_digest("accepted", &a.fields());
            let mut t = table_of(&a.fields(), digest.clone());
            match old_decor("accepted", &digest) {
                Some(d) => *t.decor_mut() = d,
                None => t.decor_mut().set_prefix("\n"),
            }
            accepted.push(t);
        }
        let first_table = if signoffs.is_empty() {
            accepted.get_mut(0)
        } else {
            signoffs.get_mut(0)
        };
        match first_table {
            Some(t) => t.decor_mut().set_prefix(format!("{header}\n")),
            None => doc.set_trailing(header),
        }
        doc.remove("signoff");
        doc.remove("accepted");
        if !signoffs.is_empty() {
            doc.insert("signoff", Item::ArrayOfTables(signoffs));
        }
        if !accepted.is_empty() {
            doc.insert("accepted", Item::ArrayOfTables(accepted));
        }
        doc.to_string()
    }

    pub fn save(&self) -> Result<(), InputError> {
        greenlight_core::fsutil::write_atomic(&self.path, self.render().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, 9, 0, 0).unwrap()
    }

    fn signoff(item: &str, by: &str, day: u32) -> Signoff {
        Signoff {
            item: item.into(),
            environment: "production".into(),
            by: by.into(),
            at: at(day),
            expires: Some(at(day) + chrono::Duration::days(30)),
            note: Some("restored into staging".into()),
            item_digest: "abc".into(),
            line: 0,
        }
    }

    fn accepted() -> Accepted {
        Accepted {
            rule: "security-header-missing".into(),
            target: "web".into(),
            environment: "production".into(),
            reason: "CSP rollout is in report-only until Dec".into(),
            by: "Ana".into(),
            at: at(20),
            expires: at(30),
            line: 0,
        }
    }

    #[test]
    fn a_round_trip_keeps_everything_and_sorts_blocks() {
        let path = Path::new("greenlight.signoffs.toml");
        let mut s = Signoffs::parse(path, HEADER).unwrap();
        s.add_signoff(signoff("restore-tested", "Ben", 21));
        s.add_signoff(signoff("backups", "Ana", 22));
        s.add_accepted(accepted());
        let text = s.render();
        assert!(text.starts_with("# Sign-offs"));
        assert!(text.find("backups").unwrap() < text.find("restore-tested").unwrap());
        let back = Signoffs::parse(path, &text).unwrap();
        let strip = |v: &[Signoff]| {
            v.iter()
                .map(|s| Signoff {
                    line: 0,
                    ..s.clone()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&back.signoffs), strip(&s.signoffs));
        assert_eq!(back.accepted[0].reason, accepted().reason);
        // Rendering what was read changes nothing.
        assert_eq!(back.render(), text);
    }

    #[test]
    fn comments_on_blocks_survive_an_edit() {
        let path = Path::new("x.toml");
        let mut s = Signoffs::parse(path, HEADER).unwrap();
        s.add_signoff(signoff("backups", "Ana", 22));
        s.add_signoff(signoff("dns", "Ana", 22));
        let text = s.render().replace(
            "\n[[signoff]]\nitem = \"dns\"",
            "\n# checked with the DBA on call\n[[signoff]]\nitem = \"dns\"",
        );
        let mut s = Signoffs::parse(path, &text).unwrap();
        s.add_signoff(signoff("alerts", "Ben", 23));
        let text = s.render();
        assert!(text.starts_with("# Sign-offs"), "{text}");
        assert!(
            text.contains("# checked with the DBA on call\n[[signoff]]\nitem = \"dns\""),
            "{text}"
        );
        let order: Vec<usize> = ["\"alerts\"", "\"backups\"", "\"dns\""]
            .iter()
            .map(|i| text.find(i).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "sorted: {text}");
    }

    proptest::proptest! {
        /// Whatever people write in names, notes and reasons (quotes, newlines, `#`, `]]`,
        /// unicode), the file reads back as written.
        #[test]
        fn any_text_in_fields_round_trips(by in "\\PC{1,40}", note in "\\PC{0,80}", reason in "\\PC{1,80}", item in "[a-z0-9._-]{1,20}") {
            let path = Path::new("greenlight.signoffs.toml");
            let mut s = Signoffs::parse(path, HEADER).unwrap();
            let mut so = signoff(&item, &by, 21);
            so.note = Some(note.clone());
            s.add_signoff(so.clone());
            let mut a = accepted();
            a.reason = reason.clone();
            a.by = by.clone();
            s.add_accepted(a.clone());
            let back = Signoffs::parse(path, &s.render()).unwrap();
            proptest::prop_assert_eq!(&back.signoffs[0].by, &by);
            proptest::prop_assert_eq!(back.signoffs[0].note.as_deref(), Some(note.as_str()));
            proptest::prop_assert_eq!(&back.accepted[0].reason, &reason);
        }

        /// Any text is read or refused, never a panic.
        #[test]
        fn arbitrary_files_never_panic(text in "\\PC{0,300}") {
            let _ = Signoffs::parse(Path::new("x.toml"), &text);
        }
    }

    #[test]
    fn hand_edits_and_malformed_files_are_errors() {
        let path = Path::new("greenlight.signoffs.toml");
        let mut s = Signoffs::parse(path, HEADER).unwrap();
        s.add_signoff(signoff("backups", "Ana", 22));
        let text = s.render();
        let tampered = text.replace("2026-12-22", "2027-12-22");
        let e = Signoffs::parse(path, &tampered).unwrap_err().to_string();
        assert!(e.contains("edited by hand"), "{e}");
        assert!(e.contains(":5:"), "the block's line: {e}");
        for bad in [
            "[[signoff]]\nitem = 1\n",
            "[signoff]\nitem = \"x\"\n",
            "[[signoff]]\nitem = \"x\"\n",
            "[[signoff]\n",
            "[other]\n",
        ] {
            assert!(Signoffs::parse(path, bad).is_err(), "{bad}");
        }
    }
}
