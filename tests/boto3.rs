//! The stub proven against a real AWS SDK: bundled flows 1-3 driven by boto3
//! (pinned in scripts/requirements-python.txt) against `cognito-scenarios stub`.

mod support;

use std::process::Command;

#[test]
fn boto3_drives_flows_1_to_3_against_the_standalone_stub() {
    let python = support::python();
    let stub = support::Server::standalone_stub();
    let out = Command::new(python)
        .arg(support::root().join("tests/boto3/flows.py"))
        .arg(stub.url())
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "boto3 flows failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for flow in ["flow1_new_password", "flow2_sign_up", "flow3_totp_mfa"] {
        assert!(
            stdout.contains(&format!("ok {flow}")),
            "{flow} did not finish:\n{stdout}"
        );
    }
}
