//! Share images for link previews: fills a [`crate::share::Card`] for the home page,
//! each dataset page and each note and names each PNG after a hash of its card and
//! the program (`share/notes/<slug>.3f9a1c2e.png`: a new price or title is a new URL,
//! so the file can be cached forever). The plan takes these as outputs like any other;
//! drawing the PNG is the render job.

use std::hash::Hash;

use chrono::Datelike;
use rayon::prelude::*;
use serde::Serialize;
use xxhash_rust::xxh3::Xxh3;

use super::keys::{self, PROGRAM_ID};
use super::load::Inputs;
use super::pages::{self, DatasetCard};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::share::{self, Card, Chart, ChartSeries, Direction, Line};

/// What a page's `og:image` meta says.
#[derive(Serialize, Clone, Debug, Hash)]
pub(crate) struct ShareImage {
    /// Absolute: crawlers do not resolve relative image URLs.
    pub(crate) url: String,
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) alt: String,
}

/// One page's share image, before it is drawn.
pub(crate) struct Planned {
    /// The page it is for: `/`, `/prices/<slug>/`, `/notes/<slug>/`.
    pub(crate) page: String,
    /// Where the PNG goes in the site.
    pub(crate) path: String,
    pub(crate) key: u128,
    pub(crate) card: Card,
    pub(crate) image: ShareImage,
}

/// Every page's share image: its card, its fingerprinted path and its meta.
pub(crate) fn plan(inputs: &Inputs) -> Vec<Planned> {
    let config = &inputs.config;
    let mut cards: Vec<(String, String, Card, String)> = Vec::new();
    let primary = inputs
        .datasets
        .iter()
        .find(|d| d.slug == config.primary_dataset)
        .or(inputs.datasets.first());
    if let Some(d) = primary {
        let (card, alt) = dataset_card(&config.title, "Fuel prices in Mauritius", d);
        cards.push(("/".into(), "home".into(), card, alt));
    }
    for d in &inputs.datasets {
        let (card, alt) = dataset_card(&config.title, &d.title, d);
        cards.push((
            pages::dataset_url(&d.slug),
            format!("prices/{}", d.slug),
            card,
            alt,
        ));
    }
    cards.extend(
        inputs
            .notes
            .par_iter()
            .map(|n| {
                let date = pages::human_date(n.date);
                let card = Card {
                    site_title: config.title.clone(),
                    title: n.title.clone(),
                    date_line: format!("Note · {date}"),
                    ..Card::default()
                };
                let alt = format!("“{}”, a note on {} of {date}", n.title, config.title);
                (
                    pages::note_url(&n.slug),
                    format!("notes/{}", n.slug),
                    card,
                    alt,
                )
            })
            .collect::<Vec<_>>(),
    );
    cards
        .into_iter()
        .map(|(page, stem, card, alt)| {
            let mut h = Xxh3::new();
            (PROGRAM_ID, &card).hash(&mut h);
            let key = h.digest128();
            let path = format!("share/{stem}.{}.png", keys::short_hex(key));
            let image = ShareImage {
                url: format!("{}/{path}", config.base_url.trim_end_matches('/')),
                width: share::WIDTH,
                height: share::HEIGHT,
                alt,
            };
            Planned {
                page,
                path,
                key,
                card,
                image,
            }
        })
        .collect()
}

/// Draws one planned image.
pub(crate) fn render(card: &Card, path: &str) -> Result<Vec<u8>> {
    share::render_png(card).map_err(|e| Error::in_file(std::path::Path::new(path), e.to_string()))
}

/// A dataset's card: its latest values and changes as the page shows them, and its
/// whole history as a small chart. Also the image's text alternative.
fn dataset_card(site_title: &str, title: &str, d: &Dataset) -> (Card, String) {
    let model: DatasetCard = pages::dataset_card(d);
    let money = |value: &str| {
        if model.currency.is_empty() {
            value.to_string()
        } else {
            format!("{} {value}", model.currency)
        }
    };
    let lines: Vec<Line> = model
        .series
        .iter()
        .map(|s| Line {
            label: s.label.clone(),
            value: money(&s.value),
            change: s.change.text.clone(),
            direction: match s.change.direction {
                "up" => Direction::Up,
                "down" => Direction::Down,
                "unchanged" => Direction::Unchanged,
                _ => Direction::None,
            },
            colour: s.colour.clone(),
        })
        .collect();
    let date_line = format!("{} {}", model.since, model.date);
    let chart = Chart {
        series: d
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| ChartSeries {
                colour: s.colour.clone(),
                points: d
                    .table
                    .dates
                    .iter()
                    .zip(&d.table.values[i])
                    .map(|(date, v)| (f64::from(date.num_days_from_ce()), v.to_f64()))
                    .collect(),
            })
            .collect(),
        start_label: d.first_date().year().to_string(),
        end_label: d.last_date().year().to_string(),
    };
    let values: Vec<String> = lines
        .iter()
        .map(|l| format!("{} {}, {}", l.label, l.value, l.change))
        .collect();
    let alt = format!(
        "{title}: {}; {} {}. With a chart of {} to {}.",
        values.join("; "),
        model.since.to_lowercase(),
        model.date,
        chart.start_label,
        chart.end_label
    );
    let card = Card {
        site_title: site_title.to_string(),
        title: title.to_string(),
        accent: lines.first().map(|l| l.colour.clone()).unwrap_or_default(),
        lines,
        date_line,
        chart: Some(chart),
    };
    (card, alt)
}
