//! `serve`: load a built folder into memory and answer HTTP on `$PORT` until SIGTERM.

use std::path::{Path, PathBuf};

use crate::serve;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The built site to serve.
    #[arg(long, default_value = "public", value_name = "DIR")]
    dir: PathBuf,
    /// Port to listen on; else $PORT, else 8080.
    #[arg(long, env = "PORT", default_value_t = 8080)]
    port: u16,
    /// Address to listen on.
    #[arg(long, env = "BIND_ADDRESS", default_value = "0.0.0.0")]
    bind: std::net::IpAddr,
    /// Do not log each request (Cloud Run already logs them).
    #[arg(long, env = "NO_REQUEST_LOG", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false)]
    no_request_log: bool,
    /// Seconds a client may take to send request headers; also the idle keep-alive limit.
    #[arg(long, env = "HEADER_TIMEOUT_SECS", default_value_t = serve::HEADER_TIMEOUT.as_secs())]
    header_timeout: u64,
}

pub(crate) fn run(root: &Path, args: Args) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    serve::log::init(serve::log::LogFormat::from_env());
    let policy = super::cache_policy(root)?;
    let dir = super::under_root(root, args.dir);
    let site = serve::StaticSite::load(&dir, &policy, &serve::LoadOptions::default())?;
    let (files, bytes) = (site.len(), site.total_bytes());
    let state = serve::AppState::new(site, policy, !args.no_request_log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = serve::bind(std::net::SocketAddr::new(args.bind, args.port)).await?;
        tracing::info!(
            "listening on http://{} ({files} files, {} KiB, ready in {:.1} ms)",
            listener.local_addr()?,
            bytes / 1024,
            started.elapsed().as_secs_f64() * 1000.0
        );
        let header_timeout = std::time::Duration::from_secs(args.header_timeout.max(1));
        serve::run(
            listener,
            serve::router(state),
            header_timeout,
            serve::shutdown_signal(),
        )
        .await;
        tracing::info!("stopped");
        anyhow::Ok(())
    })
}
