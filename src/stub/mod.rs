//! The built-in stub: an honest in-process Cognito behind a hyper server.
//!
//! [`Stub::start`] serves the cognito-idp JSON 1.1 protocol on
//! `127.0.0.1` (POST `/`) plus each pool's JWKS
//! (`GET /<poolId>/.well-known/jwks.json`), the latest code delivered to a
//! user (`GET /_stub/code/<poolId>/<username>`) and a readiness probe
//! (`GET /health`). Behind it is a stateful model of user pools that checks
//! what Cognito checks and answers with Cognito's error codes and messages.
//! All time comes from a [`Clock`], virtual by default, so callers can jump
//! past TOTP windows and session expiry. [`StubService`] is the same thing
//! without HTTP. The `stub` command serves one [`Stub`] with the real clock.
//!
//! # Use from your own tests
//!
//! Start a stub (as with wiremock's `MockServer::start()`), point your code
//! or any AWS SDK at [`Stub::endpoint`], seed pools and users with
//! [`Stub::call`], read delivered codes from [`Stub::outbox`] and move the
//! virtual clock with [`Stub::clock`]:
//!
//! ```
//! use std::time::Duration;
//!
//! use aws_sdk_cognitoidentityprovider::config::{BehaviorVersion, Credentials, Region};
//! use cognito_scenarios::stub::{Stub, StubOptions};
//! use serde_json::json;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let stub = Stub::start(StubOptions::default()).await?; // 127.0.0.1, a free port
//!
//! // Seed a pool, an app client and a user in-process (no HTTP, no credentials).
//! let pool = stub.call("CreateUserPool", &json!({
//!     "PoolName": "app",
//!     "AutoVerifiedAttributes": ["email"],
//! }))?;
//! let pool_id = pool["UserPool"]["Id"].as_str().unwrap();
//! let client = stub.call("CreateUserPoolClient", &json!({
//!     "UserPoolId": pool_id,
//!     "ClientName": "web",
//!     "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
//! }))?;
//! let client_id = client["UserPoolClient"]["ClientId"].as_str().unwrap();
//! stub.call("SignUp", &json!({
//!     "ClientId": client_id,
//!     "Username": "alice",
//!     "Password": "Correct-horse-1",
//!     "UserAttributes": [{"Name": "email", "Value": "alice@example.com"}],
//! }))?;
//!
//! // The code Cognito would have e-mailed.
//! let code = stub.outbox().latest_code(pool_id, "alice").expect("a code was sent");
//! stub.call("ConfirmSignUp", &json!({
//!     "ClientId": client_id, "Username": "alice", "ConfirmationCode": code,
//! }))?;
//!
//! // The code under test talks HTTP to the stub, e.g. through the AWS SDK.
//! let config = aws_sdk_cognitoidentityprovider::Config::builder()
//!     .behavior_version(BehaviorVersion::latest())
//!     .region(Region::new("us-east-1"))
//!     .endpoint_url(stub.endpoint())
//!     .credentials_provider(Credentials::new("test", "test", None, None, "stub"))
//!     .build();
//! let cognito = aws_sdk_cognitoidentityprovider::Client::from_conf(config);
//! let signed_in = cognito
//!     .initiate_auth()
//!     .client_id(client_id)
//!     .auth_flow("USER_PASSWORD_AUTH".into())
//!     .auth_parameters("USERNAME", "alice")
//!     .auth_parameters("PASSWORD", "Correct-horse-1")
//!     .send()
//!     .await?;
//! let access_token = signed_in.authentication_result().unwrap().access_token().unwrap();
//! assert!(cognito.get_user().access_token(access_token).send().await.is_ok());
//!
//! // An hour later (virtual time: instantly) the access token has expired.
//! stub.clock().advance(Duration::from_secs(3601));
//! let expired = stub.call("GetUser", &json!({"AccessToken": access_token})).unwrap_err();
//! assert_eq!(expired.code, "NotAuthorizedException");
//! # Ok(())
//! # }
//! ```
//!
//! Files: `protocol` (wire shapes, parameter checks), `state` (model),
//! `pools` (pools and app clients), `users`, `auth` (flows, challenges,
//! sessions), `mfa`, `srp` (SRP-6a server maths), `devices` (device
//! tracking), `tokens` (JWTs, JWKS), `outbox` (delivered codes),
//! `password` (policy).
//!
//! # Choices where AWS's behaviour is not documented
//! - Every modelled error is sent with status 400 (observed on the wire for
//!   NotAuthorizedException and UserNotFoundException although the model says
//!   403/404); `MissingAuthenticationTokenException` is 403 (AWS common
//!   errors); an internal failure is `InternalErrorException` 500.
//! - A member of the wrong JSON type is `SerializationException` with Coral's
//!   wording ("Start of structure or map found where not expected.",
//!   "… can not be converted to an String"), as Cognito answers it; a missing
//!   required member is `InvalidParameterException` "1 validation error
//!   detected: Value null at 'userPoolId' …".
//! - A request body over [`MAX_BODY_BYTES`] (1 MiB) is
//!   `RequestEntityTooLargeException` (413), refused from its
//!   `Content-Length` before it is read, or as soon as a chunked body passes
//!   the limit; a body not received within 30 s is `RequestTimeoutException`
//!   (408); an unreadable one (the client hung up) `SerializationException`.
//!   Bytes that are not HTTP get a bare 400 from the HTTP layer.
//! - Unknown or missing `X-Amz-Target`, and a content type other than
//!   `application/x-amz-json-1.x`, are `UnknownOperationException` (400). An
//!   empty body counts as `{}`. A real cognito-idp operation the stub lacks is
//!   `NotSupportedByStubException`, naming it.
//! - Admin (non-public) operations only need an `Authorization:
//!   AWS4-HMAC-SHA256 …` header; the signature is not verified.
//! - Sessions are `AYABe` + 512 random base64url characters, bound to pool,
//!   client, user and expected challenge. Any answer that reaches the session
//!   spends it, right or wrong (AWS reports "session can only be used once"
//!   on a retry after a wrong MFA code); malformed requests (missing
//!   NEW_PASSWORD, a password the policy refuses) do not. Unknown sessions,
//!   another user's or another client's session, or a session answering a
//!   different challenge: NotAuthorizedException "Invalid session for the
//!   user.". AssociateSoftwareToken and VerifySoftwareToken with a Session
//!   spend it and return a fresh one (full AuthSessionValidity).
//! - MFA_SETUP answered before VerifySoftwareToken succeeded: "Invalid
//!   session for the user.". VerifySoftwareToken with a Session (MFA_SETUP)
//!   enables TOTP and makes it preferred; with an access token it only
//!   verifies the secret (SetUserMFAPreference enables it). With MFA ON a
//!   verified secret is used even if not enabled. FRIENDLY_DEVICE_NAME is
//!   the FriendlyDeviceName given to VerifySoftwareToken, else "TOTP device".
//! - A TOTP pool needs SetUserPoolMfaConfig (SoftwareTokenMfaConfiguration
//!   Enabled), as on AWS: CreateUserPool with MfaConfiguration ON/OPTIONAL
//!   and no SmsConfiguration is refused with AWS's message ("SMS
//!   configuration and Auto verification for phone_number are required …",
//!   <https://github.com/aws/aws-cli/issues/3876>). With an SmsConfiguration
//!   it is accepted, phone_number auto-verified or not, as moto's
//!   AWS-verified tests create their MFA pools
//!   (<https://github.com/getmoto/moto/blob/master/tests/test_cognitoidp/__init__.py>).
//! - Boolean attributes (email_verified, phone_number_verified) take true and
//!   false in any capitalisation and keep the text as written: AdminGetUser
//!   reads back "True" (<https://github.com/aws-amplify/amplify-js/issues/8205>),
//!   which counts as verified (the AdminCreateUser API reference writes
//!   "True"; moto's AWS-verified `test_forgot_password_with_email_delivery_details`);
//!   the ID token has JSON Booleans. Capitalisations other than true/True,
//!   and the refusal of any other text (InvalidParameterException "Invalid
//!   value for <name>: must be true or false"), are *inferred*.
//! - Schema `Mutable: false` (standard or custom attributes) is reported by
//!   DescribeUserPool as declared and enforced: the value is set at SignUp /
//!   AdminCreateUser and never changed afterwards (AddCustomAttributes API
//!   reference, `Mutable`). (Admin)UpdateUserAttributes and the
//!   NEW_PASSWORD_REQUIRED answer's `userAttributes.*` refuse the whole
//!   request with InvalidParameterException "user.<name>: Attribute cannot be
//!   updated." (AWS's answer to UpdateUserAttributes of an immutable email,
//!   <https://github.com/aws-amplify/amplify-swift/issues/3981>; for custom
//!   attributes and the admin operation *inferred*), also when the user has no
//!   value yet or the value is unchanged; (Admin)DeleteUserAttributes refuses them with "Cannot
//!   delete the required or immutable attribute <name>" (*inferred*).
//! - Sign-up codes: sent only when the pool auto-verifies a channel the user
//!   has (phone before email when both); otherwise no code, no
//!   CodeDeliveryDetails, and ResendConfirmationCode answers "Cannot resend
//!   codes. Auto verification not turned on." (confirm with
//!   AdminConfirmSignUp). Codes are 6 digits, valid 24 h, only the latest
//!   is valid. Forgot-password codes go to the first *verified* channel
//!   (AccountRecoverySetting order; phone then email by default) and are
//!   valid 1 h (documented).
//! - Password policy failures are checked in the order length, lowercase,
//!   uppercase, numbers, symbols; SignUp says "Password did not conform with
//!   policy: …", every other operation "Password does not conform to policy: …".
//! - SignUp checks the policy before the username's existence.
//! - Refresh tokens are JWEs in Cognito's shape that carry their sign-in
//!   sealed (AES-256-GCM, a key per stub); the stub keeps only revocations
//!   (see `sign_ins`). RevokeToken takes only refresh tokens (JWTs:
//!   UnsupportedTokenTypeException); an unknown token succeeds (RFC 7009);
//!   a wrong ClientSecret is UnauthorizedException. Wrong SECRET_HASH on
//!   refresh: "SecretHash does not match for the client: <id>".
//! - AdminDisableUser revokes the user's tokens (API reference); a deleted
//!   user's access token gets UserNotFoundException.
//! - Both signing keys (2048-bit, one for access, one for ID tokens) are
//!   shared by every pool and stub in the process, generated in the
//!   background from the first stub on.
//! - ListUsers filters are case-sensitive; `status` is "Enabled"/"Disabled";
//!   PaginationToken is opaque.
//! - ForgotPassword / ResendConfirmationCode for an unknown user with
//!   PreventUserExistenceErrors ENABLED return simulated EMAIL delivery
//!   details; ConfirmSignUp / ConfirmForgotPassword return CodeMismatchException.
//! - USER_SRP_AUTH: PASSWORD_VERIFIER comes without a Session (as measured
//!   on AWS); its SECRET_BLOCK (base64 of 256 random bytes) keys the pending
//!   exchange, single-use, valid for AuthSessionValidity. The salt is stable
//!   per user and password (keyed HMAC with a per-process secret). SRP_A that
//!   is not hex or is 0 mod N: InvalidParameterException. An unreadable
//!   TIMESTAMP: InvalidParameterException with AWS's observed text, nothing
//!   spent; the signature is checked over the TIMESTAMP text as sent, so a
//!   client that signs one rendering (an unpadded day) and sends another (a
//!   padded one) fails with "Incorrect username or password."; one that signs
//!   and sends the same text passes (*inferred*: whether AWS refuses a
//!   readable padded day that was signed is not documented); its distance
//!   from the clock is not checked. A SECRET_BLOCK never issued and a wrong signature:
//!   "Incorrect username or password.". The user's state (disabled,
//!   unconfirmed, NEW_PASSWORD_REQUIRED) is checked after the proof. Unknown
//!   user: LEGACY → UserNotFoundException at InitiateAuth; ENABLED → a stable
//!   simulated challenge, then NotAuthorizedException.
//! - Devices: tracking is on when the pool has a DeviceConfiguration. Every
//!   new sign-in that did not prove a confirmed device (any flow) gets
//!   NewDeviceMetadata (`<region>_<uuid>`, one DeviceGroupKey per user) and
//!   the access token a `device_key` claim (kept on refresh). DEVICE_KEY is
//!   read from AuthParameters or any challenge answer. Order: password/SRP →
//!   user state → NEW_PASSWORD_REQUIRED → DEVICE_SRP_AUTH (confirmed device
//!   only; ChallengeParameters: USERNAME; a Session, which the answer may
//!   leave out as the official AWS Python and Java examples do: it then
//!   continues the newest live DEVICE_SRP_AUTH challenge of that user and
//!   DEVICE_KEY on that client and API (public/admin), and without one it
//!   is "Missing required parameter Session", *inferred*) → DEVICE_PASSWORD_VERIFIER
//!   (SRP_B, SALT, SECRET_BLOCK, USERNAME; no Session) → MFA → tokens.
//!   SMS/TOTP challenges are skipped only when the proven device is
//!   remembered and ChallengeRequiredOnNewDevice is true (API reference);
//!   MFA_SETUP is never skipped. A DEVICE_KEY that is not the user's:
//!   ResourceNotFoundException "Device does not exist." (the text clients
//!   match to drop a stale key); an unconfirmed one is ignored. ConfirmDevice
//!   remembers the device unless DeviceOnlyRememberedOnUserPrompt
//!   (UserConfirmationNecessary true; UpdateDeviceStatus decides). Devices
//!   stay invisible to Get/List/UpdateDeviceStatus until confirmed;
//!   DeviceAttributes are device_status, device_name, dev:device_remembered_status
//!   (no last_ip_used); ListDevices pages with the next DeviceKey as token.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard};

use hyper::HeaderMap;
use serde_json::{Map, Value};

use crate::clock::Clock;

mod auth;
mod checks;
mod device_tracking;
mod devices;
mod key_cache;
mod mfa;
mod outbox;
mod password;
mod pools;
pub mod protocol;
mod server;
mod sign_ins;
mod srp;
mod state;
mod tokens;
mod users;

pub use outbox::{DeliveredMessage, Outbox, Purpose};
pub use protocol::{ApiError, ApiResult};
pub use server::MAX_BODY_BYTES;

use protocol::{CONTENT_TYPE, Params, TARGET_PREFIX};
use state::State;

/// How to run a stub.
#[derive(Clone, Debug)]
pub struct StubOptions {
    /// Where time comes from (virtual by default).
    pub clock: Clock,
    /// The region in pool ids, ARNs and token issuers (default `us-east-1`).
    pub region: String,
    /// The port on 127.0.0.1; `None` picks a free one.
    pub port: Option<u16>,
}

impl Default for StubOptions {
    /// Virtual clock, `us-east-1`, random port.
    fn default() -> Self {
        StubOptions {
            clock: Clock::virtual_now(),
            region: "us-east-1".to_string(),
            port: None,
        }
    }
}

/// Why a stub could not start.
#[derive(Debug, thiserror::Error)]
pub enum StubError {
    /// The port could not be bound.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The requested port.
        port: u16,
        /// The OS error.
        source: std::io::Error,
    },
    /// The server's runtime could not be started.
    #[error("cannot start the stub's server threads")]
    Runtime,
}

/// An HTTP answer of the stub.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StubResponse {
    /// HTTP status.
    pub status: u16,
    /// Response body (always JSON).
    pub body: Vec<u8>,
    /// Content type of `body`.
    pub content_type: &'static str,
    /// Extra headers (`x-amzn-RequestId`, `x-amzn-ErrorType`, …).
    pub headers: Vec<(String, String)>,
}

impl StubResponse {
    /// The body parsed as JSON (`Value::Null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn error(e: &ApiError) -> StubResponse {
        StubResponse {
            status: e.status,
            body: e.body(),
            content_type: CONTENT_TYPE,
            headers: vec![
                ("x-amzn-RequestId".into(), uuid::Uuid::new_v4().to_string()),
                ("x-amzn-ErrorType".into(), format!("{}:", e.code)),
                (
                    "x-amzn-ErrorMessage".into(),
                    protocol::header_safe(&e.message),
                ),
            ],
        }
    }

    fn ok(v: &Value) -> StubResponse {
        StubResponse {
            status: 200,
            body: serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec()),
            content_type: CONTENT_TYPE,
            headers: vec![("x-amzn-RequestId".into(), uuid::Uuid::new_v4().to_string())],
        }
    }
}

struct Shared {
    state: Mutex<State>,
    clock: Clock,
    region: String,
    outbox: Outbox,
}

/// The stub's protocol entry point without HTTP: clonable, thread-safe.
#[derive(Clone)]
pub struct StubService {
    shared: Arc<Shared>,
}

/// What a handler sees: the model, the clock, the outbox (signing keys come
/// from [`tokens::signing_keys`] when a token is made or checked).
pub(crate) struct Ctx<'a> {
    pub state: &'a mut State,
    pub clock: &'a Clock,
    pub region: &'a str,
    pub outbox: &'a Outbox,
    /// The device of the sign-in being handled (auth operations only).
    pub device: state::DeviceSignIn,
}

impl StubService {
    /// A fresh service (empty model). The process-wide signing keys are
    /// generated in the background from the first service on, so requests
    /// that make no token (creating pools and users) need not wait for them.
    pub fn new(options: &StubOptions) -> Result<StubService, StubError> {
        tokens::prepare_keys();
        Ok(StubService {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                clock: options.clock.clone(),
                region: options.region.clone(),
                outbox: Outbox::default(),
            }),
        })
    }

    /// The stub's clock.
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// The delivered codes.
    pub fn outbox(&self) -> Outbox {
        self.shared.outbox.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A handler that panicked left the model as it was; keep serving.
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Answers one JSON 1.1 request (`POST /`) from its headers and body.
    pub fn handle(&self, headers: &HeaderMap, body: &[u8]) -> StubResponse {
        match guarded(|| self.handle_inner(headers, body)) {
            Ok(v) => StubResponse::ok(&v),
            Err(e) => StubResponse::error(&e),
        }
    }

    /// Calls one operation in-process, as a caller with AWS credentials
    /// would (admin operations included), without HTTP: `operation` is its
    /// name (`"AdminCreateUser"`), `input` its JSON request. Answers the JSON
    /// response or the error that would be sent over HTTP.
    pub fn call(&self, operation: &str, input: &Value) -> ApiResult<Value> {
        guarded(|| {
            if !crate::api::OPERATIONS.contains(&operation) {
                return Err(ApiError::new(
                    "UnknownOperationException",
                    format!("Unknown operation {}", protocol::header_safe(operation)),
                ));
            }
            let Value::Object(map) = input else {
                return Err(ApiError::serialization(
                    "Start of structure or map expected for the request body.",
                ));
            };
            self.execute(operation, map)
        })
    }

    fn handle_inner(&self, headers: &HeaderMap, body: &[u8]) -> ApiResult<Value> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let unknown = |why: String| ApiError::new("UnknownOperationException", why);
        let target =
            header("x-amz-target").ok_or_else(|| unknown("Missing X-Amz-Target header".into()))?;
        let op = target
            .strip_prefix(TARGET_PREFIX)
            .filter(|op| crate::api::OPERATIONS.contains(op))
            .ok_or_else(|| {
                unknown(format!(
                    "Unknown operation {}",
                    protocol::header_safe(target)
                ))
            })?;
        if let Some(ct) = header("content-type")
            && !ct.trim().starts_with("application/x-amz-json-1.")
        {
            return Err(unknown(format!(
                "Unsupported content type {}; expected {CONTENT_TYPE}",
                protocol::header_safe(ct)
            )));
        }
        if !crate::api::is_public(op)
            && !header("authorization")
                .is_some_and(|a| a.trim_start().starts_with("AWS4-HMAC-SHA256"))
        {
            return Err(ApiError {
                code: "MissingAuthenticationTokenException".into(),
                message: "Missing Authentication Token".into(),
                status: 403,
            });
        }
        let input: Value = if body.iter().all(|b| b.is_ascii_whitespace()) {
            Value::Object(Map::new())
        } else {
            serde_json::from_slice(body).map_err(|e| {
                ApiError::serialization(format!("Unable to parse the request body as JSON: {e}"))
            })?
        };
        let Value::Object(map) = &input else {
            return Err(ApiError::serialization(
                "Start of structure or map expected for the request body.",
            ));
        };
        self.execute(op, map)
    }

    /// Runs a known operation on the model (the one place that takes the lock).
    fn execute(&self, op: &str, input: &Map<String, Value>) -> ApiResult<Value> {
        let params = Params::new(input);
        let mut state = self.lock();
        let mut ctx = Ctx {
            state: &mut state,
            clock: &self.shared.clock,
            region: &self.shared.region,
            outbox: &self.shared.outbox,
            device: state::DeviceSignIn::default(),
        };
        dispatch(&mut ctx, op, &params)
    }

    /// Answers `GET /<poolId>/.well-known/jwks.json`.
    pub fn jwks(&self, pool_id: &str) -> StubResponse {
        let keys = tokens::signing_keys();
        if let (true, Ok(keys)) = (self.lock().pools.contains_key(pool_id), keys) {
            StubResponse {
                status: 200,
                body: serde_json::to_vec(&tokens::jwks(keys)).unwrap_or_default(),
                content_type: "application/json",
                headers: vec![],
            }
        } else {
            let body =
                serde_json::json!({"message": format!("User pool {pool_id} does not exist.")});
            StubResponse {
                status: 404,
                body: serde_json::to_vec(&body).unwrap_or_default(),
                content_type: "application/json",
                headers: vec![],
            }
        }
    }

    /// Routes an HTTP request (method, path, headers, body) as the server does.
    pub fn route(
        &self,
        method: &str,
        path: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> StubResponse {
        if method == "POST" && path == "/" {
            return self.handle(headers, body);
        }
        if method == "GET"
            && let Some(pool_id) = path
                .strip_prefix('/')
                .and_then(|p| p.strip_suffix("/.well-known/jwks.json"))
            && !pool_id.contains('/')
        {
            return self.jwks(pool_id);
        }
        if method == "GET"
            && let Some((pool_id, username)) = path
                .strip_prefix("/_stub/code/")
                .and_then(|rest| rest.split_once('/'))
        {
            // Standalone use: the latest confirmation code delivered to a user,
            // for clients (boto3, an app's tests) that cannot read the outbox.
            let code = self.outbox().latest_code(pool_id, username);
            let status = if code.is_some() { 200 } else { 404 };
            return StubResponse {
                status,
                body: serde_json::to_vec(&serde_json::json!({ "code": code })).unwrap_or_default(),
                content_type: "application/json",
                headers: vec![],
            };
        }
        if method == "GET" && path == "/health" {
            // Readiness probe for scripts and tests that start the standalone stub.
            return StubResponse {
                status: 200,
                body: br#"{"status":"ok"}"#.to_vec(),
                content_type: "application/json",
                headers: vec![],
            };
        }
        let body = serde_json::json!({"message": "Not Found"});
        StubResponse {
            status: 404,
            body: serde_json::to_vec(&body).unwrap_or_default(),
            content_type: "application/json",
            headers: vec![],
        }
    }
}

/// Runs `f`; a panic becomes `InternalErrorException` (500), never a dropped connection.
fn guarded(f: impl FnOnce() -> ApiResult<Value>) -> ApiResult<Value> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(ApiError {
            code: "InternalErrorException".into(),
            message: "The stub failed while handling this request".into(),
            status: 500,
        })
    })
}

fn dispatch(ctx: &mut Ctx, op: &str, p: &Params) -> ApiResult<Value> {
    match op {
        // Pools and clients.
        "CreateUserPool" => pools::create_user_pool(ctx, p),
        "DescribeUserPool" => pools::describe_user_pool(ctx, p),
        "UpdateUserPool" => pools::update_user_pool(ctx, p),
        "DeleteUserPool" => pools::delete_user_pool(ctx, p),
        "ListUserPools" => pools::list_user_pools(ctx, p),
        "SetUserPoolMfaConfig" => pools::set_user_pool_mfa_config(ctx, p),
        "GetUserPoolMfaConfig" => pools::get_user_pool_mfa_config(ctx, p),
        "CreateUserPoolClient" => pools::create_user_pool_client(ctx, p),
        "DescribeUserPoolClient" => pools::describe_user_pool_client(ctx, p),
        "UpdateUserPoolClient" => pools::update_user_pool_client(ctx, p),
        "DeleteUserPoolClient" => pools::delete_user_pool_client(ctx, p),
        "ListUserPoolClients" => pools::list_user_pool_clients(ctx, p),
        // Users.
        "SignUp" => users::sign_up(ctx, p),
        "ConfirmSignUp" => users::confirm_sign_up(ctx, p),
        "ResendConfirmationCode" => users::resend_confirmation_code(ctx, p),
        "AdminConfirmSignUp" => users::admin_confirm_sign_up(ctx, p),
        "AdminCreateUser" => users::admin_create_user(ctx, p),
        "AdminGetUser" => users::admin_get_user(ctx, p),
        "GetUser" => users::get_user(ctx, p),
        "ListUsers" => users::list_users(ctx, p),
        "AdminDeleteUser" => users::admin_delete_user(ctx, p),
        "DeleteUser" => users::delete_user(ctx, p),
        "AdminSetUserPassword" => users::admin_set_user_password(ctx, p),
        "AdminResetUserPassword" => users::admin_reset_user_password(ctx, p),
        "AdminUpdateUserAttributes" => users::admin_update_user_attributes(ctx, p),
        "AdminDeleteUserAttributes" => users::admin_delete_user_attributes(ctx, p),
        "DeleteUserAttributes" => users::delete_user_attributes(ctx, p),
        "UpdateUserAttributes" => users::update_user_attributes(ctx, p),
        "GetUserAttributeVerificationCode" => users::get_user_attribute_verification_code(ctx, p),
        "VerifyUserAttribute" => users::verify_user_attribute(ctx, p),
        "AdminDisableUser" => users::admin_disable_user(ctx, p),
        "AdminEnableUser" => users::admin_enable_user(ctx, p),
        "ForgotPassword" => users::forgot_password(ctx, p),
        "ConfirmForgotPassword" => users::confirm_forgot_password(ctx, p),
        "ChangePassword" => users::change_password(ctx, p),
        "GlobalSignOut" => users::global_sign_out(ctx, p),
        "AdminUserGlobalSignOut" => users::admin_user_global_sign_out(ctx, p),
        // Authentication.
        "InitiateAuth" => auth::initiate_auth(ctx, p),
        "AdminInitiateAuth" => auth::admin_initiate_auth(ctx, p),
        "RespondToAuthChallenge" => auth::respond_to_auth_challenge(ctx, p),
        "AdminRespondToAuthChallenge" => auth::admin_respond_to_auth_challenge(ctx, p),
        "RevokeToken" => auth::revoke_token(ctx, p),
        // MFA.
        "AssociateSoftwareToken" => mfa::associate_software_token(ctx, p),
        "VerifySoftwareToken" => mfa::verify_software_token(ctx, p),
        "SetUserMFAPreference" => mfa::set_user_mfa_preference(ctx, p),
        "AdminSetUserMFAPreference" => mfa::admin_set_user_mfa_preference(ctx, p),
        // Devices.
        "ConfirmDevice" => devices::confirm_device(ctx, p),
        "GetDevice" => devices::get_device(ctx, p),
        "ListDevices" => devices::list_devices(ctx, p),
        "ForgetDevice" => devices::forget_device(ctx, p),
        "UpdateDeviceStatus" => devices::update_device_status(ctx, p),
        "AdminGetDevice" => devices::admin_get_device(ctx, p),
        "AdminListDevices" => devices::admin_list_devices(ctx, p),
        "AdminForgetDevice" => devices::admin_forget_device(ctx, p),
        "AdminUpdateDeviceStatus" => devices::admin_update_device_status(ctx, p),
        other => Err(ApiError::not_supported(other)),
    }
}

/// A running stub: an HTTP server on 127.0.0.1 in front of a [`StubService`].
/// Dropping it stops the server (in-flight requests may finish).
pub struct Stub {
    server: server::Server,
    service: StubService,
}

impl Stub {
    /// Starts a stub on 127.0.0.1 (only). The server runs on a background
    /// runtime of its own, so any caller may use it, blocking or not.
    pub async fn start(options: StubOptions) -> Result<Stub, StubError> {
        let service = StubService::new(&options)?;
        let server = server::Server::start(service.clone(), options.port.unwrap_or(0))?;
        Ok(Stub { server, service })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// The stub's clock: [`Clock::advance`] moves a virtual one.
    pub fn clock(&self) -> &Clock {
        self.service.clock()
    }

    /// The delivered codes.
    pub fn outbox(&self) -> Outbox {
        self.service.outbox()
    }

    /// The protocol entry point without HTTP (same state as the server).
    pub fn service(&self) -> &StubService {
        &self.service
    }

    /// Calls one operation in-process (same state as the server); see
    /// [`StubService::call`].
    pub fn call(&self, operation: &str, input: &Value) -> ApiResult<Value> {
        self.service.call(operation, input)
    }

    /// Answers one JSON 1.1 request directly (same state as the server).
    pub fn handle(&self, headers: &HeaderMap, body: &[u8]) -> StubResponse {
        self.service.handle(headers, body)
    }
}

#[cfg(test)]
mod tests;
