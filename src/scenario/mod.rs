//! Scenario files: the model, loading with positions, and diagnostics.

mod check;
pub mod diagnostic;
pub mod load;
pub mod model;
pub mod yaml;

pub use diagnostic::Diagnostic;
pub use load::{Loader, discover, is_flow_file, suite_roots};
pub use model::*;
