//! Scenario files: the model, loading with positions, and diagnostics.

pub mod diagnostic;
pub mod yaml;

pub use diagnostic::Diagnostic;
