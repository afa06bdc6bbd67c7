//! cognito-scenarios: a conformance runner for Amazon Cognito user pools.
//!
//! Scenarios are YAML files describing cognito-idp calls and what they must
//! answer. The runner executes them against real AWS, an emulator, or the
//! built-in stub, fills in TOTP codes and SECRET_HASH, checks expectations and
//! snapshots normalised responses.
//!
//! Module map (one concept each):
//! - [`scenario`]: the scenario file model, YAML loading with positions, diagnostics
//! - [`template`]: `{{ … }}` expressions and helpers (`totp`, `uuid`, …)
//! - [`expect`]: expectations and matchers over response JSON
//! - [`engine`]: runs one scenario: fixtures, steps, captures, teardown
//! - [`target`]: where scenarios run (stub, AWS, managed emulators, any endpoint)
//! - [`emulator`]: starts and stops moto and cognito-local for `--target moto|cognito-local`
//! - [`wire`]: sends any cognito-idp operation through the official SDK
//! - [`auth`]: TOTP, SECRET_HASH, SRP proofs and device verifiers, JWT decoding
//! - [`clock`]: real and virtual time
//! - [`stub`]: the in-process honest Cognito
//! - [`normalize`]: placeholders for dynamic values and secret scrubbing
//! - [`snapshot`]: snapshots of normalised runs (insta's `.snap` format) and their review
//! - [`report`]: console output and exit codes
//! - [`guard`]: the existing-pool guard (runs change only pools they created)
//! - [`cleanup`]: finding and deleting pools that runs left behind
//! - [`parity`]: the suite on several targets compared with a reference (Markdown, JSON, HTML)
//! - [`junit`]: JUnit XML for CI systems

pub mod auth;
pub mod cleanup;
pub mod clock;
pub mod deviations;
pub mod emulator;
pub mod engine;
pub mod expect;
pub mod guard;
pub mod junit;
pub mod normalize;
pub mod parity;
pub mod path;
pub mod report;
pub mod scenario;
pub mod snapshot;
pub mod stub;
pub mod suite;
pub mod target;
pub mod template;
pub mod wire;

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
