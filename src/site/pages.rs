//! Model → HTML pages. Each page is a pure function of the loaded inputs: a Tera
//! context is built from the model and rendered with the site's templates.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;
use tera::{Context, Tera};

use super::share::ShareImage;
use crate::config::SiteConfig;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::notes::Note;
use crate::price::{Change, Direction};

pub(crate) fn note_url(slug: &str) -> String {
    format!("/notes/{slug}/")
}
pub(crate) fn tag_url(tag: &str) -> String {
    format!("/tags/{}/", crate::slug::slugify(tag))
}
pub(crate) fn dataset_url(slug: &str) -> String {
    format!("/prices/{slug}/")
}
pub(crate) fn csv_url(slug: &str) -> String {
    format!("/data/{slug}.csv")
}
pub(crate) fn json_url(slug: &str) -> String {
    format!("/api/{slug}.json")
}
/// The output file for a clean URL: `/notes/x/` → `notes/x/index.html`.
pub(crate) fn output_path(url: &str) -> String {
    format!("{}index.html", url.trim_start_matches('/'))
}

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

fn change_context(change: Option<Change>, decimals: usize, currency: &str) -> ChangeContext {
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
}

/// "Mogas (petrol) Rs 70.65, Gas Oil (diesel) Rs 71.25, in force from 16 April 2026.":
/// the current values, for descriptions that link previews show.
fn prices_sentence(card: &DatasetCard) -> String {
    let values: Vec<String> = card
        .series
        .iter()
        .map(|s| match card.currency.as_str() {
            "" => format!("{} {}", s.label, s.value),
            c => format!("{} {c} {}", s.label, s.value),
        })
        .collect();
    format!(
        "{}, {} {}.",
        values.join(", "),
        card.since.to_lowercase(),
        card.date
    )
}

pub(crate) fn dataset_card(d: &Dataset) -> DatasetCard {
    let rows = &d.table.rows;
    let last = &rows[rows.len() - 1];
    let previous = rows.len().checked_sub(2).map(|i| &rows[i]);
    DatasetCard {
        title: d.title.clone(),
        url: dataset_url(&d.slug),
        unit: d.unit.clone(),
        currency: d.currency.clone(),
        date: human_date(last.date),
        date_iso: last.date.to_string(),
        row_noun: d.row_noun.clone(),
        since: d.date_label.clone(),
        series: d
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| CardSeries {
                label: s.label.clone(),
                colour: s.colour.clone(),
                value: last.values[i].format(s.decimals),
                change: change_context(
                    previous.map(|p| Change::between(p.values[i], last.values[i])),
                    s.decimals,
                    &d.currency,
                ),
            })
            .collect(),
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

/// The description, else the first paragraph cut at a word near 200 characters.
pub(crate) fn summary_of(note: &Note, first_paragraph: &str) -> String {
    if let Some(d) = &note.description {
        return d.clone();
    }
    let text = first_paragraph.trim();
    if text.chars().count() <= 220 {
        return text.to_string();
    }
    let cut: String = text.chars().take(200).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches([',', '.', ';', ':']))
}

pub(crate) fn note_summary(note: &Note, summary: String) -> NoteSummary {
    NoteSummary {
        title: note.title.clone(),
        url: note_url(&note.slug),
        date: human_date(note.date),
        date_iso: note.date.to_string(),
        summary,
        reading_minutes: note.reading_minutes(),
        tags: tag_links(&note.tags[..note.tags.len().min(SUMMARY_TAGS)]),
        more_tags: note.tags.len().saturating_sub(SUMMARY_TAGS),
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
            .map(|d| NavItem {
                title: d.title.clone(),
                url: dataset_url(&d.slug),
            })
            .collect();
        base.insert("datasets_nav", &nav);
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
    ) -> Result<String> {
        let url = note_url(&note.slug);
        let mut ctx = Context::new();
        ctx.insert(
            "note",
            &serde_json::json!({
                "title": note.title,
                "date": human_date(note.date),
                "date_iso": note.date.to_string(),
                "updated": note.updated.map(human_date),
                "updated_iso": note.updated.map(|d| d.to_string()),
                "reading_minutes": note.reading_minutes(),
                "words": note.words,
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
        let cards: Vec<DatasetCard> = datasets.iter().map(dataset_card).collect();
        ctx.insert("cards", &cards);
        let primary = datasets
            .iter()
            .find(|d| d.slug == self.config.primary_dataset)
            .or(datasets.first());
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

    pub(crate) fn dataset(&self, d: &Dataset, chart: &ChartRef) -> Result<String> {
        let url = dataset_url(&d.slug);
        let about = d.description.clone().unwrap_or_else(|| {
            format!(
                "Every {} decision from {} to {}.",
                d.title,
                human_date(d.first_date()),
                human_date(d.last_date())
            )
        });
        let description = format!("{} {about}", prices_sentence(&dataset_card(d)));
        let mut ctx = Context::new();
        ctx.insert(
            "dataset",
            &serde_json::json!({
                "slug": d.slug,
                "title": d.title,
                "description": d.description,
                "unit": d.unit,
                "currency": d.currency,
                "source": d.source,
                "source_url": d.source_url,
                "csv_url": csv_url(&d.slug),
                "json_url": json_url(&d.slug),
                "decisions": d.table.rows.len(),
                "first_date": human_date(d.first_date()),
                "last_date": human_date(d.last_date()),
                "series": d.series.iter().map(|s| serde_json::json!({"key": s.key, "label": s.label, "colour": s.colour})).collect::<Vec<_>>(),
            }),
        );
        ctx.insert("card", &dataset_card(d));
        ctx.insert("chart", chart);
        // The table can be megabytes: render the page around a marker and put the rows
        // in once, rather than copying them through Tera's context and output.
        ctx.insert("rows_html", ROWS_MARKER);
        let page = self.render(
            "dataset.html",
            self.page(&d.title, &description, &url, "website"),
            ctx,
        )?;
        let rows = decision_rows_html(d);
        Ok(match page.split_once(ROWS_MARKER) {
            Some((before, after)) => [before, rows.as_str(), after].concat(),
            None => page,
        })
    }

    pub(crate) fn notes_index(
        &self,
        notes: &[NoteSummary],
        tags: &[(String, String, usize)],
    ) -> Result<String> {
        let mut ctx = Context::new();
        ctx.insert("notes", notes);
        ctx.insert("tags", &tag_list(tags));
        self.render(
            "notes.html",
            self.page(
                "Notes",
                "Workshop notes, newest first.",
                "/notes/",
                "website",
            ),
            ctx,
        )
    }

    pub(crate) fn tag(&self, name: &str, notes: &[NoteSummary]) -> Result<String> {
        let url = tag_url(name);
        let title = format!("Notes tagged “{name}”");
        let description = format!("{} notes tagged {name}.", notes.len());
        let mut ctx = Context::new();
        ctx.insert("tag", name);
        ctx.insert("notes", notes);
        self.render(
            "tag.html",
            self.page(&title, &description, &url, "website"),
            ctx,
        )
    }

    pub(crate) fn tags_index(&self, tags: &[(String, String, usize)]) -> Result<String> {
        let mut ctx = Context::new();
        ctx.insert("tags", &tag_list(tags));
        self.render(
            "tags.html",
            self.page("Tags", "Every tag used by the notes.", "/tags/", "website"),
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

/// The decision table's rows, newest first, with the change at each. Written directly
/// rather than through a template loop, in parallel chunks: a dataset can have 100,000
/// rows.
pub(crate) fn decision_rows_html(d: &Dataset) -> String {
    use rayon::prelude::*;
    const CHUNK: usize = 4096;
    let indices: Vec<usize> = (0..d.table.rows.len()).rev().collect();
    let parts: Vec<String> = indices
        .par_chunks(CHUNK)
        .map(|chunk| decision_rows_chunk(d, chunk))
        .collect();
    parts.concat()
}

const MONTHS_SHORT: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn decision_rows_chunk(d: &Dataset, indices: &[usize]) -> String {
    use chrono::Datelike;
    let rows = &d.table.rows;
    let mut out = String::with_capacity(indices.len() * (110 + 90 * d.series.len()));
    for &i in indices {
        let row = &rows[i];
        let date = row.date;
        let _ = write!(
            out,
            "<tr id=\"d-{date}\"><th scope=\"row\"><time datetime=\"{date}\">{} {} {}</time></th>",
            date.day(),
            MONTHS_SHORT[date.month0() as usize],
            date.year()
        );
        for (s, series) in d.series.iter().enumerate() {
            let decimals = series.decimals;
            out.push_str("<td class=\"num\">");
            row.values[s].write(&mut out, decimals);
            out.push_str("</td>");
            let Some(previous) = i.checked_sub(1).map(|p| rows[p].values[s]) else {
                out.push_str("<td class=\"change first\">first decision</td>");
                continue;
            };
            let t = Change::between(previous, row.values[s]).text(decimals);
            if t.direction == Direction::Unchanged {
                out.push_str("<td class=\"change unchanged\">unchanged</td>");
                continue;
            }
            let _ = write!(
                out,
                "<td class=\"change {}\">{}",
                t.direction.as_str(),
                t.signed()
            );
            if !t.percent.is_empty() {
                let _ = write!(out, " <span class=\"pct\">{}</span>", t.percent);
            }
            out.push_str("</td>");
        }
        out.push_str("</tr>\n");
    }
    out
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
