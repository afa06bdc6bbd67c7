//! Load benchmark of the standalone stub beside moto and cognito-local:
//! sign-ins (InitiateAuth USER_PASSWORD_AUTH) through the official AWS SDK
//! for Rust from 1, 4 and 16 concurrent clients (requests/s, p50, p99), and
//! the server process's RSS after 1,000 requests and after N.
//!
//! Run with `scripts/bench-stub.sh` (or `cargo bench --bench stub_load --
//! --help`). Every server is a separate process on 127.0.0.1; the load
//! generator is this process (Tokio, one SDK client per simulated client,
//! each sending its next request when the previous answer arrived).

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::config::retry::RetryConfig;
use aws_sdk_cognitoidentityprovider::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ExplicitAuthFlowsType};
use cognito_scenarios::targets::emulator::{Emulator, EmulatorKind};

const PASSWORD: &str = "Bench-Passw0rd!";

struct Options {
    targets: Vec<String>,
    clients: Vec<usize>,
    seconds: u64,
    /// Requests after which RSS is read the second time, per target.
    rss_requests: Vec<(String, usize)>,
}

fn usage() -> ! {
    eprintln!(
        "usage: stub_load [--targets stub,moto,cognito-local] [--clients 1,4,16] [--seconds 10]\n\
         \x20                [--rss-requests 100000] [--rss-requests moto=20000 ...]"
    );
    std::process::exit(64)
}

fn options() -> Options {
    let mut o = Options {
        targets: vec!["stub".into(), "moto".into(), "cognito-local".into()],
        clients: vec![1, 4, 16],
        seconds: 10,
        rss_requests: Vec::new(),
    };
    let mut default_rss = 100_000;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--targets" => o.targets = value().split(',').map(str::to_string).collect(),
            "--clients" => {
                o.clients = value()
                    .split(',')
                    .map(|n| n.parse().unwrap_or_else(|_| usage()))
                    .collect()
            }
            "--seconds" => o.seconds = value().parse().unwrap_or_else(|_| usage()),
            "--rss-requests" => {
                let v = value();
                match v.split_once('=') {
                    Some((t, n)) => o
                        .rss_requests
                        .push((t.to_string(), n.parse().unwrap_or_else(|_| usage()))),
                    None => default_rss = v.parse().unwrap_or_else(|_| usage()),
                }
            }
            // What `cargo bench` passes to every bench binary.
            "--bench" => {}
            _ => usage(),
        }
    }
    for t in &o.targets {
        if !o.rss_requests.iter().any(|(x, _)| x == t) {
            o.rss_requests.push((t.clone(), default_rss));
        }
    }
    o
}

/// A server under test: its endpoint and process id.
enum Server {
    Stub(Child, u16),
    Emulator(Emulator),
}

impl Server {
    async fn start(target: &str) -> Server {
        match target {
            "stub" => {
                let port = std::net::TcpListener::bind("127.0.0.1:0")
                    .and_then(|l| l.local_addr())
                    .expect("a free port")
                    .port();
                let child = Command::new(env!("CARGO_BIN_EXE_cognito-scenarios"))
                    .args(["stub", "--port", &port.to_string()])
                    .stdout(Stdio::null())
                    .stdin(Stdio::null())
                    .spawn()
                    .expect("start the standalone stub");
                let deadline = Instant::now() + Duration::from_secs(60);
                while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                    assert!(Instant::now() < deadline, "the stub did not start");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Server::Stub(child, port)
            }
            "moto" => Server::Emulator(Emulator::start(EmulatorKind::Moto).await.unwrap()),
            "cognito-local" => {
                Server::Emulator(Emulator::start(EmulatorKind::CognitoLocal).await.unwrap())
            }
            other => panic!("unknown target {other} (stub, moto, cognito-local)"),
        }
    }

    fn endpoint(&self) -> String {
        match self {
            Server::Stub(_, port) => format!("http://127.0.0.1:{port}"),
            Server::Emulator(e) => e.endpoint(),
        }
    }

    fn pid(&self) -> u32 {
        match self {
            Server::Stub(child, _) => child.id(),
            Server::Emulator(e) => e.pid(),
        }
    }

    /// Resident set size in KiB (Linux `/proc`).
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc/<pid>/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/<pid>/status")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Server::Stub(child, _) = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn sdk(endpoint: &str) -> Client {
    let config = aws_sdk_cognitoidentityprovider::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "bench"))
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

/// A pool, an app client allowing USER_PASSWORD_AUTH and a confirmed user.
async fn seed(c: &Client) -> String {
    let pool = c
        .create_user_pool()
        .pool_name("bench")
        .send()
        .await
        .unwrap();
    let pool_id = pool.user_pool().unwrap().id().unwrap().to_string();
    let client = c
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("bench")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .unwrap();
    let client_id = client
        .user_pool_client()
        .unwrap()
        .client_id()
        .unwrap()
        .to_string();
    c.sign_up()
        .client_id(&client_id)
        .username("bench")
        .password(PASSWORD)
        .send()
        .await
        .unwrap();
    c.admin_confirm_sign_up()
        .user_pool_id(&pool_id)
        .username("bench")
        .send()
        .await
        .unwrap();
    client_id
}

async fn sign_in(c: &Client, client_id: &str) -> bool {
    c.initiate_auth()
        .client_id(client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "bench")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .is_ok_and(|r| r.authentication_result().is_some())
}

struct Load {
    done: usize,
    failed: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

/// `clients` concurrent clients signing in until `requests` are sent or `for_time` passed.
async fn load(
    endpoint: &str,
    client_id: &str,
    clients: usize,
    requests: usize,
    for_time: Option<Duration>,
) -> Load {
    let left = Arc::new(AtomicUsize::new(requests));
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (c, id, left) = (sdk(endpoint), client_id.to_string(), left.clone());
            tokio::spawn(async move {
                let (mut lat, mut failed) = (Vec::new(), 0);
                while left
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                    .is_ok()
                    && for_time.is_none_or(|t| start.elapsed() < t)
                {
                    let t0 = Instant::now();
                    if !sign_in(&c, &id).await {
                        failed += 1;
                    }
                    lat.push(t0.elapsed());
                }
                (lat, failed)
            })
        })
        .collect();
    let mut out = Load {
        done: 0,
        failed: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    for t in tasks {
        let (lat, failed) = t.await.unwrap();
        out.failed += failed;
        out.latencies.extend(lat);
    }
    out.elapsed = start.elapsed();
    out.done = out.latencies.len();
    out.latencies.sort();
    out
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let o = options();
    println!(
        "load generator: Rust, aws-sdk-cognitoidentityprovider, one SDK client per concurrent client; {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut rows = Vec::new();
    let mut rss_rows = Vec::new();
    for target in &o.targets {
        let server = Server::start(target).await;
        let ep = server.endpoint();
        let client_id = seed(&sdk(&ep)).await;
        let mut total = 0;
        let warm = load(&ep, &client_id, 16, 1_000, None).await;
        total += warm.done;
        let rss_1k = server.rss_kib();
        for &clients in &o.clients {
            let l = load(
                &ep,
                &client_id,
                clients,
                usize::MAX,
                Some(Duration::from_secs(o.seconds)),
            )
            .await;
            total += l.done;
            let row = format!(
                "| {target} | {clients} | {:.0} | {:.1} | {:.1} | {} |",
                l.done as f64 / l.elapsed.as_secs_f64(),
                percentile(&l.latencies, 0.50),
                percentile(&l.latencies, 0.99),
                l.failed
            );
            eprintln!("{row}");
            rows.push(row);
        }
        let n = o
            .rss_requests
            .iter()
            .find(|(t, _)| t == target)
            .map_or(100_000, |(_, n)| *n);
        let mut failed = warm.failed;
        if total < n {
            let l = load(&ep, &client_id, 16, n - total, None).await;
            total += l.done;
            failed += l.failed;
        }
        let rss_n = server.rss_kib();
        let row = format!(
            "| {target} | {:.1} | {total} | {:.1} | {:+.1} | {failed} |",
            rss_1k as f64 / 1024.0,
            rss_n as f64 / 1024.0,
            (rss_n as f64 - rss_1k as f64) / 1024.0
        );
        eprintln!("{row}");
        rss_rows.push(row);
    }
    println!("\n| target | clients | sign-ins/s | p50 ms | p99 ms | failed |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in rows {
        println!("{r}");
    }
    println!(
        "\n| target | RSS after 1,000 (MiB) | requests | RSS after them (MiB) | growth (MiB) | failed |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for r in rss_rows {
        println!("{r}");
    }
}
