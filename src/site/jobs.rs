//! Render jobs: turn each planned output into bytes and hand it to the sink, every job
//! side by side. A job with a reuse key lets the sink keep the previous build's file
//! instead of rendering; the others are rendered and compared.

use std::hash::Hash;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use chrono::NaiveDate;

use rayon::prelude::*;

use super::keys::{self, Keys};
use super::load::Inputs;
use super::output::Sink;
use super::pages::{self, NoteSummary, Renderer};
use super::plan::{self, ChartView, Job, Plan};
use super::{aliases, feeds, share, Summary};
use crate::chart::{self, ChartEvent, ChartSeries, ChartSize, ChartSpec};
use crate::data::Dataset;
use crate::error::Result;
use crate::events::Event;
use crate::notes;
use crate::shortcodes::NoteChart;

/// Renders every planned output into `sink`.
pub(crate) fn render(inputs: &Inputs, plan: &Plan, sink: &dyn Sink) -> Result<Summary> {
    let started = Instant::now();
    let config = &inputs.config;
    let notes = &inputs.notes;

    // What lists show about each note, made the first time a list needs it: a warm
    // build that renders no list reads no note's first paragraph.
    let summaries: Vec<OnceLock<NoteSummary>> = notes.iter().map(|_| OnceLock::new()).collect();
    let summary = |i: usize| -> NoteSummary {
        summaries[i]
            .get_or_init(|| {
                let note = &notes[i];
                pages::note_summary(note, pages::summary_of(note))
            })
            .clone()
    };
    // Pages, lists and feeds are keyed by what their notes are made of, each note
    // hashed once.
    let note_keys: Vec<u128> = notes
        .par_iter()
        .map(|note| {
            let mut h = xxhash_rust::xxh3::Xxh3::new();
            keys::note(note, &mut h);
            h.digest128()
        })
        .collect();
    let every_note: Vec<usize> = (0..notes.len()).collect();
    let tag_rows: Vec<(String, String, usize)> = plan
        .tags
        .iter()
        .map(|t| (t.name.clone(), pages::tag_url(&t.name), t.notes.len()))
        .collect();
    // The first notes page's tag list: the most used tags (ties to the first by slug),
    // shown in slug order like the tags index (`São Tomé` files under `sao-tome`).
    let top_tags: Vec<(String, String, usize)> = {
        let mut most_used: Vec<usize> = (0..tag_rows.len()).collect();
        most_used.sort_by_key(|&i| (std::cmp::Reverse(tag_rows[i].2), i));
        most_used.truncate(pages::NOTES_INDEX_TAGS);
        most_used.sort_unstable();
        most_used.iter().map(|&i| tag_rows[i].clone()).collect()
    };
    let per_page = config.notes_per_page;
    let chain = &neighbours(notes);
    let renderer = &Renderer::new(
        &inputs.templates,
        config,
        &plan.assets,
        &inputs.datasets,
        &plan.share_images,
    );
    let keys = &Keys::new(|h| {
        inputs.templates_hash.hash(h);
        format!("{config:?}").hash(h);
        plan.assets.hash(h);
        for d in &inputs.datasets {
            (&d.slug, &d.title).hash(h);
        }
    });

    let compared = |d: &Dataset| {
        let slug = config.datasets.get(&d.slug)?.compare.as_ref()?;
        inputs.datasets.iter().find(|o| &o.slug == slug)
    };
    let dataset_keys: &std::collections::HashMap<&str, u128> = &inputs
        .datasets
        .par_iter()
        .map(|d| (d.slug.as_str(), keys::data_key(d, "pages")))
        .collect();

    // Code blocks as the sink answers them: it may remember them from an earlier build.
    let code_block: notes::CodeBlocks = &|info, code| sink.code_block(info, code);

    // The bodies of the notes the site feed carries, each rendered once for its page
    // and the feed by whichever job comes first. Only these are held: all of them
    // would be every note's HTML in memory at once.
    let shared_bodies: &Vec<OnceLock<notes::Body>> = &(0..notes.len().min(feeds::SITE_FEED_NOTES))
        .map(|_| OnceLock::new())
        .collect();

    // Image variants actually decoded and encoded (not kept from the previous build).
    let images_made = &AtomicUsize::new(0);
    plan.outputs.par_iter().try_for_each(|out| -> Result<()> {
        let path = out.path.as_str();
        let page = |key: Option<u128>, render: &(dyn Fn() -> Result<String> + Sync)| match key {
            Some(k) => sink.put_keyed(path, k, &|| Ok(render()?.into_bytes())),
            None => sink.put(path, render()?.as_bytes()),
        };
        match &out.job {
            Job::Static(bytes) => sink.put(path, bytes),
            Job::Chart(d, view, size, key) => sink.put_keyed(path, *key, &|| {
                Ok(chart_svg(d, *view, *size, &inputs.events).into_bytes())
            }),
            Job::NoteChart(i, size) => {
                let chart = &inputs.note_charts[*i];
                sink.put_keyed(path, chart.file(*size).1, &|| {
                    Ok(note_chart_svg(&inputs.datasets[chart.dataset], chart, *size).into_bytes())
                })
            }
            Job::NoteImage(i, v) => {
                let image = &inputs.note_images[*i];
                sink.put_keyed(path, image.variants[*v].key, &|| {
                    images_made.fetch_add(1, Ordering::Relaxed);
                    image.render(*v)
                })
            }
            Job::Note(i) => {
                let note = &notes[*i];
                let (newer, older) = chain[*i];
                let (newer, older) = (newer.map(|j| &notes[j]), older.map(|j| &notes[j]));
                let key = keys.page(|h| {
                    note_keys[*i].hash(h);
                    newer.map(|n| (&n.slug, &n.title)).hash(h);
                    older.map(|n| (&n.slug, &n.title)).hash(h);
                });
                page(Some(key), &|| {
                    let summary = pages::summary_of(note);
                    let fresh;
                    let body = match shared_bodies.get(*i) {
                        Some(cell) => {
                            cell.get_or_init(|| notes::render_body(&note.body, code_block))
                        }
                        None => {
                            fresh = notes::render_body(&note.body, code_block);
                            &fresh
                        }
                    };
                    renderer.note(
                        note,
                        &body.html,
                        &summary,
                        newer,
                        older,
                        &notes::table_of_contents(note.toc, &body.headings),
                    )
                })
            }
            Job::Tag(t, k) => {
                let tag = &plan.tags[*t];
                let ids = pages::page_slice(&tag.notes, per_page, *k);
                let pager = pages::pager(*k, pages::page_count(tag.notes.len(), per_page), |k| {
                    pages::tag_page_url(&tag.name, k)
                });
                let key = keys.page(|h| {
                    (&tag.name, tag.notes.len(), &pager).hash(h);
                    ids.iter().for_each(|&i| note_keys[i].hash(h));
                });
                page(Some(key), &|| {
                    let list: Vec<NoteSummary> = ids.iter().map(|&i| summary(i)).collect();
                    renderer.tag(&tag.name, &list, tag.notes.len(), &pager)
                })
            }
            Job::TagFeed(t) => {
                let tag = &plan.tags[*t];
                let key = keys.page(|h| {
                    tag.name.hash(h);
                    // Each note's hash, not the note again: a note with 20,000 tags
                    // would otherwise be hashed whole (tags and all) 20,000 times.
                    for &i in tag.notes.iter().take(feeds::SITE_FEED_NOTES) {
                        note_keys[i].hash(h);
                    }
                });
                page(Some(key), &|| Ok(feeds::tag_feed(inputs, tag)))
            }
            Job::Alias(i) => {
                let note = &notes[*i];
                let key = keys.page(|h| ("alias", &note.slug, &note.title).hash(h));
                page(Some(key), &|| Ok(aliases::redirect_page(config, note)))
            }
            Job::Redirects => page(None, &|| Ok(aliases::redirect_list(notes))),
            Job::Home => page(None, &|| {
                let latest: Vec<NoteSummary> = (0..notes.len().min(config.home_notes))
                    .map(summary)
                    .collect();
                renderer.home(&inputs.datasets, &plan.charts, &latest)
            }),
            Job::NotesIndex(k) => {
                let ids = pages::page_slice(&every_note, per_page, *k);
                // The tag list and its count are on the first page only.
                let (tags, tag_total): (&[(String, String, usize)], usize) = match k {
                    1 => (&top_tags, tag_rows.len()),
                    _ => (&[], 0),
                };
                let pager = pages::pager(
                    *k,
                    pages::page_count(notes.len(), per_page),
                    pages::notes_page_url,
                );
                let key = keys.page(|h| {
                    (tags, tag_total, &pager).hash(h);
                    ids.iter().for_each(|&i| note_keys[i].hash(h));
                });
                page(Some(key), &|| {
                    let list: Vec<NoteSummary> = ids.iter().map(|&i| summary(i)).collect();
                    renderer.notes_index(&list, tags, tag_total, &pager)
                })
            }
            Job::TagsIndex(k) => page(None, &|| {
                let pager = pages::pager(
                    *k,
                    pages::page_count(tag_rows.len(), pages::TAGS_PER_PAGE),
                    pages::tags_page_url,
                );
                let rows = pages::page_slice(&tag_rows, pages::TAGS_PER_PAGE, *k);
                renderer.tags_index(rows, &pager)
            }),
            Job::PricesIndex(k) => page(None, &|| {
                let datasets = &inputs.datasets;
                let pager = pages::pager(
                    *k,
                    pages::page_count(datasets.len(), pages::DATASETS_PER_PAGE),
                    pages::prices_page_url,
                );
                let on_page = pages::page_slice(datasets, pages::DATASETS_PER_PAGE, *k);
                renderer.prices_index(on_page, datasets.len(), &pager)
            }),
            Job::NotFound => page(None, &|| renderer.not_found()),
            // Keyed, so a warm build does not render the newest notes' markdown (and
            // highlight their code) again just for the feed.
            Job::Feed => page(
                Some(keys.page(|h| {
                    for k in note_keys.iter().take(feeds::SITE_FEED_NOTES) {
                        k.hash(h);
                    }
                    for d in &inputs.datasets {
                        keys::dataset(d, h);
                    }
                })),
                &|| {
                    Ok(feeds::site_feed(inputs, |i| {
                        shared_bodies[i]
                            .get_or_init(|| notes::render_body(&notes[i].body, code_block))
                    }))
                },
            ),
            Job::Sitemap => page(None, &|| {
                let sitemap = &plan.sitemap;
                Ok(match sitemap.parts.as_slice() {
                    [_] => feeds::sitemap(&config.base_url, &sitemap.urls),
                    _ => feeds::sitemap_index(&config.base_url, &sitemap.index()),
                })
            }),
            Job::SitemapPart(k) => page(None, &|| {
                let urls = &plan.sitemap.urls[plan.sitemap.parts[k - 1].clone()];
                Ok(feeds::sitemap(&config.base_url, urls))
            }),
            Job::Robots => page(None, &|| Ok(feeds::robots(&config.base_url))),
            Job::Dataset(d) => {
                let chart = &plan.charts[&d.slug];
                let compare = compared(d);
                let key = keys.page(|h| {
                    keys::dataset(d, h);
                    chart.hash(h);
                    if let Some(o) = compare {
                        keys::dataset(o, h);
                    }
                });
                page(Some(key), &|| renderer.dataset(d, chart, compare))
            }
            Job::DatasetYear(d, page) => {
                // The whole dataset is hashed once, not once per year page.
                let key =
                    keys.page(|h| (dataset_keys[d.slug.as_str()], page.year, page.number).hash(h));
                sink.put_archive_keyed(path, key, &|| {
                    Ok(renderer.dataset_year(d, page)?.into_bytes())
                })
            }
            Job::DatasetFeed(d) => page(
                Some(keys.page(|h| dataset_keys[d.slug.as_str()].hash(h))),
                &|| Ok(feeds::dataset_feed(config, d)),
            ),
            // Written through to the file and its compressors: the downloads are the
            // only outputs that grow with the data.
            Job::Json(d) | Job::LegacyApi(d) => {
                sink.put_streamed(path, keys::data_key(d, "json"), &|out| {
                    feeds::write_dataset_json(d, out)
                })
            }
            Job::Csv(d) => sink.put_streamed(path, keys::data_key(d, "csv"), &|out| {
                feeds::write_dataset_csv(d, out)
            }),
            Job::Share(i) => {
                let planned = &plan.share[*i];
                sink.put_keyed(path, planned.key, &|| share::render(&planned.card, path))
            }
        }
    })?;

    Ok(Summary {
        pages: plan
            .outputs
            .iter()
            .filter(|o| o.path.ends_with(".html"))
            .count(),
        charts: plan
            .charts
            .values()
            .map(|c| c.views.len() * 2)
            .sum::<usize>()
            + inputs.note_charts.len() * 2,
        files: plan.outputs.len(),
        images: inputs.note_images.iter().map(|i| i.variants.len()).sum(),
        images_made: images_made.load(Ordering::Relaxed),
        reused: 0,
        elapsed: started.elapsed(),
        up_to_date: false,
    })
}

/// Each note's newer and older neighbour among the published notes (newest first):
/// drafts are left out of the chain, and a draft's own page links to none.
fn neighbours(notes: &[notes::Note]) -> Vec<(Option<usize>, Option<usize>)> {
    let published: Vec<usize> = (0..notes.len()).filter(|&i| !notes[i].draft).collect();
    let mut chain = vec![(None, None); notes.len()];
    for (k, &i) in published.iter().enumerate() {
        chain[i] = (
            k.checked_sub(1).map(|k| published[k]),
            published.get(k + 1).copied(),
        );
    }
    chain
}

/// One of a dataset's step charts: a period, at one size, with the events that fall
/// in it.
fn chart_svg(d: &Dataset, view: ChartView, size: ChartSize, events: &[Event]) -> String {
    let (title, alt) = plan::chart_text(d, view);
    let series: Vec<usize> = (0..d.series.len()).collect();
    let events = events
        .iter()
        .filter(|e| e.applies_to(&d.slug))
        .map(|e| ChartEvent {
            date: e.date,
            label: &e.label,
            source: &e.source,
        })
        .collect();
    let window = Window {
        series: &series,
        start: view.start(d),
        end: d.last_date(),
    };
    draw_window(d, &window, (&title, &alt), events, size)
}

/// A chart a note asked for: the window `from..=to` of some of a dataset's series,
/// drawn by the same renderer as the dataset pages (without the events, which belong
/// to the dataset's own charts).
fn note_chart_svg(d: &Dataset, chart: &NoteChart, size: ChartSize) -> String {
    let window = Window {
        series: &chart.series,
        start: chart.from,
        end: chart.to,
    };
    draw_window(
        d,
        &window,
        (&chart.title, &chart.description),
        Vec::new(),
        size,
    )
}

/// Which part of a dataset a chart shows: some of its series, from `start` to `end`.
struct Window<'a> {
    series: &'a [usize],
    start: NaiveDate,
    end: NaiveDate,
}

/// Draws a window of a dataset. Values reach the chart as floats for drawing and as
/// the price type's exact text for labels and tooltips.
fn draw_window(
    d: &Dataset,
    window: &Window,
    (title, description): (&str, &str),
    events: Vec<ChartEvent>,
    size: ChartSize,
) -> String {
    let t = &d.table;
    // The decision in force when the window opens, then every one inside it.
    let first = t
        .dates
        .partition_point(|r| *r <= window.start)
        .saturating_sub(1);
    let last = t.dates.partition_point(|r| *r <= window.end);
    let dates = &t.dates[first..last];
    let currency = if d.currency.is_empty() {
        String::new()
    } else {
        format!("{} ", d.currency)
    };
    let texts: Vec<Box<dyn Fn(usize) -> String + Sync>> = window
        .series
        .iter()
        .map(|&i| {
            let decimals = d.series[i].decimals;
            let currency = currency.clone();
            let column = &t.values[i][first..last];
            Box::new(move |k: usize| format!("{currency}{}", column[k].format(decimals)))
                as Box<dyn Fn(usize) -> String + Sync>
        })
        .collect();
    chart::render_step_chart(&ChartSpec {
        title,
        description,
        unit: &d.unit,
        series: window
            .series
            .iter()
            .zip(&texts)
            .map(|(&i, text)| ChartSeries {
                label: &d.series[i].label,
                colour: &d.series[i].colour,
                points: dates
                    .iter()
                    .zip(&t.values[i][first..last])
                    .map(|(date, v)| (*date, v.to_f64()))
                    .collect(),
                value_text: text.as_ref(),
            })
            .collect(),
        events,
        start: window.start,
        end: window.end,
        size,
    })
}
