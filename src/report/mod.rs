//! What a run tells its users: console lines and exit codes, JUnit XML for
//! CI systems, and the parity report (Markdown, JSON, HTML).

pub mod console;
pub mod junit;
pub mod parity;
