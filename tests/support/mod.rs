//! Shared test support: the project's pinned tools and real emulator processes.
#![allow(dead_code)] // each test binary uses a different part

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Runs the `cognito-scenarios` binary in the crate root, without colour.
pub fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cognito-scenarios"))
        .args(args)
        .arg("--color=never")
        .current_dir(root())
        .output()
        .expect("run cognito-scenarios")
}

/// A command's stdout and stderr as text.
pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The crate's root folder.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A Python with moto[server] and boto3, installed by `scripts/tools.sh` on first use.
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let out = Command::new(root().join("scripts/tools.sh"))
                .arg("python")
                .stderr(Stdio::inherit())
                .output()
                .expect("run scripts/tools.sh");
            assert!(out.status.success(), "scripts/tools.sh python failed");
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        })
        .clone()
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Answers whether `GET path` on 127.0.0.1:port returns 200.
pub fn http_ok(port: u16, path: &str) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    matches!(s.read(&mut buf), Ok(n) if n >= 12 && &buf[9..12] == b"200")
}

/// A child process killed when dropped, so no emulator outlives its test.
pub struct Server {
    child: Child,
    pub port: u16,
}

impl Server {
    /// The base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts `command` with `--port N` style arguments from `args(port)` on a
    /// free port and waits until `GET ready_path` answers 200. The port is
    /// free when picked, but another process (often a client's outgoing
    /// connection) can take it before the server binds it; a server that
    /// exits before it is ready is started again on a new port (3 tries).
    fn start(what: &str, ready_path: &str, mut command: impl FnMut(u16) -> Command) -> Server {
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port();
            let child = command(port)
                .spawn()
                .unwrap_or_else(|e| panic!("start {what}: {e}"));
            let mut server = Server { child, port };
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                if http_ok(port, ready_path) {
                    return server;
                }
                if let Ok(Some(status)) = server.child.try_wait() {
                    last = format!("{what} exited before it was ready on port {port}: {status}");
                    break;
                }
                if Instant::now() > deadline {
                    panic!("{what} did not become ready on port {port}");
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        panic!("{last} (3 tries)");
    }

    /// Starts a real moto server (pinned in scripts/requirements-python.txt) on 127.0.0.1.
    pub fn moto() -> Server {
        let moto_server = python().with_file_name("moto_server");
        Server::start("moto_server", "/moto-api/", |port| {
            let mut c = Command::new(&moto_server);
            c.args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            c
        })
    }

    /// Starts `cognito-scenarios stub --port N` (the standalone stub, real clock).
    pub fn standalone_stub() -> Server {
        Server::start("the standalone stub", "/health", |port| {
            let mut c = Command::new(env!("CARGO_BIN_EXE_cognito-scenarios"));
            c.args(["stub", "--port", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::inherit());
            c
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `cognito-scenarios` in `dir` without colour, with `env` set and
/// neither `CI` nor any `INSTA_*` variable inherited from the caller.
pub fn cli_in(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cognito-scenarios"));
    command.args(args).arg("--color=never").current_dir(dir);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key == "CI" || key == "TF_BUILD" || key.starts_with("INSTA_") {
            command.env_remove(&*key);
        }
    }
    command
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run cognito-scenarios")
}

/// A fresh folder under the system's temporary folder (no Cargo.toml in it).
pub fn temp_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cs-{what}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("create a temporary folder");
    dir
}
