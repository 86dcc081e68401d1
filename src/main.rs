//! `petrol-watch`: parses the command line and hands off to the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use petrol_watch::config::SiteConfig;
use petrol_watch::site::{self, BuildOptions};

/// glibc's allocator lets the compressors' large, short-lived buffers fragment the
/// heap across threads (peak memory of a cold build ×5); mimalloc returns them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Build, serve on localhost, rebuild on every change and reload open pages.
    Dev {
        #[arg(long, default_value = "public", value_name = "DIR")]
        out: PathBuf,
        #[arg(long, env = "PORT", default_value_t = 8080)]
        port: u16,
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        #[arg(long)]
        drafts: bool,
    },
    /// Add, list or remove price rows.
    #[command(subcommand)]
    Price(PriceCommand),
    /// Merge prices from an outside source into the data.
    #[command(subcommand)]
    Import(ImportCommand),
}

#[derive(Subcommand)]
enum PriceCommand {
    /// Add a row: `price add --date 2026-12-01 --mogas 66.00 --gasoil 72.50`.
    Add {
        /// The decision date, YYYY-MM-DD.
        #[arg(long)]
        date: Option<String>,
        /// Change the row if the date already has one.
        #[arg(long)]
        replace: bool,
        /// Dataset (file name in data/ without .csv); default: site.toml's primary_dataset.
        #[arg(long)]
        dataset: Option<String>,
        /// One value per series, by column name: --mogas 66.00 --gasoil 72.50.
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "--SERIES VALUE"
        )]
        values: Vec<String>,
    },
    /// Print the newest rows with the change at each.
    List {
        #[arg(long, default_value_t = 10)]
        last: usize,
        #[arg(long)]
        dataset: Option<String>,
    },
    /// Remove the row for a date.
    Remove {
        #[arg(long)]
        date: String,
        #[arg(long)]
        dataset: Option<String>,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Read the STC retail-prices page and merge its rows into the fuel CSV.
    Stc {
        /// Page to fetch (HTTPS).
        #[arg(long, default_value = petrol_watch::maintain::import::STC_URL, conflicts_with = "file")]
        url: String,
        /// Read a saved copy of the page instead of fetching it.
        #[arg(long, value_name = "PAGE.html")]
        file: Option<PathBuf>,
        /// Take the page's values where they disagree with the CSV.
        #[arg(long)]
        overwrite: bool,
        /// Print what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        dataset: Option<String>,
        /// Seconds to wait for the page.
        #[arg(long, default_value_t = 20)]
        timeout: u64,
    },
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
    #[arg(long, env = "HEADER_TIMEOUT_SECS", default_value_t = petrol_watch::serve::HEADER_TIMEOUT.as_secs())]
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
        Command::Dev {
            out,
            port,
            bind,
            drafts,
        } => {
            use petrol_watch::{maintain::dev, serve};
            serve::log::init(serve::log::LogFormat::Text);
            let out = if out.is_absolute() {
                out
            } else {
                cli.root.join(out)
            };
            let options = dev::DevOptions {
                build: BuildOptions {
                    root: cli.root.clone(),
                    drafts,
                },
                out,
                addr: std::net::SocketAddr::new(bind, port),
                policy: cache_policy(&cli.root)?,
            };
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(dev::run(options))?;
        }
        Command::Price(command) => price(&cli.root, command)?,
        Command::Import(ImportCommand::Stc {
            url,
            file,
            overwrite,
            dry_run,
            dataset,
            timeout,
        }) => {
            use petrol_watch::maintain::{import, price};
            let (html, source) = match file {
                Some(path) => (petrol_watch::error::read_utf8(&path)?, path),
                None => (
                    import::fetch(&url, std::time::Duration::from_secs(timeout))?,
                    PathBuf::from(&url),
                ),
            };
            let rows = import::parse_page(&html, &source)?;
            let csv = price::dataset_path(&cli.root, &dataset_or_primary(&cli.root, dataset)?);
            let (_, report) = import::merge(&csv, &rows, overwrite, dry_run)?;
            print!("{report}");
        }
    }
    Ok(())
}

fn dataset_or_primary(root: &Path, dataset: Option<String>) -> anyhow::Result<String> {
    Ok(match dataset {
        Some(d) => d,
        None => SiteConfig::load(root)?.primary_dataset,
    })
}

fn price(root: &Path, command: PriceCommand) -> anyhow::Result<()> {
    use petrol_watch::maintain::price;
    match command {
        PriceCommand::Add {
            date,
            mut replace,
            dataset,
            values,
        } => {
            // Flags given after the series values arrive with them.
            let mut rest = Vec::new();
            for v in values {
                if v == "--replace" {
                    replace = true;
                } else {
                    rest.push(v);
                }
            }
            let mut pairs = price::series_pairs(&rest)?;
            let mut take = |name: &str| {
                pairs
                    .iter()
                    .position(|(n, _)| n == name)
                    .map(|i| pairs.remove(i).1)
            };
            let date = date
                .or_else(|| take("date"))
                .ok_or_else(|| anyhow::anyhow!("--date is required"))?;
            let dataset = dataset.or_else(|| take("dataset"));
            let path = price::dataset_path(root, &dataset_or_primary(root, dataset)?);
            print!(
                "{}",
                price::add(&path, price::parse_date_arg(&date)?, &pairs, replace)?
            );
        }
        PriceCommand::List { last, dataset } => {
            print!(
                "{}",
                price::list(
                    &price::dataset_path(root, &dataset_or_primary(root, dataset)?),
                    last
                )?
            );
        }
        PriceCommand::Remove { date, dataset } => {
            let path = price::dataset_path(root, &dataset_or_primary(root, dataset)?);
            print!("{}", price::remove(&path, price::parse_date_arg(&date)?)?);
        }
    }
    Ok(())
}

fn cache_policy(root: &Path) -> anyhow::Result<petrol_watch::serve::CachePolicy> {
    let cache = SiteConfig::load(root)?.cache;
    Ok(petrol_watch::serve::CachePolicy {
        browser_max_age: cache.browser_max_age,
        cdn_max_age: cache.cdn_max_age,
        not_found_max_age: cache.not_found_max_age,
    })
}

fn serve(root: &Path, args: ServeArgs) -> anyhow::Result<()> {
    use petrol_watch::serve;
    let started = std::time::Instant::now();
    serve::log::init(serve::log::LogFormat::from_env());
    let policy = cache_policy(root)?;
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
