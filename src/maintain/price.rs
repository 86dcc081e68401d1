//! `petrol-watch price add | list | remove`: the maintainer's hand edits of a dataset.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::csv_file::{describe_change, CsvFile};
use super::import::MAX_DAYS_AHEAD;
use crate::data;
use crate::error::{Error, Result};
use crate::price::Price;

pub(crate) fn dataset_path(root: &Path, dataset: &str) -> PathBuf {
    let file = Path::new("data").join(format!("{dataset}.csv"));
    // `data/x.csv` rather than `./data/x.csv` in messages when run from the root.
    if root == Path::new(".") {
        file
    } else {
        root.join(file)
    }
}

pub(crate) fn parse_date_arg(s: &str) -> Result<NaiveDate> {
    data::parse_date(s.trim()).ok_or_else(|| {
        Error::arg(
            "--date",
            format!("{s:?} is not a valid date (want YYYY-MM-DD)"),
        )
    })
}

/// Splits `mogas=66.00` into its series and value.
pub(crate) fn parse_series_arg(arg: &str) -> std::result::Result<(String, String), String> {
    match arg.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.trim().to_string()))
        }
        _ => Err(format!(
            "{arg:?}: want SERIES=VALUE, e.g. mogas=66.00 (or --mogas 66.00)"
        )),
    }
}

/// Adds (or with `replace`, replaces) the row for `date`. `values` are
/// `(series, text)` pairs naming every series of the dataset once. Returns what changed.
pub(crate) fn add(
    path: &Path,
    date: NaiveDate,
    values: &[(String, String)],
    replace: bool,
) -> Result<String> {
    let mut file = CsvFile::open_to_add(path)?;
    let columns = file.columns().to_vec();
    let mut problems = Vec::new();
    for (i, (name, _)) in values.iter().enumerate() {
        if !columns.contains(name) {
            problems.push(Error::arg(
                format!("{name}="),
                format!(
                    "{} has no such series (its series are {})",
                    path.display(),
                    columns.join(", ")
                ),
            ));
        } else if values[..i].iter().any(|(n, _)| n == name) {
            problems.push(Error::arg(
                format!("{name}="),
                "given twice; give each series one value",
            ));
        }
    }
    let mut parsed = Vec::with_capacity(columns.len());
    for column in &columns {
        match values.iter().find(|(n, _)| n == column) {
            None => problems.push(Error::arg(
                format!("{column}="),
                format!(
                    "missing (every series needs a value; its series are {})",
                    columns.join(", ")
                ),
            )),
            Some((_, text)) => match Price::parse(text) {
                Ok(v) => parsed.push(v),
                Err(why) => problems.push(Error::arg(format!("{column}="), why)),
            },
        }
    }
    Error::collect(problems)?;
    let existing = file.row(date);
    if let (Some(row), false) = (&existing, replace) {
        return Err(Error::at(
            path,
            row.line,
            format!("{date} already has a row; pass --replace to change it"),
        ));
    }
    let previous = file.previous(date);
    file.upsert(&[(date, parsed)])?;
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
    let row = file.row(date).expect("just written");
    for (i, column) in columns.iter().enumerate() {
        let decimals = file.table.decimals[i];
        let change = describe_change(
            previous.as_ref().map(|p| p.values[i]),
            row.values[i],
            decimals,
        );
        let line = match &existing {
            // A replacement shows what the row said before.
            Some(old) => format!("{change} (was {})", old.values[i].format(decimals)),
            None => change,
        };
        let _ = writeln!(report, "  {column:<10} {line}");
    }
    Ok(report)
}

/// A warning for a decision dated more than [`MAX_DAYS_AHEAD`] days after `today`: the
/// next build shows it as the current price, so a mistyped year (`2062` for `2026`)
/// would be every page's headline. `import` refuses such a date; a hand edit may mean
/// it, so it is only told.
pub(crate) fn far_ahead_warning(date: NaiveDate, today: NaiveDate) -> Option<String> {
    let limit = today.checked_add_days(chrono::Days::new(MAX_DAYS_AHEAD))?;
    (date > limit).then(|| {
        format!(
            "warning: {date} is more than {MAX_DAYS_AHEAD} days after today ({today}); \
             the next build shows it as the current price. If the date is a typo: \
             `petrol-watch price remove --date {date}`"
        )
    })
}

pub(crate) fn remove(path: &Path, date: NaiveDate) -> Result<String> {
    let mut file = CsvFile::open(path)?;
    let row = file
        .row(date)
        .ok_or_else(|| Error::in_file(path, format!("no row dated {date}")))?;
    file.remove(date)?;
    file.save()?;
    let values: Vec<String> = row
        .values
        .iter()
        .zip(&file.table.decimals)
        .map(|(v, d)| v.format(*d))
        .collect();
    Ok(format!(
        "{}:{}: removed {date} ({})\n",
        path.display(),
        row.line,
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
    for i in (0..t.len()).rev().take(last) {
        let _ = write!(out, "{:<12}", t.dates[i].to_string());
        for (s, decimals) in t.decimals.iter().enumerate() {
            let new = t.value(i, s);
            let text = match i.checked_sub(1).map(|p| t.value(p, s)) {
                None => new.format(*decimals),
                Some(old) => {
                    let change = crate::price::Change::between(old, new).text(*decimals);
                    format!("{} ({})", new.format(*decimals), change.short())
                }
            };
            let _ = write!(out, " {text:>28}");
        }
        out.push('\n');
    }
    Ok(out)
}
