//! Editing a dataset CSV in place while keeping its style: the lines not touched stay
//! byte-for-byte, new rows follow the file's order (oldest or newest first), line
//! endings, BOM and decimals. Every edit is validated with the same rules as `build`
//! and written atomically (temporary file, then rename).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::data::{self, format_value, parse_value, Table};
use crate::error::{read_utf8, Error, Result};

pub(crate) struct CsvFile {
    pub(crate) path: PathBuf,
    lines: Vec<String>,
    bom: bool,
    crlf: bool,
    final_newline: bool,
    pub(crate) table: Table,
}

impl CsvFile {
    pub(crate) fn open(path: &Path) -> Result<CsvFile> {
        let text = read_utf8(path)?;
        let table = data::parse_table(&text, path)?;
        let bom = text.starts_with('\u{feff}');
        let body = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let crlf = body.contains("\r\n");
        let final_newline = body.ends_with('\n');
        let lines = body
            .lines()
            .map(|l| l.trim_end_matches('\r').to_string())
            .collect();
        Ok(CsvFile {
            path: path.to_path_buf(),
            lines,
            bom,
            crlf,
            final_newline,
            table,
        })
    }

    pub(crate) fn columns(&self) -> &[String] {
        &self.table.columns
    }

    pub(crate) fn row(&self, date: NaiveDate) -> Option<&data::Row> {
        self.table.rows.iter().find(|r| r.date == date)
    }

    /// The decision in force just before `date`.
    pub(crate) fn previous(&self, date: NaiveDate) -> Option<&data::Row> {
        self.table.rows.iter().rev().find(|r| r.date < date)
    }

    fn newest_first(&self) -> bool {
        let rows = &self.table.rows;
        rows.len() > 1 && rows[0].line > rows[rows.len() - 1].line
    }

    /// Formats values as the file writes them: at least the column's decimals.
    pub(crate) fn format_row(&self, date: NaiveDate, values: &[(f64, usize)]) -> String {
        let mut line = date.to_string();
        for (i, (value, places)) in values.iter().enumerate() {
            line.push(',');
            line.push_str(&format_value(*value, (*places).max(self.table.decimals[i])));
        }
        line
    }

    /// Inserts or replaces the row for `date`, then re-validates the whole file.
    pub(crate) fn upsert(&mut self, date: NaiveDate, values: &[(f64, usize)]) -> Result<()> {
        let line = self.format_row(date, values);
        if let Some(row) = self.row(date) {
            let index = row.line - 1;
            self.lines[index] = line;
        } else {
            let index = self.insertion_index(date);
            self.lines.insert(index, line);
        }
        self.revalidate()
    }

    pub(crate) fn remove(&mut self, date: NaiveDate) -> Result<()> {
        let Some(row) = self.row(date) else {
            return Err(Error::in_file(&self.path, format!("no row dated {date}")));
        };
        self.lines.remove(row.line - 1);
        self.revalidate()
    }

    /// Where a new row goes so the file stays in its own date order.
    fn insertion_index(&self, date: NaiveDate) -> usize {
        let before = self.previous(date);
        if self.newest_first() {
            match before {
                Some(r) => r.line - 1,
                None => self.table.rows[0].line, // after the oldest (last) row
            }
        } else {
            match before {
                Some(r) => r.line,
                None => self
                    .table
                    .rows
                    .iter()
                    .map(|r| r.line)
                    .min()
                    .map_or(1, |l| l - 1),
            }
        }
    }

    pub(crate) fn text(&self) -> String {
        let newline = if self.crlf { "\r\n" } else { "\n" };
        let mut text = String::new();
        if self.bom {
            text.push('\u{feff}');
        }
        text.push_str(&self.lines.join(newline));
        if self.final_newline {
            text.push_str(newline);
        }
        text
    }

    fn revalidate(&mut self) -> Result<()> {
        self.table = data::parse_table(&self.text(), &self.path)?;
        Ok(())
    }

    /// Writes the file through a temporary file in the same folder and a rename, so a
    /// crash leaves either the old file or the new one.
    pub(crate) fn save(&self) -> Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
        std::io::Write::write_all(&mut tmp, self.text().as_bytes())
            .map_err(|e| Error::io(tmp.path(), e))?;
        tmp.persist(&self.path)
            .map_err(|e| Error::io(&self.path, e.error))?;
        Ok(())
    }
}

/// Reads a value the way the CSV stores them, with its decimals.
pub(crate) fn parse_price(series: &str, text: &str) -> Result<(f64, usize), String> {
    parse_value(text.trim()).ok_or_else(|| {
        format!("--{series}: {text:?} is not a price (want a number ≥ 0 such as 64.25)")
    })
}

/// `old → new (+1.75, +2.7%)`, or `new (first value)`.
pub(crate) fn describe_change(old: Option<f64>, new: f64, decimals: usize) -> String {
    match old {
        None => format!("{} (first value)", format_value(new, decimals)),
        Some(old) => {
            let c = data::Change::between(old, new, decimals);
            let detail = match c.direction() {
                "unchanged" => "unchanged".to_string(),
                _ => {
                    let sign = if c.amount > 0.0 { "+" } else { "−" };
                    match c.percent {
                        Some(p) => format!(
                            "{sign}{}, {sign}{:.1}%",
                            format_value(c.amount.abs(), decimals),
                            p.abs()
                        ),
                        None => format!("{sign}{}", format_value(c.amount.abs(), decimals)),
                    }
                }
            };
            format!(
                "{} → {} ({detail})",
                format_value(old, decimals),
                format_value(new, decimals)
            )
        }
    }
}
