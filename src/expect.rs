//! Expectations (in progress).
