//! `serve`: load a built folder and answer HTTP on `$PORT` until SIGTERM.

use std::path::{Path, PathBuf};
use std::time::Duration;

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
    #[arg(long, env = "HEADER_TIMEOUT_SECS", value_name = "SECS",
          default_value_t = serve::HEADER_TIMEOUT.as_secs(),
          value_parser = within("HEADER_TIMEOUT_SECS", 1, 3600))]
    header_timeout: u64,
    /// Seconds a response may wait on a client that stopped reading before it is dropped.
    #[arg(long, env = "WRITE_TIMEOUT_SECS", value_name = "SECS",
          default_value_t = serve::WRITE_TIMEOUT.as_secs(),
          value_parser = within("WRITE_TIMEOUT_SECS", 1, 3600))]
    write_timeout: u64,
    /// Largest request head (request line and headers) in KiB; bigger ones get 431.
    #[arg(long, env = "MAX_HEADER_KIB", value_name = "KIB",
          default_value_t = (serve::MAX_HEADER_BYTES / 1024) as u64,
          value_parser = within("MAX_HEADER_KIB", 8, 1024))]
    max_header_kib: u64,
    /// Files up to this many KiB are kept in memory (within the budget); bigger ones
    /// are streamed from disk.
    #[arg(long, env = "MEMORY_FILE_KIB", value_name = "KIB",
          default_value_t = serve::MemoryBudget::default().max_file / 1024,
          value_parser = within("MEMORY_FILE_KIB", 0, 1024 * 1024))]
    memory_file_kib: u64,
    /// MiB of file bodies kept in memory in all; the rest is streamed from disk.
    #[arg(long, env = "MEMORY_BUDGET_MIB", value_name = "MIB",
          default_value_t = serve::MemoryBudget::default().total / (1024 * 1024),
          value_parser = within("MEMORY_BUDGET_MIB", 0, 65536))]
    memory_budget_mib: u64,
}

/// A whole number in `lo..=hi`; the error names the variable, since on Cloud Run that
/// is where a bad value comes from.
fn within(
    env: &'static str,
    lo: u64,
    hi: u64,
) -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync + 'static {
    move |s| match s.trim().parse::<u64>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(n),
        _ => Err(format!(
            "{env} (or this flag) must be a whole number from {lo} to {hi}"
        )),
    }
}

pub(crate) fn run(root: &Path, args: Args) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    serve::log::init(serve::log::LogFormat::from_env());
    let result = serve_until_stopped(root, args, started);
    if let Err(e) = &result {
        tracing::error!("{e:#}");
    }
    // Queued lines reach stdout, unless it is stuck.
    serve::log::flush(Duration::from_secs(1));
    result
}

fn serve_until_stopped(root: &Path, args: Args, started: std::time::Instant) -> anyhow::Result<()> {
    let policy = super::cache_policy(root)?;
    let dir = super::under_root(root, args.dir);
    let options = serve::LoadOptions {
        memory: serve::MemoryBudget {
            max_file: args.memory_file_kib * 1024,
            total: args.memory_budget_mib * 1024 * 1024,
        },
        ..serve::LoadOptions::default()
    };
    let site = serve::StaticSite::load(&dir, &policy, &options)?;
    let (files, memory) = (site.len(), site.memory_bytes());
    let (disk_files, disk_bytes) = site.on_disk();
    let state = serve::AppState::new(site, policy, !args.no_request_log);
    let limits = serve::Limits {
        header_timeout: Duration::from_secs(args.header_timeout),
        write_timeout: Duration::from_secs(args.write_timeout),
        max_header_bytes: usize::try_from(args.max_header_kib * 1024)?,
        drain_timeout: serve::DRAIN_TIMEOUT,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = serve::bind(std::net::SocketAddr::new(args.bind, args.port)).await?;
        tracing::info!(
            "listening on http://{} ({files} files, {} KiB in memory, {disk_files} from disk ({} MiB), ready in {:.1} ms)",
            listener.local_addr()?,
            memory / 1024,
            disk_bytes / (1024 * 1024),
            started.elapsed().as_secs_f64() * 1000.0
        );
        serve::run(
            listener,
            serve::router(state),
            limits,
            serve::shutdown_signal(),
        )
        .await;
        tracing::info!("stopped");
        anyhow::Ok(())
    })?;
    // A file read still running on a blocking thread must not hold the exit.
    runtime.shutdown_timeout(Duration::from_millis(500));
    Ok(())
}
