//! Attacks on the highlighted-code cache beside the output (`.<out>.cache/code.pack`),
//! through the real binary: whatever the file holds or is, a build publishes the same
//! bytes as a build with no cache, in bounded time and memory, leaves no temporary
//! file, and the cache holds only the site's blocks after a build into an empty output.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;

fn pack(root: &Path, out: &str) -> PathBuf {
    root.join(format!(".{out}.cache/code.pack"))
}

/// Builds `root` into an emptied `out` within a minute, and returns what it published.
fn build_emptied(root: &Path, out: &str) -> BTreeMap<String, Vec<u8>> {
    let dir = root.join(out);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    let (o, _) = run_within(root, &["build", "--out", out], Duration::from_secs(60));
    assert!(o.status.success(), "{}", stderr(&o));
    snapshot(&dir)
}

/// What a build into `out` publishes with no cache at all, and the pack it leaves.
fn without_cache(root: &Path, out: &str) -> (BTreeMap<String, Vec<u8>>, Vec<u8>) {
    let cache = root.join(format!(".{out}.cache"));
    if cache.exists() {
        std::fs::remove_dir_all(&cache).unwrap();
    }
    let site = build_emptied(root, out);
    (site, std::fs::read(pack(root, out)).unwrap())
}

/// The names in the cache folder that a killed or failed write leaves.
fn temporaries(root: &Path, out: &str) -> Vec<String> {
    std::fs::read_dir(root.join(format!(".{out}.cache")))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".code.pack.tmp"))
        .collect()
}

/// A forged header claiming 4,294,967,295 index entries on a sparse file as long as
/// that index: the build read the whole claimed index into memory (154 GB: aborted
/// on the allocation, or ran the machine out of memory). A file longer than any
/// build writes is now not read at all.
#[test]
fn a_pack_claiming_billions_of_entries_is_not_read() {
    let site = code_site();
    let root = site.path();
    let (first, made) = without_cache(root, "public");
    let path = pack(root, "public");
    // The header this program writes (magic and program), with the count forged.
    let count = u32::MAX;
    let mut head = made[..24].to_vec();
    head.extend_from_slice(&count.to_le_bytes());
    std::fs::write(&path, &head).unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(head.len() as u64 + u64::from(count) * 36 + 64)
        .unwrap();
    drop(file);
    assert_eq!(build_emptied(root, "public"), first);
    // Replaced by a file a build writes, within the bound.
    let len = std::fs::metadata(&path).unwrap().len();
    assert!(len < 1024 * 1024, "{len} bytes");
    assert_eq!(build_emptied(root, "public"), first);
}

/// A build killed while it wrote the pack leaves its temporary file. It was removed
/// only by a later build that itself rewrote the pack: a build that changed no block
/// (here: an edit to a note's prose) left it there, however many followed.
#[test]
fn a_killed_builds_temporary_pack_is_removed_by_the_next_build() {
    let site = code_site();
    let root = site.path();
    build_ok(root, "public");
    let left = root.join(".public.cache/.code.pack.tmp");
    std::fs::write(&left, b"PWCODE2\n half a cache").unwrap();
    edit(
        root,
        "content/notes/code-in-many-languages.md",
        "Every fenced block",
        "Each fenced block",
    );
    let o = build_ok(root, "public");
    assert!(!stdout(&o).contains("up to date"), "{}", stdout(&o));
    assert_eq!(temporaries(root, "public"), Vec::<String>::new());
}

/// A directory, a FIFO, a link to /dev/zero or a link to another site's pack in the
/// pack's place: the build neither waits, nor reads through, nor writes through, and
/// publishes what a build with no cache does.
#[test]
fn a_pack_that_is_no_file_is_neither_waited_on_nor_followed() {
    let site = code_site();
    let root = site.path();
    let (first, made) = without_cache(root, "public");
    let path = pack(root, "public");
    let elsewhere = root.join("elsewhere.pack");
    std::fs::write(&elsewhere, &made).unwrap();

    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    assert_eq!(build_emptied(root, "public"), first, "a directory");
    std::fs::remove_dir(&path).unwrap();

    mkfifo(&path);
    assert_eq!(build_emptied(root, "public"), first, "a FIFO");
    assert_eq!(std::fs::read(&path).unwrap(), made, "a FIFO");

    for target in [Path::new("/dev/zero"), elsewhere.as_path()] {
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(target, &path).unwrap();
        assert_eq!(build_emptied(root, "public"), first, "{}", target.display());
        assert!(!std::fs::symlink_metadata(&path).unwrap().is_symlink());
        assert_eq!(std::fs::read(&path).unwrap(), made);
    }
    assert_eq!(std::fs::read(&elsewhere).unwrap(), made, "written through");
}

/// Every edit (a block added, changed, given another fence, removed; a note removed;
/// drafts in and out; an emptied output) gives the bytes of a build with no cache, and
/// after a build into an empty output the pack is the one a build with no cache
/// leaves: it holds the site's blocks and nothing else.
#[test]
fn edits_through_the_cache_equal_builds_without_it() {
    let site = code_site();
    let root = site.path();
    let note = root.join("content/notes/fences.md");
    let write = |blocks: &[(&str, &str)], draft: bool| {
        let mut text =
            format!("+++\ntitle = \"Fences\"\ndate = 2024-01-02\ndraft = {draft}\n+++\n\nCode.\n");
        for (info, code) in blocks {
            text.push_str(&format!("\n```{info}\n{code}\n```\n"));
        }
        std::fs::write(&note, text).unwrap();
    };
    let rust = "fn main() { let x = 1; }";
    // The note's blocks, whether it is a draft, the build's flags, whether the output
    // is emptied first.
    type Step<'a> = (Vec<(&'a str, &'a str)>, bool, &'a [&'a str], bool);
    let steps: Vec<Step> = vec![
        (vec![("rust", rust)], false, &[], false),
        (vec![("rust", rust), ("Rust", rust)], false, &[], false),
        (
            vec![("rust,ignore", rust), ("rust title=x", rust)],
            false,
            &[],
            true,
        ),
        (
            vec![("rust", "fn main() {}"), ("toml", "a = 1")],
            true,
            &[],
            false,
        ),
        (
            vec![("rust", "fn main() {}"), ("toml", "a = 1")],
            true,
            &["--drafts"],
            false,
        ),
        (vec![("toml", "a = 2")], true, &["--drafts"], true),
        (vec![("toml", "a = 2")], true, &[], true),
        (vec![], false, &[], false),
    ];
    for (i, (blocks, draft, flags, empty)) in steps.iter().enumerate() {
        write(blocks, *draft);
        if i == 7 {
            std::fs::remove_file(&note).unwrap();
        }
        if *empty {
            std::fs::remove_dir_all(root.join("public")).unwrap();
        }
        let mut args = vec!["build"];
        args.extend_from_slice(flags);
        let o = run(root, &args);
        assert!(o.status.success(), "{}", stderr(&o));
        let mut cold_args = vec!["build", "--out", "cold"];
        cold_args.extend_from_slice(flags);
        for dir in [root.join("cold"), root.join(".cold.cache")] {
            if dir.exists() {
                std::fs::remove_dir_all(&dir).unwrap();
            }
        }
        let o = run(root, &cold_args);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_same(
            &snapshot(&root.join("public")),
            &snapshot(&root.join("cold")),
            &format!("step {i}"),
        );
        if *empty {
            assert_eq!(
                std::fs::read(pack(root, "public")).unwrap(),
                std::fs::read(pack(root, "cold")).unwrap(),
                "step {i}: the pack holds blocks the site no longer has"
            );
        }
    }
}

/// Two builds of one root at once, into an emptied output with a pack from an earlier
/// site: the output's lock covers the pack, so both succeed and the site and the pack
/// are what one build with no cache gives.
#[test]
fn two_builds_at_once_leave_one_right_pack() {
    let site = code_site();
    let root = site.path();
    let (first, made) = without_cache(root, "public");
    let note = root.join("content/notes/code-in-many-languages.md");
    let text = std::fs::read_to_string(&note).unwrap();
    std::fs::write(&note, format!("{text}\n```toml\nextra = 1\n```\n")).unwrap();
    build_emptied(root, "public");
    std::fs::write(&note, &text).unwrap();
    std::fs::remove_dir_all(root.join("public")).unwrap();
    let mut builds: Vec<_> = (0..2).map(|_| spawn_quiet(root, &["build"])).collect();
    for b in &mut builds {
        assert!(b.wait().unwrap().success());
    }
    assert_eq!(snapshot(&root.join("public")), first);
    assert_eq!(std::fs::read(pack(root, "public")).unwrap(), made);
    assert_eq!(temporaries(root, "public"), Vec::<String>::new());
}

/// Builds killed (SIGKILL) at moments spread over a build into an empty output: the
/// next build still publishes what a build with no cache does, and leaves no
/// temporary file.
#[test]
fn a_killed_build_leaves_the_next_one_right() {
    let site = code_site();
    let root = site.path();
    let (first, _) = without_cache(root, "public");
    let took = {
        let start = std::time::Instant::now();
        build_emptied(root, "public");
        start.elapsed()
    };
    for step in 1..=6u32 {
        std::fs::remove_dir_all(root.join("public")).unwrap();
        // A different block set each time, so the pack is rewritten.
        let note = root.join("content/notes/killed.md");
        std::fs::write(
            &note,
            format!(
                "+++\ntitle = \"K\"\ndate = 2024-01-02\n+++\n\n```rust\nfn f{step}() {{}}\n```\n"
            ),
        )
        .unwrap();
        let mut child = spawn_quiet(root, &["build"]);
        std::thread::sleep(took * step / 6);
        let _ = child.kill();
        let _ = child.wait();
        std::fs::remove_file(&note).unwrap();
        let o = run(root, &["build"]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_same(
            &snapshot(&root.join("public")),
            &first,
            &format!("kill {step}"),
        );
        assert_eq!(temporaries(root, "public"), Vec::<String>::new());
    }
}

/// An output folder that exists but is empty (`rm -rf public/*`, a fresh mount) is as
/// empty as none: the build renders every note, so it too drops the blocks the site
/// no longer has. It kept them: only a missing folder counted as empty.
#[test]
fn a_build_into_an_empty_existing_folder_drops_the_blocks_the_site_no_longer_has() {
    let site = code_site();
    let root = site.path();
    let (_, made) = without_cache(root, "public");
    let note = root.join("content/notes/code-in-many-languages.md");
    let text = std::fs::read_to_string(&note).unwrap();
    std::fs::write(&note, format!("{text}\n```toml\nextra = 1\n```\n")).unwrap();
    build_ok(root, "public");
    assert_ne!(std::fs::read(pack(root, "public")).unwrap(), made);
    std::fs::write(&note, &text).unwrap();
    std::fs::remove_dir_all(root.join("public")).unwrap();
    std::fs::create_dir(root.join("public")).unwrap();
    build_ok(root, "public");
    assert_eq!(
        std::fs::read(pack(root, "public")).unwrap(),
        made,
        "the removed block is still kept"
    );
}
