//! Terminal output shared by every layer: `out!`/`outln!`/`err!`/`errln!`,
//! which never panic on a closed pipe, `--quiet`, and the status line of real
//! waits (TOTP windows, `wait:` steps) on a terminal.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

static STDOUT_GONE: AtomicBool = AtomicBool::new(false);
static STDERR_GONE: AtomicBool = AtomicBool::new(false);

/// Writes to stdout (`out!`/`outln!`). Unlike `print!` it never panics: once
/// the reader has gone (`| head -1`: EPIPE) or stdout fails, the rest of the
/// output is dropped and the command carries on to its usual exit code (so
/// teardown still runs and emulators are still stopped).
pub fn write_out(args: std::fmt::Arguments) {
    write_to(&mut std::io::stdout().lock(), &STDOUT_GONE, args)
}

/// Writes to stderr (`err!`/`errln!`), never panicking (see [`write_out`]).
pub fn write_err(args: std::fmt::Arguments) {
    write_to(&mut std::io::stderr().lock(), &STDERR_GONE, args)
}

fn write_to(w: &mut dyn std::io::Write, gone: &AtomicBool, args: std::fmt::Arguments) {
    if gone.load(Ordering::Relaxed) {
        return;
    }
    clear_wait_line();
    if w.write_fmt(args).and_then(|()| w.flush()).is_err() {
        gone.store(true, Ordering::Relaxed);
    }
}

/// `print!` that never panics (see [`report::write_out`](crate::term::write_out)).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::term::write_out(format_args!($($arg)*)) };
}

/// `println!` that never panics (see [`report::write_out`](crate::term::write_out)).
#[macro_export]
macro_rules! outln {
    () => { $crate::term::write_out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::term::write_out(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprint!` that never panics (see [`write_err`]).
#[macro_export]
macro_rules! err {
    ($($arg:tt)*) => { $crate::term::write_err(format_args!($($arg)*)) };
}

/// `eprintln!` that never panics (see [`write_err`]).
#[macro_export]
macro_rules! errln {
    () => { $crate::term::write_err(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::term::write_err(format_args!("{}\n", format_args!($($arg)*))) };
}

static QUIET: AtomicBool = AtomicBool::new(false);

/// `--quiet`: only failures and the summary (no per-wait notes off a terminal).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` was given.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Real waits in progress, shown on stderr (see [`show_wait`]).
struct WaitBoard {
    next: u64,
    waits: Vec<(u64, String, std::time::Instant)>,
    ticking: bool,
}

static WAITS: std::sync::Mutex<WaitBoard> = std::sync::Mutex::new(WaitBoard {
    next: 0,
    waits: Vec::new(),
    ticking: false,
});
/// Whether the wait line is on the terminal now (cleared before other output).
static WAIT_LINE: AtomicBool = AtomicBool::new(false);

/// A wait being shown; dropping it takes it off the display.
#[derive(Debug)]
pub struct ShownWait(u64);

impl Drop for ShownWait {
    fn drop(&mut self) {
        let mut board = WAITS.lock().unwrap_or_else(|e| e.into_inner());
        board.waits.retain(|(id, ..)| *id != self.0);
    }
}

/// Shows a real wait of `d` for `what` (a second or more): on a terminal, a
/// status line on stderr with what is awaited and the time left, redrawn every
/// second and erased when the waits end; elsewhere (CI logs) one line when the
/// wait starts, none with `--quiet`.
pub fn show_wait(what: &str, d: Duration) -> Option<ShownWait> {
    use std::io::IsTerminal as _;
    if d < Duration::from_secs(1) {
        return None;
    }
    let terminal = std::io::stderr().is_terminal();
    if !terminal {
        if !quiet() {
            crate::errln!("waiting {}s: {what}", d.as_secs_f64().ceil());
        }
        return None;
    }
    let mut board = WAITS.lock().unwrap_or_else(|e| e.into_inner());
    board.next += 1;
    let id = board.next;
    board
        .waits
        .push((id, what.to_string(), std::time::Instant::now() + d));
    if !board.ticking && tokio::runtime::Handle::try_current().is_ok() {
        board.ticking = true;
        tokio::spawn(tick_waits());
    }
    Some(ShownWait(id))
}

/// Redraws the wait line every second while any wait is shown.
async fn tick_waits() {
    loop {
        let line = {
            let mut board = WAITS.lock().unwrap_or_else(|e| e.into_inner());
            let Some((_, what, until)) = board.waits.iter().min_by_key(|(_, _, until)| *until)
            else {
                board.ticking = false;
                drop(board);
                clear_wait_line();
                return;
            };
            let left = until.saturating_duration_since(std::time::Instant::now());
            let more = match board.waits.len() - 1 {
                0 => String::new(),
                n => format!(" (and {n} more waiting)"),
            };
            format!("waiting {}s: {what}{more}", left.as_secs_f64().ceil())
        };
        let width = console::Term::stderr().size().1 as usize;
        let line = console::truncate_str(&line, width.saturating_sub(1).max(20), "…");
        draw_wait_line(&line);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn draw_wait_line(line: &str) {
    let mut stderr = std::io::stderr().lock();
    if write!(stderr, "\r\x1b[2K{line}")
        .and_then(|()| stderr.flush())
        .is_ok()
    {
        WAIT_LINE.store(true, Ordering::Relaxed);
    }
}

/// Erases the wait line, if shown, so other output starts on a clean line.
fn clear_wait_line() {
    if WAIT_LINE.swap(false, Ordering::Relaxed) {
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "\r\x1b[2K").and_then(|()| stderr.flush());
    }
}
