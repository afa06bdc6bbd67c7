//! Snapshots of normalised runs, stored and reviewed with insta.
//!
//! One `.snap` per scenario under `snapshots/`, named after the scenario's
//! path (`scenarios/admin/new-password.yaml` → `admin__new-password.snap`).
//! insta's workflow applies unchanged: a mismatch writes `.snap.new` locally
//! (nothing under CI) for `cargo insta review`; `--update-snapshots` writes in place.

use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, Once};

use serde_json::Value;

/// What to do with snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotMode {
    /// Compare with the stored snapshot (insta's `INSTA_UPDATE` decides about `.snap.new`).
    Check,
    /// Write the snapshot in place. insta reads its configuration once per
    /// process, so whoever chooses this also sets `INSTA_UPDATE=always` before
    /// the first snapshot (the CLI does it at start-up).
    Update,
    /// Do not snapshot.
    Off,
}

/// The snapshot name for a scenario file: its path below the scenarios
/// folder, `/` replaced by `__`, without extension.
pub fn snapshot_name(scenario_file: &Path) -> String {
    let parts: Vec<String> = scenario_file
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    let below = match parts.iter().rposition(|p| p == "scenarios") {
        Some(i) => &parts[i + 1..],
        None => &parts[parts.len().saturating_sub(1)..],
    };
    let joined = below.join("__");
    joined
        .strip_suffix(".yaml")
        .or_else(|| joined.strip_suffix(".yml"))
        .unwrap_or(&joined)
        .to_string()
}

/// Compares (or writes) the snapshot `name` in `dir`. `suffix` separates
/// targets other than the reference one (`name@moto.snap`).
pub fn check(
    dir: &Path,
    name: &str,
    suffix: Option<&str>,
    input_file: &Path,
    description: &str,
    value: &Value,
    mode: SnapshotMode,
) -> Result<(), String> {
    if mode == SnapshotMode::Off {
        return Ok(());
    }
    static SERIAL: Mutex<()> = Mutex::new(());
    quiet_snapshot_panics();
    let dir: PathBuf = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(dir)
    };
    // insta prints its diff itself: one assertion at a time keeps output readable.
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(&dir);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_sort_maps(true);
    settings.set_omit_expression(true);
    settings.set_input_file(input_file);
    settings.set_description(description);
    if let Some(suffix) = suffix {
        settings.set_snapshot_suffix(suffix);
    }
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_yaml_snapshot!(name, value));
    }));
    outcome.map_err(|_| {
        let file = dir.join(match suffix {
            Some(s) => format!("{name}@{s}.snap"),
            None => format!("{name}.snap"),
        });
        if file.exists() {
            format!("snapshot {} differs (review with `cargo insta review`, or re-run with --update-snapshots)", file.display())
        } else {
            format!("no snapshot {} yet (create it with --update-snapshots, or `cargo insta review`)", file.display())
        }
    })
}

/// insta fails an assertion by panicking; we catch that, so keep the panic
/// message (not the diff insta already printed) off the terminal.
fn quiet_snapshot_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = info
                .payload()
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| info.payload().downcast_ref::<&str>().copied())
                .unwrap_or("");
            if !message.starts_with("snapshot assertion for") {
                previous(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_scenario_path() {
        assert_eq!(
            snapshot_name(Path::new("scenarios/admin/new-password.yaml")),
            "admin__new-password"
        );
        assert_eq!(
            snapshot_name(Path::new("/x/y/scenarios/signup.yml")),
            "signup"
        );
        assert_eq!(snapshot_name(Path::new("elsewhere/mine.yaml")), "mine");
    }
}
