//! Serving a built site over HTTP, made for Cloud Run behind the Firebase Hosting CDN.
//!
//! The server knows only a folder of files ([`files::StaticSite`], small files in
//! memory, big ones streamed from disk); [`policy`] is the one table of cache and
//! security headers; [`handler`] turns a request into a response; [`log`] writes Cloud
//! Logging lines without ever blocking; [`conn`] runs the connections (HTTP/1.1 and
//! h2c on one port, every wait bounded, shutdown that waits only for real work).

pub(crate) mod conn;
pub(crate) mod files;
pub(crate) mod handler;
pub(crate) mod log;
pub(crate) mod policy;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderName};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;

pub(crate) use conn::{run, Limits};
pub(crate) use files::{LoadOptions, MemoryBudget, StaticSite};
pub(crate) use policy::CachePolicy;

/// How long a client may take to send a request's headers, and how long an idle
/// keep-alive connection is kept, unless configured otherwise.
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a write may wait on a client that stopped reading, unless configured.
pub(crate) const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest request head (request line and headers) accepted; beyond it, 431.
pub(crate) const MAX_HEADER_BYTES: usize = 32 * 1024;
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
