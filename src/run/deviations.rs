//! Known deviations of a target from AWS, listed with a reason
//! (`expectations/<target>.yaml`).
//!
//! A scenario encodes AWS's behaviour, never an emulator's. Where an emulator
//! is known to differ, the difference is listed here instead of weakening the
//! scenario: a listed difference does not fail the run, an unlisted one does,
//! and a listed one that no longer happens is reported so the list shrinks.
//!
//! ```yaml
//! - scenario: scenarios/new-password/admin-user-password-auth.yaml
//!   step: first sign-in asks for a new password
//!   path: ChallengeParameters.USER_ID_FOR_SRP     # omit to accept any difference in the step
//!   kind: missing-field
//!   reason: moto answers NEW_PASSWORD_REQUIRED with empty ChallengeParameters
//! ```
//!
//! A `path` covers differences at it and below it. `kind` is one of
//! [`DeviationKind::NAMES`]. A `*` in `scenario`, `step` or `path` matches
//! any run of characters: `scenario: "*"`, `step: "*"` with a `path` is a
//! target-wide entry, one reason for the same difference in every step (an
//! entry for the step itself wins over it).

use std::path::{Path, PathBuf};

use crate::scenario::Diagnostic;
use crate::scenario::diagnostic::did_you_mean;
use crate::scenario::yaml::{self, Span};

/// One listed deviation.
#[derive(Debug, Clone, PartialEq)]
pub struct Deviation {
    pub scenario: String,
    pub step: String,
    /// The response path that differs; `None` for any difference in the step.
    pub path: Option<String>,
    pub kind: DeviationKind,
    pub reason: String,
}

impl Deviation {
    /// Whether this entry covers a difference at `path` (a response path; `""`
    /// for the whole step): at its own path or below it, or anywhere in the
    /// step when it names no path. A `*` in the entry's path matches any run
    /// of characters (`AuthenticationResult.*Token.header.typ`).
    pub fn covers(&self, path: &str) -> bool {
        match self.path.as_deref() {
            None => true,
            Some(p) if p.contains('*') => {
                glob(p, path)
                    || path
                        .char_indices()
                        .filter(|(_, c)| *c == '.' || *c == '[')
                        .any(|(i, _)| glob(p, &path[..i]))
            }
            Some(p) => {
                path == p
                    || path
                        .strip_prefix(p)
                        .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
            }
        }
    }

    /// A target-wide entry: its `scenario` or `step` has a `*`, so one
    /// reason covers the same difference wherever it occurs.
    pub fn is_wide(&self) -> bool {
        self.scenario.contains('*') || self.step.contains('*')
    }

    /// Whether the entry is for scenario file `scenario`.
    pub fn names_scenario(&self, scenario: &str) -> bool {
        glob(&self.scenario, scenario)
    }

    /// Whether the entry is for step `step`.
    pub fn names_step(&self, step: &str) -> bool {
        glob(&self.step, step)
    }
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters
/// (none included) and everything else itself.
fn glob(pattern: &str, text: &str) -> bool {
    let Some((first, rest)) = pattern.split_once('*') else {
        return pattern == text;
    };
    let Some(mut text) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = rest.split('*').collect();
    let (last, middle) = parts.split_last().unwrap_or((&"", &[]));
    for part in middle {
        match text.find(part) {
            Some(at) => text = &text[at + part.len()..],
            None => return false,
        }
    }
    text.len() >= last.len() && text.ends_with(last)
}

/// `step › path: reason`, as shown next to a scenario's result.
impl std::fmt::Display for Deviation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{} › {path}: {}", self.step, self.reason),
            None => write!(f, "{}: {}", self.step, self.reason),
        }
    }
}

/// What sort of difference a deviation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviationKind {
    /// The field is there with another value.
    DifferentValue,
    /// AWS sends the field; the target does not.
    MissingField,
    /// The target sends a field AWS does not.
    ExtraField,
    /// The call fails with another error code, or fails where AWS succeeds (or the reverse).
    WrongError,
    /// A check AWS makes (a code, a hash, a session) is not made by the target.
    NotEnforced,
    /// The target does not implement the operation or feature: the step is
    /// known-unsupported (whatever the target answered) and the scenario goes
    /// on; steps that need what it would have saved are blocked.
    Unsupported,
}

impl DeviationKind {
    /// The names used in expectation files.
    pub const NAMES: &'static [&'static str] = &[
        "different-value",
        "missing-field",
        "extra-field",
        "wrong-error",
        "not-enforced",
        "unsupported",
    ];
    const ALL: [DeviationKind; 6] = [
        DeviationKind::DifferentValue,
        DeviationKind::MissingField,
        DeviationKind::ExtraField,
        DeviationKind::WrongError,
        DeviationKind::NotEnforced,
        DeviationKind::Unsupported,
    ];

    /// The name used in expectation files.
    pub fn name(self) -> &'static str {
        Self::NAMES[Self::ALL.iter().position(|k| *k == self).unwrap_or(0)]
    }

    /// Parses a name used in expectation files.
    pub fn parse(name: &str) -> Option<DeviationKind> {
        Self::NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| Self::ALL[i])
    }
}

/// The deviations listed for one target.
#[derive(Debug, Clone, Default)]
pub struct Deviations {
    pub file: Option<PathBuf>,
    pub entries: Vec<Deviation>,
}

const KEYS: &[&str] = &["scenario", "step", "path", "kind", "reason"];

impl Deviations {
    /// Reads an expectation file; every problem is reported with its position.
    pub fn load(path: &Path) -> Result<Deviations, Vec<Diagnostic>> {
        let err = |span: Span, m: String| Diagnostic::new(path, span, m);
        // Until it is a list, it may be any file: never quote it.
        let opaque = |span: Span, m: String| vec![err(span, m).without_source()];
        let text = std::fs::read_to_string(path)
            .map_err(|e| opaque(Span::at(1, 1), format!("cannot read file: {e}")))?;
        let root = yaml::parse(&text)
            .map_err(|e| opaque(e.span, format!("YAML syntax: {}", e.message)))?;
        let items = match root.as_seq() {
            Some(items) => items,
            None if root.as_map().is_none() && root.as_str().is_none() => &[],
            None => {
                return Err(opaque(
                    root.span,
                    "an expectation file is a list of deviations".into(),
                ));
            }
        };
        let mut diags = Vec::new();
        let mut entries = Vec::new();
        for item in items {
            let Some(map) = item.as_map() else {
                diags.push(err(
                    item.span,
                    "each deviation is a mapping with scenario, step, path, kind and reason".into(),
                ));
                continue;
            };
            for (k, _) in map {
                if !KEYS.contains(&k.name.as_str()) {
                    let mut d = err(k.span, format!("unknown key `{}` in a deviation", k.name));
                    d.hint = did_you_mean(&k.name, KEYS.iter().copied())
                        .map(|s| format!("did you mean `{s}`?"));
                    diags.push(d);
                }
            }
            let text = |key: &str| {
                item.get(key)
                    .and_then(|n| n.as_str())
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            };
            let kind = match (text("kind"), item.get("kind")) {
                (Some(name), Some(node)) => match DeviationKind::parse(&name) {
                    Some(kind) => kind,
                    None => {
                        let mut d = err(node.span, format!("unknown deviation kind `{name}`"));
                        d.hint = Some(
                            match did_you_mean(&name, DeviationKind::NAMES.iter().copied()) {
                                Some(s) => format!("did you mean `{s}`?"),
                                None => format!("use one of: {}", DeviationKind::NAMES.join(", ")),
                            },
                        );
                        diags.push(d);
                        continue;
                    }
                },
                _ => {
                    let mut d = err(item.span, "a deviation needs a `kind`".into());
                    d.hint = Some(format!("use one of: {}", DeviationKind::NAMES.join(", ")));
                    diags.push(d);
                    continue;
                }
            };
            match (text("scenario"), text("step"), text("reason"), kind) {
                (Some(scenario), Some(step), Some(reason), kind) => entries.push(Deviation {
                    scenario,
                    step,
                    path: text("path"),
                    kind,
                    reason,
                }),
                (_, _, None, _) => diags.push(err(
                    item.span,
                    "a deviation needs a `reason`: say why the target differs".into(),
                )),
                _ => diags.push(err(
                    item.span,
                    "a deviation needs `scenario` (file path) and `step` (step name)".into(),
                )),
            }
        }
        if diags.is_empty() {
            Ok(Deviations {
                file: Some(path.to_path_buf()),
                entries,
            })
        } else {
            Err(diags)
        }
    }

    /// The deviation that covers a difference at `path` in `step` of
    /// `scenario` (`unsupported` entries cover only unsupported answers); an
    /// entry for the step itself wins over a target-wide one.
    pub fn find(&self, scenario: &Path, step: &str, path: &str) -> Option<&Deviation> {
        let scenario = scenario.to_string_lossy();
        self.entries
            .iter()
            .filter(|d| {
                d.names_scenario(&scenario)
                    && d.names_step(step)
                    && d.kind != DeviationKind::Unsupported
                    && d.covers(path)
            })
            // An entry for this step before a target-wide one.
            .min_by_key(|d| d.is_wide())
    }

    /// The `unsupported` entry for `step` of `scenario`: the target does not
    /// implement what the step needs, so the step is known-unsupported
    /// (whatever the target answered there).
    pub fn find_unsupported(&self, scenario: &Path, step: &str) -> Option<&Deviation> {
        let scenario = scenario.to_string_lossy();
        self.entries.iter().find(|d| {
            d.names_scenario(&scenario)
                && d.names_step(step)
                && d.kind == DeviationKind::Unsupported
        })
    }

    /// The deviations listed for `scenario` (target-wide entries included).
    pub fn for_scenario<'a>(
        &'a self,
        scenario: &'a Path,
    ) -> impl Iterator<Item = &'a Deviation> + 'a {
        let scenario = scenario.to_string_lossy().into_owned();
        self.entries
            .iter()
            .filter(move |d| d.names_scenario(&scenario))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("cs-deviations-{}.yaml", uuid::Uuid::new_v4()));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn stars_match_any_run_of_characters() {
        for (pattern, text, expected) in [
            ("*", "", true),
            ("*", "anything at all", true),
            (
                "scenarios/srp/*.yaml",
                "scenarios/srp/wrong-credentials.yaml",
                true,
            ),
            ("scenarios/srp/*.yaml", "scenarios/srp.yaml", false),
            ("a*b*c", "abc", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "acb", false),
            ("*b*b", "b", false),
            ("exact", "exact", true),
            ("exact", "exactly", false),
        ] {
            assert_eq!(glob(pattern, text), expected, "{pattern} ~ {text}");
        }
    }

    #[test]
    fn a_target_wide_entry_covers_its_path_and_below_in_every_step() {
        let entry = |scenario: &str, step: &str, path: &str| Deviation {
            scenario: scenario.into(),
            step: step.into(),
            path: Some(path.into()),
            kind: DeviationKind::ExtraField,
            reason: "r".into(),
        };
        let wide = entry("*", "*", "AuthenticationResult.*Token.header.typ");
        assert!(
            wide.is_wide() && wide.names_scenario("scenarios/a.yaml") && wide.names_step("sign in")
        );
        assert!(wide.covers("AuthenticationResult.AccessToken.header.typ"));
        assert!(wide.covers("AuthenticationResult.IdToken.header.typ"));
        assert!(wide.covers("AuthenticationResult.IdToken.header.typ.deeper"));
        assert!(!wide.covers("AuthenticationResult.IdToken.header"));
        assert!(!wide.covers("AuthenticationResult.IdToken.header.typx"));
        let narrow = entry(
            "scenarios/a.yaml",
            "sign in",
            "AuthenticationResult.AccessToken.header.typ",
        );
        assert!(!narrow.is_wide() && !narrow.names_step("sign in again"));
        // The entry for the step wins over the target-wide one, wherever it is listed.
        let deviations = Deviations {
            file: None,
            entries: vec![wide.clone(), narrow.clone()],
        };
        let path = "AuthenticationResult.AccessToken.header.typ";
        assert_eq!(
            deviations.find(Path::new("scenarios/a.yaml"), "sign in", path),
            Some(&narrow)
        );
        assert_eq!(
            deviations.find(Path::new("scenarios/b.yaml"), "sign in", path),
            Some(&wide)
        );
    }

    #[test]
    fn loads_and_matches_paths_and_whole_steps() {
        let path = write(
            "- scenario: s.yaml\n  step: sign in\n  path: ChallengeParameters\n  kind: missing-field\n  reason: r\n- scenario: s.yaml\n  step: other\n  kind: wrong-error\n  reason: r2\n",
        );
        let d = Deviations::load(&path).unwrap();
        assert!(
            d.find(
                Path::new("s.yaml"),
                "sign in",
                "ChallengeParameters.USER_ID_FOR_SRP"
            )
            .is_some()
        );
        assert!(
            d.find(Path::new("s.yaml"), "sign in", "ChallengeParametersX")
                .is_none()
        );
        assert!(d.find(Path::new("s.yaml"), "other", "anything").is_some());
        assert!(d.entries[0].covers("ChallengeParameters[0]"));
        assert!(!d.entries[0].covers(""));
        assert_eq!(d.entries[0].to_string(), "sign in › ChallengeParameters: r");
        assert!(
            d.find(Path::new("t.yaml"), "sign in", "ChallengeParameters")
                .is_none()
        );
        assert_eq!(d.for_scenario(Path::new("s.yaml")).count(), 2);
    }

    #[test]
    fn unsupported_entries_cover_only_unsupported_answers() {
        let path = write(
            "- scenario: s.yaml\n  step: verify\n  kind: unsupported\n  reason: not implemented\n",
        );
        let d = Deviations::load(&path).unwrap();
        assert!(d.find(Path::new("s.yaml"), "verify", "Status").is_none());
        assert!(d.find(Path::new("s.yaml"), "verify", "").is_none());
        assert!(d.find_unsupported(Path::new("s.yaml"), "verify").is_some());
        assert!(d.find_unsupported(Path::new("s.yaml"), "other").is_none());
    }

    #[test]
    fn a_file_that_is_not_an_expectation_list_is_never_quoted() {
        for text in [
            "aws_access_key_id = AKIAFAKESECRET\n",
            "[default\nkey = AKIAFAKESECRET\n",
        ] {
            let path = write(text);
            let diags = Deviations::load(&path).unwrap_err();
            let shown = diags[0].render(Some(text), false);
            assert!(!shown.contains("AKIAFAKESECRET"), "{shown}");
        }
    }

    #[test]
    fn a_reason_is_required_and_keys_are_checked() {
        let path = write(
            "- scenario: s.yaml\n  step: x\n  kind: missing-feld\n  reson: typo\n- scenario: s.yaml\n  step: y\n  kind: wrong-error\n  reson: typo\n",
        );
        let diags = Deviations::load(&path).unwrap_err();
        assert!(
            diags
                .iter()
                .any(|d| d.message.contains("unknown key `reson`")
                    && d.hint.as_deref() == Some("did you mean `reason`?"))
        );
        assert!(diags.iter().any(|d| d.message.contains("needs a `reason`")));
        assert!(
            diags
                .iter()
                .any(|d| d.message.contains("unknown deviation kind")
                    && d.hint.as_deref() == Some("did you mean `missing-field`?"))
        );
    }
}
