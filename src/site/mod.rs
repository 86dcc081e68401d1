//! The site: load and validate every input, render every page and file, write them.
//!
//! `load` reads `site.toml`, `data/`, `content/notes/`, `templates/` and `static/` and
//! rejects bad input before anything is written. `render` turns the loaded inputs into
//! files and hands each one to a [`Sink`] as soon as it exists, so a build of 10,000
//! notes never holds 10,000 pages in memory. `build` renders into a staged folder and
//! swaps it in; `check` renders into memory only.

pub(crate) mod feeds;
pub(crate) mod links;
pub(crate) mod output;
pub(crate) mod pages;
pub(crate) mod share;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use std::hash::Hash;

use rayon::prelude::*;
use tera::Tera;
use xxhash_rust::xxh3::Xxh3;

use crate::chart::{self, ChartSeries, ChartSize, ChartSpec};
use crate::config::SiteConfig;
use crate::data::{self, format_value, Dataset};
use crate::error::{Error, Result};
use crate::notes::{self, slugify, Note};
use output::{Sink, StagedSite};
use pages::{ChartRef, NoteSummary, Renderer};

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
}

/// What a build produced, for the one-line summary.
#[derive(Debug, Default, Clone)]
pub(crate) struct Summary {
    pub(crate) pages: usize,
    pub(crate) charts: usize,
    pub(crate) files: usize,
    pub(crate) reused: usize,
    pub(crate) elapsed: Duration,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} pages, {} charts, {} files",
            self.pages, self.charts, self.files
        )?;
        if self.reused > 0 {
            write!(f, " ({} unchanged)", self.reused)?;
        }
        write!(f, " in {} ms", self.elapsed.as_millis())
    }
}

/// Options shared by `build`, `check` and `dev`.
#[derive(Debug, Clone)]
pub(crate) struct BuildOptions {
    pub(crate) root: PathBuf,
    pub(crate) drafts: bool,
}

pub(crate) fn load(options: &BuildOptions) -> Result<Inputs> {
    let root = &options.root;
    let config = SiteConfig::load(root)?;
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
    let (datasets, notes, (templates, templates_hash), statics) = (
        datasets.unwrap_or_default(),
        notes.unwrap_or_default(),
        templates.expect("checked"),
        statics.unwrap_or_default(),
    );
    if datasets.is_empty() {
        return Err(Error::in_file(
            &root.join("data"),
            "no datasets: add at least one CSV such as data/fuel-prices.csv",
        ));
    }
    Ok(Inputs {
        config,
        datasets,
        notes,
        templates,
        statics,
        templates_hash,
    })
}

pub(crate) const REQUIRED_TEMPLATES: [&str; 7] = [
    "index.html",
    "dataset.html",
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
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| Error::io(dir, e.into()))?;
        if entry.file_type().is_file() && !data::is_hidden(entry.path()) {
            let name = entry
                .path()
                .strip_prefix(dir)
                .expect("under dir")
                .to_string_lossy()
                .replace('\\', "/");
            files.push((entry.path().to_path_buf(), Some(name)));
        }
    }
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
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| Error::io(dir, e.into()))?;
        if entry.file_type().is_file() && !data::is_hidden(entry.path()) {
            let rel = entry
                .path()
                .strip_prefix(dir)
                .expect("under dir")
                .to_string_lossy()
                .replace('\\', "/");
            out.push((
                rel,
                std::fs::read(entry.path()).map_err(|e| Error::io(entry.path(), e))?,
            ));
        }
    }
    Ok(out)
}

/// `style.css` + contents → `style.3f9a1c2e.css`: a name that changes with the content,
/// so the file can be cached forever.
pub(crate) fn fingerprint(name: &str, bytes: &[u8]) -> String {
    let hash = xxhash_rust::xxh3::xxh3_64(bytes);
    let short = format!("{:08x}", (hash >> 32) as u32);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !stem.ends_with('/') => {
            format!("{stem}.{short}.{ext}")
        }
        _ => format!("{name}.{short}"),
    }
}

/// Counts what passes through to the real sink.
struct Counting<'a> {
    inner: &'a dyn Sink,
    files: std::sync::atomic::AtomicUsize,
}

impl Sink for Counting<'_> {
    fn put(&self, path: &str, bytes: &[u8]) -> Result<()> {
        self.files
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.put(path, bytes)
    }
    fn put_keyed(&self, path: &str, key: u128, render: &dyn Fn() -> Result<Vec<u8>>) -> Result<()> {
        self.files
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.put_keyed(path, key, render)
    }
}

/// Renders the whole site into `sink`.
pub(crate) fn render(inputs: &Inputs, sink: &dyn Sink) -> Result<Summary> {
    let started = Instant::now();
    let config = &inputs.config;
    let sink = &Counting {
        inner: sink,
        files: Default::default(),
    };

    // 1. Assets first: pages refer to them by fingerprinted name.
    let mut assets: BTreeMap<String, String> = BTreeMap::new();
    for (rel, bytes) in &inputs.statics {
        let named = fingerprint(rel, bytes);
        sink.put(&format!("static/{named}"), bytes)?;
        assets.insert(rel.clone(), format!("/static/{named}"));
        // Browsers ask for /favicon.ico by that name.
        if rel.starts_with("favicon.") && !rel.contains('/') {
            sink.put(rel, bytes)?;
        }
    }

    // 2. Charts, two sizes per dataset, in parallel.
    let chart_refs: Vec<(String, ChartRef)> = inputs
        .datasets
        .par_iter()
        .map(|d| -> Result<(String, ChartRef)> {
            let (title, alt) = chart_text(d);
            let svg = |size, suffix: &str| -> Result<String> {
                let spec = ChartSpec {
                    title: &title,
                    description: &alt,
                    unit: &d.unit,
                    series: d
                        .series
                        .iter()
                        .enumerate()
                        .map(|(i, s)| ChartSeries {
                            label: &s.label,
                            colour: &s.colour,
                            points: d.table.rows.iter().map(|r| (r.date, r.values[i])).collect(),
                        })
                        .collect(),
                    size,
                };
                let svg = chart::render_step_chart(&spec);
                let path = format!(
                    "charts/{}",
                    fingerprint(&format!("{}{suffix}.svg", d.slug), svg.as_bytes())
                );
                sink.put(&path, svg.as_bytes())?;
                Ok(format!("/{path}"))
            };
            Ok((
                d.slug.clone(),
                ChartRef {
                    wide: svg(ChartSize::Wide, "")?,
                    narrow: svg(ChartSize::Narrow, "-narrow")?,
                    alt,
                },
            ))
        })
        .collect::<Result<_>>()?;
    let charts: BTreeMap<String, ChartRef> = chart_refs.into_iter().collect();
    let share_images = share::write(inputs, sink)?;

    let renderer = &Renderer::new(
        &inputs.templates,
        config,
        &assets,
        &inputs.datasets,
        &share_images,
    );
    let notes = &inputs.notes;
    // Everything every page depends on; each page's key adds its own inputs.
    let global = {
        let mut h = Xxh3::new();
        env!("CARGO_PKG_VERSION").hash(&mut h);
        inputs.templates_hash.hash(&mut h);
        format!("{config:?}").hash(&mut h);
        assets.hash(&mut h);
        for d in &inputs.datasets {
            (&d.slug, &d.title).hash(&mut h);
        }
        h.digest128()
    };
    let key = |add: &dyn Fn(&mut Xxh3)| {
        let mut h = Xxh3::new();
        global.hash(&mut h);
        add(&mut h);
        h.digest128()
    };

    // 3. One page per note, written as soon as it is rendered; keep only summaries.
    let summaries: Vec<NoteSummary> = notes
        .par_iter()
        .enumerate()
        .map(|(i, note)| -> Result<NoteSummary> {
            let summary = pages::summary_of(note, &notes::first_paragraph(&note.body));
            let newer = i.checked_sub(1).map(|j| &notes[j]);
            let older = notes.get(i + 1);
            let note_key = key(&|h| {
                note_fingerprint(note, h);
                newer.map(|n| (&n.slug, &n.title)).hash(h);
                older.map(|n| (&n.slug, &n.title)).hash(h);
            });
            let path = pages::output_path(&pages::note_url(&note.slug));
            sink.put_keyed(&path, note_key, &|| {
                Ok(renderer
                    .note(
                        note,
                        &notes::render_markdown(&note.body),
                        &summary,
                        newer,
                        older,
                    )?
                    .into_bytes())
            })?;
            Ok(pages::note_summary(note, summary))
        })
        .collect::<Result<_>>()?;
    let mut pages_written = notes.len();

    // 4. Tags: slug → (first spelling seen, notes newest first).
    let mut tags: BTreeMap<String, (String, Vec<usize>)> = BTreeMap::new();
    for (i, note) in notes.iter().enumerate() {
        for t in &note.tags {
            tags.entry(slugify(t))
                .or_insert_with(|| (t.clone(), Vec::new()))
                .1
                .push(i);
        }
    }
    let tag_rows: Vec<(String, String, usize)> = tags
        .values()
        .map(|(name, idx)| (name.clone(), pages::tag_url(name), idx.len()))
        .collect();
    tags.par_iter()
        .try_for_each(|(_, (name, idx))| -> Result<()> {
            let list: Vec<NoteSummary> = idx.iter().map(|&i| summaries[i].clone()).collect();
            let tag_key = key(&|h| (name, &list).hash(h));
            sink.put_keyed(&pages::output_path(&pages::tag_url(name)), tag_key, &|| {
                Ok(renderer.tag(name, &list)?.into_bytes())
            })
        })?;
    pages_written += tags.len();

    // 5. The remaining pages and files are few; render them side by side.
    let latest = &summaries[..summaries.len().min(config.home_notes)];
    let mut singles = vec![
        Single::Home,
        Single::NotesIndex,
        Single::TagsIndex,
        Single::NotFound,
        Single::Feed,
        Single::Sitemap,
        Single::Robots,
    ];
    for d in &inputs.datasets {
        singles.extend([Single::Dataset(d), Single::Json(d), Single::Csv(d)]);
        if d.slug == config.primary_dataset {
            singles.push(Single::LegacyApi(d));
        }
    }
    singles.par_iter().try_for_each(|job| {
        // Data files depend on the data alone; pages on the templates too.
        let data_key = |d: &Dataset, kind: &str| {
            let mut h = Xxh3::new();
            (env!("CARGO_PKG_VERSION"), kind).hash(&mut h);
            dataset_fingerprint(d, &mut h);
            h.digest128()
        };
        let (path, job_key, render): (String, Option<u128>, RenderJob) = match job {
            Single::Home => (
                "index.html".into(),
                None,
                Box::new(|| renderer.home(&inputs.datasets, &charts, latest)),
            ),
            Single::NotesIndex => (
                "notes/index.html".into(),
                Some(key(&|h| (&summaries, &tag_rows).hash(h))),
                Box::new(|| renderer.notes_index(&summaries, &tag_rows)),
            ),
            Single::TagsIndex => (
                "tags/index.html".into(),
                None,
                Box::new(|| renderer.tags_index(&tag_rows)),
            ),
            Single::NotFound => ("404.html".into(), None, Box::new(|| renderer.not_found())),
            Single::Feed => ("feed.xml".into(), None, Box::new(|| Ok(feed(inputs)))),
            Single::Sitemap => (
                "sitemap.xml".into(),
                None,
                Box::new(|| Ok(sitemap(inputs, &tags))),
            ),
            Single::Robots => (
                "robots.txt".into(),
                None,
                Box::new(|| Ok(feeds::robots(&config.base_url))),
            ),
            Single::Dataset(d) => {
                let chart = &charts[&d.slug];
                (
                    pages::output_path(&pages::dataset_url(&d.slug)),
                    Some(key(&|h| {
                        dataset_fingerprint(d, h);
                        chart.hash(h);
                    })),
                    Box::new(move || renderer.dataset(d, chart)),
                )
            }
            Single::Json(d) => (
                pages::json_url(&d.slug)[1..].to_string(),
                Some(data_key(d, "json")),
                Box::new(|| Ok(feeds::dataset_json(d))),
            ),
            Single::Csv(d) => (
                pages::csv_url(&d.slug)[1..].to_string(),
                Some(data_key(d, "csv")),
                Box::new(|| Ok(feeds::dataset_csv(d))),
            ),
            Single::LegacyApi(d) => (
                "api/prices.json".to_string(),
                Some(data_key(d, "json")),
                Box::new(|| Ok(feeds::dataset_json(d))),
            ),
        };
        match job_key {
            Some(k) => sink.put_keyed(&path, k, &|| Ok(render()?.into_bytes())),
            None => sink.put(&path, render()?.as_bytes()),
        }
    })?;
    pages_written += 4 + inputs.datasets.len();

    Ok(Summary {
        pages: pages_written,
        charts: charts.len() * 2,
        files: sink.files.load(std::sync::atomic::Ordering::Relaxed),
        reused: 0,
        elapsed: started.elapsed(),
    })
}

/// Renders one of the one-of-a-kind files.
type RenderJob<'a> = Box<dyn Fn() -> Result<String> + Sync + 'a>;

/// Everything a note's page is made from.
fn note_fingerprint(note: &Note, h: &mut Xxh3) {
    (
        &note.slug,
        &note.title,
        note.date,
        note.updated,
        &note.description,
        &note.tags,
        note.draft,
        &note.body,
    )
        .hash(h);
}

/// Everything a dataset's outputs are made from: metadata, series and every value.
fn dataset_fingerprint(d: &Dataset, h: &mut Xxh3) {
    (
        &d.slug,
        &d.title,
        &d.description,
        &d.unit,
        &d.currency,
        &d.source,
        &d.source_url,
    )
        .hash(h);
    (&d.row_noun, &d.date_label, d.order).hash(h);
    for s in &d.series {
        (&s.key, &s.label, &s.colour, s.decimals).hash(h);
    }
    for row in &d.table.rows {
        row.date.hash(h);
        for v in &row.values {
            v.to_bits().hash(h);
        }
    }
}

/// The site's one-of-a-kind pages and files.
enum Single<'a> {
    Home,
    NotesIndex,
    TagsIndex,
    NotFound,
    Feed,
    Sitemap,
    Robots,
    Dataset(&'a Dataset),
    Json(&'a Dataset),
    Csv(&'a Dataset),
    /// `api/prices.json`, the old app's endpoint.
    LegacyApi(&'a Dataset),
}

/// The chart's title and its text alternative: what it shows and where it ends.
fn chart_text(d: &Dataset) -> (String, String) {
    let last = &d.table.rows[d.table.rows.len() - 1];
    let latest: Vec<String> = d
        .series
        .iter()
        .zip(&last.values)
        .map(|(s, v)| {
            format!(
                "{} {}{}",
                s.label,
                if d.currency.is_empty() {
                    String::new()
                } else {
                    format!("{} ", d.currency)
                },
                format_value(*v, s.decimals)
            )
        })
        .collect();
    let names: Vec<&str> = d.series.iter().map(|s| s.label.as_str()).collect();
    let unit = if d.unit.is_empty() {
        String::new()
    } else {
        format!(" in {}", d.unit)
    };
    (
        format!(
            "{}, {} to {}",
            d.title,
            d.first_date().format("%Y"),
            d.last_date().format("%Y")
        ),
        format!(
            "Step chart of {}{unit}, {} decisions from {} to {}. Latest, from {}: {}.",
            names.join(" and "),
            d.table.rows.len(),
            pages::human_date(d.first_date()),
            pages::human_date(d.last_date()),
            pages::human_date(last.date),
            latest.join(", ")
        ),
    )
}

fn feed(inputs: &Inputs) -> String {
    let config = &inputs.config;
    let mut entries: Vec<feeds::FeedEntry> = inputs
        .notes
        .iter()
        .take(20)
        .map(|n| {
            let html = notes::render_markdown(&n.body);
            feeds::FeedEntry {
                title: n.title.clone(),
                url: pages::note_url(&n.slug),
                date: n.date,
                updated: n.updated.unwrap_or(n.date),
                content: html,
                categories: n.tags.clone(),
            }
        })
        .collect();
    if let Some(d) = inputs
        .datasets
        .iter()
        .find(|d| d.slug == config.primary_dataset)
    {
        let rows = &d.table.rows;
        for i in (0..rows.len()).rev().take(config.feed_decisions) {
            let parts: Vec<String> = d
                .series
                .iter()
                .enumerate()
                .map(|(s, series)| {
                    let value = format_value(rows[i].values[s], series.decimals);
                    let change = if i == 0 {
                        String::new()
                    } else {
                        let c = data::Change::between(
                            rows[i - 1].values[s],
                            rows[i].values[s],
                            series.decimals,
                        );
                        match c.direction() {
                            "unchanged" => " (unchanged)".into(),
                            dir => format!(
                                " ({dir} {})",
                                format_value(c.amount.abs(), series.decimals)
                            ),
                        }
                    };
                    format!(
                        "{} {}{value}{change}",
                        series.label,
                        if d.currency.is_empty() {
                            String::new()
                        } else {
                            format!("{} ", d.currency)
                        }
                    )
                })
                .collect();
            entries.push(feeds::FeedEntry {
                title: format!(
                    "{} from {}: {}",
                    d.title,
                    pages::human_date(rows[i].date),
                    parts.join(", ")
                ),
                url: format!("{}#d-{}", pages::dataset_url(&d.slug), rows[i].date),
                date: rows[i].date,
                updated: rows[i].date,
                content: format!("<p>{}</p>", parts.join("<br>")),
                categories: vec!["prices".into()],
            });
        }
    }
    entries.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.url.cmp(&b.url)));
    feeds::atom(config, &entries)
}

fn sitemap(inputs: &Inputs, tags: &BTreeMap<String, (String, Vec<usize>)>) -> String {
    let newest_note = inputs.notes.first().map(|n| n.updated.unwrap_or(n.date));
    let newest_data = inputs.datasets.iter().map(|d| d.last_date()).max();
    let mut urls: Vec<(String, Option<chrono::NaiveDate>)> = vec![
        ("/".into(), newest_note.max(newest_data)),
        ("/notes/".into(), newest_note),
        ("/tags/".into(), newest_note),
    ];
    urls.extend(
        inputs
            .datasets
            .iter()
            .map(|d| (pages::dataset_url(&d.slug), Some(d.last_date()))),
    );
    urls.extend(
        inputs
            .notes
            .iter()
            .map(|n| (pages::note_url(&n.slug), Some(n.updated.unwrap_or(n.date)))),
    );
    urls.extend(tags.values().map(|(name, idx)| {
        (
            pages::tag_url(name),
            idx.first().map(|&i| inputs.notes[i].date),
        )
    }));
    feeds::sitemap(&inputs.config.base_url, &urls)
}

/// Loads, renders into a staged folder and swaps it in for `out`. On any error the
/// staged folder is removed and `out` is untouched.
pub(crate) fn build(options: &BuildOptions, out: &Path) -> Result<Summary> {
    let started = Instant::now();
    let inputs = load(options)?;
    let staged = StagedSite::create(out)?;
    let mut summary = render(&inputs, &staged)?;
    summary.reused = staged
        .stats
        .reused
        .load(std::sync::atomic::Ordering::Relaxed);
    staged.commit()?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Everything `build` does except writing, plus a check that every internal link and
/// asset reference resolves.
pub(crate) fn check(options: &BuildOptions) -> Result<Summary> {
    let started = Instant::now();
    let inputs = load(options)?;
    let sink = links::CollectingSink::default();
    let mut summary = render(&inputs, &sink)?;
    sink.check_links_with_base(&inputs.config.base_url)?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}
