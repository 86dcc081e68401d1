//! Inputs far larger than the real site's, through the real binary: the work grows in
//! proportion to them, never with their square. No timing assertions: each input is
//! sized so that a quadratic step would take minutes, and the child process gets a
//! generous limit that only such a step would reach.

mod common;

use common::*;
use std::fs;
use std::time::Duration;

const TAGS: usize = 20_000;

/// One note with 20,000 tags builds: its page links every tag, every tag has its page,
/// and the tags index lists them all. 20,000² steps (a tag list searched per tag, a
/// page per tag that scans every tag) would be minutes; linear work is seconds.
#[test]
fn a_note_with_twenty_thousand_tags_builds_in_linear_work() {
    let site = frozen_site();
    let tags: Vec<String> = (0..TAGS).map(|i| format!("\"Tag {i:05}\"")).collect();
    fs::write(
        site.path().join("content/notes/many-tags.md"),
        format!(
            "+++\ntitle = \"Many tags\"\ndate = 2026-01-01\ntags = [{}]\n+++\n\nA note filed under every tag.\n",
            tags.join(", ")
        ),
    )
    .unwrap();
    let (out, _) = run_within(
        site.path(),
        &["build", "--out", "public"],
        Duration::from_secs(600),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let public = site.path().join("public");
    let page = fs::read_to_string(public.join("notes/many-tags/index.html")).unwrap();
    for i in [0, 1, TAGS / 2, TAGS - 1] {
        let url = format!("/tags/tag-{i:05}/");
        assert!(
            page.contains(&format!("href=\"{url}\"")),
            "{url} not linked"
        );
        let tag_page = fs::read_to_string(public.join(&url[1..]).join("index.html"))
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        assert!(
            tag_page.contains("/notes/many-tags/"),
            "{url} misses the note"
        );
    }
    let linked: std::collections::HashSet<&str> = page
        .split("href=\"/tags/tag-")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert_eq!(linked.len(), TAGS, "the note's page links every tag");
    let tag_pages = fs::read_dir(public.join("tags"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("tag-"))
        .count();
    assert_eq!(tag_pages, TAGS, "one page per tag");
    // The lists stay small however many tags there are: the notes index shows the
    // most used, and the tags index is paginated.
    for list in [
        "notes/index.html",
        "tags/index.html",
        "tags/page/100/index.html",
    ] {
        let len = fs::metadata(public.join(list)).unwrap().len();
        assert!(len < 64 * 1024, "{list}: {len} bytes");
    }
    // Rebuilt with nothing changed, every one of its 40,000-odd files is kept. (Each
    // tag feed's key hashed the whole note, tags and all, once per tag: 8.4 s for this
    // rebuild in a debug build, 1.1 s since; only the time limit would show that.)
    let (again, _) = run_within(
        site.path(),
        &["build", "--out", "public"],
        Duration::from_secs(600),
    );
    assert!(again.status.success(), "{}", stderr(&again));
    assert_every_file_unchanged(&again);
}

/// Past 50,000 pages (the sitemap protocol's limit for one file, which search engines
/// hold to by refusing the whole file), `sitemap.xml` becomes an index of parts under
/// `/sitemaps/`: every page is in exactly one part, no part holds more than 50,000
/// addresses or 50 MiB, and the index gives each part its newest change. Six datasets
/// of 8,999 yearly rows make 53,994 year pages.
#[test]
fn a_site_past_fifty_thousand_pages_gets_a_sitemap_index() {
    let site = small_site();
    for k in 0..6 {
        let mut csv = String::from("date,value\n");
        for year in 1001..10_000 {
            csv.push_str(&format!("{year}-06-01,{}.25\n", (year * 7 + k) % 100 + 1));
        }
        fs::write(site.path().join(format!("data/years-{k}.csv")), csv).unwrap();
    }
    let (out, _) = run_within(
        site.path(),
        &["build", "--out", "public"],
        Duration::from_secs(600),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let public = site.path().join("public");
    let base = "https://fixture.example";
    let index = fs::read_to_string(public.join("sitemap.xml")).unwrap();
    assert!(index.contains("<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"));
    let between = |text: &str, open: &str, close: &str| -> Vec<String> {
        text.split(open)
            .skip(1)
            .map(|s| s.split(close).next().unwrap().to_string())
            .collect()
    };
    let parts = between(&index, "<sitemap>", "</sitemap>");
    assert_eq!(parts.len(), 2, "{index}");
    let mut listed = std::collections::BTreeMap::new();
    for (k, part) in parts.iter().enumerate() {
        let loc = format!("{base}/sitemaps/{}.xml", k + 1);
        assert!(part.starts_with(&format!("<loc>{loc}</loc>")), "{part}");
        let text = fs::read_to_string(public.join(format!("sitemaps/{}.xml", k + 1))).unwrap();
        assert!(text.contains("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"));
        assert!(text.len() <= 50 * 1024 * 1024);
        let entries = between(&text, "<url>", "</url>");
        assert!(
            entries.len() <= 50_000,
            "part {} has {}",
            k + 1,
            entries.len()
        );
        let newest = entries
            .iter()
            .filter_map(|e| between(e, "<lastmod>", "</lastmod>").pop())
            .max()
            .unwrap();
        assert!(
            part.ends_with(&format!("<lastmod>{newest}</lastmod>")),
            "{part}"
        );
        for e in &entries {
            let url = between(e, "<loc>", "</loc>").pop().unwrap();
            let path = url.strip_prefix(base).unwrap().to_string();
            assert_eq!(listed.insert(path, k), None, "{url} listed twice");
        }
    }
    // Every page but the 404 page is listed, and nothing else is.
    let mut pages = std::collections::BTreeSet::new();
    for entry in walkdir::WalkDir::new(&public) {
        let entry = entry.unwrap();
        let rel = entry
            .path()
            .strip_prefix(&public)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if let Some(dir) = rel.strip_suffix("index.html") {
            pages.insert(format!("/{dir}"));
        }
    }
    assert!(pages.len() > 54_000, "{}", pages.len());
    let listed: std::collections::BTreeSet<String> = listed.into_keys().collect();
    assert_eq!(listed, pages);
    let robots = fs::read_to_string(public.join("robots.txt")).unwrap();
    assert!(robots.contains(&format!("Sitemap: {base}/sitemap.xml")));
}
