//! `petrol-watch`: parses the command line and hands off to the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use petrol_watch::config::SiteConfig;
use petrol_watch::site::{self, BuildOptions};

#[derive(Parser)]
#[command(
    name = "petrol-watch",
    version,
    about = "Mauritius fuel prices and workshop notes as a static site, and its server"
)]
struct Cli {
    /// The site root: the folder holding site.toml, data/, content/, templates/ and static/.
    #[arg(long, global = true, default_value = ".", value_name = "DIR")]
    root: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the whole site into a folder, replacing it only when everything succeeded.
    Build {
        /// Output folder.
        #[arg(long, default_value = "public", value_name = "DIR")]
        out: PathBuf,
        /// Include notes marked `draft = true`.
        #[arg(long)]
        drafts: bool,
    },
    /// Validate and render everything in memory, and check internal links; write nothing.
    Check {
        #[arg(long)]
        drafts: bool,
    },
    /// Serve a built site over HTTP (made for Cloud Run behind Firebase Hosting).
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
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
    #[arg(long, env = "HEADER_TIMEOUT_SECS", default_value_t = 20)]
    header_timeout: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Build { out, drafts } => {
            let out = if out.is_absolute() {
                out
            } else {
                cli.root.join(out)
            };
            let summary = site::build(
                &BuildOptions {
                    root: cli.root,
                    drafts,
                },
                &out,
            )?;
            println!("built {}: {summary}", out.display());
        }
        Command::Check { drafts } => {
            let summary = site::check(&BuildOptions {
                root: cli.root,
                drafts,
            })?;
            println!("ok: {summary}, every internal link resolves");
        }
        Command::Serve(args) => serve(&cli.root, args)?,
    }
    Ok(())
}

fn serve(root: &std::path::Path, args: ServeArgs) -> anyhow::Result<()> {
    use petrol_watch::serve;
    let started = std::time::Instant::now();
    serve::log::init(serve::log::LogFormat::from_env());
    let cache = SiteConfig::load(root)?.cache;
    let policy = serve::CachePolicy {
        browser_max_age: cache.browser_max_age,
        cdn_max_age: cache.cdn_max_age,
        not_found_max_age: cache.not_found_max_age,
    };
    let dir = if args.dir.is_absolute() {
        args.dir
    } else {
        root.join(args.dir)
    };
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
