//! `petrol-watch price add | list | remove`: the maintainer's hand edits of a dataset.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::csv_file::{describe_change, parse_price, CsvFile};
use crate::data::{self, format_value};
use crate::error::{Error, Result};

pub(crate) fn dataset_path(root: &Path, dataset: &str) -> PathBuf {
    root.join("data").join(format!("{dataset}.csv"))
}

pub(crate) fn parse_date_arg(s: &str) -> Result<NaiveDate> {
    data::parse_date(s.trim()).ok_or_else(|| {
        Error::in_file(
            Path::new("--date"),
            format!("{s:?} is not a valid date (want YYYY-MM-DD)"),
        )
    })
}

/// Adds (or with `replace`, replaces) the row for `date`. `values` are
/// `(series, text)` pairs naming every series of the dataset. Returns what changed.
pub(crate) fn add(
    path: &Path,
    date: NaiveDate,
    values: &[(String, String)],
    replace: bool,
) -> Result<String> {
    let mut file = CsvFile::open(path)?;
    let columns = file.columns().to_vec();
    let mut parsed = Vec::with_capacity(columns.len());
    let mut problems = Vec::new();
    for (name, _) in values {
        if !columns.contains(name) {
            problems.push(format!(
                "--{name}: {} has no such series (its series are {})",
                path.display(),
                columns.join(", ")
            ));
        }
    }
    for column in &columns {
        match values.iter().find(|(n, _)| n == column) {
            None => problems.push(format!(
                "missing --{column} (every series needs a value; its series are {})",
                columns.join(", ")
            )),
            Some((_, text)) => match parse_price(column, text) {
                Ok(v) => parsed.push(v),
                Err(e) => problems.push(e),
            },
        }
    }
    if !problems.is_empty() {
        return Err(Error::in_file(path, problems.join("; ")));
    }
    let existing = file.row(date).cloned();
    if existing.is_some() && !replace {
        return Err(Error::in_file(
            path,
            format!("{date} already has a row; pass --replace to change it"),
        ));
    }
    let previous = file.previous(date).cloned();
    file.upsert(date, &parsed)?;
    file.save()?;

    let mut report = format!(
        "{}: {} {date}\n",
        path.display(),
        if existing.is_some() {
            "replaced"
        } else {
            "added"
        }
    );
    let row = file.row(date).expect("just written").clone();
    for (i, column) in columns.iter().enumerate() {
        let decimals = file.table.decimals[i];
        let line = match &existing {
            // A replacement shows what the row said before.
            Some(old) => format!(
                "{} (was {})",
                describe_change(
                    previous.as_ref().map(|p| p.values[i]),
                    row.values[i],
                    decimals
                ),
                format_value(old.values[i], decimals)
            ),
            None => describe_change(
                previous.as_ref().map(|p| p.values[i]),
                row.values[i],
                decimals,
            ),
        };
        let _ = writeln!(report, "  {column:<10} {line}");
    }
    Ok(report)
}

pub(crate) fn remove(path: &Path, date: NaiveDate) -> Result<String> {
    let mut file = CsvFile::open(path)?;
    let row = file
        .row(date)
        .cloned()
        .ok_or_else(|| Error::in_file(path, format!("no row dated {date}")))?;
    file.remove(date)?;
    file.save()?;
    let values: Vec<String> = row
        .values
        .iter()
        .zip(&file.table.decimals)
        .map(|(v, d)| format_value(*v, *d))
        .collect();
    Ok(format!(
        "{}: removed {date} ({})\n",
        path.display(),
        values.join(", ")
    ))
}

/// The newest `last` rows, newest first, with the change at each.
pub(crate) fn list(path: &Path, last: usize) -> Result<String> {
    let file = CsvFile::open(path)?;
    let t = &file.table;
    let mut out = format!("{:<12}", "date");
    for c in &t.columns {
        let _ = write!(out, " {c:>28}");
    }
    out.push('\n');
    for i in (0..t.rows.len()).rev().take(last) {
        let _ = write!(out, "{:<12}", t.rows[i].date.to_string());
        for (s, decimals) in t.decimals.iter().enumerate() {
            let old = i.checked_sub(1).map(|p| t.rows[p].values[s]);
            let text = match old {
                None => format_value(t.rows[i].values[s], *decimals),
                Some(_) => describe_change(old, t.rows[i].values[s], *decimals)
                    .split(" → ")
                    .nth(1)
                    .unwrap_or_default()
                    .to_string(),
            };
            let _ = write!(out, " {text:>28}");
        }
        out.push('\n');
    }
    Ok(out)
}

/// Splits `--mogas 66.00 --gasoil=72.50` into pairs.
pub(crate) fn series_pairs(args: &[String]) -> Result<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let Some(flag) = args[i].strip_prefix("--") else {
            return Err(Error::in_file(
                Path::new("arguments"),
                format!("expected --<series> <value>, found {:?}", args[i]),
            ));
        };
        if let Some((name, value)) = flag.split_once('=') {
            pairs.push((name.to_string(), value.to_string()));
            i += 1;
        } else {
            let value = args.get(i + 1).ok_or_else(|| {
                Error::in_file(Path::new("arguments"), format!("--{flag} needs a value"))
            })?;
            pairs.push((flag.to_string(), value.clone()));
            i += 2;
        }
    }
    Ok(pairs)
}
