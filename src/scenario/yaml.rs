//! A YAML document as a tree in which every node knows where it stands in
//! the file, so every later error can point at the exact line and column.
//!
//! Built from saphyr-parser's events (pure Rust, no unsafe, never panics on
//! input). Scalars are resolved with the YAML 1.2 core schema, so `OFF` stays
//! the string Cognito wants and `"123"` stays a string.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span as PSpan};
use serde_json::{Map, Number, Value};

/// A position range in a source file (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub line: usize,
    pub col: usize,
    pub end_line: usize,
    pub end_col: usize,
}

impl Span {
    fn from_parser(s: PSpan) -> Span {
        Span {
            line: s.start.line(),
            col: s.start.col() + 1,
            end_line: s.end.line(),
            end_col: s.end.col() + 1,
        }
    }

    /// A zero-width span at a position.
    pub fn at(line: usize, col: usize) -> Span {
        Span {
            line,
            col,
            end_line: line,
            end_col: col,
        }
    }
}

/// A YAML node with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: NodeValue,
    pub span: Span,
}

/// A mapping key with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub span: Span,
}

/// The value of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string; `quoted` is true when it was written in quotes or as a block.
    String {
        value: String,
        quoted: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// A YAML syntax problem at a position.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub span: Span,
    pub message: String,
}

impl Node {
    /// A node of the given value without a position in a file.
    pub fn synthetic(value: NodeValue) -> Node {
        Node {
            value,
            span: Span::default(),
        }
    }

    /// The string content, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::String { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            NodeValue::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            NodeValue::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// Looks up a key in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    /// A short word for the kind of node, for error messages ("a list", "a string", ...).
    pub fn kind(&self) -> &'static str {
        match &self.value {
            NodeValue::Null => "null",
            NodeValue::Bool(_) => "a boolean",
            NodeValue::Int(_) | NodeValue::Float(_) => "a number",
            NodeValue::String { .. } => "a string",
            NodeValue::Seq(_) => "a list",
            NodeValue::Map(_) => "a mapping",
        }
    }

    /// The node as JSON (positions dropped).
    pub fn to_json(&self) -> Value {
        match &self.value {
            NodeValue::Null => Value::Null,
            NodeValue::Bool(b) => Value::Bool(*b),
            NodeValue::Int(i) => Value::Number((*i).into()),
            NodeValue::Float(f) => Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            NodeValue::String { value, .. } => Value::String(value.clone()),
            NodeValue::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeValue::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect::<Map<_, _>>(),
            ),
        }
    }

    /// Builds a node from JSON, every part carrying `span`.
    pub fn from_json(value: &Value, span: Span) -> Node {
        let value = match value {
            Value::Null => NodeValue::Null,
            Value::Bool(b) => NodeValue::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => NodeValue::Int(i),
                None => NodeValue::Float(n.as_f64().unwrap_or(0.0)),
            },
            Value::String(s) => NodeValue::String {
                value: s.clone(),
                quoted: true,
            },
            Value::Array(a) => NodeValue::Seq(a.iter().map(|v| Node::from_json(v, span)).collect()),
            Value::Object(o) => NodeValue::Map(
                o.iter()
                    .map(|(k, v)| {
                        (
                            Key {
                                name: k.clone(),
                                span,
                            },
                            Node::from_json(v, span),
                        )
                    })
                    .collect(),
            ),
        };
        Node { value, span }
    }
}

/// Parses one YAML document. An empty file is `Null`; several documents are an error.
pub fn parse(source: &str) -> Result<Node, YamlError> {
    let mut builder = Builder::default();
    let mut documents = 0usize;
    for event in Parser::new_from_str(source) {
        let (event, span) = event.map_err(|e| YamlError {
            span: Span::at(e.marker().line(), e.marker().col() + 1),
            message: e.info().to_string(),
        })?;
        let span = Span::from_parser(span);
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(YamlError {
                        span,
                        message: "a scenario file holds one YAML document; found a second `---`"
                            .into(),
                    });
                }
            }
            Event::Alias(id) => {
                let node = builder.anchors.get(&id).cloned().ok_or_else(|| YamlError {
                    span,
                    message: "alias to an unknown anchor".into(),
                })?;
                builder.push(Node { span, ..node })?;
            }
            Event::Scalar(text, style, anchor, tag) => {
                let value = resolve_scalar(&text, style, tag.as_deref().map(|t| t.suffix.as_str()));
                let node = Node { value, span };
                if anchor > 0 {
                    builder.anchors.insert(anchor, node.clone());
                }
                builder.push(node)?;
            }
            Event::SequenceStart(anchor, _) => builder.open(Open::Seq(Vec::new()), span, anchor),
            Event::MappingStart(anchor, _) => {
                builder.open(Open::Map(Vec::new(), None, Vec::new()), span, anchor)
            }
            Event::SequenceEnd | Event::MappingEnd => builder.close(span)?,
        }
    }
    Ok(builder.root.unwrap_or(Node {
        value: NodeValue::Null,
        span: Span::at(1, 1),
    }))
}

enum Open {
    Seq(Vec<Node>),
    /// Entries so far, a key waiting for its value, and entries brought in
    /// by `<<` merge keys (explicit keys win over them).
    Map(Vec<(Key, Node)>, Option<Key>, Vec<(Key, Node)>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<(Open, Span, usize)>,
    root: Option<Node>,
    anchors: HashMap<usize, Node>,
}

impl Builder {
    fn open(&mut self, open: Open, span: Span, anchor: usize) {
        self.stack.push((open, span, anchor));
    }

    fn close(&mut self, end: Span) -> Result<(), YamlError> {
        let Some((open, start, anchor)) = self.stack.pop() else {
            return Ok(());
        };
        let span = Span {
            end_line: end.end_line,
            end_col: end.end_col,
            ..start
        };
        let value = match open {
            Open::Seq(items) => NodeValue::Seq(items),
            Open::Map(mut entries, _, merged) => {
                for (k, v) in merged {
                    if !entries.iter().any(|(e, _)| e.name == k.name) {
                        entries.push((k, v));
                    }
                }
                NodeValue::Map(entries)
            }
        };
        let node = Node { value, span };
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        self.push(node)
    }

    fn push(&mut self, node: Node) -> Result<(), YamlError> {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some((Open::Seq(items), _, _)) => items.push(node),
            Some((Open::Map(entries, pending, merged), _, _)) => match pending.take() {
                None => {
                    let name = match &node.value {
                        NodeValue::String { value, .. } => value.clone(),
                        NodeValue::Null => String::new(),
                        NodeValue::Bool(b) => b.to_string(),
                        NodeValue::Int(i) => i.to_string(),
                        NodeValue::Float(f) => f.to_string(),
                        NodeValue::Seq(_) | NodeValue::Map(_) => {
                            return Err(YamlError {
                                span: node.span,
                                message:
                                    "a mapping key must be a plain value, not a list or mapping"
                                        .into(),
                            });
                        }
                    };
                    if name == "<<" {
                        *pending = Some(Key {
                            name,
                            span: node.span,
                        });
                        return Ok(());
                    }
                    if let Some((first, _)) = entries.iter().find(|(k, _)| k.name == name) {
                        return Err(YamlError {
                            span: node.span,
                            message: format!(
                                "duplicate key `{name}` (first defined on line {})",
                                first.line_of()
                            ),
                        });
                    }
                    *pending = Some(Key {
                        name,
                        span: node.span,
                    });
                }
                Some(key) if key.name == "<<" => {
                    // YAML merge key: copy entries that are not already set.
                    let sources: Vec<Node> = match node.value {
                        NodeValue::Map(_) => vec![node],
                        NodeValue::Seq(items) => items,
                        _ => {
                            return Err(YamlError {
                                span: node.span,
                                message: "`<<` merges a mapping (or a list of mappings)".into(),
                            });
                        }
                    };
                    for source in sources {
                        if let NodeValue::Map(more) = source.value {
                            for (k, v) in more {
                                if !merged.iter().any(|(e, _): &(Key, Node)| e.name == k.name) {
                                    merged.push((k, v));
                                }
                            }
                        }
                    }
                }
                Some(key) => entries.push((key, node)),
            },
        }
        Ok(())
    }
}

impl Key {
    fn line_of(&self) -> usize {
        self.span.line
    }
}

fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&str>) -> NodeValue {
    let string = |quoted| NodeValue::String {
        value: text.to_string(),
        quoted,
    };
    if style != ScalarStyle::Plain {
        return string(true);
    }
    if tag == Some("str") {
        return string(true);
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return NodeValue::Null,
        "true" | "True" | "TRUE" => return NodeValue::Bool(true),
        "false" | "False" | "FALSE" => return NodeValue::Bool(false),
        _ => {}
    }
    let looks_numeric = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == '-' || c == '+' || c == '.');
    if looks_numeric {
        if let Ok(i) = text.parse::<i64>() {
            return NodeValue::Int(i);
        }
        if let Some(hex) = text.strip_prefix("0x")
            && let Ok(i) = i64::from_str_radix(hex, 16)
        {
            return NodeValue::Int(i);
        }
        if text.chars().any(|c| c.is_ascii_digit())
            && let Ok(f) = text.parse::<f64>()
            && f.is_finite()
        {
            return NodeValue::Float(f);
        }
    }
    string(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_nested_nodes() {
        let src = "name: x\nsteps:\n  - call: SignUp\n    with: { Username: bob }\n";
        let root = parse(src).unwrap();
        let steps = root.get("steps").unwrap().as_seq().unwrap();
        let call = steps[0].get("call").unwrap();
        assert_eq!((call.span.line, call.span.col), (3, 11));
        let user = steps[0].get("with").unwrap().get("Username").unwrap();
        assert_eq!((user.span.line, user.span.col), (4, 23));
        assert_eq!(user.as_str(), Some("bob"));
    }

    #[test]
    fn core_schema_scalars() {
        let root = parse("a: OFF\nb: \"1\"\nc: 1\nd: 1.5\ne: true\nf: ~\ng: yes\n").unwrap();
        assert_eq!(root.get("a").unwrap().as_str(), Some("OFF"));
        assert_eq!(root.get("b").unwrap().to_json(), Value::String("1".into()));
        assert_eq!(root.get("c").unwrap().to_json(), serde_json::json!(1));
        assert_eq!(root.get("d").unwrap().to_json(), serde_json::json!(1.5));
        assert_eq!(root.get("e").unwrap().to_json(), Value::Bool(true));
        assert_eq!(root.get("f").unwrap().to_json(), Value::Null);
        assert_eq!(root.get("g").unwrap().as_str(), Some("yes"));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.span.line >= 1, "{err:?}");
        let err = parse("a: 1\na: 2\n").unwrap_err();
        assert_eq!(err.span.line, 2);
        assert!(err.message.contains("duplicate key `a`"));
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let src = "base: &b { x: 1, y: 2 }\nother:\n  <<: *b\n  y: 3\nref: *b\n";
        let root = parse(src).unwrap();
        assert_eq!(
            root.get("other").unwrap().to_json(),
            serde_json::json!({"y": 3, "x": 1})
        );
        assert_eq!(
            root.get("ref").unwrap().to_json(),
            serde_json::json!({"x": 1, "y": 2})
        );
    }

    #[test]
    fn a_second_document_is_refused_and_empty_is_null() {
        assert!(parse("a: 1\n---\nb: 2\n").is_err());
        assert_eq!(parse("").unwrap().value, NodeValue::Null);
    }
}
