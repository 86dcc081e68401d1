//! Price CSVs → validated, date-ordered series.
//!
//! A dataset is one `data/<slug>.csv` with the header `date,<series>,<series>…`, ISO
//! dates and exact values ([`Price`]). Spreadsheet exports (UTF-8 BOM, CRLF, blank lines,
//! no final newline, rows newest first) are accepted; anything ambiguous is refused with
//! the file and physical line, because a wrongly drawn price history is worse than none.
//! Each row keeps its line and byte span so edits can change exactly that row.

use std::ops::Range;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::config::{DatasetMeta, SiteConfig};
use crate::error::{line_of, read_utf8, Error, Result};
use crate::price::Price;

/// The CSV exactly as validated: column names and rows in date order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Table {
    pub(crate) path: PathBuf,
    /// Series column names, without `date`.
    pub(crate) columns: Vec<String>,
    /// Rows sorted by date, oldest first.
    pub(crate) rows: Vec<Row>,
    /// Digits after the decimal point, per column: the most any row writes.
    pub(crate) decimals: Vec<usize>,
    /// Where the header line ends (before its line ending): a first row goes here.
    pub(crate) header_end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub(crate) date: NaiveDate,
    pub(crate) values: Vec<Price>,
    /// 1-based physical line in the source file where the row starts (every line
    /// counts: blank ones, quoted line breaks, CRLF as one).
    pub(crate) line: usize,
    /// The row's bytes in the source text, without its line ending, so an edit
    /// replaces exactly this row.
    pub(crate) span: Range<usize>,
}

/// A table together with what the site says about it.
#[derive(Debug, Clone)]
pub(crate) struct Dataset {
    pub(crate) slug: String,
    pub(crate) title: String,
    pub(crate) description: Option<String>,
    pub(crate) unit: String,
    pub(crate) currency: String,
    pub(crate) source: Option<String>,
    pub(crate) source_url: Option<String>,
    pub(crate) order: i32,
    pub(crate) row_noun: String,
    pub(crate) date_label: String,
    pub(crate) series: Vec<Series>,
    pub(crate) table: Table,
}

#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub(crate) key: String,
    pub(crate) label: String,
    pub(crate) colour: String,
    pub(crate) decimals: usize,
}

/// Most series one dataset may have. A header is text anyone can grow, and every
/// series is drawn and tabled on each page, so a bound keeps a build from running for
/// hours on a 200,000-column header.
pub(crate) const MAX_SERIES: usize = 64;

/// Colours that read on both the light and the dark theme, used in order for series
/// that `site.toml` gives no colour.
pub(crate) const PALETTE: [&str; 6] = [
    "#e8590c", "#1c7ed6", "#2f9e44", "#ae3ec9", "#f59f00", "#0c8599",
];

/// Counts physical lines up to byte offsets that only move forward, so numbering all
/// rows is one pass over the text. A line ends at LF, CRLF or a lone CR.
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: usize,
}

impl LineCounter<'_> {
    fn line_at(&mut self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        while self.offset < offset {
            match self.text[self.offset] {
                b'\n' => self.line += 1,
                b'\r' if self.text.get(self.offset + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
            self.offset += 1;
        }
        self.line
    }
}

/// Parses one CSV file's text. `path` is only used in messages. A dataset needs at
/// least one row.
pub(crate) fn parse_table(text: &str, path: &Path) -> Result<Table> {
    let table = parse_rows(text, path)?;
    if table.rows.is_empty() {
        let line = line_of(text, table.header_end);
        return Err(Error::at(path, line, "no rows after the header"));
    }
    Ok(table)
}

/// Like [`parse_table`], but a header with no rows yet is a valid table: the state of
/// a new dataset before `price add` writes its first row.
pub(crate) fn parse_rows(text: &str, path: &Path) -> Result<Table> {
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    if text[bom..].trim().is_empty() {
        return Err(Error::at(
            path,
            1,
            "empty file (want a header line `date,<series>,…` and rows)",
        ));
    }
    let bytes = text.as_bytes();
    let mut lines = LineCounter {
        text: bytes,
        offset: 0,
        line: 1,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&bytes[bom..]);
    // The csv crate skips blank lines without counting them, so its line numbers drift;
    // its byte offsets are exact, and the lines are counted here from those.
    let mut record = csv::StringRecord::new();
    let span_of = |reader: &csv::Reader<&[u8]>, record: &csv::StringRecord| {
        let mut start = bom + record.position().map_or(0, |p| p.byte() as usize);
        while matches!(bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        let mut end = bom + reader.position().byte() as usize;
        while end > start && matches!(bytes[end - 1], b'\r' | b'\n') {
            end -= 1;
        }
        start..end
    };
    let read = |reader: &mut csv::Reader<&[u8]>, record: &mut csv::StringRecord| {
        reader.read_record(record).map_err(|e| {
            let at = bom + e.position().map_or(0, |p| p.byte() as usize);
            Error::at(path, line_of(text, at), format!("malformed CSV: {e}"))
        })
    };
    if !read(&mut reader, &mut record)? {
        return Err(Error::at(path, 1, "empty file"));
    }
    let header_span = span_of(&reader, &record);
    let header_line = lines.line_at(header_span.start);
    let header: Vec<String> = record.iter().map(|s| s.trim().to_string()).collect();
    let names: Vec<&str> = header.iter().map(String::as_str).collect();
    if names.first().copied() != Some("date") {
        return Err(Error::at(
            path,
            header_line,
            format!(
                "missing header: want `date,<series>,…`, found `{}`",
                names.join(",")
            ),
        ));
    }
    let columns: Vec<String> = names[1..].iter().map(|s| s.to_string()).collect();
    if columns.is_empty() {
        return Err(Error::at(
            path,
            header_line,
            "header names no series after `date`",
        ));
    }
    if columns.len() > MAX_SERIES {
        return Err(Error::at(
            path,
            header_line,
            format!(
                "{} series; at most {MAX_SERIES} (each is a line on the chart and a column of every table)",
                columns.len()
            ),
        ));
    }
    for (i, c) in columns.iter().enumerate() {
        if c.is_empty()
            || !c
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
        {
            return Err(Error::at(
                path,
                header_line,
                format!("series name {c:?} must be letters, digits, `-` or `_`"),
            ));
        }
        if c == "date" {
            return Err(Error::at(
                path,
                header_line,
                "`date` appears twice in the header; it can only be the first column",
            ));
        }
        if columns[..i].contains(c) {
            return Err(Error::at(
                path,
                header_line,
                format!("series {c:?} appears twice in the header"),
            ));
        }
    }
    let width = names.len();

    let mut rows: Vec<Row> = Vec::new();
    let mut decimals = vec![0usize; columns.len()];
    while read(&mut reader, &mut record)? {
        let span = span_of(&reader, &record);
        let line = lines.line_at(span.start);
        if record.iter().all(|f| f.trim().is_empty()) {
            continue; // a blank line, as spreadsheets leave at the end
        }
        if record.len() != width {
            return Err(Error::at(
                path,
                line,
                format!(
                    "{} fields, want {width} (`{}`)",
                    record.len(),
                    names.join(",")
                ),
            ));
        }
        let date = parse_date(record[0].trim()).ok_or_else(|| {
            Error::at(
                path,
                line,
                format!(
                    "{:?} is not a valid date (want YYYY-MM-DD)",
                    record[0].chars().take(40).collect::<String>()
                ),
            )
        })?;
        let mut values = Vec::with_capacity(columns.len());
        for (i, field) in record.iter().skip(1).enumerate() {
            let (value, places) = Price::parse(field.trim())
                .map_err(|why| Error::at(path, line, format!("{}: {why}", columns[i])))?;
            decimals[i] = decimals[i].max(places);
            values.push(value);
        }
        rows.push(Row {
            date,
            values,
            line,
            span,
        });
    }
    // Spreadsheets and the STC page list newest first; a stable sort keeps duplicates
    // next to each other so the check below can name both lines.
    rows.sort_by_key(|r| r.date);
    for pair in rows.windows(2) {
        if pair[0].date == pair[1].date {
            let (a, b) = (
                pair[0].line.min(pair[1].line),
                pair[0].line.max(pair[1].line),
            );
            return Err(Error::at(
                path,
                b,
                format!("duplicate date {} (also on line {a}); a kept price needs its own decision date", pair[1].date),
            ));
        }
    }
    Ok(Table {
        path: path.to_path_buf(),
        columns,
        rows,
        decimals,
        header_end: header_span.end,
    })
}

/// Strict `YYYY-MM-DD`: the real calendar, four-digit year. Read digit by digit, as a
/// dataset can have 100,000 rows and a format-string parser is slow at that scale.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| {
        b[range].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    NaiveDate::from_ymd_opt(number(0..4)? as i32, number(5..7)?, number(8..10)?)
}

impl Dataset {
    pub(crate) fn new(slug: &str, table: Table, meta: Option<&DatasetMeta>) -> Dataset {
        let default_meta = DatasetMeta::default();
        let meta = meta.unwrap_or(&default_meta);
        let series = table
            .columns
            .iter()
            .enumerate()
            .map(|(i, key)| {
                let s = meta.series.get(key);
                Series {
                    key: key.clone(),
                    label: s
                        .and_then(|s| s.label.clone())
                        .unwrap_or_else(|| title_case(key)),
                    colour: s
                        .and_then(|s| s.colour.clone())
                        .unwrap_or_else(|| PALETTE[i % PALETTE.len()].to_string()),
                    decimals: table.decimals[i],
                }
            })
            .collect();
        Dataset {
            slug: slug.to_string(),
            title: meta.title.clone().unwrap_or_else(|| title_case(slug)),
            description: meta.description.clone(),
            unit: meta.unit.clone().unwrap_or_default(),
            currency: meta.currency.clone().unwrap_or_default(),
            source: meta.source.clone(),
            source_url: meta.source_url.clone(),
            order: meta.order.unwrap_or(100),
            row_noun: meta.row_noun.clone().unwrap_or_else(|| "decision".into()),
            date_label: meta
                .date_label
                .clone()
                .unwrap_or_else(|| "In force from".into()),
            series,
            table,
        }
    }

    pub(crate) fn first_date(&self) -> NaiveDate {
        self.table.rows[0].date
    }
    pub(crate) fn last_date(&self) -> NaiveDate {
        self.table.rows[self.table.rows.len() - 1].date
    }
}

/// `fuel-prices` → `Fuel Prices`, `gas_oil` → `Gas Oil`.
pub(crate) fn title_case(s: &str) -> String {
    s.split(['-', '_', ' '])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Loads every `*.csv` in `dir`, in parallel, sorted by `order` then slug. Reports all
/// broken files at once rather than one per run.
pub(crate) fn load_datasets(dir: &Path, config: &SiteConfig) -> Result<Vec<Dataset>> {
    use rayon::prelude::*;
    let mut paths = Vec::new();
    if dir.is_dir() {
        for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
            let path = entry.map_err(|e| Error::io(dir, e))?.path();
            if path.extension().is_some_and(|e| e == "csv") && !is_hidden(&path) {
                paths.push(path);
            }
        }
    }
    paths.sort();
    let results: Vec<Result<Dataset>> = paths
        .par_iter()
        .map(|path| {
            let slug = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            let text = read_utf8(path)?;
            let table = parse_table(&text, path)?;
            Ok(Dataset::new(&slug, table, config.datasets.get(&slug)))
        })
        .collect();
    let (ok, errors): (Vec<_>, Vec<_>) = results.into_iter().partition(|r| r.is_ok());
    Error::collect(errors.into_iter().filter_map(|r| r.err()).collect())?;
    let mut datasets: Vec<Dataset> = ok.into_iter().filter_map(|r| r.ok()).collect();
    datasets.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.slug.cmp(&b.slug)));
    for slug in config.datasets.keys() {
        if !datasets.iter().any(|d| &d.slug == slug) {
            return Err(Error::in_file(
                Path::new(crate::config::FILE_NAME),
                format!("[datasets.{slug}] describes data/{slug}.csv, which does not exist"),
            ));
        }
    }
    Ok(datasets)
}

pub(crate) fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Table> {
        parse_table(text, Path::new("data/t.csv"))
    }

    #[test]
    fn accepts_bom_crlf_and_no_final_newline_and_sorts() {
        let t = parse("\u{feff}date,a,b\r\n2005-01-01,2.50,3\r\n2004-01-01,1.25,2").unwrap();
        assert_eq!(t.columns, ["a", "b"]);
        assert_eq!(t.rows[0].date.to_string(), "2004-01-01");
        assert_eq!(t.rows[0].line, 3);
        assert_eq!(t.decimals, [2, 0]);
    }

    #[test]
    fn rejects_bad_values_with_line() {
        for (bad, want) in [
            ("2004-13-40,1", ":2: \"2004-13-40\" is not a valid date"),
            ("2004-01-01,-1", ":2: a: \"-1\" is not a price"),
            ("2004-01-01,NaN", "is not a price"),
            ("2004-01-01,inf", "is not a price"),
            ("2004-01-01,1e3", "is not a price"),
            ("2004-01-01", ":2: 1 fields, want 2"),
            ("2004-01-01,1,2", ":2: 3 fields, want 2"),
        ] {
            let err = parse(&format!("date,a\n{bad}\n")).unwrap_err().to_string();
            assert!(err.contains(want), "{bad}: {err}");
        }
    }

    #[test]
    fn rejects_duplicate_dates_naming_both_lines() {
        let err = parse("date,a\n2004-01-01,1\n2005-01-01,1\n2004-01-01,2\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(":4: duplicate date 2004-01-01 (also on line 2)"),
            "{err}"
        );
    }

    #[test]
    fn line_numbers_count_blank_lines_crlf_and_quoted_breaks() {
        let t = parse("date,a\n\n\n\n\n2004-01-01,1\n").unwrap();
        assert_eq!(t.rows[0].line, 6);
        let err = parse("date,a\r\n\r\n2004-01-01,1\r\n\r\n\r\n2005-01-01,x\r\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("t.csv:6: a:"), "{err}");
        let text = "\u{feff}date,a\n\"2004-01-01\",\"1\"\n\n2005-01-01,2";
        let t = parse(text).unwrap();
        assert_eq!(&text[t.rows[0].span.clone()], "\"2004-01-01\",\"1\"");
        assert_eq!(
            (t.rows[1].line, &text[t.rows[1].span.clone()]),
            (4, "2005-01-01,2")
        );
    }

    #[test]
    fn values_are_exact_and_bounded() {
        let t = parse("date,a\n2004-01-01,123456789012.123456\n").unwrap();
        assert_eq!(
            t.rows[0].values[0].format(t.decimals[0]),
            "123456789012.123456"
        );
        let err = parse("date,a\n2004-01-01,123456789012.1234567\n").unwrap_err();
        assert!(err.to_string().contains(":2: a: "), "{err}");
        let err = parse("date,date,a\n2004-01-01,2004-01-01,1\n").unwrap_err();
        assert!(
            err.to_string().contains(":1: `date` appears twice"),
            "{err}"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_csv_text_parses_or_names_a_line(text in "(date,a\r?\n)?([0-9,.\"\r\n -]|2004-01-0[1-9]|\u{feff}){0,60}") {
            match parse(&text) {
                Ok(t) => {
                    proptest::prop_assert!(!t.rows.is_empty());
                    for r in &t.rows {
                        proptest::prop_assert!(r.line >= 1 && r.line <= 1 + text.matches(['\n', '\r']).count());
                        proptest::prop_assert!(text.get(r.span.clone()).is_some());
                    }
                }
                Err(e) => proptest::prop_assert!(e.to_string().starts_with("data/t.csv:"), "{}", e),
            }
        }
    }
}
