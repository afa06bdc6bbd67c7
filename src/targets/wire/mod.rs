//! Sends any cognito-idp operation through the official AWS SDK with the scenario's JSON as the body.
//!
//! How: the operation's typed fluent builder is called with an *empty* input
//! (no SDK input builder validates required members, so an empty input always
//! builds), and a `mutate_request` hook swaps the serialised `{}` for the
//! caller's bytes before signing. The SDK still chooses the endpoint, sets
//! `X-Amz-Target`, signs (or, for the 32 public operations, does not sign) and
//! retries. A per-call interceptor records the raw status and body of the last
//! attempt, so the caller sees exactly what the server said, whether or not
//! the SDK's model could make sense of it.

pub mod operations;
mod response;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::config::{Credentials, ProvideCredentials};
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;

use response::{Capture, NoRetryOnAttemptLimit, RequestBody, SendFailure, error_chain};

/// Region used for [`WireKind::Local`] targets when none is configured.
pub const LOCAL_DEFAULT_REGION: &str = "us-east-1";

/// Connect timeout for [`WireKind::Local`]: a local emulator answers at once or not at all.
const LOCAL_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Read timeout for [`WireKind::Local`]: generous, but a hung emulator must
/// not hang the run forever.
const LOCAL_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// How to reach a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireConfig {
    /// Endpoint URL (`http://localhost:9229`); `None` = AWS's normal endpoint resolution
    /// (which also honours `AWS_ENDPOINT_URL…` variables).
    pub endpoint: Option<String>,
    /// Region; `None` = from the AWS config chain (AWS kind) or `us-east-1` (Local kind).
    pub region: Option<String>,
    /// AWS profile name, AWS kind only (ignored for Local).
    pub profile: Option<String>,
    /// Which credential and retry behaviour to use.
    pub kind: WireKind,
}

/// The two families of targets, which differ in credentials and retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireKind {
    /// Real AWS: standard credential chain, standard retries (throttling is retried).
    Aws,
    /// Emulators and the stub: static dummy credentials (test/test), region default "us-east-1",
    /// retries OFF (emulators answer unimplemented ops with HTTP 500; retrying wastes time), short connect timeout
    /// (2 s) and a 60 s read timeout.
    Local,
}

/// A cognito-idp client that sends raw JSON bodies. Cheap to clone; use it from any number of tasks.
#[derive(Debug, Clone)]
pub struct WireClient {
    client: Client,
    region: Arc<str>,
    /// Where requests go, for error messages.
    target: Arc<str>,
}

/// What the server answered, success or not.
#[derive(Debug, Clone, PartialEq)]
pub struct WireResponse {
    /// HTTP status code.
    pub status: u16,
    /// The response body parsed as JSON; `{}` for an empty body; a JSON string holding the text when it is not JSON (e.g. moto's HTML 500 page).
    pub body: serde_json::Value,
    /// Present when the call failed at the API level (non-2xx).
    pub error: Option<ApiError>,
}

impl WireResponse {
    /// Why this answer means "the target does not implement this", if it
    /// does: cognito-local's `CognitoLocal#Unsupported`, the stub's
    /// `NotSupportedByStubException`, or an HTTP 500 whose body is not JSON
    /// (moto's HTML error page, its answer to operations it lacks).
    pub fn unsupported(&self) -> Option<String> {
        let code = self.error.as_ref().map(|e| e.code.as_str());
        match (self.status, code, &self.body) {
            (_, Some("Unsupported"), _) => Some(format!(
                "it answered HTTP {} `Unsupported`{}",
                self.status,
                self.error
                    .as_ref()
                    .and_then(|e| e.message.as_deref())
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default()
            )),
            (_, Some("NotSupportedByStubException"), _) => {
                Some("the stub does not implement it".into())
            }
            (500..=599, Some(_), serde_json::Value::String(_)) => Some(format!(
                "it answered HTTP {} with a page that is not a cognito-idp error (the operation is not implemented, or the emulator failed on it)",
                self.status
            )),
            _ => None,
        }
    }
}

/// An API-level error as the server described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// Bare error code: `__type` (or header `x-amzn-ErrorType`, or `code`) with any `prefix#` and `:suffix` removed,
    /// e.g. "NotAuthorizedException". For a non-JSON error body: "HTTP <status>".
    pub code: String,
    /// `message` or `Message` from the body, or header x-amzn-ErrorMessage.
    pub message: Option<String>,
}

/// Failures where no API answer is available.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Not one of the SDK's operations. `suggestion` = closest operation name (did-you-mean), if any is close.
    #[error(
        "unknown cognito-idp operation `{name}`{}",
        .suggestion.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
    )]
    UnknownOperation {
        /// The name as given.
        name: String,
        /// The closest real operation name, if any is close.
        suggestion: Option<&'static str>,
    },
    /// Connection refused, timeout, DNS, TLS … (no HTTP response at all). The message is readable and never contains the request body.
    #[error("transport error: {0}")]
    Transport(String),
    /// Bad configuration (no region, unreadable profile, bad endpoint URL, no credentials).
    #[error("configuration error: {0}")]
    Config(String),
}

impl WireClient {
    /// Builds a client for `config`. For [`WireKind::Aws`] with a named
    /// profile, that profile's credentials are resolved once up front so a
    /// missing or broken profile is reported here, not on the first call.
    pub async fn new(config: &WireConfig) -> Result<WireClient, WireError> {
        if let (WireKind::Aws, Some(profile)) = (config.kind, &config.profile) {
            aws_config::profile::ProfileFileCredentialsProvider::builder()
                .profile_name(profile)
                .build()
                .provide_credentials()
                .await
                .map_err(|e| {
                    WireError::Config(format!(
                        "AWS profile `{profile}`: no usable credentials \
                         (is it defined in ~/.aws/config or ~/.aws/credentials?): {}",
                        error_chain(&e)
                    ))
                })?;
        }
        Self::build(config, None).await
    }

    /// [`WireClient::new`] with fixed credentials replacing the kind's usual
    /// provider; lets tests exercise the AWS kind (retries) without touching
    /// process-wide environment variables.
    async fn build(
        config: &WireConfig,
        credentials: Option<Credentials>,
    ) -> Result<WireClient, WireError> {
        if let Some(endpoint) = &config.endpoint {
            check_endpoint(endpoint)?;
        }
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(endpoint) = &config.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        match config.kind {
            WireKind::Aws => {
                if let Some(profile) = &config.profile {
                    loader = loader.profile_name(profile);
                }
                if let Some(region) = &config.region {
                    loader = loader.region(Region::new(region.clone()));
                }
            }
            WireKind::Local => {
                let region = config.region.as_deref().unwrap_or(LOCAL_DEFAULT_REGION);
                loader = loader
                    .region(Region::new(region.to_owned()))
                    .credentials_provider(Credentials::new(
                        "test",
                        "test",
                        None,
                        None,
                        "cognito-scenarios-local",
                    ))
                    .retry_config(RetryConfig::disabled())
                    .timeout_config(
                        TimeoutConfig::builder()
                            .connect_timeout(LOCAL_CONNECT_TIMEOUT)
                            .read_timeout(LOCAL_READ_TIMEOUT)
                            .build(),
                    );
            }
        }
        if let Some(credentials) = credentials {
            loader = loader.credentials_provider(credentials);
        }
        let sdk_config = loader.load().await;
        let region = sdk_config
            .region()
            .map(|r| r.as_ref().to_owned())
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                WireError::Config(
                    "no AWS region: set one for the target, or AWS_REGION, or `region` in the AWS profile"
                        .into(),
                )
            })?;
        let mut builder = aws_sdk_cognitoidentityprovider::config::Builder::from(&sdk_config);
        if config.kind == WireKind::Aws {
            builder = builder.retry_classifier(NoRetryOnAttemptLimit);
        }
        let target = match &config.endpoint {
            Some(endpoint) => endpoint.clone(),
            None => format!("cognito-idp in {region}"),
        };
        Ok(WireClient {
            client: Client::from_conf(builder.build()),
            region: region.into(),
            target: target.into(),
        })
    }

    /// The same client (configuration, credentials, HTTP connection pool)
    /// aimed at `endpoint`: what each scenario on the stub gets, so the
    /// configuration is loaded and the HTTP client built once per run.
    pub fn with_endpoint(&self, endpoint: &str) -> Result<WireClient, WireError> {
        check_endpoint(endpoint)?;
        let config = self
            .client
            .config()
            .to_builder()
            .endpoint_url(endpoint)
            .build();
        Ok(WireClient {
            client: Client::from_conf(config),
            region: self.region.clone(),
            target: endpoint.into(),
        })
    }

    /// Sends `operation` (API name, e.g. "AdminInitiateAuth") with `body` as the exact JSON request body.
    ///
    /// The name must be exact (see [`operations::canonical`] for lenient
    /// lookup). Any HTTP response, including errors the SDK cannot parse,
    /// becomes a [`WireResponse`]; only a missing response is a [`WireError`].
    pub async fn call(
        &self,
        operation: &str,
        body: &serde_json::Value,
    ) -> Result<WireResponse, WireError> {
        let bytes = serde_json::to_vec(body).expect("a serde_json::Value always serialises");
        let capture = Capture::default();
        let Some(result) = operations::dispatch(
            &self.client,
            operation,
            RequestBody::new(bytes),
            capture.clone(),
        )
        .await
        else {
            return Err(WireError::UnknownOperation {
                name: operation.to_owned(),
                suggestion: crate::api::suggest(operation),
            });
        };
        let target = &self.target;
        match (capture.take(), result) {
            (Some(raw), _) | (None, Err(SendFailure::Response { raw: Some(raw), .. })) => {
                Ok(raw.into_wire_response())
            }
            (None, Err(SendFailure::Build(detail))) => Err(WireError::Config(format!(
                "cannot send {operation} to {target}: {detail}"
            ))),
            (None, Err(SendFailure::Transport(detail))) => Err(WireError::Transport(format!(
                "{operation} to {target}: {detail}"
            ))),
            (None, Err(SendFailure::Response { raw: None, detail })) => Err(WireError::Transport(
                format!("{operation} to {target}: the response could not be read: {detail}"),
            )),
            (None, Ok(())) => Err(WireError::Transport(format!(
                "{operation} to {target}: the SDK reported success but no response was recorded"
            ))),
        }
    }

    /// The resolved region.
    pub fn region(&self) -> String {
        self.region.to_string()
    }
}

/// Rejects endpoint URLs the SDK would only refuse at the first call.
fn check_endpoint(endpoint: &str) -> Result<(), WireError> {
    let bad = |why: &str| Err(WireError::Config(format!("endpoint `{endpoint}`: {why}")));
    let Some((scheme, rest)) = endpoint.split_once("://") else {
        return bad("expected a URL such as http://localhost:9229");
    };
    if !matches!(scheme, "http" | "https") {
        return bad("the scheme must be http or https");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.starts_with(':') {
        return bad("no host");
    }
    if endpoint.chars().any(char::is_whitespace) {
        return bad("contains whitespace");
    }
    Ok(())
}
