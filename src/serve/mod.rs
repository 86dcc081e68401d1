//! Serving a built site over HTTP, made for Cloud Run behind the Firebase Hosting CDN.
//!
//! The server knows only a folder of files ([`files::StaticSite`], read into memory at
//! start); [`policy`] is the one table of cache and security headers; [`handler`]
//! turns a request into a response; [`log`] writes Cloud Logging lines. The accept loop
//! sets `TCP_NODELAY`, bounds how long a client may take to send its headers (which
//! also closes idle keep-alive connections), and drains in-flight responses on SIGTERM.

pub(crate) mod files;
pub(crate) mod handler;
pub(crate) mod log;
pub(crate) mod policy;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderName};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tower::Service;
use tower_http::set_header::SetResponseHeaderLayer;

pub(crate) use files::{LoadOptions, StaticSite};
pub(crate) use policy::CachePolicy;

/// How long a client may take to send a request's headers, and how long an idle
/// keep-alive connection is kept, unless configured otherwise.
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(20);
/// Cloud Run allows 10 s between SIGTERM and SIGKILL.
pub(crate) const DRAIN_TIMEOUT: Duration = Duration::from_secs(8);

/// What every request handler shares. The site can be swapped whole (by `dev`).
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) site: Arc<ArcSwap<StaticSite>>,
    pub(crate) policy: CachePolicy,
    pub(crate) request_log: bool,
    /// `GOOGLE_CLOUD_PROJECT`, to turn trace IDs into Cloud Trace resource names.
    pub(crate) project: Option<String>,
}

impl AppState {
    pub(crate) fn new(site: StaticSite, policy: CachePolicy, request_log: bool) -> AppState {
        AppState {
            site: Arc::new(ArcSwap::from_pointee(site)),
            policy,
            request_log,
            project: std::env::var("GOOGLE_CLOUD_PROJECT")
                .ok()
                .filter(|p| !p.is_empty()),
        }
    }
}

/// The router: `/healthz`, then every file of the site; request logs and security
/// headers around all of it.
pub(crate) fn router(state: AppState) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(healthz))
        .fallback(static_file)
        .layer(middleware::from_fn_with_state(state.clone(), log_request));
    for (name, value) in policy::security_headers() {
        router = router.layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static(name),
            value,
        ));
    }
    router.with_state(state)
}

async fn healthz() -> impl IntoResponse {
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
        ],
        "ok\n",
    )
}

async fn static_file(State(state): State<AppState>, req: Request) -> Response {
    let site = state.site.load();
    handler::respond(&site, &state.policy, &req)
}

async fn log_request(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !state.request_log {
        return next.run(req).await;
    }
    let started = Instant::now();
    let method = req.method().to_string();
    let url = req.uri().to_string();
    let headers = req.headers();
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let user_agent = get("user-agent");
    let referer = get("referer");
    let forwarded =
        get("x-forwarded-for").and_then(|v| v.split(',').next().map(|s| s.trim().to_string()));
    let remote_ip = forwarded.or_else(|| {
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
    });
    let trace = log::parse_trace(
        get("x-cloud-trace-context").as_deref(),
        get("traceparent").as_deref(),
    );
    let protocol = format!("{:?}", req.version());

    let res = next.run(req).await;
    let status = res.status().as_u16();
    // Content-Length is only set further out; the body knows its size.
    let size = axum::body::HttpBody::size_hint(res.body())
        .exact()
        .unwrap_or(0)
        .to_string();
    let latency = format!("{:.6}s", started.elapsed().as_secs_f64());
    let message = format!("{method} {url} {status}");
    let (trace_name, span, sampled) = match (&trace, &state.project) {
        (Some((id, span, sampled)), Some(project)) => (
            Some(format!("projects/{project}/traces/{id}")),
            span.clone(),
            *sampled,
        ),
        (Some((id, span, sampled)), None) => (Some(id.clone()), span.clone(), *sampled),
        (None, _) => (None, None, false),
    };
    macro_rules! request_event {
        ($level:expr) => {
            tracing::event!(
                target: "request",
                $level,
                http.requestMethod = %method,
                http.requestUrl = %url,
                http.status = status,
                http.responseSize = %size,
                http.latency = %latency,
                http.userAgent = user_agent.as_deref(),
                http.referer = referer.as_deref(),
                http.remoteIp = remote_ip.as_deref(),
                http.protocol = %protocol,
                trace = trace_name.as_deref(),
                span_id = span.as_deref(),
                trace_sampled = trace.is_some().then_some(sampled),
                "{message}"
            )
        };
    }
    // Health checks come every few seconds; keep them out of the info log.
    if url == "/healthz" {
        request_event!(tracing::Level::DEBUG);
    } else if status >= 500 {
        request_event!(tracing::Level::ERROR);
    } else {
        request_event!(tracing::Level::INFO);
    }
    res
}

/// Binds `addr`; the error says which address could not be had.
pub(crate) async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))
}

/// Accepts connections until `shutdown` completes, then stops accepting and lets
/// in-flight requests finish, for at most [`DRAIN_TIMEOUT`].
pub(crate) async fn run(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true);
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
                let app = app.clone();
                let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(peer));
                    app.clone().call(req.map(Body::new))
                });
                let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("stopped waiting for open connections after {DRAIN_TIMEOUT:?}"),
    }
}

/// Completes on SIGTERM (Cloud Run stopping the instance) or SIGINT (Ctrl-C).
pub(crate) async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = term => tracing::info!("SIGTERM: draining"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: draining"),
    }
}
