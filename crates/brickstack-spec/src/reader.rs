//! A reader over TOML's spanned tables that records every problem instead of stopping at the first.
//!
//! Each accessor marks its key as known, reports a wrong type with the value's location, and returns
//! `None` so decoding carries on with the default. `finish` reports the keys nobody asked for, with a
//! did-you-mean from the keys that were.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diagnostic::{Diagnostic, DiagnosticCode};

/// Collected diagnostics plus the location of every key that was read.
#[derive(Debug, Default)]
pub(crate) struct Cx {
    pub diagnostics: Vec<Diagnostic>,
    /// Where each key path's value was written.
    pub spans: BTreeMap<String, Range<usize>>,
    /// Where each key path's key was written, for problems with the key itself.
    pub key_spans: BTreeMap<String, Range<usize>>,
    /// Key paths whose written value was unusable, so a default stands in for it. Rules reading
    /// such a value are skipped: they would only report the default's consequences.
    poisoned: BTreeSet<String>,
}

impl Cx {
    pub fn poison(&mut self, path: &str) {
        self.poisoned.insert(path.to_string());
    }

    /// Whether any of the given key paths, or anything beneath them, was unusable.
    pub fn is_poisoned(&self, paths: &[&str]) -> bool {
        self.poisoned.iter().any(|p| {
            paths.iter().any(|prefix| {
                p == prefix
                    || p.strip_prefix(prefix)
                        .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
            })
        })
    }

    pub fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// The span of a key path, or of its nearest ancestor that was written in the file.
    pub fn locate(&self, path: &str) -> Range<usize> {
        let mut path = path;
        loop {
            if let Some(span) = self.spans.get(path) {
                return span.clone();
            }
            match path.rfind(['.', '[']) {
                Some(i) => path = &path[..i],
                None => return 0..0,
            }
        }
    }

    /// Reports a problem at a key path, located at the key or its nearest written ancestor.
    pub fn error_at(
        &mut self,
        code: DiagnosticCode,
        path: &str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let span = self.locate(path);
        self.report(Diagnostic::new(code, path, span, message).with_help(help));
    }
}

/// Joins a key onto a table path.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// One item of a [`Table::str_or_table_array`]: a string or a table.
pub(crate) enum Item<'a, 'i> {
    Str(String),
    Table(Table<'a, 'i>),
}

/// A table being read: possibly absent, in which case every accessor yields `None` (the default).
pub(crate) struct Table<'a, 'i> {
    pub path: String,
    table: Option<&'a DeTable<'i>>,
    known: Vec<String>,
}

fn type_name(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

impl<'a, 'i> Table<'a, 'i> {
    pub fn root(table: &'a DeTable<'i>) -> Self {
        Table {
            path: String::new(),
            table: Some(table),
            known: Vec::new(),
        }
    }

    /// A table the file does not write, read for its defaults; `path` locates its problems.
    pub fn absent_at(path: String) -> Self {
        Table::absent(path)
    }

    fn absent(path: String) -> Self {
        Table {
            path,
            table: None,
            known: Vec::new(),
        }
    }

    /// Whether the table was written in the file at all.
    pub fn is_present(&self) -> bool {
        self.table.is_some()
    }

    /// Whether a key was written in this table.
    pub fn has(&self, key: &str) -> bool {
        self.table.is_some_and(|t| t.get(key).is_some())
    }

    /// Whether a key was written in this table as a table.
    pub fn has_table(&self, key: &str) -> bool {
        self.table
            .and_then(|t| t.get(key))
            .is_some_and(|v| v.get_ref().is_table())
    }

    fn raw(&mut self, cx: &mut Cx, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
        self.known.push(key.to_string());
        let value = self.table?.get(key)?;
        cx.spans.insert(join(&self.path, key), value.span());
        Some(value)
    }

    fn wrong_type(&self, cx: &mut Cx, key: &str, value: &Spanned<DeValue<'_>>, expected: &str) {
        let path = join(&self.path, key);
        cx.poison(&path);
        cx.report(
            Diagnostic::new(
                DiagnosticCode::WrongType,
                &path,
                value.span(),
                format!(
                    "`{path}` must be {expected}, found {}",
                    type_name(value.get_ref())
                ),
            )
            .with_help(format!("write `{key}` as {expected}")),
        );
    }

    pub fn str(&mut self, cx: &mut Cx, key: &str) -> Option<String> {
        let value = self.raw(cx, key)?;
        match value.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => {
                self.wrong_type(cx, key, value, "a string");
                None
            }
        }
    }

    pub fn bool(&mut self, cx: &mut Cx, key: &str) -> Option<bool> {
        let value = self.raw(cx, key)?;
        match value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(cx, key, value, "a boolean (`true` or `false`)");
                None
            }
        }
    }

    /// An integer within `min..=max`; out-of-range values are reported with the bounds.
    pub fn int(&mut self, cx: &mut Cx, key: &str, min: i64, max: i64) -> Option<i64> {
        let value = self.raw(cx, key)?;
        let parsed = match value.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
            _ => {
                self.wrong_type(cx, key, value, "an integer");
                return None;
            }
        };
        let path = join(&self.path, key);
        match parsed {
            Some(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                cx.poison(&path);
                cx.report(
                    Diagnostic::new(
                        DiagnosticCode::InvalidValue,
                        &path,
                        value.span(),
                        format!("`{path}` must be between {min} and {max}"),
                    )
                    .with_help(format!("pick a value from {min} to {max}")),
                );
                None
            }
        }
    }

    /// A string that must be one of `choices`; a near miss gets a did-you-mean.
    pub fn choice(&mut self, cx: &mut Cx, key: &str, choices: &[&str]) -> Option<String> {
        let value = self.raw(cx, key)?;
        let Some(s) = value.get_ref().as_str() else {
            self.wrong_type(cx, key, value, "a string");
            return None;
        };
        if choices.contains(&s) {
            return Some(s.to_string());
        }
        let path = join(&self.path, key);
        cx.poison(&path);
        let listed = choices
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let help = match did_you_mean(s, choices.iter().copied()) {
            Some(best) => format!("did you mean `{best}`? `{key}` is one of {listed}"),
            None => format!("`{key}` is one of {listed}"),
        };
        cx.report(
            Diagnostic::new(
                DiagnosticCode::InvalidValue,
                &path,
                value.span(),
                format!("`{s}` is not a valid `{path}`"),
            )
            .with_help(help),
        );
        None
    }

    pub fn str_list(&mut self, cx: &mut Cx, key: &str) -> Option<Vec<String>> {
        let value = self.raw(cx, key)?;
        let DeValue::Array(items) = value.get_ref() else {
            self.wrong_type(cx, key, value, "an array of strings");
            return None;
        };
        let path = join(&self.path, key);
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            cx.spans.insert(item_path.clone(), item.span());
            match item.get_ref() {
                DeValue::String(s) => out.push(s.to_string()),
                other => cx.report(
                    Diagnostic::new(
                        DiagnosticCode::WrongType,
                        &item_path,
                        item.span(),
                        format!("`{item_path}` must be a string, found {}", type_name(other)),
                    )
                    .with_help("quote the value"),
                ),
            }
        }
        if out.len() != items.len() {
            cx.poison(&path);
        }
        Some(out)
    }

    /// A table of string values (tags, Spark configuration), in file order.
    pub fn str_map(&mut self, cx: &mut Cx, key: &str) -> Option<Vec<(String, String)>> {
        let value = self.raw(cx, key)?;
        let DeValue::Table(map) = value.get_ref() else {
            self.wrong_type(cx, key, value, "a table of strings");
            return None;
        };
        let path = join(&self.path, key);
        let mut out = Vec::new();
        for (k, v) in sorted_entries(map) {
            let entry_path = join(&path, k.get_ref());
            cx.spans.insert(entry_path.clone(), v.span());
            cx.key_spans.insert(entry_path.clone(), k.span());
            match v.get_ref() {
                DeValue::String(s) => out.push((k.get_ref().to_string(), s.to_string())),
                DeValue::Boolean(b) => out.push((k.get_ref().to_string(), b.to_string())),
                DeValue::Integer(i) => out.push((k.get_ref().to_string(), i.as_str().to_string())),
                other => {
                    cx.poison(&entry_path);
                    cx.report(
                        Diagnostic::new(
                            DiagnosticCode::WrongType,
                            &entry_path,
                            v.span(),
                            format!(
                                "`{entry_path}` must be a string, found {}",
                                type_name(other)
                            ),
                        )
                        .with_help("quote the value"),
                    )
                }
            }
        }
        Some(out)
    }

    /// A sub-table; absent or mistyped yields an absent table so its defaults apply.
    pub fn table(&mut self, cx: &mut Cx, key: &str) -> Table<'a, 'i> {
        let path = join(&self.path, key);
        let Some(value) = self.raw(cx, key) else {
            return Table::absent(path);
        };
        match value.get_ref() {
            DeValue::Table(t) => Table {
                path,
                table: Some(t),
                known: Vec::new(),
            },
            _ => {
                self.wrong_type(cx, key, value, "a table");
                Table::absent(path)
            }
        }
    }

    /// An array of tables (`[[key]]`); `None` when absent.
    pub fn table_array(&mut self, cx: &mut Cx, key: &str) -> Option<Vec<Table<'a, 'i>>> {
        let value = self.raw(cx, key)?;
        let DeValue::Array(items) = value.get_ref() else {
            self.wrong_type(cx, key, value, "an array of tables");
            return None;
        };
        let path = join(&self.path, key);
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            cx.spans.insert(item_path.clone(), item.span());
            match item.get_ref() {
                DeValue::Table(t) => out.push(Table {
                    path: item_path,
                    table: Some(t),
                    known: Vec::new(),
                }),
                other => cx.report(
                    Diagnostic::new(
                        DiagnosticCode::WrongType,
                        &item_path,
                        item.span(),
                        format!("`{item_path}` must be a table, found {}", type_name(other)),
                    )
                    .with_help(format!("write each entry as `[[{path}]]`")),
                ),
            }
        }
        Some(out)
    }

    /// An array whose items are strings or tables (`schemas = ["a", { name = "b" }]`); any other
    /// item is reported and skipped. `None` when absent.
    pub fn str_or_table_array(&mut self, cx: &mut Cx, key: &str) -> Option<Vec<Item<'a, 'i>>> {
        let value = self.raw(cx, key)?;
        let DeValue::Array(items) = value.get_ref() else {
            self.wrong_type(cx, key, value, "an array of strings or tables");
            return None;
        };
        let path = join(&self.path, key);
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            cx.spans.insert(item_path.clone(), item.span());
            match item.get_ref() {
                DeValue::String(s) => out.push(Item::Str(s.to_string())),
                DeValue::Table(t) => out.push(Item::Table(Table {
                    path: item_path,
                    table: Some(t),
                    known: Vec::new(),
                })),
                other => {
                    cx.poison(&path);
                    cx.report(
                        Diagnostic::new(
                            DiagnosticCode::WrongType,
                            &item_path,
                            item.span(),
                            format!(
                                "`{item_path}` must be a string or a table, found {}",
                                type_name(other)
                            ),
                        )
                        .with_help("write a name in quotes, or `{ name = \"...\" }`"),
                    )
                }
            }
        }
        Some(out)
    }

    /// A table of named tables (`[key.NAME]`), in file order; `None` when absent.
    pub fn named_tables(&mut self, cx: &mut Cx, key: &str) -> Option<Vec<(String, Table<'a, 'i>)>> {
        let value = self.raw(cx, key)?;
        let DeValue::Table(map) = value.get_ref() else {
            self.wrong_type(cx, key, value, "a table of named tables");
            return None;
        };
        let path = join(&self.path, key);
        let mut out = Vec::new();
        for (name, v) in sorted_entries(map) {
            let entry_path = join(&path, name.get_ref());
            cx.spans.insert(entry_path.clone(), name.span());
            match v.get_ref() {
                DeValue::Table(t) => out.push((
                    name.get_ref().to_string(),
                    Table {
                        path: entry_path,
                        table: Some(t),
                        known: Vec::new(),
                    },
                )),
                other => cx.report(
                    Diagnostic::new(
                        DiagnosticCode::WrongType,
                        &entry_path,
                        v.span(),
                        format!("`{entry_path}` must be a table, found {}", type_name(other)),
                    )
                    .with_help(format!("write it as `[{entry_path}]`")),
                ),
            }
        }
        Some(out)
    }

    /// Reports every key of this table that no accessor asked for.
    pub fn finish(&mut self, cx: &mut Cx) {
        let Some(table) = self.table.take() else {
            return;
        };
        for (key, _) in sorted_entries(table) {
            let name = key.get_ref().as_ref();
            if self.known.iter().any(|k| k == name) {
                continue;
            }
            let path = join(&self.path, name);
            let where_ = if self.path.is_empty() {
                "at the top level".to_string()
            } else {
                format!("in `[{}]`", self.path)
            };
            let mut known = self.known.clone();
            known.sort_unstable();
            known.dedup();
            let help = match did_you_mean(name, known.iter().map(String::as_str)) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!(
                    "the keys allowed {where_} are {}",
                    known
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            cx.report(
                Diagnostic::new(
                    DiagnosticCode::UnknownKey,
                    &path,
                    key.span(),
                    format!("unknown key `{name}` {where_}"),
                )
                .with_help(help),
            );
        }
    }
}

/// Entries in source order (toml's map is sorted by key; diagnostics read better in file order).
fn sorted_entries<'a, 'i>(
    table: &'a DeTable<'i>,
) -> Vec<(
    &'a Spanned<std::borrow::Cow<'i, str>>,
    &'a Spanned<DeValue<'i>>,
)> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries
}

/// The closest candidate to `word`, if it is close enough to be a likely typo.
pub(crate) fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
