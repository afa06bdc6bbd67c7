//! Real AWS: the existing-pool guard (runs change only pools they created)
//! and cleanup of pools that runs left behind.

pub mod cleanup;
pub mod guard;
