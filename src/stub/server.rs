//! The stub's HTTP server: hyper 1 (HTTP/1.1, and HTTP/2 with prior
//! knowledge) on 127.0.0.1, one task per connection, nothing kept per request.
//!
//! Every stub in a process is served by one background Tokio runtime of its
//! own (one worker per core), so a stub works from any caller: a
//! `#[tokio::test]` on a current-thread runtime, blocking clients, or the
//! standalone `stub` command. Request bodies are bounded by
//! [`MAX_BODY_BYTES`]: a larger `Content-Length` is refused before reading,
//! a body that grows past it while streaming is refused as soon as it does.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::{ApiError, StubError, StubResponse, StubService};

/// The largest request body the stub reads (1 MiB); larger ones get
/// `413 RequestEntityTooLargeException`.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How long a client may take to send a request's headers, then its body.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long in-flight requests may finish after the stub is dropped.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The process-wide runtime that serves every stub.
fn runtime() -> Result<&'static tokio::runtime::Runtime, StubError> {
    static RUNTIME: OnceLock<Option<tokio::runtime::Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .thread_name("cognito-stub")
                .enable_all()
                .build()
                .ok()
        })
        .as_ref()
        .ok_or(StubError::Runtime)
}

/// A running server; dropping it stops accepting at once and lets
/// in-flight requests finish (up to [`SHUTDOWN_GRACE`]).
pub(super) struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    /// Signalled once the listening socket is closed (a `Mutex` for `Sync`).
    closed: Option<Mutex<std::sync::mpsc::Receiver<()>>>,
}

impl Server {
    /// Binds 127.0.0.1:`port` (0: any free port) and serves `service`.
    pub(super) fn start(service: StubService, port: u16) -> Result<Server, StubError> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|source| StubError::Bind { port, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| StubError::Bind { port, source })?;
        let rt = runtime()?;
        let listener = {
            let _context = rt.enter();
            TcpListener::from_std(listener).map_err(|source| StubError::Bind { port, source })?
        };
        let (stop, stopped) = oneshot::channel();
        let (closed_tx, closed) = std::sync::mpsc::channel();
        rt.spawn(serve(listener, service, stopped, closed_tx));
        Ok(Server {
            addr,
            stop: Some(stop),
            closed: Some(Mutex::new(closed)),
        })
    }

    /// The bound address.
    pub(super) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Wait (briefly) until the listening socket is closed, so the port is
        // free when drop returns. The server runs on its own runtime, so this
        // cannot wait on the caller's.
        if let Some(closed) = self.closed.take() {
            let closed = closed.into_inner().unwrap_or_else(|e| e.into_inner());
            let _ = closed.recv_timeout(Duration::from_secs(2));
        }
    }
}

/// Accepts connections until `stopped`, each on its own task.
async fn serve(
    listener: TcpListener,
    service: StubService,
    mut stopped: oneshot::Receiver<()>,
    closed: std::sync::mpsc::Sender<()>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    // Out of file descriptors and the like: back off, keep serving.
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = service.clone();
                let svc = hyper::service::service_fn(move |req| answer(service.clone(), req));
                let conn = builder.serve_connection(TokioIo::new(stream), svc).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    // A client that hangs up mid-request is its own business.
                    let _ = conn.await;
                });
            }
        }
    }
    drop(listener);
    let _ = closed.send(());
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
}

/// Answers one request: read the body (bounded), then route it.
async fn answer(
    service: StubService,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let r = match read_body(&parts.headers, body).await {
        Ok(bytes) => service.route(
            parts.method.as_str(),
            parts.uri.path(),
            &parts.headers,
            &bytes,
        ),
        Err(e) => StubResponse::error(&e),
    };
    Ok(response(r))
}

/// The request body, at most [`MAX_BODY_BYTES`], within [`READ_TIMEOUT`].
async fn read_body(headers: &hyper::HeaderMap, body: Incoming) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    match tokio::time::timeout(READ_TIMEOUT, Limited::new(body, MAX_BODY_BYTES).collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(_)) => Err(ApiError::serialization(
            "The request body could not be read.",
        )),
        Err(_) => Err(ApiError {
            code: "RequestTimeoutException".into(),
            message: format!(
                "The request body was not received within {} seconds.",
                READ_TIMEOUT.as_secs()
            ),
            status: 408,
        }),
    }
}

fn too_large() -> ApiError {
    ApiError {
        code: "RequestEntityTooLargeException".into(),
        message: format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
        status: 413,
    }
}

/// A [`StubResponse`] as a hyper response.
fn response(r: StubResponse) -> Response<Full<Bytes>> {
    let mut builder = Response::builder()
        .status(r.status)
        .header(hyper::header::CONTENT_TYPE, r.content_type);
    for (k, v) in r.headers {
        builder = builder.header(k, v);
    }
    builder
        .body(Full::new(Bytes::from(r.body)))
        .unwrap_or_else(|_| {
            // Only an invalid header value gets here; the stub never builds one.
            let mut fallback = Response::new(Full::new(Bytes::from_static(
                br#"{"__type":"InternalErrorException","message":"The stub built an invalid response"}"#,
            )));
            *fallback.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
            fallback
        })
}
