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
    let out = cli(&[
        "run",
        "tests/fixtures/cli-runtime/undefined.yaml",
        "--snapshots",
        "off",
    ]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("undefined variable `usrname`"), "{stdout}");
    assert!(
        stdout.contains("tests/fixtures/cli-runtime/undefined.yaml:6:44"),
        "{stdout}"
    );
    assert!(stdout.contains("did you mean `username`?"), "{stdout}");
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
