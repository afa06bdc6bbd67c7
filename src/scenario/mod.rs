//! The scenario language: the model, YAML with positions, the loader and its
//! diagnostics, `{{ … }}` templates and their helpers, expectations and
//! matchers, response paths, and the catalogue of checks steps name.

pub mod catalogue;
mod check;
pub mod diagnostic;
pub mod expect;
pub mod load;
pub mod model;
pub mod path;
pub mod template;
pub mod yaml;

pub use diagnostic::Diagnostic;
pub use load::{Loader, discover, is_flow_file, suite_roots};
pub use model::*;
