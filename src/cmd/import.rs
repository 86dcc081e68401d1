//! `import stc`: read the STC retail-prices page and merge its rows into the fuel CSV.

use std::path::{Path, PathBuf};

use crate::maintain::{import, price};

#[derive(clap::Subcommand)]
pub(crate) enum Command {
    /// Read the STC retail-prices page and merge its rows into the fuel CSV.
    ///
    /// Exit codes: 0 nothing new; 3 rows added (or, with --dry-run, would be; also
    /// when --overwrite changed rows); 4 the page disagrees with the CSV on some
    /// date (nothing of that row applied; new rows are still added unless --dry-run);
    /// 1 the page could not be read or is not the price table; 2 bad usage.
    Stc(StcArgs),
}

#[derive(clap::Args)]
pub(crate) struct StcArgs {
    /// Page to fetch (HTTPS).
    #[arg(long, default_value = import::STC_URL, conflicts_with = "file")]
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
    /// Print a JSON summary (rows added, agreeing, disagreeing, with dates and values).
    #[arg(long)]
    json: bool,
    #[arg(long, value_parser = clap::builder::NonEmptyStringValueParser::new())]
    dataset: Option<String>,
    /// Seconds to wait for the page.
    #[arg(long, default_value_t = 20)]
    timeout: u64,
}

/// Returns the exit code that tells automation what happened.
pub(crate) fn run(root: &Path, command: Command) -> anyhow::Result<u8> {
    let Command::Stc(args) = command;
    let (html, source) = match args.file {
        Some(path) => (import::read_file(&path)?, import::Source::File(path)),
        None => (
            import::fetch(&args.url, std::time::Duration::from_secs(args.timeout))?,
            import::Source::Url(args.url.clone()),
        ),
    };
    let today = chrono::Local::now().date_naive();
    let rows = import::parse_page(&html, &source, today)?;
    let csv = price::dataset_path(root, &super::dataset_or_primary(root, args.dataset)?);
    let report = import::merge(&csv, &rows, args.overwrite, args.dry_run)?;
    if args.json {
        print!("{}", report.json());
    } else {
        print!("{}", report.text());
    }
    Ok(report.exit_code())
}
