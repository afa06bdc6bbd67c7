//! TEMPORARY SHIM until the expect branch lands.
use serde_json::Value;
pub enum Known {
    Variable,
    Secret,
}
#[derive(Default)]
pub struct Normalizer;
impl Normalizer {
    pub fn new() -> Self {
        Normalizer
    }
    pub fn add_known(&mut self, _name: &str, _value: &Value, _kind: Known) {}
    pub fn normalize(&mut self, value: &Value) -> Value {
        value.clone()
    }
    pub fn scrub(&self, text: &str) -> String {
        text.to_string()
    }
}
