//! Link previews through the real binary: each page's `og:image` is an absolute https
//! URL of a 1200×630 PNG in the output, named after its content, with the meta that
//! WhatsApp, Facebook and X read, and descriptions that carry the current prices.

mod common;

use common::*;
use std::fs;
use std::path::Path;

/// The frozen share fixture (`tests/fixtures/share`) with the repository's templates
/// and static files, in a temporary folder.
fn share_site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("tests/fixtures/share"), dir.path());
    for sub in ["templates", "static"] {
        copy_dir(&repo().join(sub), &dir.path().join(sub));
    }
    dir
}

fn build(root: &Path, out: &str) {
    let o = run(root, &["build", "--out", out]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// The content of `<meta property|name="key" content="…">`, HTML entities left as is.
fn meta<'a>(html: &'a str, key: &str) -> Option<&'a str> {
    ["property", "name"].iter().find_map(|attr| {
        let prefix = format!("<meta {attr}=\"{key}\" content=\"");
        html.contains(&prefix).then(|| value_after(html, &prefix))
    })
}

/// Decodes the whole PNG; returns its width and height.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("size fits")];
    let info = reader.next_frame(&mut buf).expect("a whole PNG frame");
    (info.width, info.height)
}

/// Checks a page's preview meta and image; returns the image's site path.
fn preview_of(public: &Path, page: &str, base: &str) -> String {
    let html = fs::read_to_string(public.join(page)).unwrap();
    let url = meta(&html, "og:image").unwrap_or_else(|| panic!("{page}: no og:image"));
    assert!(
        url.starts_with("https://"),
        "{page}: {url} is not absolute https"
    );
    let path = url
        .strip_prefix(base)
        .unwrap_or_else(|| panic!("{page}: {url} is not under {base}"));
    assert!(
        path.starts_with("/share/") && path.ends_with(".png"),
        "{page}: {path}"
    );
    let bytes = fs::read(public.join(&path[1..]))
        .unwrap_or_else(|e| panic!("{page}: {path} not in the output: {e}"));
    assert_eq!(png_size(&bytes), (1200, 630), "{page}: {path}");
    assert_eq!(meta(&html, "og:image:width"), Some("1200"), "{page}");
    assert_eq!(meta(&html, "og:image:height"), Some("630"), "{page}");
    assert_eq!(meta(&html, "og:image:type"), Some("image/png"), "{page}");
    assert!(
        meta(&html, "og:image:alt").is_some_and(|a| a.len() > 10),
        "{page}: og:image:alt"
    );
    assert_eq!(
        meta(&html, "twitter:card"),
        Some("summary_large_image"),
        "{page}"
    );
    path.to_string()
}

#[test]
fn home_dataset_and_note_pages_have_an_absolute_1200x630_png_preview() {
    let site = share_site();
    build(site.path(), "public");
    let public = site.path().join("public");
    let base = "https://petrol-watch.example";

    let home = preview_of(&public, "index.html", base);
    let dataset = preview_of(&public, "prices/fuel-prices/index.html", base);
    let note = preview_of(&public, "notes/a-long-note/index.html", base);
    assert!(home.starts_with("/share/home."), "{home}");
    assert!(
        dataset.starts_with("/share/prices/fuel-prices."),
        "{dataset}"
    );
    assert!(note.starts_with("/share/notes/a-long-note."), "{note}");
    assert!(home != dataset && dataset != note, "one image per page");

    let html = fs::read_to_string(public.join("index.html")).unwrap();
    let alt = meta(&html, "og:image:alt").unwrap();
    assert!(
        alt.contains("Mogas (petrol) Rs 70.65, up Rs 1.50 (+2.2%)")
            && alt.contains("Gas Oil (diesel) Rs 71.25, unchanged")
            && alt.contains("15 August 2026"),
        "the image's text alternative says what it shows: {alt}"
    );
}

#[test]
fn descriptions_carry_the_current_prices() {
    let site = share_site();
    build(site.path(), "public");
    let public = site.path().join("public");
    let want = "Mogas (petrol) Rs 70.65, Gas Oil (diesel) Rs 71.25, in force from 15 August 2026.";
    for page in ["index.html", "prices/fuel-prices/index.html"] {
        let html = fs::read_to_string(public.join(page)).unwrap();
        for key in ["description", "og:description"] {
            let d = meta(&html, key).unwrap_or_else(|| panic!("{page}: no {key}"));
            assert!(d.starts_with(want), "{page} {key}: {d}");
        }
    }
}

#[test]
fn a_new_price_gets_a_new_image_url_and_the_same_input_the_same_bytes() {
    let site = share_site();
    build(site.path(), "a");
    build(site.path(), "b");
    let (a, b) = (
        snapshot(&site.path().join("a")),
        snapshot(&site.path().join("b")),
    );
    let images = |s: &std::collections::BTreeMap<String, Vec<u8>>| {
        s.iter()
            .filter(|(p, _)| p.starts_with("share/"))
            .map(|(p, b)| (p.clone(), b.clone()))
            .collect::<Vec<_>>()
    };
    let names: Vec<String> = images(&a).into_iter().map(|(p, _)| p).collect();
    assert_eq!(names.len(), 3, "home, the dataset and the note: {names:?}");
    assert!(images(&a) == images(&b), "same input, same names and bytes");

    let csv = site.path().join("data/fuel-prices.csv");
    let mut text = fs::read_to_string(&csv).unwrap();
    text.push_str("2026-09-12,72.15,71.25\n");
    fs::write(&csv, text).unwrap();
    build(site.path(), "a");
    let public = site.path().join("a");
    let html = fs::read_to_string(public.join("index.html")).unwrap();
    let home = preview_of(&public, "index.html", "https://petrol-watch.example");
    let before: Vec<String> = images(&a)
        .into_iter()
        .map(|(p, _)| format!("/{p}"))
        .collect();
    assert!(!before.contains(&home), "a new price, a new URL: {home}");
    assert!(meta(&html, "description").unwrap().contains("Rs 72.15"));
    // The note's card did not change, so neither did its address.
    let note = preview_of(
        &public,
        "notes/a-long-note/index.html",
        "https://petrol-watch.example",
    );
    assert!(before.contains(&note), "{note} kept");
}
