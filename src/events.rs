//! Events: dated happenings the charts mark with a labelled vertical line, read from
//! `data/events.toml`, a file the maintainer edits. Each event names its source, and a
//! bad date is refused with the file and line.
//!
//! The file sits beside the CSVs because it is data too; the dataset loader reads only
//! `*.csv`, so it is never taken for a dataset.

use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;
use toml::Spanned;

use crate::error::{line_of, read_utf8, Error, Result};

/// Where events live, relative to the site root.
pub(crate) const FILE_NAME: &str = "data/events.toml";

/// More than this many events would crowd every chart; the file is refused.
pub(crate) const MAX_EVENTS: usize = 64;

/// A label longer than this would run across the chart; it is refused.
pub(crate) const MAX_LABEL: usize = 40;

/// A source is every chart's tooltip for its event: the bundled ones take up to 180
/// characters, and an unbounded one was copied into each of a dataset's six charts.
pub(crate) const MAX_SOURCE: usize = 200;

/// One event to mark on the charts whose time span holds its date.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub(crate) struct Event {
    pub(crate) date: NaiveDate,
    /// A few words drawn beside the marker.
    pub(crate) label: String,
    /// Where the fact comes from, e.g. "U.S. EIA".
    pub(crate) source: String,
    /// Dataset slugs this event is drawn on; empty means every dataset.
    pub(crate) datasets: Vec<String>,
    /// The line of `datasets`, for an error when it names no dataset.
    pub(crate) datasets_line: usize,
}

impl Event {
    pub(crate) fn applies_to(&self, slug: &str) -> bool {
        self.datasets.is_empty() || self.datasets.iter().any(|d| d == slug)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    event: Vec<RawEvent>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    date: Spanned<String>,
    label: Spanned<String>,
    source: Spanned<String>,
    datasets: Option<Spanned<Vec<String>>>,
}

/// Reads `data/events.toml` under `root`; no file means no events.
pub(crate) fn load(root: &Path) -> Result<Vec<Event>> {
    let path = root.join(FILE_NAME);
    if !path.exists() {
        return Ok(Vec::new());
    }
    parse(&read_utf8(&path)?, &path)
}

/// Parses the events file's text; `path` is only for messages.
pub(crate) fn parse(text: &str, path: &Path) -> Result<Vec<Event>> {
    let file: File = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
        Error::at(path, line, format!("invalid TOML: {}", e.message()))
    })?;
    if file.event.len() > MAX_EVENTS {
        return Err(Error::in_file(
            path,
            format!(
                "{} events, over the {MAX_EVENTS} a chart can show legibly; remove some",
                file.event.len()
            ),
        ));
    }
    let mut errors = Vec::new();
    let mut events = Vec::with_capacity(file.event.len());
    for raw in file.event {
        let at = |s: &std::ops::Range<usize>| line_of(text, s.start);
        let date = match crate::data::parse_date(raw.date.get_ref().trim()) {
            Some(d) => d,
            None => {
                errors.push(Error::at(
                    path,
                    at(&raw.date.span()),
                    format!(
                        "{:?} is not a valid date (want YYYY-MM-DD)",
                        raw.date.get_ref()
                    ),
                ));
                continue;
            }
        };
        if raw.label.get_ref().trim().chars().count() > MAX_LABEL {
            errors.push(Error::at(
                path,
                at(&raw.label.span()),
                format!(
                    "an event's label is drawn on the chart: at most {MAX_LABEL} characters (put the detail in `source`)"
                ),
            ));
        }
        let source_chars = raw.source.get_ref().trim().chars().count();
        if source_chars > MAX_SOURCE {
            errors.push(Error::at(
                path,
                at(&raw.source.span()),
                format!(
                    "an event's source is {source_chars} characters long: want at most {MAX_SOURCE} (it is the tooltip on every chart that marks it)"
                ),
            ));
        }
        for (field, value) in [("label", &raw.label), ("source", &raw.source)] {
            if value.get_ref().trim().is_empty() {
                errors.push(Error::at(
                    path,
                    at(&value.span()),
                    format!("an event's {field} must not be empty"),
                ));
            }
        }
        events.push(Event {
            date,
            label: raw.label.into_inner().trim().to_string(),
            source: raw.source.into_inner().trim().to_string(),
            datasets_line: raw.datasets.as_ref().map_or(0, |d| at(&d.span())),
            datasets: raw.datasets.map(|d| d.into_inner()).unwrap_or_default(),
        });
    }
    Error::collect(errors)?;
    events.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.label.cmp(&b.label)));
    Ok(events)
}

/// Refuses an event limited to a dataset that does not exist (a typo would hide it).
pub(crate) fn check_datasets(events: &[Event], slugs: &[&str], path: &Path) -> Result<()> {
    let mut errors = Vec::new();
    for e in events {
        for d in e.datasets.iter().filter(|d| !slugs.contains(&d.as_str())) {
            errors.push(Error::at(
                path,
                e.datasets_line,
                format!(
                    "the event {:?} names the dataset {d:?}, but there is no data/{d}.csv",
                    e.label
                ),
            ));
        }
    }
    Error::collect(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_date_names_its_line() {
        let text = "[[event]]\ndate = \"2020-03-11\"\nlabel = \"a\"\nsource = \"b\"\n\n[[event]]\ndate = \"2022-02-30\"\nlabel = \"c\"\nsource = \"d\"\n";
        let err = parse(text, Path::new("data/events.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("data/events.toml:7:"), "{err}");
        assert!(err.contains("2022-02-30"), "{err}");
    }

    #[test]
    fn too_many_events_or_a_long_label_are_refused_with_a_message() {
        let one = "[[event]]\ndate = \"2020-03-11\"\nlabel = \"a\"\nsource = \"b\"\n";
        let many = one.repeat(MAX_EVENTS + 1);
        let err = parse(&many, Path::new("e.toml")).unwrap_err().to_string();
        assert!(err.contains("65 events, over the 64"), "{err}");
        assert_eq!(
            parse(&one.repeat(MAX_EVENTS), Path::new("e.toml"))
                .unwrap()
                .len(),
            64
        );
        let long = one.replace("label = \"a\"", &format!("label = \"{}\"", "x".repeat(41)));
        let err = parse(&long, Path::new("e.toml")).unwrap_err().to_string();
        assert!(
            err.contains("e.toml:3:") && err.contains("at most 40"),
            "{err}"
        );
    }
}
