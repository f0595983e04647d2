//! The environment spec: one TOML file in, a validated model (or every problem, located) out.
//!
//! Pure: no I/O. The caller reads the file and passes its name and text; see `docs/spec.md` for the
//! format. Flow: TOML → spanned tree → `decode` (types, unknown keys, defaults) → `checks`
//! (cross-field rules) → [`Spec`].

mod checks;
mod decode;
pub mod defaults;
mod diagnostic;
pub mod model;
pub mod prices;
mod reader;
pub mod regions;

pub use checks::bucket_name_problem;
pub use diagnostic::{Diagnostic, DiagnosticCode, SpecErrors, line_col};
pub use model::*;

use toml::de::DeTable;

use reader::Cx;

/// Parses and validates a spec. `file` names it in diagnostics (`environments/dev.toml`).
pub fn parse(file: &str, source: &str) -> Result<Spec, SpecErrors> {
    parse_checked(file, source, None)
}

/// Parses the spec of environment `name` (`-e name`): its `environment.name` must agree, since it
/// names the state and tags every object.
pub fn parse_environment(name: &str, file: &str, source: &str) -> Result<Spec, SpecErrors> {
    parse_checked(file, source, Some(name))
}

fn parse_checked(
    file: &str,
    source: &str,
    expected_name: Option<&str>,
) -> Result<Spec, SpecErrors> {
    let errors = |diagnostics: Vec<Diagnostic>| SpecErrors {
        file: file.to_string(),
        source: source.to_string(),
        diagnostics,
    };
    let (root, syntax_errors) = DeTable::parse_recoverable(source);
    if !syntax_errors.is_empty() {
        let diagnostics = syntax_errors
            .iter()
            .map(|e| {
                let span = e.span().unwrap_or(0..0);
                Diagnostic::new(
                    DiagnosticCode::Syntax,
                    "",
                    span,
                    e.message().trim().to_string(),
                )
                .with_help("fix the TOML syntax; see docs/spec.md for the format")
            })
            .collect();
        return Err(errors(diagnostics));
    }
    let mut cx = Cx::default();
    let spec = decode::decode(root.get_ref(), &mut cx);
    if let Some(expected) = expected_name
        && !spec.environment.name.is_empty()
        && spec.environment.name != expected
    {
        cx.error_at(
                DiagnosticCode::InvalidValue,
                "environment.name",
                format!(
                    "`environment.name` is `{}` but this file is read as environment `{expected}`",
                    spec.environment.name
                ),
                format!(
                    "name the file after the environment (`environments/{}.toml`) or set `name = \"{expected}\"`",
                    spec.environment.name
                ),
            );
    }
    checks::check(&spec, &mut cx);
    if cx.diagnostics.is_empty() {
        Ok(spec)
    } else {
        let mut diagnostics = cx.diagnostics;
        diagnostics.sort_by_key(|d| (d.span.start, d.code));
        diagnostics.dedup();
        Err(errors(diagnostics))
    }
}
