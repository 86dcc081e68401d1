//! The real data/ and content/ through the real binary, checked by invariants only
//! (never by today's prices), and the README's maintainer loop on a copy of the
//! project: adding a real decision must never turn these red.

mod common;

use common::*;
use std::fs;
use std::path::Path;

/// The CSV's rows as (date, values as written), oldest first.
fn csv_rows(site: &Path) -> (Vec<String>, Vec<(String, Vec<String>)>) {
    let text = fs::read_to_string(site.join("data/fuel-prices.csv")).unwrap();
    let mut lines = text
        .trim_start_matches('\u{feff}')
        .lines()
        .filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let mut rows: Vec<(String, Vec<String>)> = lines
        .map(|l| {
            let mut f = l.trim_end_matches('\r').split(',').map(str::to_string);
            (f.next().unwrap(), f.collect())
        })
        .collect();
    rows.sort();
    (header, rows)
}

/// Builds the site at `site` and checks every invariant that holds whatever the data.
fn assert_site_tells_the_csv(site: &Path) {
    let out = run(site, &["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(site, &["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let public = site.join("public");
    let (header, rows) = csv_rows(site);
    let (last_date, last_values) = rows.last().unwrap();

    // The home page shows the last row: its date and each of its values.
    let home = fs::read_to_string(public.join("index.html")).unwrap();
    let date = chrono::NaiveDate::parse_from_str(last_date, "%Y-%m-%d").unwrap();
    assert!(
        home.contains(&date.format("%-d %B %Y").to_string()),
        "home page lacks the last date {last_date}"
    );
    for v in last_values {
        assert!(
            home.contains(&format!(">{v}<")) || home.contains(v),
            "home lacks {v}"
        );
    }

    // The JSON API has exactly the CSV's rows, in order, with the same values.
    let api: serde_json::Value =
        serde_json::from_slice(&fs::read(public.join("api/prices.json")).unwrap()).unwrap();
    let api = api.as_array().unwrap();
    assert_eq!(api.len(), rows.len(), "JSON rows = CSV rows");
    for (json, (date, values)) in api.iter().zip(&rows) {
        assert_eq!(json["date"], date.as_str());
        for (key, value) in header[1..].iter().zip(values) {
            // The JSON number's text is the CSV's digits without trailing zeros.
            let want = if value.contains('.') {
                value.trim_end_matches('0').trim_end_matches('.')
            } else {
                value
            };
            assert_eq!(json[key].to_string(), want, "{date} {key}");
        }
    }

    // The published CSV is the source's values, exactly.
    let published = fs::read_to_string(public.join("data/fuel-prices.csv")).unwrap();
    let published: Vec<&str> = published.lines().skip(1).collect();
    assert_eq!(published.len(), rows.len());
    for (line, (date, values)) in published.iter().zip(&rows) {
        assert_eq!(*line, format!("{date},{}", values.join(",")));
    }

    // Every decision is in its year's table.
    for (date, _) in &rows {
        let year = &date.to_string()[..4];
        let table =
            fs::read_to_string(public.join(format!("prices/fuel-prices/{year}/index.html")))
                .unwrap();
        assert!(
            table.contains(&format!("<tr id=d-{date}>")),
            "{date} missing"
        );
    }
}

#[test]
fn the_real_site_tells_exactly_what_its_csv_says() {
    let site = fixture_site();
    assert_site_tells_the_csv(site.path());
}

/// The README's loop: `price add` a decision after the last one, check, build.
#[test]
fn the_maintainers_loop_keeps_every_invariant() {
    let site = fixture_site();
    let (_, rows) = csv_rows(site.path());
    let last = chrono::NaiveDate::parse_from_str(&rows.last().unwrap().0, "%Y-%m-%d").unwrap();
    let next = (last + chrono::Days::new(30)).to_string();
    let out = run(
        site.path(),
        &[
            "price",
            "add",
            "--date",
            &next,
            "mogas=66.00",
            "gasoil=72.50",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("added {next}")),
        "{}",
        stdout(&out)
    );
    let (_, after) = csv_rows(site.path());
    assert_eq!(after.len(), rows.len() + 1);
    assert_eq!(
        after.last().unwrap(),
        &(next.clone(), vec!["66.00".into(), "72.50".into()])
    );
    assert_site_tells_the_csv(site.path());
}
