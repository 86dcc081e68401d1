//! `petrol-watch`: parses the command line and hands each command to its module in
//! `cmd/`. Data flows one way: `config`, `data` and `notes` load and validate the
//! inputs; `chart` and `site` render them; `site::output` writes the result atomically;
//! `serve` serves any folder of files; `maintain` holds the maintainer's edits.

mod chart;
mod cmd;
mod config;
mod data;
mod error;
mod events;
mod highlight;
mod images;
mod maintain;
mod markup;
mod media;
mod notes;
mod own_file;
mod price;
mod serve;
mod share;
mod shortcodes;
mod site;
mod slug;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    Build(cmd::build::Args),
    /// Validate and render everything in memory, and check internal links; write nothing.
    Check(cmd::check::Args),
    /// Serve a built site over HTTP (made for Cloud Run behind Firebase Hosting).
    Serve(cmd::serve::Args),
    /// Build, serve on localhost, rebuild on every change and reload open pages.
    Dev(cmd::dev::Args),
    /// Add, list or remove price rows.
    #[command(subcommand)]
    Price(cmd::price::Command),
    /// Merge prices from an outside source into the data.
    #[command(subcommand)]
    Import(cmd::import::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse_from(cmd::price::series_flags_as_pairs(
        std::env::args_os().collect(),
    ));
    let root = cli.root;
    let outcome = match cli.command {
        Command::Build(args) => cmd::build::run(&root, args),
        Command::Check(args) => cmd::check::run(&root, args),
        Command::Serve(args) => cmd::serve::run(&root, args),
        Command::Dev(args) => cmd::dev::run(&root, args),
        Command::Price(command) => cmd::price::run(&root, command),
        Command::Import(command) => match cmd::import::run(&root, command) {
            Ok(code) => return ExitCode::from(code),
            Err(e) => Err(e),
        },
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
