//! A build with nothing to do stops after `stat`: the inputs' fingerprint is the one
//! recorded beside the live site, and every live file is as the last build left it.
//! These tests make sure that shortcut misses nothing. Each change is made long enough
//! after the files were last written that only the fingerprint can see it (a file
//! changed just before a build is always read again), and the build after it must
//! equal a cold build.

mod common;

use common::*;
use std::fs;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

/// Longer than the time within which the build does not trust a file's times.
const SETTLE: Duration = Duration::from_millis(3300);

fn up_to_date(out: &Output) -> bool {
    stdout(out).contains("no input changed since the last build")
}

/// Builds `root` into `warm/`, asserts that build did the work, then builds a fresh
/// `cold/` and asserts both sites are equal.
fn rebuilt_equals_cold(root: &Path, when: &str) {
    let out = build_ok(root, "warm");
    assert!(!up_to_date(&out), "{when}: {}", stdout(&out));
    let cold = root.join("cold");
    let _ = fs::remove_dir_all(&cold);
    let _ = fs::remove_dir_all(root.join(".cold.cache"));
    build_ok(root, "cold");
    assert_same(&snapshot(&root.join("warm")), &snapshot(&cold), when);
}

/// Rewrites `file` with `from` replaced by `to` (the same length), then puts its
/// modification time back, as `cp -p`, `rsync -t` or `tar` would.
fn rewrite_keeping_time(file: &Path, from: &str, to: &str) {
    assert_eq!(from.len(), to.len());
    let modified = fs::metadata(file).unwrap().modified().unwrap();
    let text = fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", file.display());
    fs::write(file, text.replacen(from, to, 1)).unwrap();
    fs::File::options()
        .write(true)
        .open(file)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    assert_eq!(fs::metadata(file).unwrap().modified().unwrap(), modified);
}

/// A build of inputs just written does not record them: the next build reads
/// everything. Once they are older than the file system's clock could blur, a build
/// records them, and the one after it does nothing at all: the live site's folder
/// and files are the same ones, and an edit after that is built.
#[test]
fn a_build_with_nothing_changed_does_nothing_once_its_inputs_have_settled() {
    use std::os::unix::fs::MetadataExt;
    let site = small_site();
    let root = site.path();
    build_ok(root, "warm");
    let out = build_ok(root, "warm");
    assert!(!up_to_date(&out), "inputs written just now were trusted");
    assert_every_file_unchanged(&out);

    std::thread::sleep(SETTLE);
    let out = build_ok(root, "warm");
    assert!(!up_to_date(&out), "no build had recorded these inputs");
    let warm = root.join("warm");
    let inode = |p: &Path| fs::metadata(p).unwrap().ino();
    let (folder, page) = (inode(&warm), inode(&warm.join("index.html")));
    let before = snapshot(&warm);
    let out = build_ok(root, "warm");
    assert!(up_to_date(&out), "{}", stdout(&out));
    assert_every_file_unchanged(&out);
    assert_eq!(inode(&warm), folder);
    assert_eq!(inode(&warm.join("index.html")), page);
    assert_same(
        &snapshot(&warm),
        &before,
        "after a build with nothing to do",
    );
    let left = staging_folders(root);
    assert!(left.is_empty(), "{left:?}");
    // The summary is the recorded build's.
    let first = stdout(&out);
    assert!(
        first.contains(" pages, ") && first.contains(" charts, "),
        "{first}"
    );

    let note = root.join("content/notes/second-note.md");
    let text = fs::read_to_string(&note).unwrap();
    fs::write(&note, format!("{text}\nAn added last line.\n")).unwrap();
    rebuilt_equals_cold(root, "an edit right after a build with nothing to do");
    let page = fs::read_to_string(warm.join("notes/second-note/index.html")).unwrap();
    assert!(page.contains("An added last line."));
}

type Change = fn(&Path);

/// Every kind of change the build could read, each on its own copy of the site, made
/// after the copy's inputs were recorded and left to settle before the next build.
#[test]
fn every_kind_of_change_is_seen_after_it_has_settled() {
    let cases: Vec<(&str, Change)> = vec![
        (
            "a note rewritten to the same length, its time put back",
            |root| {
                rewrite_keeping_time(
                    &root.join("content/notes/second-note.md"),
                    "second",
                    "SECOND",
                )
            },
        ),
        ("a template rewritten, its time put back", |root| {
            rewrite_keeping_time(&root.join("templates/note.html"), "<article", "<ARTICLE")
        }),
        ("a price row appended", |root| {
            let csv = root.join("data/fuel-prices.csv");
            let text = fs::read_to_string(&csv).unwrap();
            let last = text.lines().last().unwrap().to_string();
            let (date, rest) = last.split_once(',').unwrap();
            let next = format!("2099{}", &date[4..]);
            fs::write(&csv, format!("{text}{next},{rest}\n")).unwrap();
        }),
        ("site.toml rewritten, its time put back", |root| {
            rewrite_keeping_time(&root.join("site.toml"), "Fixture Watch", "Fixture Patch")
        }),
        ("a note added", |root| {
            fs::write(
                root.join("content/notes/added-note.md"),
                "+++\ntitle = \"Added\"\ndate = 2024-05-01\n+++\n\nAdded text.\n",
            )
            .unwrap();
        }),
        ("a note removed", |root| {
            fs::remove_file(root.join("content/notes/third-note.md")).unwrap();
        }),
        (
            "a static file replaced by one of the same size and time (renamed over it)",
            |root| {
                let path = root.join("static/style.css");
                let meta = fs::metadata(&path).unwrap();
                let text = fs::read_to_string(&path).unwrap();
                let other = root.join("static/.style.css.new");
                fs::write(&other, text.replacen("color", "COLOR", 1)).unwrap();
                fs::File::options()
                    .write(true)
                    .open(&other)
                    .unwrap()
                    .set_modified(meta.modified().unwrap())
                    .unwrap();
                fs::rename(&other, &path).unwrap();
            },
        ),
        ("a linked note pointed at another file", |root| {
            let link = root.join("content/notes/linked.md");
            fs::remove_file(&link).unwrap();
            std::os::unix::fs::symlink(root.join("elsewhere/b.md"), &link).unwrap();
        }),
        (
            "a page of the live site rewritten, its time put back",
            |root| {
                rewrite_keeping_time(&root.join("warm/index.html"), "<html", "<HTML");
            },
        ),
        (
            "a folder of the live site moved away and linked back",
            |root| {
                let folder = root.join("warm/notes/second-note");
                let away = root.join("away");
                fs::rename(&folder, &away).unwrap();
                std::os::unix::fs::symlink(&away, &folder).unwrap();
            },
        ),
        ("a compressed sibling in the live site removed", |root| {
            fs::remove_file(root.join("warm/index.html.br")).unwrap();
        }),
        ("the live site removed", |root| {
            fs::remove_dir_all(root.join("warm")).unwrap();
        }),
    ];
    let sites: Vec<tempfile::TempDir> = cases
        .iter()
        .map(|_| {
            let site = small_site();
            // A note behind a link, to be pointed elsewhere.
            let elsewhere = site.path().join("elsewhere");
            fs::create_dir(&elsewhere).unwrap();
            for (name, body) in [("a.md", "The first target."), ("b.md", "The other target.")] {
                fs::write(
                    elsewhere.join(name),
                    format!("+++\ntitle = \"Linked\"\ndate = 2024-04-01\n+++\n\n{body}\n"),
                )
                .unwrap();
            }
            std::os::unix::fs::symlink(
                elsewhere.join("a.md"),
                site.path().join("content/notes/linked.md"),
            )
            .unwrap();
            site
        })
        .collect();
    std::thread::sleep(SETTLE);
    for site in &sites {
        build_ok(site.path(), "warm");
        assert!(up_to_date(&build_ok(site.path(), "warm")));
    }
    for ((_, change), site) in cases.iter().zip(&sites) {
        change(site.path());
    }
    std::thread::sleep(SETTLE);
    for ((what, _), site) in cases.iter().zip(&sites) {
        rebuilt_equals_cold(site.path(), what);
    }
}

/// The options are part of what a site is built from: the same inputs built with
/// `--drafts` are built again, and so is the site without them after that.
#[test]
fn building_with_drafts_is_not_the_site_without_them() {
    let site = small_site();
    let root = site.path();
    add_draft_note(root);
    std::thread::sleep(SETTLE);
    build_ok(root, "warm");
    assert!(up_to_date(&build_ok(root, "warm")));
    let drafts = run(root, &["build", "--out", "warm", "--drafts"]);
    assert!(drafts.status.success(), "{}", stderr(&drafts));
    assert!(!up_to_date(&drafts), "{}", stdout(&drafts));
    assert!(root.join("warm/notes/a-draft/index.html").exists());
    let out = build_ok(root, "warm");
    assert!(!up_to_date(&out), "{}", stdout(&out));
    assert!(!root.join("warm/notes/a-draft/index.html").exists());
}
