//! `dev`: build, serve on localhost, rebuild on change and reload open pages.

use std::path::{Path, PathBuf};

use crate::maintain::dev;
use crate::serve;
use crate::site::BuildOptions;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Output folder.
    #[arg(long, default_value = "public", value_name = "DIR")]
    out: PathBuf,
    #[arg(long, env = "PORT", default_value_t = 8080)]
    port: u16,
    #[arg(long, default_value = "127.0.0.1")]
    bind: std::net::IpAddr,
    /// Include notes marked `draft = true`.
    #[arg(long)]
    drafts: bool,
}

pub(crate) fn run(root: &Path, args: Args) -> anyhow::Result<()> {
    serve::log::init(serve::log::LogFormat::Text);
    let options = dev::DevOptions {
        build: BuildOptions {
            root: root.to_path_buf(),
            drafts: args.drafts,
        },
        out: super::under_root(root, args.out),
        addr: std::net::SocketAddr::new(args.bind, args.port),
        policy: super::cache_policy(root)?,
    };
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(dev::run(options));
    // Logs are written by a background thread: let the last lines out.
    serve::log::flush(std::time::Duration::from_secs(1));
    result
}
