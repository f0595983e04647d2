//! Locations in the spec's source: the spanned TOML tree, walked by dotted key path.
//!
//! The validated [`brickstack_spec::Spec`] carries no spans, so the audit parses the text again
//! (as `brickstack-spec` does, with `toml`'s spanned `DeTable`) to point at keys.

use std::ops::Range;

use brickstack_spec::line_col;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::model::Location;

/// Finds keys and tables of one spec file.
pub struct Locator<'s> {
    file: String,
    source: &'s str,
    root: Option<Spanned<DeTable<'s>>>,
}

impl std::fmt::Debug for Locator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Locator").field("file", &self.file).finish()
    }
}

impl<'s> Locator<'s> {
    /// A locator over `source`; a file that does not parse locates everything at its top (the
    /// caller has refused it already: audits run on specs that validated).
    pub fn new(file: &str, source: &'s str) -> Self {
        Locator {
            file: file.to_string(),
            source,
            root: DeTable::parse(source).ok(),
        }
    }

    /// The key at `path` (segments, unquoted), or the nearest table above it that the file
    /// writes; the top of the file when none. A table written as `[a.b]` is located at its
    /// header, a key at the key.
    pub fn at(&self, path: &[&str]) -> Location {
        let (span, depth) = self.nearest(path);
        let (line, column) = line_col(self.source, span.start);
        Location {
            file: self.file.clone(),
            line,
            column,
            key: path[..depth].join("."),
        }
    }

    /// Whether the file writes `path` itself.
    pub fn has(&self, path: &[&str]) -> bool {
        self.nearest(path).1 == path.len()
    }

    fn nearest(&self, path: &[&str]) -> (Range<usize>, usize) {
        let Some(root) = &self.root else {
            return (0..0, 0);
        };
        let mut table = root.get_ref();
        let mut best = (0..0, 0);
        for (depth, segment) in path.iter().enumerate() {
            let Some((key, value)) = table.get_key_value(*segment) else {
                break;
            };
            best = (span_of(key, value), depth + 1);
            match value.get_ref() {
                DeValue::Table(t) => table = t,
                _ => break,
            }
        }
        best
    }
}

/// Where a key is shown: a table written with its own header at the header, anything else at
/// its key.
fn span_of(key: &Spanned<toml::de::DeString<'_>>, value: &Spanned<DeValue<'_>>) -> Range<usize> {
    let (k, v) = (key.span(), value.span());
    if matches!(value.get_ref(), DeValue::Table(_)) && v.start < k.start {
        v
    } else {
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "[environment]\nname = \"x\"\n\n[databricks.clusters.shared]\nname = \"a\"\n\n[databricks.clusters.shared.spark_conf]\n\"fs.s3a.secret.key\" = \"abc\"\n";

    fn at(path: &[&str]) -> String {
        let l = Locator::new("env.toml", SOURCE).at(path);
        format!("{}:{}:{} {}", l.file, l.line, l.column, l.key)
    }

    #[test]
    fn keys_tables_and_absent_keys_are_located() {
        assert_eq!(
            at(&["environment", "name"]),
            "env.toml:2:1 environment.name"
        );
        assert_eq!(
            at(&["databricks", "clusters", "shared"]),
            "env.toml:4:1 databricks.clusters.shared"
        );
        assert_eq!(
            at(&[
                "databricks",
                "clusters",
                "shared",
                "spark_conf",
                "fs.s3a.secret.key"
            ]),
            "env.toml:8:1 databricks.clusters.shared.spark_conf.fs.s3a.secret.key"
        );
        // Absent: the nearest written table (here `[databricks.clusters.shared]`).
        assert_eq!(
            at(&["databricks", "clusters", "shared", "policy"]),
            "env.toml:4:1 databricks.clusters.shared"
        );
        // `databricks` is only written inside a header: its first mention.
        assert_eq!(at(&["databricks", "workspace"]), "env.toml:4:2 databricks");
        assert_eq!(at(&["unity_catalog"]), "env.toml:1:1 ");
    }
}
