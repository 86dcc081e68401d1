//! `petrol-watch import stc`: reads the STC retail-prices page and merges its rows into
//! the fuel CSV. The price table is found by its header text (a MOGAS and a GAS OIL
//! column, any order, case or spacing), not by its position; its dates are hand-typed
//! in English and French. Reading is linear in the page and bounded, so a hostile page
//! fails fast; a table that cannot be mapped is refused with nothing written.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDate;
use scraper::{ElementRef, Html, Selector};

use super::csv_file::{CsvFile, NewRow};
use crate::error::{Error, Result};
use crate::price::{shorten, Price};

pub(crate) const STC_URL: &str = "https://www.stcmu.com/ppm/retail-prices";
/// The largest page read (the real one is about 30 kB).
pub(crate) const MAX_PAGE_BYTES: usize = 10 * 1024 * 1024;
/// The most tables and table rows a page may have (the real one: a few tables, about
/// 130 rows). Counted on the raw text before parsing, so a page built to be slow is
/// refused before any work is done on it.
pub(crate) const MAX_TABLES: usize = 200;
pub(crate) const MAX_ROWS: usize = 5_000;
/// The most table cells (about 400 on the real page): a 10 MB page of bare `<td>`s is
/// 2.4 million cells, seconds and most of a gigabyte to parse.
pub(crate) const MAX_CELLS: usize = 20_000;
/// How deep elements may nest. The HTML parser's scope checks cost time in proportion
/// to the depth at every tag, so a page nested tens of thousands deep takes seconds;
/// the real page is about 15 deep.
pub(crate) const MAX_DEPTH: usize = 256;
/// Nodes read per table cell: a real cell holds a text or two.
const MAX_CELL_NODES: usize = 32;
/// How far ahead of today a decision on the page may apply.
pub(crate) const MAX_DAYS_AHEAD: u64 = 31;
/// The automatic pricing mechanism began on this date; the page's older row is the
/// price before it, not a decision.
pub(crate) fn apm_start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2002, 7, 1).expect("a real date")
}

/// Where the page came from, for messages.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    File(PathBuf),
    Url(String),
}

impl Source {
    fn error(&self, message: impl Into<String>) -> Error {
        match self {
            Source::File(path) => Error::in_file(path, message),
            Source::Url(url) => Error::url(url.clone(), message),
        }
    }
}

/// One decision read from the page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StcRow {
    pub(crate) date: NaiveDate,
    pub(crate) mogas: (Price, usize),
    pub(crate) gasoil: (Price, usize),
    /// 1-based row of the HTML table, for messages.
    pub(crate) row: usize,
}

/// Fetches the page over HTTPS, with a timeout and a size limit.
#[cfg(feature = "fetch")]
pub(crate) fn fetch(url: &str, timeout: Duration) -> Result<String> {
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .user_agent(concat!("petrol-watch/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent();
    let fail = |e: &dyn std::fmt::Display| {
        Error::url(
            url,
            format!("could not fetch the STC page: {e} (offline? try --file with a saved copy)"),
        )
    };
    let mut response = agent.get(url).call().map_err(|e| fail(&e))?;
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = response
        .body_mut()
        .with_config()
        .limit(MAX_PAGE_BYTES as u64)
        .read_to_vec()
        .map_err(|e| fail(&e))?;
    super::page_text::decode(bytes, content_type.as_deref()).map_err(|e| Error::url(url, e))
}

#[cfg(not(feature = "fetch"))]
pub(crate) fn fetch(url: &str, _timeout: Duration) -> Result<String> {
    Err(Error::url(url, "this build of petrol-watch cannot fetch pages (built without the `fetch` feature); use --file with a saved copy"))
}

/// Reads a saved page, refusing one larger than any real page, in the encoding it was
/// saved in (see `page_text`).
pub(crate) fn read_file(path: &std::path::Path) -> Result<String> {
    let size = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    if size > MAX_PAGE_BYTES as u64 {
        return Err(Error::in_file(
            path,
            format!("{size} bytes; the STC page is far smaller (limit {MAX_PAGE_BYTES})"),
        ));
    }
    let bytes = crate::error::read_bytes(path)?;
    super::page_text::decode(bytes, None).map_err(|e| Error::in_file(path, e))
}

/// Counts case-insensitive occurrences of an ASCII tag opening such as `<tr`.
fn count_tags(html: &str, tag: &str) -> usize {
    let tag = tag.as_bytes();
    html.as_bytes()
        .windows(tag.len())
        .filter(|w| w.eq_ignore_ascii_case(tag))
        .count()
}

/// An upper estimate of how deep the page's elements nest, from the raw text in one
/// pass: every opening tag counts except void elements, self-closed tags and those the
/// parser closes by itself when a sibling opens (`p`, `li`, `td`, `tr`, …).
fn nesting_depth(html: &str) -> usize {
    const FLAT: [&str; 28] = [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "param", "p", "li", "td", "th", "tr", "option", "dt", "dd", "thead",
        "tbody", "tfoot", "html", "head", "body",
    ];
    let b = html.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while let Some(offset) = b[i..].iter().position(|&c| c == b'<') {
        i += offset + 1;
        let closing = b.get(i) == Some(&b'/');
        let start = i + usize::from(closing);
        let name_len = b[start..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        if name_len == 0 || !b[start].is_ascii_alphabetic() {
            continue;
        }
        let flat = FLAT
            .iter()
            .any(|f| f.eq_ignore_ascii_case(&html[start..start + name_len]));
        let end = b[start..]
            .iter()
            .position(|&c| c == b'>')
            .map(|e| start + e);
        if closing {
            if !flat {
                depth = depth.saturating_sub(1);
            }
        } else if !flat && end.is_none_or(|e| b[e - 1] != b'/') {
            depth += 1;
            deepest = deepest.max(depth);
        }
        if let Some(e) = end {
            i = e;
        }
    }
    deepest
}

/// Folds a header or month text for matching: accents and case dropped, only letters
/// and digits kept (`Gas  Oil` → `gasoil`, `Février` → `fevrier`).
fn fold(text: &str) -> String {
    deunicode::deunicode(text)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The text of a cell, whitespace collapsed, reading at most `MAX_CELL_NODES` nodes:
/// a cell stuffed with markup reads as empty instead of costing time.
fn cell_text(cell: ElementRef) -> String {
    let mut text = String::new();
    for node in cell.descendants().take(MAX_CELL_NODES) {
        if let Some(t) = node.value().as_text() {
            text.push_str(t);
            text.push(' ');
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_element(node: &ElementRef, names: &[&str]) -> bool {
    names.contains(&node.value().name())
}

/// Most columns or rows one cell may span. HTML allows 1,000 and 65,534; the STC
/// table spans none, and a bound keeps a few spanning cells from growing the grid.
const MAX_SPAN: usize = 50;

/// A cell's `colspan` or `rowspan`: 1 when absent or unreadable, as browsers do.
fn span(cell: &ElementRef, attr: &str) -> std::result::Result<usize, String> {
    let n = cell
        .value()
        .attr(attr)
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(1);
    if n > MAX_SPAN {
        return Err(format!(
            "a cell spans {n} {}; the STC table spans at most a few (limit {MAX_SPAN})",
            if attr == "colspan" { "columns" } else { "rows" }
        ));
    }
    Ok(n.max(1))
}

/// The rows of this table only (not of tables nested in it), as a grid of cell texts:
/// a cell spanning columns or rows fills each place it covers, as it looks on screen,
/// so a column index means the same column in every row. (Hand-written: the page is
/// small and the rule is the HTML table model's, which `scraper` does not provide.)
/// Each row belongs to one table, so reading every table is linear in the page.
fn table_rows(table: ElementRef) -> std::result::Result<Vec<Vec<String>>, String> {
    let mut trs = Vec::new();
    for child in table.children().filter_map(ElementRef::wrap) {
        if is_element(&child, &["tr"]) {
            trs.push(child);
        } else if is_element(&child, &["thead", "tbody", "tfoot"]) {
            trs.extend(
                child
                    .children()
                    .filter_map(ElementRef::wrap)
                    .filter(|tr| is_element(tr, &["tr"])),
            );
        }
    }
    // Per column: the text of a cell from a row above that still covers it, and for
    // how many more rows.
    let mut above: Vec<Option<(String, usize)>> = Vec::new();
    let mut rows = Vec::with_capacity(trs.len());
    for (i, tr) in trs.into_iter().enumerate() {
        let at = |why: String| format!("table row {}: {why}", i + 1);
        let mut row: Vec<String> = Vec::new();
        for cell in tr
            .children()
            .filter_map(ElementRef::wrap)
            .filter(|c| is_element(c, &["td", "th"]))
        {
            take_above(&mut row, &mut above);
            let (cols, down) = (
                span(&cell, "colspan").map_err(at)?,
                span(&cell, "rowspan").map_err(at)?,
            );
            let text = cell_text(cell);
            for _ in 0..cols {
                if down > 1 {
                    if above.len() <= row.len() {
                        above.resize(row.len() + 1, None);
                    }
                    above[row.len()] = Some((text.clone(), down - 1));
                }
                row.push(text.clone());
            }
        }
        take_above(&mut row, &mut above);
        rows.push(row);
    }
    Ok(rows)
}

/// Fills the places at the end of `row` that cells from rows above still cover.
fn take_above(row: &mut Vec<String>, above: &mut [Option<(String, usize)>]) {
    while let Some(Some((text, left))) = above.get_mut(row.len()) {
        row.push(text.clone());
        *left -= 1;
        if *left == 0 {
            above[row.len() - 1] = None;
        }
    }
}

/// Which cells hold the date, Mogas and Gas Oil, read from a header row.
#[derive(Debug, Clone, Copy)]
struct Columns {
    date: usize,
    mogas: usize,
    gasoil: usize,
}

/// A row's cells for a message: the first few, each cut by [`shorten`], as a row can
/// have thousands of cells of any length.
fn quote_cells(cells: &[String]) -> String {
    const SHOWN: usize = 6;
    let mut shown: Vec<String> = cells.iter().take(SHOWN).map(|c| shorten(c)).collect();
    if cells.len() > SHOWN {
        shown.push(format!("… ({} cells)", cells.len()));
    }
    format!("[{}]", shown.join(", "))
}

fn header_columns(cells: &[String]) -> std::result::Result<Option<Columns>, String> {
    let folded: Vec<String> = cells.iter().map(|c| fold(c)).collect();
    let find = |want: &str| -> std::result::Result<Option<usize>, String> {
        let hits: Vec<usize> = (0..folded.len())
            .filter(|&i| folded[i].contains(want))
            .collect();
        match hits.as_slice() {
            [] => Ok(None),
            [i] => Ok(Some(*i)),
            _ => Err(format!(
                "{} columns are headed {want:?}: {}",
                hits.len(),
                quote_cells(cells)
            )),
        }
    };
    let (mogas, gasoil) = (find("mogas")?, find("gasoil")?);
    match (mogas, gasoil) {
        (Some(mogas), Some(gasoil)) => {
            let date = find("date")?.unwrap_or(0);
            if date == mogas || date == gasoil {
                return Err(format!(
                    "cannot tell the date column apart: {}",
                    quote_cells(cells)
                ));
            }
            Ok(Some(Columns {
                date,
                mogas,
                gasoil,
            }))
        }
        (None, None) => Ok(None),
        _ => Err(format!(
            "the header names {} but not {}: {}",
            if mogas.is_some() { "MOGAS" } else { "GAS OIL" },
            if mogas.is_some() { "GAS OIL" } else { "MOGAS" },
            quote_cells(cells),
        )),
    }
}

/// Reads every decision row from the page's price table: the table whose header names
/// MOGAS and GAS OIL. Units rows and the "Before APM" row are skipped; any other row
/// that cannot be read is an error naming the row. `today` resolves two-digit years.
pub(crate) fn parse_page(html: &str, source: &Source, today: NaiveDate) -> Result<Vec<StcRow>> {
    if html.len() > MAX_PAGE_BYTES {
        return Err(source.error(format!(
            "{} bytes; the STC page is far smaller (limit {MAX_PAGE_BYTES})",
            html.len()
        )));
    }
    let tables = count_tags(html, "<table");
    if tables > MAX_TABLES {
        return Err(source.error(format!(
            "{tables} tables; the STC page has a few (limit {MAX_TABLES}), so this is not it"
        )));
    }
    let trs = count_tags(html, "<tr");
    if trs > MAX_ROWS {
        return Err(source.error(format!(
            "{trs} table rows; the STC page has about 130 (limit {MAX_ROWS}), so this is not it"
        )));
    }
    let cells = count_tags(html, "<td") + count_tags(html, "<th");
    if cells > MAX_CELLS {
        return Err(source.error(format!(
            "about {cells} table cells; the STC page has about 400 (limit {MAX_CELLS}), so this is not it"
        )));
    }
    let depth = nesting_depth(html);
    if depth > MAX_DEPTH {
        return Err(source.error(format!(
            "elements nested about {depth} deep; the STC page nests about 15 (limit {MAX_DEPTH}), so this is not it"
        )));
    }
    let doc = Html::parse_document(html);
    let table_sel = Selector::parse("table").expect("valid selector");
    // Every price table is read: a page may show one twice (say, for phones), which is
    // fine when they agree and refused when they do not.
    let mut found: Vec<StcRow> = Vec::new();
    let mut tables_read = 0;
    for (t, table) in doc.select(&table_sel).enumerate() {
        let rows = table_rows(table).map_err(|why| source.error(why))?;
        let mut columns = None;
        let mut this_table: Vec<StcRow> = Vec::new();
        for (i, cells) in rows.iter().enumerate() {
            let number = i + 1;
            let at = |message: String| source.error(format!("table row {number}: {message}"));
            let Some(cols) = columns else {
                columns = header_columns(cells).map_err(at)?;
                continue;
            };
            if let Some(row) = read_row(cells, cols, number, today).map_err(at)? {
                if let Some(other) = this_table.iter().find(|r| r.date == row.date) {
                    return Err(at(format!(
                        "{} is also on table row {}",
                        row.date, other.row
                    )));
                }
                this_table.push(row);
            }
        }
        if columns.is_none() {
            continue;
        }
        tables_read += 1;
        for row in this_table {
            match found.iter().find(|r| r.date == row.date) {
                None => found.push(row),
                Some(other) if (other.mogas.0, other.gasoil.0) == (row.mogas.0, row.gasoil.0) => {}
                Some(other) => {
                    return Err(source.error(format!(
                        "two price tables disagree on {}: table row {} of one says mogas {}, gasoil {}; \
                         table row {} of table {} says mogas {}, gasoil {}; nothing written",
                        row.date,
                        other.row,
                        other.mogas.0.format(other.mogas.1),
                        other.gasoil.0.format(other.gasoil.1),
                        row.row,
                        t + 1,
                        row.mogas.0.format(row.mogas.1),
                        row.gasoil.0.format(row.gasoil.1),
                    )))
                }
            }
        }
    }
    if tables_read == 0 {
        return Err(source.error(
            "no table headed with MOGAS and GAS OIL columns found (has the page changed?); nothing written",
        ));
    }
    Ok(found)
}

/// One number per cell, with a point or a decimal comma. Words or a second number
/// (a footnote mark, `Rs`, an old price struck through) are refused, not glued on.
fn numeric(s: &str) -> std::result::Result<(Price, usize), String> {
    let s = s.trim();
    if s.contains(char::is_whitespace) {
        return Err(format!(
            "{} is not a price (want one number per cell, such as 64.25)",
            shorten(s)
        ));
    }
    Price::parse(&s.replace(',', "."))
}

fn read_row(
    cells: &[String],
    cols: Columns,
    row: usize,
    today: NaiveDate,
) -> std::result::Result<Option<StcRow>, String> {
    let empty = String::new();
    let cell = |i: usize| cells.get(i).unwrap_or(&empty);
    // Units ("Rs/Litre"), blank rows and the pre-APM price.
    if fold(cell(cols.date)).contains("before")
        || cells
            .iter()
            .all(|c| numeric(c).is_err() && parse_stc_date(c, today).is_none())
    {
        return Ok(None);
    }
    let width = cols.date.max(cols.mogas).max(cols.gasoil) + 1;
    if cells.len() < width {
        return Err(format!(
            "{} cells, want {width} (date, Mogas, Gas Oil): {}",
            cells.len(),
            quote_cells(cells)
        ));
    }
    let text = cell(cols.date);
    let date = parse_stc_date(text, today)
        .ok_or_else(|| format!("{} is not a date (want e.g. 16-April-2026)", shorten(text)))?;
    if date < apm_start() {
        return Err(format!(
            "{} is {date}, before the automatic pricing mechanism began on 1 July 2002; the page lists no decisions that old",
            shorten(text)
        ));
    }
    let mogas = numeric(cell(cols.mogas)).map_err(|why| format!("Mogas: {why}"))?;
    let gasoil = numeric(cell(cols.gasoil)).map_err(|why| format!("Gas Oil: {why}"))?;
    // The STC announces a decision days before it applies, never months: a date far
    // ahead is a typo (`2062` for `2026`) that would show as today's price until then.
    if today
        .checked_add_days(chrono::Days::new(MAX_DAYS_AHEAD))
        .is_some_and(|limit| date > limit)
    {
        return Err(format!(
            "{} is {date}, more than {MAX_DAYS_AHEAD} days after today ({today}); the page announces decisions days ahead, not months",
            shorten(text)
        ));
    }
    Ok(Some(StcRow {
        date,
        mogas,
        gasoil,
        row,
    }))
}

/// `16-April-2026`, `5-January-06`, `2-Apr-04`, `13 Fev 2010`, `1-Juillet-2021`,
/// `25 - Mars - 2026`: day, month name (English or French, full or abbreviated,
/// accents optional), year (two or four digits). A two-digit year takes the century
/// that does not put the date after `today`.
pub(crate) fn parse_stc_date(text: &str, today: NaiveDate) -> Option<NaiveDate> {
    if text.len() > 64 {
        return None;
    }
    let folded = deunicode::deunicode(text.trim()).to_ascii_lowercase();
    let parts: Vec<&str> = folded
        .split(|c: char| c == '-' || c == '/' || c == '.' || c == ',' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .collect();
    let [day, month, year] = parts.as_slice() else {
        return None;
    };
    let day = day.trim_end_matches(['s', 't', 'n', 'd', 'r', 'h']);
    if day.is_empty() || day.len() > 2 || !day.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let day: u32 = day.parse().ok()?;
    let month = month_number(month)?;
    if !year.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match year.len() {
        2 => {
            let yy: i32 = year.parse().ok()?;
            let this_century = NaiveDate::from_ymd_opt(2000 + yy, month, day)?;
            if this_century <= today {
                Some(this_century)
            } else {
                NaiveDate::from_ymd_opt(1900 + yy, month, day)
            }
        }
        4 => NaiveDate::from_ymd_opt(year.parse().ok()?, month, day),
        _ => None,
    }
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
#[derive(Debug)]
pub(crate) struct ImportReport {
    pub(crate) csv: PathBuf,
    pub(crate) rows_on_page: usize,
    pub(crate) agreeing: Vec<StcRow>,
    pub(crate) added: Vec<StcRow>,
    /// Each with the CSV's values, Mogas then Gas Oil, and the CSV line they are on.
    pub(crate) disagreeing: Vec<(StcRow, [Price; 2], usize)>,
    pub(crate) overwrite: bool,
    pub(crate) dry_run: bool,
    pub(crate) written: bool,
    /// The CSV's decimals for Mogas and Gas Oil.
    decimals: [usize; 2],
}

/// Exit codes of `import stc`, so automation can tell the outcomes apart.
pub(crate) const EXIT_NOTHING_NEW: u8 = 0;
pub(crate) const EXIT_ROWS_ADDED: u8 = 3;
pub(crate) const EXIT_DISAGREEMENT: u8 = 4;

/// Merges `rows` into the fuel CSV at `csv`: new dates are added; dates whose prices
/// disagree are reported and changed only with `overwrite`. Writes nothing when
/// `dry_run` or when nothing changes. Values are compared exactly.
pub(crate) fn merge(
    csv: &std::path::Path,
    rows: &[StcRow],
    overwrite: bool,
    dry_run: bool,
) -> Result<ImportReport> {
    let mut file = CsvFile::open_to_add(csv)?;
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
        csv: csv.to_path_buf(),
        rows_on_page: rows.len(),
        agreeing: Vec::new(),
        added: Vec::new(),
        disagreeing: Vec::new(),
        overwrite,
        dry_run,
        written: false,
        decimals: [0, 0],
    };
    let mut edits: Vec<NewRow> = Vec::new();
    for row in rows {
        let mut values = vec![(Price::default(), 0); 2];
        values[mi] = row.mogas;
        values[gi] = row.gasoil;
        match file
            .row(row.date)
            .map(|r| ([r.values[mi], r.values[gi]], r.line))
        {
            Some((existing, _)) if existing == [row.mogas.0, row.gasoil.0] => {
                report.agreeing.push(row.clone())
            }
            Some((existing, line)) => {
                if overwrite {
                    edits.push((row.date, values));
                }
                report.disagreeing.push((row.clone(), existing, line));
            }
            None => {
                edits.push((row.date, values));
                report.added.push(row.clone());
            }
        }
    }
    if !edits.is_empty() {
        file.upsert(&edits)?;
        if !dry_run {
            file.save()?;
            report.written = true;
            // Rows added above a disagreeing one moved it: name its line as written.
            for (row, _, line) in &mut report.disagreeing {
                if let Some(now) = file.row(row.date) {
                    *line = now.line;
                }
            }
        }
    }
    report.decimals = [file.table.decimals[mi], file.table.decimals[gi]];
    Ok(report)
}

impl ImportReport {
    pub(crate) fn exit_code(&self) -> u8 {
        if !self.disagreeing.is_empty() && !self.overwrite {
            EXIT_DISAGREEMENT
        } else if !self.added.is_empty() || !self.disagreeing.is_empty() {
            EXIT_ROWS_ADDED
        } else {
            EXIT_NOTHING_NEW
        }
    }

    /// The CSV's values with its decimals.
    fn values(&self, mogas: Price, gasoil: Price) -> [String; 2] {
        [
            mogas.format(self.decimals[0]),
            gasoil.format(self.decimals[1]),
        ]
    }

    /// A page row's values with at least the CSV's decimals and all of its own, so
    /// a digit the CSV does not have is shown, not rounded away.
    fn page_values(&self, r: &StcRow) -> [String; 2] {
        [
            r.mogas.0.format(self.decimals[0].max(r.mogas.1)),
            r.gasoil.0.format(self.decimals[1].max(r.gasoil.1)),
        ]
    }

    pub(crate) fn text(&self) -> String {
        let mut text = String::new();
        let verb = if self.dry_run { "would add" } else { "added" };
        for r in &self.added {
            let [m, g] = self.page_values(r);
            let _ = writeln!(text, "{verb} {}: mogas {m}, gasoil {g}", r.date);
        }
        for (r, old, line) in &self.disagreeing {
            let action = match (self.overwrite, self.dry_run) {
                (true, true) => "would overwrite",
                (true, false) => "overwrote",
                (false, _) => "DISAGREES, kept (pass --overwrite to take the page's values)",
            };
            let [m, g] = self.page_values(r);
            let [om, og] = self.values(old[0], old[1]);
            let _ = writeln!(
                text,
                "{} (page row {}): the page says mogas {m}, gasoil {g}; {}:{line} says {om}, {og}: {action}",
                r.date,
                r.row,
                self.csv.display(),
            );
        }
        let _ = writeln!(
            text,
            "{} rows on the page: {} agree, {} new, {} disagree{}",
            self.rows_on_page,
            self.agreeing.len(),
            self.added.len(),
            self.disagreeing.len(),
            if self.dry_run {
                " (dry run: nothing written)"
            } else if self.written {
                ""
            } else {
                " (nothing to write)"
            }
        );
        text
    }

    /// The summary for automation. Values are strings with the CSV's decimals, so
    /// they are exactly what the file holds.
    pub(crate) fn json(&self) -> String {
        let row = |r: &StcRow| {
            let [m, g] = self.page_values(r);
            serde_json::json!({"date": r.date.to_string(), "mogas": m, "gasoil": g, "page_row": r.row})
        };
        let disagreeing: Vec<_> = self
            .disagreeing
            .iter()
            .map(|(r, old, line)| {
                let [om, og] = self.values(old[0], old[1]);
                let mut v = row(r);
                v["csv"] = serde_json::json!({"mogas": om, "gasoil": og, "line": line});
                v["applied"] = serde_json::json!(self.overwrite && !self.dry_run);
                v
            })
            .collect();
        let summary = serde_json::json!({
            "csv": self.csv.display().to_string(),
            "rows_on_page": self.rows_on_page,
            "added": self.added.iter().map(row).collect::<Vec<_>>(),
            "agreeing": self.agreeing.iter().map(row).collect::<Vec<_>>(),
            "disagreeing": disagreeing,
            "dry_run": self.dry_run,
            "written": self.written,
            "exit_code": self.exit_code(),
        });
        let mut out = serde_json::to_string_pretty(&summary).expect("JSON values serialise");
        out.push('\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::data::parse_date(s).unwrap()
    }

    #[test]
    fn reads_every_date_form_the_page_uses() {
        let today = d("2026-11-22");
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
            ("4-May-96", "1996-05-04"),
            ("1-Dec-26", "1926-12-01"),
            ("22-Nov-26", "2026-11-22"),
        ] {
            assert_eq!(parse_stc_date(text, today), Some(d(want)), "{text}");
        }
        for bad in [
            "Before APM (01 July 2002)",
            "31-Fevrier-2020",
            "16-Foo-2026",
            "2026-04-16",
            "+1-May-2020",
            "",
        ] {
            assert_eq!(parse_stc_date(bad, today), None, "{bad}");
        }
    }

    #[test]
    fn nesting_is_estimated_in_one_pass() {
        assert_eq!(nesting_depth("<div><b>x</b><br><img src=a/></div>"), 2);
        assert_eq!(nesting_depth("<table><tr><td>1<td>2<tr><td>3</table>"), 1);
        assert_eq!(nesting_depth(&"<div>".repeat(1000)), 1000);
        assert_eq!(nesting_depth("a < b <!-- c --> </x></y>"), 0);
    }

    #[test]
    fn columns_are_found_by_header_text() {
        let cols = header_columns(&["Gas  oil".into(), "Date".into(), "MoGaS".into()])
            .unwrap()
            .unwrap();
        assert_eq!((cols.date, cols.mogas, cols.gasoil), (1, 2, 0));
        assert!(header_columns(&["Date".into(), "Mogas".into()]).is_err());
        assert!(header_columns(&["Home".into(), "PPM".into()])
            .unwrap()
            .is_none());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn any_page_is_read_or_refused_without_panicking(
            cells in proptest::collection::vec("[0-9a-zA-Zéû ,./<>-]{0,12}", 0..30),
            header in proptest::bool::ANY,
        ) {
            let mut html = String::from("<table>");
            if header {
                html.push_str("<tr><th>Date</th><th>Gas Oil</th><th>Mogas</th></tr>");
            }
            for chunk in cells.chunks(3) {
                html.push_str("<tr>");
                for c in chunk {
                    let _ = write!(html, "<td>{c}</td>");
                }
                html.push_str("</tr>");
            }
            let source = Source::File("page.html".into());
            match parse_page(&html, &source, d("2026-11-22")) {
                Ok(rows) => for r in rows { proptest::prop_assert!(r.date >= apm_start()); },
                Err(e) => proptest::prop_assert!(e.to_string().starts_with("page.html: "), "{}", e),
            }
        }
    }
}
