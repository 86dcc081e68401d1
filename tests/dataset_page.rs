//! Dataset pages through the real binary: key figures (exact, on the frozen fixture),
//! pump prices beside Brent, the latest years on the page and every year on its own
//! page, a per-dataset feed, and pages that stay under 1 MB whatever the data size.
//! Expected values were worked out from tests/fixtures/site/data/*.csv by hand and
//! with a short Python script (decimal arithmetic), not from the program.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Duration;

/// The frozen site with a 40-litre tank and Brent set beside the pump prices.
fn configured_site() -> tempfile::TempDir {
    let site = frozen_site();
    let toml = site.path().join("site.toml");
    let text = fs::read_to_string(&toml).unwrap();
    let text = text.replacen(
        "[datasets.fuel-prices]\n",
        "[datasets.fuel-prices]\ntank_litres = 40\ncompare = \"brent-crude\"\n",
        1,
    );
    assert!(text.contains("tank_litres = 40"));
    fs::write(&toml, text).unwrap();
    site
}

fn build(site: &Path) {
    let (out, _) = run_within(site, &["build"], Duration::from_secs(120));
    assert!(out.status.success(), "{}", stderr(&out));
}

fn page(site: &Path, rel: &str) -> String {
    fs::read_to_string(site.join("public").join(rel)).unwrap()
}

/// The visible text of the elements matching `css`, whitespace collapsed.
fn texts(html: &str, css: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(css).unwrap();
    doc.select(&sel)
        .map(|e| {
            e.text()
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Each key-figure card's rows, as "term: description", by card heading.
fn figure_cards(html: &str) -> BTreeMap<String, Vec<String>> {
    let doc = scraper::Html::parse_document(html);
    let card = scraper::Selector::parse(".figure-card").unwrap();
    let h3 = scraper::Selector::parse("h3").unwrap();
    let row = scraper::Selector::parse("dl > div").unwrap();
    let dt = scraper::Selector::parse("dt").unwrap();
    let dd = scraper::Selector::parse("dd").unwrap();
    let squash = |e: scraper::ElementRef| {
        e.text()
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    doc.select(&card)
        .map(|c| {
            let heading = squash(c.select(&h3).next().unwrap());
            let rows = c
                .select(&row)
                .map(|r| {
                    format!(
                        "{}: {}",
                        squash(r.select(&dt).next().unwrap()),
                        squash(r.select(&dd).next().unwrap())
                    )
                })
                .collect();
            (heading, rows)
        })
        .collect()
}

#[test]
fn key_figures_are_exact_on_the_frozen_fixture() {
    let site = configured_site();
    build(site.path());
    let html = page(site.path(), "prices/fuel-prices/index.html");
    let cards = figure_cards(&html);
    assert_eq!(
        cards.keys().cloned().collect::<Vec<_>>(),
        vec![
            "Gas Oil (diesel): Rs 71.25 the highest ever".to_string(),
            "Mogas (petrol): Rs 64.25".to_string(),
        ],
        "Gas Oil's 71.25 is a record, Mogas' 64.25 is not (74.10 in 2022)"
    );
    assert_eq!(
        cards["Mogas (petrol): Rs 64.25"],
        vec![
            "All-time high: Rs 74.10 first on 19 May 2022",
            "All-time low: Rs 21.35 first on 2 April 2004",
            "1 year before: Rs 61.20 in force from 12 April 2025 now up Rs 3.05 (+5.0%)",
            "5 years before: Rs 48.40 in force from 3 April 2021 now up Rs 15.85 (+32.7%)",
            "10 years before: Rs 38.85 in force from 4 February 2016 now up Rs 25.40 (+65.4%)",
            "Current price since: 16 April 2026 set at the latest decision",
            "Full tank (40 litres): Rs 2570.00",
        ]
    );
    assert_eq!(
        cards["Gas Oil (diesel): Rs 71.25 the highest ever"],
        vec![
            "All-time high: Rs 71.25 first on 16 April 2026",
            "All-time low: Rs 13.05 first on 2 April 2004",
            "1 year before: Rs 58.95 in force from 12 April 2025 now up Rs 12.30 (+20.9%)",
            "5 years before: Rs 35.00 in force from 3 April 2021 now up Rs 36.25 (+103.6%)",
            "10 years before: Rs 29.50 in force from 4 February 2016 now up Rs 41.75 (+141.5%)",
            "Current price since: 16 April 2026 set at the latest decision",
            "Full tank (40 litres): Rs 2850.00",
        ]
    );

    // Petrol beside crude, in numbers: Brent's April 2026 average was in force at the
    // last decision (117.29); July 2026 is its latest (83.76): −28.587…% → 28.6%.
    let beside = texts(&html, "section[aria-labelledby=beside] > p").join(" ");
    assert_eq!(
        beside,
        "Since the latest decision on 16 April 2026, Brent crude has fallen 28.6%, from \
         US$ 117.29 (April 2026) to US$ 83.76 (July 2026); retail fuel prices have not changed since."
    );
    // Each period to 16 April 2026, from the row in force then; Brent's monthly
    // averages in force: 68.13 (Apr 2025), 64.81 (Apr 2021), 41.58 (Apr 2016) → 117.29.
    assert_eq!(
        texts(&html, "table.compare tbody th"),
        [
            "1 year from 16 Apr 2025",
            "5 years from 16 Apr 2021",
            "10 years from 16 Apr 2016"
        ]
    );
    assert_eq!(
        texts(&html, "table.compare tbody td"),
        [
            "+5.0%", "+20.9%", "+72.2%", "+32.7%", "+103.6%", "+81.0%", "+65.4%", "+141.5%",
            "+182.1%"
        ]
    );

    // Brent is monthly: its months read as months, never as the 1st of a month.
    let brent = page(site.path(), "prices/brent-crude/index.html");
    let home = page(site.path(), "index.html");
    for html in [&brent, &home] {
        assert!(html.contains("Month of <time datetime=\"2026-07-01\">July 2026</time>"));
        assert!(!html.contains("1 July 2026"));
    }
    let brent_cards = figure_cards(&brent);
    assert_eq!(
        brent_cards["Brent: US$ 83.76"][..2],
        [
            "All-time high: US$ 132.72 first in July 2008",
            "All-time low: US$ 18.38 first in April 2020"
        ]
    );
    assert!(
        !brent.contains("Full tank") && !brent.contains("id=\"beside\""),
        "only fuel-prices names a tank and a comparison"
    );
}

#[test]
fn how_long_a_price_has_held_is_counted_to_the_latest_decision() {
    // Drop the two 2026 rises: the latest decision is then 3 March 2026, which kept
    // Mogas at 58.45 (set 4 November 2025: 119 days, 1 later decision) and Gas Oil at
    // 58.95 (set 14 December 2024: 444 days, 4 later decisions).
    let site = configured_site();
    let csv = site.path().join("data/fuel-prices.csv");
    let text: String = fs::read_to_string(&csv)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("2026-03-25") && !l.starts_with("2026-04-16"))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(&csv, text).unwrap();
    build(site.path());
    let cards = figure_cards(&page(site.path(), "prices/fuel-prices/index.html"));
    let held = |card: &str| {
        cards[card]
            .iter()
            .find(|r| r.starts_with("Current price since"))
            .unwrap()
            .clone()
    };
    assert_eq!(
        held("Mogas (petrol): Rs 58.45"),
        "Current price since: 4 November 2025 kept at 1 later decision, 119 days to the latest one (3 March 2026)"
    );
    assert_eq!(
        held("Gas Oil (diesel): Rs 58.95"),
        "Current price since: 14 December 2024 kept at 4 later decisions, 444 days to the latest one (3 March 2026)"
    );
}

/// Every `id=d-YYYY-MM-DD` row anchor in `html` (rows are written with the value
/// unquoted, as HTML allows).
fn row_ids(html: &str) -> Vec<String> {
    html.match_indices("<tr id=d-")
        .map(|(i, _)| html[i + 9..i + 19].to_string())
        .collect()
}

/// The dates (first CSV column) of a CSV file, header skipped.
fn csv_dates(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect()
}

/// For each year page of `slug`: its year and the row dates it holds.
fn year_pages(public: &Path, slug: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(public.join("prices").join(slug)).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            let year = entry.file_name().to_string_lossy().into_owned();
            let html = fs::read_to_string(entry.path().join("index.html")).unwrap();
            out.insert(year, row_ids(&html));
        }
    }
    out
}

#[test]
fn every_row_is_on_exactly_one_year_page_and_the_sitemap_lists_them() {
    let site = configured_site();
    build(site.path());
    let public = site.path().join("public");
    for slug in ["fuel-prices", "brent-crude"] {
        let dates = csv_dates(&site.path().join(format!("data/{slug}.csv")));
        let pages = year_pages(&public, slug);
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (year, ids) in &pages {
            for id in ids {
                assert!(id.starts_with(year.as_str()), "{id} on the {year} page");
                *seen.entry(id).or_default() += 1;
            }
        }
        assert_eq!(seen.len(), dates.len(), "{slug}: every row, no other");
        for d in &dates {
            assert_eq!(seen.get(d.as_str()), Some(&1), "{slug}: {d}");
        }
        let sitemap = page(site.path(), "sitemap.xml");
        for year in pages.keys() {
            assert!(sitemap.contains(&format!(
                "<loc>https://petrol-watch.web.app/prices/{slug}/{year}/</loc>"
            )));
        }
    }
    // 2004 to 2026, each page linking to the years on either side.
    let fuel = year_pages(&public, "fuel-prices");
    assert_eq!(fuel.len(), 23);
    let y2025 = page(site.path(), "prices/fuel-prices/2025/index.html");
    assert!(y2025.contains("<link rel=\"prev\" href=\"/prices/fuel-prices/2024/\">"));
    assert!(y2025.contains("<link rel=\"next\" href=\"/prices/fuel-prices/2026/\">"));
    let first = page(site.path(), "prices/fuel-prices/2004/index.html");
    assert!(!first.contains("rel=\"prev\"") && first.contains("rel=\"next\""));

    // The dataset page shows the three latest years, newest open, and links to all.
    let html = page(site.path(), "prices/fuel-prices/index.html");
    assert_eq!(
        texts(&html, "details.year > summary"),
        ["2026 3 decisions", "2025 3 decisions", "2024 4 decisions"]
    );
    assert!(html.contains("<details class=\"year\" id=\"y-2026\" open>"));
    assert!(html.contains("<details class=\"year\" id=\"y-2025\">"));
    assert_eq!(row_ids(&html).len(), 10);
    for year in fuel.keys() {
        assert!(html.contains(&format!("href=\"/prices/fuel-prices/{year}/\"")));
    }
    // The year's summary: rises and cuts count against the previous row, so 2026's
    // first decision (3 March, Gas Oil kept) counts against 4 November 2025.
    assert_eq!(
        texts(&y2025, ".year-stats li"),
        [
            "Mogas (petrol) 0 rises, 1 cut; average Rs 60.28, low Rs 58.45, high Rs 61.20",
            "Gas Oil (diesel) 0 rises, 0 cuts; average Rs 58.95, low Rs 58.95, high Rs 58.95"
        ]
    );
    let y2026 = page(site.path(), "prices/fuel-prices/2026/index.html");
    assert_eq!(
        texts(&y2026, ".year-stats li"),
        [
            "Mogas (petrol) 1 rise, 0 cuts; average Rs 60.38, low Rs 58.45, high Rs 64.25",
            "Gas Oil (diesel) 2 rises, 0 cuts; average Rs 65.00, low Rs 58.95, high Rs 71.25"
        ]
    );
    // Every link on every page resolves.
    let out = run(site.path(), &["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn unchanged_stays_for_screen_readers_but_is_shown_quietly() {
    let site = built_site();
    // 2025: 12 April keeps both, 7 August both, 4 November Gas Oil: 5 kept prices.
    let html = page(site.path(), "prices/fuel-prices/2025/index.html");
    let quiet = "<td class=unchanged><span aria-hidden=true>·</span><span class=visually-hidden>unchanged</span>";
    assert_eq!(html.matches(quiet).count(), 5);
    assert_eq!(
        html.matches("unchanged").count(),
        10,
        "class and hidden text, nothing else"
    );
    let css = stylesheet(site.path());
    assert!(css.contains(".decisions thead th { position: sticky; top: 0;"));
    assert!(css.contains(".visually-hidden {"));
}

#[test]
fn each_dataset_has_a_feed_of_its_newest_decisions_linked_from_its_page() {
    let site = built_site();
    let public = site.path().join("public");
    for (slug, rows) in [("fuel-prices", 121), ("brent-crude", 295)] {
        let xml = page(site.path(), &format!("prices/{slug}/feed.xml"));
        let doc = roxmltree::Document::parse(&xml).expect("a well-formed feed");
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "feed");
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://www.w3.org/2005/Atom")
        );
        let entries: Vec<_> = root
            .children()
            .filter(|n| n.has_tag_name("entry"))
            .collect();
        // feed_decisions = 20 in the fixture's site.toml: the newest 20, newest first.
        let mut dates = csv_dates(&site.path().join(format!("data/{slug}.csv")));
        assert_eq!(dates.len(), rows);
        dates.reverse();
        assert_eq!(entries.len(), 20);
        for (entry, date) in entries.iter().zip(&dates) {
            let link = entry
                .children()
                .find(|n| n.has_tag_name("link"))
                .and_then(|n| n.attribute("href"))
                .unwrap();
            let want = format!(
                "https://petrol-watch.web.app/prices/{slug}/{}/#d-{date}",
                &date[..4]
            );
            assert_eq!(link, want);
            // The link's target exists.
            let html =
                fs::read_to_string(public.join(format!("prices/{slug}/{}/index.html", &date[..4])))
                    .unwrap();
            assert!(html.contains(&format!("<tr id=d-{date}>")));
        }
        let self_link = root
            .children()
            .filter(|n| n.has_tag_name("link"))
            .find(|n| n.attribute("rel") == Some("self"))
            .and_then(|n| n.attribute("href"));
        assert_eq!(
            self_link,
            Some(format!("https://petrol-watch.web.app/prices/{slug}/feed.xml").as_str())
        );
        let html = page(site.path(), &format!("prices/{slug}/index.html"));
        assert!(html.contains(&format!(
            "rel=\"alternate\" type=\"application/atom+xml\" title=\"{}",
            if slug == "fuel-prices" {
                "Retail fuel prices"
            } else {
                "Brent crude"
            }
        )));
        assert!(html.contains(&format!("href=\"/prices/{slug}/feed.xml\">")));
        assert!(texts(&html, "a")
            .iter()
            .any(|t| t.starts_with("Follow each new")));
    }
    let fuel = page(site.path(), "prices/fuel-prices/feed.xml");
    assert!(fuel.contains(
        "<title>Retail fuel prices from 16 April 2026: Mogas (petrol) Rs 64.25 (up 5.80), Gas Oil (diesel) Rs 71.25 (up 6.45)</title>"
    ));
    assert!(!fuel.contains("Brent"), "only its own decisions");
}

#[test]
fn a_200000_row_dataset_builds_with_every_page_under_1_mb_and_every_row_reachable() {
    let site = frozen_site();
    // Daily rows from 1500-01-01: 200,000 of them span 548 years.
    let mut csv = String::from("date,a,b\n");
    let mut date = chrono_like_start();
    let mut dates = Vec::with_capacity(200_000);
    for i in 0..200_000u64 {
        let d = date.next();
        csv.push_str(&format!(
            "{d},{}.{:02},{}.{:03}\n",
            (i * 7919) % 10007 / 100,
            (i * 7919) % 100,
            (i * 104_729) % 99_991 / 1000,
            (i * 104_729) % 1000
        ));
        dates.push(d);
    }
    fs::write(site.path().join("data/big.csv"), &csv).unwrap();
    let (out, _) = run_within(site.path(), &["build"], Duration::from_secs(240));
    assert!(out.status.success(), "{}", stderr(&out));
    let public = site.path().join("public");
    for (path, bytes) in snapshot(&public) {
        if path.ends_with(".html") {
            assert!(bytes.len() < 1_000_000, "{path}: {} bytes", bytes.len());
        }
    }
    // Through the pages: the dataset page links its newest years; each year page
    // links the one before; every row is on exactly one of them.
    let mut reached = Vec::new();
    let mut url = {
        let html = page(site.path(), "prices/big/index.html");
        assert!(html.contains("href=\"/prices/big/2047/\""));
        Some("/prices/big/2047/".to_string())
    };
    let mut hops = 0;
    while let Some(u) = url {
        hops += 1;
        assert!(hops <= 600, "the chain of year pages loops");
        let html = fs::read_to_string(public.join(&u[1..]).join("index.html")).unwrap();
        reached.extend(row_ids(&html));
        url = html
            .split("<link rel=\"prev\" href=\"")
            .nth(1)
            .map(|rest| rest.split('"').next().unwrap().to_string());
    }
    reached.sort();
    assert_eq!(reached.len(), dates.len(), "every row once");
    assert_eq!(reached, dates);
    // Through the download: the CSV holds every row.
    assert_eq!(csv_dates(&public.join("data/big.csv")), dates);
    let sitemap = page(site.path(), "sitemap.xml");
    assert_eq!(
        sitemap.matches("/prices/big/").count(),
        549,
        "the page and 548 years"
    );
}

/// Consecutive ISO dates from 1500-01-01, without a date library: tests stay
/// independent of the program's own date code.
struct Days {
    y: u32,
    m: u32,
    d: u32,
}

fn chrono_like_start() -> Days {
    Days {
        y: 1500,
        m: 1,
        d: 0,
    }
}

impl Days {
    fn next(&mut self) -> String {
        let leap =
            (self.y.is_multiple_of(4) && !self.y.is_multiple_of(100)) || self.y.is_multiple_of(400);
        let len = [
            31,
            if leap { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ][self.m as usize - 1];
        self.d += 1;
        if self.d > len {
            self.d = 1;
            self.m += 1;
            if self.m > 12 {
                self.m = 1;
                self.y += 1;
            }
        }
        format!("{:04}-{:02}-{:02}", self.y, self.m, self.d)
    }
}

#[test]
fn bad_tank_or_comparison_settings_are_refused_and_the_site_kept() {
    let site = configured_site();
    build(site.path());
    let before = snapshot(&site.path().join("public"));
    let toml = site.path().join("site.toml");
    let good = fs::read_to_string(&toml).unwrap();
    for (from, to, want) in [
        (
            "tank_litres = 40",
            "tank_litres = 0",
            "datasets.fuel-prices.tank_litres = 0: want a whole number of litres from 1 to 100000",
        ),
        (
            "compare = \"brent-crude\"",
            "compare = \"nowhere\"",
            "datasets.fuel-prices.compare = \"nowhere\": want the name of another dataset in data/",
        ),
    ] {
        fs::write(&toml, good.replacen(from, to, 1)).unwrap();
        let out = run(site.path(), &["build"]);
        assert_fails_with(&out, want);
        assert!(stderr(&out).contains("site.toml"), "{}", stderr(&out));
        assert_eq!(snapshot(&site.path().join("public")), before);
    }
}

#[test]
fn a_tag_with_one_note_says_note() {
    let site = built_site();
    let public = site.path().join("public/tags");
    let mut singles = 0;
    for entry in fs::read_dir(&public).unwrap() {
        let path = entry.unwrap().path().join("index.html");
        let Ok(html) = fs::read_to_string(&path) else {
            continue;
        };
        assert!(
            !html.contains("content=\"1 notes tagged"),
            "{}",
            path.display()
        );
        singles += usize::from(html.contains("content=\"1 note tagged"));
    }
    assert!(singles > 0, "the fixture has a tag with one note");
}

#[test]
fn a_dataset_with_many_series_shows_fewer_years_on_its_page() {
    // Ten daily series over 2023–2025 (1,096 days): a year is 3,650 values or more, more than the
    // page's budget for two, so only the newest year is on the dataset page.
    let site = frozen_site();
    let mut csv = String::from("date");
    for s in 0..10 {
        csv.push_str(&format!(",s{s}"));
    }
    csv.push('\n');
    let mut days = Days {
        y: 2023,
        m: 1,
        d: 0,
    };
    for i in 0..1096u32 {
        csv.push_str(&days.next());
        for s in 0..10 {
            csv.push_str(&format!(",{}.{:02}", 50 + (i + s) % 7, (i * 13 + s) % 100));
        }
        csv.push('\n');
    }
    fs::write(site.path().join("data/wide.csv"), csv).unwrap();
    build(site.path());
    let html = page(site.path(), "prices/wide/index.html");
    assert_eq!(
        texts(&html, "details.year > summary"),
        ["2025 365 decisions"]
    );
    assert_eq!(row_ids(&html).len(), 365);
    for year in ["2023", "2024", "2025"] {
        assert!(html.contains(&format!("href=\"/prices/wide/{year}/\"")));
    }
}

#[test]
fn with_no_newer_brent_figure_the_last_two_decisions_are_set_beside_it() {
    // A decision on 15 August 2026: Brent's latest month (July 2026, 83.76) is the
    // one in force then, so the page compares the last two decisions instead: Brent
    // in force on 16 April 2026 was April's 117.29 (−28.587…% → 28.6%); Mogas went
    // 64.25 → 70.65 (+6.40, +9.96…% → 10.0%); Gas Oil stayed at 71.25.
    let site = configured_site();
    let csv = site.path().join("data/fuel-prices.csv");
    let mut text = fs::read_to_string(&csv).unwrap();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("2026-08-15,70.65,71.25\n");
    fs::write(&csv, text).unwrap();
    build(site.path());
    let html = page(site.path(), "prices/fuel-prices/index.html");
    assert_eq!(
        texts(&html, "section[aria-labelledby=beside] > p").join(" "),
        "Between the decisions of 16 April 2026 and 15 August 2026, Brent crude fell 28.6%, \
         from US$ 117.29 (April 2026) to US$ 83.76 (July 2026, its latest); Mogas (petrol) \
         rose 10.0% and Gas Oil (diesel) was kept."
    );
}

/// A decision row as a reader and a screen reader get it: the row's anchor, its
/// header, then each cell as `class: shown text / read text` (a value has no class;
/// shown: without the
/// visually hidden words; read: without what is hidden from screen readers).
fn decision_rows(html: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let row = scraper::Selector::parse(".decisions tbody tr").unwrap();
    let th = scraper::Selector::parse("th").unwrap();
    let td = scraper::Selector::parse("td").unwrap();
    let text = |cell: scraper::ElementRef, skip: &dyn Fn(&scraper::node::Element) -> bool| {
        let mut out = String::new();
        for node in cell.descendants() {
            let hidden = node
                .ancestors()
                .take_while(|a| a.id() != cell.id())
                .filter_map(|a| a.value().as_element())
                .any(skip);
            if let (Some(t), false) = (node.value().as_text(), hidden) {
                out.push_str(t);
            }
        }
        out.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let shown = |e: &scraper::node::Element| e.classes().any(|c| c == "visually-hidden");
    let read = |e: &scraper::node::Element| e.attr("aria-hidden") == Some("true");
    doc.select(&row)
        .map(|r| {
            let mut line = format!(
                "{} {}",
                r.value().id().unwrap_or("(no id)"),
                text(r.select(&th).next().unwrap(), &read)
            );
            for cell in r.select(&td) {
                let class = cell.value().attr("class").unwrap_or("");
                let (s, rd) = (text(cell, &shown), text(cell, &read));
                match class {
                    "" => line.push_str(&format!(" | {s}")),
                    _ => line.push_str(&format!(" | {class}: {s}")),
                }
                if rd != s {
                    line.push_str(&format!(" / {rd}"));
                }
            }
            line
        })
        .collect()
}

#[test]
fn year_page_rows_keep_their_anchors_and_the_change_a_reader_needs() {
    let site = built_site();
    // From tests/fixtures/site/data/fuel-prices.csv, worked out by hand: 2026-04-16
    // Mogas 58.45 → 64.25 (+5.80, 5.80 / 58.45 = 9.92%), Gas Oil 64.80 → 71.25 (+6.45,
    // 9.95% → 10.0%); 2026-03-25 Gas Oil 58.95 → 64.80 (+5.85, 9.92%).
    let y2026 = page(site.path(), "prices/fuel-prices/2026/index.html");
    assert_eq!(
        decision_rows(&y2026),
        [
            "d-2026-04-16 16 Apr 2026 | 64.25 | up: +5.80 +9.9% | 71.25 | up: +6.45 +10.0%",
            "d-2026-03-25 25 Mar 2026 | 58.45 | unchanged: · / unchanged | 64.80 | up: +5.85 +9.9%",
            "d-2026-03-03 3 Mar 2026 | 58.45 | unchanged: · / unchanged | 58.95 | unchanged: · / unchanged",
        ]
    );
    // A cut (66.20 → 61.20: −5.00, 7.55%; 63.95 → 58.95: −5.00, 7.82%) with a true
    // minus sign, and the first row, which has nothing to change from.
    let y2024 = page(site.path(), "prices/fuel-prices/2024/index.html");
    assert_eq!(
        decision_rows(&y2024)[0],
        "d-2024-12-14 14 Dec 2024 | 61.20 | down: −5.00 −7.6% | 58.95 | down: −5.00 −7.8%"
    );
    let y2004 = page(site.path(), "prices/fuel-prices/2004/index.html");
    assert_eq!(
        decision_rows(&y2004).last().unwrap(),
        "d-2004-04-02 2 Apr 2004 | 21.35 | first: first | 13.05 | first: first"
    );
    // The percentage is the change cell's span: what narrow screens drop.
    let css = stylesheet(site.path());
    assert!(css.contains(".decisions td.up span, .decisions td.down span { display: none; }"));
    // The dataset page shows the latest years with the same rows, and the feed links
    // to a row's anchor on its year page.
    let dataset = page(site.path(), "prices/fuel-prices/index.html");
    assert_eq!(decision_rows(&dataset)[..3], decision_rows(&y2026)[..]);
    let feed = page(site.path(), "prices/fuel-prices/feed.xml");
    assert!(
        feed.contains("/prices/fuel-prices/2026/#d-2026-04-16"),
        "{feed}"
    );
    // Every anchor is unique on its page, and each page has a row per decision.
    for (year, rows) in [(2026, 3), (2024, 4)] {
        let html = page(
            site.path(),
            &format!("prices/fuel-prices/{year}/index.html"),
        );
        let mut ids = row_ids(&html);
        assert_eq!(ids.len(), rows, "{year}");
        ids.dedup();
        assert_eq!(ids.len(), rows, "{year}");
    }
}

/// The built site's stylesheet (its name carries a content hash).
fn stylesheet(root: &Path) -> String {
    let css = fs::read_dir(root.join("public/static"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "css"))
        .unwrap();
    fs::read_to_string(css).unwrap()
}

/// The widest dataset allowed (64 series) with daily rows and the longest values and
/// changes a row can have: a year of it was a 2.2 MB page. Each year is now split into
/// pages of its newest rows first, every page is under 1 MB, and every row is on
/// exactly one page, reached through the pages' earlier/later links, the sitemap and
/// the feed's links to rows.
#[test]
fn a_year_too_wide_for_one_page_is_split_into_pages_under_1_mb() {
    let site = frozen_site();
    let series = 64;
    let mut csv = String::from("date");
    for s in 0..series {
        csv.push_str(&format!(",s{s}"));
    }
    csv.push('\n');
    let mut days = Days {
        y: 2024,
        m: 1,
        d: 0,
    };
    let mut dates = Vec::new();
    for i in 0..731u32 {
        let date = days.next();
        csv.push_str(&date);
        dates.push(date);
        for s in 0..series {
            // The smallest and the largest value in turn (the longest change and
            // percentage), or a value kept from the row before (the longest cell).
            let value = match (i + s) % 3 {
                0 => "0.000001",
                _ if s % 2 == 0 && i % 3 == 2 => "0.000001",
                _ => "999999999999.999999",
            };
            csv.push(',');
            csv.push_str(value);
        }
        csv.push('\n');
    }
    fs::write(site.path().join("data/wide.csv"), csv).unwrap();
    build(site.path());
    let public = site.path().join("public");
    for (path, bytes) in snapshot(&public) {
        if path.ends_with(".html") {
            assert!(bytes.len() < 1_000_000, "{path}: {} bytes", bytes.len());
        }
    }
    // Every page of the dataset's rows, and the rows each holds.
    let mut pages: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, bytes) in snapshot(&public.join("prices/wide")) {
        if path.ends_with("index.html") && path.contains('/') {
            let url = format!("/prices/wide/{}", path.trim_end_matches("index.html"));
            pages.insert(url, row_ids(&String::from_utf8(bytes).unwrap()));
        }
    }
    assert!(
        pages.len() > 4,
        "two years in several pages each: {:?}",
        pages.keys()
    );
    let mut all: Vec<&String> = pages.values().flatten().collect();
    all.sort();
    assert_eq!(
        all,
        dates.iter().collect::<Vec<_>>(),
        "every row on one page"
    );
    // From the newest year's first page back through "earlier": every row, newest first.
    let dataset = page(site.path(), "prices/wide/index.html");
    assert!(dataset.contains("href=\"/prices/wide/2025/\""));
    let mut url = Some("/prices/wide/2025/".to_string());
    let mut walked = Vec::new();
    while let Some(u) = url {
        assert!(walked.len() <= dates.len(), "the chain of pages loops");
        let html = fs::read_to_string(public.join(&u[1..]).join("index.html")).unwrap();
        walked.extend(row_ids(&html));
        url = html
            .split("<link rel=\"prev\" href=\"")
            .nth(1)
            .map(|rest| rest.split('"').next().unwrap().to_string());
    }
    let newest_first: Vec<String> = dates.iter().rev().cloned().collect();
    assert_eq!(walked, newest_first);
    // The dataset page shows the newest rows of the newest year.
    let shown = row_ids(&dataset);
    assert!(!shown.is_empty() && shown[..] == newest_first[..shown.len()]);
    let sitemap = page(site.path(), "sitemap.xml");
    for url in pages.keys() {
        assert!(
            sitemap.contains(&format!("<loc>https://petrol-watch.web.app{url}</loc>")),
            "{url} in the sitemap"
        );
    }
    // The feed links each decision to the page holding its row.
    let feed = page(site.path(), "prices/wide/feed.xml");
    let links: Vec<&str> = feed
        .split("<link href=\"https://petrol-watch.web.app")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .filter(|l| l.contains("#d-"))
        .collect();
    assert!(!links.is_empty());
    for link in links {
        let (url, id) = link.split_once("#d-").unwrap();
        assert!(
            pages
                .get(url)
                .is_some_and(|ids| ids.iter().any(|i| i == id)),
            "{link}: no such row on that page"
        );
    }
    let out = run(site.path(), &["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
}
