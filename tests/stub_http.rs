//! The stub over a real socket: raw HTTP/1.1 on 127.0.0.1, AWS-shaped bodies.

use cognito_scenarios::clock::Clock;
use cognito_scenarios::stub::{MAX_BODY_BYTES, Stub, StubOptions};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

async fn send(
    endpoint: &str,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: &str,
) -> Reply {
    let addr = endpoint.strip_prefix("http://").unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in extra {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    exchange(endpoint, req.as_bytes()).await
}

/// Writes `raw` on a fresh connection and reads the reply until the server
/// closes it (10 s at most: a server that waits for more fails the test).
async fn exchange(endpoint: &str, raw: &[u8]) -> Reply {
    let addr = endpoint.strip_prefix("http://").unwrap();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(raw).await.unwrap();
    read_reply(&mut s).await
}

async fn read_reply(s: &mut TcpStream) -> Reply {
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut raw))
        .await
        .expect("the stub answers and closes the connection")
        .unwrap();
    parse_reply(&raw)
}

fn parse_reply(raw: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

fn header<'a>(r: &'a Reply, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

const CT: (&str, &str) = ("Content-Type", "application/x-amz-json-1.1");
const SIGNED: (&str, &str) = (
    "Authorization",
    "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/cognito-idp/aws4_request, SignedHeaders=host, Signature=0",
);

#[tokio::test]
async fn serves_the_json_protocol_on_loopback() {
    let stub = Stub::start(StubOptions::default()).await.unwrap();
    let ep = stub.endpoint();
    assert!(ep.starts_with("http://127.0.0.1:"), "{ep}");

    let target = |op: &str| format!("AWSCognitoIdentityProviderService.{op}");
    let t = target("CreateUserPool");
    let r = send(
        &ep,
        "POST",
        "/",
        &[CT, SIGNED, ("X-Amz-Target", &t)],
        r#"{"PoolName":"http"}"#,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        header(&r, "content-type"),
        Some("application/x-amz-json-1.1")
    );
    let pool = r.body["UserPool"]["Id"].as_str().unwrap().to_string();

    // Errors: status, body and headers as AWS sends them.
    let t = target("DescribeUserPool");
    let r = send(
        &ep,
        "POST",
        "/",
        &[CT, SIGNED, ("X-Amz-Target", &t)],
        r#"{"UserPoolId":"us-east-1_none"}"#,
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"__type": "ResourceNotFoundException", "message": "User pool us-east-1_none does not exist."})
    );
    assert_eq!(
        header(&r, "x-amzn-errortype"),
        Some("ResourceNotFoundException:")
    );
    assert!(header(&r, "x-amzn-requestid").is_some());

    let r = send(
        &ep,
        "POST",
        "/",
        &[CT, SIGNED, ("X-Amz-Target", &t)],
        "{oops",
    )
    .await;
    assert_eq!(
        (r.status, r.body["__type"].as_str()),
        (400, Some("SerializationException"))
    );
    let r = send(&ep, "POST", "/", &[CT, SIGNED], "{}").await;
    assert_eq!(r.body["__type"], "UnknownOperationException");
    let r = send(
        &ep,
        "POST",
        "/",
        &[CT, ("X-Amz-Target", &t)],
        r#"{"UserPoolId":"x"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.body["__type"].as_str()),
        (403, Some("MissingAuthenticationTokenException"))
    );

    // JWKS of an existing pool.
    let r = send(
        &ep,
        "GET",
        &format!("/{pool}/.well-known/jwks.json"),
        &[],
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["keys"].as_array().unwrap().len(), 2);
    let r = send(&ep, "GET", "/nothing/here", &[], "").await;
    assert_eq!(r.status, 404);
    assert!(r.body.is_object());
}

#[tokio::test]
async fn fixed_port_real_clock_and_drop_stops_the_server() {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let stub = Stub::start(StubOptions {
        clock: Clock::real(),
        region: "eu-west-1".into(),
        port: Some(port),
    })
    .await
    .unwrap();
    assert_eq!(stub.endpoint(), format!("http://127.0.0.1:{port}"));
    assert!(!stub.clock().is_virtual());
    let t = "AWSCognitoIdentityProviderService.CreateUserPool";
    let r = send(
        &stub.endpoint(),
        "POST",
        "/",
        &[CT, SIGNED, ("X-Amz-Target", t)],
        r#"{"PoolName":"eu"}"#,
    )
    .await;
    assert!(
        r.body["UserPool"]["Id"]
            .as_str()
            .unwrap()
            .starts_with("eu-west-1_")
    );
    // The port is taken while the stub runs.
    assert!(
        Stub::start(StubOptions {
            port: Some(port),
            ..StubOptions::default()
        })
        .await
        .is_err()
    );
    let ep = stub.endpoint();
    drop(stub);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        TcpStream::connect(ep.strip_prefix("http://").unwrap())
            .await
            .is_err()
    );
}

/// `POST /` of operation `op` with credentials.
async fn call(ep: &str, op: &str, body: &str) -> Reply {
    let t = format!("AWSCognitoIdentityProviderService.{op}");
    send(ep, "POST", "/", &[CT, SIGNED, ("X-Amz-Target", &t)], body).await
}

#[tokio::test]
async fn serves_delivered_codes_and_health() {
    let stub = Stub::start(StubOptions::default()).await.unwrap();
    let ep = stub.endpoint();
    let r = send(&ep, "GET", "/health", &[], "").await;
    assert_eq!((r.status, r.body.clone()), (200, json!({"status": "ok"})));

    let r = call(
        &ep,
        "CreateUserPool",
        r#"{"PoolName":"codes","AutoVerifiedAttributes":["email"]}"#,
    )
    .await;
    let pool = r.body["UserPool"]["Id"].as_str().unwrap().to_string();
    let r = call(
        &ep,
        "CreateUserPoolClient",
        &json!({"UserPoolId": pool, "ClientName": "app"}).to_string(),
    )
    .await;
    let client = r.body["UserPoolClient"]["ClientId"].as_str().unwrap();
    let code_path = format!("/_stub/code/{pool}/alice");
    let r = send(&ep, "GET", &code_path, &[], "").await;
    assert_eq!((r.status, r.body.clone()), (404, json!({"code": null})));

    let sign_up = json!({
        "ClientId": client,
        "Username": "alice",
        "Password": "Passw0rd!",
        "UserAttributes": [{"Name": "email", "Value": "alice@example.com"}],
    });
    let r = call(&ep, "SignUp", &sign_up.to_string()).await;
    assert_eq!(r.status, 200);
    let r = send(&ep, "GET", &code_path, &[], "").await;
    assert_eq!(r.status, 200);
    let code = r.body["code"].as_str().unwrap();
    assert_eq!(
        Some(code.to_string()),
        stub.outbox().latest_code(&pool, "alice")
    );
    let confirm = json!({"ClientId": client, "Username": "alice", "ConfirmationCode": code});
    assert_eq!(
        call(&ep, "ConfirmSignUp", &confirm.to_string())
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn an_oversized_body_is_refused_without_being_read() {
    let stub = Stub::start(StubOptions::default()).await.unwrap();
    let ep = stub.endpoint();
    let too_large = json!({
        "__type": "RequestEntityTooLargeException",
        "message": format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
    });
    // Declared too large: answered from the headers alone (no body is ever sent).
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: AWSCognitoIdentityProviderService.ListUserPools\r\nContent-Length: {}\r\n\r\n",
        MAX_BODY_BYTES + 1
    );
    let r = exchange(&ep, head.as_bytes()).await;
    assert_eq!((r.status, r.body.clone()), (413, too_large.clone()));
    assert_eq!(
        header(&r, "x-amzn-errortype"),
        Some("RequestEntityTooLargeException:")
    );

    // Chunked, no length given: refused once it passes the limit.
    let addr = ep.strip_prefix("http://").unwrap();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: AWSCognitoIdentityProviderService.ListUserPools\r\nTransfer-Encoding: chunked\r\n\r\n")
        .await
        .unwrap();
    let chunk = vec![b' '; 64 * 1024];
    let mut sent = 0;
    while sent <= MAX_BODY_BYTES {
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(&chunk);
        frame.extend_from_slice(b"\r\n");
        if s.write_all(&frame).await.is_err() {
            break; // the stub answered and closed: fine
        }
        sent += chunk.len();
    }
    let r = read_reply(&mut s).await;
    assert_eq!((r.status, r.body.clone()), (413, too_large));

    // A body at the limit is read (and judged as JSON).
    let mut body = vec![b' '; MAX_BODY_BYTES - 2];
    body.splice(0..0, b"{}".iter().copied());
    let mut req = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: AWSCognitoIdentityProviderService.ListUserPools\r\n{}: {}\r\nContent-Length: {}\r\n\r\n",
        SIGNED.0,
        SIGNED.1,
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(&body);
    let r = exchange(&ep, &req).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["__type"], "InvalidParameterException");
}

#[tokio::test]
async fn malformed_requests_get_aws_shaped_errors() {
    let stub = Stub::start(StubOptions::default()).await.unwrap();
    let ep = stub.endpoint();
    let t = "AWSCognitoIdentityProviderService.ListUserPools";
    let cases: [(&[u8], &str); 4] = [
        (b"\xff\xfe{not utf-8", "SerializationException"),
        (b"[1, 2]", "SerializationException"),
        (br#"{"MaxResults": "ten"}"#, "SerializationException"),
        (br#"{"MaxResults": 10"#, "SerializationException"),
    ];
    for (body, code) in cases {
        let mut req = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: {t}\r\n{}: {}\r\nContent-Length: {}\r\n\r\n",
            SIGNED.0,
            SIGNED.1,
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(body);
        let r = exchange(&ep, &req).await;
        assert_eq!(r.status, 400, "{:?}", String::from_utf8_lossy(body));
        assert_eq!(
            r.body["__type"],
            code,
            "{:?}",
            String::from_utf8_lossy(body)
        );
        assert!(r.body["message"].is_string());
        assert_eq!(
            header(&r, "content-type"),
            Some("application/x-amz-json-1.1")
        );
    }
    // Wrong content type and unknown operations are the protocol's errors too.
    let r = send(
        &ep,
        "POST",
        "/",
        &[("Content-Type", "text/html"), SIGNED, ("X-Amz-Target", t)],
        "{}",
    )
    .await;
    assert_eq!(
        (r.status, &r.body["__type"]),
        (400, &json!("UnknownOperationException"))
    );
    let r = call(&ep, "NoSuchOperation", "{}").await;
    assert_eq!(
        (r.status, &r.body["__type"]),
        (400, &json!("UnknownOperationException"))
    );
    // Not HTTP at all: a bare 400 from the HTTP layer, and the stub keeps serving.
    let r = exchange(&ep, b"GARBAGE \x00\x01\r\n\r\n").await;
    assert_eq!(r.status, 400);
    assert_eq!(send(&ep, "GET", "/health", &[], "").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_each_get_their_own_answer() {
    let stub = Stub::start(StubOptions::default()).await.unwrap();
    let ep = stub.endpoint();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let ep = ep.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for j in 0..8 {
                    let body = json!({"PoolName": format!("p{i}-{j}")}).to_string();
                    let r = call(&ep, "CreateUserPool", &body).await;
                    assert_eq!(r.status, 200);
                    assert_eq!(r.body["UserPool"]["Name"], format!("p{i}-{j}"));
                    ids.push(r.body["UserPool"]["Id"].as_str().unwrap().to_string());
                }
                ids
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        ids.extend(t.await.unwrap());
    }
    assert_eq!(ids.len(), 128);
    let listed = stub
        .call("ListUserPools", &json!({"MaxResults": 60}))
        .unwrap();
    assert_eq!(listed["UserPools"].as_array().unwrap().len(), 60);
    assert!(listed["NextToken"].is_string());
}

#[tokio::test]
async fn keep_alive_connections_serve_many_requests() {
    let stub = Stub::start(StubOptions::default()).await.unwrap();
    let addr = stub.endpoint().strip_prefix("http://").unwrap().to_string();
    let mut s = TcpStream::connect(&addr).await.unwrap();
    // Two pipelined requests on one connection, then one that closes it.
    let get = |close: bool| {
        format!(
            "GET /health HTTP/1.1\r\nHost: x\r\n{}\r\n",
            if close { "Connection: close\r\n" } else { "" }
        )
    };
    let raw = format!("{}{}{}", get(false), get(false), get(true));
    s.write_all(raw.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut reply))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&reply);
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 3, "{text}");
}

#[test]
fn blocking_clients_work_without_an_async_runtime_serving_the_stub() {
    // The caller's runtime is single-threaded and blocked below: the stub
    // must be served by threads of its own.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stub = runtime
        .block_on(Stub::start(StubOptions::default()))
        .unwrap();
    let addr = stub.endpoint().strip_prefix("http://").unwrap().to_string();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    std::io::Write::write_all(
        &mut s,
        b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut s, &mut raw).unwrap();
    assert_eq!(parse_reply(&raw).status, 200);
}

#[tokio::test]
async fn dropping_the_stub_lets_an_in_flight_request_finish() {
    let stub = Stub::start(StubOptions::default()).await.unwrap();
    let ep = stub.endpoint();
    let addr = ep.strip_prefix("http://").unwrap().to_string();
    let body = r#"{"PoolName":"late"}"#;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nExpect: 100-continue\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: AWSCognitoIdentityProviderService.CreateUserPool\r\n{}: {}\r\nContent-Length: {}\r\n\r\n",
        SIGNED.0,
        SIGNED.1,
        body.len()
    );
    let mut s = TcpStream::connect(&addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    // "100 Continue" means the stub is handling the request and waits for its body.
    let mut continue_line = [0u8; 25];
    tokio::time::timeout(Duration::from_secs(10), s.read_exact(&mut continue_line))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&continue_line, b"HTTP/1.1 100 Continue\r\n\r\n");
    drop(stub);
    assert!(
        TcpStream::connect(&addr).await.is_err(),
        "no new connections"
    );
    s.write_all(body.as_bytes()).await.unwrap();
    let r = read_reply(&mut s).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["UserPool"]["Name"], "late");
}
