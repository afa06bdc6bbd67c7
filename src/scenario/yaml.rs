//! A YAML document as a tree in which every node knows where it stands in
//! the file, so every later error can point at the exact line and column.
//!
//! Built from saphyr-parser's events (pure Rust, no unsafe, never panics on
//! input). Scalars are resolved with the YAML 1.2 core schema, so `OFF` stays
//! the string Cognito wants and `"123"` stays a string.

use std::collections::{HashMap, HashSet};

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
    /// What to do about it, when the parser knows better than a generic hint.
    pub hint: Option<String>,
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

/// Deepest nesting of mappings and lists a scenario file may use. Every
/// later walk over a document (templates, expectations, JSON) recurses, so
/// the bound keeps them all far from the stack's end.
pub const MAX_DEPTH: usize = 64;

/// Nodes that aliases may add to a document beyond as many as it writes out
/// itself: generous for shared fixtures, fatal to "billion laughs".
pub const ALIAS_ALLOWANCE: usize = 10_000;

/// Parses one YAML document. An empty file is `Null`; several documents are an error.
///
/// Bounded: nesting deeper than [`MAX_DEPTH`], or aliases expanding to more
/// than [`ALIAS_ALLOWANCE`] nodes plus the document's own, are errors at the
/// node where the limit is crossed; cost is linear in the document's size.
pub fn parse(source: &str) -> Result<Node, YamlError> {
    let mut builder = Builder::default();
    let mut documents = 0usize;
    for event in Parser::new_from_str(source) {
        let (event, span) = event.map_err(|e| YamlError {
            span: Span::at(e.marker().line(), e.marker().col() + 1),
            message: e.info().to_string(),
            hint: None,
        })?;
        let span = Span::from_parser(span);
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(YamlError::new(
                        span,
                        "a scenario file holds one YAML document; found a second `---`",
                    ));
                }
            }
            Event::Alias(id) => builder.alias(id, span)?,
            Event::Scalar(text, style, anchor, tag) => {
                let value = resolve_scalar(&text, style, tag.as_deref().map(|t| t.suffix.as_str()));
                let node = Node { value, span };
                builder.direct_nodes += 1;
                if anchor > 0 {
                    builder.anchors.insert(anchor, (node.clone(), 1));
                }
                builder.push(node, 1)?;
            }
            Event::SequenceStart(anchor, _) => builder.open(Open::Seq(Vec::new()), span, anchor)?,
            Event::MappingStart(anchor, _) => {
                builder.open(Open::Map(MapFrame::default()), span, anchor)?
            }
            Event::SequenceEnd | Event::MappingEnd => builder.close(span)?,
        }
    }
    Ok(builder.root.unwrap_or(Node {
        value: NodeValue::Null,
        span: Span::at(1, 1),
    }))
}

impl YamlError {
    fn new(span: Span, message: impl Into<String>) -> YamlError {
        YamlError {
            span,
            message: message.into(),
            hint: None,
        }
    }
}

enum Open {
    Seq(Vec<Node>),
    Map(MapFrame),
}

/// A mapping being built.
#[derive(Default)]
struct MapFrame {
    entries: Vec<(Key, Node)>,
    /// A key waiting for its value.
    pending: Option<Key>,
    /// Line of each key so far, for duplicates in constant time.
    lines: HashMap<String, usize>,
    /// Entries brought in by `<<` merge keys (explicit keys win over them).
    merged: Vec<(Key, Node)>,
    merged_names: HashSet<String>,
}

/// A collection being built: its contents, where it starts, its anchor and
/// how many nodes it holds so far (itself included).
struct Frame {
    open: Open,
    span: Span,
    anchor: usize,
    nodes: usize,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Node>,
    /// Anchored nodes with their sizes in nodes.
    anchors: HashMap<usize, (Node, usize)>,
    /// Nodes written out in the document.
    direct_nodes: usize,
    /// Nodes brought in by aliases.
    alias_nodes: usize,
}

impl Builder {
    fn open(&mut self, open: Open, span: Span, anchor: usize) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlError {
                span,
                message: format!("nested more than {MAX_DEPTH} levels deep"),
                hint: Some(format!(
                    "scenario files nest mappings and lists at most {MAX_DEPTH} levels deep"
                )),
            });
        }
        self.direct_nodes += 1;
        self.stack.push(Frame {
            open,
            span,
            anchor,
            nodes: 1,
        });
        Ok(())
    }

    fn close(&mut self, end: Span) -> Result<(), YamlError> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let span = Span {
            end_line: end.end_line,
            end_col: end.end_col,
            ..frame.span
        };
        let value = match frame.open {
            Open::Seq(items) => NodeValue::Seq(items),
            Open::Map(map) => {
                let mut entries = map.entries;
                for (k, v) in map.merged {
                    if !map.lines.contains_key(&k.name) {
                        entries.push((k, v));
                    }
                }
                NodeValue::Map(entries)
            }
        };
        let node = Node { value, span };
        if frame.anchor > 0 {
            self.anchors
                .insert(frame.anchor, (node.clone(), frame.nodes));
        }
        self.push(node, frame.nodes)
    }

    /// Expands an alias, if the document's alias budget allows (see [`ALIAS_ALLOWANCE`]).
    fn alias(&mut self, id: usize, span: Span) -> Result<(), YamlError> {
        let (node, size) = self
            .anchors
            .get(&id)
            .ok_or_else(|| YamlError::new(span, "alias to an unknown anchor"))?;
        let size = *size;
        let budget = ALIAS_ALLOWANCE.saturating_add(self.direct_nodes);
        let total = self.alias_nodes.saturating_add(size);
        if total > budget {
            return Err(YamlError {
                span,
                message: format!(
                    "aliases expand this document past {budget} nodes (this one adds {size})"
                ),
                hint: Some(format!(
                    "aliases may add at most {ALIAS_ALLOWANCE} nodes plus as many as the file \
                     writes out, and nested aliases multiply (\"billion laughs\"): write the \
                     values out, or share steps with a flow (`use:`)"
                )),
            });
        }
        self.alias_nodes = total;
        let node = Node {
            span,
            ..node.clone()
        };
        self.push(node, size)
    }

    /// Adds a finished node of `size` nodes to the collection being built.
    fn push(&mut self, node: Node, size: usize) -> Result<(), YamlError> {
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        frame.nodes = frame.nodes.saturating_add(size);
        match &mut frame.open {
            Open::Seq(items) => items.push(node),
            Open::Map(map) => match map.pending.take() {
                None => {
                    let name = match &node.value {
                        NodeValue::String { value, .. } => value.clone(),
                        NodeValue::Null => String::new(),
                        NodeValue::Bool(b) => b.to_string(),
                        NodeValue::Int(i) => i.to_string(),
                        NodeValue::Float(f) => f.to_string(),
                        NodeValue::Seq(_) | NodeValue::Map(_) => {
                            return Err(YamlError::new(
                                node.span,
                                "a mapping key must be a plain value, not a list or mapping",
                            ));
                        }
                    };
                    if name == "<<" {
                        map.pending = Some(Key {
                            name,
                            span: node.span,
                        });
                        return Ok(());
                    }
                    if let Some(first) = map.lines.get(&name) {
                        return Err(YamlError::new(
                            node.span,
                            format!("duplicate key `{name}` (first defined on line {first})"),
                        ));
                    }
                    map.lines.insert(name.clone(), node.span.line);
                    map.pending = Some(Key {
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
                            return Err(YamlError::new(
                                node.span,
                                "`<<` merges a mapping (or a list of mappings)",
                            ));
                        }
                    };
                    for source in sources {
                        if let NodeValue::Map(more) = source.value {
                            for (k, v) in more {
                                if map.merged_names.insert(k.name.clone()) {
                                    map.merged.push((k, v));
                                }
                            }
                        }
                    }
                }
                Some(key) => map.entries.push((key, node)),
            },
        }
        Ok(())
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

    /// "Billion laughs": 9 aliases of 9 aliases, 9 levels deep (583 bytes).
    fn alias_bomb() -> String {
        let mut src = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for pair in names.windows(2) {
            let items = vec![format!("*{}", pair[0]); 9].join(",");
            src.push_str(&format!("{0}: &{0} [{items}]\n", pair[1]));
        }
        src
    }

    #[test]
    fn an_alias_bomb_is_refused_at_the_alias_that_crosses_the_budget() {
        let src = alias_bomb();
        let err = parse(&src).unwrap_err();
        assert!(err.message.contains("aliases expand"), "{err:?}");
        assert!(err.hint.is_some());
        // a: 10 nodes, b: 9 × 10, c: 9 × 91, d: 9 × 820 = 7380, e: 9 × 7381 crosses
        // 10,000 + the nodes written out: at e's fifth alias (line 5, column 28).
        let line = src.lines().nth(err.span.line - 1).unwrap();
        assert!(line.starts_with("e: "), "{line} {err:?}");
        assert_eq!(&line[err.span.col - 1..err.span.col + 1], "*d", "{err:?}");
        // Shared anchors within the budget still work.
        let ok = "base: &b { x: 1 }\none: *b\ntwo: *b\n";
        assert!(parse(ok).is_ok());
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_refused_where_it_is_crossed() {
        for depth in [MAX_DEPTH + 1, 2_000] {
            let src: String = (0..depth)
                .map(|i| format!("{}k:\n", " ".repeat(i)))
                .collect();
            let err = parse(&src).unwrap_err();
            assert!(err.message.contains("nested more than 64"), "{err:?}");
            // The mapping on line 65 is the 65th level.
            assert_eq!(
                (err.span.line, err.span.col),
                (MAX_DEPTH + 1, MAX_DEPTH + 1)
            );
        }
        // 100,000 block sequences on one line: the 65th starts at column 129.
        let err = parse(&format!("{}x\n", "- ".repeat(100_000))).unwrap_err();
        assert_eq!(
            (err.span.line, err.span.col),
            (1, 2 * MAX_DEPTH + 1),
            "{err:?}"
        );
        let flow = format!("a: {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(&flow).is_err());
        let deepest: String = (0..MAX_DEPTH)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect();
        assert!(parse(&deepest).is_ok());
    }
}
