//! Price CSVs → validated, date-ordered series.
//!
//! A dataset is one `data/<slug>.csv` with the header `date,<series>,<series>…`, ISO
//! dates and exact values ([`Price`]). Spreadsheet exports (UTF-8 BOM, CRLF, blank lines,
//! no final newline, rows newest first) are accepted; anything ambiguous is refused with
//! the file and physical line, because a wrongly drawn price history is worse than none.
//! The text is read row by row into compact columns ([`Table`]); each row's line and
//! byte span are kept only for the editor ([`parse_table_at`]), so edits change exactly
//! that row.

use std::ops::Range;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use xxhash_rust::xxh3::Xxh3;

use crate::config::{DatasetMeta, SiteConfig};
use crate::error::{line_of, read_utf8, Error, Result};
use crate::price::{shorten, Price};

/// The CSV exactly as validated, in columns: one date per row and, per series, one
/// exact value per row, in date order. Nothing per row lives on the heap, so a
/// 1,000,000-row file of two series takes 20 MB, whatever its text looked like.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Table {
    pub(crate) path: PathBuf,
    /// Series column names, without `date`.
    pub(crate) columns: Vec<String>,
    /// Row dates, oldest first.
    pub(crate) dates: Vec<NaiveDate>,
    /// Per series (in `columns` order), the value of each row of `dates`.
    pub(crate) values: Vec<Vec<Price>>,
    /// Digits after the decimal point, per column: the most any row writes.
    pub(crate) decimals: Vec<usize>,
    /// Where the header line ends (before its line ending): a first row goes here.
    pub(crate) header_end: usize,
}

impl Table {
    /// How many rows.
    pub(crate) fn len(&self) -> usize {
        self.dates.len()
    }

    /// Series `s` of row `i`.
    pub(crate) fn value(&self, i: usize, s: usize) -> Price {
        self.values[s][i]
    }

    /// A hash of the dates and values, fed to the hasher in blocks: one call per
    /// value would cost more than the hashing itself at 1,000,000 rows.
    pub(crate) fn content_hash(&self) -> u128 {
        let mut h = Xxh3::new();
        let mut block = Vec::with_capacity(1 << 16);
        let mut feed = |bytes: &[u8], h: &mut Xxh3| {
            block.extend_from_slice(bytes);
            if block.len() >= 1 << 16 {
                h.update(&block);
                block.clear();
            }
        };
        feed(&(self.len() as u64).to_le_bytes(), &mut h);
        for date in &self.dates {
            feed(&date.num_days_from_ce().to_le_bytes(), &mut h);
        }
        for column in &self.values {
            for value in column {
                feed(&value.micros().to_le_bytes(), &mut h);
            }
        }
        h.update(&block);
        h.digest128()
    }

    /// Index of the row in force on `date`: the last one dated on or before it.
    pub(crate) fn in_force(&self, date: NaiveDate) -> Option<usize> {
        self.dates.partition_point(|d| *d <= date).checked_sub(1)
    }
}

/// Where one row is in its file, for the editor: kept only when asked for
/// ([`parse_table_at`]), as a build never needs it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RowAt {
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
    /// Every date is the 1st of its month: a monthly series. Found once here, as every
    /// page of the dataset asks.
    pub(crate) monthly: bool,
    /// A hash of every date and value, computed once: each reuse key of the dataset's
    /// outputs (a dozen charts, pages and downloads) includes it.
    pub(crate) content_hash: u128,
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
        if self.offset < offset {
            // Only line breaks are looked at, found a vector at a time: a 1,000,000-row
            // file is 24 MB to count through.
            for at in memchr::memchr2_iter(b'\n', b'\r', &self.text[self.offset..offset]) {
                let at = self.offset + at;
                if self.text[at] == b'\n' || self.text.get(at + 1) != Some(&b'\n') {
                    self.line += 1;
                }
            }
            self.offset = offset;
        }
        self.line
    }
}

/// Parses one CSV file's text. `path` is only used in messages. A dataset needs at
/// least one row.
pub(crate) fn parse_table(text: &str, path: &Path) -> Result<Table> {
    Ok(parse(text, path, true, false)?.0)
}

/// [`parse_table`] for the editor: also where each row is in the text, in the table's
/// row order. With `need_rows` false, a header with no rows yet is a valid table: the
/// state of a new dataset before `price add` writes its first row.
pub(crate) fn parse_table_at(
    text: &str,
    path: &Path,
    need_rows: bool,
) -> Result<(Table, Vec<RowAt>)> {
    parse(text, path, need_rows, true)
}

fn parse(
    text: &str,
    path: &Path,
    need_rows: bool,
    keep_spans: bool,
) -> Result<(Table, Vec<RowAt>)> {
    parse_in_pieces(text, path, need_rows, keep_spans, PIECE_BYTES)
}

/// [`parse`], reading the rows in pieces of about `piece_bytes` (see [`read_body`]).
fn parse_in_pieces(
    text: &str,
    path: &Path,
    need_rows: bool,
    keep_spans: bool,
    piece_bytes: usize,
) -> Result<(Table, Vec<RowAt>)> {
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
    let mut first = Records::new(text, bom..text.len(), path);
    if !first.next()? {
        return Err(Error::at(path, 1, "empty file"));
    }
    let header_span = first.span();
    let header_line = lines.line_at(header_span.start);
    let header: Vec<String> = first.record.iter().map(|s| s.trim().to_string()).collect();
    let names: Vec<&str> = header.iter().map(String::as_str).collect();
    if names.first().copied() != Some("date") {
        return Err(Error::at(
            path,
            header_line,
            format!(
                "missing header: want `date,<series>,…`, found {}",
                shorten(&names.join(","))
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
                format!(
                    "series name {} must be letters, digits, `-` or `_`",
                    shorten(c)
                ),
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
                format!("series {} appears twice in the header", shorten(c)),
            ));
        }
    }
    let body_start = bom + first.reader.position().byte() as usize;
    let Rows {
        mut dates,
        mut values,
        lines: mut row_lines,
        mut spans,
        decimals,
    } = read_body(text, body_start, &names, path, keep_spans, piece_bytes)?;
    if need_rows && dates.is_empty() {
        let line = line_of(text, header_span.end);
        return Err(Error::at(path, line, "no rows after the header"));
    }
    // Spreadsheets and the STC page list newest first; a stable sort keeps duplicates
    // next to each other, in file order, so the check below can name both lines. Rows
    // already in order (the usual file) skip the permutation.
    if !dates.is_sorted() {
        let mut order: Vec<usize> = (0..dates.len()).collect();
        order.sort_by_key(|&i| dates[i]);
        dates = order.iter().map(|&i| dates[i]).collect();
        for column in &mut values {
            *column = order.iter().map(|&i| column[i]).collect();
        }
        row_lines = order.iter().map(|&i| row_lines[i]).collect();
        if keep_spans {
            spans = order.iter().map(|&i| spans[i].clone()).collect();
        }
    }
    if let Some(k) = dates.windows(2).position(|pair| pair[0] == pair[1]) {
        let (a, b) = (
            row_lines[k].min(row_lines[k + 1]),
            row_lines[k].max(row_lines[k + 1]),
        );
        return Err(Error::at(
            path,
            b,
            format!(
                "duplicate date {} (also on line {a}); a kept price needs its own decision date",
                dates[k]
            ),
        ));
    }
    let at = if keep_spans {
        row_lines
            .into_iter()
            .zip(spans)
            .map(|(line, span)| RowAt { line, span })
            .collect()
    } else {
        Vec::new()
    };
    let table = Table {
        path: path.to_path_buf(),
        columns,
        dates,
        values,
        decimals,
        header_end: header_span.end,
    };
    Ok((table, at))
}

/// The records of `range` of a CSV text, read by the csv crate, with where each is in
/// the text. The crate skips blank lines without counting them, so its line numbers
/// drift; its byte offsets are exact, and lines are counted from those.
struct Records<'a> {
    text: &'a str,
    base: usize,
    path: &'a Path,
    reader: csv::Reader<&'a [u8]>,
    record: csv::StringRecord,
}

impl<'a> Records<'a> {
    fn new(text: &'a str, mut range: Range<usize>, path: &'a Path) -> Records<'a> {
        // The csv crate drops a BOM at the start of what it reads. After a line break
        // (a piece of rows) one is a row's text, as a reader of the whole file sees
        // it: start on that line break, which the reader skips as a blank line.
        let bytes = text.as_bytes();
        if range.start > 0
            && matches!(bytes[range.start - 1], b'\n' | b'\r')
            && text[range.clone()].starts_with('\u{feff}')
        {
            range.start -= 1;
        }
        Records {
            text,
            base: range.start,
            path,
            reader: csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(&text.as_bytes()[range]),
            record: csv::StringRecord::new(),
        }
    }

    /// Reads the next record; false at the end.
    fn next(&mut self) -> Result<bool> {
        self.reader.read_record(&mut self.record).map_err(|e| {
            let at = self.base + e.position().map_or(0, |p| p.byte() as usize);
            Error::at(
                self.path,
                line_of(self.text, at),
                format!("malformed CSV: {e}"),
            )
        })
    }

    /// The last record's bytes in the text, without line endings.
    fn span(&self) -> Range<usize> {
        let bytes = self.text.as_bytes();
        let mut start = self.base + self.record.position().map_or(0, |p| p.byte() as usize);
        while matches!(bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        let mut end = self.base + self.reader.position().byte() as usize;
        while end > start && matches!(bytes[end - 1], b'\r' | b'\n') {
            end -= 1;
        }
        start..end
    }
}

/// Rows of text read in one piece below this size. A 1,000,000-row file (24 MB) is
/// otherwise a quarter of a second on one core while the build's other threads wait
/// for it; in pieces, every core reads one.
const PIECE_BYTES: usize = 1 << 20;

/// The rows of one piece of a file, or of all of them, in file order.
struct Rows {
    dates: Vec<NaiveDate>,
    values: Vec<Vec<Price>>,
    /// Each row's line, only until the duplicate check has named them.
    lines: Vec<usize>,
    spans: Vec<Range<usize>>,
    decimals: Vec<usize>,
}

/// Reads every row after the header (from `start`), in pieces of about `piece_bytes`
/// side by side, and joins them in file order: the same rows, lines, spans and first
/// error as reading them in one pass. Pieces end at a line feed, so they need text
/// without quotes (a quoted field may hold a line break, and only a reader that saw
/// the opening quote knows); a file with any is read in one piece. Hand-written
/// because the csv crate reads one stream from the start; each piece is still read
/// by it.
fn read_body(
    text: &str,
    start: usize,
    names: &[&str],
    path: &Path,
    keep_spans: bool,
    piece_bytes: usize,
) -> Result<Rows> {
    let bytes = text.as_bytes();
    let pieces = pieces(bytes, start, piece_bytes.max(1));
    if let [only] = &pieces[..] {
        let first_line = LineCounter {
            text: bytes,
            offset: 0,
            line: 1,
        }
        .line_at(only.start);
        return read_rows(text, only.clone(), first_line, names, path, keep_spans);
    }
    use rayon::prelude::*;
    // The line each piece starts on: line breaks counted in each piece side by side,
    // then added up (a piece ends at a line feed, so no CRLF is split between two).
    let breaks: Vec<usize> = std::iter::once(0..start)
        .chain(pieces.iter().cloned())
        .collect::<Vec<_>>()
        .par_iter()
        .map(|range| {
            let mut lines = LineCounter {
                text: bytes,
                offset: range.start,
                line: 0,
            };
            lines.line_at(range.end)
        })
        .collect();
    let first_lines = breaks.iter().scan(1, |line, n| {
        *line += n;
        Some(*line)
    });
    let read: Vec<Result<Rows>> = pieces
        .into_par_iter()
        .zip(first_lines.collect::<Vec<_>>())
        .map(|(range, line)| read_rows(text, range, line, names, path, keep_spans))
        .collect();
    let total = read.iter().flatten().map(|rows| rows.dates.len()).sum();
    let mut all = Rows {
        dates: Vec::with_capacity(total),
        values: (1..names.len())
            .map(|_| Vec::with_capacity(total))
            .collect(),
        lines: Vec::with_capacity(total),
        spans: Vec::new(),
        decimals: vec![0; names.len() - 1],
    };
    for rows in read {
        // The first error in file order, as one pass would stop at.
        let rows = rows?;
        all.dates.extend(rows.dates);
        for (column, piece) in all.values.iter_mut().zip(rows.values) {
            column.extend(piece);
        }
        all.lines.extend(rows.lines);
        all.spans.extend(rows.spans);
        for (most, piece) in all.decimals.iter_mut().zip(rows.decimals) {
            *most = (*most).max(piece);
        }
    }
    Ok(all)
}

/// `start..` cut into ranges of about `piece_bytes`, each ending just after a line
/// feed (the last at the end of the text); one range when the text has a quote.
fn pieces(bytes: &[u8], start: usize, piece_bytes: usize) -> Vec<Range<usize>> {
    let mut pieces = Vec::new();
    let mut from = start;
    if !bytes[start..].contains(&b'"') {
        while bytes.len() - from > piece_bytes {
            let Some(feed) = bytes[from + piece_bytes..].iter().position(|&b| b == b'\n') else {
                break;
            };
            let end = from + piece_bytes + feed + 1;
            pieces.push(from..end);
            from = end;
        }
    }
    pieces.push(from..bytes.len());
    pieces
}

/// The rows in `range` of `text`, which starts a line (`first_line`): each checked
/// against the header's `names`, blank lines skipped, spans kept when asked.
fn read_rows(
    text: &str,
    range: Range<usize>,
    first_line: usize,
    names: &[&str],
    path: &Path,
    keep_spans: bool,
) -> Result<Rows> {
    let mut lines = LineCounter {
        text: text.as_bytes(),
        offset: range.start,
        line: first_line,
    };
    let mut records = Records::new(text, range, path);
    let width = names.len();
    let columns = &names[1..];
    let mut rows = Rows {
        dates: Vec::new(),
        values: vec![Vec::new(); columns.len()],
        lines: Vec::new(),
        spans: Vec::new(),
        decimals: vec![0; columns.len()],
    };
    while records.next()? {
        let span = records.span();
        let record = &records.record;
        let line = lines.line_at(span.start);
        if record.iter().all(|f| f.trim().is_empty()) {
            continue; // a blank line, as spreadsheets leave at the end
        }
        if record.len() != width {
            return Err(Error::at(
                path,
                line,
                format!(
                    "{} fields, want {width} ({})",
                    record.len(),
                    shorten(&names.join(","))
                ),
            ));
        }
        let date = parse_date(record[0].trim()).ok_or_else(|| {
            Error::at(
                path,
                line,
                format!(
                    "{} is not a valid date (want YYYY-MM-DD)",
                    shorten(&record[0])
                ),
            )
        })?;
        for (i, field) in record.iter().skip(1).enumerate() {
            let (value, places) = Price::parse(field.trim())
                .map_err(|why| Error::at(path, line, format!("{}: {why}", columns[i])))?;
            rows.decimals[i] = rows.decimals[i].max(places);
            rows.values[i].push(value);
        }
        rows.dates.push(date);
        rows.lines.push(line);
        if keep_spans {
            rows.spans.push(span);
        }
    }
    Ok(rows)
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
            order: order_of(Some(meta)),
            row_noun: meta.row_noun.clone().unwrap_or_else(|| "decision".into()),
            date_label: meta
                .date_label
                .clone()
                .unwrap_or_else(|| "In force from".into()),
            series,
            monthly: table.dates.iter().all(|d| d.day() == 1),
            content_hash: table.content_hash(),
            table,
        }
    }

    pub(crate) fn first_date(&self) -> NaiveDate {
        self.table.dates[0]
    }
    pub(crate) fn last_date(&self) -> NaiveDate {
        self.table.dates[self.table.len() - 1]
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
    let results: Vec<Result<Dataset>> = csv_files(dir)?
        .par_iter()
        .map(|(path, slug)| {
            let text = read_utf8(path)?;
            let table = parse_table(&text, path)?;
            Ok(Dataset::new(slug, table, config.datasets.get(slug)))
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

/// Where a dataset goes in menus and lists: site.toml's `order`, else after those
/// that have one (then by name).
fn order_of(meta: Option<&DatasetMeta>) -> i32 {
    meta.and_then(|m| m.order).unwrap_or(100)
}

/// The `*.csv` files in `dir` (not hidden), by name, each with its dataset name.
fn csv_files(dir: &Path) -> Result<Vec<(PathBuf, String)>> {
    let mut files = Vec::new();
    if dir.is_dir() {
        for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
            let path = entry.map_err(|e| Error::io(dir, e))?.path();
            if path.extension().is_some_and(|e| e == "csv") && !is_hidden(&path) {
                let slug = path
                    .file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .to_string();
                files.push((path, slug));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The names of the datasets in `dir`, in the order the site lists them, without
/// reading them: for the commands that pick one (see `SiteConfig::primary_among`).
pub(crate) fn dataset_names(dir: &Path, config: &SiteConfig) -> Result<Vec<String>> {
    let mut names: Vec<String> = csv_files(dir)?.into_iter().map(|(_, slug)| slug).collect();
    names.sort_by_key(|slug| (order_of(config.datasets.get(slug)), slug.clone()));
    Ok(names)
}

pub(crate) fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy as _;

    fn parse(text: &str) -> Result<Table> {
        parse_table(text, Path::new("data/t.csv"))
    }

    fn parse_at(text: &str) -> Result<(Table, Vec<RowAt>)> {
        parse_table_at(text, Path::new("data/t.csv"), true)
    }

    #[test]
    fn accepts_bom_crlf_and_no_final_newline_and_sorts() {
        let (t, at) =
            parse_at("\u{feff}date,a,b\r\n2005-01-01,2.50,3\r\n2004-01-01,1.25,2").unwrap();
        assert_eq!(t.columns, ["a", "b"]);
        assert_eq!(t.dates[0].to_string(), "2004-01-01");
        assert_eq!(t.values[1][0].format(0), "2");
        assert_eq!(at[0].line, 3);
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
        let (_, at) = parse_at("date,a\n\n\n\n\n2004-01-01,1\n").unwrap();
        assert_eq!(at[0].line, 6);
        let err = parse("date,a\r\n\r\n2004-01-01,1\r\n\r\n\r\n2005-01-01,x\r\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("t.csv:6: a:"), "{err}");
        let text = "\u{feff}date,a\n\"2004-01-01\",\"1\"\n\n2005-01-01,2";
        let (_, at) = parse_at(text).unwrap();
        assert_eq!(&text[at[0].span.clone()], "\"2004-01-01\",\"1\"");
        assert_eq!((at[1].line, &text[at[1].span.clone()]), (4, "2005-01-01,2"));
    }

    #[test]
    fn values_are_exact_and_bounded() {
        let t = parse("date,a\n2004-01-01,123456789012.123456\n").unwrap();
        assert_eq!(t.value(0, 0).format(t.decimals[0]), "123456789012.123456");
        let err = parse("date,a\n2004-01-01,123456789012.1234567\n").unwrap_err();
        assert!(err.to_string().contains(":2: a: "), "{err}");
        let err = parse("date,date,a\n2004-01-01,2004-01-01,1\n").unwrap_err();
        assert!(
            err.to_string().contains(":1: `date` appears twice"),
            "{err}"
        );
    }

    /// The row-per-struct loader this module replaced, kept verbatim as the reference
    /// the column loader must match value for value and error for error.
    mod reference {
        use super::super::{parse_date, LineCounter, MAX_SERIES};
        use crate::error::{line_of, Error, Result};
        use crate::price::{shorten, Price};
        use chrono::NaiveDate;
        use std::ops::Range;
        use std::path::Path;

        #[derive(Debug)]
        pub(super) struct OldTable {
            pub(super) columns: Vec<String>,
            pub(super) rows: Vec<Row>,
            pub(super) decimals: Vec<usize>,
            pub(super) header_end: usize,
        }

        #[derive(Debug)]
        pub(super) struct Row {
            pub(super) date: NaiveDate,
            pub(super) values: Vec<Price>,
            pub(super) line: usize,
            pub(super) span: Range<usize>,
        }

        pub(super) fn parse_table(text: &str, path: &Path) -> Result<OldTable> {
            let table = parse_rows(text, path)?;
            if table.rows.is_empty() {
                let line = line_of(text, table.header_end);
                return Err(Error::at(path, line, "no rows after the header"));
            }
            Ok(table)
        }

        /// Like [`parse_table`], but a header with no rows yet is a valid table: the state of
        /// a new dataset before `price add` writes its first row.
        fn parse_rows(text: &str, path: &Path) -> Result<OldTable> {
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
                        "missing header: want `date,<series>,…`, found {}",
                        shorten(&names.join(","))
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
                        format!(
                            "series name {} must be letters, digits, `-` or `_`",
                            shorten(c)
                        ),
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
                        format!("series {} appears twice in the header", shorten(c)),
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
                            "{} fields, want {width} ({})",
                            record.len(),
                            shorten(&names.join(","))
                        ),
                    ));
                }
                let date = parse_date(record[0].trim()).ok_or_else(|| {
                    Error::at(
                        path,
                        line,
                        format!(
                            "{} is not a valid date (want YYYY-MM-DD)",
                            shorten(&record[0])
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
            Ok(OldTable {
                columns,
                rows,
                decimals,
                header_end: header_span.end,
            })
        }
    }

    /// The column loader against the reference on `text`: the same columns, dates,
    /// values, decimals, lines and spans, or the same error.
    fn same_as_reference(text: &str) -> std::result::Result<(), String> {
        let path = Path::new("data/t.csv");
        let new = parse_table_at(text, path, true).map_err(|e| e.to_string());
        let old = reference::parse_table(text, path).map_err(|e| e.to_string());
        match (new, old) {
            (Err(a), Err(b)) if a == b => Ok(()),
            (Ok((t, at)), Ok(o)) => {
                let rows: Vec<_> = o
                    .rows
                    .iter()
                    .map(|r| (r.date, r.values.clone(), r.line, r.span.clone()))
                    .collect();
                let columns: Vec<_> = (0..t.len())
                    .map(|i| {
                        let values = (0..t.columns.len()).map(|s| t.value(i, s)).collect();
                        (t.dates[i], values, at[i].line, at[i].span.clone())
                    })
                    .collect();
                let same = rows == columns
                    && (&t.columns, &t.decimals, t.header_end)
                        == (&o.columns, &o.decimals, o.header_end)
                    && t.values.iter().all(|c| c.len() == t.len());
                let plain = parse_table(text, path).map_err(|e| e.to_string());
                if same && plain.as_ref() == Ok(&t) {
                    Ok(())
                } else {
                    Err(format!("{rows:?}\nvs\n{columns:?}"))
                }
            }
            (a, b) => Err(format!(
                "{:?}\nvs reference\n{:?}",
                a.map(|_| ()),
                b.map(|_| ())
            )),
        }
    }

    #[test]
    fn a_huge_date_cell_is_quoted_short() {
        let text = format!("date,a\n{},1\n", "9".repeat(100_000));
        let message = parse(&text).unwrap_err().to_string();
        assert!(message.len() < 200, "{message}");
        assert!(
            message.contains("(100000 characters) is not a valid date"),
            "{message}"
        );
    }

    #[test]
    fn column_loader_matches_the_reference_on_edge_cases() {
        for text in [
            "\u{feff}date,a,b\r\n2005-01-01,2.50,3\r\n2004-01-01,1.25,2",
            "date,a\n2004-01-03,1\n\n2004-01-01,2.5\n\n\n2004-01-02,3.125\n",
            "date,a\n2004-01-01,1\n2005-01-01,1\n2004-01-01,2\n",
            "date,a\n2004-01-02,1\n2004-01-01,1\n2004-01-02,2\n2004-01-01,3\n",
            "date,a\n\"2004-01-01\",\"1\"\n\n2005-01-01,2",
            "date,a\n",
            "date,a\n2004-01-01,x\n",
            "",
            "date,a\n\u{feff}2004-01-01,1\n",
            "date,a\r\n\u{feff}2004-01-01,1\r\n",
            "\u{feff}\u{feff}date,a\n2004-01-01,1\n",
        ] {
            same_as_reference(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        }
    }

    proptest::proptest! {
        #[test]
        fn column_loader_matches_the_reference(
            rows in proptest::collection::vec(
                proptest::prop_oneof![
                    (1u32..29, "[0-9]{1,3}(\\.[0-9]{0,7})?", "[0-9]{1,2}(\\.[0-9]{1,3})?")
                        .prop_map(|(d, a, b)| format!("2004-02-{d:02},{a},{b}")),
                    proptest::strategy::Just(String::new()),
                    "\"2004-03-0[1-9]\",\"[0-9.]{1,4}\",1",
                    "[0-9,.\"\r\n -]{0,12}",
                ],
                0..40,
            ),
            crlf in proptest::bool::ANY,
        ) {
            let mut text = String::from("date,a,b\n");
            text.push_str(&rows.join(if crlf { "\r\n" } else { "\n" }));
            let result = same_as_reference(&text);
            proptest::prop_assert!(result.is_ok(), "{:?}: {}", text, result.unwrap_err());
        }

        /// Read in pieces as small as one byte (so a piece ends at every line feed),
        /// a file gives the same table, lines, spans and first error as in one pass.
        #[test]
        fn rows_read_in_pieces_are_the_rows_read_in_one_pass(
            rows in proptest::collection::vec(
                proptest::prop_oneof![
                    (1u32..29, "[0-9]{1,3}(\\.[0-9]{0,7})?", "[0-9]{1,2}(\\.[0-9]{1,3})?")
                        .prop_map(|(d, a, b)| format!("2004-02-{d:02},{a},{b}")),
                    proptest::strategy::Just(String::new()),
                    "[0-9,.\r\n -]{0,12}",
                    "\u{feff}?\"2004-03-0[1-9]\",1,2",
                    (1u32..29).prop_map(|d| format!("\u{feff}2004-01-{d:02},1,2")),
                ],
                0..40,
            ),
            ending in proptest::sample::select(vec!["\n", "\r\n", "\r"]),
            bom in proptest::bool::ANY,
            piece in 1usize..64,
        ) {
            let mut text = String::from(if bom { "\u{feff}date,a,b" } else { "date,a,b" });
            text.push_str(ending);
            text.push_str(&rows.join(ending));
            let path = Path::new("data/t.csv");
            let whole = parse_in_pieces(&text, path, true, true, usize::MAX)
                .map_err(|e| e.to_string());
            let pieces = parse_in_pieces(&text, path, true, true, piece)
                .map_err(|e| e.to_string());
            proptest::prop_assert_eq!(pieces, whole, "{:?}", text);
            // And one piece is what a reader of the whole file sees.
            let reference = same_as_reference(&text);
            proptest::prop_assert!(reference.is_ok(), "{:?}: {}", text, reference.unwrap_err());
        }

        #[test]
        fn any_csv_text_parses_or_names_a_line(text in "(date,a\r?\n)?([0-9,.\"\r\n -]|2004-01-0[1-9]|\u{feff}){0,60}") {
            let plain = parse(&text);
            let with_spans = parse_at(&text);
            proptest::prop_assert_eq!(
                plain.as_ref().map_err(ToString::to_string),
                with_spans.as_ref().map(|(t, _)| t).map_err(ToString::to_string)
            );
            match with_spans {
                Ok((t, at)) => {
                    proptest::prop_assert!(t.len() > 0 && at.len() == t.len());
                    proptest::prop_assert!(t.dates.is_sorted() && t.values.iter().all(|c| c.len() == t.len()));
                    for r in &at {
                        proptest::prop_assert!(r.line >= 1 && r.line <= 1 + text.matches(['\n', '\r']).count());
                        proptest::prop_assert!(text.get(r.span.clone()).is_some());
                    }
                }
                Err(e) => proptest::prop_assert!(e.to_string().starts_with("data/t.csv:"), "{}", e),
            }
        }
    }
}
