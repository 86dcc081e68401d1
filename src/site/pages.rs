//! Model → HTML pages. Each page is a pure function of the loaded inputs: a Tera
//! context is built from the model and rendered with the site's templates.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;
use tera::{Context, Tera};

use super::figures::{self, DateStyle};
use super::share::ShareImage;
use crate::config::SiteConfig;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::markup::escape_markup as esc;
use crate::notes::Note;
use crate::price::{Change, Direction, Price};

pub(crate) fn note_url(slug: &str) -> String {
    format!("/notes/{slug}/")
}
pub(crate) fn tag_url(tag: &str) -> String {
    format!("/tags/{}/", crate::slug::slugify(tag))
}
pub(crate) fn dataset_url(slug: &str) -> String {
    format!("/prices/{slug}/")
}
/// A year's page of a dataset's rows: `/prices/<slug>/<year>/`.
pub(crate) fn year_url(slug: &str, year: i32) -> String {
    format!("/prices/{slug}/{year}/")
}
/// A dataset's own Atom feed of its decisions.
pub(crate) fn dataset_feed_url(slug: &str) -> String {
    format!("/prices/{slug}/feed.xml")
}
/// A page of a year's rows: the year's page for its first, then
/// `/prices/<slug>/<year>/page/2/`… (see [`figures::YearPage`]).
pub(crate) fn year_page_url(slug: &str, page: &figures::YearPage) -> String {
    match page.number {
        1 => year_url(slug, page.year),
        n => format!("/prices/{slug}/{}/page/{n}/", page.year),
    }
}
/// Where row `i` of `d` lives: the year page that shows it, at its anchor.
pub(crate) fn row_url(d: &Dataset, i: usize) -> String {
    let page = figures::year_page_of(d, i);
    format!("{}#d-{}", year_page_url(&d.slug, &page), d.table.dates[i])
}
pub(crate) fn csv_url(slug: &str) -> String {
    format!("/data/{slug}.csv")
}
pub(crate) fn json_url(slug: &str) -> String {
    format!("/api/{slug}.json")
}
// ---- Pagination of the notes index and tag pages. ----

/// Page `k` (from 1) of the notes index: `/notes/`, then `/notes/page/2/`….
pub(crate) fn notes_page_url(k: usize) -> String {
    match k {
        0 | 1 => "/notes/".to_string(),
        k => format!("/notes/page/{k}/"),
    }
}
/// Page `k` of a tag: `/tags/<slug>/`, then `/tags/<slug>/page/2/`….
pub(crate) fn tag_page_url(tag: &str, k: usize) -> String {
    match k {
        0 | 1 => tag_url(tag),
        k => format!("{}page/{k}/", tag_url(tag)),
    }
}
/// A tag's own Atom feed.
pub(crate) fn tag_feed_url(tag: &str) -> String {
    format!("{}feed.xml", tag_url(tag))
}
/// Page `k` (from 1) of the prices index: `/prices/`, then `/prices/page/2/`….
pub(crate) fn prices_page_url(k: usize) -> String {
    match k {
        0 | 1 => "/prices/".to_string(),
        k => format!("/prices/page/{k}/"),
    }
}
/// Datasets a page of the prices index shows, a card each: at most a few KB a card
/// (see [`HOME_CARD_SERIES`]), so a page stays well under 1 MB however many
/// datasets there are.
pub(crate) const DATASETS_PER_PAGE: usize = 24;
/// Page `k` (from 1) of the tags index: `/tags/`, then `/tags/page/2/`….
pub(crate) fn tags_page_url(k: usize) -> String {
    match k {
        0 | 1 => "/tags/".to_string(),
        k => format!("/tags/page/{k}/"),
    }
}
/// Tags a page of the tags index lists, in slug order: about 20 KB of HTML, so the
/// index stays small however many tags the notes use.
pub(crate) const TAGS_PER_PAGE: usize = 200;
/// Tags the first page of the notes index shows, the most used, with a link to the
/// tags index when there are more: a site with thousands of tags would otherwise
/// list them all on its notes index.
pub(crate) const NOTES_INDEX_TAGS: usize = 40;

/// Pages needed for `items` at `per_page` a page; an empty list still has its page.
pub(crate) fn page_count(items: usize, per_page: usize) -> usize {
    items.div_ceil(per_page.max(1)).max(1)
}
/// The items on page `k` (from 1).
pub(crate) fn page_slice<T>(items: &[T], per_page: usize, k: usize) -> &[T] {
    let start = (k - 1).saturating_mul(per_page).min(items.len());
    &items[start..(start + per_page).min(items.len())]
}

/// Where a page of a list sits among its pages: newer (`rel="prev"`) and older
/// (`rel="next"`) neighbours.
#[derive(Serialize, Hash)]
pub(crate) struct Pager {
    current: usize,
    total: usize,
    newer: Option<String>,
    older: Option<String>,
}

impl Pager {
    /// A list page's title and description: the first page's as given, a later one's
    /// with where it is ("Tags, page 2 of 3"; "… Page 2 of 3.").
    fn titled(&self, title: String, description: String) -> (String, String) {
        match self.current {
            1 => (title, description),
            k => (
                format!("{title}, page {k} of {}", self.total),
                format!("{description} Page {k} of {}.", self.total),
            ),
        }
    }
}

pub(crate) fn pager(k: usize, total: usize, url: impl Fn(usize) -> String) -> Pager {
    Pager {
        current: k,
        total,
        newer: (k > 1).then(|| url(k - 1)),
        older: (k < total).then(|| url(k + 1)),
    }
}

/// The output file for a clean URL: `/notes/x/` → `notes/x/index.html`.
pub(crate) fn output_path(url: &str) -> String {
    format!("{}index.html", url.trim_start_matches('/'))
}

/// Year groups shown on a dataset's own page; older years have their own pages.
pub(crate) const LATEST_YEARS: usize = 3;
/// Values a dataset page's year tables may show: three full years of two daily
/// series (2 × 366 × 3 = 2,196) fit, at roughly 80 bytes a value.
const PAGE_CELLS: usize = 2_400;
/// Year links a dataset page lists (newest first); older years are reached through
/// each year page's "earlier" link, so the page stays small for any span of dates.
const YEAR_LINKS: usize = 120;
/// Tables with more series than this scroll sideways instead of fitting a phone (which
/// costs the sticky header: a scrolling box is what `sticky` sticks to).
const FITTING_SERIES: usize = 3;

/// Stands in for the decision rows while the dataset template renders.
const ROWS_MARKER: &str = "\u{1}petrol-watch:decision-rows\u{1}";

pub(crate) fn human_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

#[derive(Serialize)]
struct SiteContext<'a> {
    title: &'a str,
    description: &'a str,
    base_url: &'a str,
    language: &'a str,
    author: &'a str,
}

#[derive(Serialize)]
struct NavItem {
    title: String,
    url: String,
}

#[derive(Serialize)]
struct PageContext<'a> {
    title: &'a str,
    description: &'a str,
    /// Site path, e.g. `/notes/x/`.
    path: &'a str,
    canonical: String,
    /// `website` or `article`, for OpenGraph.
    og_type: &'a str,
    /// The link preview image, when the page has one.
    share: Option<&'a ShareImage>,
}

/// A chart's two renderings and its text alternative; `views` holds every period
/// drawn (the full history first, then recent windows), each with the same fields.
#[derive(Serialize, Clone, Debug, Hash)]
pub(crate) struct ChartRef {
    pub(crate) wide: String,
    pub(crate) narrow: String,
    pub(crate) alt: String,
    pub(crate) views: Vec<ChartViewRef>,
}

/// One period of a chart: `id` names it in the page (`all`, `5y`, `1y`), `label` is the
/// tab's text.
#[derive(Serialize, Clone, Debug, Hash)]
pub(crate) struct ChartViewRef {
    pub(crate) id: &'static str,
    pub(crate) label: String,
    pub(crate) wide: String,
    pub(crate) narrow: String,
    pub(crate) alt: String,
}

#[derive(Serialize)]
pub(crate) struct ChangeContext {
    pub(crate) direction: &'static str,
    /// `+5.80`, `−2.80`, `0.00`
    amount: String,
    /// `+9.9%`, or empty when the previous value was 0
    percent: String,
    /// Reads on its own: `up Rs 5.80 (+9.9%)`, `unchanged`.
    pub(crate) text: String,
}

pub(crate) fn change_context(
    change: Option<Change>,
    decimals: usize,
    currency: &str,
) -> ChangeContext {
    let Some(c) = change else {
        return ChangeContext {
            direction: "first",
            amount: String::new(),
            percent: String::new(),
            text: "first decision".into(),
        };
    };
    let t = c.text(decimals);
    let direction = t.direction.as_str();
    let money = if currency.is_empty() {
        t.magnitude.clone()
    } else {
        format!("{currency} {}", t.magnitude)
    };
    let text = match t.direction {
        Direction::Unchanged => "unchanged".to_string(),
        _ if t.percent.is_empty() => format!("{direction} {money}"),
        _ => format!("{direction} {money} ({})", t.percent),
    };
    ChangeContext {
        direction,
        amount: t.signed(),
        percent: t.percent,
        text,
    }
}

#[derive(Serialize)]
pub(crate) struct CardSeries {
    pub(crate) label: String,
    pub(crate) colour: String,
    pub(crate) value: String,
    pub(crate) change: ChangeContext,
}

#[derive(Serialize)]
pub(crate) struct DatasetCard {
    title: String,
    url: String,
    unit: String,
    pub(crate) currency: String,
    pub(crate) date: String,
    date_iso: String,
    row_noun: String,
    pub(crate) since: String,
    pub(crate) series: Vec<CardSeries>,
    /// Series left out of a home page card, which shows the first `HOME_CARD_SERIES`.
    more_series: usize,
}

/// Series a dataset's card shows on the home page, which has one card per dataset:
/// 40 datasets of 64 series made it 1.4 MB. Its own page shows every series.
const HOME_CARD_SERIES: usize = 8;

/// Datasets the menu on every page names, the first by order: the menu is on every
/// page, so naming all of them made the site's size grow with the square of the
/// number of datasets. With more, the menu links the prices index.
const NAV_DATASETS: usize = 12;

/// Datasets the home page shows a card for: the primary one, then the first others.
/// A card per dataset made the home page pass 1 MB at a few hundred datasets; with
/// more, the home page links the prices index, which has a card for each.
const HOME_DATASETS: usize = 12;

/// A dataset's card as lists show it: its first [`HOME_CARD_SERIES`] series, and how
/// many more its own page has.
fn listed_card(d: &Dataset) -> DatasetCard {
    let mut card = dataset_card(d);
    card.more_series = card.series.len().saturating_sub(HOME_CARD_SERIES);
    card.series.truncate(HOME_CARD_SERIES);
    card
}

/// "Mogas (petrol) Rs 70.65, Gas Oil (diesel) Rs 71.25, in force from 16 April 2026.":
/// the current values, for descriptions that link previews show.
/// A dataset of many series names its first `DESCRIBED_SERIES` and counts the rest:
/// the sentence is the page's description three times over (`description`,
/// `og:description`, `twitter:description`), which previews cut at a line or two.
fn prices_sentence(card: &DatasetCard) -> String {
    let values: Vec<String> = card
        .series
        .iter()
        .take(DESCRIBED_SERIES)
        .map(|s| match card.currency.as_str() {
            "" => format!("{} {}", s.label, s.value),
            c => format!("{} {c} {}", s.label, s.value),
        })
        .collect();
    let more = match card.series.len().saturating_sub(DESCRIBED_SERIES) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    format!(
        "{}{more}, {} {}.",
        values.join(", "),
        card.since.to_lowercase(),
        card.date
    )
}

const DESCRIBED_SERIES: usize = 4;

pub(crate) fn dataset_card(d: &Dataset) -> DatasetCard {
    let t = &d.table;
    let last = t.len() - 1;
    let previous = last.checked_sub(1);
    let last_date = t.dates[last];
    DatasetCard {
        title: d.title.clone(),
        url: dataset_url(&d.slug),
        unit: d.unit.clone(),
        currency: d.currency.clone(),
        date: DateStyle::of(d).long(last_date),
        date_iso: last_date.to_string(),
        row_noun: d.row_noun.clone(),
        since: d.date_label.clone(),
        series: d
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| CardSeries {
                label: s.label.clone(),
                colour: s.colour.clone(),
                value: t.value(last, i).format(s.decimals),
                change: change_context(
                    previous.map(|p| Change::between(t.value(p, i), t.value(last, i))),
                    s.decimals,
                    &d.currency,
                ),
            })
            .collect(),
        more_series: 0,
    }
}

/// What lists of notes show about each note.
#[derive(Serialize, Clone, Hash)]
pub(crate) struct NoteSummary {
    title: String,
    url: String,
    date: String,
    date_iso: String,
    summary: String,
    reading_minutes: usize,
    /// The first few tags: a note lists all its tags on its own page, but each tag
    /// page lists the note, so showing them all would make a note with n tags cost
    /// n² (4,000 tags: 16 million links).
    tags: Vec<TagLink>,
    /// How many tags are not shown.
    more_tags: usize,
}

/// Tags shown with a note in lists.
const SUMMARY_TAGS: usize = 12;
/// What lists show of one note, at most, in bytes as written into the page (escapes
/// counted): its title, its summary, and its tags' names and addresses together. A
/// list page holds up to 500 notes (`notes_per_page`), and with titles, descriptions
/// and tag names as long as a note may have, the notes index was 2.5 MB and a tag
/// page 3.1 MB; a note's own page still shows all of them in full.
pub(crate) const SUMMARY_TITLE_BYTES: usize = 250;
pub(crate) const SUMMARY_TEXT_BYTES: usize = 400;
const SUMMARY_TAG_BYTES: usize = 600;

/// The bytes `c` takes once HTML-escaped (Tera escapes `&<>"'/`).
fn escaped_len(c: char) -> usize {
    match c {
        '&' => 5,
        '<' | '>' => 4,
        '"' | '\'' | '/' => 6,
        c => c.len_utf8(),
    }
}

fn escaped_bytes(text: &str) -> usize {
    text.chars().map(escaped_len).sum()
}

/// `text` whole if it takes at most `max` escaped bytes, else cut at a word before
/// that (or mid-word when there is none) with an ellipsis.
pub(crate) fn clip(text: &str, max: usize) -> String {
    if escaped_bytes(text) <= max {
        return text.to_string();
    }
    let room = max.saturating_sub('…'.len_utf8());
    let mut used = 0;
    let end = text
        .char_indices()
        .find(|&(_, c)| {
            used += escaped_len(c);
            used > room
        })
        .map_or(text.len(), |(i, _)| i);
    let cut = &text[..end];
    let cut = match cut.rsplit_once(' ') {
        Some((head, _)) if head.len() * 2 > cut.len() => head,
        _ => cut,
    };
    format!("{}…", cut.trim_end_matches([',', '.', ';', ':', ' ']))
}

#[derive(Serialize, Clone, Hash)]
struct TagLink {
    name: String,
    url: String,
}

fn tag_links(tags: &[String]) -> Vec<TagLink> {
    tags.iter()
        .map(|t| TagLink {
            name: t.clone(),
            url: tag_url(t),
        })
        .collect()
}

/// What a note is about, for lists, feeds and its page's description: the
/// description, else the first paragraph cut at a word near 200 characters.
pub(crate) fn summary_of(note: &Note) -> String {
    if let Some(d) = &note.description {
        return d.clone();
    }
    let first_paragraph = crate::notes::first_paragraph(&note.body);
    let text = first_paragraph.trim();
    if text.chars().count() <= 220 {
        return text.to_string();
    }
    let cut: String = text.chars().take(200).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches([',', '.', ';', ':']))
}

pub(crate) fn note_summary(note: &Note, summary: String) -> NoteSummary {
    let mut budget = SUMMARY_TAG_BYTES;
    let shown = note
        .tags
        .iter()
        .take(SUMMARY_TAGS)
        .take_while(|t| {
            let cost = escaped_bytes(t) + tag_url(t).len();
            let fits = cost <= budget;
            budget = budget.saturating_sub(cost);
            fits
        })
        .count();
    NoteSummary {
        title: clip(&note.title, SUMMARY_TITLE_BYTES),
        url: note_url(&note.slug),
        date: human_date(note.date),
        date_iso: note.date.to_string(),
        summary: clip(&summary, SUMMARY_TEXT_BYTES),
        reading_minutes: note.reading_minutes(),
        tags: tag_links(&note.tags[..shown]),
        more_tags: note.tags.len() - shown,
    }
}

/// Renders every kind of page with the site's templates. Holds the context every page
/// shares (site, navigation, asset URLs), built once.
pub(crate) struct Renderer<'a> {
    tera: &'a Tera,
    config: &'a SiteConfig,
    base: Context,
    /// Link preview images by page path.
    share: &'a BTreeMap<String, ShareImage>,
}

impl<'a> Renderer<'a> {
    pub(crate) fn new(
        tera: &'a Tera,
        config: &'a SiteConfig,
        assets: &BTreeMap<String, String>,
        datasets: &[Dataset],
        share: &'a BTreeMap<String, ShareImage>,
    ) -> Self {
        let mut base = Context::new();
        base.insert(
            "site",
            &SiteContext {
                title: &config.title,
                description: &config.description,
                base_url: &config.base_url,
                language: &config.language,
                author: &config.author,
            },
        );
        base.insert("assets", assets);
        let nav: Vec<NavItem> = datasets
            .iter()
            .take(NAV_DATASETS)
            .map(|d| NavItem {
                title: d.title.clone(),
                url: dataset_url(&d.slug),
            })
            .collect();
        base.insert("datasets_nav", &nav);
        base.insert("nav_all_prices", &(datasets.len() > NAV_DATASETS));
        Renderer {
            tera,
            config,
            base,
            share,
        }
    }

    fn render(&self, template: &str, page: PageContext, mut ctx: Context) -> Result<String> {
        ctx.extend(self.base.clone());
        ctx.insert("page", &page);
        self.tera
            .render(template, &ctx)
            .map_err(|e| template_error(template, &e))
    }

    fn page<'p>(
        &self,
        title: &'p str,
        description: &'p str,
        path: &'p str,
        og_type: &'p str,
    ) -> PageContext<'p>
    where
        'a: 'p,
    {
        PageContext {
            title,
            description,
            path,
            canonical: format!("{}{}", self.config.base_url, path),
            og_type,
            share: self.share.get(path),
        }
    }

    pub(crate) fn note(
        &self,
        note: &Note,
        html: &str,
        summary: &str,
        newer: Option<&Note>,
        older: Option<&Note>,
        toc: &[crate::notes::TocEntry],
    ) -> Result<String> {
        let url = note_url(&note.slug);
        let mut ctx = Context::new();
        ctx.insert("toc", toc);
        ctx.insert(
            "jsonld",
            &super::jsonld::note_jsonld(self.config, note, summary),
        );
        ctx.insert(
            "note",
            &serde_json::json!({
                "title": note.title,
                "date": human_date(note.date),
                "date_iso": note.date.to_string(),
                "updated": note.updated.map(human_date),
                "updated_iso": note.updated.map(|d| d.to_string()),
                "reading_minutes": note.reading_minutes(),
                "words": note.words(),
                "tags": tag_links(&note.tags),
                "content": html,
                "draft": note.draft,
            }),
        );
        let link = |n: Option<&Note>| {
            n.map(|n| serde_json::json!({"title": n.title, "url": note_url(&n.slug)}))
        };
        ctx.insert("newer", &link(newer));
        ctx.insert("older", &link(older));
        self.render(
            "note.html",
            self.page(&note.title, summary, &url, "article"),
            ctx,
        )
    }

    pub(crate) fn home(
        &self,
        datasets: &[Dataset],
        charts: &BTreeMap<String, ChartRef>,
        latest: &[NoteSummary],
    ) -> Result<String> {
        let mut ctx = Context::new();
        let primary = datasets
            .iter()
            .find(|d| d.slug == self.config.primary_dataset)
            .or(datasets.first());
        // The primary dataset first, then the others in order.
        let cards: Vec<DatasetCard> = primary
            .into_iter()
            .chain(
                datasets
                    .iter()
                    .filter(|d| Some(d.slug.as_str()) != primary.map(|p| p.slug.as_str())),
            )
            .take(HOME_DATASETS)
            .map(listed_card)
            .collect();
        ctx.insert("cards", &cards);
        ctx.insert("datasets_total", &datasets.len());
        ctx.insert(
            "primary",
            &primary.map(|d| serde_json::json!({"title": d.title, "url": dataset_url(&d.slug)})),
        );
        ctx.insert("chart", &primary.and_then(|d| charts.get(&d.slug)));
        ctx.insert("notes", latest);
        let description = match primary {
            Some(d) => format!(
                "{} {}",
                prices_sentence(&dataset_card(d)),
                self.config.description
            ),
            None => self.config.description.clone(),
        };
        self.render(
            "index.html",
            self.page(&self.config.title, &description, "/", "website"),
            ctx,
        )
    }

    /// A dataset's page: now, key figures, the chart, the latest years' rows and links
    /// to every year's page. Its size does not grow with the number of rows: a year
    /// holds at most 366 rows, and only [`LATEST_YEARS`] of them are shown here.
    pub(crate) fn dataset(
        &self,
        d: &Dataset,
        chart: &ChartRef,
        compare: Option<&Dataset>,
    ) -> Result<String> {
        let url = dataset_url(&d.slug);
        let style = DateStyle::of(d);
        let about = d.description.clone().unwrap_or_else(|| {
            format!(
                "Every {} decision from {} to {}.",
                d.title,
                style.long(d.first_date()),
                style.long(d.last_date())
            )
        });
        let card = dataset_card(d);
        let description = format!("{} {about}", prices_sentence(&card));
        let mut ctx = Context::new();
        ctx.insert("dataset", &dataset_context(d, style));
        ctx.insert("card", &card);
        ctx.insert("chart", chart);
        let tank = self
            .config
            .datasets
            .get(&d.slug)
            .and_then(|m| m.tank_litres);
        ctx.insert("figures", &key_figures(d, style, tank));
        let meta = self.config.datasets.get(&d.slug);
        ctx.insert(
            "licence",
            &meta.and_then(|m| m.license.as_ref()).map(|name| {
                serde_json::json!({"name": name, "url": meta.and_then(|m| m.license_url.as_ref())})
            }),
        );
        ctx.insert(
            "jsonld",
            &super::jsonld::dataset_jsonld(self.config, meta, d, &about),
        );
        ctx.insert("tank_litres", &tank);
        ctx.insert("compare", &compare.and_then(|o| comparison(d, o)));
        let years = figures::years(d);
        // The newest year always; older ones while the page stays within its budget
        // (a dataset with many series shows fewer years here, never a bigger page).
        let mut shown = 0;
        let mut cells = 0;
        for (year, _) in years.iter().take(LATEST_YEARS) {
            let more = figures::first_year_page(d, *year).rows.len() * d.series.len();
            if shown > 0 && cells + more > PAGE_CELLS {
                break;
            }
            cells += more;
            shown += 1;
        }
        ctx.insert(
            "latest_years",
            &years[..shown].iter().map(|(y, _)| *y).collect::<Vec<_>>(),
        );
        ctx.insert("year_links", &year_links(d, &years));
        // The rows can be large: render the page around a marker and put them in once,
        // rather than copying them through Tera's context and output.
        ctx.insert("rows_html", ROWS_MARKER);
        let page = self.render(
            "dataset.html",
            self.page(&d.title, &description, &url, "website"),
            ctx,
        )?;
        Ok(splice_with(&page, |out| {
            for (i, (year, range)) in years[..shown].iter().enumerate() {
                year_group_html(out, d, style, *year, range.clone(), i == 0);
            }
        }))
    }

    /// One page of a year of a dataset's rows (a whole year, unless it has more rows
    /// than a page holds), with the year's summary and links to the pages around it.
    pub(crate) fn dataset_year(&self, d: &Dataset, page: &figures::YearPage) -> Result<String> {
        let style = DateStyle::of(d);
        let year = page.year;
        let year_rows = figures::year_rows(d, year);
        let url = year_page_url(&d.slug, page);
        let count = year_rows.len();
        let mut title = format!("{} in {year}", d.title);
        let mut description = format!(
            "{} {} of {} in {year}, with the change at each and the year's average, low and high.",
            count,
            plural(&d.row_noun, count),
            d.title
        );
        let part = (page.count > 1).then(|| {
            let _ = write!(title, ", page {} of {}", page.number, page.count);
            let _ = write!(description, " Page {} of {}.", page.number, page.count);
            serde_json::json!({"number": page.number, "count": page.count})
        });
        let mut ctx = Context::new();
        ctx.insert("dataset", &dataset_context(d, style));
        ctx.insert("year", &year);
        ctx.insert("part", &part);
        let link = |i: Option<usize>| {
            i.map(|i| {
                let p = figures::year_page_of(d, i);
                let label = match p.count {
                    1 => p.year.to_string(),
                    n => format!("{}, page {} of {n}", p.year, p.number),
                };
                serde_json::json!({"year": p.year, "label": label, "url": year_page_url(&d.slug, &p)})
            })
        };
        ctx.insert("earlier", &link(page.rows.start.checked_sub(1)));
        ctx.insert(
            "later",
            &link((page.rows.end < d.table.len()).then_some(page.rows.end)),
        );
        ctx.insert("rows_html", ROWS_MARKER);
        let html = self.render(
            "dataset_year.html",
            self.page(&title, &description, &url, "website"),
            ctx,
        )?;
        Ok(splice_with(&html, |out| {
            year_body_html(out, d, style, year, year_rows, page.rows.clone())
        }))
    }
    /// One page of the notes index: `notes` are that page's; the tag list (the most
    /// used of `tag_total` tags) is on the first page only.
    pub(crate) fn notes_index(
        &self,
        notes: &[NoteSummary],
        tags: &[(String, String, usize)],
        tag_total: usize,
        pager: &Pager,
    ) -> Result<String> {
        let mut ctx = Context::new();
        ctx.insert("notes", notes);
        ctx.insert("tags", &tag_list(tags));
        ctx.insert("tag_total", &tag_total);
        ctx.insert("pager", pager);
        let url = notes_page_url(pager.current);
        let (title, description) = pager.titled(
            "Notes".to_string(),
            "Workshop notes, newest first.".to_string(),
        );
        self.render(
            "notes.html",
            self.page(&title, &description, &url, "website"),
            ctx,
        )
    }

    /// One page of a tag: `notes` are that page's, `count` all the tag's notes.
    pub(crate) fn tag(
        &self,
        name: &str,
        notes: &[NoteSummary],
        count: usize,
        pager: &Pager,
    ) -> Result<String> {
        let url = tag_page_url(name, pager.current);
        let (title, description) = pager.titled(
            format!("Notes tagged “{name}”"),
            match count {
                1 => format!("1 note tagged {name}."),
                n => format!("{n} notes tagged {name}."),
            },
        );
        let mut ctx = Context::new();
        ctx.insert("tag", name);
        ctx.insert("notes", notes);
        ctx.insert("pager", pager);
        ctx.insert("feed_url", &tag_feed_url(name));
        self.render(
            "tag.html",
            self.page(&title, &description, &url, "website"),
            ctx,
        )
    }

    /// One page of the prices index: a card for each of `datasets` (that page's, in
    /// the site's order), of `total` datasets in all.
    pub(crate) fn prices_index(
        &self,
        datasets: &[Dataset],
        total: usize,
        pager: &Pager,
    ) -> Result<String> {
        let mut ctx = Context::new();
        let cards: Vec<DatasetCard> = datasets.iter().map(listed_card).collect();
        ctx.insert("cards", &cards);
        ctx.insert("total", &total);
        ctx.insert("pager", pager);
        // The menu marks the index by this, not by its path: a dataset named `page`
        // has its own pages under `/prices/page/` too.
        ctx.insert("prices_index", &true);
        let (title, description) = pager.titled(
            "All prices".to_string(),
            format!("Every price page of the site with its latest figures, {total} in all."),
        );
        let url = prices_page_url(pager.current);
        self.render(
            "prices.html",
            self.page(&title, &description, &url, "website"),
            ctx,
        )
    }

    /// One page of the tags index: `tags` are that page's, in slug order.
    pub(crate) fn tags_index(
        &self,
        tags: &[(String, String, usize)],
        pager: &Pager,
    ) -> Result<String> {
        let mut ctx = Context::new();
        ctx.insert("tags", &tag_list(tags));
        ctx.insert("pager", pager);
        let (title, description) = pager.titled(
            "Tags".to_string(),
            "Every tag used by the notes.".to_string(),
        );
        let url = tags_page_url(pager.current);
        self.render(
            "tags.html",
            self.page(&title, &description, &url, "website"),
            ctx,
        )
    }

    pub(crate) fn not_found(&self) -> Result<String> {
        self.render(
            "404.html",
            self.page(
                "Page not found",
                "This page does not exist.",
                "/404.html",
                "website",
            ),
            Context::new(),
        )
    }
}

fn tag_list(tags: &[(String, String, usize)]) -> Vec<serde_json::Value> {
    tags.iter()
        .map(|(name, url, count)| serde_json::json!({"name": name, "url": url, "count": count}))
        .collect()
}

/// `page` with the marker replaced by what `write` appends, written in place: a year
/// page's rows go straight into the page, not through a string of their own.
fn splice_with(page: &str, write: impl FnOnce(&mut String)) -> String {
    let Some((before, after)) = page.split_once(ROWS_MARKER) else {
        return page.to_string();
    };
    let mut out = String::with_capacity(page.len() + 64 * 1024);
    out.push_str(before);
    write(&mut out);
    out.push_str(after);
    out
}

/// `decision` → `decisions` for any count but one.
fn plural(noun: &str, n: usize) -> String {
    if n == 1 {
        noun.to_string()
    } else {
        format!("{noun}s")
    }
}

/// `Rs 64.25`, or `64.25` when the dataset has no currency.
fn money(currency: &str, value: Price, decimals: usize) -> String {
    if currency.is_empty() {
        value.format(decimals)
    } else {
        format!("{currency} {}", value.format(decimals))
    }
}

/// What every page of a dataset says about it.
fn dataset_context(d: &Dataset, style: DateStyle) -> serde_json::Value {
    serde_json::json!({
        "slug": d.slug,
        "title": d.title,
        "url": dataset_url(&d.slug),
        "description": d.description,
        "unit": d.unit,
        "currency": d.currency,
        "source": d.source,
        "source_url": d.source_url,
        "csv_url": csv_url(&d.slug),
        "json_url": json_url(&d.slug),
        "feed_url": dataset_feed_url(&d.slug),
        "decisions": d.table.len(),
        "row_noun": d.row_noun,
        "row_nouns": plural(&d.row_noun, d.table.len()),
        "first_date": style.long(d.first_date()),
        "last_date": style.long(d.last_date()),
        "series": d.series.iter().map(|s| serde_json::json!({"key": s.key, "label": s.label, "colour": s.colour})).collect::<Vec<_>>(),
    })
}

/// Each series' key figures, worded for the page.
fn key_figures(d: &Dataset, style: DateStyle, tank: Option<u32>) -> Vec<serde_json::Value> {
    let last = d.last_date();
    d.series
        .iter()
        .enumerate()
        .map(|(s, series)| {
            let f = figures::series_figures(d, s, tank);
            let m = |v: Price| money(&d.currency, v, series.decimals);
            let before: Vec<serde_json::Value> = f
                .before
                .iter()
                .map(|b| {
                    let change = change_context(Some(b.change), series.decimals, &d.currency);
                    serde_json::json!({
                        "label": format!("{} {} before", b.years, plural("year", b.years as usize)),
                        "value": m(b.value),
                        "date": style.long(b.date),
                        "date_iso": b.date.to_string(),
                        "direction": change.direction,
                        "change": change.text,
                    })
                })
                .collect();
            let held = if f.held.kept == 0 {
                format!("set at the latest {}", d.row_noun)
            } else {
                let days = match f.held.days {
                    1 => "1 day".to_string(),
                    n => format!("{n} days"),
                };
                format!(
                    "kept at {} later {}, {days} to the latest one ({})",
                    f.held.kept,
                    plural(&d.row_noun, f.held.kept),
                    style.long(last)
                )
            };
            serde_json::json!({
                "label": series.label,
                "colour": series.colour,
                "latest": m(f.latest),
                "record": match f.record {
                    Some(Direction::Up) => Some("the highest ever"),
                    Some(Direction::Down) => Some("the lowest ever"),
                    _ => None,
                },
                "record_class": f.record.map(Direction::as_str),
                "high": m(f.high.value),
                "on": style.preposition(),
                "high_date": style.long(f.high.date),
                "high_iso": f.high.date.to_string(),
                "low": m(f.low.value),
                "low_date": style.long(f.low.date),
                "low_iso": f.low.date.to_string(),
                "before": before,
                "held_since": style.long(f.held.since),
                "held_iso": f.held.since.to_string(),
                "held": held,
                "tank": f.tank.map(m),
            })
        })
        .collect()
}

/// `d` beside `other` (e.g. pump prices beside Brent): one sentence on how `other`
/// moved since `d`'s latest row, and each series' change over the look-back periods,
/// all to `d`'s latest row. `None` when `other` has no row by then.
fn comparison(d: &Dataset, other: &Dataset) -> Option<serde_json::Value> {
    let last = d.last_date();
    let other_style = DateStyle::of(other);
    let other_series = other.series.first()?;
    let (from_date, from, to_date, to, change) = figures::moved_since(other, last)?;
    let t = change.text(other_series.decimals);
    let moved = match t.direction {
        Direction::Up => format!("risen {}", t.percent.trim_start_matches('+')),
        Direction::Down => format!("fallen {}", t.percent.trim_start_matches('−')),
        Direction::Unchanged => "not moved".to_string(),
    };
    let om = |v: Price| money(&other.currency, v, other_series.decimals);
    let style = DateStyle::of(d);
    let t = &d.table;
    let previous = t.len().checked_sub(2).map(|i| t.dates[i]);
    let sentence = match previous {
        // No newer figure for `other` than the one in force at the latest row: say
        // how both moved between the last two rows instead.
        Some(prev) if to_date == from_date => {
            let (then_date, then, _, _, change) = figures::moved_since(other, prev)?;
            let t = change.text(other_series.decimals);
            let moved = match t.direction {
                Direction::Up => format!("rose {}", t.percent.trim_start_matches('+')),
                Direction::Down => format!("fell {}", t.percent.trim_start_matches('−')),
                Direction::Unchanged => "did not move".to_string(),
            };
            let series: Vec<String> = d
                .series
                .iter()
                .enumerate()
                .map(|(s, series)| {
                    let column = &d.table.values[s];
                    let t = Change::between(column[column.len() - 2], column[column.len() - 1])
                        .text(series.decimals);
                    match (t.direction, t.percent.is_empty()) {
                        (Direction::Unchanged, _) => format!("{} was kept", series.label),
                        (Direction::Up, false) => format!("{} rose {}", series.label, t.percent.trim_start_matches('+')),
                        (Direction::Down, false) => format!("{} fell {}", series.label, t.percent.trim_start_matches('−')),
                        (dir, true) => format!("{} went {} {}", series.label, dir.as_str(), t.magnitude),
                    }
                })
                .collect();
            format!(
                "Between the {}s of {} and {}, {} {moved}, from {} ({}) to {} ({}, its latest); {}.",
                d.row_noun,
                style.long(prev),
                style.long(last),
                other.title,
                om(then),
                other_style.long(then_date),
                om(to),
                other_style.long(to_date),
                join_and(&series),
            )
        }
        _ if to_date == from_date => format!(
            "{}'s latest figure is {} ({}), the one in force at the latest {} ({}).",
            other.title,
            om(to),
            other_style.long(to_date),
            d.row_noun,
            style.long(last),
        ),
        _ => format!(
            "Since the latest {} on {}, {} has {moved}, from {} ({}) to {} ({}); {} have not changed since.",
            d.row_noun,
            style.long(last),
            other.title,
            om(from),
            other_style.long(from_date),
            om(to),
            other_style.long(to_date),
            d.title.to_lowercase(),
        ),
    };
    let mut columns: Vec<String> = d.series.iter().map(|s| s.label.clone()).collect();
    columns.push(other_series.label.clone());
    let periods: Vec<serde_json::Value> = figures::LOOK_BACK
        .iter()
        .filter_map(|&years| {
            let from = last.checked_sub_months(chrono::Months::new(12 * years))?;
            let mut cells: Vec<serde_json::Value> = (0..d.series.len())
                .map(|s| percent_cell(figures::change_between(d, s, from, last)))
                .collect();
            cells.push(percent_cell(figures::change_between(other, 0, from, last)));
            Some(serde_json::json!({
                "label": format!("{years} {}", plural("year", years as usize)),
                "from": DateStyle::Day.short(from),
                "cells": cells,
            }))
        })
        .collect();
    Some(serde_json::json!({
        "title": other.title,
        "url": dataset_url(&other.slug),
        "sentence": sentence,
        "columns": columns,
        "periods": periods,
        "to": DateStyle::of(d).long(last),
    }))
}

/// `a`, `a and b`, `a, b and c`.
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A change as a percentage, for the comparison table.
fn percent_cell(change: Option<Change>) -> serde_json::Value {
    let Some(c) = change else {
        return serde_json::json!({"direction": "none", "percent": "—"});
    };
    let t = c.text(2);
    let percent = match (t.direction, t.percent.is_empty()) {
        (Direction::Unchanged, _) => "0.0%".to_string(),
        (_, true) => "—".to_string(),
        _ => t.percent.clone(),
    };
    serde_json::json!({"direction": t.direction.as_str(), "percent": percent})
}

/// Links to every year's page, newest first, at most [`YEAR_LINKS`] of them, and the
/// oldest year when it is not among them.
fn year_links(d: &Dataset, years: &[(i32, std::ops::Range<usize>)]) -> serde_json::Value {
    let link = |(y, r): &(i32, std::ops::Range<usize>)| serde_json::json!({"year": y, "url": year_url(&d.slug, *y), "count": r.len()});
    let shown: Vec<serde_json::Value> = years.iter().take(YEAR_LINKS).map(link).collect();
    let oldest = (years.len() > YEAR_LINKS).then(|| years.last().map(link));
    serde_json::json!({"shown": shown, "more": years.len().saturating_sub(YEAR_LINKS), "oldest": oldest.flatten()})
}

/// A year as an open-or-closed group on the dataset page: its summary and the rows of
/// its first page (all of them, unless the year has more than a page holds).
fn year_group_html(
    out: &mut String,
    d: &Dataset,
    style: DateStyle,
    year: i32,
    range: std::ops::Range<usize>,
    open: bool,
) {
    let count = range.len();
    let first = figures::first_year_page(d, year);
    let _ = write!(
        out,
        "<details class=\"year\" id=\"y-{year}\"{}>\n<summary><span class=\"year-name\">{year}</span> <span class=\"year-count\">{count} {}</span></summary>\n",
        if open { " open" } else { "" },
        esc(&plural(&d.row_noun, count)),
    );
    year_body_html(out, d, style, year, range, first.rows.clone());
    if first.count == 1 {
        let _ = writeln!(
            out,
            "<p class=\"year-page\"><a href=\"{}\">{year} on its own page</a></p>\n</details>",
            year_url(&d.slug, year)
        );
    } else {
        let _ = writeln!(
            out,
            "<p class=\"year-page\">The newest {} of {count}: <a href=\"{}\">all of {year} on {} pages</a></p>\n</details>",
            first.rows.len(),
            year_url(&d.slug, year),
            first.count
        );
    }
}

/// A year's summary (per series: rises, cuts, average, low, high) over all its rows
/// `range`, and the table of `rows` of them.
fn year_body_html(
    out: &mut String,
    d: &Dataset,
    style: DateStyle,
    year: i32,
    range: std::ops::Range<usize>,
    rows: std::ops::Range<usize>,
) {
    out.push_str("<ul class=\"year-stats\">\n");
    for (series, sum) in d.series.iter().zip(figures::year_summary(d, range.clone())) {
        let m = |v: Price| esc(&money(&d.currency, v, series.decimals));
        let _ = writeln!(
            out,
            "<li><span class=\"year-series\">{}</span> {} {}, {} {}; average {}, low {}, high {}</li>",
            esc(&series.label),
            sum.rises,
            if sum.rises == 1 { "rise" } else { "rises" },
            sum.cuts,
            if sum.cuts == 1 { "cut" } else { "cuts" },
            m(sum.average),
            m(sum.low),
            m(sum.high),
        );
    }
    out.push_str("</ul>\n");
    decision_table_html(out, d, style, year, rows);
}

/// One year's rows as a table, newest first: one header row (so it can stay in view
/// while scrolling), the change beside each value, "unchanged" kept for screen readers
/// but shown as a quiet dot.
fn decision_table_html(
    out: &mut String,
    d: &Dataset,
    style: DateStyle,
    year: i32,
    range: std::ops::Range<usize>,
) {
    let fits = d.series.len() <= FITTING_SERIES;
    if fits {
        out.push_str("<div class=\"table-fit\">\n");
    } else {
        let _ = writeln!(
            out,
            "<div class=\"table-scroll\" role=\"region\" aria-label=\"{} in {year}\" tabindex=\"0\">",
            esc(&d.title)
        );
    }
    let unit = if d.unit.is_empty() {
        String::new()
    } else {
        format!(", {}", d.unit)
    };
    let _ = write!(
        out,
        "<table class=\"decisions\">\n<caption>{} in {year}{}, newest first, with the change against the previous {}.</caption>\n<thead><tr><th scope=\"col\">{}</th>",
        esc(&d.title),
        esc(&unit),
        esc(&d.row_noun),
        esc(&d.date_label),
    );
    for s in &d.series {
        let label = esc(&s.label);
        let _ = write!(
            out,
            "<th scope=\"col\" class=\"num\"><svg class=\"swatch\" width=\"10\" height=\"10\" viewBox=\"0 0 14 14\" aria-hidden=\"true\"><rect width=\"14\" height=\"14\" rx=\"3\" fill=\"{}\"/></svg>{label}</th><th scope=\"col\" class=\"num\"><span class=\"visually-hidden\">{label} </span>change</th>",
            esc(&s.colour)
        );
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    decision_rows_html(out, d, style, range);
    out.push_str("</tbody>\n</table>\n</div>\n");
}

/// Rows `range`, newest first, with the change at each, appended to `out`. Written
/// directly rather than through a template loop: this is most of a page's bytes (a
/// 1,000,000-row dataset has 2,738 year pages to write and compress twice), so a row
/// says only what a reader gets. HTML lets `</td>`, `</th>` and `</tr>` go and simple
/// attribute values go unquoted; the style comes from the table's class and each
/// cell's column (the stylesheet's `.decisions` rules), not a class per cell. What is
/// kept: the `d-DATE` anchor other pages link to, the row header with its date, the
/// value, and the change with its direction (the class colours it), its sign and its
/// percentage (the span, dropped on narrow screens), or "unchanged" read out to screen
/// readers and shown as a quiet dot. The date is not wrapped in `<time datetime>`
/// (a fifth of a row): neither a reader nor a screen reader gets anything from it, and
/// the anchor already carries the ISO date.
/// `<tr id=d-2026-04-16><th scope=row>16 Apr 2026<td>64.25<td class=up>+3.00 <span>+4.9%</span>`
pub(crate) fn decision_rows_html(
    out: &mut String,
    d: &Dataset,
    style: DateStyle,
    range: std::ops::Range<usize>,
) {
    let t = &d.table;
    out.reserve(range.len() * (40 + 50 * d.series.len()));
    for i in range.rev() {
        let date = t.dates[i];
        out.push_str("<tr id=d-");
        figures::write_iso_date(out, date);
        out.push_str("><th scope=row>");
        style.write_short(out, date);
        for (s, series) in d.series.iter().enumerate() {
            let decimals = series.decimals;
            out.push_str("<td>");
            let value = t.value(i, s);
            value.write(out, decimals);
            let Some(previous) = i.checked_sub(1).map(|p| t.value(p, s)) else {
                out.push_str("<td class=first>first");
                continue;
            };
            let change = Change::between(previous, value);
            let direction = change.direction();
            if direction == Direction::Unchanged {
                out.push_str("<td class=unchanged><span aria-hidden=true>·</span><span class=visually-hidden>unchanged</span>");
                continue;
            }
            out.push_str("<td class=");
            out.push_str(direction.as_str());
            out.push('>');
            change.write_signed(out, decimals);
            let mark = out.len();
            out.push_str(" <span>");
            if change.write_percent(out) {
                out.push_str("</span>");
            } else {
                out.truncate(mark);
            }
        }
        out.push('\n');
    }
}

/// Tera's error with its whole chain of causes, naming the template.
pub(crate) fn template_error(template: &str, e: &tera::Error) -> Error {
    Error::in_file(&Path::new("templates").join(template), error_chain(e))
}

/// An error and all its causes on one line: Tera puts the useful part (line, column,
/// the variable that is missing) in the causes.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let _ = write!(message, ": {s}");
        source = s.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A dataset of `series` series from `rows` (each row's values as written).
    fn dataset(series: usize, rows: &[Vec<String>]) -> Dataset {
        let mut text = String::from("date");
        for s in 0..series {
            let _ = write!(text, ",s{s}");
        }
        let mut date = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        for row in rows {
            let _ = write!(text, "\n{date}");
            for value in row {
                let _ = write!(text, ",{value}");
            }
            date = date.succ_opt().unwrap();
        }
        let table = crate::data::parse_table(&text, Path::new("data/t.csv")).unwrap();
        Dataset::new("t", table, None)
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("0.000001".to_string()),
            Just("999999999999.999999".to_string()),
            Just("0".to_string()),
            (0u64..1_000_000_000_000_000_000).prop_map(|m| format!(
                "{}.{:06}",
                m / 1_000_000,
                m % 1_000_000
            )),
        ]
    }

    proptest! {
        /// No written row is longer than the bytes a year page's rows are planned
        /// for ([`figures::ROW_BYTES`], [`figures::CELL_BYTES`]): what keeps every
        /// page under 1 MB.
        #[test]
        fn rows_stay_within_the_bytes_pages_are_planned_for(
            series in 1usize..6,
            rows in proptest::collection::vec(proptest::collection::vec(value(), 6), 1..12),
            repeat in proptest::collection::vec(proptest::bool::ANY, 12),
        ) {
            // Some rows keep the row before's values: "unchanged" is the longest cell.
            let mut written: Vec<Vec<String>> = Vec::new();
            for (i, row) in rows.iter().enumerate() {
                let row = match (i, repeat[i]) {
                    (1.., true) => written[i - 1].clone(),
                    _ => row[..series].to_vec(),
                };
                written.push(row);
            }
            let d = dataset(series, &written);
            let mut out = String::new();
            decision_rows_html(&mut out, &d, DateStyle::Day, 0..d.table.len());
            for line in out.lines() {
                prop_assert!(
                    line.len() < figures::ROW_BYTES + figures::CELL_BYTES * series,
                    "{} bytes: {line}", line.len()
                );
            }
        }
    }

    /// The longest rows the widest dataset can have, page by page: each page's rows
    /// stay within what a page plans for.
    #[test]
    fn the_widest_longest_rows_fit_their_page() {
        let series = crate::data::MAX_SERIES;
        let rows: Vec<Vec<String>> = (0..400)
            .map(|i| {
                let v = match i % 3 {
                    0 => "0.000001",
                    _ => "999999999999.999999",
                };
                vec![v.to_string(); series]
            })
            .collect();
        let d = dataset(series, &rows);
        for page in figures::year_pages(&d) {
            let mut out = String::new();
            decision_rows_html(&mut out, &d, DateStyle::Day, page.rows.clone());
            assert!(out.len() <= 600_000, "{page:?}: {} bytes", out.len());
        }
    }
}
