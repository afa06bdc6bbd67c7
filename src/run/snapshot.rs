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

/// The suffix of AWS-validated reference snapshots (`name@aws.snap`).
pub const AWS_SUFFIX: &str = "aws";

/// Where AWS-validated snapshots were recorded, written as the snapshot's insta `info`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AwsValidation {
    /// Always `aws`.
    pub validated_against: String,
    pub region: String,
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
}

impl AwsValidation {
    /// Recorded today in `region`.
    pub fn today(region: &str) -> AwsValidation {
        AwsValidation {
            validated_against: AWS_SUFFIX.into(),
            region: region.into(),
            date: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        }
    }
}

/// The suffix of the snapshot a run on `target` (a [`crate::targets::TargetSpec::name`])
/// writes or compares with. The stub owns the unsuffixed snapshot; AWS writes
/// `@aws`; other targets write `@<target>`. When comparing, every target other
/// than the stub uses the AWS-validated `@aws` snapshot when `dir` has one, else the stub's.
pub fn suffix_for(dir: &Path, name: &str, target: &str, mode: SnapshotMode) -> Option<String> {
    match (target, mode) {
        ("stub", _) => None,
        (target, SnapshotMode::Update) => Some(target.to_string()),
        _ => dir
            .join(format!("{name}@{AWS_SUFFIX}.snap"))
            .exists()
            .then(|| AWS_SUFFIX.to_string()),
    }
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
    check_with_info(
        dir,
        name,
        suffix,
        input_file,
        description,
        value,
        mode,
        None,
    )
}

/// [`check`], also writing `info` into the snapshot's metadata (e.g. [`AwsValidation`]).
#[allow(clippy::too_many_arguments)]
pub fn check_with_info(
    dir: &Path,
    name: &str,
    suffix: Option<&str>,
    input_file: &Path,
    description: &str,
    value: &Value,
    mode: SnapshotMode,
    info: Option<&AwsValidation>,
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
    if let Some(info) = info {
        settings.set_info(info);
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

/// Which snapshot other targets are compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReferenceSource {
    /// `<name>@aws.snap`, recorded on real AWS (`--target aws --update-snapshots`).
    Aws,
    /// `<name>.snap`, the stub's.
    Stub,
}

impl ReferenceSource {
    /// `aws` or `stub`.
    pub fn name(self) -> &'static str {
        match self {
            ReferenceSource::Aws => "aws",
            ReferenceSource::Stub => "stub",
        }
    }
}

/// A reference snapshot, read back as JSON.
#[derive(Debug, Clone)]
pub struct Reference {
    pub source: ReferenceSource,
    /// The `.snap` file read.
    pub file: PathBuf,
    /// For AWS-validated snapshots: the recording date (`info.date`).
    pub validated_on: Option<String>,
    /// For AWS-validated snapshots: the region (`info.region`).
    pub region: Option<String>,
    /// `{scenario, steps: [...]}` as the engine produced it.
    pub transcript: Value,
}

/// Reads the reference snapshot of a scenario from `dir`: with
/// [`ReferenceSource::Aws`] preferred, the AWS-validated one when present and
/// otherwise the stub's; with [`ReferenceSource::Stub`], the stub's.
/// `Ok(None)` when there is none; `Err` when a file cannot be read or parsed.
pub fn load_reference(
    dir: &Path,
    scenario_file: &Path,
    preference: ReferenceSource,
) -> Result<Option<Reference>, String> {
    let name = snapshot_name(scenario_file);
    let mut candidates = vec![(ReferenceSource::Stub, dir.join(format!("{name}.snap")))];
    if preference == ReferenceSource::Aws {
        candidates.insert(
            0,
            (
                ReferenceSource::Aws,
                dir.join(format!("{name}@{AWS_SUFFIX}.snap")),
            ),
        );
    }
    for (source, file) in candidates {
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
        };
        let (header, transcript) =
            parse_snap(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        let info = |key: &str| {
            header
                .pointer(&format!("/info/{key}"))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        return Ok(Some(Reference {
            source,
            validated_on: info("date"),
            region: info("region"),
            file,
            transcript,
        }));
    }
    Ok(None)
}

/// Splits an insta `.snap` file into its metadata header and its YAML body, both as JSON.
fn parse_snap(text: &str) -> Result<(Value, Value), String> {
    let text = text.replace("\r\n", "\n");
    let rest = text
        .strip_prefix("---\n")
        .ok_or("not an insta snapshot (no `---` header)")?;
    let (header, body) = match rest.find("\n---\n") {
        Some(i) => (&rest[..i], &rest[i + 5..]),
        None => return Err("not an insta snapshot (header not closed by `---`)".into()),
    };
    let parse = |part: &str, what: &str| {
        crate::scenario::yaml::parse(part)
            .map(|n| n.to_json())
            .map_err(|e| format!("{what} line {}: {}", e.span.line, e.message))
    };
    Ok((parse(header, "header")?, parse(body, "body")?))
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
    fn other_targets_compare_with_aws_when_recorded_else_the_stub() {
        let dir = std::env::temp_dir().join(format!("cs-suffix-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let check = SnapshotMode::Check;
        assert_eq!(suffix_for(&dir, "a", "stub", check), None);
        assert_eq!(suffix_for(&dir, "a", "aws", check), None);
        assert_eq!(suffix_for(&dir, "a", "endpoint", check), None);
        assert_eq!(
            suffix_for(&dir, "a", "aws", SnapshotMode::Update).as_deref(),
            Some("aws")
        );
        std::fs::write(dir.join("a@aws.snap"), "").unwrap();
        assert_eq!(suffix_for(&dir, "a", "aws", check).as_deref(), Some("aws"));
        assert_eq!(
            suffix_for(&dir, "a", "endpoint", check).as_deref(),
            Some("aws")
        );
        assert_eq!(suffix_for(&dir, "a", "stub", check), None);
        assert_eq!(suffix_for(&dir, "b", "endpoint", check), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

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

    #[test]
    fn references_prefer_aws_when_asked_and_fall_back_to_the_stub() {
        let dir = std::env::temp_dir().join(format!("cs-ref-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let scenario = Path::new("scenarios/a/b.yaml");
        assert!(
            load_reference(&dir, scenario, ReferenceSource::Aws)
                .unwrap()
                .is_none()
        );
        std::fs::write(
            dir.join("a__b.snap"),
            "---\nsource: src/snapshot.rs\ndescription: d\n---\nscenario: d\nsteps:\n  - step: one\n    response:\n      ExpiresIn: 3600\n      Enabled: true\n      Value: \"true\"\n",
        )
        .unwrap();
        let stub = load_reference(&dir, scenario, ReferenceSource::Aws)
            .unwrap()
            .unwrap();
        assert_eq!(stub.source, ReferenceSource::Stub);
        assert_eq!(
            stub.transcript["steps"][0]["response"],
            serde_json::json!({"ExpiresIn": 3600, "Enabled": true, "Value": "true"})
        );
        std::fs::write(
            dir.join("a__b@aws.snap"),
            "---\nsource: src/snapshot.rs\ninfo:\n  validated_against: aws\n  date: 2026-11-20\n  region: eu-west-1\n---\nscenario: d\nsteps: []\n",
        )
        .unwrap();
        let aws = load_reference(&dir, scenario, ReferenceSource::Aws)
            .unwrap()
            .unwrap();
        assert_eq!(aws.source, ReferenceSource::Aws);
        assert_eq!(aws.validated_on.as_deref(), Some("2026-11-20"));
        assert_eq!(aws.region.as_deref(), Some("eu-west-1"));
        let stub_again = load_reference(&dir, scenario, ReferenceSource::Stub)
            .unwrap()
            .unwrap();
        assert_eq!(stub_again.source, ReferenceSource::Stub);
        std::fs::write(dir.join("a__b.snap"), "no header").unwrap();
        assert!(load_reference(&dir, scenario, ReferenceSource::Stub).is_err());
    }
}
