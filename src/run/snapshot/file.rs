//! The `.snap` file format, written by the runner itself.
//!
//! insta's format, byte for byte: a YAML metadata header between `---` lines
//! (`source`, `description`, `info`, `input_file`), then the value as YAML.
//! The YAML writer follows insta's emitter (its quoting rules, two-space
//! indentation, `- ` items inline, `~` for null) with the value's maps sorted
//! by key, so the files insta wrote stay byte-identical. Nothing here reads
//! the environment: no `INSTA_*` variable can change a file or a verdict.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// What insta records as the file that made the assertion; kept so the
/// committed snapshots stay byte-identical.
pub const SOURCE: &str = "src/snapshot.rs";

/// The metadata header of a snapshot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Header {
    /// insta's `source` (always [`SOURCE`] for the files we write).
    pub source: Option<String>,
    /// The scenario's name.
    pub description: Option<String>,
    /// Free-form metadata, written in its own key order (e.g. where an AWS
    /// reference was recorded).
    pub info: Option<Value>,
    /// The scenario file, relative to the current directory.
    pub input_file: Option<String>,
}

impl Header {
    /// The header as a YAML mapping, fields in insta's order.
    fn to_value(&self) -> Value {
        let mut map = Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(v) = value {
                map.insert(key.to_string(), v);
            }
        };
        put("source", self.source.clone().map(Value::String));
        put(
            "description",
            self.description
                .clone()
                .filter(|d| !d.is_empty())
                .map(Value::String),
        );
        put("info", self.info.clone().filter(|i| !i.is_null()));
        put("input_file", self.input_file.clone().map(Value::String));
        Value::Object(map)
    }

    /// Reads a header back (unknown fields, such as insta's `assertion_line`, are ignored).
    fn from_value(value: &Value) -> Header {
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
        Header {
            source: text("source"),
            description: text("description"),
            info: value.get("info").filter(|i| !i.is_null()).cloned(),
            input_file: text("input_file"),
        }
    }
}

/// The whole `.snap` file for `value`: header, `---`, the value with sorted maps.
pub fn render(header: &Header, value: &Value) -> String {
    let mut out = String::from("---\n");
    out.push_str(&emit(&header.to_value(), false));
    out.push_str("\n---\n");
    out.push_str(&render_body(value));
    out
}

/// The part of a `.snap` file after its header: the value as YAML, maps sorted.
pub fn render_body(value: &Value) -> String {
    let mut body = emit(value, true);
    body.truncate(body.trim_end().len());
    body.push('\n');
    body
}

/// A `.snap` file split into its header and its body text.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapFile {
    pub header: Header,
    /// The body as written (after the header's closing `---`).
    pub body: String,
}

impl SnapFile {
    /// Splits a `.snap` file; an error says why it is not one.
    pub fn parse(text: &str) -> Result<SnapFile, String> {
        let (header, body) = split(text)?;
        let header = parse_yaml(header, "header")?;
        Ok(SnapFile {
            header: Header::from_value(&header),
            body: body.to_string(),
        })
    }

    /// The body as JSON.
    pub fn value(&self) -> Result<Value, String> {
        parse_yaml(&self.body, "body")
    }
}

/// The header and body text of a `.snap` file (line endings normalised).
fn split(text: &str) -> Result<(&str, &str), String> {
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
        .ok_or("not a snapshot file (no `---` header)")?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            return Ok((&rest[..offset], &rest[offset + line.len()..]));
        }
        offset += line.len();
    }
    Err("not a snapshot file (header not closed by `---`)".into())
}

/// Whether two `.snap` texts hold the same value, as insta compares them:
/// the bodies, ignoring the header, trailing whitespace and CRLF line ends.
/// A text that is not a snapshot file matches nothing.
pub fn same_body(a: &str, b: &str) -> bool {
    match (split(a), split(b)) {
        (Ok((_, a)), Ok((_, b))) => normalize_body(a) == normalize_body(b),
        _ => false,
    }
}

/// The body of a `.snap` text for comparing and showing; the whole text when it is not one.
pub fn body_of(text: &str) -> String {
    normalize_body(split(text).map_or(text, |(_, body)| body)) + "\n"
}

/// The number of lines before the body (for line numbers in the whole file).
pub fn header_lines(text: &str) -> usize {
    split(text).map_or(0, |(header, _)| header.lines().count() + 2)
}

fn normalize_body(body: &str) -> String {
    body.replace("\r\n", "\n").trim_end().to_string()
}

fn parse_yaml(text: &str, what: &str) -> Result<Value, String> {
    let text = text.replace("\r\n", "\n");
    crate::scenario::yaml::parse(&text)
        .map(|n| n.to_json())
        .map_err(|e| format!("{what} line {}: {}", e.span.line, e.message))
}

/// `value` as insta's YAML emitter writes it, without the leading `---` line
/// and without a final newline.
fn emit(value: &Value, sort_maps: bool) -> String {
    let mut emitter = Emitter {
        out: String::new(),
        level: -1,
        sort_maps,
    };
    emitter.node(value);
    emitter.out
}

struct Emitter {
    out: String,
    level: isize,
    sort_maps: bool,
}

impl Emitter {
    fn indent(&mut self) {
        for _ in 0..self.level.max(0) {
            self.out.push_str("  ");
        }
    }

    fn node(&mut self, value: &Value) {
        match value {
            Value::Array(items) => self.array(items),
            Value::Object(map) => self.map(map),
            Value::String(s) => self.string(s),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => {
                // insta writes integers as themselves and floats with Rust's `Display`.
                let text = match (n.as_u64(), n.as_i64(), n.as_f64()) {
                    (Some(u), _, _) => u.to_string(),
                    (None, Some(i), _) => i.to_string(),
                    (None, None, Some(f)) => f.to_string(),
                    (None, None, None) => n.to_string(),
                };
                self.out.push_str(&text);
            }
            Value::Null => self.out.push('~'),
        }
    }

    fn array(&mut self, items: &[Value]) {
        if items.is_empty() {
            self.out.push_str("[]");
            return;
        }
        self.level += 1;
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push('\n');
                self.indent();
            }
            self.out.push('-');
            self.value_after(true, item);
        }
        self.level -= 1;
    }

    fn map(&mut self, map: &Map<String, Value>) {
        if map.is_empty() {
            self.out.push_str("{}");
            return;
        }
        let mut entries: Vec<(&String, &Value)> = map.iter().collect();
        if self.sort_maps {
            entries.sort_by(|a, b| a.0.cmp(b.0));
        }
        self.level += 1;
        for (i, (key, value)) in entries.into_iter().enumerate() {
            if i > 0 {
                self.out.push('\n');
                self.indent();
            }
            self.string(key);
            self.out.push(':');
            self.value_after(false, value);
        }
        self.level -= 1;
    }

    /// A value after `-` (`inline`) or after `key:`: collections of a key go
    /// on the next line, indented; everything else after one space.
    fn value_after(&mut self, inline: bool, value: &Value) {
        let nested = match value {
            Value::Array(a) => !a.is_empty(),
            Value::Object(m) => !m.is_empty(),
            _ => false,
        };
        if nested && !inline {
            self.out.push('\n');
            self.level += 1;
            self.indent();
            self.level -= 1;
        } else {
            self.out.push(' ');
        }
        self.node(value);
    }

    fn string(&mut self, s: &str) {
        if !needs_quotes(s) {
            self.out.push_str(s);
            return;
        }
        self.out.push('"');
        for c in s.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\x08' => self.out.push_str("\\b"),
                '\t' => self.out.push_str("\\t"),
                '\n' => self.out.push_str("\\n"),
                '\x0c' => self.out.push_str("\\f"),
                '\r' => self.out.push_str("\\r"),
                '\0'..='\x1f' | '\x7f' => {
                    let _ = write!(self.out, "\\u{:04x}", c as u32);
                }
                _ => self.out.push(c),
            }
        }
        self.out.push('"');
    }
}

/// insta's rule for when a string must be double-quoted.
fn needs_quotes(s: &str) -> bool {
    const PLAIN_LOOKALIKES: [&str; 22] = [
        "yes", "Yes", "YES", "no", "No", "NO", "True", "TRUE", "true", "False", "FALSE", "false",
        "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~",
    ];
    s.is_empty()
        || s.starts_with(' ')
        || s.ends_with(' ')
        || s.starts_with(['&', '*', '?', '|', '-', '<', '>', '=', '!', '%', '@'])
        || s.contains(|c: char| {
            matches!(
                c,
                ':' | '{'
                    | '}'
                    | '['
                    | ']'
                    | ','
                    | '#'
                    | '`'
                    | '"'
                    | '\''
                    | '\\'
                    | '\0'..='\x06'
                    | '\t'
                    | '\n'
                    | '\r'
                    | '\x0e'..='\x1a'
                    | '\x1c'..='\x1f'
            )
        })
        || PLAIN_LOOKALIKES.contains(&s)
        || s.starts_with('.')
        || s.starts_with("0x")
        || s.parse::<i64>().is_ok()
        || s.parse::<f64>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_committed_snapshot_is_rewritten_byte_for_byte() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("snap") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let file = SnapFile::parse(&text).unwrap();
            let value = file.value().unwrap();
            assert_eq!(render(&file.header, &value), text, "{}", path.display());
            seen += 1;
        }
        assert!(
            seen >= 20,
            "only {seen} snapshots found in {}",
            dir.display()
        );
    }

    #[test]
    fn quoting_nesting_and_numbers_follow_insta() {
        let value = json!({
            "b": [1, -2, 2.5, 1.0, true, null, "x"],
            "a": {"nested": {"deep": []}, "empty": {}},
            "quoted": ["", " pad", "yes", "ON", "3600", "1e3", "0x1f", ".x", "-x", "@x", "a: b",
                       "a,b", "it's", "tab\there", "line\nbreak", "bell\u{1}", "q\"uote", "back\\slash"],
            "plain": ["y", "n", "2026-11-20", "{{ username }}x", "<uuid:1>", "a b", "ünï"],
            "list": [{"k": 1, "j": [2, [3]]}, []],
        });
        let expected = r#"a:
  empty: {}
  nested:
    deep: []
b:
  - 1
  - -2
  - 2.5
  - 1
  - true
  - ~
  - x
list:
  - j:
      - 2
      - - 3
    k: 1
  - []
plain:
  - y
  - n
  - 2026-11-20
  - "{{ username }}x"
  - "<uuid:1>"
  - a b
  - ünï
quoted:
  - ""
  - " pad"
  - "yes"
  - "ON"
  - "3600"
  - "1e3"
  - "0x1f"
  - ".x"
  - "-x"
  - "@x"
  - "a: b"
  - "a,b"
  - "it's"
  - "tab\there"
  - "line\nbreak"
  - "bell\u0001"
  - "q\"uote"
  - "back\\slash"
"#;
        assert_eq!(render_body(&value), expected);
    }

    #[test]
    fn the_header_keeps_its_order_and_the_body_is_compared_alone() {
        let header = Header {
            source: Some(SOURCE.into()),
            description: Some("Sign in, then out".into()),
            info: Some(
                json!({"validated_against": "aws", "region": "eu-west-1", "date": "2026-11-20"}),
            ),
            input_file: Some("scenarios/a/b.yaml".into()),
        };
        let text = render(&header, &json!({"scenario": "x", "steps": []}));
        assert_eq!(
            text,
            "---\nsource: src/snapshot.rs\ndescription: \"Sign in, then out\"\ninfo:\n  validated_against: aws\n  region: eu-west-1\n  date: 2026-11-20\ninput_file: scenarios/a/b.yaml\n---\nscenario: x\nsteps: []\n"
        );
        let parsed = SnapFile::parse(&text).unwrap();
        assert_eq!(parsed.header, header);
        let other = text
            .replace("Sign in, then out", "renamed")
            .replace('\n', "\r\n")
            + "\n\n";
        assert!(same_body(&text, &other));
        assert!(!same_body(&text, &text.replace("steps: []", "steps: [1]")));
        assert!(!same_body(&text, "steps: []\n"));
        assert!(SnapFile::parse("no header").is_err());
        assert_eq!(header_lines(&text), 9);
    }
}
