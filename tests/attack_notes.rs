//! Hostile and careless inputs against folder notes with images, the image cache, the
//! redirect list and pagination, through the real binary: each test is a case that
//! once hung, published a broken file or lost data.

mod common;

use std::time::Duration;

use common::*;

/// The frozen site with a folder note `pix/index.md` beside the fixture's images,
/// whose body (after a four-line front matter) is `body`.
fn image_note_site(body: &str) -> tempfile::TempDir {
    let site = frozen_site();
    let dir = site.path().join("content/notes/pix");
    copy_dir(
        &repo().join("tests/fixtures/notes-images/pump-photos"),
        &dir,
    );
    std::fs::write(
        dir.join("index.md"),
        format!("+++\ntitle = \"Pix\"\ndate = 2026-05-03\n+++\n{body}"),
    )
    .unwrap();
    site
}

#[test]
fn a_note_showing_one_image_thirty_thousand_times_builds_quickly() {
    // Each reference is a line of its own; line numbers and feed links were counted
    // from the top of the note for every image, so this took minutes.
    let body = "![A chequered diagram](diagram.png)\n".repeat(30_000);
    let site = image_note_site(&body);
    let (out, _) = run_within(site.path(), &["build"], Duration::from_secs(40));
    assert!(out.status.success(), "{}", stderr(&out));
    let page = std::fs::read_to_string(site.path().join("public/notes/pix/index.html")).unwrap();
    assert_eq!(page.matches("<picture").count(), 30_000);
}

#[test]
fn a_damaged_image_cache_entry_is_redrawn_not_published() {
    let site =
        image_note_site("![A chequered diagram](diagram.png)\n\n![A forecourt](photo.jpg)\n");
    let root = site.path();
    build_ok(root, "public");
    let fresh = snapshot(&root.join("public"));
    // Every cached image cut short or overwritten, as a full disk or a crash leaves it.
    let cache = root.join(".public.cache");
    let mut damaged = 0;
    for (i, e) in std::fs::read_dir(&cache).unwrap().enumerate() {
        let path = e.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let bad = if i % 2 == 0 {
            bytes[..bytes.len() / 2].to_vec()
        } else {
            vec![b'x'; bytes.len()]
        };
        std::fs::write(&path, bad).unwrap();
        damaged += 1;
    }
    assert!(damaged >= 6, "images and share cards expected in the cache");
    // An emptied output makes the build take its images from the cache.
    std::fs::remove_dir_all(root.join("public")).unwrap();
    build_ok(root, "public");
    let again = snapshot(&root.join("public"));
    for (path, bytes) in &fresh {
        assert!(again[path] == *bytes, "{path} differs from a fresh build");
    }
    // And the cache holds good copies again.
    build_ok(root, "fresh");
    std::fs::remove_dir_all(root.join("public")).unwrap();
    build_ok(root, "public");
    assert_eq!(snapshot(&root.join("public")), fresh);
}
