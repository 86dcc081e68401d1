//! Price CSVs → validated, date-ordered series.
//!
//! A dataset is one `data/<slug>.csv` with the header `date,<series>,<series>…`, ISO
//! dates and non-negative decimal values. Spreadsheet exports (UTF-8 BOM, CRLF, no final
//! newline, rows newest first) are accepted; anything ambiguous is refused with the file
//! and line, because a wrongly drawn price history is worse than none.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::config::{DatasetMeta, SiteConfig};
use crate::error::{read_utf8, Error, Result};

/// The CSV exactly as validated: column names and rows in date order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Table {
    pub(crate) path: PathBuf,
    /// Series column names, without `date`.
    pub(crate) columns: Vec<String>,
    /// Rows sorted by date, oldest first.
    pub(crate) rows: Vec<Row>,
    /// Digits after the decimal point, per column, as written in the file.
    pub(crate) decimals: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub(crate) date: NaiveDate,
    pub(crate) values: Vec<f64>,
    /// 1-based line in the source file.
    pub(crate) line: usize,
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

/// A difference between two consecutive decisions of one series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Change {
    pub(crate) amount: f64,
    /// Relative to the previous value, in percent; `None` when that value was 0.
    pub(crate) percent: Option<f64>,
}

impl Change {
    pub(crate) fn between(previous: f64, current: f64, decimals: usize) -> Change {
        let amount = round_to(current - previous, decimals);
        let percent = (previous != 0.0).then(|| round_to(amount / previous * 100.0, 1));
        Change { amount, percent }
    }
    /// "unchanged", "up" or "down": a kept price is a real decision, not a rise.
    pub(crate) fn direction(&self) -> &'static str {
        if self.amount > 0.0 {
            "up"
        } else if self.amount < 0.0 {
            "down"
        } else {
            "unchanged"
        }
    }
}

pub(crate) fn round_to(x: f64, decimals: usize) -> f64 {
    let scale = 10f64.powi(decimals as i32);
    let rounded = (x * scale).round() / scale;
    if rounded == 0.0 {
        0.0 // no "-0.00"
    } else {
        rounded
    }
}

/// Colours that read on both the light and the dark theme, used in order for series
/// that `site.toml` gives no colour.
pub(crate) const PALETTE: [&str; 6] = [
    "#e8590c", "#1c7ed6", "#2f9e44", "#ae3ec9", "#f59f00", "#0c8599",
];

/// Parses one CSV file's text. `path` is only used in messages.
pub(crate) fn parse_table(text: &str, path: &Path) -> Result<Table> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(Error::at(
            path,
            1,
            "empty file (want a header line `date,<series>,…` and rows)",
        ));
    }
    // The csv crate counts a CRLF line twice in record positions; plain LF keeps the
    // line numbers in messages right.
    let normalised;
    let text = if text.contains('\r') {
        normalised = text.replace("\r\n", "\n").replace('\r', "\n");
        normalised.as_str()
    } else {
        text
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(csv_error(path, &e)),
        None => return Err(Error::at(path, 1, "empty file")),
    };
    let header_line = header.position().map_or(1, |p| p.line() as usize);
    let names: Vec<&str> = header.iter().map(str::trim).collect();
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
        if columns[..i].contains(c) {
            return Err(Error::at(
                path,
                header_line,
                format!("series {c:?} appears twice in the header"),
            ));
        }
    }

    let mut rows: Vec<Row> = Vec::new();
    let mut decimals = vec![0usize; columns.len()];
    for record in records {
        let record = record.map_err(|e| csv_error(path, &e))?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        if record.iter().all(|f| f.trim().is_empty()) {
            continue; // a blank line, as spreadsheets leave at the end
        }
        if record.len() != names.len() {
            return Err(Error::at(
                path,
                line,
                format!(
                    "{} fields, want {} (`{}`)",
                    record.len(),
                    names.len(),
                    names.join(",")
                ),
            ));
        }
        let date = parse_date(record[0].trim()).ok_or_else(|| {
            Error::at(
                path,
                line,
                format!("{:?} is not a valid date (want YYYY-MM-DD)", &record[0]),
            )
        })?;
        let mut values = Vec::with_capacity(columns.len());
        for (i, field) in record.iter().skip(1).enumerate() {
            let (value, places) = parse_value(field.trim()).ok_or_else(|| {
                Error::at(
                    path,
                    line,
                    format!(
                        "{}: {:?} is not a price (want a number ≥ 0 such as 64.25)",
                        columns[i], field
                    ),
                )
            })?;
            decimals[i] = decimals[i].max(places);
            values.push(value);
        }
        rows.push(Row { date, values, line });
    }
    if rows.is_empty() {
        return Err(Error::at(path, header_line, "no rows after the header"));
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
    })
}

fn csv_error(path: &Path, e: &csv::Error) -> Error {
    let line = e.position().map_or(1, |p| p.line() as usize);
    Error::at(path, line, format!("malformed CSV: {e}"))
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

/// A plain decimal ≥ 0 (`64`, `64.2`, `64.25`): no sign, exponent, NaN or infinity.
/// Returns the value and its digits after the point.
pub(crate) fn parse_value(s: &str) -> Option<(f64, usize)> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|c| c.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) || (s.contains('.') && frac.is_empty()) {
        return None;
    }
    let value: f64 = s.parse().ok()?;
    value.is_finite().then_some((value, frac.len()))
}

/// Formats a value with a fixed number of decimals.
pub(crate) fn format_value(value: f64, decimals: usize) -> String {
    let mut out = String::with_capacity(12);
    push_value(&mut out, value, decimals);
    out
}

/// Appends `value` with `decimals` digits after the point. Values here are decimals
/// read from text with at most that many places, so scaling to an integer is exact; it
/// is several times faster than float formatting, which matters at 100,000 rows.
pub(crate) fn push_value(out: &mut String, value: f64, decimals: usize) {
    use std::fmt::Write as _;
    if decimals > 9 || !value.is_finite() || value.abs() >= 1e15 {
        let _ = write!(out, "{value:.decimals$}");
        return;
    }
    let scale = 10u64.pow(decimals as u32);
    let scaled = (value.abs() * scale as f64).round() as u64;
    if value < 0.0 && scaled != 0 {
        out.push('-');
    }
    let _ = write!(out, "{}", scaled / scale);
    if decimals > 0 {
        let _ = write!(out, ".{:0decimals$}", scaled % scale);
    }
}

/// The shortest decimal text of a value read with `decimals` places: `15.00` → `15`,
/// `24.50` → `24.5`. JSON numbers are written this way.
pub(crate) fn push_value_trimmed(out: &mut String, value: f64, decimals: usize) {
    let start = out.len();
    push_value(out, value, decimals);
    if out[start..].contains('.') {
        let trimmed = out.trim_end_matches('0').trim_end_matches('.').len();
        out.truncate(trimmed);
    }
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
    fn change_of_zero_is_unchanged() {
        let c = Change::between(49.65, 49.65, 2);
        assert_eq!(c.direction(), "unchanged");
        let c = Change::between(69.00, 66.20, 2);
        assert_eq!(
            (c.direction(), c.amount, c.percent),
            ("down", -2.8, Some(-4.1))
        );
    }
}
