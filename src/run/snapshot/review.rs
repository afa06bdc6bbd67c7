//! Accepting or rejecting the `.snap.new` files a mismatching run leaves,
//! without cargo: `cognito-scenarios review` works in a repository of YAML only.
//!
//! A pending file has the `.snap` format (insta's `.snap.new`); accepting it
//! makes it the snapshot (dropping insta's `assertion_line`, which `.snap`
//! files do not keep), rejecting it deletes it.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use console::style;

use super::file;

/// The pending file next to a snapshot: `<name>.snap` → `<name>.snap.new`.
pub fn pending_path(snapshot: &Path) -> PathBuf {
    let mut name = snapshot.file_name().unwrap_or_default().to_os_string();
    name.push(".new");
    snapshot.with_file_name(name)
}

/// One `.snap.new` waiting for a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// `<dir>/<name>.snap.new`.
    pub new_file: PathBuf,
    /// `<dir>/<name>.snap` (which may not exist yet).
    pub snapshot: PathBuf,
    /// The snapshot's name with its suffix (`mfa__totp-required`, `a__b@aws`).
    pub name: String,
}

impl Pending {
    /// The name without a `@target` suffix.
    fn base_name(&self) -> &str {
        self.name.split('@').next().unwrap_or(&self.name)
    }

    /// Whether `selector` names this snapshot: its name (with or without the
    /// `@target` suffix), its `.snap` or `.snap.new` file, or its scenario file.
    fn matches(&self, selector: &str) -> bool {
        if selector == self.name || selector == self.base_name() {
            return true;
        }
        let path = Path::new(selector);
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if file_name.ends_with(".snap") || file_name.ends_with(".snap.new") {
            let stem = file_name.trim_end_matches(".new").trim_end_matches(".snap");
            return stem == self.name;
        }
        if file_name.ends_with(".yaml") || file_name.ends_with(".yml") {
            return super::snapshot_name(path) == self.base_name();
        }
        false
    }

    /// Makes the pending file the snapshot.
    pub fn accept(&self) -> std::io::Result<()> {
        let text = std::fs::read_to_string(&self.new_file)?;
        std::fs::write(&self.snapshot, without_assertion_line(&text))?;
        std::fs::remove_file(&self.new_file)
    }

    /// Deletes the pending file.
    pub fn reject(&self) -> std::io::Result<()> {
        std::fs::remove_file(&self.new_file)
    }

    /// The scenario file recorded in the pending snapshot's header.
    fn scenario(&self) -> Option<String> {
        let text = std::fs::read_to_string(&self.new_file).ok()?;
        file::SnapFile::parse(&text).ok()?.header.input_file
    }

    /// A unified diff of the snapshot's body against the pending one (every
    /// line added when there is no snapshot yet).
    pub fn diff(&self, color: bool) -> std::io::Result<String> {
        let new = std::fs::read_to_string(&self.new_file)?;
        let old = match std::fs::read_to_string(&self.snapshot) {
            Ok(t) => file::body_of(&t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        let new = file::body_of(&new);
        let diff = similar::TextDiff::configure()
            .timeout(std::time::Duration::from_secs(1))
            .diff_lines(&old, &new);
        let mut out = String::new();
        let old_label = self.snapshot.display().to_string();
        let new_label = self.new_file.display().to_string();
        let unified = diff
            .unified_diff()
            .context_radius(3)
            .header(&old_label, &new_label)
            .to_string();
        for line in unified.lines() {
            let styled = match line.chars().next() {
                _ if !color => style(line),
                Some('+') => style(line).green(),
                Some('-') => style(line).red(),
                Some('@') => style(line).cyan(),
                _ => style(line),
            };
            out.push_str(&styled.force_styling(color).to_string());
            out.push('\n');
        }
        if out.is_empty() {
            out.push_str("(same value; only the header differs)\n");
        }
        Ok(out)
    }
}

/// insta writes `assertion_line` into `.snap.new` files only; `.snap` files do not keep it.
fn without_assertion_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_header = false;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end();
        if i == 0 && bare == "---" {
            in_header = true;
        } else if in_header && bare == "---" {
            in_header = false;
        } else if in_header && line.starts_with("assertion_line:") {
            continue;
        }
        out.push_str(line);
    }
    out
}

/// Every `.snap.new` in `dir`, sorted by name (none when `dir` does not exist yet).
pub fn pending(dir: &Path) -> Result<Vec<Pending>, String> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(name) = file_name.strip_suffix(".snap.new") else {
            continue;
        };
        if name.is_empty() || !path.is_file() {
            continue;
        }
        found.push(Pending {
            snapshot: path.with_file_name(format!("{name}.snap")),
            name: name.to_string(),
            new_file: path,
        });
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// The pending snapshots `selectors` name (all of them when there is none);
/// an error names each selector that matches nothing pending.
pub fn select(pending: Vec<Pending>, selectors: &[String]) -> Result<Vec<Pending>, String> {
    if selectors.is_empty() {
        return Ok(pending);
    }
    let unmatched: Vec<&String> = selectors
        .iter()
        .filter(|s| !pending.iter().any(|p| p.matches(s)))
        .collect();
    if !unmatched.is_empty() {
        let names: Vec<String> = unmatched.iter().map(|s| format!("`{s}`")).collect();
        return Err(format!("no pending snapshot for {}", names.join(", ")));
    }
    Ok(pending
        .into_iter()
        .filter(|p| selectors.iter().any(|s| p.matches(s)))
        .collect())
}

/// What became of the reviewed snapshots.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub accepted: usize,
    pub rejected: usize,
    pub skipped: usize,
}

impl Tally {
    /// `2 accepted, 1 rejected, 0 skipped`.
    pub fn line(&self) -> String {
        format!(
            "{} accepted, {} rejected, {} skipped",
            self.accepted, self.rejected, self.skipped
        )
    }
}

/// Shows each pending snapshot's diff on `output` and asks on `input`:
/// accept, reject, skip, or quit (the rest stay pending; so does everything at end of input).
pub fn interactive(
    pending: &[Pending],
    input: &mut dyn BufRead,
    output: &mut dyn Write,
    color: bool,
) -> std::io::Result<Tally> {
    let mut tally = Tally::default();
    for (i, p) in pending.iter().enumerate() {
        let scenario = p.scenario().map(|s| format!(" ({s})")).unwrap_or_default();
        writeln!(
            output,
            "\n{} {}{scenario}  [{}/{}]",
            style("snapshot").bold().force_styling(color),
            style(&p.name).bold().force_styling(color),
            i + 1,
            pending.len()
        )?;
        write!(output, "{}", p.diff(color)?)?;
        loop {
            write!(output, "accept (a), reject (r), skip (s), quit (q)? ")?;
            output.flush()?;
            let mut answer = String::new();
            if input.read_line(&mut answer)? == 0 {
                writeln!(output)?;
                tally.skipped += pending.len() - i;
                return Ok(tally);
            }
            match answer.trim().to_lowercase().as_str() {
                "a" | "accept" => {
                    p.accept()?;
                    tally.accepted += 1;
                }
                "r" | "reject" => {
                    p.reject()?;
                    tally.rejected += 1;
                }
                "s" | "skip" => tally.skipped += 1,
                "q" | "quit" => {
                    tally.skipped += pending.len() - i;
                    return Ok(tally);
                }
                _ => continue,
            }
            break;
        }
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cs-review-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        dir
    }

    const OLD: &str = "---\nsource: src/snapshot.rs\ndescription: d\n---\nsteps:\n  - one\n";
    const NEW: &str =
        "---\nsource: src/snapshot.rs\nassertion_line: 12\ndescription: d\n---\nsteps:\n  - two\n";

    #[test]
    fn pending_files_are_found_and_selected_by_name_file_or_scenario() {
        let dir = dir_with(&[
            ("a__b.snap", OLD),
            ("a__b.snap.new", NEW),
            ("a__b@aws.snap.new", NEW),
            ("c.snap.new", NEW),
            ("c.snap", OLD),
            ("notes.txt", ""),
        ]);
        assert!(pending(&dir.join("missing")).unwrap().is_empty());
        let all = pending(&dir).unwrap();
        let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a__b", "a__b@aws", "c"]);
        let pick = |s: &[&str]| {
            let s: Vec<String> = s.iter().map(|s| s.to_string()).collect();
            select(all.clone(), &s).map(|v| v.into_iter().map(|p| p.name).collect::<Vec<_>>())
        };
        assert_eq!(pick(&[]).unwrap().len(), 3);
        assert_eq!(pick(&["a__b"]).unwrap(), ["a__b", "a__b@aws"]);
        assert_eq!(pick(&["a__b@aws"]).unwrap(), ["a__b@aws"]);
        assert_eq!(pick(&["snapshots/c.snap"]).unwrap(), ["c"]);
        assert_eq!(pick(&["c.snap.new"]).unwrap(), ["c"]);
        assert_eq!(pick(&["scenarios/a/b.yaml"]).unwrap(), ["a__b", "a__b@aws"]);
        let err = pick(&["c", "zzz", "scenarios/x.yaml"]).unwrap_err();
        assert!(
            err.contains("`zzz`") && err.contains("`scenarios/x.yaml`"),
            "{err}"
        );
        assert!(!err.contains("`c`"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn interactive_review_accepts_rejects_skips_and_stops_at_the_end_of_input() {
        let dir = dir_with(&[
            ("a.snap", OLD),
            ("a.snap.new", NEW),
            ("b.snap.new", NEW),
            ("c.snap.new", NEW),
            ("d.snap.new", NEW),
        ]);
        let all = pending(&dir).unwrap();
        let mut input: &[u8] = b"what?\na\nreject\ns\n";
        let mut output = Vec::new();
        let tally = interactive(&all, &mut input, &mut output, false).unwrap();
        assert_eq!(
            tally,
            Tally {
                accepted: 1,
                rejected: 1,
                skipped: 2
            }
        );
        let shown = String::from_utf8(output).unwrap();
        assert!(shown.contains("-  - one\n+  - two\n"), "{shown}");
        // A new snapshot shows every line as added.
        assert!(shown.contains("+steps:\n+  - two\n"), "{shown}");
        // Accepted: the pending file became the snapshot, without insta's assertion_line.
        assert_eq!(
            std::fs::read_to_string(dir.join("a.snap")).unwrap(),
            NEW.replace("assertion_line: 12\n", "")
        );
        assert!(!dir.join("a.snap.new").exists());
        // Rejected: deleted, no snapshot made.
        assert!(!dir.join("b.snap.new").exists() && !dir.join("b.snap").exists());
        // Skipped, and left when the input ended: still pending.
        assert!(dir.join("c.snap.new").exists() && dir.join("d.snap.new").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
