//! Reading aids for notes, through the real binary on `tests/fixtures/notes-reading`:
//! the table of contents, heading anchors, previous/next links (drafts left out), the
//! `updated` date in the feed, sitemap and JSON-LD, aliases (redirect pages, the
//! redirect list and the server's 301) and a feed per tag.

mod common;

use common::*;
use std::fs;
use std::path::Path;

fn page(root: &Path, rel: &str) -> String {
    fs::read_to_string(root.join("public").join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn doc(html: &str) -> scraper::Html {
    scraper::Html::parse_document(html)
}

fn select<'a>(d: &'a scraper::Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    d.select(&scraper::Selector::parse(css).unwrap()).collect()
}

fn build(root: &Path, args: &[&str]) {
    let mut all = vec!["build"];
    all.extend_from_slice(args);
    let out = run(root, &all);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_note_with_three_sections_gets_contents_linking_to_its_headings() {
    let site = reading_site();
    build(site.path(), &[]);
    let html = page(site.path(), "notes/toc-note/index.html");
    let d = doc(&html);
    let nav = select(&d, "nav.toc[aria-labelledby]");
    assert_eq!(nav.len(), 1, "one contents list");
    let label = nav[0].value().attr("aria-labelledby").unwrap();
    let title = select(&d, &format!("#{label}"));
    assert_eq!(title[0].text().collect::<String>(), "Contents");
    // Top level: the three h2s; the two h3s nested under the first.
    let top: Vec<String> = select(&d, "nav.toc > ol > li > a")
        .iter()
        .map(|a| a.text().collect())
        .collect();
    assert_eq!(top, ["Build the image", "Run it", "Clean up"]);
    let nested: Vec<String> = select(&d, "nav.toc > ol > li:first-child > ol > li > a")
        .iter()
        .map(|a| a.text().collect())
        .collect();
    assert_eq!(nested, ["With Podman", "With Docker & friends"]);
    // Every entry links to a heading on the page with that id.
    for a in select(&d, "nav.toc a") {
        let id = a.value().attr("href").unwrap().strip_prefix('#').unwrap();
        let target = select(&d, &format!(".prose [id=\"{id}\"]"));
        assert_eq!(target.len(), 1, "no heading with id {id}");
        assert!(
            matches!(target[0].value().name(), "h2" | "h3"),
            "{id} is not a heading"
        );
    }
    // Each heading links to itself with an accessible name.
    for h in select(&d, ".prose h2, .prose h3") {
        let id = h.value().attr("id").unwrap();
        let text: String = h.text().collect::<String>();
        let text = text.trim_end_matches('#');
        let anchors = select(&d, &format!("[id=\"{id}\"] > a.anchor"));
        assert_eq!(anchors.len(), 1, "{id}");
        let a = anchors[0].value();
        assert_eq!(a.attr("href"), Some(format!("#{id}").as_str()));
        assert_eq!(
            a.attr("aria-label"),
            Some(format!("Link to this section: {text}").as_str())
        );
    }
}

#[test]
fn contents_only_from_three_sections_or_on_request() {
    let site = reading_site();
    build(site.path(), &[]);
    let has_toc = |slug: &str| {
        let html = page(site.path(), &format!("notes/{slug}/index.html"));
        !select(&doc(&html), "nav.toc").is_empty()
    };
    assert!(has_toc("toc-note"), "three sections");
    assert!(!has_toc("two-sections"), "two sections are not enough");
    assert!(has_toc("forced-toc"), "toc = true");
    assert!(!has_toc("no-toc"), "toc = false wins over four sections");
}

#[test]
fn previous_and_next_follow_the_dates_and_leave_drafts_out() {
    let site = reading_site();
    // With drafts built too: the draft (dated between toc-note and forced-toc) must
    // still not be anyone's neighbour.
    build(site.path(), &["--drafts"]);
    let links = |slug: &str| {
        let html = page(site.path(), &format!("notes/{slug}/index.html"));
        let d = doc(&html);
        let rel = |r: &str| {
            let body: Vec<String> = select(&d, &format!("nav.pager a[rel=\"{r}\"]"))
                .iter()
                .map(|a| a.value().attr("href").unwrap().to_string())
                .collect();
            let head: Vec<String> = select(&d, &format!("head link[rel=\"{r}\"]"))
                .iter()
                .map(|a| a.value().attr("href").unwrap().to_string())
                .collect();
            assert_eq!(body, head, "{slug}: head and body disagree on {r}");
            body.into_iter().next()
        };
        (rel("prev"), rel("next"))
    };
    let url = |s: &str| Some(format!("/notes/{s}/"));
    assert_eq!(links("toc-note"), (url("forced-toc"), None));
    assert_eq!(links("forced-toc"), (url("two-sections"), url("toc-note")));
    assert_eq!(links("two-sections"), (url("no-toc"), url("forced-toc")));
    assert_eq!(links("no-toc"), (None, url("two-sections")));
    assert_eq!(links("draft-note"), (None, None));
    // The pager names its neighbour.
    let html = page(site.path(), "notes/forced-toc/index.html");
    assert!(html.contains("Two sections") && html.contains("A note with contents"));
}

#[test]
fn adding_a_note_re_renders_its_neighbours() {
    let site = reading_site();
    let root = site.path();
    build_ok(root, "warm");
    let before = fs::read(root.join("warm/notes/two-sections/index.html")).unwrap();
    fs::write(
        root.join("content/notes/in-between.md"),
        "+++\ntitle = \"In between\"\ndate = 2026-01-17\n+++\nNew.\n",
    )
    .unwrap();
    let warm = warm_equals_cold(root, "after adding a note");
    let after = &warm["notes/two-sections/index.html"];
    assert!(&before != after, "the neighbour was not rendered again");
    let text = String::from_utf8_lossy(after);
    assert!(
        text.contains("href=\"/notes/in-between/\" rel=\"next\""),
        "{text}"
    );
    let forced = String::from_utf8_lossy(&warm["notes/forced-toc/index.html"]).into_owned();
    assert!(forced.contains("href=\"/notes/in-between/\" rel=\"prev\""));
}

#[test]
fn updated_date_reaches_the_feed_the_sitemap_and_the_json_ld() {
    let site = reading_site();
    build(site.path(), &[]);
    let root = site.path();
    let html = page(root, "notes/toc-note/index.html");
    assert!(html.contains("updated <time datetime=\"2026-03-05\">5 March 2026</time>"));
    let d = doc(&html);
    let script = select(&d, "script[type=\"application/ld+json\"]");
    let ld: serde_json::Value =
        serde_json::from_str(&script[0].text().collect::<String>()).unwrap();
    assert_eq!(ld["@type"], "BlogPosting");
    assert_eq!(ld["datePublished"], "2026-02-01");
    assert_eq!(ld["dateModified"], "2026-03-05");
    assert_eq!(ld["url"], "https://fixture.example/notes/toc-note/");
    // Without `updated`, modified is the date it was written.
    let other = doc(&page(root, "notes/two-sections/index.html"));
    let ld: serde_json::Value = serde_json::from_str(
        &select(&other, "script[type=\"application/ld+json\"]")[0]
            .text()
            .collect::<String>(),
    )
    .unwrap();
    assert_eq!(ld["dateModified"], "2026-01-15");

    let feed = page(root, "feed.xml");
    let xml = roxmltree::Document::parse(&feed).unwrap();
    let entry = xml
        .descendants()
        .find(|n| {
            n.has_tag_name("entry")
                && n.children().any(|c| {
                    c.has_tag_name("id")
                        && c.text() == Some("https://fixture.example/notes/toc-note/")
                })
        })
        .expect("the note is in the feed");
    let child = |name: &str| {
        entry
            .children()
            .find(|c| c.has_tag_name(name))
            .and_then(|c| c.text())
            .unwrap()
            .to_string()
    };
    assert_eq!(child("published"), "2026-02-01T00:00:00+04:00");
    assert_eq!(child("updated"), "2026-03-05T00:00:00+04:00");

    let sitemap = page(root, "sitemap.xml");
    assert!(
        sitemap.contains(
            "<loc>https://fixture.example/notes/toc-note/</loc><lastmod>2026-03-05</lastmod>"
        ),
        "{sitemap}"
    );
}

#[test]
fn aliases_get_redirect_pages_and_a_list_for_the_server() {
    let site = reading_site();
    build(site.path(), &[]);
    let root = site.path();
    for rel in [
        "old/toc-note/index.html",
        "2019/old-name.html",
        "blog/toc/index.html",
    ] {
        let html = page(root, rel);
        let d = doc(&html);
        let refresh = select(&d, "meta[http-equiv=\"refresh\"]");
        assert_eq!(
            refresh[0].value().attr("content"),
            Some("0; url=/notes/toc-note/"),
            "{rel}"
        );
        assert_eq!(
            select(&d, "link[rel=\"canonical\"]")[0]
                .value()
                .attr("href"),
            Some("https://fixture.example/notes/toc-note/")
        );
        assert_eq!(
            select(&d, "meta[name=\"robots\"]")[0]
                .value()
                .attr("content"),
            Some("noindex")
        );
        assert_eq!(
            select(&d, "a")[0].value().attr("href"),
            Some("/notes/toc-note/")
        );
    }
    let list = fs::read_to_string(root.join("public/.petrol-watch-redirects")).unwrap();
    assert_eq!(
        list,
        "/2019/old-name.html /notes/toc-note/\n/blog/toc/ /notes/toc-note/\n/old/toc-note/ /notes/toc-note/\n"
    );
    // Redirect pages are not pages to index.
    let sitemap = page(root, "sitemap.xml");
    assert!(!sitemap.contains("/old/toc-note/"));
    // `check` accepts the site with its redirect pages.
    let out = run(root, &["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn the_server_answers_aliases_with_a_cacheable_301() {
    let site = reading_site();
    build(site.path(), &[]);
    let server = Server::start(&site.path().join("public"), &[]);
    for (target, location) in [
        ("/old/toc-note/", "/notes/toc-note/"),
        ("/old/toc-note", "/notes/toc-note/"),
        ("/blog/toc/", "/notes/toc-note/"),
        ("/blog/toc", "/notes/toc-note/"),
        ("/2019/old-name.html", "/notes/toc-note/"),
        ("/old/toc-note/?utm=x", "/notes/toc-note/?utm=x"),
    ] {
        for method in ["GET", "HEAD"] {
            let res = request(server.addr, method, target, &[]);
            assert_eq!(res.status, 301, "{method} {target}");
            assert_eq!(res.header("location"), Some(location), "{method} {target}");
            let cache = res.header("cache-control").unwrap();
            assert!(
                cache.starts_with("public, max-age="),
                "{method} {target}: {cache}"
            );
        }
    }
    // The note itself and an unknown old path are not redirected.
    assert_eq!(get(server.addr, "/notes/toc-note/").status, 200);
    assert_eq!(get(server.addr, "/old/other/").status, 404);
}

#[test]
fn a_damaged_redirect_list_stops_the_server_with_its_line() {
    let site = reading_site();
    build(site.path(), &[]);
    let list = site.path().join("public/.petrol-watch-redirects");
    fs::write(&list, "/old/ /notes/x/\n/bad path /notes/y/\n").unwrap();
    let (out, _) = run_within(
        site.path(),
        &[
            "serve",
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--dir",
            site.path().join("public").to_str().unwrap(),
        ],
        std::time::Duration::from_secs(20),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(".petrol-watch-redirects:2:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_malformed_alias_names_the_note_and_line() {
    for (alias, want) in [
        ("old/path/", "does not start with `/`"),
        ("/old//path/", "empty segment"),
        ("/old/../etc/", "starting with `.`"),
        ("/old path/", "has the character ' '"),
        ("/", "is the home page"),
        ("/static/x/", "under /static/"),
        ("/tags/page/9/", "under /tags/page/"),
        ("/notes/page/9/", "under /notes/page/"),
        ("/sitemaps/9.xml", "under /sitemaps/"),
        ("/robots.txt/", "where the site has the file /robots.txt"),
    ] {
        let site = reading_site();
        let note = site.path().join("content/notes/two-sections.md");
        let text = fs::read_to_string(&note).unwrap();
        fs::write(
            &note,
            text.replacen(
                "tags = [\"Reading\"]\n",
                &format!("tags = [\"Reading\"]\naliases = [{alias:?}]\n"),
                1,
            ),
        )
        .unwrap();
        let before = snapshot(site.path());
        let out = run(site.path(), &["build"]);
        assert_fails_with(&out, "two-sections.md:5:");
        assert_fails_with(&out, want);
        assert_eq!(before, snapshot(site.path()), "nothing written");
    }
}

#[test]
fn an_alias_that_collides_is_refused_naming_the_note() {
    // Another note's address.
    let site = reading_site();
    let note = site.path().join("content/notes/two-sections.md");
    let text = fs::read_to_string(&note).unwrap();
    fs::write(
        &note,
        text.replacen(
            "tags = [\"Reading\"]\n",
            "tags = [\"Reading\"]\naliases = [\"/notes/no-toc/\"]\n",
            1,
        ),
    )
    .unwrap();
    let out = run(site.path(), &["build"]);
    assert_fails_with(&out, "two-sections.md");
    assert_fails_with(&out, "/notes/no-toc/");
    assert!(!site.path().join("public").exists());

    // Another note's alias (written without its trailing slash).
    fs::write(
        &note,
        text.replacen(
            "tags = [\"Reading\"]\n",
            "tags = [\"Reading\"]\naliases = [\"/old/toc-note\"]\n",
            1,
        ),
    )
    .unwrap();
    let out = run(site.path(), &["build"]);
    assert_fails_with(&out, "two-sections.md");
    assert_fails_with(&out, "toc-note.md");
}

#[test]
fn each_tag_has_an_atom_feed_linked_from_its_page() {
    let site = reading_site();
    build(site.path(), &[]);
    let root = site.path();
    let html = page(root, "tags/reading/index.html");
    let d = doc(&html);
    let alt = select(
        &d,
        "head link[rel=\"alternate\"][href=\"/tags/reading/feed.xml\"]",
    );
    assert_eq!(alt.len(), 1);
    assert_eq!(alt[0].value().attr("type"), Some("application/atom+xml"));

    let feed = page(root, "tags/reading/feed.xml");
    let xml = roxmltree::Document::parse(&feed).unwrap();
    let top = xml.root_element();
    assert_eq!(top.tag_name().name(), "feed");
    let text_of = |n: roxmltree::Node, name: &str| {
        n.children()
            .find(|c| c.has_tag_name(name))
            .and_then(|c| c.text())
            .map(str::to_string)
    };
    assert_eq!(
        text_of(top, "id").as_deref(),
        Some("https://fixture.example/tags/reading/feed.xml")
    );
    // The newest change among its notes: toc-note's `updated`.
    assert_eq!(
        text_of(top, "updated").as_deref(),
        Some("2026-03-05T00:00:00+04:00")
    );
    let self_link = top
        .children()
        .find(|c| c.has_tag_name("link") && c.attribute("rel") == Some("self"))
        .unwrap();
    assert_eq!(
        self_link.attribute("href"),
        Some("https://fixture.example/tags/reading/feed.xml")
    );
    let entries: Vec<String> = top
        .children()
        .filter(|c| c.has_tag_name("entry"))
        .map(|e| text_of(e, "id").unwrap())
        .collect();
    // Published notes tagged Reading, newest first; not the draft, not no-toc.
    assert_eq!(
        entries,
        [
            "https://fixture.example/notes/toc-note/",
            "https://fixture.example/notes/forced-toc/",
            "https://fixture.example/notes/two-sections/",
        ]
    );
    // Links inside entries are absolute.
    assert!(!feed.contains("href=&quot;#") && !feed.contains("href=&quot;/"));
    // Entries are the summary and a link, not the whole text.
    assert!(feed.contains("A note long enough to want a table of contents."));
    assert!(!feed.contains("Podman too."));
    // Docker has its own feed with one entry.
    let docker = page(root, "tags/docker/feed.xml");
    assert_eq!(docker.matches("<entry>").count(), 1);
}

/// A note is in the feed of each of its tags: with whole texts there, 1,000 tags on a
/// 100 KB note would write 100 MB of feeds.
#[test]
fn a_long_note_with_many_tags_is_not_copied_into_every_tag_feed() {
    let site = reading_site();
    let tags: Vec<String> = (0..1000).map(|i| format!("\"t{i}\"")).collect();
    let body = "Words that fill the note. ".repeat(4000);
    fs::write(
        site.path().join("content/notes/long.md"),
        format!(
            "+++\ntitle = \"Long\"\ndate = 2026-01-02\ntags = [{}]\n+++\nShort first paragraph.\n\n{body}\n",
            tags.join(", ")
        ),
    )
    .unwrap();
    build(site.path(), &[]);
    let feeds: usize = snapshot(&site.path().join("public/tags"))
        .iter()
        .filter(|(p, _)| p.ends_with("feed.xml"))
        .map(|(_, b)| b.len())
        .sum();
    assert!(feeds < 4_000_000, "tag feeds hold {feeds} bytes");
}

#[test]
fn aliases_in_all_are_bounded() {
    let site = reading_site();
    let notes = site.path().join("content/notes");
    for n in 0..79 {
        let aliases: Vec<String> = (0..64).map(|a| format!("\"/old/{n}/{a}/\"")).collect();
        fs::write(
            notes.join(format!("many-{n}.md")),
            format!(
                "+++\ntitle = \"Many {n}\"\ndate = 2025-01-01\naliases = [{}]\n+++\nx\n",
                aliases.join(", ")
            ),
        )
        .unwrap();
    }
    let out = run(site.path(), &["build"]);
    assert_fails_with(&out, "5059 aliases in all: at most 5000");
    assert!(!site.path().join("public").exists());
}
