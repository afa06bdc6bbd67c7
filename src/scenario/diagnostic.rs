//! Problems in scenario files, pointing at file, line and column with a
//! caret under the offending text and a hint, as compilers do.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::yaml::Span;

/// One problem in one file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub span: Span,
    pub message: String,
    pub hint: Option<String>,
    /// Whether rendering may quote the file's line: false for files that are
    /// not scenarios or flows (a credentials file named by `use:` must never
    /// be echoed), whatever source the caller hands to [`Diagnostic::render`].
    pub show_source: bool,
}

impl Diagnostic {
    /// A problem at `span` of `file`.
    pub fn new(file: impl Into<PathBuf>, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.into(),
            span,
            message: message.into(),
            hint: None,
            show_source: true,
        }
    }

    /// Never quotes the file when rendered (see [`Diagnostic::show_source`]).
    pub fn without_source(mut self) -> Self {
        self.show_source = false;
        self
    }

    /// Adds a hint line.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// `file:line:col`.
    pub fn location(&self) -> String {
        location(&self.file, self.span)
    }

    /// Renders the problem with the source line and a caret, like
    ///
    /// ```text
    /// error: unknown key `cal`
    ///   --> scenarios/signup.yaml:12:5
    ///    |
    /// 12 |   - cal: SignUp
    ///    |     ^^^
    ///    = hint: did you mean `call`?
    /// ```
    pub fn render(&self, source: Option<&str>, color: bool) -> String {
        let paint = |code: &str, text: &str| {
            if color {
                format!("\x1b[{code}m{text}\x1b[0m")
            } else {
                text.to_string()
            }
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: {}",
            paint("1;31", "error"),
            paint("1", &self.message)
        );
        let _ = writeln!(out, "  {} {}", paint("34", "-->"), self.location());
        let source = source.filter(|_| self.show_source);
        let line_text = source.and_then(|s| s.lines().nth(self.span.line.saturating_sub(1)));
        if let Some(text) = line_text {
            let number = self.span.line.to_string();
            let pad = " ".repeat(number.len());
            let bar = paint("34", "|");
            let _ = writeln!(out, "{pad} {bar}");
            let start = self.span.col.max(1);
            let length = text.chars().count();
            let width = if self.span.end_line == self.span.line && self.span.end_col > start {
                self.span.end_col - start
            } else {
                length.saturating_sub(start - 1).max(1)
            };
            // A long line is shown as a window around the column.
            let first = if length > LINE_WIDTH {
                (start - 1).saturating_sub(LINE_WIDTH / 3)
            } else {
                0
            };
            let mut shown: String = text.chars().skip(first).take(LINE_WIDTH).collect();
            let mut offset = start - 1 - first;
            if first > 0 {
                shown.insert(0, '…');
                offset += 1;
            }
            if length > first + LINE_WIDTH {
                shown.push('…');
            }
            let _ = writeln!(out, "{} {bar} {}", paint("34", &number), shown);
            let caret = format!("{}{}", " ".repeat(offset), "^".repeat(width.min(80)));
            let _ = writeln!(out, "{pad} {bar} {}", paint("1;31", &caret));
            if let Some(hint) = &self.hint {
                let _ = writeln!(
                    out,
                    "{pad} {} {}",
                    paint("34", "="),
                    paint("36", &format!("hint: {hint}"))
                );
            }
        } else if let Some(hint) = &self.hint {
            let _ = writeln!(out, "   = hint: {hint}");
        }
        out
    }
}

/// Characters of a source line shown at most.
const LINE_WIDTH: usize = 120;

/// `file:line:col` for a span.
pub fn location(file: &Path, span: Span) -> String {
    format!("{}:{}:{}", file.display(), span.line, span.col)
}

/// The closest candidate to `word`, for "did you mean" hints: within one
/// edit, else the only candidate that starts with `word` (`MfaConfig` →
/// `MfaConfiguration`), else the closest within a third of its length.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    let near = candidates
        .iter()
        .find(|c| strsim::damerau_levenshtein(&lower, &c.to_ascii_lowercase()) <= 1);
    let mut prefixed = candidates
        .iter()
        .filter(|c| lower.len() >= 3 && c.to_ascii_lowercase().starts_with(&lower));
    if let Some(c) = near.or_else(|| match (prefixed.next(), prefixed.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }) {
        return Some(c);
    }
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(&lower, &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_line_caret_and_hint() {
        let d = Diagnostic::new(
            "s.yaml",
            Span {
                line: 2,
                col: 5,
                end_line: 2,
                end_col: 8,
            },
            "unknown key `cal`",
        )
        .with_hint("did you mean `call`?");
        let text = d.render(Some("steps:\n  - cal: SignUp\n"), false);
        assert!(text.contains("--> s.yaml:2:5"), "{text}");
        assert!(text.contains("2 |   - cal: SignUp"), "{text}");
        assert!(text.contains("  |     ^^^\n"), "{text}");
        assert!(text.contains("= hint: did you mean `call`?"), "{text}");
    }

    #[test]
    fn a_diagnostic_without_source_never_quotes_the_file() {
        let d = Diagnostic::new("creds", Span::at(1, 1), "not a flow file").without_source();
        let text = d.render(Some("aws_access_key_id = AKIASECRET\n"), false);
        assert!(!text.contains("AKIASECRET"), "{text}");
        assert!(text.contains("--> creds:1:1"), "{text}");
    }

    #[test]
    fn long_lines_are_shown_as_a_window_around_the_column() {
        let line = format!("{}bad{}", "x".repeat(5_000), "y".repeat(5_000));
        let d = Diagnostic::new(
            "s.yaml",
            Span {
                line: 1,
                col: 5_001,
                end_line: 1,
                end_col: 5_004,
            },
            "bad",
        );
        let text = d.render(Some(&line), false);
        let lines: Vec<&str> = text.lines().collect();
        let (shown, caret) = (lines[3], lines[4]);
        assert!(shown.chars().count() < 140, "{shown}");
        let at = shown.chars().position(|c| c == 'b');
        assert_eq!(caret.chars().position(|c| c == '^'), at, "{text}");
        assert!(caret.ends_with("^^^"), "{caret}");
    }

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("cal", ["call", "name", "with"]), Some("call"));
        assert_eq!(did_you_mean("expcet", ["expect", "save"]), Some("expect"));
        assert_eq!(did_you_mean("banana", ["call", "name"]), None);
        assert_eq!(
            did_you_mean("MfaConfig", ["LambdaConfig", "MfaConfiguration"]),
            Some("MfaConfiguration")
        );
    }
}
