//! Connections: accept, pick HTTP/1.1 or h2c (prior knowledge) on the same port, and
//! bound every wait a client can impose. A request head is at most
//! [`Limits::max_header_bytes`] (431 beyond) and must arrive within
//! [`Limits::header_timeout`]; a write to a client that stopped reading fails after
//! [`Limits::write_timeout`]. On shutdown, connections with no request in flight
//! (idle, or still sending headers) are closed at once; the others finish their
//! responses, for at most [`Limits::drain_timeout`].

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::HeaderValue;
use axum::Router;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tower::Service;

/// Every bound a client meets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) header_timeout: Duration,
    pub(crate) write_timeout: Duration,
    pub(crate) max_header_bytes: usize,
    pub(crate) drain_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: super::HEADER_TIMEOUT,
            write_timeout: super::WRITE_TIMEOUT,
            max_header_bytes: super::MAX_HEADER_BYTES,
            drain_timeout: super::DRAIN_TIMEOUT,
        }
    }
}

/// hyper's HTTP/1 read buffer cannot be smaller than this.
pub(crate) const MIN_HEADER_BYTES: usize = 8 * 1024;

/// What an HTTP/2 client sends first (RFC 9113 §3.4).
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Accepts connections until `shutdown` completes, then stops accepting, closes
/// connections that have no request in flight and waits for the rest, at most
/// `limits.drain_timeout`.
pub(crate) async fn run(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let mut base = auto::Builder::new(TokioExecutor::new());
    base.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_header_bytes.max(MIN_HEADER_BYTES))
        .keep_alive(true);
    base.http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        .max_concurrent_streams(100)
        // A peer that stops answering pings is gone; its connection is closed.
        .keep_alive_interval(Some(Duration::from_secs(20)))
        .keep_alive_timeout(limits.write_timeout);
    // The protocol is chosen before hyper sees the connection (see `sniff`), so each
    // connection gets a builder that does not read a preface again.
    let builders = Arc::new((base.clone().http1_only(), base.http2_only()));
    let (stop_tx, stop_rx) = watch::channel(false);
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: wait, don't spin.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                // Without it, small responses wait on delayed ACKs (~40 ms).
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve_connection(
                    stream,
                    peer,
                    builders.clone(),
                    app.clone(),
                    limits,
                    stop_rx.clone(),
                    done_tx.clone(),
                ));
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    let started = Instant::now();
    let _ = stop_tx.send(true);
    drop(done_tx);
    // Every connection task holds a sender; `recv` ends when the last one is gone.
    match tokio::time::timeout(limits.drain_timeout, done_rx.recv()).await {
        Ok(_) => tracing::info!(
            "all connections closed in {:.1} ms",
            started.elapsed().as_secs_f64() * 1000.0
        ),
        Err(_) => tracing::warn!(
            "stopped waiting for open connections after {:?}",
            limits.drain_timeout
        ),
    }
}

type Builder = auto::Builder<TokioExecutor>;

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    builders: Arc<(Builder, Builder)>,
    app: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    _done: mpsc::Sender<()>,
) {
    let deadline = tokio::time::Instant::now() + limits.header_timeout;
    let h2 = tokio::select! {
        sniffed = tokio::time::timeout_at(deadline, sniff(&stream)) => match sniffed {
            Ok(Some(h2)) => h2,
            // Closed, failed or silent for the whole header timeout.
            _ => return,
        },
        _ = stop.wait_for(|s| *s) => return,
    };
    let in_flight = Arc::new(AtomicUsize::new(0));
    let counter = in_flight.clone();
    // Milliseconds from `opened` to the start of the latest request.
    let opened = Instant::now();
    let last_request = Arc::new(AtomicU64::new(0));
    let last = last_request.clone();
    let service =
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            last.store(millis_since(opened), Ordering::Relaxed);
            let guard = InFlight::new(counter.clone());
            let response = (!lacks_one_host(&req)).then(|| app.clone().call(req.map(Body::new)));
            async move {
                let res = match response {
                    Some(response) => response.await?,
                    None => bad_host(),
                };
                Ok::<_, std::convert::Infallible>(res.map(|body| Tracked {
                    body,
                    _guard: guard,
                }))
            }
        });
    let builder = if h2 { &builders.1 } else { &builders.0 };
    let io = TokioIo::new(WriteTimeout::new(stream, limits.write_timeout));
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    // hyper closes idle HTTP/1.1 connections after the header timeout; an HTTP/2
    // connection that answers pings but asks for nothing is closed here, after as long.
    let idle_limit = limits.header_timeout;
    let mut check = tokio::time::interval(idle_limit / 2);
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = stop.wait_for(|s| *s) => break,
            _ = check.tick(), if h2 => {
                let since = millis_since(opened).saturating_sub(last_request.load(Ordering::Relaxed));
                if in_flight.load(Ordering::Acquire) == 0 && since >= idle_limit.as_millis() as u64 {
                    return;
                }
            }
        }
    }
    if in_flight.load(Ordering::Acquire) == 0 {
        // Idle, or still sending a request: nothing to finish.
        return;
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

/// RFC 9112 §3.2: an HTTP/1.1 request needs exactly one `Host`. (HTTP/2 carries
/// `:authority` instead; HTTP/1.0 predates the rule.) Checked here, before routing,
/// so it costs nothing on the common path.
fn lacks_one_host<B>(req: &hyper::Request<B>) -> bool {
    req.version() == hyper::Version::HTTP_11
        && req.headers().get_all(hyper::header::HOST).iter().count() != 1
}

fn bad_host() -> axum::response::Response {
    let mut res = axum::response::Response::new(Body::from(
        "bad request: HTTP/1.1 needs exactly one Host header\n",
    ));
    *res.status_mut() = hyper::StatusCode::BAD_REQUEST;
    let h = res.headers_mut();
    h.insert(
        hyper::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    h.insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    for (name, value) in super::policy::security_headers() {
        h.insert(name, value);
    }
    res
}

fn millis_since(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Whether the client opens with the HTTP/2 preface (h2c with prior knowledge), by
/// peeking without consuming; `None` if it closes first. The caller bounds the wait.
async fn sniff(stream: &TcpStream) -> Option<bool> {
    let mut buf = [0u8; H2_PREFACE.len()];
    loop {
        let n = stream.peek(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        if buf[..n] != H2_PREFACE[..n] {
            return Some(false);
        }
        if n == H2_PREFACE.len() {
            return Some(true);
        }
        // Part of the preface so far: peek would return at once, so wait a little.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Counts a request from the moment hyper hands it over until its response body is
/// dropped (sent, or abandoned).
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn new(counter: Arc<AtomicUsize>) -> InFlight {
        counter.fetch_add(1, Ordering::AcqRel);
        InFlight(counter)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted as in flight.
struct Tracked {
    body: Body,
    _guard: InFlight,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A stream whose writes fail with `TimedOut` once one has waited `limit` for the
/// client to read. Hand-written: it is a few lines, and the crates that do it wrap
/// reads too, which here are already bounded by hyper's header timeout.
struct WriteTimeout {
    inner: TcpStream,
    limit: Duration,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl WriteTimeout {
    fn new(inner: TcpStream, limit: Duration) -> WriteTimeout {
        WriteTimeout {
            inner,
            limit,
            timer: None,
        }
    }

    /// Passes `poll` through, timing how long it stays pending.
    fn timed<T>(
        &mut self,
        cx: &mut Context<'_>,
        poll: impl FnOnce(Pin<&mut TcpStream>, &mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match poll(Pin::new(&mut self.inner), cx) {
            Poll::Ready(r) => {
                self.timer = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let limit = self.limit;
                let timer = self
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        self.timer = None;
                        Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "client stopped reading",
                        )))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl AsyncRead for WriteTimeout {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for WriteTimeout {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.timed(cx, |s, cx| s.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.timed(cx, |s, cx| s.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.timed(cx, |s, cx| s.poll_flush(cx))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.timed(cx, |s, cx| s.poll_shutdown(cx))
    }
}
