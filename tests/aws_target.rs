//! `--target aws` without the internet: the CLI binary talks, through the
//! SDK's standard endpoint override (`AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`),
//! to a local wiremock server that plays AWS. That server insists that
//! admin and management operations arrive SigV4-signed for cognito-idp in
//! the configured region and that public ones arrive unsigned, throttles
//! chosen operations a few times, and answers everything else with the
//! stub's honest Cognito behaviour.

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};

use cognito_scenarios::api;
use cognito_scenarios::clock::Clock;
use cognito_scenarios::stub::{StubOptions, StubService};
use serde_json::{Value, json};
use wiremock::http::{HeaderMap, HeaderName, HeaderValue};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const REGION: &str = "eu-west-1";
const ACCESS_KEY: &str = "AKIDCOGNITOSCENARIOS";
const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";

/// What the fake AWS saw.
#[derive(Default)]
struct Seen {
    /// Operation names in arrival order (retries included).
    operations: Vec<String>,
    /// Requests that broke the signing rules.
    violations: Vec<String>,
    /// Bodies of CreateUserPool requests.
    created: Vec<Value>,
}

/// AWS played by the stub, with signing checks and throttling.
#[derive(Clone)]
struct FakeAws {
    stub: StubService,
    seen: Arc<Mutex<Seen>>,
    /// Operation → throttling errors still to answer before serving it.
    throttle: Arc<Mutex<HashMap<String, Vec<&'static str>>>>,
}

impl FakeAws {
    fn new() -> FakeAws {
        let stub = StubService::new(&StubOptions {
            clock: Clock::real(),
            region: REGION.into(),
            port: None,
        })
        .expect("stub service");
        FakeAws {
            stub,
            seen: Arc::default(),
            throttle: Arc::default(),
        }
    }

    async fn serve(&self) -> MockServer {
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(self.clone())
            .mount(&server)
            .await;
        server
    }

    /// Answers the next calls of `operation` with these errors, in order.
    fn throttle(&self, operation: &str, errors: &[&'static str]) {
        self.throttle
            .lock()
            .unwrap()
            .insert(operation.into(), errors.to_vec());
    }

    fn count(&self, operation: &str) -> usize {
        let seen = self.seen.lock().unwrap();
        seen.operations.iter().filter(|o| *o == operation).count()
    }

    /// Calls the stub directly, as an administrator would.
    fn admin(&self, operation: &str, body: Value) -> Value {
        let mut headers = HeaderMap::new();
        let target = format!("{TARGET_PREFIX}{operation}");
        headers.insert("x-amz-target", HeaderValue::from_str(&target).unwrap());
        headers.insert(
            "authorization",
            HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=test"),
        );
        let response = self
            .stub
            .handle(&headers, &serde_json::to_vec(&body).unwrap());
        assert_eq!(response.status, 200, "{operation}: {}", response.json());
        response.json()
    }

    /// Names of the pools that exist, sorted.
    fn pool_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let mut body = json!({"MaxResults": 60});
            if let Some(t) = &next {
                body["NextToken"] = json!(t);
            }
            let page = self.admin("ListUserPools", body);
            for p in page["UserPools"].as_array().unwrap() {
                names.push(p["Name"].as_str().unwrap().to_string());
            }
            next = page["NextToken"].as_str().map(str::to_string);
            if next.is_none() {
                names.sort();
                return names;
            }
        }
    }

    /// Creates a pool directly in the stub; returns its id.
    fn seed_pool(&self, name: &str, tags: Value, protected: bool) -> String {
        let mut body = json!({"PoolName": name, "UserPoolTags": tags});
        if protected {
            body["DeletionProtection"] = json!("ACTIVE");
        }
        let created = self.admin("CreateUserPool", body);
        created["UserPool"]["Id"].as_str().unwrap().to_string()
    }
}

/// Why a request breaks the signing rules, if it does.
fn signing_violation(operation: &str, headers: &HeaderMap) -> Option<String> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if api::is_public(operation) {
        return auth.map(|_| format!("{operation} is public but arrived signed"));
    }
    let Some(auth) = auth else {
        return Some(format!("{operation} arrived unsigned"));
    };
    let scope = format!("/{REGION}/cognito-idp/aws4_request");
    let ok = auth.starts_with(&format!("AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/"))
        && auth.contains(&scope)
        && auth.contains("SignedHeaders=")
        && auth.contains("Signature=")
        && headers.contains_key("x-amz-date");
    (!ok).then(|| format!("{operation} has a bad SigV4 authorization: {auth}"))
}

fn error_response(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(
        serde_json::to_vec(&json!({"__type": code, "message": message})).unwrap(),
        "application/x-amz-json-1.1",
    )
}

impl Respond for FakeAws {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let operation = request
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.strip_prefix(TARGET_PREFIX))
            .unwrap_or("?")
            .to_string();
        {
            let mut seen = self.seen.lock().unwrap();
            seen.operations.push(operation.clone());
            if operation == "CreateUserPool" {
                seen.created
                    .push(serde_json::from_slice(&request.body).unwrap_or_default());
            }
            if let Some(v) = signing_violation(&operation, &request.headers) {
                seen.violations.push(v);
                return error_response(403, "InvalidSignatureException", "signing rules broken");
            }
        }
        let throttled = {
            let mut throttle = self.throttle.lock().unwrap();
            throttle
                .get_mut(&operation)
                .and_then(|errors| (!errors.is_empty()).then(|| errors.remove(0)))
        };
        if let Some(code) = throttled {
            return error_response(400, code, "Rate exceeded");
        }
        let answer = self.stub.handle(&request.headers, &request.body);
        let mut template =
            ResponseTemplate::new(answer.status).set_body_raw(answer.body, answer.content_type);
        for (k, v) in answer.headers {
            if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
                template = template.insert_header(k, v);
            }
        }
        template
    }
}

/// A fresh empty folder under the system temp dir.
fn temp_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cs-aws-{what}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the CLI as a user with dummy AWS credentials whose cognito-idp
/// endpoint is `server`; nothing from the host's AWS configuration is used.
async fn cli(server: &MockServer, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
    let home = temp_dir("home");
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_cognito-scenarios"));
    command
        .args(args)
        .arg("--color=never")
        .current_dir(support::root())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", "dummy-secret-key-for-tests")
        .env("AWS_REGION", REGION)
        .env("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", server.uri());
    for (k, v) in extra_env {
        command.env(k, v);
    }
    let out = command.output().await.expect("run cognito-scenarios");
    let _ = std::fs::remove_dir_all(&home);
    out
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Tokens (JWTs start `eyJ`) and the scenario's passwords must never be printed or stored.
fn assert_no_secrets(what: &str, text: &str) {
    for leak in ["eyJ", "Temp-", "Perm-", "dummy-secret-key"] {
        assert!(!text.contains(leak), "{what} leaks `{leak}`:\n{text}");
    }
}

const SCENARIO: &str = "scenarios/new-password/admin-user-password-auth.yaml";
const SNAPSHOT: &str = "new-password__admin-user-password-auth";

#[tokio::test(flavor = "multi_thread")]
async fn scenario_runs_signed_retried_and_leaves_no_pool() {
    let aws = FakeAws::new();
    let server = aws.serve().await;
    aws.throttle("CreateUserPool", &["ThrottlingException"]);
    aws.throttle(
        "AdminCreateUser",
        &["TooManyRequestsException", "ThrottlingException"],
    );
    let out = cli(&server, &["run", SCENARIO, "--target", "aws"], &[]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("running 1 scenario(s) on aws"), "{shown}");
    assert!(shown.contains("1 passed, 0 failed"), "{shown}");
    assert_no_secrets("the output", &shown);

    let seen = aws.seen.lock().unwrap();
    assert!(seen.violations.is_empty(), "{:?}", seen.violations);
    drop(seen);
    // Each throttling answer was retried until the call went through.
    assert_eq!(aws.count("CreateUserPool"), 2);
    assert_eq!(aws.count("AdminCreateUser"), 3);
    // Admin and public calls both happened (so both signing rules were exercised).
    assert!(aws.count("AdminInitiateAuth") > 0);
    assert!(aws.count("CreateUserPoolClient") > 0);
    // The fixture pool carried the run's prefix and tag, and is gone.
    let created = aws.seen.lock().unwrap().created.clone();
    assert_eq!(created.len(), 2, "{created:?}");
    let name = created[1]["PoolName"].as_str().unwrap();
    assert!(name.starts_with("cognito-scenarios-"), "{name}");
    let run = created[1]["UserPoolTags"]["cognito-scenarios:run"]
        .as_str()
        .unwrap();
    assert!(name.contains(run), "{name} / {run}");
    assert_eq!(aws.count("DeleteUserPool"), 1);
    assert!(aws.pool_names().is_empty(), "{:?}", aws.pool_names());
}

#[tokio::test(flavor = "multi_thread")]
async fn public_operations_are_unsigned_on_the_wire() {
    let aws = FakeAws::new();
    let server = aws.serve().await;
    let out = cli(
        &server,
        &[
            "run",
            "scenarios/new-password/user-password-auth.yaml",
            "--target",
            "aws",
        ],
        &[],
    )
    .await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        aws.count("InitiateAuth") > 0,
        "{:?}",
        aws.seen.lock().unwrap().operations
    );
    assert!(aws.count("RespondToAuthChallenge") > 0);
    let seen = aws.seen.lock().unwrap();
    assert!(seen.violations.is_empty(), "{:?}", seen.violations);
    drop(seen);
    assert!(aws.pool_names().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_step_still_deletes_every_pool_the_run_made() {
    let aws = FakeAws::new();
    let server = aws.serve().await;
    let out = cli(
        &server,
        &[
            "run",
            "tests/fixtures/aws/failing-step.yaml",
            "--target",
            "aws",
        ],
        &[],
    )
    .await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(4), "{shown}");
    assert!(
        shown.contains("this expectation is wrong on purpose"),
        "{shown}"
    );
    // The fixture pool and the pool the step created were both deleted; the
    // step's pool had deletion protection, refused once, then switched off.
    assert_eq!(aws.count("DeleteUserPool"), 3, "{shown}");
    assert_eq!(aws.count("UpdateUserPool"), 1, "{shown}");
    assert!(aws.pool_names().is_empty(), "{:?}", aws.pool_names());
    // The step's pool was tagged with the run, like the fixture's.
    let created = aws.seen.lock().unwrap().created.clone();
    assert_eq!(created.len(), 2);
    assert!(
        created[1]["UserPoolTags"]["cognito-scenarios:run"].is_string(),
        "{created:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_teardown_after_a_failed_step_says_what_is_left_and_how_to_delete_it() {
    let aws = FakeAws::new();
    let server = aws.serve().await;
    aws.throttle("DeleteUserPool", &["AccessDeniedException"]);
    let scenario = "tests/fixtures/cli-runtime/mismatch.yaml";
    let out = cli(&server, &["run", scenario, "--target", "aws"], &[]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(4), "{shown}");
    let names = aws.pool_names();
    assert_eq!(names.len(), 1, "{shown}");
    // The pool name is cognito-scenarios-<run id>-<slug>.
    let run_id = names[0]
        .strip_prefix("cognito-scenarios-")
        .and_then(|rest| rest.split('-').next())
        .unwrap();
    let pools = aws.admin("ListUserPools", json!({"MaxResults": 60}));
    let pool_id = pools["UserPools"][0]["Id"].as_str().unwrap();
    assert!(
        shown.contains("teardown DeleteUserPool failed: AccessDeniedException"),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("pool {pool_id} (run {run_id})")),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "`cognito-scenarios cleanup --target aws --region {REGION}`"
        )),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn existing_pools_are_changed_only_when_allowed() {
    let aws = FakeAws::new();
    let server = aws.serve().await;
    let pool_id = aws.seed_pool("team-pool", json!({}), false);
    let client = aws.admin(
        "CreateUserPoolClient",
        json!({"UserPoolId": pool_id, "ClientName": "app"}),
    );
    let client_id = client["UserPoolClient"]["ClientId"].as_str().unwrap();
    let env = [("POOL_ID", pool_id.as_str()), ("CLIENT_ID", client_id)];
    let file = "tests/fixtures/aws/existing-pool.yaml";

    let out = cli(&server, &["run", file, "--target", "aws"], &env).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(2), "{shown}");
    assert!(
        shown.contains("refusing AdminCreateUser on user pool"),
        "{shown}"
    );
    assert!(shown.contains(&format!("{file}:13:11")), "{shown}");
    assert!(shown.contains("--allow-existing-pool"), "{shown}");
    assert_eq!(aws.count("DescribeUserPool"), 1, "the read still ran");
    assert_eq!(aws.count("AdminCreateUser"), 0, "the write never left");

    let out = cli(
        &server,
        &["run", file, "--target", "aws", "--allow-existing-pool"],
        &env,
    )
    .await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert_eq!(aws.count("AdminCreateUser"), 1);
    // Never deleted: the run did not create it.
    assert_eq!(aws.count("DeleteUserPool"), 0);
    assert_eq!(aws.pool_names(), ["team-pool"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_removes_only_tagged_prefixed_leftovers() {
    let aws = FakeAws::new();
    let server = aws.serve().await;
    let tag = |run: &str| json!({"cognito-scenarios:run": run});
    // More than a page of ListUserPools (60), so pagination matters.
    for i in 0..61 {
        aws.seed_pool(&format!("cognito-scenarios-old{i}-x"), tag("old"), false);
    }
    aws.seed_pool("cognito-scenarios-protected-x", tag("old"), true);
    aws.seed_pool("cognito-scenarios-untagged", json!({}), false);
    aws.seed_pool("prod-tagged", tag("old"), false);
    aws.seed_pool("prod-users", json!({"team": "a"}), false);
    let foreign = ["cognito-scenarios-untagged", "prod-tagged", "prod-users"];

    let out = cli(&server, &["cleanup", "--target", "aws", "--dry-run"], &[]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("would delete 62 leftover pool(s) on aws (eu-west-1)"),
        "{shown}"
    );
    assert_eq!(aws.count("DeleteUserPool"), 0);
    assert_eq!(aws.pool_names().len(), 65);

    let out = cli(
        &server,
        &["cleanup", "--target", "aws", "--older-than", "1h"],
        &[],
    )
    .await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("no leftover pools"), "{shown}");
    assert_eq!(aws.count("DeleteUserPool"), 0);

    let out = cli(&server, &["cleanup", "--target", "aws"], &[]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("deleting 62 leftover pool(s)"), "{shown}");
    assert!(
        shown.contains(
            "cognito-scenarios-protected-x  (run old)  [deletion protection switched off]"
        ),
        "{shown}"
    );
    assert_eq!(aws.pool_names(), foreign);
    let seen = aws.seen.lock().unwrap();
    assert!(seen.violations.is_empty(), "{:?}", seen.violations);
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_refuses_the_stub_and_bad_ages() {
    let aws = FakeAws::new();
    let server = aws.serve().await;
    let out = cli(&server, &["cleanup", "--target", "stub"], &[]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let out = cli(
        &server,
        &["cleanup", "--target", "aws", "--older-than", "soon"],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("--older-than"), "{}", text(&out));
    assert!(aws.seen.lock().unwrap().operations.is_empty());
}

/// The contents of an insta snapshot file, after its metadata header.
fn snapshot_body(text: &str) -> &str {
    let rest = text.strip_prefix("---\n").expect("snapshot header");
    let end = rest.find("\n---\n").expect("end of header");
    &rest[end + 5..]
}

#[tokio::test(flavor = "multi_thread")]
async fn recording_on_aws_writes_validated_reference_snapshots() {
    let aws = FakeAws::new();
    let server = aws.serve().await;
    let dir = temp_dir("snapshots");
    let dir_arg = dir.to_string_lossy().into_owned();
    let run = |extra: &'static [&'static str]| {
        let mut args = vec!["run", SCENARIO, "--target", "aws", "--snapshot-dir"];
        args.push(&dir_arg);
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let args = run(&["--update-snapshots"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = cli(&server, &args, &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let file = dir.join(format!("{SNAPSHOT}@aws.snap"));
    let written = std::fs::read_to_string(&file).expect("the @aws snapshot");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert!(written.contains("validated_against: aws"), "{written}");
    assert!(written.contains(&format!("region: {REGION}")), "{written}");
    assert!(written.contains(&format!("date: {today}")), "{written}");
    assert_no_secrets("the snapshot", &written);
    // Same transcript format as the stub's reference snapshot.
    let stub_snapshot =
        std::fs::read_to_string(support::root().join(format!("snapshots/{SNAPSHOT}.snap")))
            .unwrap();
    // (The normaliser keeps the region in token issuers; the stub's reference ran in us-east-1.)
    assert_eq!(
        snapshot_body(&written).replace(REGION, "us-east-1"),
        snapshot_body(&stub_snapshot)
    );

    // Checking compares with the @aws snapshot when there is one.
    let args = run(&["--snapshots", "check"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = cli(&server, &args, &[("CI", "true")]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    std::fs::write(&file, written.replace("FORCE_CHANGE_PASSWORD", "CONFIRMED")).unwrap();
    let out = cli(&server, &args, &[("CI", "true")]).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(4), "{shown}");
    assert!(
        shown.contains(&format!("{SNAPSHOT}@aws.snap differs")),
        "{shown}"
    );
    assert!(aws.pool_names().is_empty());
    let _ = std::fs::remove_dir_all(Path::new(&dir));
}
