//! The site build, in the order data flows:
//!
//! - `fresh`: whether there is anything to do: the inputs' fingerprint, from `stat`
//!   alone, against the one recorded beside the live site.
//! - `load`: read and validate every input (site.toml, data/, content/, templates/,
//!   static/); bad input stops here, before anything is written.
//! - `plan`: every output path and the job that makes it, from the inputs alone;
//!   collisions and reserved paths are refused here.
//! - `figures`: what a dataset's pages say beyond its rows (records, look-backs,
//!   years and their summaries, a comparison), exact and counted to the latest row.
//! - `keys`: what each output is made from (program identity included), for reuse.
//! - `jobs`: render each planned output (`pages` for HTML, `feeds` for Atom, sitemap,
//!   JSON, CSV) into a sink.
//! - `output`: the sink for `build` (one builder at a time, a staged folder swapped in
//!   atomically, unchanged files reused); `links`: the sink for `check`;
//!   `code_cache`: the highlighted code blocks `output` keeps between builds.

pub(crate) mod aliases;
pub(crate) mod code_cache;
pub(crate) mod feeds;
pub(crate) mod figures;
pub(crate) mod fresh;
pub(crate) mod jobs;
pub(crate) mod jsonld;
pub(crate) mod keys;
pub(crate) mod links;
pub(crate) mod load;
pub(crate) mod output;
pub(crate) mod pages;
pub(crate) mod plan;
pub(crate) mod share;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::Result;
use output::StagedSite;

/// What a build produced, for the one-line summary.
#[derive(Debug, Default, Clone)]
pub(crate) struct Summary {
    pub(crate) pages: usize,
    pub(crate) charts: usize,
    pub(crate) files: usize,
    /// Note image files planned, and how many of them were decoded and encoded.
    pub(crate) images: usize,
    pub(crate) images_made: usize,
    pub(crate) reused: usize,
    pub(crate) elapsed: Duration,
    /// No input changed since the build of the live site, which is intact: nothing
    /// was read or written.
    pub(crate) up_to_date: bool,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} pages, {} charts, {} files",
            self.pages, self.charts, self.files
        )?;
        if self.images > 0 {
            write!(
                f,
                ", {} image files ({} made)",
                self.images, self.images_made
            )?;
        }
        if self.reused > 0 {
            write!(f, " ({} unchanged)", self.reused)?;
        }
        write!(f, " in {} ms", self.elapsed.as_millis())?;
        if self.up_to_date {
            write!(f, "; no input changed since the last build")?;
        }
        Ok(())
    }
}

/// Options shared by `build`, `check` and `dev`.
#[derive(Debug, Clone)]
pub(crate) struct BuildOptions {
    pub(crate) root: PathBuf,
    pub(crate) drafts: bool,
}

/// Returns at once when the live site at `out` is already this build's (its inputs
/// are as the last build found them, see `fresh`); else loads and plans, then
/// (holding the output's lock) renders into a staged folder and swaps it in for
/// `out`. On any error the staged folder is removed and `out` is untouched.
pub(crate) fn build(options: &BuildOptions, out: &Path) -> Result<Summary> {
    let started = Instant::now();
    // Taken before any input is read: whatever changes while this build reads shows
    // in the next build's fingerprint.
    let fingerprint = fresh::fingerprint(options);
    if let Some(seen) = fingerprint {
        if output::refuse_unsafe_target(&options.root, out).is_ok() {
            if let Some(mut summary) = output::already_built(out, seen)? {
                summary.elapsed = started.elapsed();
                return Ok(summary);
            }
        }
    }
    let inputs = load::load(options)?;
    let plan = plan::plan(&inputs)?;
    output::refuse_unsafe_target(&options.root, out)?;
    let staged = StagedSite::create(out)?;
    let mut summary = jobs::render(&inputs, &plan, &staged)?;
    summary.reused = staged.reused();
    staged.commit(&plan.fingerprinted(), fingerprint, &summary)?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Everything `build` does except writing, plus a check that every internal link and
/// asset reference resolves.
pub(crate) fn check(options: &BuildOptions) -> Result<Summary> {
    let started = Instant::now();
    let inputs = load::load(options)?;
    let plan = plan::plan(&inputs)?;
    let sink = links::CollectingSink::default();
    let mut summary = jobs::render(&inputs, &plan, &sink)?;
    let sources = links::NoteSources::new(&plan, &inputs.notes);
    sink.check_links_with_base(&inputs.config.base_url, &|page, link| {
        sources.source(page, link)
    })?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}
