//! The output plan through the real binary: colliding and reserved paths, the one slug
//! rule, bounds on names and tags, the list of fingerprinted files, and `check` and
//! `serve` agreeing on every link. Exact assertions use `tests/fixtures/small-site`.

mod common;

use common::*;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

/// Asserts `build` fails with `want`, `check` fails too, and the built site in
/// `public/` is byte-identical with no staging folder left behind.
fn refused(root: &Path, want: &str) {
    let public = root.join("public");
    let before = snapshot(&public);
    let out = run(root, &["build"]);
    assert_fails_with(&out, want);
    let check = run(root, &["check"]);
    assert_fails_with(&check, want);
    assert!(snapshot(&public) == before, "the live site changed");
    let leftovers = staging_folders(root);
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_dataset_cannot_take_the_legacy_api_path() {
    let site = small_site();
    build_ok(site.path(), "public");
    fs::write(
        site.path().join("data/prices.csv"),
        "date,x\n2026-01-01,1\n",
    )
    .unwrap();
    refused(
        site.path(),
        "data/prices.csv: a dataset's JSON would write api/prices.json, which the old app's endpoint (primary_dataset = \"fuel-prices\") (site.toml) already writes",
    );
}

#[test]
fn tags_and_headings_get_one_transliterating_slug_rule() {
    let site = small_site();
    build_ok(site.path(), "public");
    let public = site.path().join("public");
    for (tag, slug) in [
        ("São Tomé", "sao-tome"),
        ("Straße", "strasse"),
        ("Œufs", "oeufs"),
        ("日本", "ri-ben"),
    ] {
        let page = fs::read_to_string(public.join(format!("tags/{slug}/index.html")))
            .unwrap_or_else(|e| panic!("{tag} → /tags/{slug}/: {e}"));
        assert!(page.contains(&format!("“{tag}”")), "{tag}");
    }
    // `⛽` has a non-empty transliteration and its own page; none lands on the index.
    let links = internal_links(&public);
    assert!(!links.iter().any(|l| l.contains("//")), "{links:?}");
    let tag_pages: Vec<_> = fs::read_dir(public.join("tags"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "index.html" && !n.starts_with("index.html."))
        .collect();
    assert_eq!(tag_pages.len(), 6, "{tag_pages:?}");
    let index = fs::read_to_string(public.join("tags/index.html")).unwrap();
    assert!(index.contains("<h1>Tags"), "the index is still the index");

    // `Prices`, `prices`, `PRICES` are one tag; each note is listed once on it.
    let prices = fs::read_to_string(public.join("tags/prices/index.html")).unwrap();
    assert_eq!(
        prices.matches("href=\"/notes/second-note/\"").count(),
        1,
        "{prices}"
    );
    assert_eq!(prices.matches("href=\"/notes/first-note/\"").count(), 1);
    let second = fs::read_to_string(public.join("notes/second-note/index.html")).unwrap();
    assert_eq!(second.matches("href=\"/tags/prices/\"").count(), 1);

    // Repeated headings, and an explicit id the second would have taken: all unique.
    let mut ids: Vec<&str> = second
        .split("<h2 id=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "{second}");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "{ids:?}");
}

#[test]
fn names_without_an_address_are_refused_with_the_line() {
    let site = small_site();
    build_ok(site.path(), "public");
    let note = site.path().join("content/notes/bad.md");
    for (text, want) in [
        (
            "+++\ntitle = \"x\"\ndate = 2026-01-01\ntags = [\"ok\", \"!!!\"]\n+++\nbody\n",
            "content/notes/bad.md:4: tag \"!!!\" has no letters or digits",
        ),
        (
            &format!(
                "+++\ntitle = \"x\"\ndate = 2026-01-01\n\ntags = [\"{}\"]\n+++\nbody\n",
                "long ".repeat(60)
            ),
            "content/notes/bad.md:5: tag",
        ),
        (
            &format!(
                "+++\ntitle = \"x\"\ndate = 2026-01-01\nslug = \"{}\"\n+++\nbody\n",
                "a".repeat(300)
            ),
            "content/notes/bad.md:4: slug",
        ),
        (
            "+++\ntitle = \"x\"\ndate = 2026-01-01\nslug = \"Not A Slug\"\n+++\nbody\n",
            "content/notes/bad.md:4: slug \"Not A Slug\" must be lowercase",
        ),
    ] {
        fs::write(&note, text).unwrap();
        refused(site.path(), want);
    }
    // Refused before anything is written: the error names the note, not a temp folder.
    let out = run(site.path(), &["build"]);
    assert!(!stderr(&out).contains(".tmp-"), "{}", stderr(&out));
    fs::remove_file(&note).unwrap();

    fs::write(
        site.path().join("data/My Data.csv"),
        "date,x\n2026-01-01,1\n",
    )
    .unwrap();
    refused(
        site.path(),
        "data/My Data.csv: the dataset name \"My Data\" is used in its addresses and must be lowercase letters, digits and `-`: rename the file to my-data.csv",
    );
    fs::remove_file(site.path().join("data/My Data.csv")).unwrap();
    // A dataset name that fits a folder but not a file with its `.json.br` sibling.
    let name = "d".repeat(250);
    fs::write(
        site.path().join(format!("data/{name}.csv")),
        "date,x\n2026-01-01,1\n",
    )
    .unwrap();
    refused(site.path(), "would write api/");
}

/// Total bytes of a site whose one note has `n` tags.
fn site_bytes_with_tags(n: usize) -> usize {
    let site = small_site();
    let tags: Vec<String> = (0..n).map(|i| format!("\"tag {i}\"")).collect();
    fs::write(
        site.path().join("content/notes/many.md"),
        format!(
            "+++\ntitle = \"Many\"\ndate = 2026-01-01\ntags = [{}]\n+++\nbody\n",
            tags.join(", ")
        ),
    )
    .unwrap();
    build_ok(site.path(), "public");
    let bytes = snapshot(&site.path().join("public"))
        .values()
        .map(Vec::len)
        .sum();
    bytes
}

/// Each tag page lists the note, and listed notes showed every tag: n tags cost n²
/// (4,000 tags: 23 s and 831 MB). Now the output grows linearly: 4× the tags, about
/// 4× the bytes, not 16×.
#[test]
fn four_thousand_tags_cost_linear_output() {
    let small = site_bytes_with_tags(1000);
    let large = site_bytes_with_tags(4000);
    let ratio = large as f64 / small as f64;
    assert!(
        ratio < 5.0,
        "4× tags gave {ratio:.1}× bytes ({small} → {large})"
    );
}

#[test]
fn the_immutable_list_is_exactly_the_fingerprinted_files_pages_reference() {
    let site = small_site();
    // A date in a file name is not a fingerprint.
    fs::write(
        site.path().join("data/rates-20240101.csv"),
        "date,x\n2024-01-01,1\n",
    )
    .unwrap();
    build_ok(site.path(), "public");
    let public = site.path().join("public");
    let text = fs::read_to_string(public.join(".petrol-watch-immutable")).unwrap();
    assert!(text.ends_with('\n') && !text.contains('\r'));
    let listed: Vec<&str> = text.lines().collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted, "sorted");
    for p in &listed {
        assert!(public.join(p).is_file(), "{p}");
        assert!(!p.ends_with(".gz") && !p.ends_with(".br"), "{p}");
    }
    let mut referenced: Vec<String> = internal_links(&public)
        .into_iter()
        .filter(|l| l.starts_with("/static/") || l.starts_with("/charts/"))
        .map(|l| l[1..].to_string())
        .collect();
    assert!(referenced.len() >= 4, "{referenced:?}");
    // Share images are referenced by absolute `og:image` URLs.
    let og_image = scraper::Selector::parse(r#"meta[property="og:image"]"#).unwrap();
    let base = "https://fixture.example/";
    let mut shared = 0;
    for (path, bytes) in snapshot(&public) {
        if path.ends_with(".html") {
            let doc = scraper::Html::parse_document(&String::from_utf8_lossy(&bytes));
            for el in doc.select(&og_image) {
                let url = el.value().attr("content").unwrap();
                let rel = url.strip_prefix(base).unwrap_or_else(|| panic!("{url}"));
                referenced.push(rel.to_string());
                shared += 1;
            }
        }
    }
    assert!(shared >= 3, "home, a dataset and a note have share images");
    referenced.sort();
    referenced.dedup();
    assert_eq!(listed, referenced);
    assert!(
        listed.iter().all(|p| p.starts_with("static/")
            || p.starts_with("charts/")
            || p.starts_with("share/")),
        "{listed:?}"
    );
}

/// `check` accepts a link only if `serve` answers it: serve the built site and fetch
/// every internal link of every page (bounded in count and time).
#[test]
fn check_and_serve_agree_on_every_link() {
    let site = small_site();
    let out = run(site.path(), &["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    build_ok(site.path(), "public");
    let public = site.path().join("public");
    let links = internal_links(&public);
    assert!(links.len() > 20 && links.len() < 500, "{}", links.len());
    let server = Server::start(&public, &[]);
    let started = Instant::now();
    for link in &links {
        assert!(started.elapsed() < Duration::from_secs(60), "too slow");
        let r = get(server.addr, link);
        assert!((200..400).contains(&r.status), "{link}: {}", r.status);
    }
}

/// A link with an empty segment (`/tags//`, what an empty tag slug made) names no file:
/// `check` must refuse it, as `serve` answers it 404.
#[test]
fn check_refuses_links_with_empty_segments() {
    let site = small_site();
    fs::write(
        site.path().join("content/notes/linky.md"),
        "+++\ntitle = \"Links\"\ndate = 2026-01-01\n+++\nSee [tags](/tags//).\n",
    )
    .unwrap();
    let out = run(site.path(), &["check"]);
    assert_fails_with(
        &out,
        "content/notes/linky.md:5: broken link \"/tags//\" on notes/linky/index.html",
    );
}
