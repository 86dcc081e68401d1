//! `check`: validate and render everything in memory and check every internal link,
//! writing nothing; what a deploy runs before it builds.

use std::path::Path;

use crate::site::{self, BuildOptions};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Include notes marked `draft = true`.
    #[arg(long)]
    drafts: bool,
}

pub(crate) fn run(root: &Path, args: Args) -> anyhow::Result<()> {
    let summary = site::check(&BuildOptions {
        root: root.to_path_buf(),
        drafts: args.drafts,
    })?;
    println!("ok: {summary}, every internal link resolves");
    Ok(())
}
