//! TEMPORARY SHIM until the wire branch lands.
pub mod operations {
    pub const ALL: &[&str] = &[
        "AdminCreateUser",
        "AdminInitiateAuth",
        "InitiateAuth",
        "SignUp",
        "CreateUserPool",
        "CreateUserPoolClient",
        "DeleteUserPool",
        "AdminSetUserPassword",
        "RespondToAuthChallenge",
        "AdminRespondToAuthChallenge",
    ];
    pub fn canonical(name: &str) -> Option<&'static str> {
        ALL.iter().copied().find(|o| o.eq_ignore_ascii_case(name))
    }
    pub fn suggest(name: &str) -> Option<&'static str> {
        crate::scenario::diagnostic::did_you_mean(name, ALL.iter().copied())
    }
    pub fn is_public(op: &str) -> bool {
        !op.starts_with("Admin")
    }
}
pub struct WireConfig {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub kind: WireKind,
}
pub enum WireKind {
    Aws,
    Local,
}
#[derive(Clone)]
pub struct WireClient;
pub struct WireResponse {
    pub status: u16,
    pub body: serde_json::Value,
    pub error: Option<ApiError>,
}
pub struct ApiError {
    pub code: String,
    pub message: Option<String>,
}
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("unknown operation {name}")]
    UnknownOperation {
        name: String,
        suggestion: Option<&'static str>,
    },
    #[error("transport: {0}")]
    Transport(String),
    #[error("config: {0}")]
    Config(String),
}
impl WireClient {
    pub async fn new(_c: &WireConfig) -> Result<WireClient, WireError> {
        Ok(WireClient)
    }
    pub async fn call(
        &self,
        _op: &str,
        _body: &serde_json::Value,
    ) -> Result<WireResponse, WireError> {
        Err(WireError::Transport("shim".into()))
    }
    pub fn region(&self) -> String {
        "us-east-1".into()
    }
}
