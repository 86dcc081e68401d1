//! What search engines, feed readers and assistive technology read, through the real
//! binary on the frozen fixture site: the Dataset JSON-LD, the 404 page's head, feed
//! links, heading anchors and levels, the page CSP and the apple-touch-icon.

mod common;

use common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn public() -> &'static Path {
    static SITE: OnceLock<tempfile::TempDir> = OnceLock::new();
    SITE.get_or_init(built_site).path()
}

fn page(rel: &str) -> String {
    fs::read_to_string(public().join("public").join(rel)).unwrap()
}

/// The text of the page's one JSON-LD block.
fn jsonld_text(html: &str) -> &str {
    let open = "<script type=\"application/ld+json\">";
    assert_eq!(html.matches(open).count(), 1, "one JSON-LD block");
    let start = html.find(open).unwrap() + open.len();
    let len = html[start..].find("</script>").expect("JSON-LD closed");
    &html[start..start + len]
}

fn html_pages(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(html_pages(&path));
        } else if path.extension().is_some_and(|e| e == "html") {
            out.push(path);
        }
    }
    out
}

#[test]
fn dataset_pages_describe_themselves_as_schema_org_datasets() {
    let html = page("prices/fuel-prices/index.html");
    let v: serde_json::Value = serde_json::from_str(jsonld_text(&html)).unwrap();
    assert_eq!(v["@context"], "https://schema.org");
    assert_eq!(v["@type"], "Dataset");
    assert_eq!(v["name"], "Retail fuel prices");
    assert!(v["description"]
        .as_str()
        .unwrap()
        .starts_with("Retail prices of Mogas (petrol) and Gas Oil (diesel) in Mauritius"));
    assert_eq!(v["url"], "https://petrol-watch.web.app/prices/fuel-prices/");
    assert_eq!(v["license"], "https://creativecommons.org/licenses/by/4.0/");
    assert_eq!(v["temporalCoverage"], "2004-04-02/2026-04-16");
    assert_eq!(
        v["variableMeasured"],
        serde_json::json!(["Mogas (petrol)", "Gas Oil (diesel)"])
    );
    assert_eq!(
        v["creator"],
        serde_json::json!({
            "@type": "Organization",
            "name": "State Trading Corporation, retail prices",
            "url": "https://www.stcmu.com/ppm/retail-prices",
        })
    );
    assert_eq!(
        v["publisher"],
        serde_json::json!({
            "@type": "Organization",
            "name": "Petrol Watch",
            "url": "https://petrol-watch.web.app/",
        })
    );
    assert_eq!(
        v["distribution"],
        serde_json::json!([
            {"@type": "DataDownload", "encodingFormat": "text/csv",
             "contentUrl": "https://petrol-watch.web.app/data/fuel-prices.csv"},
            {"@type": "DataDownload", "encodingFormat": "application/json",
             "contentUrl": "https://petrol-watch.web.app/api/fuel-prices.json"},
        ])
    );
    // Each distribution is a file the build really wrote.
    for d in v["distribution"].as_array().unwrap() {
        let url = d["contentUrl"].as_str().unwrap();
        let rel = url.strip_prefix("https://petrol-watch.web.app/").unwrap();
        assert!(public().join("public").join(rel).is_file(), "{url}");
    }
    // The licence and source are on the page for readers too.
    assert!(html.contains(
        "Licence: <a href=\"https://creativecommons.org/licenses/by/4.0/\" rel=\"license\">CC BY 4.0</a>"
    ));
    assert!(html.contains("Source: <a href=\"https://www.stcmu.com/ppm/retail-prices\""));

    let brent = page("prices/brent-crude/index.html");
    let b: serde_json::Value = serde_json::from_str(jsonld_text(&brent)).unwrap();
    assert_eq!(b["name"], "Brent crude");
    assert_eq!(b["temporalCoverage"], "2002-01-01/2026-07-01");
    assert_eq!(
        b["license"],
        "https://www.eia.gov/about/copyrights_reuse.php"
    );
    assert!(brent.contains("Licence: <a href=\"https://www.eia.gov/about/copyrights_reuse.php\" rel=\"license\">Public domain (U.S. EIA)</a>"));
}

#[test]
fn a_title_cannot_break_out_of_the_jsonld_script() {
    let site = frozen_site();
    let toml = site.path().join("site.toml");
    let text = fs::read_to_string(&toml).unwrap().replacen(
        "title = \"Retail fuel prices\"",
        "title = \"Fuel </script><script>alert(1)</script> & <!-- prices\"",
        1,
    );
    fs::write(&toml, text).unwrap();
    let out = run(site.path(), &["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let html =
        fs::read_to_string(site.path().join("public/prices/fuel-prices/index.html")).unwrap();
    let json = jsonld_text(&html);
    assert!(!json.contains('<') && !json.contains('>'), "{json}");
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(
        v["name"],
        "Fuel </script><script>alert(1)</script> & <!-- prices"
    );
    assert!(!html.contains("<script>alert(1)"));
}

#[test]
fn the_404_page_is_noindex_without_a_canonical() {
    let html = page("404.html");
    assert!(!html.contains("rel=\"canonical\""), "{html}");
    assert!(!html.contains("/404.html\""), "{html}");
    assert!(html.contains("<meta name=\"robots\" content=\"noindex\">"));
    // Other pages keep theirs.
    assert!(page("notes/index.html")
        .contains("<link rel=\"canonical\" href=\"https://petrol-watch.web.app/notes/\">"));
}

#[test]
fn feed_links_are_absolute() {
    for feed in ["feed.xml", "prices/fuel-prices/feed.xml"] {
        let xml = page(feed);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let mut checked = 0;
        for node in doc.descendants() {
            if node.has_tag_name("link") {
                let href = node.attribute("href").unwrap();
                assert!(href.starts_with("https://"), "{feed}: {href}");
                checked += 1;
            }
            if node.has_tag_name("content") {
                let html = node.text().unwrap_or("");
                for attr in ["href=\"", "src=\""] {
                    for (at, _) in html.match_indices(attr) {
                        let value = &html[at + attr.len()..];
                        assert!(
                            value.starts_with("https://") || value.starts_with("http://"),
                            "{feed}: relative link {}",
                            &value[..value.len().min(60)]
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 3, "{feed}: nothing checked");
    }
    // The fixture's notes have heading anchors: they now point at the note itself.
    assert!(page("feed.xml").contains(
        "href=&quot;https://petrol-watch.web.app/notes/a-static-site-on-cloud-run-behind-firebase-hosting/#the-container&quot;"
    ));
}

#[test]
fn heading_anchors_are_named_after_their_heading() {
    let html = page("notes/a-static-site-on-cloud-run-behind-firebase-hosting/index.html");
    let anchors: Vec<&str> = html
        .match_indices("<a class=\"anchor\"")
        .map(|(i, _)| &html[i..])
        .collect();
    assert!(anchors.len() > 2);
    let mut names = std::collections::BTreeSet::new();
    for a in &anchors {
        let tag = &a[..a.find('>').unwrap()];
        let name = value_after(tag, "aria-label=\"");
        let title = name
            .strip_prefix("Link to this section: ")
            .unwrap_or_else(|| panic!("{tag}"));
        assert!(!title.trim().is_empty(), "{tag}");
        assert!(names.insert(name.to_string()), "two anchors named {name}");
    }
    assert!(html.contains(
        "<a class=\"anchor\" href=\"#the-container\" aria-label=\"Link to this section: The container\">#</a>"
    ));
}

#[test]
fn headings_never_skip_a_level() {
    let pages = html_pages(&public().join("public"));
    assert!(pages.len() > 20);
    for path in pages {
        let html = fs::read_to_string(&path).unwrap();
        let mut last = 1;
        let mut seen_h1 = false;
        for (i, _) in html.match_indices("<h") {
            let Some(level) = html[i + 2..]
                .chars()
                .next()
                .and_then(|c| c.to_digit(10))
                .filter(|l| (1..=6).contains(l))
            else {
                continue;
            };
            if level == 1 {
                seen_h1 = true;
            }
            assert!(
                level <= last + 1,
                "{}: h{last} followed by h{level}",
                path.display()
            );
            last = level;
        }
        assert!(seen_h1, "{}: no h1", path.display());
    }
}

#[test]
fn the_page_csp_lets_the_page_fetch_robots_txt() {
    let server = Server::start(&public().join("public"), &[]);
    let home = get(server.addr, "/");
    let csp = home.header("content-security-policy").unwrap();
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("script-src"), "{csp}");
    assert_eq!(get(server.addr, "/robots.txt").status, 200);
}

#[test]
fn the_apple_touch_icon_is_a_png_and_referenced() {
    let html = page("index.html");
    let href = value_after(&html, "<link rel=\"apple-touch-icon\" href=\"");
    assert!(href.starts_with("/static/apple-touch-icon."), "{href}");
    for rel in [&href[1..], "apple-touch-icon.png"] {
        let png = fs::read(public().join("public").join(rel)).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{rel}");
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
        assert_eq!((width, height), (180, 180), "{rel}");
    }
}

#[test]
fn a_note_table_with_an_empty_corner_has_row_headers() {
    let site = frozen_site();
    fs::write(
        site.path().join("content/notes/counts.md"),
        "+++\ntitle = \"Counts\"\ndate = 2026-01-02\n+++\n\n| | Mogas | Gas Oil |\n|:--|--:|--:|\n| Rises | 36 | 37 |\n| Cuts | 28 | 24 |\n\n| Year | Price |\n|--|--|\n| 2004 | 1 |\n",
    )
    .unwrap();
    let out = run(site.path(), &["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let html = fs::read_to_string(site.path().join("public/notes/counts/index.html")).unwrap();
    assert!(html.contains("<tr><th scope=\"row\" class=\"align-left\">Rises</th><td class=\"align-right\">36</td>"), "{html}");
    assert!(html.contains("<tr><th scope=\"row\" class=\"align-left\">Cuts</th>"));
    assert!(html
        .contains("<thead><tr><td class=\"align-left\"></td><th class=\"align-right\">Mogas</th>"));
    // A table whose first column has a header of its own keeps plain cells.
    assert!(html.contains("<tr><td>2004</td><td>1</td></tr>"), "{html}");
}
