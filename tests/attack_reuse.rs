//! A careless operator and a hostile file system against the build's reuse of the
//! previous site, and hostile clients against the server, through the real binary.
//! Every build here is bounded in time (`run_within`): a hang fails the test.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// Builds `root` into `out` within [`LIMIT`], asserting success.
fn build_within(root: &Path, out: &str) -> std::process::Output {
    let (o, _) = run_within(root, &["build", "--out", out], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    o
}

/// A fresh cold build of `root` (no previous output, no image cache).
fn cold(root: &Path) -> BTreeMap<String, Vec<u8>> {
    for dir in [root.join("cold"), root.join(".cold.cache")] {
        if dir.exists() {
            fs::remove_dir_all(&dir).unwrap();
        }
    }
    build_within(root, "cold");
    snapshot(&root.join("cold"))
}

/// Every `.gz` and `.br` under `dir` decodes to the file beside it.
fn assert_siblings_decode_to_their_page(dir: &Path, when: &str) {
    for (path, bytes) in snapshot(dir) {
        let (base, gz) = if let Some(b) = path.strip_suffix(".gz") {
            (b, true)
        } else if let Some(b) = path.strip_suffix(".br") {
            (b, false)
        } else {
            continue;
        };
        let page = fs::read(dir.join(base)).unwrap();
        let mut decoded = Vec::new();
        let ok = if gz {
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_end(&mut decoded)
                .is_ok()
        } else {
            brotli::BrotliDecompress(&mut &bytes[..], &mut decoded).is_ok()
        };
        assert!(
            ok && decoded == page,
            "{when}: {path} does not decode to {base}"
        );
    }
}

/// Nothing under `dir` is a symlink.
fn assert_no_symlinks(dir: &Path, when: &str) {
    for e in walkdir::WalkDir::new(dir) {
        let e = e.unwrap();
        assert!(
            !e.path_is_symlink(),
            "{when}: {} is a symlink in the published site",
            e.path().display()
        );
    }
}

/// The live site after a build over a tampered output: the same as a cold build, with
/// every compressed sibling decoding to its page, and no symlink in it.
fn assert_healed(root: &Path, when: &str) {
    let live = root.join("out");
    assert_no_symlinks(&live, when);
    assert_siblings_decode_to_their_page(&live, when);
    assert_same(&snapshot(&live), &cold(root), when);
}

/// Rewrites `path` in place with `bytes` (same inode, as an editor saving does).
fn overwrite(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes).unwrap();
}

/// Files of the live output edited by hand between builds, for keyed outputs (a
/// dataset's pages, rendered only when their key changes) and plain ones: the next
/// build, edit or no edit of the inputs, publishes the build's files, never the
/// damaged ones.
#[test]
fn hand_edited_live_files_are_rebuilt_not_republished() {
    type Tamper = fn(&Path);
    let cases: Vec<(&str, Tamper)> = vec![
        ("keyed page truncated", |out| {
            let p = out.join("prices/fuel-prices/index.html");
            let bytes = fs::read(&p).unwrap();
            overwrite(&p, &bytes[..100]);
        }),
        ("keyed page replaced by same-length text", |out| {
            let p = out.join("prices/fuel-prices/2025/index.html");
            let len = fs::read(&p).unwrap().len();
            overwrite(&p, &vec![b'x'; len]);
        }),
        ("plain page's .br replaced by same-length garbage", |out| {
            let p = out.join("notes/first-note/index.html.br");
            let len = fs::read(&p).unwrap().len();
            overwrite(&p, &vec![0xA5; len]);
        }),
        ("keyed page's .gz replaced by same-length garbage", |out| {
            let p = out.join("prices/brent-crude/index.html.gz");
            let len = fs::read(&p).unwrap().len();
            overwrite(&p, &vec![0x1f; len]);
        }),
        ("keyed download edited", |out| {
            let p = out.join("data/fuel-prices.csv");
            let mut bytes = fs::read(&p).unwrap();
            let last = bytes.len() - 2;
            bytes[last] ^= 1;
            overwrite(&p, &bytes);
        }),
        ("page replaced by a folder", |out| {
            let p = out.join("prices/fuel-prices/2024/index.html");
            fs::remove_file(&p).unwrap();
            fs::create_dir(&p).unwrap();
            fs::write(p.join("x"), "x").unwrap();
        }),
        ("image replaced by a same-length file", |out| {
            let p = fs::read_dir(out.join("share/prices"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.to_string_lossy().contains("fuel-prices"))
                .unwrap();
            let len = fs::read(&p).unwrap().len();
            fs::remove_file(&p).unwrap();
            fs::write(&p, vec![0u8; len]).unwrap();
        }),
    ];
    for (when, tamper) in cases {
        for edit_inputs in [false, true] {
            let site = small_site();
            let root = site.path();
            build_within(root, "out");
            tamper(&root.join("out"));
            if edit_inputs {
                let note = root.join("content/notes/third-note.md");
                let text = fs::read_to_string(&note).unwrap();
                fs::write(&note, format!("{text}\nOne more line.\n")).unwrap();
            }
            build_within(root, "out");
            assert_healed(root, &format!("{when} (inputs edited: {edit_inputs})"));
        }
    }
}
