//! The stub over a real socket: raw HTTP/1.1 on 127.0.0.1, AWS-shaped bodies.

use cognito_scenarios::clock::Clock;
use cognito_scenarios::stub::{Stub, StubOptions};
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
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in extra {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
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
