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
        let mut child = Command::new(bin())
            .arg("--root")
            .arg(root)
            .args(["build", "--out", "warm"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
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
