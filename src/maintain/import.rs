//! `petrol-watch import stc`: reads the STC retail-prices page and merges its rows into
//! the fuel CSV. The page is one HTML table, newest first (date, Mogas, Gas Oil) after a
//! header row and a units row, with hand-typed dates in English and French.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use chrono::NaiveDate;
use scraper::{Html, Selector};

use super::csv_file::CsvFile;
use crate::data::{format_value, parse_value};
use crate::error::{Error, Result};

pub(crate) const STC_URL: &str = "https://www.stcmu.com/ppm/retail-prices";

/// One decision read from the page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StcRow {
    pub(crate) date: NaiveDate,
    pub(crate) mogas: (f64, usize),
    pub(crate) gasoil: (f64, usize),
    /// 1-based row of the HTML table, for messages.
    pub(crate) row: usize,
}

/// Fetches the page over HTTPS, with a timeout.
#[cfg(feature = "fetch")]
pub(crate) fn fetch(url: &str, timeout: Duration) -> Result<String> {
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .user_agent(concat!("petrol-watch/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent();
    let fail = |e: &dyn std::fmt::Display| {
        Error::in_file(
            Path::new(url),
            format!("could not fetch the STC page: {e} (offline? try --file with a saved copy)"),
        )
    };
    let mut response = agent.get(url).call().map_err(|e| fail(&e))?;
    response
        .body_mut()
        .with_config()
        .limit(10 * 1024 * 1024)
        .read_to_string()
        .map_err(|e| fail(&e))
}

#[cfg(not(feature = "fetch"))]
pub(crate) fn fetch(url: &str, _timeout: Duration) -> Result<String> {
    Err(Error::in_file(Path::new(url), "this build of petrol-watch cannot fetch pages (built without the `fetch` feature); use --file with a saved copy"))
}

/// Reads every decision row from the page. Header, units and "Before APM" rows are
/// skipped; any other row that cannot be read is an error naming the row.
pub(crate) fn parse_page(html: &str, source: &Path) -> Result<Vec<StcRow>> {
    let doc = Html::parse_document(html);
    let tables = Selector::parse("table").expect("valid selector");
    let rows_sel = Selector::parse("tr").expect("valid selector");
    let cells_sel = Selector::parse("td, th").expect("valid selector");
    let mut best: Option<Vec<StcRow>> = None;
    let mut first_error: Option<Error> = None;
    for table in doc.select(&tables) {
        let mut rows = Vec::new();
        let mut error = None;
        for (i, tr) in table.select(&rows_sel).enumerate() {
            let cells: Vec<String> = tr
                .select(&cells_sel)
                .map(|c| {
                    c.text()
                        .collect::<String>()
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect();
            match read_row(&cells, i + 1) {
                Ok(Some(row)) => rows.push(row),
                Ok(None) => {}
                Err(message) => {
                    error = Some(Error::in_file(
                        source,
                        format!("table row {}: {message}", i + 1),
                    ));
                    break;
                }
            }
        }
        match error {
            // A table with price rows and a broken row is the price table, broken.
            Some(e) if !rows.is_empty() => return Err(e),
            Some(e) => {
                first_error.get_or_insert(e);
            }
            None if rows.len() > best.as_ref().map_or(0, Vec::len) => best = Some(rows),
            None => {}
        }
    }
    match best {
        Some(rows) => Ok(rows),
        None => Err(first_error.unwrap_or_else(|| {
            Error::in_file(
                source,
                "no table of retail prices (date, Mogas, Gas Oil) found",
            )
        })),
    }
}

fn read_row(cells: &[String], row: usize) -> std::result::Result<Option<StcRow>, String> {
    let Some(first) = cells.first() else {
        return Ok(None);
    };
    let numeric = |s: &str| parse_value(&s.replace(',', ".").replace(' ', ""));
    // Headers ("Date", "Mogas"), units ("Rs/Litre") and the pre-APM price.
    if first.to_ascii_lowercase().contains("before")
        || cells
            .iter()
            .all(|c| numeric(c).is_none() && parse_stc_date(c).is_none())
    {
        return Ok(None);
    }
    if cells.len() < 3 {
        return Err(format!(
            "{} cells, want 3 (date, Mogas, Gas Oil): {cells:?}",
            cells.len()
        ));
    }
    let date = parse_stc_date(first)
        .ok_or_else(|| format!("{first:?} is not a date (want e.g. 16-April-2026)"))?;
    let mogas = numeric(&cells[1]).ok_or_else(|| format!("Mogas {:?} is not a price", cells[1]))?;
    let gasoil =
        numeric(&cells[2]).ok_or_else(|| format!("Gas Oil {:?} is not a price", cells[2]))?;
    Ok(Some(StcRow {
        date,
        mogas,
        gasoil,
        row,
    }))
}

/// `16-April-2026`, `5-January-06`, `2-Apr-04`, `13 Fev 2010`, `1-Juillet-2021`,
/// `25 - Mars - 2026`: day, month name (English or French, full or abbreviated,
/// accents optional), year (two or four digits).
pub(crate) fn parse_stc_date(text: &str) -> Option<NaiveDate> {
    let folded: String = text
        .trim()
        .chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' | 'É' => 'e',
            'û' | 'ù' => 'u',
            'ô' => 'o',
            'à' | 'â' => 'a',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    let parts: Vec<&str> = folded
        .split(|c: char| c == '-' || c == '/' || c == '.' || c == ',' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .collect();
    let [day, month, year] = parts.as_slice() else {
        return None;
    };
    let day: u32 = day
        .trim_end_matches(['s', 't', 'n', 'd', 'r', 'h'])
        .parse()
        .ok()?;
    let month = month_number(month)?;
    let year: i32 = match year.len() {
        2 => 2000 + year.parse::<i32>().ok()?,
        4 => year.parse().ok()?,
        _ => return None,
    };
    NaiveDate::from_ymd_opt(year, month, day)
}

fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&[&str]; 12] = [
        &["january", "janvier", "jan", "janv"],
        &["february", "fevrier", "feb", "fev", "fevr"],
        &["march", "mars", "mar"],
        &["april", "avril", "apr", "avr"],
        &["may", "mai"],
        &["june", "juin", "jun"],
        &["july", "juillet", "jul", "juil"],
        &["august", "aout", "aug", "aou"],
        &["september", "septembre", "sep", "sept"],
        &["october", "octobre", "oct"],
        &["november", "novembre", "nov"],
        &["december", "decembre", "dec"],
    ];
    MONTHS
        .iter()
        .position(|names| names.contains(&name))
        .map(|i| i as u32 + 1)
}

/// What an import found, row by row.
#[derive(Debug, Default)]
pub(crate) struct ImportReport {
    pub(crate) agreeing: usize,
    pub(crate) added: Vec<StcRow>,
    pub(crate) disagreeing: Vec<(StcRow, Vec<f64>)>,
}

/// Merges `rows` into the fuel CSV at `csv`: new dates are added; dates whose prices
/// disagree are reported and changed only with `overwrite`. Writes nothing when
/// `dry_run` or when nothing changes.
pub(crate) fn merge(
    csv: &Path,
    rows: &[StcRow],
    overwrite: bool,
    dry_run: bool,
) -> Result<(ImportReport, String)> {
    let mut file = CsvFile::open(csv)?;
    let columns = file.columns().to_vec();
    let (Some(mi), Some(gi)) = (
        columns.iter().position(|c| c == "mogas"),
        columns.iter().position(|c| c == "gasoil"),
    ) else {
        return Err(Error::in_file(
            csv,
            "the STC page has Mogas and Gas Oil; this file needs `mogas` and `gasoil` columns",
        ));
    };
    if columns.len() != 2 {
        return Err(Error::in_file(
            csv,
            "the STC import fills exactly two series, `mogas` and `gasoil`",
        ));
    }
    let mut report = ImportReport {
        ..Default::default()
    };
    for row in rows {
        let mut values = vec![(0.0, 0); 2];
        values[mi] = row.mogas;
        values[gi] = row.gasoil;
        match file.row(row.date).map(|r| r.values.clone()) {
            Some(existing) if existing[mi] == row.mogas.0 && existing[gi] == row.gasoil.0 => {
                report.agreeing += 1
            }
            Some(existing) => {
                if overwrite {
                    file.upsert(row.date, &values)?;
                }
                report.disagreeing.push((row.clone(), existing));
            }
            None => {
                file.upsert(row.date, &values)?;
                report.added.push(row.clone());
            }
        }
    }
    let changed = !report.added.is_empty() || (overwrite && !report.disagreeing.is_empty());
    if changed && !dry_run {
        file.save()?;
    }
    let d = &file.table.decimals;
    let mut text = String::new();
    let verb = if dry_run { "would add" } else { "added" };
    for r in &report.added {
        let _ = writeln!(
            text,
            "{verb} {}: mogas {}, gasoil {}",
            r.date,
            format_value(r.mogas.0, d[mi]),
            format_value(r.gasoil.0, d[gi])
        );
    }
    for (r, old) in &report.disagreeing {
        let action = match (overwrite, dry_run) {
            (true, true) => "would overwrite",
            (true, false) => "overwrote",
            (false, _) => "DISAGREES, kept (pass --overwrite to take the page's values)",
        };
        let _ = writeln!(
            text,
            "{} (page row {}): the page says mogas {}, gasoil {}; {} says {}, {}: {action}",
            r.date,
            r.row,
            format_value(r.mogas.0, d[mi]),
            format_value(r.gasoil.0, d[gi]),
            csv.display(),
            format_value(old[mi], d[mi]),
            format_value(old[gi], d[gi])
        );
    }
    let _ = writeln!(
        text,
        "{} rows on the page: {} agree, {} new, {} disagree{}",
        rows.len(),
        report.agreeing,
        report.added.len(),
        report.disagreeing.len(),
        if dry_run {
            " (dry run: nothing written)"
        } else if changed {
            ""
        } else {
            " (nothing to write)"
        }
    );
    Ok((report, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::data::parse_date(s).unwrap()
    }

    #[test]
    fn reads_every_date_form_the_page_uses() {
        for (text, want) in [
            ("16-April-2026", "2026-04-16"),
            ("5-January-06", "2006-01-05"),
            ("2-Apr-04", "2004-04-02"),
            ("13-Fev-2010", "2010-02-13"),
            ("3 Fevrier 2011", "2011-02-03"),
            ("1-Avril-2012", "2012-04-01"),
            ("21-Mai-2013", "2013-05-21"),
            ("4-Juin-2014", "2014-06-04"),
            ("1-Juillet-2021", "2021-07-01"),
            ("7-Aout-2025", "2025-08-07"),
            ("7-Août-2025", "2025-08-07"),
            ("14-Decembre-2024", "2024-12-14"),
            ("14-Décembre-24", "2024-12-14"),
            ("  25 - March -2026 ", "2026-03-25"),
            ("3-Sept-2019", "2019-09-03"),
        ] {
            assert_eq!(parse_stc_date(text), Some(d(want)), "{text}");
        }
        for bad in [
            "Before APM (01 July 2002)",
            "31-Fevrier-2020",
            "16-Foo-2026",
            "2026-04-16",
            "",
        ] {
            assert_eq!(parse_stc_date(bad), None, "{bad}");
        }
    }
}
