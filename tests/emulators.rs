//! The managed emulator targets from the command line: `--target moto` and
//! `--target cognito-local` start their emulator, report unsupported
//! operations as such, and leave no process or folder behind, also when the
//! runner is interrupted. `--target endpoint=` still works for an emulator
//! someone else runs.

mod support;

use support::{cli, text};

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

const EMULATORS: [&str; 2] = ["moto", "cognito-local"];

/// The emulator the runner announced on stderr:
/// `started <name> on http://127.0.0.1:<port> (pid <pid>[, state in <folder>])…`.
struct Announced {
    pid: u32,
    port: u16,
    /// cognito-local's state folder.
    state: Option<std::path::PathBuf>,
}

fn announced(line: &str) -> Option<Announced> {
    let rest = line.strip_prefix("started ")?;
    let port = rest.split("http://127.0.0.1:").nth(1)?;
    let port = port.split(' ').next()?.parse().ok()?;
    let inside = rest.split("(pid ").nth(1)?.split(')').next()?;
    let (pid, state) = match inside.split_once(", state in ") {
        Some((pid, state)) => (pid, Some(state.into())),
        None => (inside, None),
    };
    Some(Announced {
        pid: pid.parse().ok()?,
        port,
        state,
    })
}

fn find_announcement(stderr: &str) -> Announced {
    stderr
        .lines()
        .find_map(announced)
        .unwrap_or_else(|| panic!("no `started …` line in:\n{stderr}"))
}

/// Whether `pid` is a live (not zombie) process.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        }
        Err(_) => false,
    }
}

fn assert_gone(emulator: &Announced, what: &str) {
    if let Some(state) = &emulator.state {
        assert!(
            !state.exists(),
            "{what}: the emulator's state folder {} was left behind",
            state.display()
        );
    }
    assert!(
        !alive(emulator.pid),
        "{what}: emulator process {} survived the run",
        emulator.pid
    );
    assert!(
        TcpStream::connect(("127.0.0.1", emulator.port)).is_err(),
        "{what}: something still listens on the emulator's port {}",
        emulator.port
    );
}

#[test]
fn a_managed_run_passes_and_leaves_no_process_behind() {
    for target in EMULATORS {
        let out = cli(&[
            "run",
            "scenarios/new-password/user-password-auth.yaml",
            "--target",
            target,
        ]);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{target}:\n{stdout}\n{stderr}");
        assert!(stdout.contains("1 passed, 0 failed"), "{stdout}");
        assert!(
            stdout.contains(&format!("known deviations from expectations/{target}.yaml")),
            "{stdout}"
        );
        assert_gone(&find_announcement(&stderr), target);
    }
}

#[test]
fn an_unlisted_unsupported_operation_fails_with_its_own_exit_code() {
    for target in EMULATORS {
        let scenario = "tests/fixtures/emulators/unsupported.yaml";
        let out = cli(&["run", scenario, "--target", target]);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(5), "{target}:\n{stdout}\n{stderr}");
        assert!(
            stdout.starts_with("running") || stdout.contains("UNSUPPORTED"),
            "{stdout}"
        );
        assert!(
            stdout.contains(&format!(
                "ResendConfirmationCode is unsupported by {target}"
            )),
            "{stdout}"
        );
        assert!(stdout.contains("0 passed, 1 failed"), "{stdout}");

        let listed = "tests/fixtures/emulators/unsupported-listed.yaml";
        let out = cli(&[
            "run",
            scenario,
            "--target",
            target,
            "--expectations",
            listed,
        ]);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{target}:\n{stdout}\n{stderr}");
        assert!(stdout.contains("(listed as unsupported)"), "{stdout}");
        assert!(
            stdout.contains("1 passed, 0 failed, 0 skipped; steps: 1 unsupported"),
            "{stdout}"
        );
    }
}

/// Starts a run of the slow fixture and returns once the runner says it is
/// running (signal handlers are installed by then), with the emulator it started.
fn start_slow_run(target: &str) -> (Child, Announced, Pipes) {
    let slow = "tests/fixtures/emulators/slow.yaml";
    let (child, emulator, pipes) = start_slow(&["run", slow, "--target", target], target);
    let Pipes(mut stdout, stderr) = pipes;
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read stdout");
    assert!(line.starts_with("running 1 scenario"), "{line}");
    (child, emulator, Pipes(stdout, stderr))
}

/// Starts `parity` of the slow fixture on `target` and returns once the
/// emulator is announced (its scenario then waits ten minutes).
fn start_slow_parity(target: &str) -> (Child, Announced, Pipes) {
    let out = std::env::temp_dir().join(format!("cs-parity-interrupt-{}", std::process::id()));
    let slow = "tests/fixtures/emulators/slow.yaml";
    let args = [
        "parity",
        slow,
        "--targets",
        target,
        "--out",
        out.to_str().unwrap(),
    ];
    start_slow(&args, target)
}

/// Spawns the runner and waits for the `started …` line of its emulator.
fn start_slow(args: &[&str], target: &str) -> (Child, Announced, Pipes) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cognito-scenarios"))
        .args(args)
        .arg("--color=never")
        .current_dir(support::root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cognito-scenarios");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut emulator = None;
    let mut seen = String::new();
    for line in (&mut stderr).lines() {
        let line = line.expect("read stderr");
        seen.push_str(&line);
        seen.push('\n');
        if let Some(a) = announced(&line) {
            emulator = Some(a);
            break;
        }
    }
    let emulator = emulator.unwrap_or_else(|| panic!("{target}: no `started` line in:\n{seen}"));
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    assert!(alive(emulator.pid), "{target}: the emulator is not running");
    (child, emulator, Pipes(stdout, stderr))
}

/// The runner's output pipes, kept open until the test ends.
struct Pipes(
    #[allow(dead_code)] BufReader<std::process::ChildStdout>,
    #[allow(dead_code)] BufReader<std::process::ChildStderr>,
);

#[test]
fn sigint_mid_run_stops_the_emulator_and_exits_130() {
    for target in EMULATORS {
        let (mut child, emulator, _pipes) = start_slow_run(target);
        // SAFETY: kill(2) on the runner we started.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
        let status = child.wait().expect("wait for the runner");
        assert_eq!(status.code(), Some(130), "{target}");
        assert_gone(&emulator, target);
    }
}

#[test]
fn parity_interrupted_stops_its_emulators_and_removes_their_state() {
    for (signal, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        for target in EMULATORS {
            let (mut child, emulator, pipes) = start_slow_parity(target);
            // SAFETY: kill(2) on the runner we started.
            unsafe { libc::kill(child.id() as libc::pid_t, signal) };
            let status = child.wait().expect("wait for the runner");
            let Pipes(_, mut stderr) = pipes;
            let mut rest = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut rest);
            assert_eq!(status.code(), Some(code), "{target}: {rest}");
            assert!(rest.contains("interrupted: stopping"), "{target}: {rest}");
            assert_gone(&emulator, target);
        }
    }
}

#[test]
fn sigterm_mid_run_stops_the_emulator_and_exits_143() {
    let (mut child, emulator, _pipes) = start_slow_run("cognito-local");
    // SAFETY: kill(2) on the runner we started.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().expect("wait for the runner");
    assert_eq!(status.code(), Some(143));
    assert_gone(&emulator, "cognito-local");
}

#[test]
fn the_emulator_dies_with_a_runner_that_is_killed_outright() {
    let (mut child, emulator, _pipes) = start_slow_run("moto");
    child.kill().expect("SIGKILL the runner");
    child.wait().expect("reap the runner");
    // PR_SET_PDEATHSIG: the kernel kills the emulator when the runner dies.
    // Delivery is asynchronous; the bound only keeps a broken build from hanging.
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while alive(emulator.pid) && std::time::Instant::now() < give_up {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(
        !alive(emulator.pid),
        "moto (pid {}) outlived its killed runner",
        emulator.pid
    );
}

#[test]
fn an_endpoint_target_runs_against_an_emulator_someone_else_runs() {
    let moto = support::Server::moto();
    let url = format!("endpoint={}", moto.url());
    let out = cli(&[
        "run",
        "scenarios/new-password",
        "--target",
        &url,
        "--expectations",
        "expectations/moto.yaml",
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("3 passed, 0 failed"), "{stdout}");
    assert!(!stderr.contains("started "), "{stderr}");
    assert!(
        Path::new(&support::root())
            .join("expectations/moto.yaml")
            .is_file()
    );
}

#[test]
fn an_emulator_that_fails_to_start_is_a_target_failure_showing_its_output() {
    let out = Command::new(env!("CARGO_BIN_EXE_cognito-scenarios"))
        .args([
            "run",
            "scenarios/new-password/user-password-auth.yaml",
            "--target",
            "cognito-local",
            "--color=never",
        ])
        .env(
            "COGNITO_SCENARIOS_TOOLS",
            support::root().join("tests/fixtures/emulators/broken-tools.sh"),
        )
        .current_dir(support::root())
        .output()
        .expect("run cognito-scenarios");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("cannot start cognito-local: it exited before it was ready"),
        "{stderr}"
    );
    assert!(
        stderr.contains("    broken-emulator: deliberate start-up failure for a test"),
        "{stderr}"
    );
}
