//! Pagination of the notes index and of tag pages, through the real binary: 25
//! generated notes at 10 a page make 3 pages with `rel=prev/next` both ways, every
//! note reachable exactly once, each page its own canonical, all in the sitemap. The
//! prices index the same way at 12, 13, 24 and 25 datasets, and beside a dataset named
//! `page`.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// The small fixture site with its notes replaced by `n` generated ones (note-01 the
/// oldest), each tagged "All", every even one also "Even", at `per_page` a page.
fn generated_site(n: usize, per_page: usize) -> tempfile::TempDir {
    let site = small_site();
    let root = site.path();
    let notes = root.join("content/notes");
    fs::remove_dir_all(&notes).unwrap();
    fs::create_dir_all(&notes).unwrap();
    for i in 1..=n {
        let tags = if i % 2 == 0 {
            "[\"All\", \"Even\"]"
        } else {
            "[\"All\"]"
        };
        fs::write(
            notes.join(format!("note-{i:02}.md")),
            format!(
                "+++\ntitle = \"Note {i:02}\"\ndate = 2025-01-{i:02}\ntags = {tags}\n+++\nBody {i}.\n"
            ),
        )
        .unwrap();
    }
    let config = root.join("site.toml");
    let text = fs::read_to_string(&config).unwrap();
    fs::write(
        &config,
        text.replacen(
            "feed_decisions = 5\n",
            &format!("feed_decisions = 5\nnotes_per_page = {per_page}\n"),
            1,
        ),
    )
    .unwrap();
    site
}

/// What one list page says: its notes, its head and body prev/next and canonical.
#[derive(Debug)]
struct ListPage {
    notes: Vec<String>,
    head_prev: Option<String>,
    head_next: Option<String>,
    body_prev: Option<String>,
    body_next: Option<String>,
    canonical: String,
}

fn read_list(root: &Path, url: &str) -> ListPage {
    read_items(root, url, "ol.note-list h2 a")
}

/// A list page whose items are the links `items` selects.
fn read_items(root: &Path, url: &str, items: &str) -> ListPage {
    let file = root.join("public").join(format!("{}index.html", &url[1..]));
    let html = fs::read_to_string(&file).unwrap_or_else(|e| panic!("{url}: {e}"));
    let d = scraper::Html::parse_document(&html);
    let attr = |css: &str, name: &str| {
        d.select(&scraper::Selector::parse(css).unwrap())
            .next()
            .and_then(|e| e.value().attr(name).map(str::to_string))
    };
    let notes = d
        .select(&scraper::Selector::parse(items).unwrap())
        .map(|a| a.value().attr("href").unwrap().to_string())
        .collect();
    ListPage {
        notes,
        head_prev: attr("head link[rel=\"prev\"]", "href"),
        head_next: attr("head link[rel=\"next\"]", "href"),
        body_prev: attr("nav.pager a[rel=\"prev\"]", "href"),
        body_next: attr("nav.pager a[rel=\"next\"]", "href"),
        canonical: attr("link[rel=\"canonical\"]", "href").unwrap(),
    }
}

/// Walks a list from its first page by `next` links, checking each step's links both
/// ways; returns every page's URL and the notes found, in order.
fn walk(root: &Path, first: &str) -> (Vec<String>, Vec<String>) {
    walk_items(root, first, "ol.note-list h2 a")
}

fn walk_items(root: &Path, first: &str, items: &str) -> (Vec<String>, Vec<String>) {
    let mut urls = vec![first.to_string()];
    let mut notes = Vec::new();
    let mut previous: Option<String> = None;
    loop {
        let url = urls.last().unwrap().clone();
        let p = read_items(root, &url, items);
        assert_eq!(
            p.canonical,
            format!("https://fixture.example{url}"),
            "{url}"
        );
        assert_eq!(p.head_prev, previous, "{url}: head prev");
        assert_eq!(p.body_prev, previous, "{url}: visible newer link");
        assert_eq!(p.head_next, p.body_next, "{url}: head and body next");
        notes.extend(p.notes);
        match p.body_next {
            Some(next) => {
                assert!(urls.len() < 100, "a loop of next links");
                previous = Some(url);
                urls.push(next);
            }
            None => break,
        }
    }
    (urls, notes)
}

#[test]
fn twenty_five_notes_at_ten_a_page_make_three_linked_pages() {
    let site = generated_site(25, 10);
    let root = site.path();
    let out = run(root, &["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (urls, notes) = walk(root, "/notes/");
    assert_eq!(urls, ["/notes/", "/notes/page/2/", "/notes/page/3/"]);
    // Newest first, every note exactly once.
    let want: Vec<String> = (1..=25)
        .rev()
        .map(|i| format!("/notes/note-{i:02}/"))
        .collect();
    assert_eq!(notes, want);
    let sizes: Vec<usize> = urls
        .iter()
        .map(|u| read_list(root, u).notes.len())
        .collect();
    assert_eq!(sizes, [10, 10, 5]);
    // No page 1 under /page/, no page past the last.
    assert!(!root.join("public/notes/page/1").exists());
    assert!(!root.join("public/notes/page/4").exists());
    // Visible text says where the reader is.
    let page2 = fs::read_to_string(root.join("public/notes/page/2/index.html")).unwrap();
    assert!(page2.contains("Page 2 of 3"), "{page2}");
    assert!(page2.contains("Newer notes") && page2.contains("Older notes"));
    // `check` finds every pager link.
    let out = run(root, &["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn tag_pages_are_paginated_the_same_way() {
    let site = generated_site(25, 10);
    let root = site.path();
    let out = run(root, &["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (urls, notes) = walk(root, "/tags/all/");
    assert_eq!(
        urls,
        ["/tags/all/", "/tags/all/page/2/", "/tags/all/page/3/"]
    );
    assert_eq!(notes.len(), 25);
    let mut seen = BTreeMap::new();
    for n in &notes {
        *seen.entry(n.clone()).or_insert(0) += 1;
    }
    assert!(seen.values().all(|&c| c == 1) && seen.len() == 25);

    let (urls, notes) = walk(root, "/tags/even/");
    assert_eq!(urls, ["/tags/even/", "/tags/even/page/2/"]);
    let want: Vec<String> = (1..=25)
        .rev()
        .filter(|i| i % 2 == 0)
        .map(|i| format!("/notes/note-{i:02}/"))
        .collect();
    assert_eq!(notes, want);
    assert!(!root.join("public/tags/even/page/3").exists());
}

#[test]
fn the_sitemap_lists_every_page() {
    let site = generated_site(25, 10);
    let root = site.path();
    let out = run(root, &["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let sitemap = fs::read_to_string(root.join("public/sitemap.xml")).unwrap();
    for url in [
        "/notes/",
        "/notes/page/2/",
        "/notes/page/3/",
        "/tags/all/",
        "/tags/all/page/2/",
        "/tags/all/page/3/",
        "/tags/even/",
        "/tags/even/page/2/",
    ] {
        let loc = format!("<loc>https://fixture.example{url}</loc>");
        assert_eq!(sitemap.matches(&loc).count(), 1, "{url} in {sitemap}");
    }
    // Page 3 of the index holds notes 01–05: its last change is note 05's date.
    assert!(sitemap
        .contains("<loc>https://fixture.example/notes/page/3/</loc><lastmod>2025-01-05</lastmod>"));
    assert!(!sitemap.contains("/notes/page/4/") && !sitemap.contains("/notes/page/1/"));
}

#[test]
fn a_few_notes_make_one_page_without_a_pager() {
    let site = generated_site(3, 10);
    let root = site.path();
    let out = run(root, &["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let p = read_list(root, "/notes/");
    assert_eq!(p.notes.len(), 3);
    assert_eq!((p.head_prev, p.head_next, p.body_next), (None, None, None));
    assert!(!root.join("public/notes/page").exists());
}

#[test]
fn adding_a_note_moves_one_across_the_page_boundary_on_a_warm_build() {
    let site = generated_site(20, 10);
    let root = site.path();
    build_ok(root, "warm");
    fs::write(
        root.join("content/notes/note-21.md"),
        "+++\ntitle = \"Note 21\"\ndate = 2025-01-21\ntags = [\"All\"]\n+++\nBody 21.\n",
    )
    .unwrap();
    let warm = warm_equals_cold(root, "after adding a note");
    assert!(warm.contains_key("notes/page/3/index.html"));
    assert!(warm.contains_key("tags/all/page/3/index.html"));
}

#[test]
fn notes_per_page_is_bounded() {
    for bad in ["0", "501"] {
        let site = generated_site(3, 10);
        let config = site.path().join("site.toml");
        let text = fs::read_to_string(&config).unwrap();
        fs::write(
            &config,
            text.replacen("notes_per_page = 10", &format!("notes_per_page = {bad}"), 1),
        )
        .unwrap();
        let out = run(site.path(), &["build"]);
        assert_fails_with(&out, "site.toml:");
        assert_fails_with(&out, "notes_per_page");
        assert_fails_with(&out, "from 1 to 500");
    }
}

/// 452 tags (450 on one note, "All" and "Even" on many): the tags index is three
/// linked pages of at most 200 in slug order, each tag once; the notes index shows
/// only the 40 most used and links to all; the sitemap lists every page.
#[test]
fn many_tags_make_a_paginated_tags_index_and_a_short_tag_list() {
    let site = generated_site(25, 10);
    let root = site.path();
    let many: Vec<String> = (0..450).map(|i| format!("\"T{i:03}\"")).collect();
    fs::write(
        root.join("content/notes/many-tags.md"),
        format!(
            "+++\ntitle = \"Many tags\"\ndate = 2024-12-01\ntags = [{}]\n+++\nBody.\n",
            many.join(", ")
        ),
    )
    .unwrap();
    let out = run(root, &["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (urls, tags) = walk_items(root, "/tags/", "ul.tag-index a.tag");
    assert_eq!(urls, ["/tags/", "/tags/page/2/", "/tags/page/3/"]);
    let mut want: Vec<String> = (0..450).map(|i| format!("/tags/t{i:03}/")).collect();
    want.extend(["/tags/all/".to_string(), "/tags/even/".to_string()]);
    want.sort();
    assert_eq!(tags, want, "every tag once, in slug order");
    let sizes: Vec<usize> = urls
        .iter()
        .map(|u| read_items(root, u, "ul.tag-index a.tag").notes.len())
        .collect();
    assert_eq!(sizes, [200, 200, 52]);
    let page2 = fs::read_to_string(root.join("public/tags/page/2/index.html")).unwrap();
    assert!(page2.contains("Page 2 of 3") && page2.contains("<title>Tags, page 2 of 3"));

    // The notes index: the 40 most used tags, "All" and "Even" among them, and a link
    // to every tag.
    let index = fs::read_to_string(root.join("public/notes/index.html")).unwrap();
    let d = scraper::Html::parse_document(&index);
    let shown: Vec<String> = d
        .select(&scraper::Selector::parse("#by-tag + p.tags a.tag").unwrap())
        .map(|a| a.value().attr("href").unwrap().to_string())
        .collect();
    assert_eq!(shown.len(), 40, "{shown:?}");
    assert!(
        shown.contains(&"/tags/all/".to_string()) && shown.contains(&"/tags/even/".to_string())
    );
    assert!(
        index.contains("<a href=\"/tags/\">All 452 tags</a>"),
        "{index}"
    );

    let sitemap = fs::read_to_string(root.join("public/sitemap.xml")).unwrap();
    for url in &urls {
        let loc = format!("<loc>https://fixture.example{url}</loc>");
        assert_eq!(sitemap.matches(&loc).count(), 1, "{url}");
    }
    assert!(!root.join("public/tags/page/4").exists());
    let out = run(root, &["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Tags whose slugs are `page` and `2`, each with three pages of notes, beside a tags
/// index long enough for a second page: the tags index's `/tags/page/2/` lives inside
/// the `page` tag's folder without taking any of its addresses (`/tags/page/`,
/// `/tags/page/page/2/`), and every list still walks through its own pages.
#[test]
fn tags_named_page_or_a_number_keep_their_pages_beside_the_tags_index_pages() {
    let site = generated_site(25, 10);
    let root = site.path();
    for i in 1..=25 {
        let note = root.join(format!("content/notes/note-{i:02}.md"));
        let text = fs::read_to_string(&note).unwrap();
        fs::write(
            &note,
            text.replacen("tags = [", "tags = [\"page\", \"2\", ", 1),
        )
        .unwrap();
    }
    let many: Vec<String> = (0..200).map(|i| format!("\"T{i:03}\"")).collect();
    fs::write(
        root.join("content/notes/many-tags.md"),
        format!(
            "+++\ntitle = \"Many tags\"\ndate = 2024-12-01\ntags = [{}]\n+++\nBody.\n",
            many.join(", ")
        ),
    )
    .unwrap();
    let out = run(root, &["build"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let (urls, tags) = walk_items(root, "/tags/", "ul.tag-index a.tag");
    assert_eq!(urls, ["/tags/", "/tags/page/2/"]);
    assert_eq!(tags.len(), 204, "T000…T199, all, even, page and 2");
    for tag in ["/tags/page/", "/tags/2/"] {
        assert_eq!(tags.iter().filter(|t| *t == tag).count(), 1, "{tag}");
    }
    let index2 = fs::read_to_string(root.join("public/tags/page/2/index.html")).unwrap();
    assert!(index2.contains("<title>Tags, page 2 of 2"), "{index2}");

    let want: Vec<String> = (1..=25)
        .rev()
        .map(|i| format!("/notes/note-{i:02}/"))
        .collect();
    for (first, pages) in [
        (
            "/tags/page/",
            ["/tags/page/", "/tags/page/page/2/", "/tags/page/page/3/"],
        ),
        (
            "/tags/2/",
            ["/tags/2/", "/tags/2/page/2/", "/tags/2/page/3/"],
        ),
    ] {
        let (urls, notes) = walk(root, first);
        assert_eq!(urls, pages);
        assert_eq!(notes, want, "{first}: every note once, newest first");
    }
    let sitemap = fs::read_to_string(root.join("public/sitemap.xml")).unwrap();
    for url in [
        "/tags/page/",
        "/tags/page/2/",
        "/tags/page/page/2/",
        "/tags/2/page/3/",
    ] {
        let loc = format!("<loc>https://fixture.example{url}</loc>");
        assert_eq!(sitemap.matches(&loc).count(), 1, "{url}");
    }
    let out = run(root, &["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// The small fixture site (fuel-prices and brent-crude) with `extra` more datasets of
/// two rows each, `d01`…, after them in the site's order.
fn site_with_datasets(extra: usize) -> tempfile::TempDir {
    let site = small_site();
    for k in 1..=extra {
        fs::write(
            site.path().join(format!("data/d{k:02}.csv")),
            format!("date,v\n2020-01-01,1.00\n2024-0{}-01,2.{k:02}\n", 1 + k % 9),
        )
        .unwrap();
    }
    site
}

/// Every `aria-current="page"` link of a built page: the menu may mark one.
fn current_links(root: &Path, url: &str) -> Vec<String> {
    let file = root.join("public").join(format!("{}index.html", &url[1..]));
    let html = fs::read_to_string(&file).unwrap_or_else(|e| panic!("{url}: {e}"));
    let d = scraper::Html::parse_document(&html);
    d.select(&scraper::Selector::parse("a[aria-current=\"page\"]").unwrap())
        .map(|a| a.value().attr("href").unwrap().to_string())
        .collect()
}

/// 12, 13, 24 and 25 datasets: the home page shows at most 12 cards (the primary
/// dataset's first, even when it comes last in the order) and links the prices index
/// only when it shows fewer than there are; the menu links it past 12; the index has a
/// card for each dataset once, 24 a page, its pages linked both ways, each its own
/// canonical and in the sitemap; the menu marks the index on its pages, once.
#[test]
fn the_prices_index_holds_every_dataset_once_at_each_boundary() {
    for total in [12, 13, 24, 25] {
        let site = site_with_datasets(total - 2);
        let root = site.path();
        let last = format!("d{:02}", total - 2);
        let toml = fs::read_to_string(root.join("site.toml")).unwrap().replace(
            "primary_dataset = \"fuel-prices\"",
            &format!("primary_dataset = \"{last}\""),
        );
        fs::write(root.join("site.toml"), toml).unwrap();
        build_ok(root, "public");

        let home = read_items(root, "/", "section.dataset-summary h2 a").notes;
        assert_eq!(home.len(), total.min(12), "{total}: home cards");
        assert_eq!(
            home[0],
            format!("/prices/{last}/"),
            "{total}: primary first"
        );
        let html = fs::read_to_string(root.join("public/index.html")).unwrap();
        let menu = html.split("</nav>").next().unwrap();
        assert_eq!(
            html.contains("<p class=\"all-prices\"><a href=\"/prices/\">"),
            total > 12,
            "{total}: the home page's link to the index"
        );
        assert_eq!(
            menu.contains("<a href=\"/prices/\""),
            total > 12,
            "{total}: the menu's link to the index"
        );
        // Whatever the number, the footer of every page links the index.
        let footer = html.split("<footer").nth(1).unwrap();
        assert!(
            footer.contains("<a href=\"/prices/\">All prices</a>"),
            "{total}: the footer's link to the index"
        );

        let (pages, cards) = walk_items(root, "/prices/", "section.dataset-summary h2 a");
        let want_pages: Vec<String> = (1..=total.div_ceil(24))
            .map(|k| match k {
                1 => "/prices/".to_string(),
                k => format!("/prices/page/{k}/"),
            })
            .collect();
        assert_eq!(pages, want_pages, "{total}: index pages");
        let mut want: Vec<String> = ["/prices/fuel-prices/", "/prices/brent-crude/"]
            .map(String::from)
            .to_vec();
        want.extend((1..=total - 2).map(|k| format!("/prices/d{k:02}/")));
        let mut got = cards.clone();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{total}: every dataset's card once");
        let sitemap = fs::read_to_string(root.join("public/sitemap.xml")).unwrap();
        for url in &pages {
            let loc = format!("<loc>https://fixture.example{url}</loc>");
            assert_eq!(sitemap.matches(&loc).count(), 1, "{total}: {url}");
            let marked = current_links(root, url);
            let want: &[&str] = if total > 12 { &["/prices/"] } else { &[] };
            assert_eq!(marked, want, "{total}: {url}: the menu's current link");
        }
        let out = run(root, &["check"]);
        assert!(out.status.success(), "{total}: {}", stderr(&out));
    }
}

/// A dataset named `page` has its own page at `/prices/page/` and its years at
/// `/prices/page/<year>/`, beside the index's `/prices/page/2/`. The menu marked
/// "All prices" as the current page on every path under `/prices/page/`, so the
/// dataset's page had two current links (its own and the index's) and its year pages
/// had the index's.
#[test]
fn a_dataset_named_page_is_not_taken_for_a_page_of_the_prices_index() {
    let site = site_with_datasets(24);
    let root = site.path();
    fs::write(
        root.join("data/page.csv"),
        "date,v\n2020-01-01,1.00\n2024-01-01,2.00\n",
    )
    .unwrap();
    let mut toml = fs::read_to_string(root.join("site.toml")).unwrap();
    toml.push_str("\n[datasets.page]\ntitle = \"Page\"\norder = 0\n");
    fs::write(root.join("site.toml"), toml).unwrap();
    build_ok(root, "public");

    assert_eq!(current_links(root, "/prices/page/"), ["/prices/page/"]);
    for year in ["/prices/page/2020/", "/prices/page/2024/"] {
        let marked = current_links(root, year);
        assert!(
            !marked.iter().any(|l| l == "/prices/"),
            "{year} marks the prices index as the current page: {marked:?}"
        );
    }
    assert_eq!(current_links(root, "/prices/"), ["/prices/"]);
    assert_eq!(current_links(root, "/prices/page/2/"), ["/prices/"]);
    // No page of the site marks two links as the current page.
    for (path, bytes) in snapshot(&root.join("public")) {
        if path.ends_with(".html") {
            let n = String::from_utf8_lossy(&bytes)
                .matches("aria-current=\"page\"")
                .count();
            assert!(n <= 1, "{path}: {n} links marked current");
        }
    }
}

/// A dataset named `page` with a row in year 2 would write its year page where the
/// prices index's second page goes, `/prices/page/2/`: the build refuses, naming both
/// (the index's template and the dataset's CSV), and keeps the previous site.
#[test]
fn a_dataset_year_page_on_a_prices_index_page_is_refused_naming_both() {
    let site = site_with_datasets(24);
    let root = site.path();
    build_ok(root, "public");
    let before = snapshot(&root.join("public"));
    fs::write(
        root.join("data/page.csv"),
        "date,v\n0002-01-01,1.00\n2024-01-01,2.00\n",
    )
    .unwrap();
    let out = run(root, &["build"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    for part in [
        "templates/prices.html",
        "page 2 of the prices index",
        "prices/page/2/index.html",
        "page.csv",
    ] {
        assert!(err.contains(part), "{part} is not named: {err}");
    }
    assert!(
        snapshot(&root.join("public")) == before,
        "the previous site changed"
    );
}
