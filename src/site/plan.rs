//! The output plan: every file the build will write, the job that makes it and the
//! input that asks for it, computed from the inputs alone before anything is rendered.
//! Two jobs for one path are refused with an error naming both sources (the idea of
//! Zola's `find_path_collisions`), and so is a name the file system cannot hold. The
//! site's own files (pages, feeds, the legacy API) are planned first, so a dataset or
//! note can never take their paths.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::figures;
use super::keys;
use super::load::Inputs;
use super::pages::{self, ChartRef, ChartViewRef};
use super::share;
use crate::chart::ChartSize;
use crate::data::Dataset;
use crate::error::{Error, Result};

/// What makes one output file.
pub(crate) enum Job<'a> {
    /// A file from `static/`, as it is.
    Static(&'a [u8]),
    /// One chart: the period it shows, its size and its reuse key (the dataset, the
    /// events drawn on it and the program).
    Chart(&'a Dataset, ChartView, ChartSize, u128),
    /// A chart a note's shortcode asks for, by index into `Inputs::note_charts`.
    NoteChart(usize, ChartSize),
    /// One variant of a note's image: by index into `Inputs::note_images`, then into
    /// its variants.
    NoteImage(usize, usize),
    /// A note's page, by index into `Inputs::notes` (newest first).
    Note(usize),
    /// A tag's page: index into `Plan::tags`, and the page number (from 1).
    Tag(usize, usize),
    /// A tag's Atom feed, by index into `Plan::tags`.
    TagFeed(usize),
    /// A redirect page at one of a note's old addresses, by the note's index.
    Alias(usize),
    /// The list of redirects the server answers with 301.
    Redirects,
    Home,
    /// A page of the notes index, numbered from 1.
    NotesIndex(usize),
    /// A page of the tags index, numbered from 1.
    TagsIndex(usize),
    /// A page of the prices index (a card per dataset), numbered from 1.
    PricesIndex(usize),
    NotFound,
    Feed,
    /// `sitemap.xml`: the sitemap, or the index of its parts when there are several.
    Sitemap,
    /// One part of a sitemap too large for one file, numbered from 1.
    SitemapPart(usize),
    Robots,
    Dataset(&'a Dataset),
    /// One page of a year of a dataset's rows.
    DatasetYear(&'a Dataset, figures::YearPage),
    /// A dataset's own Atom feed of its newest decisions.
    DatasetFeed(&'a Dataset),
    Json(&'a Dataset),
    Csv(&'a Dataset),
    /// `api/prices.json`, the old app's endpoint, from the primary dataset.
    LegacyApi(&'a Dataset),
    /// A page's share image (PNG), by index into `Plan::share`.
    Share(usize),
}

/// One planned file: its path in the site and its job.
pub(crate) struct Output<'a> {
    pub(crate) path: String,
    pub(crate) job: Job<'a>,
    /// Named after its content, so it may be cached forever.
    pub(crate) fingerprinted: bool,
}

/// A tag: the spelling it was first written with, and its
/// notes, newest first.
pub(crate) struct Tag {
    pub(crate) name: String,
    pub(crate) notes: Vec<usize>,
}

pub(crate) struct Plan<'a> {
    pub(crate) outputs: Vec<Output<'a>>,
    /// Sorted by slug.
    pub(crate) tags: Vec<Tag>,
    /// `style.css` → `/static/style.3f9a1c2e.css`.
    pub(crate) assets: BTreeMap<String, String>,
    /// Dataset slug → its two charts.
    pub(crate) charts: BTreeMap<String, ChartRef>,
    /// Every page's share image, to draw.
    pub(crate) share: Vec<share::Planned>,
    /// Page path → what its `og:image` meta says.
    pub(crate) share_images: BTreeMap<String, share::ShareImage>,
    pub(crate) sitemap: Sitemap,
}

/// A page's address in the site (`/notes/x/`) and the date it last changed.
pub(crate) type SiteUrl = (String, Option<chrono::NaiveDate>);

/// Every page's address for the sitemap, and how they are split into files.
pub(crate) struct Sitemap {
    pub(crate) urls: Vec<SiteUrl>,
    /// Ranges of `urls`, one per file. With more than one, `sitemap.xml` is an index
    /// of the parts at [`sitemap_part_url`].
    pub(crate) parts: Vec<std::ops::Range<usize>>,
}

impl Sitemap {
    /// Each part's address and the newest change among its pages, for the index.
    pub(crate) fn index(&self) -> Vec<SiteUrl> {
        self.parts
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let newest = self.urls[r.clone()].iter().filter_map(|u| u.1).max();
                (sitemap_part_url(i + 1), newest)
            })
            .collect()
    }
}

/// The address of part `k` (from 1) of a split sitemap.
pub(crate) fn sitemap_part_url(k: usize) -> String {
    format!("/sitemaps/{k}.xml")
}

/// What one sitemap file may hold (sitemaps.org): 50,000 addresses and 50 MiB.
/// Search engines refuse a larger file whole, so a site past either is split, as Zola
/// splits past 30,000.
const SITEMAP_MAX_URLS: usize = 50_000;
const SITEMAP_MAX_BYTES: usize = 50 * 1024 * 1024;

/// `urls` cut into runs that each fit one sitemap file. A run's size is bounded from
/// above without rendering it: each entry's markup and date, plus its address with
/// every byte escaped as the longest entity (`&quot;`, 6 bytes).
fn split_sitemap(
    urls: &[SiteUrl],
    base_url: &str,
    max_urls: usize,
    max_bytes: usize,
) -> Vec<std::ops::Range<usize>> {
    const WRAPPER: usize = 160; // the XML declaration and the <urlset> tags
    const ENTRY: usize = 64; // <url><loc></loc><lastmod>YYYY-MM-DD</lastmod></url>\n
    let mut parts = Vec::new();
    let (mut start, mut bytes) = (0, WRAPPER);
    for (i, (path, _)) in urls.iter().enumerate() {
        let entry = ENTRY + 6 * (base_url.len() + path.len());
        if i > start && (i - start == max_urls || bytes + entry > max_bytes) {
            parts.push(start..i);
            (start, bytes) = (i, WRAPPER);
        }
        bytes += entry;
    }
    parts.push(start..urls.len());
    parts
}

impl Plan<'_> {
    /// The site paths of every fingerprinted file, sorted.
    pub(crate) fn fingerprinted(&self) -> Vec<String> {
        let mut paths: Vec<String> = self
            .outputs
            .iter()
            .filter(|o| o.fingerprinted)
            .map(|o| o.path.clone())
            .collect();
        paths.sort();
        paths
    }
}

/// Who asked for a path: the file to name in an error, and what it is.
struct Source {
    file: PathBuf,
    what: String,
}

/// Longest file name most file systems hold (NAME_MAX).
const NAME_MAX: usize = 255;
/// A compressible file gets `.gz` and `.br` siblings, 3 bytes longer.
const SIBLING_SUFFIX: usize = 3;

struct Planner<'a> {
    outputs: Vec<Output<'a>>,
    sources: Vec<Source>,
    taken: HashMap<String, usize>,
    errors: Vec<Error>,
}

impl<'a> Planner<'a> {
    fn add(&mut self, path: String, job: Job<'a>, fingerprinted: bool, source: Source) {
        if let Some(why) = too_long(&path) {
            self.errors.push(Error::in_file(
                &source.file,
                format!("{} would write {path}: {why}", source.what),
            ));
            return;
        }
        if let Some(&first) = self.taken.get(&path) {
            let other = &self.sources[first];
            self.errors.push(Error::in_file(
                &source.file,
                format!(
                    "{} would write {path}, which {} ({}) already writes; rename one of them",
                    source.what,
                    other.what,
                    other.file.display()
                ),
            ));
            return;
        }
        self.taken.insert(path.clone(), self.outputs.len());
        self.sources.push(source);
        self.outputs.push(Output {
            path,
            job,
            fingerprinted,
        });
    }
}

fn too_long(path: &str) -> Option<String> {
    let mut parts = path.split('/').peekable();
    while let Some(part) = parts.next() {
        let limit = if parts.peek().is_none() {
            NAME_MAX - SIBLING_SUFFIX
        } else {
            NAME_MAX
        };
        if part.len() > limit {
            return Some(format!(
                "a name of {} bytes, over the {limit} a file system allows",
                part.len()
            ));
        }
    }
    None
}

fn source(file: impl AsRef<Path>, what: impl Into<String>) -> Source {
    Source {
        file: file.as_ref().to_path_buf(),
        what: what.into(),
    }
}

/// Every output of the site, from the inputs alone.
pub(crate) fn plan(inputs: &Inputs) -> Result<Plan<'_>> {
    let config = &inputs.config;
    let mut p = Planner {
        outputs: Vec::new(),
        sources: Vec::new(),
        taken: HashMap::new(),
        errors: Vec::new(),
    };
    let template = |name: &str| PathBuf::from("templates").join(name);

    // 1. The site's own files: reserved before any dataset or note is planned.
    for (path, job, file, what) in [
        (
            "index.html",
            Job::Home,
            template("index.html"),
            "the home page",
        ),
        (
            "notes/index.html",
            Job::NotesIndex(1),
            template("notes.html"),
            "the notes index",
        ),
        (
            "tags/index.html",
            Job::TagsIndex(1),
            template("tags.html"),
            "the tags index",
        ),
        (
            "prices/index.html",
            Job::PricesIndex(1),
            template("prices.html"),
            "the prices index",
        ),
        (
            "404.html",
            Job::NotFound,
            template("404.html"),
            "the 404 page",
        ),
        (
            "feed.xml",
            Job::Feed,
            PathBuf::from("site.toml"),
            "the Atom feed",
        ),
        (
            "sitemap.xml",
            Job::Sitemap,
            PathBuf::from("site.toml"),
            "the sitemap",
        ),
        (
            "robots.txt",
            Job::Robots,
            PathBuf::from("site.toml"),
            "robots.txt",
        ),
    ] {
        p.add(path.into(), job, false, source(file, what));
    }
    if let Some(d) = inputs
        .datasets
        .iter()
        .find(|d| d.slug == config.primary_dataset)
    {
        p.add(
            "api/prices.json".into(),
            Job::LegacyApi(d),
            false,
            source(
                "site.toml",
                format!(
                    "the old app's endpoint (primary_dataset = {:?})",
                    config.primary_dataset
                ),
            ),
        );
    }

    // 2. Assets, named after their content.
    let mut assets = BTreeMap::new();
    for (rel, bytes) in &inputs.statics {
        let file = PathBuf::from("static").join(rel);
        let named = fingerprint(rel, bytes);
        p.add(
            format!("static/{named}"),
            Job::Static(bytes),
            true,
            source(&file, "a static file"),
        );
        assets.insert(rel.clone(), format!("/static/{named}"));
        // Browsers ask for /favicon.ico, and iOS for /apple-touch-icon.png, by name.
        if (rel.starts_with("favicon.") || rel == "apple-touch-icon.png") && !rel.contains('/') {
            p.add(
                rel.clone(),
                Job::Static(bytes),
                false,
                source(&file, "the favicon"),
            );
        }
    }

    // 3. Per dataset: its page, charts, JSON and CSV. Charts are named after a hash of
    // their inputs (and the program), so their names are known before they are drawn.
    let mut charts = BTreeMap::new();
    for d in &inputs.datasets {
        let file = &d.table.path;
        let mut chart = |view: ChartView, size, suffix: &str| {
            let name = format!("{}{suffix}", view.suffix());
            let key = keys::chart_key(d, &format!("chart{name}"), &inputs.events);
            let path = format!("charts/{}{name}.{}.svg", d.slug, keys::short_hex(key));
            p.add(
                path.clone(),
                Job::Chart(d, view, size, key),
                true,
                source(file, "a dataset's chart"),
            );
            format!("/{path}")
        };
        let views: Vec<ChartViewRef> = ChartView::of(d)
            .into_iter()
            .map(|view| ChartViewRef {
                id: view.id(),
                label: view.label(d),
                wide: chart(view, ChartSize::Wide, ""),
                narrow: chart(view, ChartSize::Narrow, "-narrow"),
                alt: chart_text(d, view).1,
            })
            .collect();
        charts.insert(
            d.slug.clone(),
            ChartRef {
                wide: views[0].wide.clone(),
                narrow: views[0].narrow.clone(),
                alt: views[0].alt.clone(),
                views,
            },
        );
        for (path, job, what) in [
            (
                pages::output_path(&pages::dataset_url(&d.slug)),
                Job::Dataset(d),
                "a dataset's page",
            ),
            (
                pages::dataset_feed_url(&d.slug)[1..].to_string(),
                Job::DatasetFeed(d),
                "a dataset's feed",
            ),
            (
                pages::json_url(&d.slug)[1..].to_string(),
                Job::Json(d),
                "a dataset's JSON",
            ),
            (
                pages::csv_url(&d.slug)[1..].to_string(),
                Job::Csv(d),
                "a dataset's CSV",
            ),
        ] {
            p.add(path, job, false, source(file, what));
        }
        for page in figures::year_pages(d) {
            let what = match page.count {
                1 => format!("the page of {}", page.year),
                n => format!("page {} of {n} of {}", page.number, page.year),
            };
            p.add(
                pages::output_path(&pages::year_page_url(&d.slug, &page)),
                Job::DatasetYear(d, page),
                false,
                source(file, what),
            );
        }
        let compare = config
            .datasets
            .get(&d.slug)
            .and_then(|m| m.compare.as_ref());
        if let Some(other) = compare {
            if other == &d.slug || !inputs.datasets.iter().any(|o| &o.slug == other) {
                p.errors.push(Error::in_file(
                    Path::new("site.toml"),
                    format!(
                        "datasets.{}.compare = {other:?}: want the name of another dataset in data/",
                        d.slug
                    ),
                ));
            }
        }
    }

    // Charts the notes' shortcodes ask for, named after their inputs like the above.
    for (i, chart) in inputs.note_charts.iter().enumerate() {
        for size in [ChartSize::Wide, ChartSize::Narrow] {
            p.add(
                chart.file(size).0.clone(),
                Job::NoteChart(i, size),
                true,
                source(
                    &inputs.datasets[chart.dataset].table.path,
                    "a chart in a note",
                ),
            );
        }
    }

    // Images beside the folder notes: each variant named after its key.
    for (i, image) in inputs.note_images.iter().enumerate() {
        for (v, variant) in image.variants.iter().enumerate() {
            p.add(
                variant.path.clone(),
                Job::NoteImage(i, v),
                true,
                source(&image.note, format!("the image {}", image.file.display())),
            );
        }
    }

    // 4. Notes and tags. A note's tags are already one per slug, so each tag lists a
    // note once; building the lists is linear in the number of (note, tag) pairs.
    for (i, note) in inputs.notes.iter().enumerate() {
        p.add(
            pages::output_path(&pages::note_url(&note.slug)),
            Job::Note(i),
            false,
            source(&note.path, "a note"),
        );
    }
    let mut by_slug: BTreeMap<String, Tag> = BTreeMap::new();
    for (i, note) in inputs.notes.iter().enumerate() {
        for name in &note.tags {
            let slug = crate::slug::slugify(name);
            by_slug
                .entry(slug)
                .or_insert_with(|| Tag {
                    name: name.clone(),
                    notes: Vec::new(),
                })
                .notes
                .push(i);
        }
    }
    let tags: Vec<Tag> = by_slug.into_values().collect();
    plan_lists(&mut p, inputs, &tags);
    let urls = site_urls(inputs, &tags);
    let parts = split_sitemap(&urls, &config.base_url, SITEMAP_MAX_URLS, SITEMAP_MAX_BYTES);
    if parts.len() > 1 {
        for k in 1..=parts.len() {
            p.add(
                sitemap_part_url(k)[1..].to_string(),
                Job::SitemapPart(k),
                false,
                source(
                    "site.toml",
                    format!("part {k} of the sitemap ({} addresses)", urls.len()),
                ),
            );
        }
    }
    let sitemap = Sitemap { urls, parts };
    plan_aliases(&mut p, inputs);

    // 5. Share images for link previews, named after their cards.
    let share = share::plan(inputs);
    let mut share_images = BTreeMap::new();
    for (i, planned) in share.iter().enumerate() {
        p.add(
            planned.path.clone(),
            Job::Share(i),
            true,
            source("site.toml", format!("the share image of {}", planned.page)),
        );
        share_images.insert(planned.page.clone(), planned.image.clone());
    }

    Error::collect(p.errors)?;
    Ok(Plan {
        outputs: p.outputs,
        tags,
        assets,
        charts,
        share,
        share_images,
        sitemap,
    })
}

/// Every page of the site with its last change, for the sitemap.
fn site_urls(inputs: &Inputs, tags: &[Tag]) -> Vec<SiteUrl> {
    let newest_note = inputs
        .notes
        .iter()
        .map(|n| n.updated.unwrap_or(n.date))
        .max();
    let newest_data = inputs.datasets.iter().map(|d| d.last_date()).max();
    let mut urls: Vec<SiteUrl> = vec![
        ("/".into(), newest_note.max(newest_data)),
        ("/notes/".into(), newest_note),
        ("/tags/".into(), newest_note),
    ];
    // The same pages as `plan_lists` plans and `jobs` fills.
    let per_page = pages::DATASETS_PER_PAGE;
    for k in 1..=pages::page_count(inputs.datasets.len(), per_page) {
        let on_page = pages::page_slice(&inputs.datasets, per_page, k);
        let newest = on_page.iter().map(|d| d.last_date()).max();
        urls.push((pages::prices_page_url(k), newest));
    }
    urls.extend(
        inputs
            .datasets
            .iter()
            .map(|d| (pages::dataset_url(&d.slug), Some(d.last_date()))),
    );
    for d in &inputs.datasets {
        let dates = &d.table.dates;
        urls.extend(figures::year_pages(d).into_iter().map(|p| {
            (
                pages::year_page_url(&d.slug, &p),
                Some(dates[p.rows.end - 1]),
            )
        }));
    }
    urls.extend(
        inputs
            .notes
            .iter()
            .map(|n| (pages::note_url(&n.slug), Some(n.updated.unwrap_or(n.date)))),
    );
    // Every page of the notes index and of each tag, each with its newest change.
    let per_page = inputs.config.notes_per_page;
    let newest = |ids: &mut dyn Iterator<Item = usize>| {
        ids.map(|i| {
            let n = &inputs.notes[i];
            n.updated.unwrap_or(n.date)
        })
        .max()
    };
    let all: Vec<usize> = (0..inputs.notes.len()).collect();
    for k in 2..=pages::page_count(all.len(), per_page) {
        let on_page = pages::page_slice(&all, per_page, k);
        urls.push((
            pages::notes_page_url(k),
            newest(&mut on_page.iter().copied()),
        ));
    }
    for k in 2..=pages::page_count(tags.len(), pages::TAGS_PER_PAGE) {
        urls.push((pages::tags_page_url(k), newest_note));
    }
    for t in tags {
        for k in 1..=pages::page_count(t.notes.len(), per_page) {
            let on_page = pages::page_slice(&t.notes, per_page, k);
            urls.push((
                pages::tag_page_url(&t.name, k),
                newest(&mut on_page.iter().copied()),
            ));
        }
    }
    urls
}

/// The notes, prices and tags indexes' later pages, and each tag's pages and feed:
/// `/notes/page/2/`…, `/prices/page/2/`…, `/tags/page/2/`…, `/tags/<slug>/`,
/// `/tags/<slug>/page/2/`…, `/tags/<slug>/feed.xml`.
fn plan_lists<'a>(p: &mut Planner<'a>, inputs: &'a Inputs, tags: &[Tag]) {
    let per_page = inputs.config.notes_per_page;
    let later_pages = |p: &mut Planner<'a>,
                       count: usize,
                       url: fn(usize) -> String,
                       job: fn(usize) -> Job<'a>,
                       template: &str,
                       index: &str| {
        for k in 2..=count {
            p.add(
                pages::output_path(&url(k)),
                job(k),
                false,
                source(
                    PathBuf::from("templates").join(template),
                    format!("page {k} of {index}"),
                ),
            );
        }
    };
    later_pages(
        p,
        pages::page_count(inputs.notes.len(), per_page),
        pages::notes_page_url,
        Job::NotesIndex,
        "notes.html",
        "the notes index",
    );
    later_pages(
        p,
        pages::page_count(inputs.datasets.len(), pages::DATASETS_PER_PAGE),
        pages::prices_page_url,
        Job::PricesIndex,
        "prices.html",
        "the prices index",
    );
    later_pages(
        p,
        pages::page_count(tags.len(), pages::TAGS_PER_PAGE),
        pages::tags_page_url,
        Job::TagsIndex,
        "tags.html",
        "the tags index",
    );
    for (t, tag) in tags.iter().enumerate() {
        let first = &inputs.notes[tag.notes[0]];
        for k in 1..=pages::page_count(tag.notes.len(), per_page) {
            p.add(
                pages::output_path(&pages::tag_page_url(&tag.name, k)),
                Job::Tag(t, k),
                false,
                source(&first.path, format!("the tag {:?}", tag.name)),
            );
        }
        p.add(
            pages::tag_feed_url(&tag.name)[1..].to_string(),
            Job::TagFeed(t),
            false,
            source(&first.path, format!("the feed of the tag {:?}", tag.name)),
        );
    }
}

/// Aliases a site may have in all (a note may have `notes::MAX_ALIASES`): well under
/// what `serve` accepts in its redirect list.
pub(crate) const MAX_ALIASES_IN_ALL: usize = 5_000;

/// Folders whose names are fingerprinted or generated: an alias there could be taken
/// by a future build's file (`/tags/page/3/` once the site has 401 tags).
const ALIAS_RESERVED: [&str; 7] = [
    "/static/",
    "/charts/",
    "/share/",
    "/api/",
    "/sitemaps/",
    "/notes/page/",
    "/tags/page/",
];

/// A redirect page at each note's old address (planned after every page and feed, so
/// a clash names the note), and the list the server reads to answer them with 301.
fn plan_aliases<'a>(p: &mut Planner<'a>, inputs: &'a Inputs) {
    let total: usize = inputs.notes.iter().map(|n| n.aliases.len()).sum();
    if total > MAX_ALIASES_IN_ALL {
        p.errors.push(Error::in_file(
            Path::new("content/notes"),
            format!("the notes have {total} aliases in all: at most {MAX_ALIASES_IN_ALL} are allowed (each is a page and a line the server keeps in memory)"),
        ));
        return;
    }
    let mut any = false;
    // Folders the site's files are in: an alias may not be a file where one of them
    // is, nor a folder where a file is (`/robots.txt/`).
    let mut folders: std::collections::HashSet<String> = std::collections::HashSet::new();
    for o in &p.outputs {
        let mut path = o.path.as_str();
        while let Some((parent, _)) = path.rsplit_once('/') {
            if !folders.insert(parent.to_string()) {
                break;
            }
            path = parent;
        }
    }
    for (i, note) in inputs.notes.iter().enumerate() {
        for alias in &note.aliases {
            if let Some(prefix) = ALIAS_RESERVED.iter().find(|r| alias.path.starts_with(**r)) {
                p.errors.push(Error::at(
                    &note.path,
                    alias.line,
                    format!(
                        "alias {:?} is under {prefix}, which the site's own files use",
                        alias.path
                    ),
                ));
                continue;
            }
            let path = if alias.path.ends_with('/') {
                pages::output_path(&alias.path)
            } else {
                alias.path[1..].to_string()
            };
            let file_in_the_way =
                std::iter::successors(path.rsplit_once('/'), |(parent, _)| parent.rsplit_once('/'))
                    .map(|(parent, _)| parent)
                    .find(|parent| p.taken.contains_key(*parent));
            if folders.contains(&path) || file_in_the_way.is_some() {
                p.errors.push(Error::at(
                    &note.path,
                    alias.line,
                    format!(
                        "alias {:?} would put a page where the site has {}",
                        alias.path,
                        match file_in_the_way {
                            Some(file) => format!("the file /{file}"),
                            None => format!("the folder /{path}/"),
                        }
                    ),
                ));
                continue;
            }
            p.add(
                path,
                Job::Alias(i),
                false,
                source(
                    &note.path,
                    format!("the alias {:?} of the note {:?}", alias.path, note.slug),
                ),
            );
            any = true;
        }
    }
    if any {
        p.add(
            super::aliases::REDIRECT_LIST.into(),
            Job::Redirects,
            false,
            source("content/notes", "the list of redirects"),
        );
    }
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

/// The period a chart shows. Recent windows end at the last decision, not at "now",
/// so a build's output depends on its inputs alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ChartView {
    All,
    FiveYears,
    Year,
}

impl ChartView {
    /// The views worth drawing for `d`: a recent window only when the data is longer.
    pub(crate) fn of(d: &Dataset) -> Vec<ChartView> {
        let mut views = vec![ChartView::All];
        for view in [ChartView::FiveYears, ChartView::Year] {
            if view.start(d) > d.first_date() {
                views.push(view);
            }
        }
        views
    }
    pub(crate) fn id(self) -> &'static str {
        match self {
            ChartView::All => "all",
            ChartView::FiveYears => "5y",
            ChartView::Year => "1y",
        }
    }
    fn suffix(self) -> &'static str {
        match self {
            ChartView::All => "",
            ChartView::FiveYears => "-5y",
            ChartView::Year => "-1y",
        }
    }
    fn label(self, d: &Dataset) -> String {
        match self {
            ChartView::All => format!("Since {}", d.first_date().format("%Y")),
            ChartView::FiveYears => "5 years".into(),
            ChartView::Year => "12 months".into(),
        }
    }
    /// The first day shown.
    pub(crate) fn start(self, d: &Dataset) -> chrono::NaiveDate {
        let months = match self {
            ChartView::All => return d.first_date(),
            ChartView::FiveYears => 60,
            ChartView::Year => 12,
        };
        d.last_date()
            .checked_sub_months(chrono::Months::new(months))
            .unwrap_or(d.first_date())
    }
}

/// A chart's title and its text alternative: what it shows and where it ends.
pub(crate) fn chart_text(d: &Dataset, view: ChartView) -> (String, String) {
    let start = view.start(d);
    let style = figures::DateStyle::of(d);
    let last = d.table.len() - 1;
    let latest: Vec<String> = d
        .series
        .iter()
        .zip(&d.table.values)
        .map(|(s, column)| {
            let v = column[last];
            format!(
                "{} {}{}",
                s.label,
                if d.currency.is_empty() {
                    String::new()
                } else {
                    format!("{} ", d.currency)
                },
                v.format(s.decimals)
            )
        })
        .collect();
    let names: Vec<&str> = d.series.iter().map(|s| s.label.as_str()).collect();
    let unit = if d.unit.is_empty() {
        String::new()
    } else {
        format!(" in {}", d.unit)
    };
    let shown = d.table.len() - d.table.dates.partition_point(|r| *r < start);
    let title = match view {
        ChartView::All => format!(
            "{}, {} to {}",
            d.title,
            d.first_date().format("%Y"),
            d.last_date().format("%Y")
        ),
        _ => format!(
            "{}, {}: {} to {}",
            d.title,
            view.label(d).to_lowercase(),
            style.long(start),
            style.long(d.last_date())
        ),
    };
    (
        title,
        format!(
            "Step chart of {}{unit}, {} decisions from {} to {}. Latest, from {}: {}.",
            names.join(" and "),
            shown,
            style.long(start),
            style.long(d.last_date()),
            style.long(d.last_date()),
            latest.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(n: usize, path_len: usize) -> Vec<SiteUrl> {
        (0..n)
            .map(|i| (format!("/{i:0path_len$}/"), None))
            .collect()
    }

    #[test]
    fn a_sitemap_is_split_at_the_protocols_count_of_addresses() {
        let split = |n| {
            split_sitemap(
                &urls(n, 6),
                "https://x.example",
                SITEMAP_MAX_URLS,
                SITEMAP_MAX_BYTES,
            )
        };
        assert_eq!(split(0), vec![0..0]);
        assert_eq!(split(50_000), vec![0..50_000]);
        assert_eq!(split(50_001), [0..50_000, 50_000..50_001]);
        assert_eq!(
            split(120_000),
            [0..50_000, 50_000..100_000, 100_000..120_000]
        );
    }

    #[test]
    fn a_sitemap_is_split_before_a_file_would_pass_its_size() {
        // Entries of 64 + 6 × (10 + 12) = 196 bytes at most: ten fit in 2,120 bytes
        // with the 160 of the wrapper, not eleven.
        let parts = split_sitemap(&urls(25, 10), "https://x.", 1_000, 2_120);
        assert_eq!(parts, [0..10, 10..20, 20..25]);
        // The bound is an upper one: every part, rendered, is within it.
        for r in parts {
            assert!(super::super::feeds::sitemap("https://x.", &urls(25, 10)[r]).len() <= 2_120);
        }
        // An address too long for any file on its own still gets a part of its own
        // rather than none.
        assert_eq!(
            split_sitemap(&urls(2, 10), "https://x.", 10, 100),
            [0..1, 1..2]
        );
    }
}
