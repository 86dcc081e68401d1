//! Big and wide but valid inputs, through the real binary: every page and chart stays
//! within its bound (HTML pages under 1 MB, charts under 100 KB) with each input at
//! its limit, and a setting past its limit is refused at its line of site.toml with
//! the previous site kept.

mod common;

use common::*;
use std::fs;
use std::path::Path;
use std::time::Duration;

const PAGE_BOUND: usize = 1_000_000;
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

/// Appends to a site.toml the 64 series a dataset may have, each labelled as long as
/// a label may be (40 characters).
fn push_widest_series(toml: &mut String, dataset: &str) {
    for s in 0..64 {
        toml.push_str(&format!(
            "[datasets.{dataset}.series.s{s}]\nlabel = \"{}{s:02}\"\n",
            "L".repeat(38)
        ));
    }
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

/// A dataset with every input at its limit at once: 64 series labelled as long as
/// site.toml allows, the longest title, description, unit and source, two years of
/// daily rows at the longest values. Every page stays under 1 MB and every chart
/// under 100 KB.
#[test]
fn a_dataset_with_every_input_at_its_limit_keeps_pages_and_charts_in_bounds() {
    let site = frozen_site();
    fs::write(site.path().join("data/wide.csv"), widest_csv(64, 731)).unwrap();
    let mut toml = fs::read_to_string(site.path().join("site.toml"))
        .unwrap()
        .replace("feed_decisions = 20", "feed_decisions = 200");
    toml.push_str(&format!(
        "\n[datasets.wide]\ntitle = \"{}\"\ndescription = \"{}\"\nunit = \"{}\"\ncurrency = \"{}\"\nsource = \"{}\"\nsource_url = \"https://example.org/{}\"\nrow_noun = \"{}\"\n",
        "T".repeat(200),
        "D".repeat(1000),
        "U".repeat(40),
        "C".repeat(10),
        "S".repeat(200),
        "u".repeat(1900),
        "r".repeat(40),
    ));
    push_widest_series(&mut toml, "wide");
    fs::write(site.path().join("site.toml"), toml).unwrap();
    // As many events as a file may hold, all in this dataset's years, with the
    // longest labels and sources.
    let mut events = String::new();
    for (i, date) in days(731).iter().step_by(11).take(64).enumerate() {
        events.push_str(&format!(
            "[[event]]\ndate = \"{date}\"\nlabel = \"{}{i:02}\"\nsource = \"{}\"\n",
            "E".repeat(38),
            "S".repeat(200)
        ));
    }
    fs::write(site.path().join("data/events.toml"), events).unwrap();
    build(site.path());
    let public = site.path().join("public");
    assert_eq!(over(&public, ".html", PAGE_BOUND), vec![]);
    assert_eq!(over(&public, ".svg", CHART_BOUND), vec![]);
    // The most decisions a feed may carry, each naming 64 values: its title names
    // four (it named all 64, 2.4 MB in all), its text all of them.
    assert_eq!(over(&public, ".xml", 2_000_000), vec![]);
    let feed = fs::read_to_string(public.join("prices/wide/feed.xml")).unwrap();
    assert_eq!(feed.matches("<entry>").count(), 200);
    assert!(
        feed.contains(") and 60 more</title>"),
        "a title names four values"
    );
    let page = fs::read_to_string(public.join("prices/wide/index.html")).unwrap();
    assert!(page.contains(&format!("{}63", "L".repeat(38))));
    // The description, written three times into the head, names four series' values
    // (it named all 64: 5 KB each time).
    let description = value_after(&page, "<meta name=\"description\" content=\"");
    assert!(description.len() < 1_500, "{} bytes", description.len());
    assert!(description.contains(" and 60 more, "), "{description}");
    let chart = snapshot(&public.join("charts"))
        .into_iter()
        .find(|(path, _)| path.starts_with("wide.") && path.ends_with(".svg"))
        .unwrap()
        .1;
    let chart = String::from_utf8(chart).unwrap();
    assert_eq!(
        chart.matches("(source: SSSS").count(),
        64,
        "every event drawn"
    );
}

/// A text site.toml lets a page repeat (a series label is in every table header,
/// legend, tooltip and feed entry) had no limit: a 20,000-character label built
/// without a word, each page of its dataset growing by it many times over. It is
/// refused at its line, and the site built before stays as it was.
#[test]
fn a_site_toml_text_past_its_length_is_refused_at_its_line() {
    let site = frozen_site();
    build(site.path());
    let public = site.path().join("public");
    let before = snapshot(&public);
    let toml = fs::read_to_string(site.path().join("site.toml")).unwrap();
    let long = toml.replace(
        "label = \"Gas Oil (diesel)\"",
        &format!("label = \"{}\"", "G".repeat(20_000)),
    );
    assert_ne!(long, toml);
    let line = long.lines().position(|l| l.contains("GGGG")).unwrap() + 1;
    fs::write(site.path().join("site.toml"), &long).unwrap();
    let (out, _) = run_within(site.path(), &["build"], Duration::from_secs(60));
    assert_fails_with(
        &out,
        &format!(
            "site.toml:{line}: datasets.fuel-prices.series.gasoil.label is 20000 characters long: want at most 40"
        ),
    );
    assert_eq!(snapshot(&public), before, "the previous site is kept");
    for (key, value, max) in [
        ("description", "D".repeat(1001), 1000),
        ("title", "T".repeat(201), 200),
    ] {
        let bad = toml.replacen(&format!("\n{key} = \""), &format!("\n{key} = \"{value}"), 1);
        let line = bad.lines().position(|l| l.contains(&value)).unwrap() + 1;
        fs::write(site.path().join("site.toml"), &bad).unwrap();
        let (out, _) = run_within(site.path(), &["check"], Duration::from_secs(60));
        assert_fails_with(&out, &format!("site.toml:{line}: {key} is "));
        assert!(stderr(&out).contains(&format!("want at most {max}")));
    }
    // An event's source is every chart's tooltip for it.
    fs::write(site.path().join("site.toml"), &toml).unwrap();
    fs::write(
        site.path().join("data/events.toml"),
        format!(
            "[[event]]\ndate = \"2020-03-11\"\nlabel = \"Pandemic\"\nsource = \"{}\"\n",
            "S".repeat(100_000)
        ),
    )
    .unwrap();
    let (out, _) = run_within(site.path(), &["check"], Duration::from_secs(60));
    assert_fails_with(
        &out,
        "data/events.toml:4: an event's source is 100000 characters long: want at most 200",
    );
}

/// `home_notes` and `feed_decisions` had no limit: 20,000 notes with
/// `home_notes = 20000` made a 12 MB home page, and `feed_decisions` as large as a
/// 1,000,000-row dataset put every row in its feed. Past their limits they are refused
/// at their line.
#[test]
fn counts_in_site_toml_past_their_bound_are_refused_at_their_line() {
    let site = frozen_site();
    let toml = fs::read_to_string(site.path().join("site.toml")).unwrap();
    for (from, to, want) in [
        (
            "home_notes = 5",
            "home_notes = 20000",
            "home_notes = 20000: want a whole number from 0 to 100",
        ),
        (
            "feed_decisions = 20",
            "feed_decisions = 1000000",
            "feed_decisions = 1000000: want a whole number from 0 to 200",
        ),
    ] {
        let bad = toml.replace(from, to);
        assert_ne!(bad, toml);
        let line = bad.lines().position(|l| l == to).unwrap() + 1;
        fs::write(site.path().join("site.toml"), &bad).unwrap();
        let (out, _) = run_within(site.path(), &["check"], Duration::from_secs(60));
        assert_fails_with(&out, &format!("site.toml:{line}: {want}"));
    }
    // At the limits, the build goes through.
    let ok = toml
        .replace("home_notes = 5", "home_notes = 100")
        .replace("feed_decisions = 20", "feed_decisions = 200");
    fs::write(site.path().join("site.toml"), ok).unwrap();
    build(site.path());
}

/// 500 notes a page (`notes_per_page`'s maximum), each with a long title and
/// description and twelve tags with names as long as a tag may be: the notes index
/// was 2.5 MB and each tag page 3.1 MB (about 20 KB a note here). Lists now show each
/// note's title, summary and tags up to a few hundred bytes (the note's own page has
/// them whole, with a "+N more" link to it), so 500 notes take under 1 MB. Measured
/// on 60 notes (a share card each is the slow part of the build): each one's entry
/// must take under a 500th of the bound.
#[test]
fn lists_of_long_notes_take_under_a_500th_of_1_mb_a_note() {
    const NOTES: usize = 60;
    let site = frozen_site();
    let toml = fs::read_to_string(site.path().join("site.toml")).unwrap();
    fs::write(
        site.path().join("site.toml"),
        toml.replace("home_notes = 5", "home_notes = 100\nnotes_per_page = 500"),
    )
    .unwrap();
    // Tag slugs may be 255 bytes; a name of 250 letters and a number makes one.
    let tags: Vec<String> = (0..12)
        .map(|t| format!("\"{} {t}\"", "x".repeat(250)))
        .collect();
    let title = "Title & <words> ".repeat(200);
    let description = "A \\\"quoted\\\" description/with slashes & more. ".repeat(200);
    for i in 0..NOTES {
        fs::write(
            site.path().join(format!("content/notes/long-{i:03}.md")),
            format!(
                "+++\ntitle = \"{title}{i}\"\ndate = 2025-01-01\ndescription = \"{description}\"\ntags = [{}]\n+++\n\nBody {i}.\n",
                tags.join(", ")
            ),
        )
        .unwrap();
    }
    build(site.path());
    let public = site.path().join("public");
    let tag_page = format!("tags/{}-0/index.html", "x".repeat(250));
    for list in ["notes/index.html", "index.html", tag_page.as_str()] {
        let html = fs::read_to_string(public.join(list)).unwrap();
        let articles = html.matches("<article").count();
        assert!(articles >= NOTES, "{list}: {articles} notes");
        let first = html.find("<article").unwrap();
        let last = html.rfind("</article>").unwrap();
        let each = (last - first) / articles;
        assert!(
            each * 500 < PAGE_BOUND - 100_000,
            "{list}: {each} bytes a note, {} for 500",
            each * 500
        );
    }
    let index = fs::read_to_string(public.join("notes/index.html")).unwrap();
    // Tags that do not fit are counted and linked through the note.
    assert!(index.contains("more</a>"), "no '+N more' link");
    let note = fs::read_to_string(public.join("notes/long-000/index.html")).unwrap();
    assert_eq!(
        note.matches("<a class=\"tag\"").count(),
        12,
        "its own page has all"
    );
}

/// Forty datasets of 64 series each, titled and labelled as long as site.toml allows:
/// the home page, a card per series of every dataset, was 1.4 MB, and the menu on
/// every page named every dataset, so the site grew with the square of their number.
/// A card now shows a dataset's first series and links the rest on its page; the
/// menu names the first datasets. The home page grew by a card per dataset (a few
/// hundred datasets made it pass 1 MB): it shows the first datasets and links the
/// prices index, `/prices/`, whose pages hold a card for each.
#[test]
fn many_wide_datasets_keep_the_home_page_and_the_menu_small() {
    const DATASETS: usize = 40;
    let site = frozen_site();
    let mut toml = fs::read_to_string(site.path().join("site.toml")).unwrap();
    let csv = widest_csv(64, 30);
    for k in 0..DATASETS {
        fs::write(site.path().join(format!("data/w{k:02}.csv")), &csv).unwrap();
        toml.push_str(&format!(
            "\n[datasets.w{k:02}]\ntitle = \"{}{k:02}\"\ncurrency = \"CCCCCCCCCC\"\nunit = \"{}\"\n",
            "T".repeat(198),
            "U".repeat(40),
        ));
        push_widest_series(&mut toml, &format!("w{k:02}"));
    }
    fs::write(site.path().join("site.toml"), toml).unwrap();
    build(site.path());
    let public = site.path().join("public");
    assert_eq!(over(&public, ".html", PAGE_BOUND), vec![]);
    let read = |page: &str| fs::read_to_string(public.join(page)).unwrap();
    let cards = |html: &str| html.matches("<section class=\"dataset-summary\"").count();
    let more_link =
        |k: usize| format!("<a href=\"/prices/w{k:02}/\">56 more series on its page</a>");

    let home = read("index.html");
    assert_eq!(cards(&home), 12, "the home page shows the first datasets");
    assert!(
        home.contains("<a href=\"/prices/\">All prices</a>"),
        "the home page does not link the prices index"
    );
    assert!(home.len() < 200_000, "home page: {} bytes", home.len());

    // The prices index: every dataset's card once, over pages linked both ways.
    let first = read("prices/index.html");
    let second = read("prices/page/2/index.html");
    assert!(!public.join("prices/page/3/index.html").exists());
    assert_eq!(cards(&first) + cards(&second), DATASETS + 2);
    assert!(first.contains(&format!("{} in all", DATASETS + 2)));
    for k in 0..DATASETS {
        let on = [&first, &second]
            .iter()
            .filter(|p| p.contains(&more_link(k)))
            .count();
        assert_eq!(on, 1, "w{k:02}'s card is on {on} pages of the prices index");
    }
    assert!(first.contains("<link rel=\"next\" href=\"/prices/page/2/\">"));
    assert!(second.contains("<link rel=\"prev\" href=\"/prices/\">"));
    let sitemap = read("sitemap.xml");
    for url in ["/prices/</loc>", "/prices/page/2/</loc>"] {
        assert!(sitemap.contains(url), "the sitemap lacks {url}");
    }

    // The menu names the first datasets and links the rest through the index.
    let notes = read("notes/index.html");
    let menu = notes.split("</nav>").next().unwrap();
    let named = menu.matches("<li><a href=\"/prices/").count();
    assert!(named <= 13, "the menu names {named} datasets");
    assert!(
        menu.contains("<a href=\"/prices/\">All prices</a>"),
        "{menu}"
    );
}

/// A note's JSON-LD named every tag as a keyword: 2,000 tags of 250 letters wrote
/// 530 KB into its page's head. It names the first 50; the page itself still links
/// every tag.
#[test]
fn a_note_with_thousands_of_long_tags_keeps_its_json_ld_small() {
    const TAGS: usize = 2_000;
    let site = frozen_site();
    let tags: Vec<String> = (0..TAGS)
        .map(|t| format!("\"{} {t}\"", "x".repeat(250)))
        .collect();
    fs::write(
        site.path().join("content/notes/tagged.md"),
        format!(
            "+++\ntitle = \"Tagged\"\ndate = 2025-01-01\ntags = [{}]\n+++\n\nFiled under many tags.\n",
            tags.join(", ")
        ),
    )
    .unwrap();
    build(site.path());
    let page = fs::read_to_string(site.path().join("public/notes/tagged/index.html")).unwrap();
    let jsonld = page
        .split("<script type=\"application/ld+json\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .expect("a JSON-LD block");
    assert!(jsonld.len() < 20_000, "JSON-LD: {} bytes", jsonld.len());
    let v: serde_json::Value = serde_json::from_str(jsonld).unwrap();
    assert_eq!(v["keywords"].as_array().unwrap().len(), 50);
    assert_eq!(page.matches("<a class=\"tag\"").count(), TAGS);
}

/// Each of a note's tags has a feed holding the note's summary: its whole
/// description and title, so a note with 2,000 tags and a 100 KB description wrote
/// 2,000 copies of it (200 MB, and as much again compressed), tags × description.
/// A tag feed's entry is now cut as lists cut it, and the build is linear again.
#[test]
fn a_long_description_is_not_copied_into_each_of_a_notes_tag_feeds() {
    const TAGS: usize = 2_000;
    let site = frozen_site();
    let tags: Vec<String> = (0..TAGS).map(|t| format!("\"Tag {t:04}\"")).collect();
    let description = "A long description of the note, word after word. ".repeat(2_000);
    let title = "A title ".repeat(500);
    fs::write(
        site.path().join("content/notes/described.md"),
        format!(
            "+++\ntitle = \"{title}\"\ndate = 2025-01-01\ndescription = \"{description}\"\ntags = [{}]\n+++\n\nFiled under many tags.\n",
            tags.join(", ")
        ),
    )
    .unwrap();
    let (out, _) = run_within(site.path(), &["build"], Duration::from_secs(300));
    assert!(out.status.success(), "{}", stderr(&out));
    let public = site.path().join("public");
    for t in [0, TAGS - 1] {
        let feed = fs::read_to_string(public.join(format!("tags/tag-{t:04}/feed.xml"))).unwrap();
        assert!(feed.len() < 8_000, "tag {t}'s feed: {} bytes", feed.len());
        assert!(feed.contains("A long description of the note"));
    }
    let page = fs::read_to_string(public.join("notes/described/index.html")).unwrap();
    assert!(
        page.contains(&description[..2_000]),
        "the note's page keeps it whole"
    );
}
