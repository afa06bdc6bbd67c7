//! TEMPORARY SHIM until the expect branch lands.
use serde_json::Value;
#[derive(Debug, Clone)]
pub struct Path(String);
#[derive(Debug)]
pub struct PathError {
    pub message: String,
    pub column_offset: usize,
}
impl Path {
    pub fn parse(text: &str) -> Result<Path, PathError> {
        Ok(Path(text.into()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn resolve(&self, root: &Value) -> Option<Value> {
        let mut v = root;
        for p in self.0.split('.') {
            v = v.get(p)?;
        }
        Some(v.clone())
    }
}
