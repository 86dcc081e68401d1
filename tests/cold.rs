//! What a cold build shares and precompresses, through the real binary on the frozen
//! fixture site plus the code fixture notes: each note's body is rendered once for
//! its page and the site feed (so the two must carry the same HTML), and every
//! compressed sibling decodes to its file.

mod common;

use std::io::Read;
use std::path::Path;

use common::*;

/// The frozen site with the code fixture notes (code in 15 languages, a table,
/// callouts) added, built into `public/`.
fn built_site() -> tempfile::TempDir {
    let site = code_site();
    build_ok(site.path(), "public");
    site
}

/// The feed's note entries: (site path, content HTML as the feed reader sees it).
fn note_entries(feed: &str, base: &str) -> Vec<(String, String)> {
    let doc = roxmltree::Document::parse(feed).expect("the feed is XML");
    doc.descendants()
        .filter(|n| n.has_tag_name("entry"))
        .filter_map(|e| {
            let link = e.children().find(|c| c.has_tag_name("link"))?;
            let path = link.attribute("href")?.strip_prefix(base)?.to_string();
            let content = e.children().find(|c| c.has_tag_name("content"))?;
            path.starts_with("/notes/")
                .then(|| (path, content.text().unwrap_or("").to_string()))
        })
        .collect()
}

#[test]
fn feed_entries_carry_exactly_the_body_their_note_page_shows() {
    let site = built_site();
    let public = site.path().join("public");
    let base = "https://petrol-watch.web.app";
    let feed = std::fs::read_to_string(public.join("feed.xml")).unwrap();
    let entries = note_entries(&feed, base);
    assert!(
        entries.len() >= 4,
        "the fixture's notes are all in the feed: {entries:?}"
    );
    let mut with_code = 0;
    for (path, content) in entries {
        let page =
            std::fs::read_to_string(public.join(path.trim_start_matches('/')).join("index.html"))
                .unwrap();
        // The feed makes the page's links absolute; undone, it is the page's body.
        let body = content
            .replace(&format!("{base}{path}#"), "#")
            .replace(&format!("\"{base}/"), "\"/")
            .replace(&format!(", {base}/"), ", /");
        assert!(body.len() > 100, "{path}: an empty entry: {content}");
        assert!(
            page.contains(&body),
            "{path}: the feed's body is not the page's:\n{body}"
        );
        with_code += usize::from(body.contains("<span class=\"l-"));
    }
    assert!(with_code > 0, "no entry had highlighted code");
}

fn decoded(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    if path.extension().is_some_and(|e| e == "br") {
        brotli::BrotliDecompress(&mut &bytes[..], &mut out).unwrap();
    } else {
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .unwrap();
    }
    out
}

#[test]
fn every_page_and_feed_has_gzip_and_brotli_siblings_that_decode_to_it() {
    let site = built_site();
    let files = snapshot(&site.path().join("public"));
    let (mut plain, mut gz, mut br) = (0, 0, 0);
    for (name, bytes) in &files {
        if !(name.ends_with(".html") || name.ends_with(".xml")) || bytes.len() < 512 {
            continue;
        }
        for suffix in [".gz", ".br"] {
            let sibling = format!("{name}{suffix}");
            assert!(files.contains_key(&sibling), "{sibling} is missing");
            let path = site.path().join("public").join(&sibling);
            assert!(
                decoded(&path) == *bytes,
                "{sibling} does not decode to {name}"
            );
        }
        plain += bytes.len();
        gz += files[&format!("{name}.gz")].len();
        br += files[&format!("{name}.br")].len();
    }
    assert!(plain > 50_000, "too few pages checked: {plain} bytes");
    // Brotli is the sibling browsers take: it must pay for itself against gzip.
    assert!(
        br < gz && gz < plain / 2,
        "plain {plain}, gzip {gz}, brotli {br}"
    );
}
