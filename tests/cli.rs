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
        stdout.contains("step 2 `status is not what this says`"),
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

/// A bundled scenario with no `use:`, and its committed snapshot.
const SNAP_SCENARIO: &str = "scenarios/negative/auth-flow-disabled.yaml";
const SNAP_FILE: &str = "snapshots/negative__auth-flow-disabled.snap";

/// A folder holding only YAML and snapshots, as a QA team's repository does:
/// `files` are (path in the folder, file of this crate to copy there).
fn yaml_only_repo(what: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = support::temp_dir(what);
    for (to, from) in files {
        let to = dir.join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(support::root().join(from), &to).unwrap();
    }
    std::fs::create_dir_all(dir.join("snapshots")).unwrap();
    assert!(!dir.join("Cargo.toml").exists());
    dir
}

fn snapshot_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn the_users_insta_variables_neither_pass_nor_rewrite_a_broken_snapshot() {
    let dir = yaml_only_repo(
        "insta-env",
        &[(SNAP_SCENARIO, SNAP_SCENARIO), (SNAP_FILE, SNAP_FILE)],
    );
    let snap = dir.join(SNAP_FILE);
    let committed = std::fs::read_to_string(&snap).unwrap();
    let broken = committed.replace("flow not enabled", "flow NOT enabled");
    assert_ne!(broken, committed);
    std::fs::write(&snap, &broken).unwrap();

    let out = support::cli_in(&dir, &["run"], &[("INSTA_FORCE_PASS", "1")]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("snapshots/negative__auth-flow-disabled.snap differs"),
        "{stdout}"
    );
    assert!(
        stdout.contains("was:       message: USER_PASSWORD_AUTH flow NOT enabled"),
        "{stdout}"
    );
    assert!(stdout.contains("`cognito-scenarios review`"), "{stdout}");
    assert!(!stdout.contains("cargo insta") && !stderr.contains("cargo insta"));

    let every_insta_variable = [
        ("INSTA_UPDATE", "always"),
        ("INSTA_FORCE_UPDATE", "1"),
        ("INSTA_FORCE_PASS", "1"),
        ("INSTA_OUTPUT", "none"),
        ("INSTA_REQUIRE_FULL_MATCH", "0"),
        ("INSTA_GLOB_FILTER", "nothing"),
        ("INSTA_SNAPSHOT_PATH", "elsewhere"),
        ("INSTA_WORKSPACE_ROOT", "/nonexistent"),
        ("INSTA_YAML_BLOCK_STYLE", "1"),
    ];
    let out = support::cli_in(&dir, &["run"], &every_insta_variable);
    assert_eq!(out.status.code(), Some(4), "{:?}", text(&out));
    assert_eq!(std::fs::read_to_string(&snap).unwrap(), broken);

    // Only the runner's own flag rewrites it, byte for byte as committed.
    let out = support::cli_in(&dir, &["run", "--update-snapshots"], &every_insta_variable);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert_eq!(std::fs::read_to_string(&snap).unwrap(), committed);
    assert_eq!(snapshot_files(&dir), ["negative__auth-flow-disabled.snap"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn same_named_scenarios_in_different_folders_get_their_own_snapshots() {
    let dir = yaml_only_repo(
        "names",
        &[
            ("qa/login/basic.yaml", SNAP_SCENARIO),
            ("qa/signup/basic.yaml", SNAP_SCENARIO),
        ],
    );
    let out = support::cli_in(&dir, &["run", "qa", "--update-snapshots"], &[]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert_eq!(
        snapshot_files(&dir),
        ["qa__login__basic.snap", "qa__signup__basic.snap"]
    );
    // Running one folder or one file compares with the same snapshots.
    for args in [
        &["run", "qa"][..],
        &["run", "qa/login"],
        &["run", "qa/signup/basic.yaml"],
    ] {
        let out = support::cli_in(&dir, args, &[]);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {:?}", text(&out));
    }
    assert_eq!(snapshot_files(&dir).len(), 2);

    // Two files that would share a snapshot: refused before anything runs.
    for (to, from) in [
        ("qa/a/b__c.yaml", SNAP_SCENARIO),
        ("qa/a__b/c.yaml", SNAP_SCENARIO),
    ] {
        std::fs::create_dir_all(dir.join(to).parent().unwrap()).unwrap();
        std::fs::copy(support::root().join(from), dir.join(to)).unwrap();
    }
    let out = support::cli_in(&dir, &["run", "qa"], &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(
            "qa/a/b__c.yaml and qa/a__b/c.yaml would share the snapshot `qa__a__b__c.snap`"
        ),
        "{stderr}"
    );
    assert!(!stdout.contains("running"), "{stdout}");
    assert_eq!(snapshot_files(&dir).len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn review_accepts_and_rejects_in_a_folder_without_cargo() {
    let dir = yaml_only_repo("review", &[(SNAP_SCENARIO, SNAP_SCENARIO)]);
    let snap = dir.join(SNAP_FILE);
    let pending = dir.join(format!("{SNAP_FILE}.new"));

    // Under CI a mismatch fails the same but leaves no file behind.
    let out = support::cli_in(&dir, &["run"], &[("CI", "true")]);
    assert_eq!(out.status.code(), Some(4), "{:?}", text(&out));
    assert!(snapshot_files(&dir).is_empty());

    let out = support::cli_in(&dir, &["run"], &[]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}");
    assert!(
        stdout.contains("no snapshot snapshots/negative__auth-flow-disabled.snap yet"),
        "{stdout}"
    );
    assert!(pending.exists() && !snap.exists());

    // Not a terminal: a listing.
    let out = support::cli_in(&dir, &["review"], &[]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("1 pending snapshot(s) in snapshots:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("snapshots/negative__auth-flow-disabled.snap.new"),
        "{stdout}"
    );
    assert!(pending.exists());

    let out = support::cli_in(&dir, &["review", "--accept", "no-such-snapshot"], &[]);
    assert_eq!(out.status.code(), Some(1), "{:?}", text(&out));
    assert!(
        text(&out)
            .1
            .contains("no pending snapshot for `no-such-snapshot`")
    );

    let out = support::cli_in(&dir, &["review", "--accept", SNAP_SCENARIO], &[]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert!(!pending.exists());
    // The accepted snapshot is the committed one, and the next run passes.
    assert_eq!(
        std::fs::read_to_string(&snap).unwrap(),
        std::fs::read_to_string(support::root().join(SNAP_FILE)).unwrap()
    );
    let out = support::cli_in(&dir, &["run"], &[]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));

    // Rejecting deletes the new snapshot and keeps the old one.
    let accepted = std::fs::read_to_string(&snap).unwrap();
    let broken = accepted.replace("flow not enabled", "flow NOT enabled");
    std::fs::write(&snap, &broken).unwrap();
    let out = support::cli_in(&dir, &["run"], &[]);
    assert_eq!(out.status.code(), Some(4), "{:?}", text(&out));
    assert!(pending.exists());
    let out = support::cli_in(&dir, &["review", "--reject"], &[]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert!(!pending.exists());
    assert_eq!(std::fs::read_to_string(&snap).unwrap(), broken);
    let out = support::cli_in(&dir, &["review"], &[]);
    assert!(
        text(&out).0.contains("no pending snapshots"),
        "{:?}",
        text(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs the binary with stdout a pipe whose reader is already gone, as in
/// `… | head -1` once head has exited.
fn with_closed_stdout(args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    std::process::Command::new(env!("CARGO_BIN_EXE_cognito-scenarios"))
        .args(args)
        .arg("--color=never")
        .current_dir(support::root())
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("run cognito-scenarios")
}

#[test]
fn a_closed_stdout_is_a_quiet_exit_not_a_panic() {
    for args in [
        &["list", "--operations"][..],
        &["list"][..],
        &["run", "tests/fixtures/cli/good.yaml", "--snapshots", "off"][..],
        &["validate", "tests/fixtures/cli/good.yaml"][..],
    ] {
        let out = with_closed_stdout(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn zero_jobs_is_a_usage_error() {
    for args in [
        &["run", "tests/fixtures/cli/good.yaml", "--jobs", "0"][..],
        &["parity", "tests/fixtures/cli/good.yaml", "-j", "0"][..],
    ] {
        let out = cli(args);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains("must be at least 1"), "{stderr}");
        assert!(!stdout.contains("at a time"), "{stdout}");
    }
}

fn temp_dir(what: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "cognito-scenarios-cli-{what}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn junit_goes_into_a_new_folder_and_keeps_the_exit_code() {
    let dir = temp_dir("junit");
    let file = dir.join("not/yet/junit.xml");
    let out = cli(&[
        "run",
        "tests/fixtures/cli-runtime/mismatch.yaml",
        "--snapshots",
        "off",
        "--junit",
        file.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    let xml = std::fs::read_to_string(&file).expect("junit.xml written");
    assert!(xml.contains("type=\"mismatch\""), "{xml}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn junit_reports_an_unreachable_target_as_an_error() {
    let dir = temp_dir("junit-error");
    let file = dir.join("junit.xml");
    let url = format!("endpoint=http://127.0.0.1:{}", support::free_port());
    let out = cli(&[
        "run",
        "tests/fixtures/cli/good.yaml",
        "--target",
        &url,
        "--junit",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3), "{:?}", text(&out));
    let xml = std::fs::read_to_string(&file).expect("junit.xml written");
    assert!(xml.contains("<error message="), "{xml}");
    assert!(xml.contains("errors=\"1\""), "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_filter_matches_the_path_below_the_suite_not_the_folders_above_it() {
    // Every file ends in .yaml: that selects nothing.
    let out = cli(&["list", "--filter", "yaml"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout, "", "{stdout}");
    // The folders above the suite root select nothing either.
    let root = support::root().join("tests/fixtures/cli");
    let out = cli(&["list", root.to_str().unwrap(), "--filter", "fixtures"]);
    assert_eq!(text(&out).0, "");
    // A folder inside the suite does.
    let out = cli(&["list", "--filter", "mfa/"]);
    let (stdout, _) = text(&out);
    assert!(!stdout.is_empty());
    assert!(
        stdout.lines().all(|l| l.starts_with("scenarios/mfa/")),
        "{stdout}"
    );
}

#[test]
fn quiet_prints_only_failures_and_the_summary() {
    let out = cli(&[
        "run",
        "tests/fixtures/cli/good.yaml",
        "tests/fixtures/cli-runtime/mismatch.yaml",
        "--snapshots",
        "off",
        "--quiet",
    ]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}");
    assert!(!stdout.contains("PASS  tests"), "{stdout}");
    assert!(!stdout.contains("running"), "{stdout}");
    assert!(
        stdout.contains("FAIL  tests/fixtures/cli-runtime/mismatch.yaml"),
        "{stdout}"
    );
    assert!(stdout.contains("1 passed, 1 failed"), "{stdout}");
}

#[test]
fn a_real_wait_is_one_line_off_a_terminal() {
    let out = cli(&[
        "run",
        "tests/fixtures/waits/a-waits.yaml",
        "--stub-clock",
        "real",
        "--snapshots",
        "off",
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(
        stderr,
        "waiting 2s: Waits two seconds of real time: a real wait\n"
    );
}

#[test]
fn a_virtual_clock_scenario_is_skipped_on_real_time() {
    let file = "tests/fixtures/waits/virtual-only.yaml";
    let out = cli(&["run", file, "--stub-clock", "real", "--snapshots", "off"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("SKIP  tests/fixtures/waits/virtual-only.yaml"),
        "{stdout}"
    );
    assert!(stdout.contains("`clock: virtual`"), "{stdout}");
    let out = cli(&["run", file, "--snapshots", "off"]);
    let (stdout, _) = text(&out);
    assert!(stdout.contains("1 passed, 0 failed, 0 skipped"), "{stdout}");
    // The bundled suite runs on real time: long-expiry says so.
    let out = cli(&[
        "run",
        "scenarios/conformance/long-expiry.yaml",
        "--stub-clock",
        "real",
    ]);
    let (stdout, _) = text(&out);
    assert!(stdout.contains("0 passed, 0 failed, 1 skipped"), "{stdout}");
}

#[test]
fn an_unknown_clock_is_pinpointed() {
    let out = cli(&["validate", "tests/fixtures/cli-clock"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("unknown clock `sometimes`"), "{stderr}");
    assert!(
        stderr.contains("--> tests/fixtures/cli-clock/bad-clock.yaml:2:8"),
        "{stderr}"
    );
    assert!(stderr.contains("write `clock: virtual`"), "{stderr}");
}

/// A fresh folder under the system's temp dir, removed when dropped.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "cognito-scenarios-test-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a scratch folder");
        Scratch(dir)
    }

    /// Writes `text` to `name` inside, creating folders; returns its path as text.
    fn write(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// "Billion laughs" in a scenario's `vars:`: 9 aliases of 9 aliases, 9 levels.
fn alias_bomb() -> String {
    let mut src = String::from("name: An alias bomb\nvars:\n");
    src.push_str(
        "  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let items = vec![format!("*{}", pair[0]); 9].join(",");
        src.push_str(&format!("  {0}: &{0} [{items}]\n", pair[1]));
    }
    src + "steps:\n  - call: ListUserPools\n    with: { MaxResults: 1 }\n"
}

/// A scenario whose `with:` nests `depth` block mappings, one per line.
fn deep_mappings(depth: usize) -> String {
    let mut src = String::from("name: Deep\nsteps:\n  - call: ListUserPools\n    with:\n");
    for i in 0..depth {
        src.push_str(&format!("{}k:\n", " ".repeat(6 + i)));
    }
    src + &format!("{}v: 1\n", " ".repeat(6 + depth))
}

/// A scenario whose `with:` nests `depth` block sequences on one line (`- - - x`).
fn deep_sequences(depth: usize) -> String {
    format!(
        "name: Deeper\nsteps:\n  - call: ListUserPools\n    with:\n      X:\n        {}x\n",
        "- ".repeat(depth)
    )
}

#[test]
fn hostile_files_are_invalid_at_their_position_and_the_rest_still_runs() {
    let dir = Scratch::new("hostile");
    let good = std::fs::read_to_string("tests/fixtures/cli/good.yaml").unwrap();
    let good = dir.write("suite/good.yaml", &good);
    let bomb = dir.write("suite/bomb.yaml", &alias_bomb());
    let deep = dir.write("suite/deep.yaml", &deep_mappings(2_000));
    let deeper = dir.write("suite/deeper.yaml", &deep_sequences(100_000));
    let junit = dir.path("junit.xml");
    let out = cli(&[
        "run",
        &dir.path("suite"),
        "--snapshots",
        "off",
        "--junit",
        &junit,
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("PASS  {good}")), "{stdout}");
    assert!(
        stdout.contains("1 passed, 0 failed, 0 skipped, 3 invalid"),
        "{stdout}"
    );
    // The alias bomb, at the first alias that crosses the budget (e's first `*d`).
    assert!(
        stderr.contains("aliases expand this document past"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("--> {bomb}:7:10")), "{stderr}");
    // Nesting, where the 65th level opens.
    assert!(
        stderr.contains("nested more than 64 levels deep"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("--> {deep}:66:68")), "{stderr}");
    assert!(stderr.contains(&format!("--> {deeper}:6:129")), "{stderr}");
    // A 200,000-character line is shown as a window, not in full.
    assert!(stderr.len() < 20_000, "{} bytes of errors", stderr.len());
    let xml = std::fs::read_to_string(&junit).expect("JUnit written");
    for file in [&good, &bomb, &deep, &deeper] {
        assert!(xml.contains(&format!("classname=\"{file}\"")), "{xml}");
    }

    let out = cli(&["validate", &dir.path("suite")]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 valid, 3 invalid file(s)"), "{stdout}");
}

#[test]
fn use_reads_only_inside_the_root_and_never_echoes_other_files() {
    let dir = Scratch::new("use-root");
    let passwd_line = std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|t| t.lines().next().map(str::to_string))
        .filter(|l| !l.is_empty());
    let secret = "AKIAFAKE0123456789SECRET";
    let creds = dir.write(
        "private/credentials",
        &format!("aws_access_key_id = {secret}\n"),
    );
    let ini = dir.write(
        "private/credentials.ini",
        &format!("[default]\naws_access_key_id = {secret}\n"),
    );
    let good = std::fs::read_to_string("tests/fixtures/cli/good.yaml").unwrap();
    dir.write("suite/good.yaml", &good);
    std::fs::create_dir_all(dir.path("suite/flows")).unwrap();
    let uses = |target: &str| format!("name: Uses {target}\nsteps:\n  - use: {target}\n");
    dir.write("suite/passwd.yaml", &uses("/etc/passwd"));
    dir.write("suite/creds.yaml", &uses(&creds));
    dir.write("suite/ini.yaml", &uses(&ini));
    let folder = dir.write("suite/folder.yaml", &uses("flows"));
    let never_shown = |stdout: &str, stderr: &str| {
        for text in [stdout, stderr] {
            assert!(!text.contains(secret), "{text}");
            assert!(!text.contains("aws_access_key_id"), "{text}");
            if let Some(line) = &passwd_line {
                assert!(!text.contains(line.as_str()), "{text}");
            }
        }
    };

    let suite = dir.path("suite");
    for args in [
        &["run", &suite, "--snapshots", "off"][..],
        &["validate", &suite],
    ] {
        let out = cli(args);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
        never_shown(&stdout, &stderr);
        assert!(
            stderr.contains("flow file `/etc/passwd` is outside the suite's root"),
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!("flow file `{creds}` is outside the suite's root")),
            "{stderr}"
        );
        assert!(stderr.contains("pass --allow-outside-root"), "{stderr}");
        assert!(
            stderr.contains("`flows` is a directory, not a flow file"),
            "{stderr}"
        );
        assert!(stderr.contains(&format!("--> {folder}:3:10")), "{stderr}");
    }

    // Allowed, the files are read, and still never shown.
    let junit = dir.path("junit.xml");
    let out = cli(&[
        "run",
        &dir.path("suite"),
        "--snapshots",
        "off",
        "--allow-outside-root",
        "--junit",
        &junit,
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    never_shown(&stdout, &stderr);
    never_shown(&std::fs::read_to_string(&junit).unwrap(), "");
    assert!(!stderr.contains("outside the suite's root"), "{stderr}");
    assert!(
        stderr.contains(&format!("--> {creds}:1:1")) && stderr.contains("not a flow file"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("--> {ini}:2:1")), "{stderr}");
    assert!(stderr.contains("its content is not shown"), "{stderr}");
    assert!(
        stdout.contains("1 passed, 0 failed, 0 skipped, 4 invalid"),
        "{stdout}"
    );
    let out = cli(&["validate", &dir.path("suite"), "--allow-outside-root"]);
    let (stdout, stderr) = text(&out);
    never_shown(&stdout, &stderr);
    assert!(stderr.contains("--> /etc/passwd:1:1"), "{stderr}");
}

#[test]
fn every_catalogued_check_is_verified_by_a_bundled_step() {
    let out = cli(&["checks", "scenarios"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        !stdout.contains("not verified by any step"),
        "every check in checks/catalogue.yaml needs a bundled step with `check:`:\n{stdout}"
    );
    // One line per check, with its steps and evidence.
    let line = stdout
        .lines()
        .find(|l| l.starts_with("totp.reuse-refused "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        line.contains("security")
            && line.contains("1 step(s)")
            && line.contains("aws-verified-test"),
        "{line}"
    );
    let verbose = cli(&["checks", "--verbose", "scenarios"]);
    let (stdout, _) = text(&verbose);
    assert!(
        stdout.contains("step: scenarios/negative/totp-codes.yaml:"),
        "{stdout}"
    );
}
