//! Reuse keys: a hash of everything an output is made from, including the program's
//! identity (from `build.rs`). A file whose key matches the previous build's is kept
//! without rendering, so a key that misses an input publishes stale bytes; the reuse
//! tests edit each kind of input and compare against a cold build.

use std::hash::Hash;

use xxhash_rust::xxh3::Xxh3;

use crate::data::Dataset;
use crate::notes::Note;

/// This program's identity: changes whenever its source, dependencies, compiler or
/// features do.
pub(crate) const PROGRAM_ID: &str = env!("PETROL_WATCH_PROGRAM_ID");

/// Keys for one build: every page's key starts from `global`.
pub(crate) struct Keys {
    global: u128,
}

impl Keys {
    /// `global` covers what every page shows: templates, config, asset names and the
    /// navigation (dataset slugs and titles).
    pub(crate) fn new(global: impl Fn(&mut Xxh3)) -> Keys {
        let mut h = Xxh3::new();
        PROGRAM_ID.hash(&mut h);
        global(&mut h);
        Keys {
            global: h.digest128(),
        }
    }

    /// A page's key: the global inputs plus its own.
    pub(crate) fn page(&self, add: impl Fn(&mut Xxh3)) -> u128 {
        let mut h = Xxh3::new();
        self.global.hash(&mut h);
        add(&mut h);
        h.digest128()
    }
}

/// A data file's key: the program, what kind of file, and the dataset alone (data
/// files use no template or config beyond the dataset's own).
pub(crate) fn data_key(d: &Dataset, kind: &str) -> u128 {
    let mut h = Xxh3::new();
    (PROGRAM_ID, kind).hash(&mut h);
    dataset(d, &mut h);
    h.digest128()
}

/// A chart's key: a data file's key plus the events that may be drawn on it.
pub(crate) fn chart_key(d: &Dataset, kind: &str, events: &[crate::events::Event]) -> u128 {
    let mut h = Xxh3::new();
    (PROGRAM_ID, kind).hash(&mut h);
    dataset(d, &mut h);
    for e in events.iter().filter(|e| e.applies_to(&d.slug)) {
        e.hash(&mut h);
    }
    h.digest128()
}

/// Everything a note's page is made from. The body's shortcodes are already expanded
/// (`crate::shortcodes`), so the figures and chart files a note quotes from the datasets
/// are part of its key: a new price row re-renders exactly the notes whose text changes.
pub(crate) fn note(note: &Note, h: &mut Xxh3) {
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
    (note.toc, &note.aliases).hash(h);
}

/// Everything a dataset's outputs are made from: metadata, series and every value.
pub(crate) fn dataset(d: &Dataset, h: &mut Xxh3) {
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
    // Every date and value, hashed once when the dataset was loaded.
    d.content_hash.hash(h);
}

/// A note image variant's key: the source file's bytes (as their hash), the width and
/// encoding it is made at, the encoder's quality and the program. Decoding is the slow
/// part of a build with photos, so an unchanged image is never decoded again.
pub(crate) fn image_key(source: u128, width: u32, encoding: impl Hash, quality: u32) -> u128 {
    let mut h = Xxh3::new();
    (PROGRAM_ID, "note-image", source, width, encoding, quality).hash(&mut h);
    h.digest128()
}

/// 8 hex digits of `hash`, for file names that change with what they hold.
pub(crate) fn short_hex(hash: u128) -> String {
    format!("{:08x}", (hash >> 96) as u32)
}
