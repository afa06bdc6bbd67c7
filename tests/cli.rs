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
