//! Wire client tests against `wiremock` standing in for Cognito on 127.0.0.1.

use std::collections::BTreeSet;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::operations::ALL;
use super::*;
use crate::api;

const JSON_11: &str = "application/x-amz-json-1.1";
const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";

fn local_config(server: &MockServer) -> WireConfig {
    WireConfig {
        endpoint: Some(server.uri()),
        region: None,
        profile: None,
        kind: WireKind::Local,
    }
}

async fn local_client(server: &MockServer) -> WireClient {
    WireClient::new(&local_config(server))
        .await
        .expect("local client")
}

/// An AWS-kind client (standard retries) aimed at the mock, with injected
/// credentials instead of process-wide environment variables.
async fn aws_client(server: &MockServer) -> WireClient {
    let config = WireConfig {
        endpoint: Some(server.uri()),
        region: Some("us-east-1".into()),
        profile: None,
        kind: WireKind::Aws,
    };
    let credentials = Credentials::new("test", "test", None, None, "tests");
    WireClient::build(&config, Some(credentials))
        .await
        .expect("aws client")
}

fn json_response(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), JSON_11)
}

/// A server answering every POST with `response`.
async fn server_answering(response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

fn header_str<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.headers
        .get(name)
        .map(|v| v.to_str().expect("ASCII header"))
}

fn target_of(req: &Request) -> &str {
    header_str(req, "x-amz-target")
        .and_then(|t| t.strip_prefix(TARGET_PREFIX))
        .expect("X-Amz-Target with the Cognito prefix")
}

async fn received(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.expect("recording on")
}

// ---------------------------------------------------------------- body passthrough

#[tokio::test]
async fn body_reaches_server_byte_for_byte() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/"))
        .and(header(
            "x-amz-target",
            "AWSCognitoIdentityProviderService.AdminCreateUser",
        ))
        .and(header("content-type", JSON_11))
        .respond_with(json_response(200, r#"{"User":{"Username":"x"}}"#))
        .expect(1)
        .mount(&server)
        .await;
    // Wrong types, unknown keys, nesting, unicode: the SDK model must not get a say.
    let body = json!({
        "Username": 42,
        "UserPoolId": ["not", "a", "string"],
        "NotARealParameter": {"nested": [1, 2.5, null, true, {"deep": "ü"}]},
        "UserAttributes": "should be a list",
        "Unicode": "ünïcødé ✓ 🚀 \u{0} \"quoted\"",
        "zLast": false,
        "aFirst": -1e-7
    });
    let response = local_client(&server)
        .await
        .call("AdminCreateUser", &body)
        .await
        .expect("response");
    assert_eq!(response.status, 200);
    assert_eq!(response.body, json!({"User": {"Username": "x"}}));
    assert_eq!(response.error, None);

    let requests = received(&server).await;
    assert_eq!(requests.len(), 1);
    let req = &requests[0];
    assert_eq!(req.body, serde_json::to_vec(&body).unwrap(), "exact bytes");
    let arrived: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(arrived, body);
    assert_eq!(
        header_str(req, "content-length"),
        Some(req.body.len().to_string().as_str())
    );
}

#[tokio::test]
async fn empty_object_and_non_object_bodies_pass_through() {
    let server = server_answering(json_response(200, "{}")).await;
    let client = local_client(&server).await;
    for body in [
        json!({}),
        json!([1, 2]),
        json!("just a string"),
        json!(null),
    ] {
        client.call("ListUserPools", &body).await.expect("response");
    }
    let bodies: Vec<Value> = received(&server)
        .await
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(
        bodies,
        vec![
            json!({}),
            json!([1, 2]),
            json!("just a string"),
            json!(null)
        ]
    );
}

// ---------------------------------------------------------------- signing

/// Recomputes the SigV4 signature over what arrived, so the test fails if the
/// SDK signed anything other than the body that was sent.
fn assert_valid_sigv4(req: &Request, secret: &str) {
    let auth = header_str(req, "authorization").expect("Authorization header");
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .unwrap_or_else(|| panic!("not SigV4: {auth}"));
    let part = |key: &str| {
        rest.split(", ")
            .find_map(|p| p.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in {auth}"))
    };
    let (credential, signed_headers, signature) = (
        part("Credential="),
        part("SignedHeaders="),
        part("Signature="),
    );
    let (access_key, scope) = credential.split_once('/').unwrap();
    assert_eq!(access_key, "test");
    let scope_parts: Vec<&str> = scope.split('/').collect();
    assert_eq!(
        scope_parts[1..],
        ["us-east-1", "cognito-idp", "aws4_request"]
    );
    for required in ["host", "x-amz-date", "x-amz-target", "content-type"] {
        assert!(
            signed_headers.split(';').any(|h| h == required),
            "{required} not signed: {signed_headers}"
        );
    }

    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let hmac = |key: &[u8], data: &str| {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(data.as_bytes());
        mac.finalize().into_bytes().to_vec()
    };
    let canonical_headers: String = signed_headers
        .split(';')
        .map(|name| format!("{name}:{}\n", header_str(req, name).unwrap().trim()))
        .collect();
    let canonical_request = format!(
        "POST\n/\n\n{canonical_headers}\n{signed_headers}\n{}",
        hex(&Sha256::digest(&req.body))
    );
    let amz_date = header_str(req, "x-amz-date").unwrap();
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = format!("AWS4{secret}").into_bytes();
    for step in &scope_parts {
        key = hmac(&key, step);
    }
    assert_eq!(
        hex(&hmac(&key, &string_to_sign)),
        signature,
        "bad signature"
    );
}

#[tokio::test]
async fn admin_operations_are_signed_over_the_replaced_body() {
    let server = server_answering(json_response(200, "{}")).await;
    let body = json!({"UserPoolId": "us-east-1_abc", "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                      "AuthParameters": {"USERNAME": "alice", "PASSWORD": "pässwörd"}});
    local_client(&server)
        .await
        .call("AdminInitiateAuth", &body)
        .await
        .unwrap();
    let requests = received(&server).await;
    assert_eq!(target_of(&requests[0]), "AdminInitiateAuth");
    assert_eq!(requests[0].body, serde_json::to_vec(&body).unwrap());
    assert_valid_sigv4(&requests[0], "test");
}

#[tokio::test]
async fn public_operations_are_unsigned() {
    let server = server_answering(json_response(200, "{}")).await;
    let client = local_client(&server).await;
    for op in ["InitiateAuth", "SignUp", "RespondToAuthChallenge"] {
        client.call(op, &json!({"ClientId": "abc"})).await.unwrap();
    }
    let requests = received(&server).await;
    assert_eq!(requests.len(), 3);
    for req in &requests {
        assert_eq!(
            header_str(req, "authorization"),
            None,
            "{} was signed",
            target_of(req)
        );
    }
}

// ---------------------------------------------------------------- error parsing

async fn respond_once(response: ResponseTemplate) -> WireResponse {
    let server = server_answering(response).await;
    local_client(&server)
        .await
        .call("AdminInitiateAuth", &json!({}))
        .await
        .expect("an HTTP response is never a WireError")
}

fn api_error(code: &str, message: Option<&str>) -> Option<ApiError> {
    Some(ApiError {
        code: code.into(),
        message: message.map(str::to_owned),
    })
}

#[tokio::test]
async fn modelled_error_gives_code_and_message() {
    let body = r#"{"__type":"NotAuthorizedException","message":"Incorrect username or password."}"#;
    let response = respond_once(json_response(400, body)).await;
    assert_eq!(response.status, 400);
    assert_eq!(
        response.error,
        api_error(
            "NotAuthorizedException",
            Some("Incorrect username or password.")
        )
    );
    assert_eq!(response.body, serde_json::from_str::<Value>(body).unwrap());
}

#[tokio::test]
async fn error_codes_lose_namespace_prefix_and_colon_suffix() {
    let cases = [
        (
            r#"{"__type":"com.amazon.coral.service#UnknownOperationException"}"#,
            api_error("UnknownOperationException", None),
        ),
        (
            r#"{"__type":"aws.cognito#InvalidParameterException:http://internal.amazon.com/x","Message":"Capital M"}"#,
            api_error("InvalidParameterException", Some("Capital M")),
        ),
        (
            r#"{"__type":"UserNotFoundException:","message":"User does not exist."}"#,
            api_error("UserNotFoundException", Some("User does not exist.")),
        ),
        (
            r#"{"code":"ResourceNotFoundException","message":"from code"}"#,
            api_error("ResourceNotFoundException", Some("from code")),
        ),
        (
            r#"{"Output":{"__type":"com.amazon.coral.service#UnknownOperationException"},"Version":"1.0"}"#,
            api_error("UnknownOperationException", None),
        ),
        (r#"{"unrelated":true}"#, api_error("HTTP 400", None)),
    ];
    for (body, expected) in cases {
        let response = respond_once(json_response(400, body)).await;
        assert_eq!(response.error, expected, "body {body}");
    }
}

#[tokio::test]
async fn error_type_from_headers_when_body_is_empty() {
    let response = respond_once(
        ResponseTemplate::new(400)
            .insert_header("x-amzn-ErrorType", "NotAuthorizedException:")
            .insert_header("x-amzn-ErrorMessage", "Password attempts exceeded"),
    )
    .await;
    assert_eq!(response.status, 400);
    assert_eq!(response.body, json!({}));
    assert_eq!(
        response.error,
        api_error("NotAuthorizedException", Some("Password attempts exceeded"))
    );
}

#[tokio::test]
async fn html_500_becomes_a_string_body() {
    let html = "<!DOCTYPE html>\n<html><body><h1>500 Internal Server Error</h1></body></html>";
    let response = respond_once(
        ResponseTemplate::new(500).set_body_raw(html.as_bytes().to_vec(), "text/html"),
    )
    .await;
    assert_eq!(response.status, 500);
    assert_eq!(response.body, Value::String(html.into()));
    assert_eq!(response.error, api_error("HTTP 500", None));
}

#[tokio::test]
async fn bodies_the_sdk_cannot_parse_are_still_returned() {
    // 200 whose shape contradicts the model: the SDK's deserialiser fails, we don't.
    let odd = r#"{"AuthenticationResult":"not an object","ChallengeParameters":[1]}"#;
    let response = respond_once(json_response(200, odd)).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.error, None);
    assert_eq!(response.body, serde_json::from_str::<Value>(odd).unwrap());

    // 200 that is not JSON at all, and an empty 200.
    let response = respond_once(json_response(200, "OK, I guess")).await;
    assert_eq!(response.body, json!("OK, I guess"));
    assert_eq!(response.error, None);
    let response = respond_once(ResponseTemplate::new(200)).await;
    assert_eq!((response.status, response.body), (200, json!({})));

    // Non-JSON error with a JSON content type.
    let response = respond_once(json_response(502, "Bad Gateway")).await;
    assert_eq!(response.error, api_error("HTTP 502", None));
    assert_eq!(response.body, json!("Bad Gateway"));
}

// ---------------------------------------------------------------- retries

async fn requests_for_one_local_call(response: ResponseTemplate) -> (WireResponse, usize) {
    let server = server_answering(response).await;
    let response = local_client(&server)
        .await
        .call("AdminGetUser", &json!({"Username": "bob"}))
        .await
        .unwrap();
    (response, received(&server).await.len())
}

/// A client re-aimed with `with_endpoint` sends there, signed as before,
/// with the same no-retry policy; the first endpoint hears nothing.
#[tokio::test]
async fn with_endpoint_sends_to_the_new_endpoint_only() {
    let first = server_answering(json_response(200, "{}")).await;
    let second =
        server_answering(json_response(500, r#"{"__type":"InternalErrorException"}"#)).await;
    let client = local_client(&first)
        .await
        .with_endpoint(&second.uri())
        .unwrap();
    let response = client
        .call("AdminGetUser", &json!({"Username": "bob"}))
        .await
        .unwrap();
    assert_eq!(response.status, 500);
    assert!(received(&first).await.is_empty());
    let requests = received(&second).await;
    assert_eq!(requests.len(), 1, "retried");
    assert!(requests[0].headers.contains_key("authorization"));
    assert_eq!(client.region(), LOCAL_DEFAULT_REGION);
    assert!(matches!(
        client.with_endpoint("ftp://127.0.0.1:1"),
        Err(WireError::Config(_))
    ));
}

#[tokio::test]
async fn local_kind_never_retries() {
    let cases = [
        ResponseTemplate::new(500).set_body_raw(b"<html>boom</html>".to_vec(), "text/html"),
        json_response(500, r#"{"__type":"InternalErrorException","message":"x"}"#),
        json_response(503, r#"{"__type":"ServiceUnavailable"}"#),
        json_response(
            400,
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
        ),
        json_response(
            400,
            r#"{"__type":"TooManyRequestsException","message":"slow down"}"#,
        ),
        json_response(
            429,
            r#"{"__type":"TooManyRequestsException","message":"slow down"}"#,
        ),
    ];
    for template in cases {
        let (response, count) = requests_for_one_local_call(template).await;
        assert_eq!(
            count, 1,
            "retried a {} {:?}",
            response.status, response.error
        );
    }
}

#[tokio::test]
async fn aws_kind_retries_throttling_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_response(
            400,
            r#"{"__type":"TooManyRequestsException","message":"Too many requests"}"#,
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(json_response(200, r#"{"User":{"Username":"bob"}}"#))
        .mount(&server)
        .await;
    let response = aws_client(&server)
        .await
        .call("AdminGetUser", &json!({"Username": "bob"}))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.error, None);
    assert_eq!(response.body, json!({"User": {"Username": "bob"}}));
    let requests = received(&server).await;
    assert_eq!(requests.len(), 2);
    // Each attempt carries the same replaced body, freshly signed.
    for req in &requests {
        assert_eq!(req.body, br#"{"Username":"bob"}"#);
        assert_valid_sigv4(req, "test");
    }
}

#[tokio::test]
async fn aws_kind_does_not_retry_attempt_limit_errors() {
    // The SDK counts LimitExceededException as throttling; for Cognito it means
    // "Attempt limit exceeded", and a retry would be an extra attempt.
    let server = server_answering(json_response(
        400,
        r#"{"__type":"LimitExceededException","message":"Attempt limit exceeded, please try after some time."}"#,
    ))
    .await;
    let response = aws_client(&server)
        .await
        .call("ConfirmSignUp", &json!({"ConfirmationCode": "000000"}))
        .await
        .unwrap();
    assert_eq!(response.error.unwrap().code, "LimitExceededException");
    assert_eq!(received(&server).await.len(), 1);
}

// ---------------------------------------------------------------- transport and config

#[tokio::test]
async fn closed_port_is_a_readable_transport_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = WireConfig {
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        region: None,
        profile: None,
        kind: WireKind::Local,
    };
    let client = WireClient::new(&config).await.unwrap();
    let secret = "hunter2-do-not-leak";
    let err = client
        .call(
            "InitiateAuth",
            &json!({"AuthParameters": {"PASSWORD": secret}}),
        )
        .await
        .unwrap_err();
    let WireError::Transport(message) = &err else {
        panic!("expected Transport, got {err:?}");
    };
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
    assert!(message.contains("InitiateAuth"), "{message}");
    assert!(message.to_lowercase().contains("connect"), "{message}");
    assert!(
        !message.contains("DispatchFailure {"),
        "Debug dump: {message}"
    );
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains(secret), "body leaked: {text}");
    }
}

#[tokio::test]
async fn bad_endpoints_are_config_errors() {
    for endpoint in [
        "localhost:9229",
        "ftp://localhost",
        "http://",
        "http://:80",
        "http://a b",
    ] {
        let config = WireConfig {
            endpoint: Some(endpoint.into()),
            region: None,
            profile: None,
            kind: WireKind::Local,
        };
        let err = WireClient::new(&config).await.unwrap_err();
        assert!(matches!(err, WireError::Config(_)), "{endpoint}: {err:?}");
    }
}

#[tokio::test]
async fn missing_aws_profile_is_a_config_error_at_construction() {
    let profile = "cognito-scenarios-no-such-profile-7f3a";
    let config = WireConfig {
        endpoint: None,
        region: Some("us-east-1".into()),
        profile: Some(profile.into()),
        kind: WireKind::Aws,
    };
    let err = WireClient::new(&config).await.unwrap_err();
    let WireError::Config(message) = &err else {
        panic!("expected Config, got {err:?}");
    };
    assert!(message.contains(profile), "{message}");
}

#[tokio::test]
async fn local_region_defaults_and_overrides() {
    let server = MockServer::start().await;
    let mut config = local_config(&server);
    assert_eq!(
        WireClient::new(&config).await.unwrap().region(),
        "us-east-1"
    );
    config.region = Some("eu-west-3".into());
    let client = WireClient::new(&config).await.unwrap();
    assert_eq!(client.region(), "eu-west-3");
}

// ---------------------------------------------------------------- operations

#[tokio::test]
async fn every_operation_dispatches_to_its_own_target_with_the_right_signing() {
    let server = server_answering(json_response(200, "{}")).await;
    let client = local_client(&server).await;
    // Concurrently, from cloned clients: also proves the client is shareable.
    let mut tasks = tokio::task::JoinSet::new();
    for &op in ALL {
        let client = client.clone();
        tasks.spawn(async move { client.call(op, &json!({ "Sent": op })).await });
    }
    while let Some(result) = tasks.join_next().await {
        assert_eq!(result.unwrap().unwrap().status, 200);
    }
    let requests = received(&server).await;
    assert_eq!(requests.len(), ALL.len());
    let mut seen = BTreeSet::new();
    for req in &requests {
        let target = target_of(req);
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(body["Sent"], target, "dispatched to the wrong operation");
        let signed = header_str(req, "authorization").is_some();
        assert_eq!(
            signed,
            !api::is_public(target),
            "{target}: signed={signed} disagrees with is_public"
        );
        seen.insert(target.to_owned());
    }
    assert_eq!(seen.len(), ALL.len());
}

#[test]
fn operation_table_is_sorted_unique_and_complete() {
    assert_eq!(
        ALL,
        api::OPERATIONS,
        "the dispatch table and the API model disagree"
    );
    assert_eq!(ALL.len(), 132);
    assert!(
        ALL.windows(2).all(|w| w[0] < w[1]),
        "ALL must be sorted and unique"
    );
    let public: Vec<&str> = ALL
        .iter()
        .copied()
        .filter(|op| api::is_public(op))
        .collect();
    assert_eq!(public.len(), 32, "{public:?}");
    assert!(!api::is_public("AdminInitiateAuth"));
    assert!(!api::is_public("initiateauth"));
}

#[test]
fn suggestions_and_canonical_names() {
    use crate::api::{canonical, suggest};
    assert_eq!(suggest("AdminInitateAuth"), Some("AdminInitiateAuth"));
    assert_eq!(suggest("initiateauth"), Some("InitiateAuth"));
    assert_eq!(suggest("admin_initiate_auth"), Some("AdminInitiateAuth"));
    assert_eq!(
        suggest("SetUserMfaPreference"),
        Some("SetUserMFAPreference")
    );
    assert_eq!(
        suggest("GetUserPoolMFAConfig"),
        Some("GetUserPoolMfaConfig")
    );
    assert_eq!(
        suggest("RespondToAuthChalenge"),
        Some("RespondToAuthChallenge")
    );
    assert_eq!(suggest("Banana"), None);
    assert_eq!(suggest(""), None);
    assert_eq!(suggest("DeleteEverything"), None);
    assert_eq!(canonical("AdminInitiateAuth"), Some("AdminInitiateAuth"));
    assert_eq!(canonical("getcsvheader"), Some("GetCSVHeader"));
    assert_eq!(canonical("AdminInitateAuth"), None);
}

#[tokio::test]
async fn unknown_operation_is_refused_before_sending() {
    let server = server_answering(json_response(200, "{}")).await;
    let client = local_client(&server).await;
    let err = client
        .call("AdminInitateAuth", &json!({}))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        WireError::UnknownOperation {
            name: "AdminInitateAuth".into(),
            suggestion: Some("AdminInitiateAuth"),
        }
    );
    assert!(
        err.to_string().contains("did you mean `AdminInitiateAuth`"),
        "{err}"
    );
    // Exact names only: the lenient lookup is `canonical`, not `call`.
    let err = client.call("initiateauth", &json!({})).await.unwrap_err();
    assert!(matches!(
        err,
        WireError::UnknownOperation {
            suggestion: Some("InitiateAuth"),
            ..
        }
    ));
    assert!(received(&server).await.is_empty());
}

#[test]
fn unsupported_answers_are_recognised() {
    let answer = |status: u16, body: Value, code: &str| WireResponse {
        status,
        body,
        error: api_error(code, None),
    };
    let cognito_local = answer(
        500,
        json!({"__type": "CognitoLocal#Unsupported"}),
        "Unsupported",
    );
    assert!(
        cognito_local
            .unsupported()
            .unwrap()
            .contains("`Unsupported`")
    );
    let html = answer(500, Value::String("<html>500</html>".into()), "HTTP 500");
    assert!(html.unsupported().unwrap().contains("HTTP 500"));
    let stub = answer(
        400,
        json!({"__type": "NotSupportedByStubException"}),
        "NotSupportedByStubException",
    );
    assert!(stub.unsupported().is_some());
    // Modelled errors, JSON 500s and successes are answers, not gaps.
    let modelled = answer(
        400,
        json!({"__type": "NotAuthorizedException"}),
        "NotAuthorizedException",
    );
    assert_eq!(modelled.unsupported(), None);
    let internal = answer(
        500,
        json!({"__type": "InternalErrorException"}),
        "InternalErrorException",
    );
    assert_eq!(internal.unsupported(), None);
    let ok = WireResponse {
        status: 200,
        body: Value::String("odd".into()),
        error: None,
    };
    assert_eq!(ok.unsupported(), None);
}
