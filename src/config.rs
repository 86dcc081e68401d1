//! `site.toml`: the site's title, base URL and description, cache lifetimes for the
//! server, and optional metadata for each dataset. Every field has a default so that a
//! CSV dropped into `data/` renders with no other edit.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{line_of, read_utf8, Error, Result};

pub const FILE_NAME: &str = "site.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SiteConfig {
    pub title: String,
    /// Absolute URL the site is published at, used for canonical links, the feed and
    /// the sitemap. No trailing slash is needed.
    pub base_url: String,
    pub description: String,
    pub language: String,
    pub author: String,
    /// The dataset whose rows `api/prices.json` publishes in the old app's shape.
    pub primary_dataset: String,
    /// How many notes the home page lists.
    pub home_notes: usize,
    /// How many of the newest price decisions go in the Atom feed.
    pub feed_decisions: usize,
    pub cache: CacheConfig,
    pub datasets: BTreeMap<String, DatasetMeta>,
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
            home_notes: 5,
            feed_decisions: 20,
            cache: CacheConfig::default(),
            datasets: BTreeMap::new(),
        }
    }
}

/// Lifetimes, in seconds, for the `Cache-Control` of pages, feeds, JSON and CSV.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// `max-age`: how long a browser keeps a page.
    pub browser_max_age: u32,
    /// `s-maxage`: how long the Firebase Hosting CDN keeps a page.
    pub cdn_max_age: u32,
    /// Lifetime of a 404, short so that a new page is not hidden for long.
    pub not_found_max_age: u32,
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
pub struct DatasetMeta {
    pub title: Option<String>,
    pub description: Option<String>,
    /// Unit of every value, e.g. `Rs/litre`.
    pub unit: Option<String>,
    /// Short prefix shown before values, e.g. `Rs`.
    pub currency: Option<String>,
    pub source: Option<String>,
    pub source_url: Option<String>,
    /// Position in menus and on the home page; lower first, then by name.
    pub order: Option<i32>,
    /// What one row is, for page text: "decision" (the default) or e.g. "month".
    pub row_noun: Option<String>,
    /// How the date column reads: "In force from" (the default) or e.g. "Month".
    pub date_label: Option<String>,
    pub series: BTreeMap<String, SeriesMeta>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SeriesMeta {
    pub label: Option<String>,
    /// A CSS colour (`#rrggbb`) for the series' line and swatch.
    pub colour: Option<String>,
}

impl SiteConfig {
    /// Loads `site.toml` from the site root; a missing file means all defaults.
    pub fn load(root: &Path) -> Result<SiteConfig> {
        let path = root.join(FILE_NAME);
        if !path.exists() {
            return Ok(SiteConfig::default());
        }
        let text = read_utf8(&path)?;
        let config = Self::parse(&text, &path)?;
        Ok(config)
    }

    pub fn parse(text: &str, path: &Path) -> Result<SiteConfig> {
        let mut config: SiteConfig = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
            Error::at(path, line, format!("invalid TOML: {}", e.message()))
        })?;
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
        for (name, meta) in &config.datasets {
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

pub fn is_hex_colour(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit())
}
