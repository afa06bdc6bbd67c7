//! TEMPORARY SHIM until the expect branch lands.
use crate::scenario::yaml::{Node, Span};
use serde_json::Value;
#[derive(Debug, Clone)]
pub struct Expectation {
    node: Node,
}
pub struct CompileError {
    pub span: Span,
    pub message: String,
    pub hint: Option<String>,
}
pub struct Observed<'a> {
    pub status: u16,
    pub body: &'a Value,
    pub error: Option<(&'a str, Option<&'a str>)>,
}
#[derive(Debug, Clone)]
pub struct Failure {
    pub span: Span,
    pub path: String,
    pub message: String,
    pub expected: Option<Value>,
    pub actual: Option<Value>,
}
pub fn compile(node: &Node) -> Result<Expectation, Vec<CompileError>> {
    Ok(Expectation { node: node.clone() })
}
impl Expectation {
    pub fn expects_error(&self) -> bool {
        self.node.get("error").is_some()
    }
    pub fn evaluate(
        &self,
        o: &Observed,
        _render: &mut dyn FnMut(&Node) -> Result<Value, String>,
    ) -> Vec<Failure> {
        let want = self.node.get("error").and_then(|n| n.as_str());
        match (want, o.error) {
            (None, None) => vec![],
            (Some(w), Some((c, _))) if w == c => vec![],
            _ => vec![Failure {
                span: self.node.span,
                path: String::new(),
                message: format!(
                    "error mismatch: wanted {want:?}, got {:?}",
                    o.error.map(|e| e.0)
                ),
                expected: None,
                actual: None,
            }],
        }
    }
}
