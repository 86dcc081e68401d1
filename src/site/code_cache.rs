//! Highlighted code blocks kept between builds, in one file beside the output
//! (`.public.cache/code.pack`, next to the kept images).
//!
//! Highlighting is most of a build's work for notes with code: tree-sitter parses each
//! block, and the first block of each language in a process compiles that language's
//! queries (17–86 ms each). Yet a block's HTML is a pure function of its fence's info
//! string and its text (and of this program), so a build that finds a block it made
//! before need not make it again: an emptied output, or an edit to one note whose
//! page and the site feed re-render twenty notes' bodies, reads blocks instead of
//! highlighting them.
//!
//! One file, not one per block: a site has thousands of small blocks, and a file each
//! would cost an open and a read apiece. The file starts with the program that wrote
//! it (another program's file is not read: none of its keys can match) and an index
//! (read when the first block is looked up); each block is read with one positioned
//! read when asked for, so a big cache is not held in memory. Each entry carries a
//! hash of its bytes, checked before use: a damaged entry (a crash, a full disk, a
//! stray edit) is made again, never published. Anything unreadable is a miss; the
//! cache never fails a build.
//!
//! Only the builder holding the output's lock opens it. It is rewritten (a temporary
//! file renamed over it) at the end of a build that made new blocks or left some
//! unused. A build that kept no page unrendered (into an empty output, say) rendered
//! every note, so it alone knows which blocks the site no longer has and drops them;
//! other builds keep what they did not look at. The file, and the blocks a build
//! holds to write it, stay within [`MAX_PACK_BYTES`]; a longer file is not one this
//! program wrote and is not read (its index could otherwise ask for any amount of
//! memory).

use std::collections::HashMap;
use std::fs::File;
use std::hash::Hash;
use std::io::{BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use xxhash_rust::xxh3::{xxh3_64_with_seed, Xxh3};

use super::keys::PROGRAM_ID;
use crate::highlight;

/// The file's first bytes; a new layout gets a new one, and an old file is a miss.
const MAGIC: &[u8; 8] = b"PWCODE2\n";

/// The magic, the program that wrote the file (16 bytes) and the count of entries.
const HEADER: usize = MAGIC.len() + 16 + 4;

/// Key (16), offset (8), length (4) and hash (8) of one entry.
const INDEX_ENTRY: usize = 36;

/// The most the file may take, index included: past it, a build keeps only the blocks
/// it used, and of the blocks it made, those that fit. A site of 20,000 notes with
/// three blocks each needs about 55 MB.
pub(crate) const MAX_PACK_BYTES: u64 = 256 * 1024 * 1024;

/// One highlighted block can be no larger than this: blocks over
/// [`highlight::MAX_HIGHLIGHTED_BYTES`] are not highlighted, and markup at most
/// multiplies a block's size by a small factor (256 KiB of `1,` in JSON gives 10 MB).
/// A larger one is not kept: the index is read only up to an entry out of bounds.
const MAX_ENTRY_BYTES: u32 = 16 * 1024 * 1024;

/// No highlighted block is shorter: its `<pre>` and `<code>` tags alone take 78 bytes.
const MIN_ENTRY_BYTES: u32 = 64;

/// The blocks kept by earlier builds, and those this build made.
pub(crate) struct CodeCache {
    path: PathBuf,
    /// This program's identity, in the file's header and every key: a file another
    /// program wrote holds no block this one would ask for, so it is not read, and it
    /// is replaced rather than carried along (every `cargo build` of an edited source
    /// is another program).
    program: u128,
    kept: OnceLock<Kept>,
    made: Mutex<Made>,
    /// What the file may take ([`MAX_PACK_BYTES`]; smaller in tests).
    limit: u64,
    /// Blocks highlighted by this build (for tests and the curious).
    highlighted: AtomicUsize,
}

/// The blocks this build highlighted, as many as the file could take: the rest are
/// not held (a site with more is highlighted again in part next time).
#[derive(Default)]
struct Made {
    blocks: HashMap<u128, String>,
    /// What `blocks` would take in the file, index entries included.
    bytes: u64,
}

/// The file as the build found it: its index, read once.
struct Kept {
    file: Option<File>,
    entries: HashMap<u128, Entry>,
}

struct Entry {
    offset: u64,
    len: u32,
    hash: u64,
    /// Looked up by this build, and intact.
    used: AtomicBool,
}

impl CodeCache {
    /// The cache in `dir` (read only when a block is first looked up).
    pub(crate) fn open(dir: &Path) -> CodeCache {
        CodeCache {
            path: dir.join("code.pack"),
            program: {
                let mut h = Xxh3::new();
                PROGRAM_ID.hash(&mut h);
                h.digest128()
            },
            kept: OnceLock::new(),
            made: Mutex::default(),
            limit: MAX_PACK_BYTES,
            highlighted: AtomicUsize::new(0),
        }
    }

    /// What [`highlight::code_block`] gives for this block: kept, or made and kept.
    pub(crate) fn code_block(&self, info: Option<&str>, code: &str) -> String {
        // Plain text costs an escape: not worth a lookup.
        if !highlight::is_highlighted(info, code) {
            return highlight::code_block(info, code);
        }
        let key = key(self.program, info, code);
        if let Some(html) = self.kept().get(key) {
            return html;
        }
        if let Some(html) = self.made.lock().expect("not poisoned").blocks.get(&key) {
            return html.clone();
        }
        let html = highlight::code_block(info, code);
        self.highlighted.fetch_add(1, Ordering::Relaxed);
        let mut made = self.made.lock().expect("not poisoned");
        let bytes = made.bytes + cost(html.len());
        if HEADER as u64 + bytes <= self.limit
            && html.len() <= MAX_ENTRY_BYTES as usize
            && !made.blocks.contains_key(&key)
        {
            made.bytes = bytes;
            made.blocks.insert(key, html.clone());
        }
        html
    }

    /// How many blocks this build highlighted rather than read.
    #[cfg(test)]
    fn highlighted(&self) -> usize {
        self.highlighted.load(Ordering::Relaxed)
    }

    fn kept(&self) -> &Kept {
        self.kept
            .get_or_init(|| Kept::load(&self.path, self.program))
    }

    /// Writes the cache for the next build, if this one changed it: the blocks made,
    /// and of those kept, the ones used, or (`every_block_seen` false: the build did
    /// not render every note) all while they fit in [`MAX_PACK_BYTES`]. Failing to
    /// write only costs highlighting next time.
    pub(crate) fn save(&self, every_block_seen: bool) {
        // Holding the output's lock, a temporary file here is a killed build's: removed
        // even when this build has nothing to write.
        let _ = std::fs::remove_file(self.temporary());
        let made = std::mem::take(&mut self.made.lock().expect("not poisoned").blocks);
        let Some(kept) = self.kept.get() else {
            // No block was looked up: the site has none worth keeping, if it rendered
            // every note; else the file stays as it is.
            if every_block_seen {
                let _ = std::fs::remove_file(&self.path);
            }
            return;
        };
        let total: u64 = HEADER as u64
            + kept
                .entries
                .values()
                .map(|e| cost(e.len as usize))
                .sum::<u64>()
            + made.values().map(|h| cost(h.len())).sum::<u64>();
        let drop_unused = every_block_seen || total > self.limit;
        // A kept entry made again was damaged: the new one replaces it.
        let mut keep: Vec<(u128, &Entry)> = kept
            .entries
            .iter()
            .filter(|(k, e)| {
                (!drop_unused || e.used.load(Ordering::Relaxed)) && !made.contains_key(k)
            })
            .map(|(k, e)| (*k, e))
            .collect();
        if made.is_empty() && keep.len() == kept.entries.len() {
            return;
        }
        keep.sort_unstable_by_key(|(k, _)| *k);
        // Kept blocks first, then made ones, while they fit: a longer file would not
        // be read. In key order, so the same blocks give the same file.
        let mut size = HEADER as u64;
        let mut fits = |len: usize| {
            size += cost(len);
            size <= self.limit
        };
        let mut blocks: Vec<Block> = keep
            .into_iter()
            .take_while(|(_, e)| fits(e.len as usize))
            .map(|(key, e)| Block {
                key,
                len: e.len,
                hash: e.hash,
                html: Html::Kept(e.offset),
            })
            .collect();
        let mut made: Vec<(u128, String)> = made.into_iter().collect();
        made.sort_unstable_by_key(|(k, _)| *k);
        for (key, html) in &made {
            if !fits(html.len()) {
                break;
            }
            blocks.push(Block {
                key: *key,
                len: html.len() as u32,
                hash: entry_hash(*key, html.as_bytes()),
                html: Html::Made(html),
            });
        }
        blocks.sort_unstable_by_key(|b| b.key);
        let _ = self.write(kept, &blocks);
    }

    /// Writes `blocks` as the new file: a temporary file renamed over the old one, so
    /// a build killed midway leaves the old file whole. Kept blocks are copied as they
    /// are (checked when next read), one at a time, not held.
    fn write(&self, kept: &Kept, blocks: &[Block]) -> std::io::Result<()> {
        let tmp = self.temporary();
        let written = self.write_to(&tmp, kept, blocks);
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }

    /// One name, not a random one: only the holder of the output's lock writes it, so
    /// the next build removes what a killed one left with one call, not a scan.
    fn temporary(&self) -> PathBuf {
        self.path.with_file_name(TEMPORARY)
    }

    fn write_to(&self, tmp: &Path, kept: &Kept, blocks: &[Block]) -> std::io::Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        if let Some(dir) = tmp.parent() {
            std::fs::create_dir_all(dir)?;
        }
        // New (a link put in its place is not followed), and readable by all, as the
        // kept images are: a cache restored for another user (a CI runner's) is read.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(tmp)?;
        {
            let mut out = BufWriter::new(&mut file);
            out.write_all(MAGIC)?;
            out.write_all(&self.program.to_le_bytes())?;
            out.write_all(&(blocks.len() as u32).to_le_bytes())?;
            let mut offset = (HEADER + blocks.len() * INDEX_ENTRY) as u64;
            for b in blocks {
                out.write_all(&b.key.to_le_bytes())?;
                out.write_all(&offset.to_le_bytes())?;
                out.write_all(&b.len.to_le_bytes())?;
                out.write_all(&b.hash.to_le_bytes())?;
                offset += u64::from(b.len);
            }
            let mut buffer = Vec::new();
            for b in blocks {
                match b.html {
                    Html::Made(html) => out.write_all(html.as_bytes())?,
                    Html::Kept(at) => {
                        let from = kept.file.as_ref().ok_or(std::io::ErrorKind::NotFound)?;
                        buffer.resize(b.len as usize, 0);
                        from.read_exact_at(&mut buffer, at)?;
                        out.write_all(&buffer)?;
                    }
                }
            }
            out.flush()?;
        }
        std::fs::rename(tmp, &self.path)
    }
}

/// The file [`CodeCache::write`] writes before renaming it into place.
const TEMPORARY: &str = ".code.pack.tmp";

/// What a block of `len` bytes takes in the file: its bytes and its index entry.
fn cost(len: usize) -> u64 {
    (len + INDEX_ENTRY) as u64
}

/// One entry of a file being written.
struct Block<'a> {
    key: u128,
    len: u32,
    hash: u64,
    html: Html<'a>,
}

/// Where a block's HTML comes from: the old file at an offset, or this build.
enum Html<'a> {
    Kept(u64),
    Made(&'a String),
}

impl Kept {
    /// The index of the file at `path`; empty when there is none or it is not one this
    /// program wrote whole.
    fn load(path: &Path, program: u128) -> Kept {
        let empty = || Kept {
            file: None,
            entries: HashMap::new(),
        };
        use std::os::unix::fs::OpenOptionsExt;
        // Opening a FIFO would wait for a writer forever; a link would be read through.
        let Ok(file) = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(
                (rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOFOLLOW).bits() as i32,
            )
            .open(path)
        else {
            return empty();
        };
        // No build writes a longer file: its index, however long it claims to be, is
        // not read.
        let Ok(len) = file.metadata().and_then(|m| {
            (m.is_file() && m.len() <= MAX_PACK_BYTES)
                .then_some(m.len())
                .ok_or(std::io::ErrorKind::InvalidInput.into())
        }) else {
            return empty();
        };
        let mut head = [0u8; HEADER];
        if (&file).read_exact(&mut head).is_err() {
            return empty();
        }
        let (magic, rest) = head.split_at(MAGIC.len());
        let (writer, count) = rest.split_at(16);
        if magic != MAGIC || writer != program.to_le_bytes() {
            return empty();
        }
        let count = u32::from_le_bytes(count.try_into().expect("4 bytes")) as u64;
        // An index longer than the file is damage, not a reason to allocate.
        let index_end = HEADER as u64 + count * INDEX_ENTRY as u64;
        if index_end > len {
            return empty();
        }
        let field = |e: &[u8], at: usize, n: usize| -> u128 {
            let mut b = [0u8; 16];
            b[..n].copy_from_slice(&e[at..at + n]);
            u128::from_le_bytes(b)
        };
        // Entries are taken while they lie as this program writes them: each right
        // after the one before, none shorter than any block, all inside the file. So a
        // forged index of overlapping or tiny entries cannot hold more entries than
        // the file has room for blocks (a 256 MiB file of one-byte overlapping
        // entries took 1.5 GB to read).
        let mut index = std::io::BufReader::new(&file);
        let mut entries = HashMap::new();
        let mut next = index_end;
        let mut e = [0u8; INDEX_ENTRY];
        for _ in 0..count {
            if index.read_exact(&mut e).is_err() {
                break;
            }
            let entry = Entry {
                offset: field(&e, 16, 8) as u64,
                len: field(&e, 24, 4) as u32,
                hash: field(&e, 28, 8) as u64,
                used: AtomicBool::new(false),
            };
            let end = next + u64::from(entry.len);
            if entry.offset != next
                || !(MIN_ENTRY_BYTES..=MAX_ENTRY_BYTES).contains(&entry.len)
                || end > len
            {
                break;
            }
            next = end;
            entries.insert(field(&e, 0, 16), entry);
        }
        drop(index);
        Kept {
            file: Some(file),
            entries,
        }
    }

    /// The block kept under `key`, if it is there and intact; marks it used.
    fn get(&self, key: u128) -> Option<String> {
        let entry = self.entries.get(&key)?;
        let html = String::from_utf8(self.bytes(key, entry)?).ok()?;
        entry.used.store(true, Ordering::Relaxed);
        Some(html)
    }

    /// An entry's bytes, if they still hash as they did when written under `key`.
    fn bytes(&self, key: u128, entry: &Entry) -> Option<Vec<u8>> {
        let mut bytes = vec![0u8; entry.len as usize];
        self.file
            .as_ref()?
            .read_exact_at(&mut bytes, entry.offset)
            .ok()?;
        (entry_hash(key, &bytes) == entry.hash).then_some(bytes)
    }
}

/// The check of an entry: its bytes, seeded with its key, so bytes that are intact but
/// indexed under another key do not pass either.
fn entry_hash(key: u128, bytes: &[u8]) -> u64 {
    xxh3_64_with_seed(bytes, (key as u64) ^ ((key >> 64) as u64))
}

/// What a block's HTML is made from: this program, the fence's info string, the text.
fn key(program: u128, info: Option<&str>, code: &str) -> u128 {
    let mut h = Xxh3::new();
    (program, info, code).hash(&mut h);
    h.digest128()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const RUST: &str = "fn main() {\n    println!(\"{}\", 1 + 2);\n}\n";
    const TOML: &str = "[site]\ntitle = \"Petrol Watch\"\n";

    /// Renders the blocks through a cache in `dir`, saves it, and says how many it had
    /// to highlight; every answer must be what highlighting gives.
    fn build(dir: &Path, blocks: &[(Option<&str>, &str)], every_block_seen: bool) -> usize {
        let cache = CodeCache::open(dir);
        for (info, code) in blocks {
            assert_eq!(
                cache.code_block(*info, code),
                highlight::code_block(*info, code),
                "{info:?}"
            );
        }
        cache.save(every_block_seen);
        cache.highlighted()
    }

    fn pack(dir: &Path) -> PathBuf {
        dir.join("code.pack")
    }

    #[test]
    fn a_second_build_reads_what_the_first_highlighted() {
        let dir = tempfile::tempdir().unwrap();
        let blocks = [
            (Some("rust"), RUST),
            (Some("toml"), TOML),
            (Some("rust"), RUST),
        ];
        assert_eq!(build(dir.path(), &blocks, true), 2);
        assert_eq!(build(dir.path(), &blocks, true), 0);
        // Readable as any file this user makes is (an image kept beside it, say).
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "").unwrap();
        assert_eq!(mode(&pack(dir.path())), mode(&plain) & 0o644);
        // Plain blocks are not kept: they cost less than a lookup.
        let plain = [(None, RUST), (Some("no-such-language"), RUST)];
        assert_eq!(build(dir.path(), &plain, false), 0);
        assert_eq!(build(dir.path(), &blocks, false), 0);
        // The fence's whole info string is part of the key.
        assert_eq!(build(dir.path(), &[(Some("rust,ignore"), RUST)], false), 1);
    }

    #[test]
    fn a_build_that_saw_every_block_drops_the_others() {
        let dir = tempfile::tempdir().unwrap();
        build(
            dir.path(),
            &[(Some("rust"), RUST), (Some("toml"), TOML)],
            true,
        );
        // Not every note rendered: what was not looked at stays.
        build(dir.path(), &[(Some("rust"), RUST)], false);
        assert_eq!(build(dir.path(), &[(Some("toml"), TOML)], false), 0);
        // Every note rendered: the TOML block is gone from the site, and the cache.
        build(dir.path(), &[(Some("rust"), RUST)], true);
        assert_eq!(build(dir.path(), &[(Some("toml"), TOML)], false), 1);
        // A site left with no highlighted block leaves no file.
        build(dir.path(), &[(None, RUST)], true);
        assert!(!pack(dir.path()).exists());
    }

    #[test]
    fn an_unchanged_cache_is_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let blocks = [(Some("rust"), RUST)];
        build(dir.path(), &blocks, true);
        let before = std::fs::metadata(pack(dir.path())).unwrap();
        build(dir.path(), &blocks, true);
        let after = std::fs::metadata(pack(dir.path())).unwrap();
        use std::os::unix::fs::MetadataExt;
        assert_eq!(before.ino(), after.ino(), "rewritten with nothing new");
    }

    #[test]
    fn a_damaged_entry_is_highlighted_again_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let blocks = [(Some("rust"), RUST), (Some("toml"), TOML)];
        build(dir.path(), &blocks, true);
        // The last byte of the last block, changed as a stray write would.
        let mut bytes = std::fs::read(pack(dir.path())).unwrap();
        *bytes.last_mut().unwrap() ^= 0x20;
        std::fs::write(pack(dir.path()), &bytes).unwrap();
        assert_eq!(build(dir.path(), &blocks, false), 1);
        assert_eq!(
            build(dir.path(), &blocks, false),
            0,
            "the good copy was not kept"
        );
    }

    #[test]
    fn a_fifo_or_a_link_in_its_place_is_neither_waited_on_nor_followed() {
        let dir = tempfile::tempdir().unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(pack(dir.path()))
            .status()
            .unwrap();
        assert!(made.success());
        let blocks = [(Some("rust"), RUST)];
        assert_eq!(build(dir.path(), &blocks, true), 1);
        // Replaced by a real file, not written through.
        assert_eq!(build(dir.path(), &blocks, true), 0);

        let elsewhere = tempfile::tempdir().unwrap();
        build(elsewhere.path(), &blocks, true);
        let target = pack(elsewhere.path());
        let before = std::fs::read(&target).unwrap();
        std::fs::remove_file(pack(dir.path())).unwrap();
        std::os::unix::fs::symlink(&target, pack(dir.path())).unwrap();
        assert_eq!(build(dir.path(), &[(Some("toml"), TOML)], false), 1);
        assert_eq!(
            std::fs::read(&target).unwrap(),
            before,
            "written through a link"
        );
        assert!(!std::fs::symlink_metadata(pack(dir.path()))
            .unwrap()
            .is_symlink());
    }

    #[test]
    fn temporary_files_of_killed_builds_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let left = dir.path().join(TEMPORARY);
        std::fs::write(&left, "half a cache").unwrap();
        build(dir.path(), &[(Some("rust"), RUST)], true);
        assert!(!left.exists());
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["code.pack"]);
    }

    #[test]
    fn a_cache_that_cannot_be_written_costs_only_highlighting() {
        let dir = tempfile::tempdir().unwrap();
        let blocked = dir.path().join("in-the-way");
        std::fs::write(&blocked, "a file where the folder goes").unwrap();
        let blocks = [(Some("rust"), RUST)];
        assert_eq!(build(&blocked, &blocks, true), 1);
        assert_eq!(build(&blocked, &blocks, true), 1);
    }

    /// A first build of a big site used to hold every block it highlighted until the
    /// end, however many: now no more than the file may take, and the file written
    /// stays within it too.
    #[test]
    fn a_build_holds_and_writes_no_more_than_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let codes: Vec<String> = (0..60).map(|i| format!("fn f{i}() {{}}\n")).collect();
        let limit = 2_000;
        let mut cache = CodeCache::open(dir.path());
        cache.limit = limit;
        for code in &codes {
            assert_eq!(
                cache.code_block(Some("rust"), code),
                highlight::code_block(Some("rust"), code)
            );
        }
        let held = HEADER as u64 + cache.made.lock().unwrap().bytes;
        assert!(held <= limit && held > limit / 2, "{held} bytes held");
        cache.save(true);
        let written = std::fs::metadata(pack(dir.path())).unwrap().len();
        assert!(written <= limit && written > limit / 2, "{written} bytes");
        // What was kept is read back.
        let blocks: Vec<(Option<&str>, &str)> =
            codes.iter().map(|c| (Some("rust"), c.as_str())).collect();
        assert!(build(dir.path(), &blocks, false) < codes.len());
    }

    /// Overlapping entries (each claiming the same bytes) are not taken: a forged index
    /// cannot hold more entries than the file has room for blocks.
    #[test]
    fn overlapping_entries_are_not_taken() {
        let dir = tempfile::tempdir().unwrap();
        let count = 1_000u32;
        let index_end = (HEADER + count as usize * INDEX_ENTRY) as u64;
        let program = CodeCache::open(dir.path()).program;
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&program.to_le_bytes());
        bytes.extend_from_slice(&count.to_le_bytes());
        for key in 0..u128::from(count) {
            bytes.extend_from_slice(&key.to_le_bytes());
            bytes.extend_from_slice(&index_end.to_le_bytes());
            bytes.extend_from_slice(&MIN_ENTRY_BYTES.to_le_bytes());
            bytes.extend_from_slice(&0u64.to_le_bytes());
        }
        bytes.extend_from_slice(&[b'x'; MIN_ENTRY_BYTES as usize]);
        std::fs::write(pack(dir.path()), &bytes).unwrap();
        assert_eq!(Kept::load(&pack(dir.path()), program).entries.len(), 1);
    }

    /// A file another program wrote (here: another identity) is not read, and the
    /// blocks this one makes replace it: it does not grow by a site's blocks with
    /// every program.
    #[test]
    fn a_pack_of_another_program_is_replaced_not_added_to() {
        let dir = tempfile::tempdir().unwrap();
        let blocks = [(Some("rust"), RUST), (Some("toml"), TOML)];
        build(dir.path(), &blocks, true);
        let size = std::fs::metadata(pack(dir.path())).unwrap().len();
        let mut other = CodeCache::open(dir.path());
        other.program ^= 1;
        for (info, code) in blocks {
            assert_eq!(
                other.code_block(info, code),
                highlight::code_block(info, code)
            );
        }
        // Not every note rendered: yet nothing of the other program's is kept.
        other.save(false);
        assert_eq!(other.highlighted(), 2);
        assert_eq!(std::fs::metadata(pack(dir.path())).unwrap().len(), size);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Whatever the file holds (cut short, overwritten, forged lengths and
        /// offsets), every answer is what highlighting gives, and nothing panics.
        #[test]
        fn any_file_gives_right_answers(
            cut in 0usize..2_000,
            noise in proptest::collection::vec(any::<u8>(), 0..64),
            at in 0usize..2_000,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let blocks = [(Some("rust"), RUST), (Some("toml"), TOML), (Some("json"), "[1, 2]")];
            build(dir.path(), &blocks, true);
            let mut bytes = std::fs::read(pack(dir.path())).unwrap();
            bytes.truncate(cut.max(1).min(bytes.len()));
            let at = at.min(bytes.len());
            let end = (at + noise.len()).min(bytes.len());
            bytes[at..end].copy_from_slice(&noise[..end - at]);
            std::fs::write(pack(dir.path()), &bytes).unwrap();
            let room = bytes.len() as u64 / (INDEX_ENTRY as u64 + u64::from(MIN_ENTRY_BYTES));
            let program = CodeCache::open(dir.path()).program;
            prop_assert!(Kept::load(&pack(dir.path()), program).entries.len() as u64 <= room);
            build(dir.path(), &blocks, false);
            prop_assert_eq!(build(dir.path(), &blocks, false), 0);
        }
    }
}
