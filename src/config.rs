//! `site.toml`: the site's title, base URL and description, cache lifetimes for the
//! server, and optional metadata for each dataset. Every field has a default so that a
//! CSV dropped into `data/` renders with no other edit.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{line_of, read_utf8, Error, Result};

pub(crate) const FILE_NAME: &str = "site.toml";
/// The largest tank `tank_litres` may name (a road tanker holds about 40,000 litres).
pub(crate) const MAX_TANK_LITRES: u32 = 100_000;
/// The most notes one index page may list: keeps every page small (a summary is
/// about 600 bytes) whatever `notes_per_page` says.
pub(crate) const MAX_NOTES_PER_PAGE: usize = 500;
/// The most notes the home page may list (`home_notes`): it is one page, and 20,000
/// notes with `home_notes = 20000` made it 12 MB.
pub(crate) const MAX_HOME_NOTES: usize = 100;
/// The most decisions a feed may carry (`feed_decisions`): an entry of a dataset of
/// 64 series takes up to ~6 KB, and a 1,000,000-row dataset would otherwise put every
/// row in its feed.
pub(crate) const MAX_FEED_DECISIONS: usize = 200;
/// The longest text, in characters, of a site.toml setting that pages repeat: a label
/// is written in every table header, chart legend, tooltip and feed entry, a title on
/// every page of its dataset, so an unbounded one made every page as long as it. A
/// series label is drawn in the chart's legend, so it has an event label's bound.
const MAX_LABEL_CHARS: usize = crate::events::MAX_LABEL;
const MAX_TITLE_CHARS: usize = 200;
const MAX_WORD_CHARS: usize = 40;
/// A currency prefixes every value a page or chart writes (`Rs 64.25`, `US$ 75.10`).
const MAX_CURRENCY_CHARS: usize = 10;
const MAX_TEXT_CHARS: usize = 1_000;
const MAX_URL_CHARS: usize = 2_000;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct SiteConfig {
    pub(crate) title: String,
    /// Absolute URL the site is published at, used for canonical links, the feed and
    /// the sitemap. No trailing slash is needed.
    pub(crate) base_url: String,
    pub(crate) description: String,
    pub(crate) language: String,
    pub(crate) author: String,
    /// The dataset whose rows `api/prices.json` publishes in the old app's shape.
    pub(crate) primary_dataset: String,
    /// The line of site.toml that sets `primary_dataset`, if one does: without it the
    /// build falls back to the first dataset; with it, a name that is no dataset's is
    /// refused there.
    #[serde(skip)]
    pub(crate) primary_dataset_line: Option<usize>,
    /// How many notes the home page lists.
    pub(crate) home_notes: usize,
    /// How many of the newest price decisions go in the Atom feed.
    pub(crate) feed_decisions: usize,
    /// Notes per page of the notes index and of each tag's page.
    pub(crate) notes_per_page: usize,
    pub(crate) cache: CacheConfig,
    pub(crate) datasets: BTreeMap<String, DatasetMeta>,
}

impl Default for SiteConfig {
    fn default() -> Self {
        SiteConfig {
            title: "Petrol Watch".into(),
            base_url: "http://localhost:8080".into(),
            description: "Fuel prices in Mauritius since 2004, and workshop notes.".into(),
            language: "en".into(),
            author: "Petrol Watch".into(),
            primary_dataset: "fuel-prices".into(),
            primary_dataset_line: None,
            home_notes: 5,
            feed_decisions: 20,
            notes_per_page: 20,
            cache: CacheConfig::default(),
            datasets: BTreeMap::new(),
        }
    }
}

/// Lifetimes, in seconds, for the `Cache-Control` of pages, feeds, JSON and CSV.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct CacheConfig {
    /// `max-age`: how long a browser keeps a page.
    pub(crate) browser_max_age: u32,
    /// `s-maxage`: how long the Firebase Hosting CDN keeps a page.
    pub(crate) cdn_max_age: u32,
    /// Lifetime of a 404, short so that a new page is not hidden for long.
    pub(crate) not_found_max_age: u32,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            browser_max_age: 300,
            cdn_max_age: 3600,
            not_found_max_age: 60,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct DatasetMeta {
    pub(crate) title: Option<String>,
    pub(crate) description: Option<String>,
    /// Unit of every value, e.g. `Rs/litre`.
    pub(crate) unit: Option<String>,
    /// Short prefix shown before values, e.g. `Rs`.
    pub(crate) currency: Option<String>,
    pub(crate) source: Option<String>,
    pub(crate) source_url: Option<String>,
    /// The licence the site publishes this dataset under, by name (e.g. `CC BY 4.0`),
    /// and where it is written out; both go on the page and in its JSON-LD.
    pub(crate) license: Option<String>,
    pub(crate) license_url: Option<String>,
    /// Position in menus and on the home page; lower first, then by name.
    pub(crate) order: Option<i32>,
    /// What one row is, for page text: "decision" (the default) or e.g. "month".
    pub(crate) row_noun: Option<String>,
    /// How the date column reads: "In force from" (the default) or e.g. "Month".
    pub(crate) date_label: Option<String>,
    pub(crate) series: BTreeMap<String, SeriesMeta>,
    /// Litres in a full tank: the page shows what filling one costs at today's price.
    pub(crate) tank_litres: Option<u32>,
    /// Another dataset to set this one beside, by slug (e.g. `brent-crude`): the page
    /// says in numbers how each moved since the last decision and over the years.
    pub(crate) compare: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct SeriesMeta {
    pub(crate) label: Option<String>,
    /// A CSS colour (`#rrggbb`) for the series' line and swatch.
    pub(crate) colour: Option<String>,
}

impl SiteConfig {
    /// Loads `site.toml` from the site root; a missing file means all defaults.
    pub(crate) fn load(root: &Path) -> Result<SiteConfig> {
        let path = root.join(FILE_NAME);
        if !path.exists() {
            return Ok(SiteConfig::default());
        }
        let text = read_utf8(&path)?;
        let config = Self::parse(&text, &path)?;
        Ok(config)
    }

    pub(crate) fn parse(text: &str, path: &Path) -> Result<SiteConfig> {
        let mut config: SiteConfig = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
            Error::at(path, line, format!("invalid TOML: {}", e.message()))
        })?;
        // Where settings are, as the TOML parser saw them: a search of the text would
        // also find a line of a multi-line string, and miss a quoted key.
        #[derive(Deserialize)]
        struct Where {
            primary_dataset: Option<toml::Spanned<toml::Value>>,
            notes_per_page: Option<toml::Spanned<toml::Value>>,
        }
        let at = toml::from_str::<Where>(text).ok();
        let line_of_setting = |setting: Option<&toml::Spanned<toml::Value>>| {
            setting.map(|s| line_of(text, s.span().start))
        };
        config.primary_dataset_line =
            line_of_setting(at.as_ref().and_then(|w| w.primary_dataset.as_ref()));
        let notes_per_page_line =
            line_of_setting(at.as_ref().and_then(|w| w.notes_per_page.as_ref())).unwrap_or(1);
        config.base_url = config.base_url.trim_end_matches('/').to_string();
        if !(config.base_url.starts_with("http://") || config.base_url.starts_with("https://")) {
            return Err(Error::in_file(
                path,
                format!(
                    "base_url {:?} must start with http:// or https://",
                    config.base_url
                ),
            ));
        }
        if !(1..=MAX_NOTES_PER_PAGE).contains(&config.notes_per_page) {
            return Err(Error::at(
                path,
                notes_per_page_line,
                format!(
                    "notes_per_page = {}: want a whole number from 1 to {MAX_NOTES_PER_PAGE}",
                    config.notes_per_page
                ),
            ));
        }
        config.check_counts(text, path)?;
        config.check_lengths(text, path)?;
        for (name, meta) in &config.datasets {
            if let Some(litres) = meta.tank_litres {
                if !(1..=MAX_TANK_LITRES).contains(&litres) {
                    return Err(Error::in_file(
                        path,
                        format!("datasets.{name}.tank_litres = {litres}: want a whole number of litres from 1 to {MAX_TANK_LITRES}"),
                    ));
                }
            }
            for (series, s) in &meta.series {
                if let Some(colour) = &s.colour {
                    if !is_hex_colour(colour) {
                        return Err(Error::in_file(
                            path,
                            format!("datasets.{name}.series.{series}.colour {colour:?} is not a #rrggbb colour"),
                        ));
                    }
                }
            }
        }
        Ok(config)
    }
}

impl SiteConfig {
    /// The dataset `api/prices.json` publishes, and `price` and `import` edit by
    /// default, among `names` (the datasets, in page order): the one site.toml names,
    /// else `fuel-prices`, else the first. `None` when site.toml names one that is not
    /// among them.
    pub(crate) fn primary_among<'a>(&'a self, names: &[&'a str]) -> Option<&'a str> {
        if names.contains(&self.primary_dataset.as_str()) {
            return Some(&self.primary_dataset);
        }
        match self.primary_dataset_line {
            Some(_) => None,
            None => names.first().copied(),
        }
    }

    fn check_counts(&self, text: &str, path: &Path) -> Result<()> {
        for (key, value, max) in [
            ("home_notes", self.home_notes, MAX_HOME_NOTES),
            ("feed_decisions", self.feed_decisions, MAX_FEED_DECISIONS),
        ] {
            if value > max {
                return Err(Error::at(
                    path,
                    line_of_key(text, key, None),
                    format!("{key} = {value}: want a whole number from 0 to {max}"),
                ));
            }
        }
        Ok(())
    }

    /// Every text a page repeats is refused past its length, at its line.
    fn check_lengths(&self, text: &str, path: &Path) -> Result<()> {
        let mut fields: Vec<(String, &str, &str, usize)> = vec![
            (
                "title".into(),
                "title",
                self.title.as_str(),
                MAX_TITLE_CHARS,
            ),
            (
                "description".into(),
                "description",
                self.description.as_str(),
                MAX_TEXT_CHARS,
            ),
            (
                "author".into(),
                "author",
                self.author.as_str(),
                MAX_TITLE_CHARS,
            ),
            (
                "language".into(),
                "language",
                self.language.as_str(),
                MAX_WORD_CHARS,
            ),
            (
                "base_url".into(),
                "base_url",
                self.base_url.as_str(),
                MAX_URL_CHARS,
            ),
        ];
        for (name, d) in &self.datasets {
            let optional = [
                ("title", &d.title, MAX_TITLE_CHARS),
                ("description", &d.description, MAX_TEXT_CHARS),
                ("unit", &d.unit, MAX_WORD_CHARS),
                ("currency", &d.currency, MAX_CURRENCY_CHARS),
                ("source", &d.source, MAX_TITLE_CHARS),
                ("source_url", &d.source_url, MAX_URL_CHARS),
                ("license", &d.license, MAX_TITLE_CHARS),
                ("license_url", &d.license_url, MAX_URL_CHARS),
                ("row_noun", &d.row_noun, MAX_WORD_CHARS),
                ("date_label", &d.date_label, MAX_WORD_CHARS),
                ("compare", &d.compare, MAX_TITLE_CHARS),
            ];
            for (key, value, max) in optional {
                if let Some(value) = value {
                    fields.push((format!("datasets.{name}.{key}"), key, value.as_str(), max));
                }
            }
            for (series, s) in &d.series {
                if let Some(label) = &s.label {
                    fields.push((
                        format!("datasets.{name}.series.{series}.label"),
                        "label",
                        label.as_str(),
                        MAX_LABEL_CHARS,
                    ));
                }
            }
        }
        for (name, key, value, max) in fields {
            let chars = value.chars().count();
            if chars > max {
                return Err(Error::at(
                    path,
                    line_of_key(text, key, Some(value)),
                    format!("{name} is {chars} characters long: want at most {max}"),
                ));
            }
        }
        Ok(())
    }
}

/// The line (1-based) that sets `key`: the first that starts with it and, when
/// `value` is given, holds its first characters (a key such as `label` is set in many
/// tables); the first line setting `key` otherwise, or line 1.
fn line_of_key(text: &str, key: &str, value: Option<&str>) -> usize {
    let sets = |l: &str| {
        l.trim_start()
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    };
    let head: Option<String> = value.map(|v| v.chars().take(40).collect());
    let lines = || text.lines().enumerate();
    lines()
        .find(|(_, l)| sets(l) && head.as_deref().is_none_or(|h| l.contains(h)))
        .or_else(|| lines().find(|(_, l)| sets(l)))
        .map_or(1, |(i, _)| i + 1)
}

pub(crate) fn is_hex_colour(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit())
}
