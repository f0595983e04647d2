//! A report as people read it (text), as scripts read it (JSON), and as code-scanning tools read
//! it (SARIF 2.1.0).

mod json;
mod sarif;
mod text;

pub use json::json;
pub use sarif::sarif;
pub use text::text;
