//! The glue between one SDK call and a [`WireResponse`]: the request-body
//! replacement, the interceptor that records the raw HTTP response, error-code
//! parsing, and the retry classifier used against real AWS.

use std::sync::{Arc, Mutex, PoisonError};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    InterceptorContext,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use serde_json::Value;

use super::{ApiError, WireResponse};

/// The caller's JSON, serialised once, to be put on the wire as is.
///
/// Debug shows only the length: request bodies carry passwords and tokens.
#[derive(Clone)]
pub(super) struct RequestBody(Arc<[u8]>);

impl RequestBody {
    pub(super) fn new(bytes: Vec<u8>) -> Self {
        RequestBody(bytes.into())
    }

    /// Replaces the body the SDK serialised (from an empty input) with ours.
    /// Runs before signing, so the signature covers these bytes.
    pub(super) fn apply(&self, req: &mut HttpRequest) {
        *req.body_mut() = SdkBody::from(self.0.to_vec());
        req.headers_mut()
            .insert("content-length", self.0.len().to_string());
    }
}

impl std::fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RequestBody({} bytes)", self.0.len())
    }
}

/// The parts of an HTTP response a [`WireResponse`] is made from.
#[derive(Clone)]
pub(super) struct RawResponse {
    status: u16,
    error_type: Option<String>,
    error_message: Option<String>,
    body: Vec<u8>,
}

impl std::fmt::Debug for RawResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawResponse")
            .field("status", &self.status)
            .field("error_type", &self.error_type)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl RawResponse {
    /// `None` when the body was never read into memory (the connection broke mid-body).
    fn from_http(response: &HttpResponse) -> Option<RawResponse> {
        let body = response.body().bytes()?.to_vec();
        let header = |name: &str| response.headers().get(name).map(str::to_owned);
        Some(RawResponse {
            status: response.status().as_u16(),
            error_type: header("x-amzn-errortype"),
            error_message: header("x-amzn-errormessage"),
            body,
        })
    }

    pub(super) fn into_wire_response(self) -> WireResponse {
        let body = parse_body(&self.body);
        let error = (!(200..300).contains(&self.status)).then(|| ApiError {
            code: error_code(&body, self.error_type.as_deref())
                .unwrap_or_else(|| format!("HTTP {}", self.status)),
            message: error_message(&body, self.error_message.as_deref()),
        });
        WireResponse {
            status: self.status,
            body,
            error,
        }
    }
}

/// JSON body as parsed; `{}` when empty; the text as a JSON string when not JSON.
pub(super) fn parse_body(bytes: &[u8]) -> Value {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Value::Object(serde_json::Map::new());
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// The bare error code, looked up in `__type`, the `x-amzn-ErrorType` header,
/// `code`, and the `{"Output":{"__type":…}}` envelope some front ends use.
pub(super) fn error_code(body: &Value, header: Option<&str>) -> Option<String> {
    let field = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    [
        field(body, "__type"),
        header.map(str::to_owned),
        field(body, "code"),
        body.get("Output").and_then(|o| field(o, "__type")),
    ]
    .into_iter()
    .flatten()
    .find_map(|raw| bare_error_code(&raw).map(str::to_owned))
}

/// Applies the awsJson rule: cut at the first `:`, then keep what follows the
/// first `#` (`aws.cognito#Foo:http://…` → `Foo`). `None` if nothing is left.
pub(super) fn bare_error_code(raw: &str) -> Option<&str> {
    let before_colon = raw.split(':').next().unwrap_or_default();
    let code = before_colon
        .split_once('#')
        .map_or(before_colon, |(_, rest)| rest)
        .trim();
    (!code.is_empty()).then_some(code)
}

fn error_message(body: &Value, header: Option<&str>) -> Option<String> {
    ["message", "Message"]
        .iter()
        .find_map(|key| body.get(key).and_then(Value::as_str))
        .or(header)
        .map(str::to_owned)
}

/// Per-call interceptor recording the last attempt's raw response.
#[derive(Clone, Default)]
pub(super) struct Capture(Arc<Mutex<Option<RawResponse>>>);

impl Capture {
    pub(super) fn take(&self) -> Option<RawResponse> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    fn set(&self, value: Option<RawResponse>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = value;
    }
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Capture")
    }
}

impl Intercept for Capture {
    fn name(&self) -> &'static str {
        "cognito-scenarios wire capture"
    }

    /// Forget the previous attempt, so a retry that never gets an answer is
    /// reported as a transport failure rather than with a stale response.
    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.set(None);
        Ok(())
    }

    /// Runs whether or not the SDK managed to deserialise the response, so
    /// bodies the SDK's model rejects are still captured.
    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.set(RawResponse::from_http(context.response()));
        Ok(())
    }
}

/// Why an SDK call produced no usable response, with a readable message.
/// Messages come from the SDK's error chain, which never includes the body.
#[derive(Debug)]
pub(super) enum SendFailure {
    /// The request could not be built: credentials, endpoint, region.
    Build(String),
    /// No HTTP response: connect, DNS, TLS, timeout.
    Transport(String),
    /// A response arrived (or started to); the raw parts if the SDK kept them.
    Response {
        raw: Option<RawResponse>,
        detail: String,
    },
}

/// An error and its sources as one readable line (`a: b: c`), without the
/// Debug dump `DisplayErrorContext` appends. Repeated links are dropped.
pub(super) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && parts.last().is_none_or(|last| !last.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// Reduces any operation's typed result to what the wire client needs.
pub(super) fn settle<O, E>(result: Result<O, SdkError<E, HttpResponse>>) -> Result<(), SendFailure>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let err = match result {
        Ok(_) => return Ok(()),
        Err(err) => err,
    };
    let detail = error_chain(&err);
    Err(match err {
        SdkError::ConstructionFailure(_) => SendFailure::Build(detail),
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => SendFailure::Transport(detail),
        other => SendFailure::Response {
            raw: other.raw_response().and_then(RawResponse::from_http),
            detail,
        },
    })
}

/// Against real AWS: never retry `LimitExceededException`.
///
/// The SDK counts it as throttling, but Cognito uses it for "Attempt limit
/// exceeded" on codes and passwords; a retry would add attempts the scenario
/// did not make (and prolong lockouts). Genuine throttling
/// (`TooManyRequestsException`) is still retried.
#[derive(Debug)]
pub(super) struct NoRetryOnAttemptLimit;

impl ClassifyRetry for NoRetryOnAttemptLimit {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let (Some(Err(_)), Some(response)) = (ctx.output_or_error(), ctx.response()) else {
            return RetryAction::NoActionIndicated;
        };
        let body = response
            .body()
            .bytes()
            .map(parse_body)
            .unwrap_or(Value::Null);
        let header = response.headers().get("x-amzn-errortype");
        match error_code(&body, header).as_deref() {
            Some("LimitExceededException") => RetryAction::RetryForbidden,
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "cognito-scenarios: no retry on LimitExceededException"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}
