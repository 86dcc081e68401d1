//! Attacks on the build's "no input changed" shortcut: every way found to make a build
//! stop after `stat` while the live site is not what a cold build of the current inputs
//! makes, or to make it hang or fail where it used to succeed. Each test ends on the
//! same invariant: whatever the build said, the live site equals a cold build.
//! Sites that must sit still before a build are set up together and left to settle
//! once.

mod common;

use common::*;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Longer than the time within which the build does not trust a file's times.
const SETTLE: Duration = Duration::from_millis(3300);
const LIMIT: Duration = Duration::from_secs(60);

fn up_to_date(out: &Output) -> bool {
    stdout(out).contains("no input changed since the last build")
}

/// Asserts the site in `root/out` equals a cold build of `root` (with `extra` args).
fn live_equals_cold(root: &Path, out: &str, extra: &[&str], when: &str) {
    let cold = root.join("cold-check");
    let _ = fs::remove_dir_all(&cold);
    let _ = fs::remove_dir_all(root.join(".cold-check.cache"));
    let mut args = vec!["build", "--out", "cold-check"];
    args.extend_from_slice(extra);
    let o = run(root, &args);
    assert!(o.status.success(), "{when}: {}", stderr(&o));
    let live = if Path::new(out).is_absolute() {
        Path::new(out).to_path_buf()
    } else {
        root.join(out)
    };
    assert_same(&snapshot(&live), &snapshot(&cold), when);
    fs::remove_dir_all(&cold).unwrap();
}

/// Builds within [`LIMIT`] and asserts success.
fn build_within(root: &Path, out: &str, when: &str) -> Output {
    let (o, _) = run_within(root, &["build", "--out", out], LIMIT);
    assert!(o.status.success(), "{when}: {}", stderr(&o));
    o
}

/// The small site with `n` more notes, so a build has thousands of files to swap in
/// and remove.
fn site_with_notes(n: usize) -> tempfile::TempDir {
    let site = small_site();
    for i in 0..n {
        fs::write(
            site.path().join(format!("content/notes/extra-{i}.md")),
            format!(
                "+++\ntitle = \"Extra {i}\"\ndate = 2023-02-{:02}\n+++\n\n{}\n",
                i % 28 + 1,
                format!("Body of extra note {i}. ").repeat(40)
            ),
        )
        .unwrap();
    }
    site
}

fn append(file: &Path, text: &str) {
    let mut body = fs::read_to_string(file).unwrap();
    body.push_str(text);
    fs::write(file, body).unwrap();
}

/// Rewrites `file` in place with `from` replaced by `to` (the same length), keeping
/// its inode; with `keep_time` its modification time is put back.
fn rewrite_in_place(file: &Path, from: &str, to: &str, keep_time: bool) {
    use std::io::{Seek, Write};
    assert_eq!(from.len(), to.len());
    let modified = fs::metadata(file).unwrap().modified().unwrap();
    let text = fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", file.display());
    let mut f = fs::File::options().write(true).open(file).unwrap();
    f.seek(std::io::SeekFrom::Start(0)).unwrap();
    f.write_all(text.replacen(from, to, 1).as_bytes()).unwrap();
    if keep_time {
        f.set_modified(modified).unwrap();
    }
}

/// A live page edited in the moment after the swap, while the build removes the old
/// site and before it takes the stamps of the new one, must not be recorded as what
/// the build wrote: the next build would keep it (and say nothing changed) forever.
/// Both a page the build kept from the previous site (its time changed) and one it
/// wrote anew (rewritten with its time put back) are edited.
#[test]
fn a_live_page_edited_just_after_the_swap_is_never_taken_for_the_builds() {
    let site = site_with_notes(400);
    let root = site.path();
    build_ok(root, "warm");
    let warm = root.join("warm");
    let note = root.join("content/notes/extra-7.md");
    let kept_page = warm.join("index.html");
    let new_page = warm.join("notes/extra-7/index.html");
    let mut caught = 0;
    for attempt in 0..3 {
        append(&note, &format!("\nAttempt {attempt}.\n"));
        if attempt == 0 {
            // Recorded by the racing build, so the next one may take the shortcut.
            std::thread::sleep(SETTLE);
        }
        let before = fs::metadata(&warm).unwrap().ino();
        let mut child = spawn_quiet(root, &["build", "--out", "warm"]);
        let started = Instant::now();
        let swapped = loop {
            if fs::metadata(&warm).is_ok_and(|m| m.ino() != before) {
                break true;
            }
            if child.try_wait().unwrap().is_some() || started.elapsed() > LIMIT {
                break false;
            }
        };
        if swapped {
            rewrite_in_place(&kept_page, "<html", "<HTML", false);
            rewrite_in_place(&new_page, "<html", "<HTML", true);
            caught += 1;
        }
        assert!(child.wait().unwrap().success());
        if !swapped {
            continue;
        }
        let out = build_within(root, "warm", "after a live edit just after the swap");
        for page in [&kept_page, &new_page] {
            let text = fs::read_to_string(page).unwrap();
            assert!(
                !text.contains("<HTML"),
                "attempt {attempt}: the hand edit of {} was kept (up to date: {}): {}",
                page.display(),
                up_to_date(&out),
                stdout(&out)
            );
        }
        live_equals_cold(root, "warm", &[], "after a live edit just after the swap");
    }
    assert!(
        caught > 0,
        "no build was caught between its swap and its end"
    );
}

/// A change made to a site (its inputs, its live site, or where they are).
type Change = fn(&Path);

/// A site built twice once its inputs have settled: the second build took the shortcut.
fn recorded(site: &tempfile::TempDir) {
    build_ok(site.path(), "warm");
    let out = build_ok(site.path(), "warm");
    assert!(up_to_date(&out), "{}", stdout(&out));
}

/// Runs each change on its own copy of the small site, recorded once its inputs had
/// settled, then (after they settle again) builds: whatever the build says, the live
/// site must equal a cold build. `prepare` runs on each copy before anything settles.
fn each_change_ends_cold(cases: &[(&str, Change)], prepare: fn(&Path)) {
    let sites: Vec<tempfile::TempDir> = cases
        .iter()
        .map(|_| {
            let site = small_site();
            prepare(site.path());
            site
        })
        .collect();
    std::thread::sleep(SETTLE);
    for site in &sites {
        recorded(site);
    }
    for ((_, change), site) in cases.iter().zip(&sites) {
        change(site.path());
    }
    std::thread::sleep(SETTLE);
    for ((what, _), site) in cases.iter().zip(&sites) {
        build_within(site.path(), "warm", what);
        live_equals_cold(site.path(), "warm", &[], what);
        // And once more, now that this build may have recorded them.
        build_within(site.path(), "warm", what);
        live_equals_cold(site.path(), "warm", &[], &format!("{what}, built again"));
    }
}

/// The files the build keeps beside its output, replaced by what no build writes: a
/// FIFO must not be waited on, a link not followed, a folder or garbage or a huge
/// file not trusted; each build still succeeds, and the site is a cold build's.
#[test]
fn odd_files_in_place_of_the_record_and_stamps_are_never_trusted_nor_waited_on() {
    fn copy_then_link(file: &Path) {
        let copy = file.with_extension("copy");
        fs::copy(file, &copy).unwrap();
        fs::remove_file(file).unwrap();
        std::os::unix::fs::symlink(&copy, file).unwrap();
    }
    let cases: Vec<(&str, Change)> = vec![
        ("the record a FIFO", |root| {
            let record = root.join(".warm.inputs");
            fs::remove_file(&record).unwrap();
            mkfifo(&record);
        }),
        ("the record a link to a copy of itself", |root| {
            copy_then_link(&root.join(".warm.inputs"))
        }),
        ("the record a folder", |root| {
            let record = root.join(".warm.inputs");
            fs::remove_file(&record).unwrap();
            fs::create_dir(&record).unwrap();
            fs::write(record.join("x"), "x").unwrap();
        }),
        ("the record garbage", |root| {
            fs::write(
                root.join(".warm.inputs"),
                [0xffu8, 0, 7, b'\n'].repeat(1000),
            )
            .unwrap()
        }),
        ("the record a huge sparse file", |root| {
            let f = fs::File::options()
                .append(true)
                .open(root.join(".warm.inputs"))
                .unwrap();
            f.set_len(100 << 30).unwrap();
        }),
        ("the record another output's", |root| {
            build_ok(root, "other");
            fs::copy(root.join(".other.inputs"), root.join(".warm.inputs")).unwrap();
        }),
        ("the stamps a FIFO", |root| {
            let stamps = root.join(".warm.stamps");
            fs::remove_file(&stamps).unwrap();
            mkfifo(&stamps);
        }),
        ("the stamps a link to a copy of themselves", |root| {
            copy_then_link(&root.join(".warm.stamps"))
        }),
        ("the record's temporary name taken by a folder", |root| {
            fs::create_dir(root.join(".warm.inputs.tmp")).unwrap();
            fs::write(root.join(".warm.inputs.tmp/x"), "x").unwrap();
            // And a change, so that the build has a record to write.
            append(&root.join("content/notes/second-note.md"), "\nMore.\n");
        }),
        ("the record's temporary name a FIFO", |root| {
            mkfifo(&root.join(".warm.inputs.tmp"));
            append(&root.join("content/notes/second-note.md"), "\nMore.\n");
        }),
    ];
    each_change_ends_cold(&cases, |_| {});
}

/// The live site, the site root and the inputs moved, copied and relinked in ways that
/// keep files' times: none of them passes for the recorded site unless it is one.
#[test]
fn moved_copied_and_relinked_inputs_and_outputs_end_as_a_cold_build() {
    let cases: Vec<(&str, Change)> = vec![
        ("the live site moved away and back", |root| {
            fs::rename(root.join("warm"), root.join("w2")).unwrap();
            fs::rename(root.join("w2"), root.join("warm")).unwrap();
        }),
        ("the live site copied with cp -a over itself", |root| {
            cp_a(&root.join("warm"), &root.join("w2"));
            fs::remove_dir_all(root.join("warm")).unwrap();
            fs::rename(root.join("w2"), root.join("warm")).unwrap();
        }),
        ("the live site replaced by a link to a cp -a copy", |root| {
            cp_a(&root.join("warm"), &root.join("w2"));
            fs::remove_dir_all(root.join("warm")).unwrap();
            std::os::unix::fs::symlink(root.join("w2"), root.join("warm")).unwrap();
        }),
        (
            "an older build's live site put back (cp -a), inputs since changed",
            |root| {
                cp_a(&root.join("warm"), &root.join("older"));
                cp_a(&root.join(".warm.stamps"), &root.join("older.stamps"));
                cp_a(&root.join(".warm.inputs"), &root.join("older.inputs"));
                let note = root.join("content/notes/second-note.md");
                rewrite_in_place(&note, "second", "SECOND", true);
                std::thread::sleep(SETTLE);
                build_ok(root, "warm");
                fs::remove_dir_all(root.join("warm")).unwrap();
                fs::rename(root.join("older"), root.join("warm")).unwrap();
                fs::rename(root.join("older.stamps"), root.join(".warm.stamps")).unwrap();
                fs::rename(root.join("older.inputs"), root.join(".warm.inputs")).unwrap();
            },
        ),
        ("a note moved into a folder as index.md", |root| {
            let notes = root.join("content/notes");
            fs::create_dir(notes.join("second-note")).unwrap();
            fs::rename(
                notes.join("second-note.md"),
                notes.join("second-note/index.md"),
            )
            .unwrap();
        }),
        ("a dataset renamed", |root| {
            fs::rename(
                root.join("data/brent-crude.csv"),
                root.join("data/brent.csv"),
            )
            .unwrap();
        }),
        (
            "a static file replaced by a folder of the same name",
            |root| {
                let extra = root.join("static/extra.txt");
                fs::remove_file(&extra).unwrap();
                fs::create_dir(&extra).unwrap();
                fs::write(extra.join("inner.txt"), "inner").unwrap();
            },
        ),
        ("a hidden file added to static/", |root| {
            fs::write(root.join("static/.hidden"), "not published").unwrap();
        }),
        (
            "a linked notes folder pointed at a cp -a copy, one note rewritten in place",
            |root| {
                let (v1, v2) = (root.join("elsewhere/v1"), root.join("elsewhere/v2"));
                cp_a(&v1, &v2);
                rewrite_in_place(&v2.join("linked.md"), "first", "FIRST", true);
                let link = root.join("content/notes/linked");
                fs::remove_file(&link).unwrap();
                std::os::unix::fs::symlink("../../elsewhere/v2", &link).unwrap();
            },
        ),
        (
            "a file outside the root, linked as a note, rewritten in place",
            |root| {
                rewrite_in_place(
                    &root.join("elsewhere/outside.md"),
                    "outside",
                    "OUTSIDE",
                    true,
                );
            },
        ),
        ("a FIFO put among the notes", |root| {
            mkfifo(&root.join("content/notes/waiting.md"));
        }),
        (
            "a dangling link put in content/, outside the notes",
            |root| {
                std::os::unix::fs::symlink("/nonexistent/x", root.join("content/gone")).unwrap();
            },
        ),
        ("the site root moved, built there, and moved back", |root| {
            let moved = root.with_extension("moved");
            fs::rename(root, &moved).unwrap();
            let out = build_ok(&moved, "warm");
            assert!(!up_to_date(&out), "a moved root is another site");
            fs::rename(&moved, root).unwrap();
        }),
    ];
    each_change_ends_cold(&cases, |root| {
        fs::write(root.join("static/extra.txt"), "extra").unwrap();
        let v1 = root.join("elsewhere/v1");
        fs::create_dir_all(&v1).unwrap();
        fs::write(
            v1.join("linked.md"),
            "+++\ntitle = \"Linked\"\ndate = 2024-04-01\n+++\n\nThe first target.\n",
        )
        .unwrap();
        // Relative links: the root is moved in one case.
        std::os::unix::fs::symlink("../../elsewhere/v1", root.join("content/notes/linked"))
            .unwrap();
        fs::write(
            root.join("elsewhere/outside.md"),
            "+++\ntitle = \"Outside\"\ndate = 2024-04-02\n+++\n\nFrom outside the root.\n",
        )
        .unwrap();
        std::os::unix::fs::symlink(
            "../../elsewhere/outside.md",
            root.join("content/notes/outside.md"),
        )
        .unwrap();
    });
}

/// `cp -a`: a copy that keeps modification times (and not inodes or change times).
fn cp_a(from: &Path, to: &Path) {
    let ok = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(ok.success(), "cp -a {} {}", from.display(), to.display());
}

/// A build killed (SIGKILL) at any moment, from before it reads its inputs to after
/// its swap: the builds after it never pass off what it left for an up-to-date site.
/// Half the kills are of builds whose every output is the previous build's (only a
/// note's time changed), which remove and rewrite the record without a swap.
#[test]
fn a_build_killed_at_any_moment_leaves_nothing_that_passes_for_up_to_date() {
    /// When to kill: after this many milliseconds, or (`None`) right after the swap.
    const KILLS: [Option<u64>; 8] = [
        Some(0),
        Some(10),
        Some(30),
        Some(60),
        Some(120),
        Some(250),
        Some(500),
        None,
    ];
    let sites: Vec<tempfile::TempDir> = KILLS.iter().map(|_| site_with_notes(60)).collect();
    for site in &sites {
        build_ok(site.path(), "warm");
    }
    std::thread::sleep(SETTLE);
    for site in &sites {
        recorded(site);
    }
    for (i, site) in sites.iter().enumerate() {
        let note = site.path().join("content/notes/extra-3.md");
        if i % 2 == 0 {
            append(&note, "\nA change.\n");
        } else {
            // Same bytes, new change time: read again, nothing to write.
            fs::write(&note, fs::read(&note).unwrap()).unwrap();
        }
    }
    std::thread::sleep(SETTLE);
    for (site, kill) in sites.iter().zip(KILLS) {
        let root = site.path();
        let warm = root.join("warm");
        let before = fs::metadata(&warm).unwrap().ino();
        let mut child = spawn_quiet(root, &["build", "--out", "warm"]);
        let started = Instant::now();
        match kill {
            Some(ms) => std::thread::sleep(Duration::from_millis(ms)),
            None => {
                while fs::metadata(&warm).is_ok_and(|m| m.ino() == before)
                    && child.try_wait().unwrap().is_none()
                    && started.elapsed() < LIMIT
                {}
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        let when = format!("after a build killed at {kill:?} ms");
        for _ in 0..2 {
            let out = build_within(root, "warm", &when);
            live_equals_cold(root, "warm", &[], &format!("{when}: {}", stdout(&out)));
        }
    }
}

/// Builds of the same inputs racing on one output, with and without `--drafts`, and
/// into another output: each output ends as the cold build of its last builder's
/// options, and a build with the other options is never taken for it.
#[test]
fn racing_builds_with_other_options_never_pass_for_each_other() {
    let site = small_site();
    let root = site.path();
    add_draft_note(root);
    std::thread::sleep(SETTLE);
    let spawn = |args: &[&str]| {
        Command::new(bin())
            .arg("--root")
            .arg(root)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    for round in 0..4 {
        let children = [
            spawn(&["build", "--out", "warm", "--drafts"]),
            spawn(&["build", "--out", "warm"]),
            spawn(&["build", "--out", "other", "--drafts"]),
            spawn(&["build", "--out", "warm", "--drafts"]),
            spawn(&["build", "--out", "warm"]),
        ];
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "round {round}: {}", stderr(&out));
        }
        // Whichever finished last, a build with either options makes that site.
        let (drafts, plain): (&[&str], &[&str]) = if round % 2 == 0 {
            (&["--drafts"], &[])
        } else {
            (&[], &["--drafts"])
        };
        for extra in [drafts, plain] {
            let mut args = vec!["build", "--out", "warm"];
            args.extend_from_slice(extra);
            let (out, _) = run_within(root, &args, LIMIT);
            assert!(out.status.success(), "{}", stderr(&out));
            live_equals_cold(root, "warm", extra, &format!("round {round} {extra:?}"));
        }
        live_equals_cold(
            root,
            "other",
            &["--drafts"],
            &format!("round {round} other"),
        );
    }
}

/// A file added to the live site by hand is not what a build of the inputs makes (the
/// server sends every file in the folder): neither the shortcut nor a build whose
/// every output is the previous one's may keep it.
#[test]
fn a_file_added_to_the_live_site_is_never_kept() {
    let cases: Vec<(&str, Change)> = vec![
        ("a page added to the live site", |root| {
            let gone = root.join("warm/notes/gone");
            fs::create_dir_all(&gone).unwrap();
            fs::write(gone.join("index.html"), "<!doctype html><p>A stale page.").unwrap();
        }),
        ("a compressed sibling added beside a small file", |root| {
            fs::write(root.join("warm/robots.txt.br"), "not brotli").unwrap();
        }),
        ("a link added among the live site's files", |root| {
            std::os::unix::fs::symlink("index.html", root.join("warm/home.html")).unwrap();
        }),
    ];
    each_change_ends_cold(&cases, |_| {});
}

/// The lock beside the output replaced by a FIFO (opening one to write waits for a
/// reader that never comes) or a link (opened through, it creates a file wherever it
/// points): the build says what is wrong, within seconds, and leaves the site as is.
#[test]
fn a_lock_that_is_not_a_file_is_refused_not_waited_on_or_followed() {
    let site = small_site();
    let root = site.path();
    build_ok(root, "warm");
    let before = snapshot(&root.join("warm"));
    let lock = root.join(".warm.lock");
    fs::remove_file(&lock).unwrap();
    mkfifo(&lock);
    let (out, took) = run_within(root, &["build", "--out", "warm"], Duration::from_secs(20));
    assert_fails_with(&out, ".warm.lock");
    assert!(took < Duration::from_secs(10), "{took:?}");
    fs::remove_file(&lock).unwrap();
    let elsewhere = root.join("elsewhere-lock");
    std::os::unix::fs::symlink(&elsewhere, &lock).unwrap();
    let (out, _) = run_within(root, &["build", "--out", "warm"], LIMIT);
    assert_fails_with(&out, ".warm.lock");
    assert!(!elsewhere.exists(), "the lock's link was followed");
    assert_same(
        &snapshot(&root.join("warm")),
        &before,
        "after a refused lock",
    );
    fs::remove_file(&lock).unwrap();
    build_ok(root, "warm");
}

/// Live pages edited by hand while a build runs, after the build found them intact
/// and chose to keep them but before it took their stamps, must not be stamped as
/// what the build wrote: every later build would keep them. Every note page is
/// written in place (one byte, so the same size) as soon as the build's manifest is
/// in its staging folder (rendering is over, the stamps not yet taken).
#[test]
fn live_pages_edited_while_a_build_keeps_them_are_never_stamped_as_its_own() {
    use std::os::unix::fs::FileExt;
    let site = site_with_notes(400);
    let root = site.path();
    build_ok(root, "warm");
    let warm = root.join("warm");
    let pages: Vec<std::path::PathBuf> = (0..400)
        .map(|i| warm.join(format!("notes/extra-{i}/index.html")))
        .collect();
    let edited = |page: &Path| fs::read(page).unwrap().starts_with(b"<X");
    let mut raced = 0;
    for attempt in 0..3 {
        append(
            &root.join("content/notes/second-note.md"),
            &format!("\nAttempt {attempt}.\n"),
        );
        let mut child = spawn_quiet(root, &["build", "--out", "warm"]);
        let started = Instant::now();
        let staging = loop {
            let found = staging_folders(root);
            if let Some(name) = found.first() {
                break Some(root.join(name));
            }
            if child.try_wait().unwrap().is_some() || started.elapsed() > LIMIT {
                break None;
            }
        };
        if let Some(staging) = staging {
            // Rendering is over (every keep decided) once the manifest is written; the
            // stamps are taken a moment later.
            while !staging.join(".petrol-watch-manifest").exists()
                && staging.exists()
                && started.elapsed() < LIMIT
            {}
            for page in &pages {
                if let Ok(f) = fs::File::options().write(true).open(page) {
                    let _ = f.write_all_at(b"X", 1);
                }
            }
            raced += 1;
        }
        assert!(child.wait().unwrap().success());
        let out = build_within(root, "warm", "after pages were edited during a build");
        let kept: Vec<&std::path::PathBuf> = pages.iter().filter(|p| edited(p)).collect();
        assert!(
            kept.is_empty(),
            "attempt {attempt}: {} hand-edited pages kept, such as {}: {}",
            kept.len(),
            kept[0].display(),
            stdout(&out)
        );
        live_equals_cold(root, "warm", &[], "after pages were edited during a build");
    }
    assert!(raced > 0, "no build was caught while it rendered");
}
