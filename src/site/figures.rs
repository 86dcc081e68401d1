//! What a dataset's pages say about it beyond the rows: key figures per series (records,
//! the price some years before, how long the current price has held, a full tank), the
//! years its rows fall in with a summary of each, and how it moved beside another
//! dataset. Everything is exact ([`Price`], [`Change`]) and counted to the latest row
//! in the data, never to "now", so the same data always says the same thing.

use std::ops::Range;

use chrono::{Datelike, Months, NaiveDate};

use crate::data::Dataset;
use crate::price::{Change, Direction, Price};

/// How a dataset's dates read: a monthly series (every date the 1st) names the month,
/// not a day ("July 2026", not "1 July 2026").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DateStyle {
    Day,
    Month,
}

const MONTHS_SHORT: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl DateStyle {
    pub(crate) fn of(d: &Dataset) -> DateStyle {
        if d.monthly {
            DateStyle::Month
        } else {
            DateStyle::Day
        }
    }

    /// `16 April 2026` or `July 2026`.
    pub(crate) fn long(self, date: NaiveDate) -> String {
        match self {
            DateStyle::Day => date.format("%-d %B %Y").to_string(),
            DateStyle::Month => date.format("%B %Y").to_string(),
        }
    }

    /// The preposition before [`DateStyle::long`]: "on 16 April 2026", "in July 2026".
    pub(crate) fn preposition(self) -> &'static str {
        match self {
            DateStyle::Day => "on",
            DateStyle::Month => "in",
        }
    }

    /// `16 Apr 2026` or `Jul 2026`.
    pub(crate) fn short(self, date: NaiveDate) -> String {
        let mut out = String::with_capacity(12);
        self.write_short(&mut out, date);
        out
    }

    /// Appends `16 Apr 2026` or `Jul 2026`, for table rows (written straight into the
    /// page: a big dataset has a million of them).
    pub(crate) fn write_short(self, out: &mut String, date: NaiveDate) {
        if self == DateStyle::Day {
            out.push_str(itoa::Buffer::new().format(date.day()));
            out.push(' ');
        }
        out.push_str(MONTHS_SHORT[date.month0() as usize]);
        out.push(' ');
        out.push_str(itoa::Buffer::new().format(date.year()));
    }
}

/// Appends `date` as ISO 8601 (`2026-04-16`), as chrono's `Display` writes it, without
/// the formatting machinery: every row of a year page has it twice.
pub(crate) fn write_iso_date(out: &mut String, date: NaiveDate) {
    let year = date.year();
    if !(0..=9999).contains(&year) {
        // chrono's signed, wider form; never a real price date.
        let _ = std::fmt::Write::write_fmt(out, format_args!("{date}"));
        return;
    }
    let two = |out: &mut String, n: u32| {
        out.push(char::from(b'0' + (n / 10) as u8));
        out.push(char::from(b'0' + (n % 10) as u8));
    };
    two(out, year as u32 / 100);
    two(out, year as u32 % 100);
    out.push('-');
    two(out, date.month());
    out.push('-');
    two(out, date.day());
}

/// The years a dataset's rows fall in, newest first, each with its rows' index range
/// (rows are sorted oldest first, so each year is one contiguous run).
pub(crate) fn years(d: &Dataset) -> Vec<(i32, Range<usize>)> {
    let dates = &d.table.dates;
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=dates.len() {
        if i == dates.len() || dates[i].year() != dates[start].year() {
            out.push((dates[start].year(), start..i));
            start = i;
        }
    }
    out.reverse();
    out
}

/// Bytes a decision table's row takes at most for its anchor and date, and for each
/// series' value and change: the longest is a 19-character value kept from the row
/// before, whose "unchanged" is spelled out for screen readers. `pages`' tests hold
/// written rows to these.
pub(crate) const ROW_BYTES: usize = 48;
pub(crate) const CELL_BYTES: usize = 120;
/// What one page's table of rows may take, leaving room under 1 MB for the page
/// around it (its summary and column headers grow with the series too).
const TABLE_BYTES: usize = 600_000;

/// Rows one page of `d` may show: a whole year (366) up to 13 series; fewer with more.
pub(crate) fn rows_per_page(d: &Dataset) -> usize {
    (TABLE_BYTES / (ROW_BYTES + CELL_BYTES * d.series.len())).max(1)
}

/// One page of a year's rows. A year with more rows than a page holds has several:
/// page 1 holds its newest rows, as its table reads newest first, so going "earlier"
/// from a year's last page leads to the previous year's page 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YearPage {
    pub(crate) year: i32,
    /// From 1.
    pub(crate) number: usize,
    /// Pages the year has.
    pub(crate) count: usize,
    /// The rows this page shows.
    pub(crate) rows: Range<usize>,
}

impl YearPage {
    /// Page `number` of a year whose rows are `year_rows`, at `per` rows a page.
    fn of(year: i32, year_rows: Range<usize>, per: usize, number: usize) -> YearPage {
        let end = year_rows.end - (number - 1) * per;
        YearPage {
            year,
            number,
            count: year_rows.len().div_ceil(per),
            rows: end.saturating_sub(per).max(year_rows.start)..end,
        }
    }
}

/// Every year page of `d`, newest year first, each year's pages from 1.
pub(crate) fn year_pages(d: &Dataset) -> Vec<YearPage> {
    let per = rows_per_page(d);
    years(d)
        .into_iter()
        .flat_map(|(year, rows)| {
            (1..=rows.len().div_ceil(per)).map(move |n| YearPage::of(year, rows.clone(), per, n))
        })
        .collect()
}

/// The first page of `year`: its newest rows.
pub(crate) fn first_year_page(d: &Dataset, year: i32) -> YearPage {
    YearPage::of(year, year_rows(d, year), rows_per_page(d), 1)
}

/// The year page that shows row `i`.
pub(crate) fn year_page_of(d: &Dataset, i: usize) -> YearPage {
    let year = d.table.dates[i].year();
    let rows = year_rows(d, year);
    let per = rows_per_page(d);
    YearPage::of(year, rows.clone(), per, (rows.end - 1 - i) / per + 1)
}

/// The row range of `year`, found by binary search (rows are sorted by date).
pub(crate) fn year_rows(d: &Dataset, year: i32) -> Range<usize> {
    let dates = &d.table.dates;
    let start = dates.partition_point(|r| r.year() < year);
    let end = dates.partition_point(|r| r.year() <= year);
    start..end
}

/// Index of the row in force on `date`: the last one dated on or before it.
fn in_force(d: &Dataset, date: NaiveDate) -> Option<usize> {
    d.table.in_force(date)
}

/// One series' extreme value and the first row that set it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Extreme {
    pub(crate) value: Price,
    pub(crate) date: NaiveDate,
}

/// The price some years before the latest row, and the change since.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Before {
    pub(crate) years: u32,
    /// The row in force then.
    pub(crate) date: NaiveDate,
    pub(crate) value: Price,
    pub(crate) change: Change,
}

/// How long the latest value has held.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Held {
    /// The row that set it.
    pub(crate) since: NaiveDate,
    /// Days from then to the latest row.
    pub(crate) days: i64,
    /// Later rows that kept it.
    pub(crate) kept: usize,
}

#[derive(Clone, Debug)]
pub(crate) struct SeriesFigures {
    pub(crate) latest: Price,
    pub(crate) high: Extreme,
    pub(crate) low: Extreme,
    /// The latest value is the highest ever (`Up`), the lowest (`Down`), or neither.
    /// Only when the series has moved at all: a constant series holds no record.
    pub(crate) record: Option<Direction>,
    pub(crate) before: Vec<Before>,
    pub(crate) held: Held,
    /// The cost of a full tank at the latest value, when the site names a tank size.
    pub(crate) tank: Option<Price>,
}

/// Look-backs the key figures give, in years before the latest row.
pub(crate) const LOOK_BACK: [u32; 3] = [1, 5, 10];

/// Key figures of series `s`, counted to the latest row.
pub(crate) fn series_figures(d: &Dataset, s: usize, tank_litres: Option<u32>) -> SeriesFigures {
    let (dates, column) = (&d.table.dates, &d.table.values[s]);
    let last = column.len() - 1;
    let latest = column[last];
    let (mut high, mut low) = (0, 0);
    for (i, &v) in column.iter().enumerate() {
        // Strict comparisons keep the first row that reached the value.
        if v > column[high] {
            high = i;
        }
        if v < column[low] {
            low = i;
        }
    }
    let extreme = |i: usize| Extreme {
        value: column[i],
        date: dates[i],
    };
    let moved = column[high] != column[low];
    let record = if !moved {
        None
    } else if latest == column[high] {
        Some(Direction::Up)
    } else if latest == column[low] {
        Some(Direction::Down)
    } else {
        None
    };
    let latest_date = dates[last];
    let before = LOOK_BACK
        .iter()
        .filter_map(|&years| {
            let then = latest_date.checked_sub_months(Months::new(12 * years))?;
            let i = in_force(d, then)?;
            Some(Before {
                years,
                date: dates[i],
                value: column[i],
                change: Change::between(column[i], latest),
            })
        })
        .collect();
    let mut start = last;
    while start > 0 && column[start - 1] == latest {
        start -= 1;
    }
    SeriesFigures {
        latest,
        high: extreme(high),
        low: extreme(low),
        record,
        before,
        held: Held {
            since: dates[start],
            days: (latest_date - dates[start]).num_days(),
            kept: last - start,
        },
        tank: tank_litres.and_then(|l| latest.times(l)),
    }
}

/// One series over one year.
#[derive(Clone, Debug)]
pub(crate) struct YearSeries {
    pub(crate) rises: usize,
    pub(crate) cuts: usize,
    /// Mean of the year's rows, at the column's decimals.
    pub(crate) average: Price,
    pub(crate) low: Price,
    pub(crate) high: Price,
}

/// Each series over the rows `range` (one year): rises and cuts are counted against
/// the row before, so a year's first row counts against the previous year's last.
pub(crate) fn year_summary(d: &Dataset, range: Range<usize>) -> Vec<YearSeries> {
    d.series
        .iter()
        .enumerate()
        .map(|(s, series)| {
            let column = &d.table.values[s];
            let values = &column[range.clone()];
            let (mut rises, mut cuts) = (0, 0);
            for i in range.clone() {
                if i == 0 {
                    continue;
                }
                match Change::between(column[i - 1], column[i]).direction() {
                    Direction::Up => rises += 1,
                    Direction::Down => cuts += 1,
                    Direction::Unchanged => {}
                }
            }
            YearSeries {
                rises,
                cuts,
                average: Price::mean(values, series.decimals).unwrap_or_default(),
                low: values.iter().copied().min().unwrap_or_default(),
                high: values.iter().copied().max().unwrap_or_default(),
            }
        })
        .collect()
}

/// How the other dataset's first series moved from the row in force at `since` to its
/// latest row: (its row then, its latest row, the change).
pub(crate) fn moved_since(
    other: &Dataset,
    since: NaiveDate,
) -> Option<(NaiveDate, Price, NaiveDate, Price, Change)> {
    let i = in_force(other, since)?;
    let t = &other.table;
    let last = t.len() - 1;
    let column = t.values.first()?;
    let (a, b) = (column[i], column[last]);
    Some((t.dates[i], a, t.dates[last], b, Change::between(a, b)))
}

/// The change in series `s` of `d` from the row in force at `from` to the row in force
/// at `to`.
pub(crate) fn change_between(
    d: &Dataset,
    s: usize,
    from: NaiveDate,
    to: NaiveDate,
) -> Option<Change> {
    let (a, b) = (in_force(d, from)?, in_force(d, to)?);
    let column = d.table.values.get(s)?;
    Some(Change::between(column[a], column[b]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The hand-written date text is chrono's, for every date chrono can hold.
        #[test]
        fn dates_read_as_chrono_writes_them(days in -400_000i32..3_000_000) {
            let date = NaiveDate::from_num_days_from_ce_opt(days).unwrap();
            let mut iso = String::new();
            write_iso_date(&mut iso, date);
            prop_assert_eq!(iso, date.to_string());
            let (month, year) = (date.format("%b"), date.year());
            prop_assert_eq!(DateStyle::Day.short(date), format!("{} {month} {year}", date.day()));
            prop_assert_eq!(DateStyle::Month.short(date), format!("{month} {year}"));
        }
    }
}

#[cfg(test)]
mod year_page_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A year's pages hold each of its rows once, newest first from page 1, at
        /// most a page's rows each; `year_page_of` finds the page showing a row.
        #[test]
        fn year_pages_hold_every_row_once(
            gaps in proptest::collection::vec(1i64..5, 1..800),
            series in 1usize..64,
        ) {
            let mut text = String::from("date");
            for s in 0..series {
                text.push_str(&format!(",s{s}"));
            }
            let mut date = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
            for gap in &gaps {
                date += chrono::Duration::days(*gap);
                text.push_str(&format!("\n{date}{}", ",1".repeat(series)));
            }
            let table = crate::data::parse_table(&text, std::path::Path::new("t.csv")).unwrap();
            let d = Dataset::new("t", table, None);
            let per = rows_per_page(&d);
            let pages = year_pages(&d);
            let mut seen = vec![0; d.table.len()];
            for page in &pages {
                prop_assert!(!page.rows.is_empty() && page.rows.len() <= per);
                let year = year_rows(&d, page.year);
                prop_assert_eq!(page.count, year.len().div_ceil(per));
                if page.number == 1 {
                    prop_assert_eq!(page.rows.end, year.end);
                }
                for i in page.rows.clone() {
                    seen[i] += 1;
                    prop_assert_eq!(&year_page_of(&d, i), page);
                }
            }
            prop_assert!(seen.iter().all(|&n| n == 1));
        }
    }
}
