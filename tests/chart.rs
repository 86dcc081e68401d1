//! Charts a reader can take a value from, through the real binary on the frozen fixture
//! site: exact end labels, a time axis that ends with the data, series told apart
//! without colour, a tooltip per step, event markers from `data/events.toml`, recent
//! views, and a bounded chart for a 200,000-row dataset.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use common::*;

/// The chart file whose name is `charts/<stem>.<hash>.svg` (stem such as
/// `fuel-prices`, `fuel-prices-1y`, `fuel-prices-narrow`).
fn chart(site: &Path, stem: &str) -> String {
    let dir = site.join("public/charts");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(hash) = name
            .strip_prefix(&format!("{stem}."))
            .and_then(|r| r.strip_suffix(".svg"))
        {
            if hash.len() == 8 && hash.chars().all(|c| c.is_ascii_hexdigit()) {
                found.push(name);
            }
        }
    }
    assert_eq!(
        found.len(),
        1,
        "one chart named {stem}.<hash>.svg: {found:?}"
    );
    std::fs::read_to_string(dir.join(&found[0])).unwrap()
}

/// Every `<text …>…</text>` content in `svg`.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].to_string())
        })
        .collect()
}

/// The `<title>` texts of the per-step tooltips.
fn tips(svg: &str) -> Vec<String> {
    svg.split("<g class=\"tip\">")
        .skip(1)
        .flat_map(|g| {
            let g = &g[..g.find("</g>").unwrap()];
            g.split("<title>")
                .skip(1)
                .map(|t| t[..t.find("</title>").unwrap()].to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The series lines: one `(colour, dasharray)` per step-line path.
fn line_styles(svg: &str) -> Vec<(String, String)> {
    svg.lines()
        .filter(|l| l.starts_with("<path d=\"M") && l.contains("fill=\"none\" stroke=\"#"))
        .map(|l| {
            let colour = value_after(l, "stroke=\"").to_string();
            let dash = if l.contains("stroke-dasharray=\"") {
                value_after(l, "stroke-dasharray=\"").to_string()
            } else {
                String::new()
            };
            (colour, dash)
        })
        .collect()
}

#[test]
fn end_labels_carry_the_last_values_exactly() {
    let site = built_site();
    for stem in ["fuel-prices", "fuel-prices-narrow", "fuel-prices-1y"] {
        let t = texts(&chart(site.path(), stem));
        // The fixture's last decision, 16 April 2026: Mogas 64.25, Gas Oil 71.25.
        assert!(t.contains(&"Rs 64.25".to_string()), "{stem}: {t:?}");
        assert!(t.contains(&"Rs 71.25".to_string()), "{stem}: {t:?}");
    }
    let t = texts(&chart(site.path(), "brent-crude"));
    assert!(t.contains(&"US$ 83.76".to_string()), "{t:?}");
}

#[test]
fn end_labels_of_lines_ending_close_together_do_not_overlap() {
    let site = frozen_site();
    let csv = site.path().join("data/fuel-prices.csv");
    let mut text = std::fs::read_to_string(&csv).unwrap();
    text.push_str("2026-05-01,70.00,70.05\n");
    std::fs::write(&csv, text).unwrap();
    build_ok(site.path(), "public");
    let svg = chart(site.path(), "fuel-prices");
    let y_of = |label: &str| -> f64 {
        let at = svg.find(&format!(">{label}</text>")).unwrap();
        let open = svg[..at].rfind("<text").unwrap();
        value_after(&svg[open..], " y=\"").parse().unwrap()
    };
    let gap = (y_of("Rs 70.00") - y_of("Rs 70.05")).abs();
    assert!(gap >= 14.0, "labels {gap} px apart");
}

#[test]
fn the_time_axis_ends_with_the_data() {
    let site = built_site();
    // Brent's last month is July 2026: no year label beyond it (it used to reach 2027).
    for stem in [
        "brent-crude",
        "brent-crude-narrow",
        "fuel-prices",
        "brent-crude-5y",
    ] {
        let svg = chart(site.path(), stem);
        let years: Vec<i32> = texts(&svg)
            .iter()
            .filter_map(|t| t.parse::<i32>().ok())
            .filter(|y| *y > 1900)
            .collect();
        assert!(!years.is_empty(), "{stem} has year labels");
        assert!(years.iter().all(|y| *y <= 2026), "{stem}: {years:?}");
    }
    // The line ends at the right end of the axis: the old chart ran on for 3% of its
    // span (into 2027 for Brent). The fixture's Brent ends on 1 July 2026.
    let svg = chart(site.path(), "brent-crude");
    let x_of = |label: &str| -> f64 {
        let at = svg.find(&format!(">{label}</text>")).unwrap();
        let open = svg[..at].rfind("<text").unwrap();
        value_after(&svg[open..], " x=\"").parse().unwrap()
    };
    let per_year = (x_of("2025") - x_of("2020")) / 5.0;
    let last = x_of("2025") + 546.0 / 365.25 * per_year;
    let axis = value_after(&svg, "class=\"ax\" d=\"M");
    let axis_end: f64 = axis[axis.find('H').unwrap() + 1..axis.find('M').unwrap()]
        .parse()
        .unwrap();
    assert!(
        axis_end - last <= 12.0,
        "the axis runs {} px past the last month",
        axis_end - last
    );
    // The 12-month view labels months, none after August 2026 or before the window.
    let t = texts(&chart(site.path(), "brent-crude-1y"));
    assert!(!t.iter().any(|t| t.contains("2027")), "{t:?}");
    assert!(!t.iter().any(|t| t.contains("2024")), "{t:?}");
}

#[test]
fn each_series_has_its_own_dash_pattern_in_the_line_and_the_legend() {
    let site = built_site();
    for stem in ["fuel-prices", "fuel-prices-narrow"] {
        let svg = chart(site.path(), stem);
        let styles = line_styles(&svg);
        assert_eq!(styles.len(), 2, "{stem}: {styles:?}");
        assert_ne!(styles[0].1, styles[1].1, "{stem}: same dash pattern");
        // The legend draws each series' swatch with the same pattern.
        for (colour, dash) in &styles {
            let swatch = svg
                .lines()
                .flat_map(|l| l.split("/>"))
                .find(|p| p.contains("h30\"") && p.contains(&format!("stroke=\"{colour}\"")))
                .unwrap_or_else(|| panic!("{stem}: no legend swatch for {colour}"));
            assert_eq!(
                swatch.contains(&format!("stroke-dasharray=\"{dash}\"")),
                !dash.is_empty(),
                "{stem}: {swatch}"
            );
        }
    }
}

#[test]
fn every_step_has_a_tooltip_with_its_date_and_exact_value() {
    let site = built_site();
    let csv = std::fs::read_to_string(site.path().join("data/fuel-prices.csv")).unwrap();
    let rows = csv.lines().skip(1).filter(|l| !l.trim().is_empty()).count();
    let svg = chart(site.path(), "fuel-prices");
    let tips = tips(&svg);
    assert_eq!(tips.len(), rows * 2, "one tooltip per step of each series");
    for want in [
        "2 Apr 2004: Mogas (petrol) Rs 21.35",
        "2 Apr 2004: Gas Oil (diesel) Rs 13.05",
        "16 Apr 2026: Mogas (petrol) Rs 64.25",
        "16 Apr 2026: Gas Oil (diesel) Rs 71.25",
    ] {
        assert!(tips.iter().any(|t| t == want), "no tooltip {want:?}");
    }
}

const EVENTS: &str = "# Chart events for the test site.\n\
[[event]]\n\
date = \"2020-03-11\"\n\
label = \"COVID-19 pandemic\"\n\
source = \"World Health Organization\"\n\
\n\
[[event]]\n\
date = \"2003-03-20\"\n\
label = \"Before the fuel data\"\n\
source = \"Test\"\n";

#[test]
fn events_from_the_events_file_are_drawn_where_they_fall() {
    let site = built_site();
    let before = chart(site.path(), "fuel-prices");
    assert!(!before.contains("COVID-19"));
    std::fs::write(site.path().join("data/events.toml"), EVENTS).unwrap();
    build_ok(site.path(), "public");
    // A new chart file (its name hashes the events), with the event's label and a
    // tooltip naming its source.
    let svg = chart(site.path(), "fuel-prices");
    assert!(texts(&svg).contains(&"COVID-19 pandemic".to_string()));
    assert!(svg.contains(
        "<title>11 Mar 2020: COVID-19 pandemic (source: World Health Organization)</title>"
    ));
    // 2003 is before the fuel data (from 2004) but within Brent's (from 2002).
    assert!(!svg.contains("Before the fuel data"));
    assert!(chart(site.path(), "brent-crude").contains("Before the fuel data"));
    // Outside the 12-month window, so not on that view.
    assert!(!chart(site.path(), "fuel-prices-1y").contains("COVID-19"));
    // The events file is not taken for a dataset.
    assert!(!site.path().join("public/prices/events").exists());
}

#[test]
fn an_event_with_a_bad_date_fails_the_build_with_its_line() {
    let site = built_site();
    let before = snapshot(&site.path().join("public"));
    // Writes `events`, builds, and expects a refusal at `line` saying `why`, with the
    // site left as it was.
    let refused = |events: &str, line: &str, why: &str| {
        std::fs::write(site.path().join("data/events.toml"), events).unwrap();
        let out = run(site.path(), &["build"]);
        assert_fails_with(&out, line);
        assert!(stderr(&out).contains(why), "{}", stderr(&out));
        assert_eq!(
            snapshot(&site.path().join("public")),
            before,
            "the site is untouched"
        );
    };
    refused(
        &EVENTS.replace("2020-03-11", "2020-02-30"),
        "events.toml:3:",
        "\"2020-02-30\" is not a valid date",
    );
    // `check` refuses it too.
    assert_fails_with(&run(site.path(), &["check"]), "events.toml:3:");
    // So does an event limited to a dataset that does not exist.
    refused(
        &format!("{EVENTS}datasets = [\"fuel-price\"]\n"),
        "events.toml:11:",
        "no data/fuel-price.csv",
    );
}

#[test]
fn recent_views_start_within_their_window_and_are_fingerprinted() {
    let site = built_site();
    let public = site.path().join("public");
    let immutable = std::fs::read_to_string(public.join(".petrol-watch-immutable")).unwrap();
    let page = std::fs::read_to_string(public.join("prices/fuel-prices/index.html")).unwrap();
    for (view, title) in [
        ("1y", "12 months: 16 April 2025 to 16 April 2026"),
        ("5y", "5 years: 16 April 2021 to 16 April 2026"),
    ] {
        for size in ["", "-narrow"] {
            let stem = format!("fuel-prices-{view}{size}");
            let svg = chart(site.path(), &stem);
            assert!(svg.contains(title), "{stem}: {}", &svg[..400]);
            let path = immutable
                .lines()
                .find(|l| l.starts_with(&format!("charts/{stem}.")))
                .unwrap_or_else(|| panic!("{stem} is not listed as immutable"));
            assert!(page.contains(&format!("/{path}")), "the page links {path}");
        }
        // Radio tabs switch the views without script.
        assert!(page.contains(&format!("id=\"chart-view-{view}\"")));
    }
    // No script runs: the only script element is the JSON-LD data block.
    assert_eq!(
        page.matches("<script").count(),
        page.matches("<script type=\"application/ld+json\">")
            .count()
    );
    // The 5-year view's year labels start within its window.
    let years: BTreeSet<i32> = texts(&chart(site.path(), "fuel-prices-5y"))
        .iter()
        .filter_map(|t| t.parse().ok())
        .filter(|y| *y > 1900)
        .collect();
    assert_eq!(years.first(), Some(&2022), "{years:?}");
}

#[test]
fn a_200000_row_dataset_draws_a_small_chart_with_its_min_and_max() {
    let site = frozen_site();
    let mut csv = String::with_capacity(200_000 * 20);
    csv.push_str("date,level\n");
    let mut date = chrono_like_start();
    // A deterministic walk between 100 and 900, with one record high and one record
    // low in the middle of the data: each must stay drawn after thinning.
    let mut v: i64 = 50_000;
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..200_000u32 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        v = (v + (state % 201) as i64 - 100).clamp(10_000, 90_000);
        let value = match i {
            123_457 => "987.65".to_string(),
            77_777 => "1.23".to_string(),
            _ => format!("{}.{:02}", v / 100, v % 100),
        };
        csv.push_str(&format!("{},{value}\n", date.0));
        date = date.next();
    }
    std::fs::write(site.path().join("data/big.csv"), csv).unwrap();
    let (out, _) = run_within(site.path(), &["build"], Duration::from_secs(240));
    assert!(out.status.success(), "{}", stderr(&out));
    for stem in ["big", "big-narrow", "big-5y", "big-1y"] {
        let svg = chart(site.path(), stem);
        assert!(svg.len() < 100_000, "{stem}: {} bytes", svg.len());
        if stem.starts_with("big-") && stem != "big-narrow" {
            continue;
        }
        let tips = tips(&svg);
        assert!(
            tips.iter().any(|t| t.ends_with(": Level 987.65")),
            "{stem}: {tips:?}"
        );
        assert!(
            tips.iter().any(|t| t.ends_with(": Level 1.23")),
            "{stem}: {tips:?}"
        );
        // Both extremes are drawn: the line reaches the pixel rows of the maximum and the
        // minimum, mapped through the value axis' own labels.
        let line = svg
            .lines()
            .find(|l| l.starts_with("<path d=\"M") && l.contains("fill=\"none\""))
            .unwrap();
        let ys = path_ys(value_after(line, "d=\""));
        let (top, bottom) = (
            ys.iter().cloned().fold(f64::MAX, f64::min),
            ys.iter().cloned().fold(f64::MIN, f64::max),
        );
        let (y0, y_hi, hi) = value_axis(&svg);
        let py = |v: f64| y0 - v / hi * (y0 - y_hi);
        assert!(
            (top - py(987.65)).abs() <= 1.5,
            "{stem}: top {top}, max at {}",
            py(987.65)
        );
        assert!(
            (bottom - py(1.23)).abs() <= 1.5,
            "{stem}: bottom {bottom}, min at {}",
            py(1.23)
        );
        let points = line.matches(['H', 'V', 'L']).count();
        assert!(points < 5_000, "{stem}: {points} points");
    }
}

/// Every y coordinate a path's `M`, `L`, `H` and `V` commands visit.
fn path_ys(d: &str) -> Vec<f64> {
    let mut ys = Vec::new();
    let mut y = 0.0;
    let mut rest = d;
    while let Some(c) = rest.chars().next() {
        let end = rest[1..]
            .find(['M', 'L', 'H', 'V'])
            .map_or(rest.len(), |e| e + 1);
        let args: Vec<f64> = rest[1..end]
            .split(' ')
            .filter_map(|a| a.parse().ok())
            .collect();
        match c {
            'M' | 'L' => y = args[1],
            'V' => y = args[0],
            _ => {}
        }
        ys.push(y);
        rest = &rest[end..];
    }
    ys
}

/// The value axis: the baseline's pixel row (the axis line), the top labelled
/// gridline's row and the value its label gives.
fn value_axis(svg: &str) -> (f64, f64, f64) {
    let axis = value_after(svg, "class=\"ax\" d=\"M");
    let y0: f64 = axis[axis.find(' ').unwrap() + 1..axis.find('H').unwrap()]
        .parse()
        .unwrap();
    let grid = value_after(svg, "class=\"g1\" d=\"");
    let y_hi = *path_ys(grid).last().unwrap();
    let group = &svg[svg.find("<g text-anchor=\"end\">").unwrap()..];
    let group = &group[..group.find("</g>").unwrap()];
    let last = group.rfind("</text>").unwrap();
    let hi: f64 = group[group[..last].rfind('>').unwrap() + 1..last]
        .parse()
        .unwrap();
    (y0, y_hi, hi)
}

/// Consecutive ISO dates from 1500-01-01, without a date library in the tests.
#[derive(Clone, Copy)]
struct Day(DayParts);
#[derive(Clone, Copy)]
struct DayParts {
    y: i32,
    m: u32,
    d: u32,
}
impl std::fmt::Display for DayParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.y, self.m, self.d)
    }
}
fn chrono_like_start() -> Day {
    Day(DayParts {
        y: 1500,
        m: 1,
        d: 1,
    })
}
impl Day {
    fn next(self) -> Day {
        let DayParts { y, m, d } = self.0;
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let len = match m {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        Day(if d < len {
            DayParts { y, m, d: d + 1 }
        } else if m < 12 {
            DayParts { y, m: m + 1, d: 1 }
        } else {
            DayParts {
                y: y + 1,
                m: 1,
                d: 1,
            }
        })
    }
}
