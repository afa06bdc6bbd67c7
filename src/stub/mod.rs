//! TEMPORARY SHIM until the stub branch lands.
use crate::clock::Clock;
pub struct StubOptions {
    pub clock: Clock,
    pub region: String,
    pub port: Option<u16>,
}
impl Default for StubOptions {
    fn default() -> Self {
        StubOptions {
            clock: Clock::virtual_now(),
            region: "us-east-1".into(),
            port: None,
        }
    }
}
#[derive(Debug, thiserror::Error)]
#[error("stub: {0}")]
pub struct StubError(String);
pub struct Stub {
    clock: Clock,
}
#[derive(Clone)]
pub struct Outbox;
impl Outbox {
    pub fn latest_code(&self, _pool_id: &str, _username: &str) -> Option<String> {
        None
    }
}
impl Stub {
    pub async fn start(options: StubOptions) -> Result<Stub, StubError> {
        Ok(Stub {
            clock: options.clock,
        })
    }
    pub fn endpoint(&self) -> String {
        "http://127.0.0.1:1".into()
    }
    pub fn clock(&self) -> &Clock {
        &self.clock
    }
    pub fn outbox(&self) -> Outbox {
        Outbox
    }
}
