//! `petrol-watch`: parses the command line and hands off to the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
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
    }
    Ok(())
}
