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
