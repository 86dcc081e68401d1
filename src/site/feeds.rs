//! Machine-readable outputs, each a pure function: the Atom feed, the sitemap,
//! robots.txt, the JSON API and CSV downloads, and the model → entries step for the
//! feed and sitemap.

use std::fmt::Write as _;
use std::io::Write;

use chrono::NaiveDate;

use super::figures::DateStyle;
use super::load::Inputs;
use super::pages;
use super::plan::{SiteUrl, Tag};
use crate::config::SiteConfig;
use crate::data::Dataset;
use crate::markup::escape_markup as xml_escape;
use crate::notes::Body;
use crate::price::{Change, Direction};

/// Prices take effect at 00:00 in Mauritius (UTC+4); notes are dated the same way.
pub(crate) fn rfc3339(date: NaiveDate) -> String {
    format!("{}T00:00:00+04:00", date.format("%Y-%m-%d"))
}

pub(crate) struct FeedEntry {
    pub(crate) title: String,
    pub(crate) url: String,
    pub(crate) date: NaiveDate,
    pub(crate) updated: NaiveDate,
    /// HTML content.
    pub(crate) content: String,
    pub(crate) categories: Vec<String>,
}

/// What a feed says about itself.
pub(crate) struct FeedHead<'a> {
    pub(crate) title: &'a str,
    pub(crate) subtitle: &'a str,
    /// Site paths: the feed itself and the page it follows.
    pub(crate) self_path: &'a str,
    pub(crate) page_path: &'a str,
}

/// Atom 1.0. `updated` of the feed is its newest entry's date, never "now", so two
/// builds of the same input are identical.
pub(crate) fn atom(config: &SiteConfig, entries: &[FeedEntry]) -> String {
    atom_with(
        config,
        &FeedHead {
            title: &config.title,
            subtitle: &config.description,
            self_path: "/feed.xml",
            page_path: "/",
        },
        entries,
    )
}

pub(crate) fn atom_with(config: &SiteConfig, head: &FeedHead, entries: &[FeedEntry]) -> String {
    let base = &config.base_url;
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or(NaiveDate::MIN);
    let mut out = String::with_capacity(4096 + entries.len() * 1024);
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{lang}\">\n\
<title>{title}</title>\n<subtitle>{desc}</subtitle>\n<link href=\"{page}\"/>\n<link rel=\"self\" type=\"application/atom+xml\" href=\"{feed}\"/>\n\
<id>{id}</id>\n<updated>{updated}</updated>\n<author><name>{author}</name></author>\n",
        lang = xml_escape(&config.language),
        title = xml_escape(head.title),
        desc = xml_escape(head.subtitle),
        page = xml_escape(&format!("{base}{}", head.page_path)),
        feed = xml_escape(&format!("{base}{}", head.self_path)),
        // The site feed keeps the id it always had; a dataset's feed is named by itself.
        id = xml_escape(&if head.self_path == "/feed.xml" {
            format!("{base}/")
        } else {
            format!("{base}{}", head.self_path)
        }),
        updated = rfc3339(updated),
        author = xml_escape(&config.author),
    );
    for e in entries {
        let url = format!("{base}{}", e.url);
        let _ = write!(
            out,
            "<entry>\n<title>{}</title>\n<link href=\"{url}\"/>\n<id>{url}</id>\n<published>{}</published>\n<updated>{}</updated>\n",
            xml_escape(&e.title),
            rfc3339(e.date),
            rfc3339(e.updated),
            url = xml_escape(&url),
        );
        for c in &e.categories {
            let _ = writeln!(out, "<category term=\"{}\"/>", xml_escape(c));
        }
        let _ = write!(
            out,
            "<content type=\"html\">{}</content>\n</entry>\n",
            xml_escape(&e.content)
        );
    }
    out.push_str("</feed>\n");
    out
}

/// `urls` are site paths (`/notes/x/`) with their last change.
pub(crate) fn sitemap(base_url: &str, urls: &[SiteUrl]) -> String {
    sitemap_xml(base_url, "urlset", "url", urls)
}

/// The sitemap index of a site too large for one sitemap file: each part's address
/// (`/sitemaps/1.xml`) with the newest change among its pages.
pub(crate) fn sitemap_index(base_url: &str, parts: &[SiteUrl]) -> String {
    sitemap_xml(base_url, "sitemapindex", "sitemap", parts)
}

/// A sitemap or a sitemap index: the two differ only in their elements' names.
fn sitemap_xml(base_url: &str, root: &str, item: &str, urls: &[SiteUrl]) -> String {
    let mut out = String::with_capacity(200 + urls.len() * 120);
    let _ = writeln!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"
    );
    for (path, lastmod) in urls {
        let _ = write!(
            out,
            "<{item}><loc>{}</loc>",
            xml_escape(&format!("{base_url}{path}"))
        );
        if let Some(d) = lastmod {
            let _ = write!(out, "<lastmod>{d}</lastmod>");
        }
        let _ = writeln!(out, "</{item}>");
    }
    let _ = writeln!(out, "</{root}>");
    out
}

pub(crate) fn robots(base_url: &str) -> String {
    format!("User-agent: *\nAllow: /\n\nSitemap: {base_url}/sitemap.xml\n")
}

/// The old app's `/api/prices` shape: a list of `{"date", <series>…}` objects, oldest
/// first, keys in column order, values as JSON numbers. Written to `out` a row at a
/// time, so a 1,000,000-row dataset goes to the file and its compressors without ever
/// being one 50 MB string.
pub(crate) fn write_dataset_json(dataset: &Dataset, out: &mut dyn Write) -> std::io::Result<()> {
    let table = &dataset.table;
    // `,"mogas":` once per column, not once per row.
    let keys: Vec<String> = table
        .columns
        .iter()
        .map(|c| {
            format!(
                ",{}:",
                serde_json::to_string(c).expect("a string serialises")
            )
        })
        .collect();
    let mut line = String::with_capacity(32 + 28 * keys.len());
    out.write_all(b"[")?;
    for (i, date) in table.dates.iter().enumerate() {
        line.clear();
        if i > 0 {
            line.push(',');
        }
        line.push_str("\n{\"date\":\"");
        super::figures::write_iso_date(&mut line, *date);
        line.push('"');
        for (key, column) in keys.iter().zip(&table.values) {
            line.push_str(key);
            column[i].write_trimmed(&mut line);
        }
        line.push('}');
        out.write_all(line.as_bytes())?;
    }
    out.write_all(b"\n]\n")
}

/// The dataset as a clean CSV: header, ISO dates, oldest first, fixed decimals,
/// written to `out` a row at a time.
pub(crate) fn write_dataset_csv(dataset: &Dataset, out: &mut dyn Write) -> std::io::Result<()> {
    let table = &dataset.table;
    let mut line = String::from("date");
    for c in &table.columns {
        line.push(',');
        line.push_str(c);
    }
    line.push('\n');
    out.write_all(line.as_bytes())?;
    for (i, date) in table.dates.iter().enumerate() {
        line.clear();
        super::figures::write_iso_date(&mut line, *date);
        for (column, series) in table.values.iter().zip(&dataset.series) {
            line.push(',');
            column[i].write(&mut line, series.decimals);
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// Series an entry's title names (its text names them all): a title is one line in a
/// feed reader, and with 64 series it held 64 values, half of each entry's bytes.
const FEED_TITLE_SERIES: usize = 4;

/// The newest `n` rows of `d` as feed entries, newest first, each linking to its row
/// on its year's page.
fn decision_entries(d: &Dataset, n: usize) -> Vec<FeedEntry> {
    let t = &d.table;
    let style = DateStyle::of(d);
    (0..t.len())
        .rev()
        .take(n)
        .map(|i| {
            let parts: Vec<String> = d
                .series
                .iter()
                .enumerate()
                .map(|(s, series)| {
                    let value = t.value(i, s).format(series.decimals);
                    let change = if i == 0 {
                        String::new()
                    } else {
                        let t =
                            Change::between(t.value(i - 1, s), t.value(i, s)).text(series.decimals);
                        match t.direction {
                            Direction::Unchanged => " (unchanged)".into(),
                            dir => format!(" ({} {})", dir.as_str(), t.magnitude),
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
            let shown = parts.len().min(FEED_TITLE_SERIES);
            let more = match parts.len() - shown {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            FeedEntry {
                title: format!(
                    "{} from {}: {}{more}",
                    d.title,
                    style.long(t.dates[i]),
                    parts[..shown].join(", ")
                ),
                url: pages::row_url(d, i),
                date: t.dates[i],
                updated: t.dates[i],
                content: format!("<p>{}</p>", parts.join("<br>")),
                categories: vec!["prices".into()],
            }
        })
        .collect()
}

/// One dataset's own feed: only its decisions, the newest `feed_decisions`, so a feed
/// reader (or a feed-to-email service) works as a price alert.
pub(crate) fn dataset_feed(config: &SiteConfig, d: &Dataset) -> String {
    let title = format!("{}: {}", config.title, d.title);
    let subtitle = format!(
        "Each new {} of {}, as it is published.",
        d.row_noun, d.title
    );
    atom_with(
        config,
        &FeedHead {
            title: &title,
            subtitle: &subtitle,
            self_path: &pages::dataset_feed_url(&d.slug),
            page_path: &pages::dataset_url(&d.slug),
        },
        &decision_entries(d, config.feed_decisions),
    )
}

/// How many of the newest notes the site feed carries in full.
pub(crate) const SITE_FEED_NOTES: usize = 20;

/// The Atom feed: the newest notes and the primary dataset's latest decisions.
/// `body(i)` is note `i`'s rendered body: the one its page shows, rendered once for
/// both (rendering is most of a note's cost, highlighting its code above all).
pub(crate) fn site_feed<'a>(inputs: &Inputs, body: impl Fn(usize) -> &'a Body) -> String {
    let config = &inputs.config;
    let mut entries: Vec<FeedEntry> = inputs
        .notes
        .iter()
        .take(SITE_FEED_NOTES)
        .enumerate()
        .map(|(i, n)| note_entry(config, n, body(i)))
        .collect();
    if let Some(d) = inputs
        .datasets
        .iter()
        .find(|d| d.slug == config.primary_dataset)
    {
        entries.extend(decision_entries(d, config.feed_decisions));
    }
    entries.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.url.cmp(&b.url)));
    atom(config, &entries)
}

/// A note as a feed entry, its whole text (`body`, as its page shows it) with absolute
/// links.
fn note_entry(config: &SiteConfig, n: &crate::notes::Note, body: &Body) -> FeedEntry {
    let url = pages::note_url(&n.slug);
    let html = absolute_links(&body.html, &config.base_url, &url);
    FeedEntry {
        title: n.title.clone(),
        url,
        date: n.date,
        updated: n.updated.unwrap_or(n.date),
        content: html,
        categories: n.tags.clone(),
    }
}

/// Categories an entry of a tag's feed names, at most.
const TAG_FEED_CATEGORIES: usize = 12;

/// One tag's feed: its newest [`SITE_FEED_NOTES`] notes, each as its summary and a
/// link. Not the whole text: a note is in the feed of each of its tags, so whole texts
/// would cost tags × text (4,000 tags on a 1 MB note: 4 GB) and a markdown render per
/// tag; the site feed carries the whole text once.
pub(crate) fn tag_feed(inputs: &Inputs, tag: &Tag) -> String {
    let config = &inputs.config;
    let title = format!("{}: notes tagged “{}”", config.title, tag.name);
    let subtitle = format!("Workshop notes tagged {}, newest first.", tag.name);
    let entries: Vec<FeedEntry> = tag
        .notes
        .iter()
        .take(SITE_FEED_NOTES)
        .map(|&i| {
            let n = &inputs.notes[i];
            let url = pages::note_url(&n.slug);
            // Cut as lists cut them: a note is in the feed of each of its tags, so its
            // whole description and title would cost tags × their length.
            let summary = pages::clip(&pages::summary_of(n), pages::SUMMARY_TEXT_BYTES);
            let mut categories = n.tags.clone();
            // All of a note's tags in each of its tags' feeds would be n² for n tags.
            categories.truncate(TAG_FEED_CATEGORIES);
            FeedEntry {
                title: pages::clip(&n.title, pages::SUMMARY_TITLE_BYTES),
                content: format!(
                    "<p>{}</p>\n<p><a href=\"{}{url}\">Read the note</a></p>",
                    xml_escape(&summary),
                    xml_escape(&config.base_url)
                ),
                url,
                date: n.date,
                updated: n.updated.unwrap_or(n.date),
                categories,
            }
        })
        .collect();
    atom_with(
        config,
        &FeedHead {
            title: &title,
            subtitle: &subtitle,
            self_path: &pages::tag_feed_url(&tag.name),
            page_path: &pages::tag_url(&tag.name),
        },
        &entries,
    )
}

/// `html` with each `href`/`src` that is a fragment (`#x`) or site path (`/x`) made
/// absolute, and each site path among a `srcset`'s candidates: a feed reader shows an
/// entry away from its page, where those would point at the reader's own origin. Only
/// the quoted form the markdown renderer writes needs handling, so a small scan does
/// it without an HTML parser.
pub(crate) fn absolute_links(html: &str, base_url: &str, page_path: &str) -> String {
    const ATTRS: [&str; 3] = ["href=\"", "src=\"", "srcset=\""];
    let mut out = String::with_capacity(html.len());
    let mut done = 0;
    // Where the next of each attribute ends, searched again only once passed: searching
    // each anew after every match scanned the rest of the page once per link (a note
    // of 20,000 images, all `src` and no `href`, took over a minute).
    let next = |attr: &str, from: usize| html[from..].find(attr).map(|i| from + i + attr.len());
    let mut found = ATTRS.map(|a| next(a, 0));
    while let Some(at) = found.iter().flatten().copied().min() {
        let srcset = found[2] == Some(at);
        for (slot, attr) in found.iter_mut().zip(ATTRS) {
            if *slot == Some(at) {
                *slot = next(attr, at);
            }
        }
        out.push_str(&html[done..at]);
        done = at;
        let rest = &html[at..];
        if srcset {
            let end = rest.find('"').unwrap_or(rest.len());
            let candidates: Vec<String> = rest[..end]
                .split(',')
                .map(|c| {
                    let trimmed = c.trim_start();
                    if trimmed.starts_with('/') && !trimmed.starts_with("//") {
                        format!("{}{base_url}{trimmed}", &c[..c.len() - trimmed.len()])
                    } else {
                        c.to_string()
                    }
                })
                .collect();
            out.push_str(&candidates.join(","));
            done = at + end;
        } else if rest.starts_with('#') {
            out.push_str(base_url);
            out.push_str(page_path);
        } else if rest.starts_with('/') && !rest.starts_with("//") {
            out.push_str(base_url);
        }
    }
    out.push_str(&html[done..]);
    out
}
