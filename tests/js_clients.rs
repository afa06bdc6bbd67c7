//! USER_SRP_AUTH and device tracking proven with an independent SRP client
//! that apps use: amazon-cognito-identity-js (pinned in scripts/js-clients,
//! installed by `scripts/tools.sh js-clients`) against `cognito-scenarios stub`.
//! Right and wrong passwords, then seed 002's flow: sign up, confirm, TOTP
//! enrolment, sign-in with MFA, the device confirmed and remembered, a
//! sign-in from it without MFA, and MFA back once the device is forgotten.

mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// `node_modules` with amazon-cognito-identity-js, installed on first use.
fn js_clients() -> PathBuf {
    let out = Command::new(support::root().join("scripts/tools.sh"))
        .arg("js-clients")
        .stderr(Stdio::inherit())
        .output()
        .expect("run scripts/tools.sh");
    assert!(out.status.success(), "scripts/tools.sh js-clients failed");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

#[test]
fn amazon_cognito_identity_js_signs_in_with_srp_and_a_remembered_device() {
    let node_modules = js_clients();
    let stub = support::Server::standalone_stub();
    let out = Command::new("node")
        .arg(support::root().join("tests/js/srp_devices.cjs"))
        .arg(stub.url())
        .env("NODE_PATH", &node_modules)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "amazon-cognito-identity-js flow failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for step in [
        "sign_up_and_confirm",
        "wrong_password_rejected",
        "right_password_and_totp_enrolment",
        "mfa_sign_in_and_device_remembered",
        "remembered_device_skips_mfa",
        "forgotten_device_needs_mfa",
    ] {
        assert!(
            stdout.contains(&format!("ok {step}\n")),
            "{step} did not finish:\n{stdout}"
        );
    }
}
