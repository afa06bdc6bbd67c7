//! The command line as a user meets it: exit codes, and errors that point at
//! the YAML while the other scenarios still run.

mod support;

use support::{cli, text};

#[test]
fn broken_files_are_pinpointed_and_the_rest_still_runs() {
    let out = cli(&["run", "tests/fixtures/cli", "--snapshots", "off"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    // The good scenario ran and passed.
    assert!(
        stdout.contains("PASS  tests/fixtures/cli/good.yaml"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 passed, 0 failed, 0 skipped, 2 invalid"),
        "{stdout}"
    );
    // Unknown key with did-you-mean, at its line and column, with a caret.
    assert!(stderr.contains("unknown key `cal` in a step"), "{stderr}");
    assert!(
        stderr.contains("--> tests/fixtures/cli/typos.yaml:3:5"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `call`?"), "{stderr}");
    assert!(
        stderr.contains("3 |   - cal: AdminCreateUser\n  |     ^^^"),
        "{stderr}"
    );
    // Unknown operation with did-you-mean.
    assert!(
        stderr.contains("unknown operation `InitateAuth`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--> tests/fixtures/cli/typos.yaml:5:11"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `InitiateAuth`?"), "{stderr}");
    // YAML syntax error with position.
    assert!(stderr.contains("YAML syntax"), "{stderr}");
    assert!(
        stderr.contains("tests/fixtures/cli/syntax.yaml:"),
        "{stderr}"
    );
}

#[test]
fn validate_reports_without_running() {
    let out = cli(&["validate", "tests/fixtures/cli"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout.contains("1 valid, 2 invalid file(s)"), "{stdout}");
    assert!(stderr.contains("did you mean `call`?"), "{stderr}");
    let out = cli(&["validate"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "bundled scenarios must validate: {:?}",
        text(&out)
    );
}

#[test]
fn undefined_variables_name_the_variable_and_its_position() {
    // Found when the file is loaded: nothing runs.
    let out = cli(&[
        "run",
        "tests/fixtures/cli-runtime/undefined.yaml",
        "--snapshots",
        "off",
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("undefined variable `usrname`"), "{stderr}");
    assert!(
        stderr.contains("tests/fixtures/cli-runtime/undefined.yaml:6:44"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `username`?"), "{stderr}");
}

/// `validate FILE` exits 2 and shows `message` at `location` with `hint`.
fn invalid(file: &str, location: &str, message: &str, hint: &str) {
    let path = format!("tests/fixtures/validate/{file}");
    let out = cli(&["validate", &path]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    let at = format!("error: {message}\n  --> {path}:{location}\n");
    let Some(start) = stderr.find(&at) else {
        panic!("expected {at:?} in:\n{stderr}");
    };
    let block = stderr[start..].split("\n\n").next().unwrap_or_default();
    let hint_line = block.lines().find(|l| l.contains("= hint: "));
    assert!(
        hint_line.is_some_and(|l| l.contains(hint)),
        "expected a hint with {hint:?} in:\n{block}"
    );
}

#[test]
fn validate_finds_template_syntax_errors() {
    invalid(
        "template-syntax.yaml",
        "3:27",
        "template syntax error: unexpected `}`",
        "templates are minijinja",
    );
}

#[test]
fn validate_finds_variables_used_before_they_are_saved() {
    invalid(
        "used-before-saved.yaml",
        "4:30",
        "undefined variable `access_token`",
        "`access_token` is saved only later",
    );
}

#[test]
fn validate_finds_unknown_helpers_and_filters() {
    invalid(
        "unknown-helper.yaml",
        "6:41",
        "unknown helper `totpp`",
        "did you mean `totp`?",
    );
    invalid(
        "unknown-filter.yaml",
        "3:30",
        "unknown filter `uper`",
        "did you mean `upper`?",
    );
}

#[test]
fn validate_finds_wrong_arity_and_arguments_out_of_range() {
    invalid(
        "helper-arity.yaml",
        "4:41",
        "`totp` takes 1 argument (secret), not 0",
        "call it as `totp(secret, offset=…, reuse=…)`",
    );
    invalid(
        "random-range.yaml",
        "3:14",
        "`random(n)` takes a whole number from 1 to 4096, not -1",
        "at most 4096 characters",
    );
    invalid(
        "random-range.yaml",
        "4:15",
        "`random(n)` takes a whole number from 1 to 4096, not 5000",
        "at most 4096 characters",
    );
}

#[test]
fn validate_finds_saves_that_are_not_response_paths() {
    invalid(
        "save-path.yaml",
        "5:22",
        "`Sesion` is not in InitiateAuth's response",
        "did you mean `Session`?",
    );
}

#[test]
fn validate_finds_an_error_expected_with_a_challenge() {
    invalid(
        "error-and-challenge.yaml",
        "5:46",
        "`error` and `challenge` cannot both hold: a call that fails answers no challenge",
        "separate steps",
    );
}

#[test]
fn validate_finds_unknown_target_names() {
    invalid(
        "unknown-target.yaml",
        "2:8",
        "unknown target `stubb`",
        "did you mean `stub`?",
    );
    invalid(
        "unknown-target.yaml",
        "6:13",
        "unknown target `motto`",
        "did you mean `moto`?",
    );
}

#[test]
fn validate_finds_unknown_fixture_keys() {
    invalid(
        "pool-keys.yaml",
        "3:3",
        "unknown key `MfaConfig` in `pool`",
        "did you mean `MfaConfiguration`?",
    );
    invalid(
        "pool-keys.yaml",
        "4:13",
        "unknown key `ExplicitAuthFlow` in `client`",
        "did you mean `ExplicitAuthFlows`?",
    );
    invalid(
        "pool-keys.yaml",
        "6:24",
        "unknown key `Passwrd` in a fixture user",
        "did you mean `Password`?",
    );
}

#[test]
fn validate_finds_request_members_the_operation_does_not_have() {
    invalid(
        "request-member.yaml",
        "4:58",
        "unknown key `AuthParameter` in InitiateAuth's request",
        "did you mean `AuthParameters`?",
    );
}

#[test]
fn validate_checks_flow_files_as_flows() {
    let out = cli(&["validate", "tests/fixtures/validate/flows/good.yaml"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("1 valid, 0 invalid"), "{stdout}");
    invalid(
        "flows/broken.yaml",
        "5:56",
        "undefined variable `usernme`",
        "did you mean `username`?",
    );
    let out = cli(&["validate", "scenarios/flows"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("2 valid, 0 invalid"), "{stdout}");
}

#[test]
fn a_mismatch_shows_the_step_the_location_and_the_difference() {
    let out = cli(&[
        "run",
        "tests/fixtures/cli-runtime/mismatch.yaml",
        "--snapshots",
        "off",
    ]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}");
    assert!(
        stdout.contains("FAIL  tests/fixtures/cli-runtime/mismatch.yaml"),
        "{stdout}"
    );
    assert!(
        stdout.contains("step status is not what this says"),
        "{stdout}"
    );
    assert!(stdout.contains("mismatch.yaml:11:"), "{stdout}");
    assert!(
        stdout.contains("CONFIRMED") && stdout.contains("FORCE_CHANGE_PASSWORD"),
        "{stdout}"
    );
    // The user name is random; output shows the variable's name instead.
    assert!(
        stdout.contains("{{ username }}") || stdout.contains("{{username}}"),
        "{stdout}"
    );
}

#[test]
fn an_unreachable_target_is_a_target_failure() {
    let port = support::free_port();
    let url = format!("endpoint=http://127.0.0.1:{port}");
    let out = cli(&["run", "tests/fixtures/cli/good.yaml", "--target", &url]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("could not reach the target"), "{stdout}");
}

#[test]
fn usage_errors_exit_1() {
    assert_eq!(cli(&["run", "--target", "banana"]).status.code(), Some(1));
    assert_eq!(cli(&["frobnicate"]).status.code(), Some(1));
    assert_eq!(cli(&["run", "no/such/folder"]).status.code(), Some(1));
    assert_eq!(cli(&["--help"]).status.code(), Some(0));
}
