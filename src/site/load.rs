//! Load: read `site.toml`, `data/`, `content/notes/`, `templates/` and `static/`, and
//! refuse bad input (with file and line) before anything is planned or written.

use std::hash::Hash;
use std::path::{Path, PathBuf};

use tera::Tera;
use xxhash_rust::xxh3::Xxh3;

use super::{pages, BuildOptions};
use crate::config::SiteConfig;
use crate::data::{self, Dataset};
use crate::error::{Error, Result};
use crate::events::{self, Event};
use crate::images::{self, NoteImage};
use crate::notes::{self, Note};
use crate::shortcodes::{self, NoteChart};

/// Everything a build reads, validated.
pub(crate) struct Inputs {
    pub(crate) config: SiteConfig,
    pub(crate) datasets: Vec<Dataset>,
    pub(crate) notes: Vec<Note>,
    pub(crate) templates: Tera,
    /// Files from `static/`: path relative to it, and contents.
    pub(crate) statics: Vec<(String, Vec<u8>)>,
    /// Hash of every template's source, for reusing unchanged pages.
    pub(crate) templates_hash: u128,
    /// Chart annotations from `data/events.toml`, by date.
    pub(crate) events: Vec<Event>,
    /// Charts the notes' shortcodes ask for.
    pub(crate) note_charts: Vec<NoteChart>,
    /// Images the folder notes show, each with its planned variants.
    pub(crate) note_images: Vec<NoteImage>,
}

pub(crate) fn load(options: &BuildOptions) -> Result<Inputs> {
    let root = &options.root;
    let mut config = SiteConfig::load(root)?;
    let events = events::load(root)?;
    // The three loads are independent; run them side by side.
    let ((datasets, notes), (templates, statics)) = rayon::join(
        || {
            rayon::join(
                || data::load_datasets(&root.join("data"), &config),
                || notes::load_notes(&root.join("content/notes"), options.drafts),
            )
        },
        || {
            rayon::join(
                || load_templates(&root.join("templates")),
                || load_statics(&root.join("static")),
            )
        },
    );
    let mut errors = Vec::new();
    let datasets = datasets.map_err(|e| errors.push(e)).ok();
    let notes = notes.map_err(|e| errors.push(e)).ok();
    let templates = templates.map_err(|e| errors.push(e)).ok();
    let statics = statics.map_err(|e| errors.push(e)).ok();
    Error::collect(errors)?;
    let (datasets, mut notes, (templates, templates_hash), statics) = (
        datasets.unwrap_or_default(),
        notes.unwrap_or_default(),
        templates.expect("checked"),
        statics.unwrap_or_default(),
    );
    check_dataset_names(&datasets)?;
    let slugs: Vec<&str> = datasets.iter().map(|d| d.slug.as_str()).collect();
    events::check_datasets(&events, &slugs, &root.join(events::FILE_NAME))?;
    if datasets.is_empty() {
        return Err(Error::in_file(
            &root.join("data"),
            "no datasets: add at least one CSV such as data/fuel-prices.csv",
        ));
    }
    // Every page's footer links the old app's endpoint, so it always publishes one.
    match (config.primary_among(&slugs), config.primary_dataset_line) {
        (Some(primary), _) => config.primary_dataset = primary.to_string(),
        (None, line) => {
            return Err(Error::at(
                &root.join(crate::config::FILE_NAME),
                line.unwrap_or(1),
                format!(
                    "primary_dataset = {:?} names no dataset (want one of: {})",
                    config.primary_dataset,
                    slugs.join(", ")
                ),
            ))
        }
    }
    // Images become `<picture>` HTML before the shortcodes run, on the body as written
    // (so their messages name the file's lines); the HTML keeps the line count.
    let note_images = images::process_notes(&mut notes)?;
    // Shortcodes become their values here, so a note's body (and so its reuse key)
    // changes whenever a figure it quotes does.
    let note_charts = shortcodes::expand_notes(&mut notes, &datasets)?;
    Ok(Inputs {
        note_charts,
        note_images,
        config,
        datasets,
        notes,
        templates,
        statics,
        templates_hash,
        events,
    })
}

/// The site's inputs, relative to its root: what an output folder must stay clear of.
pub(crate) const INPUTS: [&str; 5] = ["site.toml", "data", "content", "templates", "static"];

/// What the loaders below read, relative to the site's root (the notes are the only
/// part of `content/` read): the files whose fingerprint says whether a build has
/// anything to do. A loader that reads elsewhere must add it here.
pub(crate) const READ: [&str; 5] = ["site.toml", "data", "content/notes", "templates", "static"];

pub(crate) const REQUIRED_TEMPLATES: [&str; 9] = [
    "index.html",
    "prices.html",
    "dataset.html",
    "dataset_year.html",
    "notes.html",
    "note.html",
    "tag.html",
    "tags.html",
    "404.html",
];

fn load_templates(dir: &Path) -> Result<(Tera, u128)> {
    if !dir.is_dir() {
        return Err(Error::in_file(dir, "missing templates folder"));
    }
    let mut tera = Tera::default();
    let files: Vec<(PathBuf, Option<String>)> = visible_files(dir)?
        .into_iter()
        .map(|(path, name)| (path, Some(name)))
        .collect();
    // add_template_files parses all and resolves inheritance; a failure names the file.
    let mut hash = Xxh3::new();
    for (path, name) in &files {
        name.hash(&mut hash);
        std::fs::read(path)
            .map_err(|e| Error::io(path, e))?
            .hash(&mut hash);
    }
    // A parse failure's message quotes the file's path; name that file.
    tera.add_template_files(files).map_err(|e| {
        let message = pages::error_chain(&e);
        let path = message
            .split('"')
            .nth(1)
            .map_or_else(|| dir.to_path_buf(), PathBuf::from);
        Error::in_file(&path, message)
    })?;
    tera.autoescape_on(vec![".html", ".xml"]);
    // Tera's default also escapes `/`, which bloats every URL in every page.
    tera.set_escape_fn(crate::markup::escape_markup);
    for name in REQUIRED_TEMPLATES {
        if !tera.get_template_names().any(|n| n == name) {
            return Err(Error::in_file(&dir.join(name), "missing template"));
        }
    }
    Ok((tera, hash.digest128()))
}

fn load_statics(dir: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    visible_files(dir)?
        .into_iter()
        .map(|(path, rel)| Ok((rel, std::fs::read(&path).map_err(|e| Error::io(&path, e))?)))
        .collect()
}

/// A dataset's file name is its address (`/prices/<name>/`, `/api/<name>.json`): it
/// must already be a slug, so links never carry spaces or capitals.
fn check_dataset_names(datasets: &[Dataset]) -> Result<()> {
    let errors = datasets
        .iter()
        .filter_map(|d| match crate::slug::checked(&d.slug) {
            Ok(s) if s == d.slug => None,
            Ok(s) => Some(Error::in_file(
                &d.table.path,
                format!(
                    "the dataset name {:?} is used in its addresses and must be lowercase letters, digits and `-`: rename the file to {s}.csv",
                    d.slug
                ),
            )),
            Err(why) => Some(Error::in_file(&d.table.path, format!("dataset name {why}"))),
        })
        .collect();
    Error::collect(errors)
}

/// Every file under `dir` that is not hidden, following links, in name order: its path
/// and its name relative to `dir` with `/` separators.
fn visible_files(dir: &Path) -> Result<Vec<(PathBuf, String)>> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| Error::io(dir, e.into()))?;
        if entry.file_type().is_file() && !data::is_hidden(entry.path()) {
            let name = entry
                .path()
                .strip_prefix(dir)
                .expect("under dir")
                .to_string_lossy()
                .replace('\\', "/");
            files.push((entry.path().to_path_buf(), name));
        }
    }
    Ok(files)
}
