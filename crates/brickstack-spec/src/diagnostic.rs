//! Located problems in a spec file, and their rendering for people.

use std::fmt;
use std::ops::Range;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};

/// What kind of problem a diagnostic reports; the stable part a test or a script can match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DiagnosticCode {
    /// The file is not valid TOML.
    Syntax,
    /// A key the spec does not define.
    UnknownKey,
    /// A value of the wrong TOML type.
    WrongType,
    /// A required key is absent.
    MissingKey,
    /// A value of the right type that the spec does not accept.
    InvalidValue,
    /// A network layout problem (CIDR syntax, containment, overlap, zones).
    Network,
    /// A name AWS or Databricks would reject (length, characters, uniqueness).
    Naming,
    /// A reference to something the spec does not define.
    UndefinedReference,
    /// A setting the vendors no longer support.
    Unsupported,
}

impl DiagnosticCode {
    /// The code as shown to users, e.g. `spec::unknown-key`.
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosticCode::Syntax => "spec::syntax",
            DiagnosticCode::UnknownKey => "spec::unknown-key",
            DiagnosticCode::WrongType => "spec::wrong-type",
            DiagnosticCode::MissingKey => "spec::missing-key",
            DiagnosticCode::InvalidValue => "spec::invalid-value",
            DiagnosticCode::Network => "spec::network",
            DiagnosticCode::Naming => "spec::naming",
            DiagnosticCode::UndefinedReference => "spec::undefined-reference",
            DiagnosticCode::Unsupported => "spec::unsupported",
        }
    }
}

/// One problem with a spec: what is wrong, at which key and byte span, and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: DiagnosticCode,
    /// The dotted key path, e.g. `network.private_subnets[1].cidr`.
    pub key: String,
    /// Byte range in the source the problem points at.
    pub span: Range<usize>,
    /// What is wrong, in one line.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(
        code: DiagnosticCode,
        key: impl Into<String>,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            key: key.into(),
            span,
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Every problem found in one file, in source order, with the source needed to show them.
#[derive(Debug, Clone)]
pub struct SpecErrors {
    pub file: String,
    pub source: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl SpecErrors {
    /// 1-based line and column of a byte offset in the source.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        line_col(&self.source, offset)
    }

    /// Renders every diagnostic as miette does, without colour, each headed by `file:line:col`.
    pub fn render(&self, color: bool) -> String {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
        let mut out = String::new();
        for d in &self.diagnostics {
            let (line, col) = self.line_col(d.span.start);
            let mut md = MietteDiagnostic::new(d.message.clone())
                .with_code(d.code.as_str())
                .with_label(LabeledSpan::new_primary_with_span(
                    (!d.key.is_empty()).then(|| format!("`{}`", d.key)),
                    d.span.clone(),
                ));
            if let Some(help) = &d.help {
                md = md.with_help(help.clone());
            }
            let report = miette::Report::new(md)
                .with_source_code(NamedSource::new(&self.file, self.source.clone()));
            out.push_str(&format!("{}:{}:{}: {}\n", self.file, line, col, d.message));
            let _ = handler.render_report(&mut out, report.as_ref());
            out.push('\n');
        }
        out.push_str(&format!(
            "{} problem{} in {}\n",
            self.diagnostics.len(),
            if self.diagnostics.len() == 1 { "" } else { "s" },
            self.file
        ));
        out
    }
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

impl std::error::Error for SpecErrors {}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = source[line_start..offset].chars().count() + 1;
    (line, col)
}
