//! cognito-scenarios: a conformance runner for Amazon Cognito user pools.
//!
//! Scenarios are YAML files describing cognito-idp calls and what they must
//! answer. The runner executes them against real AWS, an emulator, or the
//! built-in stub, fills in TOTP codes and SECRET_HASH, checks expectations and
//! snapshots normalised responses.
//!
//! Module map: the folders follow the pipeline, and dependencies point one
//! way, from the top of this list to the bottom (`scripts/check-layers.py`
//! checks it in CI):
//! - [`report`]: console output and exit codes, JUnit, the parity report
//! - [`run`]: running scenarios: the engine (fixtures, steps, captures,
//!   teardown), the suite (concurrency, snapshot checks), normalisation,
//!   snapshots, known deviations and their judgement against a reference
//! - [`targets`]: where scenarios run: the Target type, managed emulators,
//!   real AWS (the existing-pool guard, cleanup), job slots, the wire client
//! - [`scenario`]: the scenario language: model, YAML with positions, loader,
//!   diagnostics, templates, expectations, response paths and the check
//!   catalogue that steps name
//! - [`stub`]: the honest in-process Cognito (a library and an HTTP server)
//! - [`auth`]: TOTP, SECRET_HASH, SRP proofs and device verifiers, JWT decoding
//! - [`api`]: facts of the cognito-idp API model: operation names, which are
//!   unsigned, challenge names
//! - [`clock`]: real and virtual time
//! - [`term`]: terminal output that never panics on a closed pipe, `--quiet`,
//!   the status line of real waits

pub mod api;
pub mod auth;
pub mod clock;
pub mod report;
pub mod run;
pub mod scenario;
pub mod stub;
pub mod targets;
pub mod term;

#[cfg(test)]
mod manifest_tests {
    //! The manifest stays publishable and single-stack.

    fn manifest_file(name: &str) -> String {
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name))
            .unwrap()
    }

    /// crates.io refuses `*` requirements, and a non-locked install could pull
    /// a new major version.
    #[test]
    fn every_dependency_has_a_real_version_requirement() {
        let manifest = manifest_file("Cargo.toml");
        let wildcards: Vec<&str> = manifest.lines().filter(|l| l.contains("\"*\"")).collect();
        assert!(wildcards.is_empty(), "wildcard requirements: {wildcards:?}");
    }

    /// The SDK's legacy `rustls` feature brings hyper 0.14 and rustls 0.21
    /// beside the current stack; it stays off.
    #[test]
    fn one_http_and_tls_stack() {
        let lock = manifest_file("Cargo.lock");
        for legacy in [
            "name = \"hyper\"\nversion = \"0.14",
            "name = \"rustls\"\nversion = \"0.21",
        ] {
            assert!(!lock.contains(legacy), "Cargo.lock has {legacy:?}");
        }
    }
}
