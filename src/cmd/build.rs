//! `build`: the whole site into a folder, swapped in only when everything succeeded.

use std::path::{Path, PathBuf};

use crate::site::{self, BuildOptions};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Output folder.
    #[arg(long, default_value = "public", value_name = "DIR")]
    out: PathBuf,
    /// Include notes marked `draft = true`.
    #[arg(long)]
    drafts: bool,
}

pub(crate) fn run(root: &Path, args: Args) -> anyhow::Result<()> {
    let out = super::under_root(root, args.out);
    let options = BuildOptions {
        root: root.to_path_buf(),
        drafts: args.drafts,
    };
    let summary = site::build(&options, &out)?;
    println!("built {}: {summary}", out.display());
    Ok(())
}
