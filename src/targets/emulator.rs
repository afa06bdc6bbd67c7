//! Emulators the runner manages itself (`--target moto`, `--target cognito-local`).
//!
//! Each is installed on first use by the project's `scripts/tools.sh` (pinned
//! versions, into `.tools/`), started on a free 127.0.0.1 port in a fresh
//! temporary folder (fresh state), configured for AWS-like defaults, and
//! stopped when the [`Emulator`] is dropped. The child runs in its own process
//! group, which is killed as a whole; [`stop_all`] does the same from a signal
//! handler; and the child gets SIGKILL from the kernel if the runner dies
//! without either (Linux `PR_SET_PDEATHSIG`). No emulator outlives a run.
//!
//! The parent-death signal fires when the *thread* that forked the child
//! ends, so every emulator is forked by one keeper thread that lives as long
//! as the process.

use std::collections::VecDeque;
use std::fmt;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::scenario::template::CodeSource;

/// How long an emulator may take to answer its readiness probe.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Environment variable naming another `tools.sh` (default: the crate's `scripts/tools.sh`).
pub const TOOLS_SCRIPT_ENV: &str = "COGNITO_SCENARIOS_TOOLS";

/// The emulators the runner can manage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmulatorKind {
    /// moto 5.2.5 (`moto[server]` from PyPI).
    Moto,
    /// cognito-local 5.3.0 (npm).
    CognitoLocal,
}

impl EmulatorKind {
    /// The target name (`moto`, `cognito-local`).
    pub fn name(self) -> &'static str {
        match self {
            EmulatorKind::Moto => "moto",
            EmulatorKind::CognitoLocal => "cognito-local",
        }
    }

    /// The `scripts/tools.sh` argument that installs it.
    fn tool(self) -> &'static str {
        match self {
            EmulatorKind::Moto => "python",
            EmulatorKind::CognitoLocal => "cognito-local",
        }
    }

    /// The path that answers 200 once the server is ready.
    fn ready_path(self) -> &'static str {
        match self {
            EmulatorKind::Moto => "/moto-api/",
            EmulatorKind::CognitoLocal => "/health",
        }
    }
}

impl fmt::Display for EmulatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an emulator could not be started.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot install {kind}: {message}")]
    Install { kind: EmulatorKind, message: String },
    #[error("cannot start {kind}: {message}")]
    Start { kind: EmulatorKind, message: String },
}

/// A running emulator process; dropping it stops the process and removes its folder.
pub struct Emulator {
    kind: EmulatorKind,
    port: u16,
    /// Its working folder (state files), removed when it stops; moto has none.
    dir: Option<PathBuf>,
    child: Mutex<Child>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("kind", &self.kind)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// Process groups and folders of running emulators, for [`stop_all`].
static RUNNING: Mutex<Vec<(i32, Option<PathBuf>)>> = Mutex::new(Vec::new());

/// Stops every emulator this process started (for Ctrl-C and SIGTERM
/// handlers, where the owners may never be dropped): kills their process
/// groups and removes their folders.
pub fn stop_all() {
    let running = std::mem::take(&mut *RUNNING.lock().unwrap_or_else(|e| e.into_inner()));
    for (pid, dir) in running {
        kill_group(pid);
        remove_folder(dir.as_deref());
    }
}

/// A fresh working folder for an emulator that keeps state on disk (only
/// cognito-local; moto keeps it in memory). Its state holds plaintext
/// passwords and refresh tokens, so only its owner may enter it (0700).
fn state_folder(kind: EmulatorKind) -> Result<Option<PathBuf>, String> {
    use std::os::unix::fs::DirBuilderExt as _;
    if kind != EmulatorKind::CognitoLocal {
        return Ok(None);
    }
    let dir = std::env::temp_dir().join(format!(
        "cognito-scenarios-{}-{}",
        kind.name(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(Some(dir))
}

fn remove_folder(dir: Option<&Path>) {
    if let Some(dir) = dir {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn kill_group(pid: i32) {
    // SAFETY: kill(2) with a negative pid signals the process group the child leads.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
}

impl Emulator {
    /// Installs (first use only), starts and waits for `kind`.
    pub async fn start(kind: EmulatorKind) -> Result<Emulator, EmulatorError> {
        let program = install(kind).await?;
        // A port chosen free can be taken before the emulator binds it: try again then.
        let mut last = None;
        for _ in 0..3 {
            match Self::launch(kind, &program).await {
                Ok(emulator) => return Ok(emulator),
                Err((error, port_taken)) => {
                    if !port_taken {
                        return Err(error);
                    }
                    last = Some(error);
                }
            }
        }
        Err(last.expect("at least one attempt"))
    }

    /// One attempt; on failure also says whether the port was taken.
    async fn launch(kind: EmulatorKind, program: &Path) -> Result<Emulator, (EmulatorError, bool)> {
        let fail = |message: String| {
            (
                EmulatorError::Start {
                    kind,
                    message: message.clone(),
                },
                false,
            )
        };
        let port = free_port().map_err(|e| fail(format!("no free port on 127.0.0.1: {e}")))?;
        let dir = state_folder(kind).map_err(fail)?;
        let spawned = prepare(kind, program, port, dir.as_deref()).and_then(|command| {
            let program = command.get_program().display().to_string();
            spawn_from_keeper(command).map_err(|e| format!("cannot run {program}: {e}"))
        });
        let mut child = match spawned {
            Ok(child) => child,
            Err(message) => {
                remove_folder(dir.as_deref());
                return Err(fail(message));
            }
        };
        RUNNING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((child.id() as i32, dir.clone()));
        let output = OutputTail::default();
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.extend(output.follow(out));
        }
        if let Some(err) = child.stderr.take() {
            readers.extend(output.follow(err));
        }
        let emulator = Emulator {
            kind,
            port,
            dir,
            child: Mutex::new(child),
        };
        match emulator.wait_ready().await {
            Ok(()) => {
                // From here on it may print codes and tokens: drain its output, keep none.
                output.stop_keeping();
                Ok(emulator)
            }
            Err(message) => {
                // Stop it, then read what it printed up to the end.
                drop(emulator);
                for reader in readers {
                    let _ = reader.join();
                }
                let tail = output.stop_keeping();
                let port_taken = tail.contains("in use");
                let shown = if tail.is_empty() {
                    message
                } else {
                    format!("{message}\n  its output ended with:\n{tail}")
                };
                Err((
                    EmulatorError::Start {
                        kind,
                        message: shown,
                    },
                    port_taken,
                ))
            }
        }
    }

    async fn wait_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if http_ok(self.port, self.kind.ready_path()).await {
                return Ok(());
            }
            let exited = self
                .child
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .try_wait();
            if let Ok(Some(status)) = exited {
                return Err(format!("it exited before it was ready ({status})"));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "it did not answer GET {} on 127.0.0.1:{} within {}s",
                    self.kind.ready_path(),
                    self.port,
                    READY_TIMEOUT.as_secs()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Which emulator this is.
    pub fn kind(&self) -> EmulatorKind {
        self.kind
    }

    /// The base URL (`http://127.0.0.1:<port>`).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The process id (the leader of its process group).
    pub fn pid(&self) -> u32 {
        self.child.lock().unwrap_or_else(|e| e.into_inner()).id()
    }

    /// The line printed on stderr when a command starts it: `started <name>
    /// on http://127.0.0.1:<port> (pid <pid>[, state in <folder>]); …`.
    pub fn announcement(&self) -> String {
        let state = self
            .dir
            .as_ref()
            .map(|d| format!(", state in {}", d.display()))
            .unwrap_or_default();
        format!(
            "started {} on {} (pid {}{state}); it stops when the run ends",
            self.kind,
            self.endpoint(),
            self.pid()
        )
    }

    /// Where `code(username)` finds confirmation codes on this emulator.
    pub fn code_source(&self) -> Arc<dyn CodeSource> {
        match self.kind {
            EmulatorKind::Moto => Arc::new(MotoCodes),
            EmulatorKind::CognitoLocal => Arc::new(CognitoLocalCodes {
                db: self
                    .dir
                    .clone()
                    .unwrap_or_default()
                    .join(".cognito")
                    .join("db"),
            }),
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|e| e.into_inner());
        let pid = child.id() as i32;
        kill_group(pid);
        let _ = child.wait();
        RUNNING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(p, _)| *p != pid);
        remove_folder(self.dir.as_deref());
    }
}

/// Runs `scripts/tools.sh <tool>` (which installs on first use and says so on
/// stderr) and returns the program it prints.
async fn install(kind: EmulatorKind) -> Result<PathBuf, EmulatorError> {
    let script = std::env::var_os(TOOLS_SCRIPT_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/tools.sh"));
    let fail = |message: String| EmulatorError::Install { kind, message };
    let output = tokio::process::Command::new(&script)
        .arg(kind.tool())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .await
        .map_err(|e| {
            fail(format!(
                "cannot run {}: {e} (set {TOOLS_SCRIPT_ENV} to the project's scripts/tools.sh)",
                script.display()
            ))
        })?;
    if !output.status.success() {
        return Err(fail(format!(
            "{} {} failed ({}); see its output above",
            script.display(),
            kind.tool(),
            output.status
        )));
    }
    let printed = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let program = PathBuf::from(printed);
    if !program.is_file() {
        return Err(fail(format!(
            "{} {} printed `{}`, which is not a file",
            script.display(),
            kind.tool(),
            program.display()
        )));
    }
    Ok(program)
}

/// The command line, environment and folder of one emulator start.
fn prepare(
    kind: EmulatorKind,
    program: &Path,
    port: u16,
    dir: Option<&Path>,
) -> Result<Command, String> {
    let mut command = match kind {
        EmulatorKind::Moto => {
            // moto_server sits beside the venv's python.
            let mut c = Command::new(program.with_file_name("moto_server"));
            c.args(["-H", "127.0.0.1", "-p", &port.to_string()])
                // Without it moto accepts any TOTP code.
                .env("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true");
            c
        }
        EmulatorKind::CognitoLocal => {
            // Its default config forces email-as-username on every pool; AWS's default is plain usernames.
            let config = dir
                .ok_or("cognito-local needs a working folder")?
                .join(".cognito");
            std::fs::create_dir_all(&config)
                .and_then(|()| {
                    std::fs::write(
                        config.join("config.json"),
                        r#"{"UserPoolDefaults": {"UsernameAttributes": []}}"#,
                    )
                })
                .map_err(|e| format!("cannot write its config: {e}"))?;
            let mut c = Command::new("node");
            c.arg(program)
                .env("HOST", "127.0.0.1")
                .env("PORT", port.to_string())
                // Random codes as AWS sends, not a fixed one; no debug logs (they dump its state).
                .env_remove("CODE")
                .env_remove("DEBUG")
                .env_remove("COGNITO_LOCAL_DEVMODE");
            c
        }
    };
    command
        .current_dir(dir.map_or_else(std::env::temp_dir, Path::to_path_buf))
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // SAFETY: only async-signal-safe calls (prctl, getppid, _exit) between fork and exec.
    let parent = std::process::id() as libc::pid_t;
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The runner died between fork and prctl: do not start orphaned.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    Ok(command)
}

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

/// Spawns `command` from a thread that never ends, so the child's
/// parent-death signal fires only when the whole process ends.
fn spawn_from_keeper(command: Command) -> std::io::Result<Child> {
    static KEEPER: OnceLock<Result<mpsc::Sender<SpawnRequest>, String>> = OnceLock::new();
    let keeper = KEEPER.get_or_init(|| {
        let (requests, incoming) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("emulator-keeper".into())
            .spawn(move || {
                for (mut command, reply) in incoming {
                    let _ = reply.send(command.spawn());
                }
            })
            .map(|_| requests)
            .map_err(|e| e.to_string())
    });
    let gone = || std::io::Error::other("the emulator keeper thread is gone");
    let keeper = keeper.as_ref().map_err(|e| {
        std::io::Error::other(format!("cannot start the emulator keeper thread: {e}"))
    })?;
    let (reply, answer) = mpsc::channel();
    keeper.send((command, reply)).map_err(|_| gone())?;
    answer.recv().map_err(|_| gone())?
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Whether `GET path` on 127.0.0.1:port answers 200.
async fn http_ok(port: u16, path: &str) -> bool {
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream
            .write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
            .await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        Ok::<bool, std::io::Error>(&head[9..12] == b"200")
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), probe).await,
        Ok(Ok(true))
    )
}

/// The last lines an emulator printed while starting (before any scenario
/// ran, so without secrets), kept in memory only; afterwards its output is
/// read and dropped, so it never blocks on a full pipe.
#[derive(Clone, Default)]
struct OutputTail(Arc<Mutex<(bool, VecDeque<String>)>>);

/// Lines of start-up output shown when an emulator does not become ready.
const TAIL_LINES: usize = 15;

impl OutputTail {
    /// Reads `stream` on a thread until the emulator closes it.
    fn follow(
        &self,
        stream: impl std::io::Read + Send + 'static,
    ) -> Option<std::thread::JoinHandle<()>> {
        let tail = self.clone();
        std::thread::Builder::new()
            .name("emulator-output".into())
            .spawn(move || {
                for line in BufReader::new(stream).split(b'\n') {
                    let Ok(line) = line else { break };
                    let mut kept = tail.0.lock().unwrap_or_else(|e| e.into_inner());
                    let (stopped, lines) = &mut *kept;
                    if *stopped {
                        continue;
                    }
                    lines.push_back(String::from_utf8_lossy(&line).into_owned());
                    if lines.len() > TAIL_LINES {
                        lines.pop_front();
                    }
                }
            })
            .ok()
    }

    /// Stops keeping lines and returns those kept, readable and indented.
    fn stop_keeping(&self) -> String {
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        kept.0 = true;
        tail_text(kept.1.drain(..))
    }
}

/// Lines without colour codes or blank lines, indented for an error message.
fn tail_text(lines: impl IntoIterator<Item = String>) -> String {
    let ansi = regex::Regex::new("\x1b\\[[0-9;]*[A-Za-z]").expect("valid regex");
    lines
        .into_iter()
        .map(|l| ansi.replace_all(&l, "").trim_end().to_string())
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("    {l}\n"))
        .collect()
}

/// moto issues no confirmation codes a client could read.
struct MotoCodes;

impl CodeSource for MotoCodes {
    fn latest_code(&self, _: &str, _: &str) -> Result<Option<String>, String> {
        Err("moto delivers no confirmation codes: its ConfirmSignUp accepts any code, and ForgotPassword's code is only in a moto-specific response header".into())
    }
}

/// cognito-local keeps each pool in `.cognito/db/<poolId>.json` under its
/// working folder; the code it last issued to a user is in the user's record.
struct CognitoLocalCodes {
    db: PathBuf,
}

impl CodeSource for CognitoLocalCodes {
    fn latest_code(&self, pool_id: &str, username: &str) -> Result<Option<String>, String> {
        let file = self.db.join(format!("{pool_id}.json"));
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read cognito-local's pool file: {e}")),
        };
        let db: Value = serde_json::from_str(&text)
            .map_err(|e| format!("cannot parse cognito-local's pool file: {e}"))?;
        Ok(cognito_local_code(&db, username))
    }
}

/// The code in a cognito-local pool file for `username` (or the user whose
/// email or phone number it is). A user record holds at most one pending code
/// of each kind; sign-up/reset first, then attribute verification, then SMS MFA.
fn cognito_local_code(db: &Value, username: &str) -> Option<String> {
    let users = db.get("Users")?.as_object()?;
    let user = users.get(username).or_else(|| {
        users.values().find(|u| {
            u.get("Attributes")
                .and_then(Value::as_array)
                .is_some_and(|attrs| {
                    attrs.iter().any(|a| {
                        matches!(
                            a.get("Name").and_then(Value::as_str),
                            Some("email" | "phone_number")
                        ) && a.get("Value").and_then(Value::as_str) == Some(username)
                    })
                })
        })
    })?;
    ["ConfirmationCode", "AttributeVerificationCode", "MFACode"]
        .iter()
        .find_map(|k| user.get(*k).and_then(Value::as_str))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cognito_local_state_folder_is_its_owners_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = state_folder(EmulatorKind::CognitoLocal)
            .unwrap()
            .expect("cognito-local keeps state on disk");
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        std::fs::remove_dir(&dir).unwrap();
        assert_eq!(mode & 0o777, 0o700, "{mode:o}");
        assert_eq!(state_folder(EmulatorKind::Moto), Ok(None));
    }
    use serde_json::json;

    #[test]
    fn cognito_local_codes_by_username_or_address() {
        let db = json!({"Users": {
            "ann": {"Username": "ann", "ConfirmationCode": "123456",
                    "Attributes": [{"Name": "email", "Value": "ann@example.com"}]},
            "bob": {"Username": "bob", "AttributeVerificationCode": "654321"},
            "cy": {"Username": "cy"}
        }});
        assert_eq!(cognito_local_code(&db, "ann").as_deref(), Some("123456"));
        assert_eq!(
            cognito_local_code(&db, "ann@example.com").as_deref(),
            Some("123456")
        );
        assert_eq!(cognito_local_code(&db, "bob").as_deref(), Some("654321"));
        assert_eq!(cognito_local_code(&db, "cy"), None);
        assert_eq!(cognito_local_code(&db, "nobody"), None);
    }

    #[test]
    fn moto_says_it_cannot_provide_codes() {
        let err = MotoCodes.latest_code("p", "u").unwrap_err();
        assert!(err.starts_with("moto "), "{err}");
    }

    #[test]
    fn output_tail_keeps_the_last_start_up_lines_without_colours() {
        let tail = OutputTail::default();
        let text: String = (0..40)
            .map(|i| format!("\x1b[32mline {i}\x1b[39m\n"))
            .collect();
        let (reader, mut writer) = std::io::pipe().unwrap();
        let reading = tail.follow(reader).unwrap();
        std::io::Write::write_all(&mut writer, text.as_bytes()).unwrap();
        drop(writer);
        reading.join().unwrap();
        let shown = tail.stop_keeping();
        assert!(shown.ends_with("    line 39\n"), "{shown}");
        assert!(!shown.contains("line 24\n") && shown.contains("line 25\n"));
        assert!(!shown.contains('\x1b'));
        assert_eq!(tail.stop_keeping(), "");
    }
}
