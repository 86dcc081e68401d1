//! `import stc`: read the STC retail-prices page and merge its rows into the fuel CSV.

use std::path::{Path, PathBuf};

use crate::maintain::{import, price};

#[derive(clap::Subcommand)]
pub(crate) enum Command {
    /// Read the STC retail-prices page and merge its rows into the fuel CSV.
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
    #[arg(long)]
    dataset: Option<String>,
    /// Seconds to wait for the page.
    #[arg(long, default_value_t = 20)]
    timeout: u64,
}

pub(crate) fn run(root: &Path, command: Command) -> anyhow::Result<()> {
    let Command::Stc(args) = command;
    let (html, source) = match args.file {
        Some(path) => (crate::error::read_utf8(&path)?, path),
        None => (
            import::fetch(&args.url, std::time::Duration::from_secs(args.timeout))?,
            PathBuf::from(&args.url),
        ),
    };
    let rows = import::parse_page(&html, &source)?;
    let csv = price::dataset_path(root, &super::dataset_or_primary(root, args.dataset)?);
    let (_, report) = import::merge(&csv, &rows, args.overwrite, args.dry_run)?;
    print!("{report}");
    Ok(())
}
