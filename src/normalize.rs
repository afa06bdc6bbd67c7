//! Normaliser (in progress).
