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
