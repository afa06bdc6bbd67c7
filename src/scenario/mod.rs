//! Scenario files: the model, loading with positions, and diagnostics.

pub mod diagnostic;
pub mod load;
pub mod model;
pub mod yaml;

pub use diagnostic::Diagnostic;
pub use load::{Loader, discover, suite_roots};
pub use model::*;
