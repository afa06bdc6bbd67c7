//! Snapshots of normalised runs, compared and written by the runner itself.
//!
//! One `.snap` per scenario under `snapshots/`, named after the scenario's
//! path (`scenarios/admin/new-password.yaml` → `admin__new-password.snap`), in
//! insta's file format ([`file`]). A mismatch writes `<name>.snap.new` next to
//! the snapshot (nothing when the `CI` variable is set) for
//! `cognito-scenarios review` ([`review`]); `--update-snapshots` writes in place.
//! Only the runner's own flags decide: no environment variable changes a verdict.

pub mod file;
pub mod review;

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use file::{Header, SnapFile};

/// What to do with snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotMode {
    /// Compare with the stored snapshot; a mismatch fails and writes `.snap.new`.
    Check,
    /// Write the snapshot in place when it differs.
    Update,
    /// Do not snapshot.
    Off,
}

/// The snapshot name for a scenario file: its path below the last folder
/// named `scenarios` (the bundled layout), otherwise its path relative to the
/// current directory (the folder `snapshots/` lives in), `/` replaced by `__`,
/// without extension. Where `run` was pointed does not matter, so running a
/// subfolder or one file compares with the same snapshot as running everything.
pub fn snapshot_name(scenario_file: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let relative = scenario_file
        .strip_prefix(&cwd)
        .or_else(|_| {
            let canonical_cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.clone());
            scenario_file.strip_prefix(canonical_cwd)
        })
        .unwrap_or(scenario_file);
    let parts: Vec<String> = relative
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    let below = match parts.iter().rposition(|p| p == "scenarios") {
        Some(i) => &parts[i + 1..],
        None => &parts[..],
    };
    let joined = below.join("__");
    joined
        .strip_suffix(".yaml")
        .or_else(|| joined.strip_suffix(".yml"))
        .unwrap_or(&joined)
        .to_string()
}

/// Scenario files that would share a snapshot, one message per shared name
/// (empty when every name is unique). The same file named twice is not a clash.
pub fn name_collisions<'a>(files: impl IntoIterator<Item = &'a Path>) -> Vec<String> {
    let mut by_name: HashMap<String, Vec<&Path>> = HashMap::new();
    for file in files {
        let same = |other: &&Path| {
            other == &file
                || matches!((other.canonicalize(), file.canonicalize()), (Ok(a), Ok(b)) if a == b)
        };
        let entry = by_name.entry(snapshot_name(file)).or_default();
        if !entry.iter().any(same) {
            entry.push(file);
        }
    }
    let mut clashes: Vec<String> = by_name
        .into_iter()
        .filter(|(_, files)| files.len() > 1)
        .map(|(name, files)| {
            let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            format!(
                "{} would share the snapshot `{name}.snap`: rename one of them \
                 (names are the path below `scenarios/`, else below the current directory, `/` as `__`)",
                files.join(" and ")
            )
        })
        .collect();
    clashes.sort();
    clashes
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

/// Where one scenario's snapshot lives and the header it is written with.
#[derive(Debug, Clone)]
pub struct Entry {
    /// `<dir>/<name>[@suffix].snap`.
    pub file: PathBuf,
    pub header: Header,
}

impl Entry {
    /// The snapshot of `scenario_file` in `dir`; `suffix` separates targets
    /// other than the reference one (`name@moto.snap`); `info` goes into the
    /// header (e.g. [`AwsValidation`]).
    pub fn new(
        dir: &Path,
        scenario_file: &Path,
        suffix: Option<&str>,
        description: &str,
        info: Option<&AwsValidation>,
    ) -> Entry {
        let name = snapshot_name(scenario_file);
        let file = dir.join(match suffix {
            Some(s) => format!("{name}@{s}.snap"),
            None => format!("{name}.snap"),
        });
        Entry {
            file,
            header: Header {
                source: Some(file::SOURCE.to_string()),
                description: Some(description.to_string()),
                info: info.and_then(|i| serde_json::to_value(i).ok()),
                input_file: input_file(scenario_file),
            },
        }
    }

    /// The pending file a mismatch writes: `<name>.snap.new`.
    pub fn pending_file(&self) -> PathBuf {
        review::pending_path(&self.file)
    }
}

/// The scenario file as insta records it: relative to the current directory,
/// `/`-separated; none when it lies outside.
fn input_file(scenario_file: &Path) -> Option<String> {
    let cwd = std::env::current_dir().ok()?.canonicalize().ok()?;
    let file = cwd.join(scenario_file).canonicalize().ok()?;
    let relative = file.strip_prefix(&cwd).ok()?;
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

/// A snapshot that did not match (or could not be read or written).
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    pub message: String,
    /// The changed lines, old and new.
    pub details: Vec<String>,
    /// What to do about it.
    pub hint: Option<String>,
}

impl Mismatch {
    fn io(what: &str, file: &Path, e: std::io::Error) -> Mismatch {
        Mismatch {
            message: format!("cannot {what} {}: {e}", file.display()),
            details: Vec::new(),
            hint: None,
        }
    }
}

/// Changed lines shown in a failure; the rest is in the `.snap.new`.
const SHOWN_CHANGES: usize = 24;

/// Whether the `CI` variable says this is a CI run (as insta reads it: set and
/// not `false`, `0` or empty; or Azure's `TF_BUILD`). It only keeps `.snap.new`
/// files from being written; it never changes a verdict.
pub fn is_ci() -> bool {
    match std::env::var("CI").ok().as_deref() {
        Some("false" | "0" | "") => false,
        Some(_) => true,
        None => std::env::var_os("TF_BUILD").is_some(),
    }
}

/// Compares `value` with the snapshot, or writes it ([`SnapshotMode::Update`]:
/// only when the file would change). A match removes a stale `.snap.new`; a
/// mismatch writes one (not under CI) and says what changed.
pub fn check(entry: &Entry, value: &Value, mode: SnapshotMode) -> Result<(), Mismatch> {
    if mode == SnapshotMode::Off {
        return Ok(());
    }
    let rendered = file::render(&entry.header, value);
    let existing = match std::fs::read_to_string(&entry.file) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Mismatch::io("read", &entry.file, e)),
    };
    let pending = entry.pending_file();
    let write = |path: &Path| {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Mismatch::io("create", dir, e))?;
        }
        std::fs::write(path, &rendered).map_err(|e| Mismatch::io("write", path, e))
    };
    let remove_pending = || match std::fs::remove_file(&pending) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(Mismatch::io("remove", &pending, e))
        }
        _ => Ok(()),
    };
    if mode == SnapshotMode::Update {
        if existing.as_deref() != Some(rendered.as_str()) {
            write(&entry.file)?;
        }
        return remove_pending();
    }
    if let Some(old) = &existing
        && file::same_body(old, &rendered)
    {
        return remove_pending();
    }
    let ci = is_ci();
    if !ci {
        write(&pending)?;
    }
    let file = entry.file.display();
    let hint = if ci {
        format!("run with --update-snapshots where the change is intended, and commit {file}")
    } else {
        format!(
            "the new snapshot is in {}: accept it with `cognito-scenarios review`, or re-run with --update-snapshots",
            pending.display()
        )
    };
    let (message, details) = match &existing {
        Some(old) => (
            format!("snapshot {file} differs"),
            changed_lines(old, &rendered),
        ),
        None => (format!("no snapshot {file} yet"), Vec::new()),
    };
    Err(Mismatch {
        message,
        details,
        hint: Some(hint),
    })
}

/// The lines of the body that changed, numbered as in each file, at most
/// [`SHOWN_CHANGES`] of them.
fn changed_lines(old: &str, new: &str) -> Vec<String> {
    let (old_offset, new_offset) = (file::header_lines(old), file::header_lines(new));
    let (old_body, new_body) = (file::body_of(old), file::body_of(new));
    let diff = similar::TextDiff::configure()
        .timeout(std::time::Duration::from_secs(1))
        .diff_lines(&old_body, &new_body);
    let mut lines = Vec::new();
    for change in diff.iter_all_changes() {
        let text = change.value().trim_end_matches('\n');
        match (change.tag(), change.old_index(), change.new_index()) {
            (similar::ChangeTag::Delete, Some(i), _) => {
                lines.push(format!("line {} was: {text}", i + 1 + old_offset))
            }
            (similar::ChangeTag::Insert, _, Some(i)) => {
                lines.push(format!("line {} now: {text}", i + 1 + new_offset))
            }
            _ => {}
        }
    }
    if lines.len() > SHOWN_CHANGES {
        let more = lines.len() - SHOWN_CHANGES;
        lines.truncate(SHOWN_CHANGES);
        lines.push(format!("… and {more} more changed line(s)"));
    }
    lines
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
        let parsed = SnapFile::parse(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        let transcript = parsed
            .value()
            .map_err(|e| format!("{}: {e}", file.display()))?;
        let info = |key: &str| {
            parsed
                .header
                .info
                .as_ref()
                .and_then(|i| i.get(key))
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
        // Outside `scenarios/`: the path below the current directory, so
        // same-named files in different folders get different snapshots.
        assert_eq!(
            snapshot_name(Path::new("qa/login/basic.yaml")),
            "qa__login__basic"
        );
        assert_eq!(
            snapshot_name(Path::new("qa/signup/basic.yaml")),
            "qa__signup__basic"
        );
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            snapshot_name(&cwd.join("qa/login/basic.yaml")),
            "qa__login__basic"
        );
        assert_eq!(snapshot_name(Path::new("./mine.yml")), "mine");
    }

    #[test]
    fn scenarios_that_would_share_a_snapshot_are_named() {
        let files = [
            Path::new("qa/login/basic.yaml"),
            Path::new("qa/signup/basic.yaml"),
            Path::new("qa/signup/basic.yaml"),
            Path::new("scenarios/mfa/totp.yaml"),
        ];
        assert!(name_collisions(files).is_empty());
        let clashes = name_collisions([
            Path::new("a/b__c.yaml"),
            Path::new("a__b/c.yml"),
            Path::new("x/scenarios/a__b/c.yaml"),
            Path::new("ok.yaml"),
        ]);
        assert_eq!(clashes.len(), 1, "{clashes:?}");
        assert!(
            clashes[0].starts_with(
                "a/b__c.yaml and a__b/c.yml and x/scenarios/a__b/c.yaml would share the snapshot `a__b__c.snap`"
            ),
            "{clashes:?}"
        );
    }

    #[test]
    fn a_mismatch_writes_snap_new_and_update_writes_only_changes() {
        let dir = std::env::temp_dir().join(format!("cs-check-{}", uuid::Uuid::new_v4()));
        let scenario = Path::new("scenarios/a/b.yaml");
        let entry = Entry::new(&dir, scenario, None, "d", None);
        let value = serde_json::json!({"scenario": "d", "steps": [{"step": "one", "n": 1}]});
        let check_mode = SnapshotMode::Check;
        let missing = check(&entry, &value, check_mode).unwrap_err();
        assert!(missing.message.starts_with("no snapshot"), "{missing:?}");
        if !is_ci() {
            assert!(entry.pending_file().exists());
        }
        check(&entry, &value, SnapshotMode::Update).unwrap();
        assert!(!entry.pending_file().exists());
        let written = std::fs::read_to_string(&entry.file).unwrap();
        assert_eq!(
            written,
            "---\nsource: src/snapshot.rs\ndescription: d\n---\nscenario: d\nsteps:\n  - n: 1\n    step: one\n"
        );
        check(&entry, &value, check_mode).unwrap();
        // A different header alone is no mismatch.
        let renamed = Entry::new(&dir, scenario, None, "renamed", None);
        check(&renamed, &value, check_mode).unwrap();
        let changed = serde_json::json!({"scenario": "d", "steps": [{"step": "one", "n": 2}]});
        let differs = check(&entry, &changed, check_mode).unwrap_err();
        assert!(differs.message.ends_with("b.snap differs"), "{differs:?}");
        assert_eq!(
            differs.details,
            ["line 7 was:   - n: 1", "line 7 now:   - n: 2"]
        );
        let hint = differs.hint.as_deref().unwrap();
        assert!(
            is_ci() || hint.contains("cognito-scenarios review"),
            "{hint}"
        );
        assert_eq!(std::fs::read_to_string(&entry.file).unwrap(), written);
        std::fs::remove_dir_all(&dir).unwrap();
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
