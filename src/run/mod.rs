//! Running scenarios: one scenario's steps (engine) and their results
//! (outcome), a suite on one target (suite), the normalised transcript (normalize) and its snapshot, the
//! target's known deviations (deviations), and a run compared path by path
//! with the reference and judged against them (diff, compare), and each
//! catalogued check's verdict per target (check_grid).

pub mod check_grid;
pub mod compare;
pub mod deviations;
pub mod diff;
pub mod engine;
pub mod normalize;
pub mod outcome;
pub mod snapshot;
pub mod suite;
