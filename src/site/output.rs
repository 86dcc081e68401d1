//! Writing a built site: each file once, in place, in a temporary folder beside the
//! target, with `.gz` and `.br` siblings for compressible files; then one atomic swap.
//! Files identical to the previous build's are hard-linked from it, compressed
//! siblings and all, so an unchanged page costs a read and a compare, not a compress.
//! If anything fails the temporary folder is removed and the previous site stays.
//!
//! Those links are made only at the commit, once something is known to have changed:
//! a build whose every output is the previous build's (the manifest lists every
//! output with its key, so equal manifests mean the same files) leaves the live site
//! as it is instead of relinking and swapping thousands of files, the way `make` does
//! nothing when nothing changed. A previous file is kept only while it is as that
//! build left it (its [`Stamp`], kept beside the output): one edited by hand since is
//! written again, so a page is never published with siblings of other content.
//!
//! Before any of that, [`already_built`] answers for a build whose inputs are as the
//! live site's build found them (the [`Record`] beside the output, see `fresh`): if
//! every live file still matches its stamp and the folder holds nothing else, there
//! is nothing to do.
//!
//! Images are the slow part of a build (a share card costs milliseconds; a page,
//! microseconds), so keyed images are also kept by key in a cache beside the output
//! (`.public.cache/`), the way Hugo keeps `resources/_gen` and Zola its processed
//! images: emptying the output does not redraw them. Each build keeps only the entries
//! it used, so the cache never holds more than one site's images.
//!
//! One builder at a time: a build holds an exclusive lock on a file beside the output
//! (`.public.lock`) from before it reads the previous site until its swap is done, and
//! removes staging folders that killed builds left. A symlinked output keeps its link:
//! the swap happens at the link's target. Every file is created new in the staging
//! folder, so a write can never go through a hard link into the live site.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};

/// Where rendered files go: a real folder, or nowhere (for `check`).
pub(crate) trait Sink: Sync {
    fn put(&self, path: &str, bytes: &[u8]) -> Result<()>;

    /// A fenced code block's HTML, as [`crate::highlight::code_block`] makes it. A sink
    /// that keeps blocks between builds may answer from what it kept.
    fn code_block(&self, info: Option<&str>, code: &str) -> String {
        crate::highlight::code_block(info, code)
    }

    /// Like `put`, for a file that is a pure function of `key` (a hash of everything it
    /// is made from). A sink that still has the file from a build with the same key may
    /// keep it without calling `render`.
    fn put_keyed(
        &self,
        path: &str,
        _key: u128,
        render: &dyn Fn() -> Result<Vec<u8>>,
    ) -> Result<()> {
        self.put(path, &render()?)
    }

    /// Like `put_keyed`, for an archive page (a dataset's year page): read rarely and,
    /// for a big dataset, there are thousands of them, so their siblings are
    /// compressed at [`Effort::Archive`].
    fn put_archive_keyed(
        &self,
        path: &str,
        key: u128,
        render: &dyn Fn() -> Result<Vec<u8>>,
    ) -> Result<()> {
        self.put_keyed(path, key, render)
    }

    /// Like `put_keyed`, for a file that can be large (a dataset's JSON or CSV
    /// download): `write` produces it into a writer, so a sink can store and compress
    /// it piece by piece instead of holding it whole.
    fn put_streamed(&self, path: &str, key: u128, write: &StreamFn<'_>) -> Result<()> {
        self.put_keyed(path, key, &|| {
            let mut bytes = Vec::new();
            write(&mut bytes).map_err(|e| Error::io(Path::new(path), e))?;
            Ok(bytes)
        })
    }
}

/// What writes a streamed file's bytes.
pub(crate) type StreamFn<'a> = dyn Fn(&mut dyn Write) -> std::io::Result<()> + Sync + 'a;

/// Where a build records the key of each keyed output, inside the output folder (a
/// dotfile: never served). Its first line names the program that wrote it; keys from
/// another program are never trusted.
pub(crate) const MANIFEST: &str = ".petrol-watch-manifest";

/// What an output's files were when the build that wrote them finished: a hash of the
/// inode, length, and modification and change times of the file and of its `.gz`/`.br`
/// siblings. Keys say what a file should hold; the stamp says it still holds it.
/// Without it a page edited by hand in the live site (or its `.br` replaced) would be
/// kept by every later build, since a kept file is never read again. Like git's index,
/// this trusts that whatever rewrites a file moves its change time.
///
/// Stamps are kept beside the output (`.<name>.stamps`), not in it: they differ
/// between two builds of the same inputs, and a site depends on its inputs alone.
/// Taken once the site is live and the previous one removed, and only for files still
/// as the build wrote them or, kept from the previous site, found them (see
/// [`StagedSite::write_stamps`]): a file written in the live site while the build runs
/// gets none, which costs a render, never a wrong file.
type Stamp = u64;

/// The stamp recorded for a file the build could not stat: never equal to a real one's.
const NO_STAMP: Stamp = 0;

/// The files the build named after their content, one site path per line, sorted: the
/// server marks exactly these (and their `.gz`/`.br` siblings) immutable.
pub(crate) const IMMUTABLE_LIST: &str = ".petrol-watch-immutable";

/// Marks a folder as a build's staging folder while the build runs, so that the next
/// build removes it only if it is one (a killed build's), never a folder that merely
/// has a similar name.
const STAGING_MARK: &str = ".petrol-watch-staging";

/// Files smaller than this are sent as they are: a sibling would save too little.
const MIN_COMPRESS_BYTES: usize = 512;
const GZIP_LEVEL: i32 = 6;
/// Measured on this site's pages (`bench/build.sh`): the sizes where the cheaper
/// levels stop costing bytes.
const SMALL_FILE: usize = 16 * 1024;
const LARGE_FILE: usize = 1024 * 1024;
/// From [`LARGE_FILE`] (a whole dataset's download): Brotli 2 is as small as 4 on such
/// files and three times faster.
const LARGE_BROTLI_QUALITY: u8 = 2;
/// zlib level for the streamed downloads. On 8 MB of a dataset's JSON: level 3 gives
/// 1,343,385 bytes at 189 MB/s, level 4 1,322,793 (1.5% smaller) at 102 MB/s; a
/// 1,000,000-row dataset streams 75 MB of JSON and CSV.
const STREAMED_GZIP_LEVEL: u32 = 3;
/// Pages' Brotli quality: 5 is 7% smaller for 1.5× the time, 3 is 6% larger (see
/// [`brotli`]).
const BROTLI_QUALITY: u8 = 4;
const BROTLI_WINDOW: u32 = 22;

#[derive(Debug, Default)]
pub(crate) struct WriteStats {
    pub(crate) reused: AtomicUsize,
}

/// An output taken from the previous build: its path, whether it has siblings, and
/// what its stamp kept of its files when the build found them intact.
type Kept = (String, bool, Vec<StampFields>);

/// How a kept output's files came into the new site, for its stamp.
enum KeptAs {
    /// Hard-linked: the same files, which must still be as they were found intact.
    Linked(Vec<StampFields>),
    /// Copied (no hard links here) from files still as they were found intact: new
    /// files, which must be as they were staged.
    Copied,
    /// Copied from files changed after they were found intact: no stamp.
    Spoiled,
}

/// A site being written into a temporary folder next to `target`.
pub(crate) struct StagedSite {
    staging: PathBuf,
    target: PathBuf,
    /// The live site from the last build, for reuse of unchanged files.
    previous: Option<PathBuf>,
    /// `previous`, open: its files are looked up from here, a few path components
    /// each instead of the whole path (thousands of lookups in a warm build).
    previous_dir: Option<rustix::fd::OwnedFd>,
    committed: bool,
    pub(crate) stats: WriteStats,
    /// Where the stamps of the live site's files are kept.
    stamps_path: PathBuf,
    /// Where the [`Record`] of what the live site was built from is kept.
    record_path: PathBuf,
    /// Key and [`Stamp`] of each output of the previous build, from its manifest and
    /// stamps ([`NO_STAMP`] where it has none).
    previous_keys: std::collections::HashMap<String, (u128, Stamp)>,
    /// Folders of the previous site already looked at: whether each is a real folder
    /// (not a symlink), so a kept file is never reached through a link.
    previous_folders: std::sync::Mutex<std::collections::HashMap<String, bool>>,
    /// Outputs whose previous file was not as that build left it (edited by hand).
    damaged: AtomicUsize,
    keys: std::sync::Mutex<Vec<(String, u128)>>,
    /// Outputs to take from the previous build (each with its compressed siblings or
    /// not), linked into the staging folder at the commit if anything changed.
    kept: std::sync::Mutex<Vec<Kept>>,
    /// Files placed in the staging folder: any means the site changed.
    placed: AtomicUsize,
    /// Folders already made in the staging folder.
    folders: std::sync::Mutex<std::collections::HashSet<PathBuf>>,
    /// Derived images by key (its folder is made with the first image kept).
    cache: ImageCache,
    /// Highlighted code blocks, kept in the same folder as the images.
    code: super::code_cache::CodeCache,
    /// A file was kept from the previous build without rendering it, so some notes'
    /// code blocks may not have been looked up.
    skipped_render: std::sync::atomic::AtomicBool,
    /// Held until the site is swapped in (or the build fails).
    _lock: OutputLock,
}

/// `.<name>.cache/` beside the output: keyed images, one file per key, named
/// `<key>.<content hash>.<extension>`. Only the builder holding the output lock reads
/// or writes it. The content hash is checked before an entry is used: the site marks
/// images immutable, so a damaged entry (a crash, a full disk, a stray edit) would
/// otherwise be published and cached by browsers and the CDN for a year.
struct ImageCache {
    dir: PathBuf,
    /// File names in use, by entry (`<key>.<extension>`).
    used: std::sync::Mutex<std::collections::HashSet<String>>,
    /// The cache's file names by entry, read once when first needed.
    index: std::sync::OnceLock<std::collections::HashMap<String, String>>,
    /// Made with the first image kept: a site without images gets no folder.
    made: std::sync::OnceLock<bool>,
}

impl ImageCache {
    fn open(dir: PathBuf) -> ImageCache {
        ImageCache {
            dir,
            used: Default::default(),
            index: Default::default(),
            made: Default::default(),
        }
    }

    /// `(entry, content hash)` of a cache file name this cache writes.
    fn parse(name: &str) -> Option<(String, u64)> {
        let mut parts = name.split('.');
        let (Some(key), Some(hash), Some(ext), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
        if !(hex(key, 32) && hex(hash, 16) && Self::entry(&format!("x.{ext}"), 0).is_some()) {
            return None;
        }
        Some((format!("{key}.{ext}"), u64::from_str_radix(hash, 16).ok()?))
    }

    fn index(&self) -> &std::collections::HashMap<String, String> {
        self.index.get_or_init(|| {
            let Ok(entries) = fs::read_dir(&self.dir) else {
                return Default::default();
            };
            entries
                .flatten()
                .filter_map(|e| {
                    let name = e.file_name().into_string().ok()?;
                    Some((Self::parse(&name)?.0, name))
                })
                .collect()
        })
    }

    /// The file name `entry` gets for `bytes`.
    fn file_name(entry: &str, bytes: &[u8]) -> String {
        let (key, ext) = entry.split_once('.').expect("entries have an extension");
        format!("{key}.{:016x}.{ext}", xxhash_rust::xxh3::xxh3_64(bytes))
    }

    /// The cache's file name for `rel` with `key`, if `rel` is an image: images are
    /// what is worth keeping; a page is cheaper to render than to look up.
    fn entry(rel: &str, key: u128) -> Option<String> {
        let ext = rel.rsplit_once('.')?.1;
        matches!(ext, "png" | "webp" | "jpg" | "jpeg" | "gif" | "avif")
            .then(|| format!("{key:032x}.{ext}"))
    }

    /// Hard-links the cached file into `dest`, if it still holds the bytes it was
    /// kept with.
    fn take(&self, entry: &str, dest: &Path) -> bool {
        let Some(name) = self.index().get(entry) else {
            return false;
        };
        let path = self.dir.join(name);
        // Only a plain file: a link put in the cache must not become one in the site.
        if !fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file()) {
            return false;
        }
        let intact = fs::read(&path).is_ok_and(|bytes| Self::file_name(entry, &bytes) == *name);
        if !intact {
            let _ = fs::remove_file(&path);
            return false;
        }
        let found = fs::hard_link(&path, dest).is_ok();
        if found {
            self.used.lock().expect("not poisoned").insert(name.clone());
        }
        found
    }

    /// Keeps the freshly written `dest` under `entry`: a hard link, or a copy renamed
    /// into place across file systems, so a reader never sees half a file. Failing to
    /// keep it only costs a redraw next time.
    fn keep(&self, entry: &str, dest: &Path) {
        self.store(entry, dest, true);
    }

    /// Keeps `dest` under `entry`, linked or (`link` false, or across file systems)
    /// copied.
    fn store(&self, entry: &str, dest: &Path, link: bool) {
        if !*self
            .made
            .get_or_init(|| fs::create_dir_all(&self.dir).is_ok())
        {
            return;
        }
        let Ok(bytes) = fs::read(dest) else {
            return;
        };
        let name = Self::file_name(entry, &bytes);
        let path = self.dir.join(&name);
        let kept = (link && fs::hard_link(dest, &path).is_ok()) || {
            let tmp = self.dir.join(format!(".{name}.tmp"));
            let copied = fs::copy(dest, &tmp).is_ok() && fs::rename(&tmp, &path).is_ok();
            if !copied {
                let _ = fs::remove_file(&tmp);
            }
            copied
        };
        if kept {
            self.used.lock().expect("not poisoned").insert(name);
        }
    }

    /// Marks `entry` used, keeping a copy of `dest` under it if the cache lacks it (an
    /// image reused from the previous output). A copy, not a link: linking moves the
    /// change time of a live file, which would no longer match its stamp.
    fn hold(&self, entry: &str, dest: &Path) {
        // Checked when taken, not here: this build does not read it.
        if let Some(name) = self.index().get(entry) {
            self.used.lock().expect("not poisoned").insert(name.clone());
        } else {
            self.store(entry, dest, false);
        }
    }

    /// Removes the entries this build did not use (only names this cache writes).
    fn sweep(&self) {
        let used = self.used.lock().expect("not poisoned");
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            // This cache's names, and `<key>.<extension>` as earlier versions wrote.
            let ours = Self::parse(&name).is_some()
                || name.split_once('.').is_some_and(|(key, ext)| {
                    key.len() == 32
                        && key.bytes().all(|b| b.is_ascii_hexdigit())
                        && Self::entry(&format!("x.{ext}"), 0).is_some()
                });
            if ours && !used.contains(&name) {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// An exclusive lock on `.<name>.lock` beside the output folder (std's `File::lock`,
/// flock on Unix): released by the kernel when the process ends, however it ends.
struct OutputLock {
    _file: fs::File,
}

impl OutputLock {
    fn acquire(parent: &Path, name: &str, shown: &Path) -> Result<OutputLock> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = parent.join(format!(".{name}.lock"));
        let not_a_lock = || {
            Error::in_file(
                &path,
                "not the lock file this program makes (a FIFO, a link or a device?): remove it",
            )
        };
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            // Opening a FIFO to write would wait for a reader forever; a link would be
            // opened through, creating a file wherever it points.
            .custom_flags(
                (rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOFOLLOW).bits() as i32,
            )
            .open(&path)
            .map_err(|e| match rustix::io::Errno::from_io_error(&e) {
                Some(rustix::io::Errno::LOOP | rustix::io::Errno::NXIO) => not_a_lock(),
                _ => Error::io(&path, e),
            })?;
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            return Err(not_a_lock());
        }
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                eprintln!(
                    "waiting for another build of {}/ to finish (lock: {})",
                    shown.display(),
                    path.display()
                );
                file.lock().map_err(|e| Error::io(&path, e))?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        Ok(OutputLock { _file: file })
    }
}

/// The folder the site really lives in: `target` itself, or where a symlink at
/// `target` points (followed to the end), so the swap replaces the folder and not the
/// link.
fn resolve_target(target: &Path) -> PathBuf {
    let mut path = target.to_path_buf();
    // A bound on the chain: a link loop must not hang the build.
    for _ in 0..40 {
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => match fs::read_link(&path) {
                Ok(next) => {
                    path = match path.parent() {
                        Some(dir) => dir.join(next),
                        None => next,
                    }
                }
                Err(_) => break,
            },
            _ => break,
        }
    }
    path
}

/// Refuses an output folder whose swap would throw away something that is not a site:
/// the site root or a folder above it, an input folder (or one inside it), a file, or
/// a non-empty folder
/// without this program's manifest (someone else's folder). The commit removes the
/// folder it replaces, so this is checked before anything is written.
pub(crate) fn refuse_unsafe_target(root: &Path, target: &Path) -> Result<()> {
    let refuse = |why: String| {
        Err(Error::arg(
            "--out",
            format!("{}: {why}; choose another output folder", target.display()),
        ))
    };
    let resolved = resolve_target(target);
    if fs::symlink_metadata(&resolved).is_ok_and(|m| m.file_type().is_symlink()) {
        return refuse(format!(
            "it is a chain of symlinks that does not end in a folder (a loop? it reaches {})",
            resolved.display()
        ));
    }
    let real = canonical_or_planned(&resolved);
    let root = fs::canonicalize(root).map_err(|e| Error::io(root, e))?;
    if root.starts_with(&real) {
        return refuse(format!(
            "it is the site root {} or a folder above it, and the build replaces the whole folder",
            root.display()
        ));
    }
    // An output folder that is an input, or holds one, would be swapped away with it.
    for input in super::load::INPUTS {
        if let Ok(input_path) = fs::canonicalize(root.join(input)) {
            if input_path.starts_with(&real) {
                return refuse(format!(
                    "it holds the site's inputs ({input}), and the build replaces the whole folder"
                ));
            }
            // Inside an input the next build would read its own output: every page
            // a template, or the whole site copied into static/ again and again.
            if real.starts_with(&input_path) {
                return refuse(format!(
                    "it is inside the site's inputs ({input}/), which the next build would read"
                ));
            }
        }
    }
    if !real.exists() {
        return Ok(()); // the build creates it
    }
    if !real.is_dir() {
        return refuse("it is not a folder".into());
    }
    let empty = fs::read_dir(&real)
        .map_err(|e| Error::io(&real, e))?
        .next()
        .is_none();
    if !empty && !real.join(MANIFEST).is_file() {
        return refuse(format!(
            "it is not empty and was not built by petrol-watch (no {MANIFEST}), and the build replaces the whole folder"
        ));
    }
    Ok(())
}

/// The absolute path without symlinks of `path`, or, where it does not exist yet, of
/// its nearest existing ancestor with the rest appended.
fn canonical_or_planned(path: &Path) -> PathBuf {
    if let Ok(real) = fs::canonicalize(path) {
        return real;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) if !parent.as_os_str().is_empty() => {
            canonical_or_planned(parent).join(name)
        }
        _ => std::env::current_dir().unwrap_or_default().join(path),
    }
}

/// The folder beside `target` (resolved) and `target`'s name: its lock, stamps,
/// record and image cache live there as `.<name>.lock` and so on.
fn beside(target: &Path) -> (PathBuf, String) {
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target
        .file_name()
        .map_or("site".into(), |n| n.to_string_lossy().to_string());
    (parent, name)
}

/// The suffixes of the files kept beside the output: the [`Stamp`]s of the live site's
/// files, and the [`Record`] of what it was built from.
const STAMPS: &str = ".stamps";
const RECORD: &str = ".inputs";

/// What the live site was built from, kept beside it (`.<name>.inputs`) so that the
/// next build can tell it has nothing to do: the fingerprint of its inputs (see
/// [`super::fresh`]), its build's summary, and the stamps of the lists that say what
/// its files are ([`list_stamps`]). Removed before a swap and written after it, so it
/// never describes another site than the live one.
#[derive(Debug, PartialEq)]
struct Record {
    inputs: u128,
    pages: usize,
    charts: usize,
    files: usize,
    images: usize,
    lists: [Stamp; 3],
}

impl Record {
    fn render(&self) -> String {
        let [stamps, manifest, immutable] = self.lists;
        format!(
            "program {}\ninputs {:032x}\nsite {} {} {} {}\nlists {stamps:016x} {manifest:016x} {immutable:016x}\n",
            super::keys::PROGRAM_ID,
            self.inputs,
            self.pages,
            self.charts,
            self.files,
            self.images,
        )
    }

    /// The record in `text`, if this program wrote it.
    fn parse(text: &str) -> Option<Record> {
        let mut lines = text.lines();
        if lines.next()? != format!("program {}", super::keys::PROGRAM_ID) {
            return None;
        }
        let inputs = u128::from_str_radix(lines.next()?.strip_prefix("inputs ")?, 16).ok()?;
        let site: Vec<usize> = lines
            .next()?
            .strip_prefix("site ")?
            .split(' ')
            .map(|n| n.parse().ok())
            .collect::<Option<_>>()?;
        let lists: Vec<Stamp> = lines
            .next()?
            .strip_prefix("lists ")?
            .split(' ')
            .map(|n| Stamp::from_str_radix(n, 16).ok())
            .collect::<Option<_>>()?;
        let (Ok([pages, charts, files, images]), Ok(lists), None) = (
            <[usize; 4]>::try_from(site),
            <[Stamp; 3]>::try_from(lists),
            lines.next(),
        ) else {
            return None;
        };
        Some(Record {
            inputs,
            pages,
            charts,
            files,
            images,
            lists,
        })
    }
}

/// The summary of the live site at `target` if it is already what a build of inputs
/// with the fingerprint `inputs` makes: the last build recorded that fingerprint, and
/// every file it wrote is still as it left it (its stamp). Looked at under the
/// output's lock, as a build looks at the previous site. `None` means: build.
pub(crate) fn already_built(target: &Path, inputs: u128) -> Result<Option<super::Summary>> {
    let shown = target;
    let target = resolve_target(target);
    let (parent, name) = beside(&target);
    let record_path = parent.join(format!(".{name}{RECORD}"));
    // The first build of an output takes no lock here: it has no record.
    if fs::symlink_metadata(&record_path).is_err() {
        return Ok(None);
    }
    let _lock = OutputLock::acquire(&parent, &name, shown)?;
    let stamps_path = parent.join(format!(".{name}{STAMPS}"));
    let record = read_own_file(&record_path)
        .ok()
        .flatten()
        .and_then(|text| Record::parse(&text));
    let Some(record) = record
        .filter(|r| r.inputs == inputs && list_stamps(&stamps_path, &target) == Some(r.lists))
    else {
        return Ok(None);
    };
    // Every output has a stamp; each is checked, and every folder on the way to it is
    // a real one, as a build checks the files it keeps.
    let stamps = read_stamps(&stamps_path);
    let (Some(dir), true) = (open_folder(&target), stamps.len() == record.files) else {
        return Ok(None);
    };
    let folders = folders_of(stamps.keys().map(String::as_str));
    // The stamps are checked while the folder is walked for anything else in it: the
    // walk is one folder after another, the checks spread over every core. The walk
    // also sees every folder for what it is: one replaced by a link counts as a file,
    // and its folders are not walked, so the counts differ.
    let (files, entries) = rayon::join(
        || {
            use rayon::prelude::*;
            stamps
                .par_iter()
                .map(|(rel, &stamp)| {
                    let (len, now) = stamp_of(rel, |r| stat_file(&dir, r))?;
                    (stamp != NO_STAMP && now == stamp).then(|| files_of(rel, len))
                })
                .sum::<Option<usize>>()
        },
        || entries_within(&target, stamps.len() * 3 + OWN_LISTS, folders.len()),
    );
    let intact = files.is_some_and(|files| entries == Some((files + OWN_LISTS, folders.len())));
    Ok(intact.then(|| super::Summary {
        pages: record.pages,
        charts: record.charts,
        files: record.files,
        images: record.images,
        reused: record.files,
        up_to_date: true,
        ..Default::default()
    }))
}

impl StagedSite {
    /// Locks the output, removes what killed builds left and opens a staging folder.
    pub(crate) fn create(target: &Path) -> Result<StagedSite> {
        let shown = target;
        let target = resolve_target(target);
        let (parent, name) = beside(&target);
        fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        let lock = OutputLock::acquire(&parent, &name, shown)?;
        // Holding the lock, any staging folder beside the target belongs to a build
        // that was killed before it could clean up. Only folders a build leaves are
        // removed (below): a folder someone named alike is left alone.
        let prefix = format!(".{name}.tmp-");
        if let Ok(entries) = fs::read_dir(&parent) {
            for e in entries.flatten() {
                // A real folder, not a link to one elsewhere, left by a build: marked,
                // or in the instants a build is killed without a mark, a site (the
                // staged one just before the swap, the swapped-out one just after) or
                // an empty folder (just made).
                let path = e.path();
                let left = path.join(STAGING_MARK).is_file()
                    || path.join(MANIFEST).is_file()
                    || fs::read_dir(&path).is_ok_and(|mut d| d.next().is_none());
                if e.file_name().to_string_lossy().starts_with(&prefix)
                    && e.file_type().is_ok_and(|t| t.is_dir())
                    && left
                {
                    let _ = remove_marked(&e.path());
                }
            }
        }
        let staging = tempfile::Builder::new()
            .prefix(&prefix)
            .tempdir_in(&parent)
            .map_err(|e| Error::io(&parent, e))?
            .keep();
        let mark = staging.join(STAGING_MARK);
        if let Err(e) = fs::write(&mark, b"") {
            let _ = fs::remove_dir_all(&staging);
            return Err(Error::io(&mark, e));
        }
        let previous = target.is_dir().then(|| target.to_path_buf());
        let stamps_path = parent.join(format!(".{name}{STAMPS}"));
        let previous_keys = match &previous {
            Some(p) => {
                let stamps = read_stamps(&stamps_path);
                read_manifest(p)
                    .into_iter()
                    .map(|(rel, key)| {
                        let stamp = stamps.get(&rel).copied().unwrap_or(NO_STAMP);
                        (rel, (key, stamp))
                    })
                    .collect()
            }
            None => Default::default(),
        };
        let previous_dir = previous.as_deref().and_then(open_folder);
        let cache_dir = parent.join(format!(".{name}.cache"));
        Ok(StagedSite {
            staging,
            previous_dir,
            previous,
            target,
            committed: false,
            stats: WriteStats::default(),
            previous_keys,
            stamps_path,
            record_path: parent.join(format!(".{name}{RECORD}")),
            previous_folders: Default::default(),
            damaged: AtomicUsize::new(0),
            keys: Default::default(),
            kept: Default::default(),
            placed: AtomicUsize::new(0),
            folders: Default::default(),
            cache: ImageCache::open(cache_dir.clone()),
            code: super::code_cache::CodeCache::open(&cache_dir),
            skipped_render: Default::default(),
            _lock: lock,
        })
    }

    /// How many files were kept from the previous build.
    pub(crate) fn reused(&self) -> usize {
        self.stats.reused.load(Ordering::Relaxed)
    }

    /// Writes the manifest and the list of fingerprinted files, then swaps the staged
    /// folder in for the target in one rename and removes the old one. When every
    /// output is the previous build's, nothing is written: the live site is this
    /// build's already.
    ///
    /// `inputs` is the fingerprint of the inputs this site was built from, taken before
    /// they were read (`None` when it could not be trusted): recorded with `summary`
    /// once the site is live, it lets the next build see it has nothing to do.
    pub(crate) fn commit(
        mut self,
        fingerprinted: &[String],
        inputs: Option<u128>,
        summary: &super::Summary,
    ) -> Result<()> {
        // Whatever happens next, the record must not outlive the site it describes.
        // (One that cannot be removed cannot mislead either: it names the stamps of
        // the live site's lists, which the swap replaces.)
        let _ = fs::remove_file(&self.record_path);
        let damaged = self.damaged.load(Ordering::Relaxed);
        if damaged > 0 {
            eprintln!(
                "{damaged} file(s) of the previous site in {} were changed since the last build left them (edited by hand, or by a build stopped midway?): written again",
                self.target.display()
            );
        }
        let mut keys = std::mem::take(&mut *self.keys.lock().expect("not poisoned"));
        keys.sort();
        let manifest = own_list(&keys, |_, key| key);
        let list: String = fingerprinted.iter().map(|p| format!("{p}\n")).collect();
        // Every kept file's stamp was checked: nothing placed means the stamps beside
        // the output are this site's too.
        if self.unchanged(&manifest, &list) {
            self.committed = true;
            remove_marked(&self.staging).map_err(|e| Error::io(&self.staging, e))?;
            self.cache.sweep();
            self.save_code();
            self.write_record(inputs, summary);
            return Ok(());
        }
        // The stamps must describe the live site: gone before it changes, and taken
        // once it is in place and the previous one removed (linking or unlinking a
        // kept file moves its change time). Stamps left by a failure here only cost
        // renders: the kept files' change times no longer match them.
        let _ = fs::remove_file(&self.stamps_path);
        let kept = std::mem::take(&mut *self.kept.lock().expect("not poisoned"));
        let kept = self.link_kept(kept)?;
        self.write_new(&self.staging.join(MANIFEST), manifest.as_bytes())?;
        self.write_new(&self.staging.join(IMMUTABLE_LIST), list.as_bytes())?;
        // The site's files as this build made them, while no one else can see them:
        // once live, anything may write them before the stamps are taken.
        let staged = self.staged_fields(&keys);
        let mark = self.staging.join(STAGING_MARK);
        fs::remove_file(&mark).map_err(|e| Error::io(&mark, e))?;
        if self.target.is_dir() {
            rustix::fs::renameat_with(
                rustix::fs::CWD,
                &self.staging,
                rustix::fs::CWD,
                &self.target,
                rustix::fs::RenameFlags::EXCHANGE,
            )
            .map_err(|e| Error::io(&self.target, e.into()))?;
            // `staging` now holds the previous site: marked, so that what a build
            // killed while removing it leaves is removed by the next.
            self.committed = true;
            let _ = fs::write(self.staging.join(STAGING_MARK), b"");
            remove_marked(&self.staging).map_err(|e| Error::io(&self.staging, e))?;
        } else {
            fs::rename(&self.staging, &self.target).map_err(|e| Error::io(&self.target, e))?;
            self.committed = true;
        }
        self.cache.sweep();
        self.save_code();
        self.write_stamps(&keys, &staged, &kept);
        self.write_record(inputs, summary);
        Ok(())
    }

    /// Saves the code blocks for the next build. When no file was kept unrendered (an
    /// output missing, empty, or all changed) every note was rendered, so every block
    /// the site has was looked up and the others can go.
    fn save_code(&self) {
        self.code.save(!self.skipped_render.load(Ordering::Relaxed));
    }

    /// Records what the live site (this build's, now) was built from. Like the
    /// stamps, the record only spares work: without it the next build does all of it.
    fn write_record(&self, inputs: Option<u128>, summary: &super::Summary) {
        let Some(inputs) = inputs else {
            return;
        };
        let Some(lists) = list_stamps(&self.stamps_path, &self.target) else {
            return;
        };
        let record = Record {
            inputs,
            pages: summary.pages,
            charts: summary.charts,
            files: summary.files,
            images: summary.images,
            lists,
        };
        if let Err(e) = self.replace_beside(&self.record_path, &record.render()) {
            eprintln!("{e}; not recorded, so the next build reads every input again");
        }
    }

    /// What a stamp keeps of each output's files in the staging folder, in `keys`' order
    /// (`None` where one cannot be seen).
    fn staged_fields(&self, keys: &[(String, u128)]) -> Vec<Option<Vec<StampFields>>> {
        use rayon::prelude::*;
        let Some(staging) = open_folder(&self.staging) else {
            return vec![None; keys.len()];
        };
        keys.par_iter()
            .map(|(rel, _)| {
                stats_of(rel, |r| stat_file(&staging, r))
                    .map(|files| files.iter().map(stamp_fields).collect())
            })
            .collect()
    }

    /// Writes the stamps of the live site's files (`keys`' paths) beside it, whole or
    /// not at all. Stamps only spare work, so failing to write them does not fail the
    /// build: the next build renders everything again.
    ///
    /// A stamp says "as this build left it", so a file written in the live site
    /// since the build made it or found it intact gets [`NO_STAMP`] and is made again
    /// by the next build: one it wrote must be as `staged`, one it kept as it was
    /// found (by inode, size and modification time: linking it, and removing the
    /// previous site's name for it, move its change time). Taken from the live site
    /// only because of that move.
    fn write_stamps(
        &self,
        keys: &[(String, u128)],
        staged: &[Option<Vec<StampFields>>],
        kept: &std::collections::HashMap<String, KeptAs>,
    ) {
        let Some(live) = open_folder(&self.target) else {
            return;
        };
        let stamps: Vec<Stamp> = {
            use rayon::prelude::*;
            keys.par_iter()
                .zip(staged)
                .map(|((rel, _), staged)| {
                    let (left, compared) = match (kept.get(rel), staged) {
                        (Some(KeptAs::Linked(found)), _) => (found, KEPT_FIELDS),
                        (Some(KeptAs::Copied) | None, Some(staged)) => (staged, ALL_FIELDS),
                        _ => return NO_STAMP,
                    };
                    stats_of(rel, |r| stat_file(&live, r))
                        .filter(|files| as_left(left, files, compared))
                        .map_or(NO_STAMP, |files| stamp_from(&files))
                })
                .collect()
        };
        let mut stamp = stamps.iter();
        let text = own_list(keys, |_, _| {
            u128::from(*stamp.next().expect("one stamp per output"))
        });
        if let Err(e) = self.replace_beside(&self.stamps_path, &text) {
            let _ = fs::remove_file(&self.stamps_path);
            eprintln!("{e}; not recorded, so the next build renders every file again");
        }
    }

    /// Replaces `path`, a file of this program's beside the output, with `text`: whole
    /// (written aside, then renamed over it) or not at all.
    fn replace_beside(&self, path: &Path, text: &str) -> Result<()> {
        let tmp = PathBuf::from(format!("{}.tmp", path.display()));
        let _ = fs::remove_file(&tmp);
        let written = self
            .write_new(&tmp, text.as_bytes())
            .and_then(|()| fs::rename(&tmp, path).map_err(|e| Error::io(path, e)));
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written
    }

    /// Whether this build's site is the live one already: nothing new was placed,
    /// the previous build recorded the same outputs with the same keys and the same
    /// immutable files, and the live folder holds nothing else ([`holds_only`]).
    fn unchanged(&self, manifest: &str, list: &str) -> bool {
        let Some(previous) = &self.previous else {
            return false;
        };
        let kept = self.kept.lock().expect("not poisoned");
        let outputs = kept
            .iter()
            .map(|(_, siblings, _)| if *siblings { 3 } else { 1 })
            .sum();
        self.placed.load(Ordering::Relaxed) == 0
            && read_own_file(&previous.join(MANIFEST)).is_ok_and(|m| m.as_deref() == Some(manifest))
            && read_own_file(&previous.join(IMMUTABLE_LIST))
                .is_ok_and(|l| l.as_deref() == Some(list))
            && holds_only(
                previous,
                outputs,
                folders_of(kept.iter().map(|(rel, _, _)| rel.as_str())).len(),
            )
    }

    /// Links the kept outputs from the previous build into the staging folder (or
    /// copies them, see [`link_or_copy`]). They were all there when the build looked;
    /// one gone since (removed by hand during the build) fails the build rather than
    /// publish a site without it. Says how each came in, for its stamp.
    fn link_kept(&self, kept: Vec<Kept>) -> Result<std::collections::HashMap<String, KeptAs>> {
        use rayon::prelude::*;
        let Some(previous) = &self.previous else {
            return Ok(Default::default());
        };
        kept.into_par_iter().map(|(rel, siblings, found)| {
            let dest = self.destination(&rel)?;
            let suffixes: &[&str] = if siblings {
                &["", ".gz", ".br"]
            } else {
                &[""]
            };
            let mut copied = false;
            for s in suffixes {
                let from = previous.join(format!("{rel}{s}"));
                copied |= !link_or_copy(&from, Path::new(&format!("{}{s}", dest.display()))).map_err(
                    |e| {
                        Error::in_file(
                            &from,
                            format!("cannot link or copy this file of the previous build into the new site: {e}"),
                        )
                    },
                )?;
            }
            let how = if !copied {
                KeptAs::Linked(found)
            } else if previous_dir_stats(previous, &rel)
                .is_some_and(|files| as_left(&found, &files, KEPT_FIELDS))
            {
                KeptAs::Copied
            } else {
                KeptAs::Spoiled
            };
            Ok((rel, how))
        })
        .collect()
    }

    /// Creates `path` and writes `bytes`; refuses a path that already exists, so a
    /// write never goes through a hard link shared with the live site.
    fn write_new(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        file.write_all(bytes).map_err(|e| Error::io(path, e))
    }

    /// Where `rel` goes in the staged folder, with its folder created.
    fn destination(&self, rel: &str) -> Result<PathBuf> {
        self.placed.fetch_add(1, Ordering::Relaxed);
        let dest = self.staging.join(rel);
        if let Some(dir) = dest.parent() {
            // Each folder once: a page per folder makes this most of a warm build's
            // system calls otherwise.
            if !self.folders.lock().expect("not poisoned").contains(dir) {
                fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                self.folders
                    .lock()
                    .expect("not poisoned")
                    .insert(dir.to_path_buf());
            }
        }
        Ok(dest)
    }

    /// Whether `dir` (a folder of the previous site, relative to it) and every folder
    /// above it are real folders, not links: a kept file is never reached through a
    /// link, which could lead out of the site.
    fn previous_folder_is_real(&self, dir: &str) -> bool {
        if dir.is_empty() {
            return true;
        }
        if let Some(&real) = self.previous_folders.lock().expect("not poisoned").get(dir) {
            return real;
        }
        let parent = dir.rsplit_once('/').map_or("", |(parent, _)| parent);
        let real = self.previous_folder_is_real(parent)
            && self.previous_dir.as_ref().is_some_and(|fd| {
                rustix::fs::statat(fd, dir, rustix::fs::AtFlags::SYMLINK_NOFOLLOW)
                    .is_ok_and(|s| rustix::fs::FileType::from_raw_mode(s.st_mode).is_dir())
            });
        self.previous_folders
            .lock()
            .expect("not poisoned")
            .insert(dir.to_string(), real);
        real
    }

    /// The stats of the previous build's `rel` and its siblings, if all are regular
    /// files reached without a link.
    fn previous_stats(&self, rel: &str) -> Option<Vec<rustix::fs::Stat>> {
        let fd = self.previous_dir.as_ref()?;
        let dir = rel.rsplit_once('/').map_or("", |(dir, _)| dir);
        if !self.previous_folder_is_real(dir) {
            return None;
        }
        stats_of(rel, |r| stat_file(fd, r))
    }

    /// Keeps the previous build's `rel` and its siblings if they are still as that
    /// build left them (the stamp its manifest recorded) and hold this build's bytes:
    /// recorded with `key`, unread, or else equal to `bytes` when given (a page whose
    /// inputs changed but not its text). A file recorded with `key` whose stamp
    /// differs was edited since, and is counted.
    fn keep_previous(&self, rel: &str, key: u128, bytes: Option<&[u8]>) -> bool {
        let Some(&(recorded_key, recorded_stamp)) = self.previous_keys.get(rel) else {
            return false;
        };
        let same_key = recorded_key == key;
        if !same_key && bytes.is_none() {
            return false;
        }
        let intact = self
            .previous_stats(rel)
            .filter(|files| stamp_from(files) == recorded_stamp);
        let Some(found) = intact else {
            // With no stamp recorded (none beside the output) nothing is known edited.
            if same_key && recorded_stamp != NO_STAMP {
                self.damaged.fetch_add(1, Ordering::Relaxed);
            }
            return false;
        };
        let len = found[0].st_size as u64;
        if let (false, Some(bytes), Some(previous)) = (same_key, bytes, &self.previous) {
            let same = len == bytes.len() as u64
                && fs::read(previous.join(rel)).is_ok_and(|old| old == bytes);
            if !same {
                return false;
            }
        }
        self.kept.lock().expect("not poisoned").push((
            rel.to_string(),
            has_siblings(rel, len),
            found.iter().map(stamp_fields).collect(),
        ));
        true
    }
}

impl Sink for StagedSite {
    fn code_block(&self, info: Option<&str>, code: &str) -> String {
        self.code.code_block(info, code)
    }

    fn put_keyed(&self, rel: &str, key: u128, render: &dyn Fn() -> Result<Vec<u8>>) -> Result<()> {
        if self.reuse_keyed(rel, key)? {
            return Ok(());
        }
        if let Some(entry) = ImageCache::entry(rel, key) {
            let dest = self.destination(rel)?;
            if self.cache.take(&entry, &dest) {
                self.stats.reused.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            self.write_new(&dest, &render()?)?;
            self.cache.keep(&entry, &dest);
            return Ok(());
        }
        self.write_compressed(rel, &render()?, Effort::Normal)
    }

    fn put_streamed(&self, rel: &str, key: u128, write: &StreamFn<'_>) -> Result<()> {
        if self.reuse_keyed(rel, key)? {
            return Ok(());
        }
        self.write_streamed(rel, write)
    }

    fn put_archive_keyed(
        &self,
        rel: &str,
        key: u128,
        render: &dyn Fn() -> Result<Vec<u8>>,
    ) -> Result<()> {
        if self.reuse_keyed(rel, key)? {
            return Ok(());
        }
        self.write_compressed(rel, &render()?, Effort::Archive)
    }

    fn put(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        self.keys
            .lock()
            .expect("not poisoned")
            .push((rel.to_string(), content_key(bytes)));
        self.write_compressed(rel, bytes, Effort::Normal)
    }
}

/// How hard to compress a file's `.gz` and `.br` siblings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effort {
    /// By the file's size: see [`gzip`] and [`brotli`].
    Normal,
    /// The fast levels from [`SMALL_FILE`] (gzip 1, Brotli 2): on a 100 KB year page
    /// 14% larger than [`Effort::Normal`] for a fraction of the time. A
    /// 1,000,000-row dataset has 2,738 year pages (292 MB of HTML) compressed twice.
    /// Below that size Brotli 2 can come out larger than gzip 1 (a year of a few
    /// decisions is mostly the page around it), and Brotli 4 costs little there.
    Archive,
}

impl StagedSite {
    fn write_compressed(&self, rel: &str, bytes: &[u8], effort: Effort) -> Result<()> {
        debug_assert!(!rel.starts_with('/') && !rel.contains(".."), "{rel}");
        if self.keep_previous(rel, content_key(bytes), Some(bytes)) {
            self.stats.reused.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let dest = self.destination(rel)?;
        self.write_new(&dest, bytes)?;
        if crate::media::is_compressible(rel) && bytes.len() >= MIN_COMPRESS_BYTES {
            // Side by side: a large page (a 100,000-row table) is otherwise the longest
            // serial step of a cold build.
            let write = |suffix: &str, compress: fn(&[u8], Effort) -> Vec<u8>| {
                let path = PathBuf::from(format!("{}{suffix}", dest.display()));
                self.write_new(&path, &compress(bytes, effort))
            };
            let (gz, br) = rayon::join(|| write(".gz", gzip), || write(".br", brotli));
            gz?;
            br?;
        }
        Ok(())
    }
}

impl StagedSite {
    /// Records `rel`'s key and, when the previous build wrote it with the same key
    /// and it is intact, keeps its files. Whether it did.
    fn reuse_keyed(&self, rel: &str, key: u128) -> Result<bool> {
        self.keys
            .lock()
            .expect("not poisoned")
            .push((rel.to_string(), key));
        if !self.keep_previous(rel, key, None) {
            return Ok(false);
        }
        self.skipped_render.store(true, Ordering::Relaxed);
        self.stats.reused.fetch_add(1, Ordering::Relaxed);
        if let (Some(entry), Some(previous)) = (ImageCache::entry(rel, key), &self.previous) {
            self.cache.hold(&entry, &previous.join(rel));
        }
        Ok(true)
    }

    /// Writes a streamed file and its compressed siblings a piece at a time: each
    /// [`STREAM_CHUNK`] goes to the file and, side by side, to gzip and Brotli, so
    /// memory stays a few pieces whatever the file's size. A file smaller than one
    /// piece is written as `put` writes it.
    fn write_streamed(&self, rel: &str, write: &StreamFn<'_>) -> Result<()> {
        let dest = self.destination(rel)?;
        let mut out = Streamed {
            site: self,
            rel,
            dest: &dest,
            buffer: Vec::with_capacity(STREAM_CHUNK),
            files: None,
        };
        write(&mut out).map_err(|e| Error::io(&dest, e))?;
        out.finish()
    }
}

/// Bytes gathered before a streamed file's piece is written and compressed: large
/// enough that handing each piece to two compressors side by side costs nothing
/// measurable, small enough that a 50 MB download never sits in memory.
const STREAM_CHUNK: usize = 1 << 20;

/// A streamed file being written: the pending piece and, once the first full piece
/// is out, the file and its compressed siblings.
struct Streamed<'a> {
    site: &'a StagedSite,
    rel: &'a str,
    dest: &'a Path,
    buffer: Vec<u8>,
    files: Option<StreamedFiles>,
}

struct StreamedFiles {
    plain: fs::File,
    compressed: Option<(GzSibling, BrSibling)>,
}

type GzSibling = flate2::write::GzEncoder<Recording<fs::File>>;
type BrSibling = brotlic::CompressorWriter<Recording<fs::File>>;

/// Hard-links `from` to the new path `to`, or copies it where the file system will not
/// link (vfat, some network mounts, `protected_hardlinks`), as the image cache does: a
/// build after an edit must not fail only because the output cannot hold links. The
/// copy is a new file, so nothing is written through the live site's inodes.
/// Whether it linked.
fn link_or_copy(from: &Path, to: &Path) -> std::io::Result<bool> {
    if fs::hard_link(from, to).is_ok() {
        return Ok(true);
    }
    let mut source = fs::File::open(from)?;
    let mut target = create_new(to)?;
    std::io::copy(&mut source, &mut target).map(|_| false)
}

/// The stats of the previous site's `rel` and its siblings, looked up by path (as
/// they were copied).
fn previous_dir_stats(previous: &Path, rel: &str) -> Option<Vec<rustix::fs::Stat>> {
    stats_of(rel, |r| {
        let stat = rustix::fs::lstat(previous.join(r)).ok()?;
        rustix::fs::FileType::from_raw_mode(stat.st_mode)
            .is_file()
            .then_some(stat)
    })
}

/// Creates `path`, refusing one that exists (see [`StagedSite::write_new`]).
fn create_new(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

impl Streamed<'_> {
    /// Writes the pending piece, opening the files first if this is the first one.
    fn flush_piece(&mut self) -> std::io::Result<()> {
        if self.files.is_none() {
            let plain = create_new(self.dest)?;
            let compressed = if crate::media::is_compressible(self.rel) {
                let sibling = |suffix: &str| {
                    let path = PathBuf::from(format!("{}{suffix}", self.dest.display()));
                    create_new(&path).map(|file| Recording {
                        file,
                        path,
                        error: None,
                    })
                };
                // A streamed file is at least a piece (1 MiB): the levels for large
                // files, in zlib (libdeflate has no streaming interface).
                let gz = flate2::write::GzEncoder::new(
                    sibling(".gz")?,
                    flate2::Compression::new(STREAMED_GZIP_LEVEL),
                );
                let encoder = brotlic::BrotliEncoderOptions::new()
                    .quality(brotlic::Quality::new(LARGE_BROTLI_QUALITY).expect("a valid quality"))
                    .window_size(
                        brotlic::WindowSize::new(BROTLI_WINDOW as u8).expect("a valid window"),
                    )
                    .build()
                    .map_err(std::io::Error::other)?;
                let br = brotlic::CompressorWriter::with_encoder(encoder, sibling(".br")?);
                Some((gz, br))
            } else {
                None
            };
            self.files = Some(StreamedFiles { plain, compressed });
        }
        let files = self.files.as_mut().expect("opened above");
        let piece = &self.buffer[..];
        files.plain.write_all(piece)?;
        if let Some((gz, br)) = &mut files.compressed {
            let (a, b) = rayon::join(|| gz.write_all(piece), || br.write_all(piece));
            a?;
            b?;
        }
        self.buffer.clear();
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        if self.files.is_none() {
            // Under one piece: written (and compressed, or not) as any other file.
            return self
                .site
                .write_compressed(self.rel, &self.buffer, Effort::Normal);
        }
        let dest = self.dest;
        let failed = |e: std::io::Error| Error::io(dest, e);
        self.flush_piece().map_err(failed)?;
        let files = self.files.take().expect("opened");
        if let Some((gz, br)) = files.compressed {
            gz.finish().map_err(failed)?.done()?;
            br.into_inner()
                .map_err(|e| failed(std::io::Error::other(e.to_string())))?
                .done()?;
        }
        Ok(())
    }
}

impl Write for Streamed<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= STREAM_CHUNK {
            self.flush_piece()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A compressed sibling's file, keeping the first write error for an encoder that
/// drops it.
struct Recording<W> {
    file: W,
    path: PathBuf,
    error: Option<std::io::Error>,
}

impl<W> Recording<W> {
    fn done(self) -> Result<()> {
        match self.error {
            None => Ok(()),
            Some(e) => Err(Error::io(&self.path, e)),
        }
    }
}

impl<W: Write> Write for Recording<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.file.write(bytes).inspect_err(|e| {
            self.error
                .get_or_insert_with(|| std::io::Error::new(e.kind(), e.to_string()));
        })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// `remove_dir_all`, with the entries of each folder removed side by side: the old
/// site has a folder per page, and removing it is most of a warm build's time.
fn remove_tree(dir: &Path) -> std::io::Result<()> {
    use rayon::iter::{ParallelBridge, ParallelIterator};
    fs::read_dir(dir)?.par_bridge().try_for_each(|entry| {
        let entry = entry?;
        // The entry itself, never what a link points to.
        if entry.file_type()?.is_dir() {
            remove_tree(&entry.path())
        } else {
            fs::remove_file(entry.path())
        }
    })?;
    fs::remove_dir(dir)
}

/// Removes a staging folder (or the previous site, swapped out to its name) with its
/// [`STAGING_MARK`] last: a build killed midway leaves a folder that still carries the
/// mark, which the next build removes. Removed first, it left folders no build would
/// ever remove.
fn remove_marked(dir: &Path) -> std::io::Result<()> {
    use rayon::iter::{ParallelBridge, ParallelIterator};
    fs::read_dir(dir)?.par_bridge().try_for_each(|entry| {
        let entry = entry?;
        if entry.file_name() == STAGING_MARK {
            Ok(())
        } else if entry.file_type()?.is_dir() {
            remove_tree(&entry.path())
        } else {
            fs::remove_file(entry.path())
        }
    })?;
    match fs::remove_file(dir.join(STAGING_MARK)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    fs::remove_dir(dir)
}

impl Drop for StagedSite {
    fn drop(&mut self) {
        if !self.committed {
            let _ = remove_marked(&self.staging);
        }
    }
}

/// A list this program reads back with [`read_own_list`]: the program, then each
/// output's value and path, in `keys`' order.
fn own_list(keys: &[(String, u128)], mut value: impl FnMut(&str, u128) -> u128) -> String {
    let mut text = format!("program {}\n", super::keys::PROGRAM_ID);
    for (path, key) in keys {
        text.push_str(&format!("{:032x} {path}\n", value(path, *key)));
    }
    text
}

/// A non-keyed output's entry in the manifest: a hash of its bytes, so that equal
/// manifests mean equal sites.
fn content_key(bytes: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(bytes)
}

/// The previous build's keys, if the same program wrote them; otherwise none, so
/// every file is rendered again.
fn read_manifest(dir: &Path) -> std::collections::HashMap<String, u128> {
    read_own_list(&dir.join(MANIFEST), |key| {
        u128::from_str_radix(key, 16).ok()
    })
}

/// The stamps of the previous build's outputs, from beside the output.
fn read_stamps(path: &Path) -> std::collections::HashMap<String, Stamp> {
    read_own_list(path, |stamp| Stamp::from_str_radix(stamp, 16).ok())
}

/// A list this program writes (the manifest, the stamps): its first line names the
/// program, then `<value> <path>` a line. Nothing from another program, a list that
/// cannot be read (said on stderr), or a path listed twice, is trusted.
fn read_own_list<T>(
    path: &Path,
    parse: impl Fn(&str) -> Option<T>,
) -> std::collections::HashMap<String, T> {
    let text = match read_own_file(path) {
        Ok(Some(text)) => text,
        Ok(None) => return Default::default(),
        Err(why) => {
            eprintln!(
                "{}: {why}; ignored, so every file is rendered again",
                path.display()
            );
            return Default::default();
        }
    };
    let mut lines = text.lines();
    if lines.next() != Some(&format!("program {}", super::keys::PROGRAM_ID)) {
        return Default::default();
    }
    let mut values = std::collections::HashMap::new();
    let mut twice = std::collections::HashSet::new();
    for line in lines {
        let Some((value, rel)) = line.split_once(' ') else {
            continue;
        };
        let Some(value) = parse(value) else {
            continue;
        };
        if values.insert(rel.to_string(), value).is_some() {
            twice.insert(rel.to_string());
        }
    }
    for rel in twice {
        values.remove(&rel);
    }
    values
}

/// One of the build's own files in the previous site (the manifest, the immutable
/// list, the stamps) as text, read as [`crate::own_file::read`] reads: `None` when there
/// is none.
fn read_own_file(path: &Path) -> std::result::Result<Option<String>, String> {
    match crate::own_file::read(path) {
        Ok(None) => Ok(None),
        Ok(Some(bytes)) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| "not UTF-8, so not this program's".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// `path`, a folder, opened to look files up from (a few path components each instead
/// of the whole path); a link there is not followed.
fn open_folder(path: &Path) -> Option<rustix::fd::OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    rustix::fs::open(
        path,
        OFlags::DIRECTORY | OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()
}

/// The stat of the regular file `rel` under `dir`, the last component not followed
/// if it is a link.
fn stat_file(dir: &rustix::fd::OwnedFd, rel: &str) -> Option<rustix::fs::Stat> {
    let stat = rustix::fs::statat(dir, rel, rustix::fs::AtFlags::SYMLINK_NOFOLLOW).ok()?;
    rustix::fs::FileType::from_raw_mode(stat.st_mode)
        .is_file()
        .then_some(stat)
}

/// Whether a file of `len` bytes at `rel` has `.gz` and `.br` siblings.
fn has_siblings(rel: &str, len: u64) -> bool {
    crate::media::is_compressible(rel) && len >= MIN_COMPRESS_BYTES as u64
}

/// The [`Stamp`] of `rel` under `dir`, with its length, if it and every sibling it
/// should have are regular files. `stat` looks a path up.
fn stamp_of(rel: &str, stat: impl Fn(&str) -> Option<rustix::fs::Stat>) -> Option<(u64, Stamp)> {
    let files = stats_of(rel, stat)?;
    Some((files[0].st_size as u64, stamp_from(&files)))
}

/// The [`Stamp`] of an output's files: the file, then its siblings.
fn stamp_from(files: &[rustix::fs::Stat]) -> Stamp {
    let mut hash = xxhash_rust::xxh3::Xxh3::new();
    for file in files {
        add_to_stamp(&mut hash, file);
    }
    // Never NO_STAMP, which means "could not stat".
    hash.digest().max(1)
}

/// The stats of `rel` and of every sibling it should have, if all are regular files.
fn stats_of(
    rel: &str,
    stat: impl Fn(&str) -> Option<rustix::fs::Stat>,
) -> Option<Vec<rustix::fs::Stat>> {
    let page = stat(rel)?;
    let mut files = vec![page];
    if has_siblings(rel, page.st_size as u64) {
        for suffix in [".gz", ".br"] {
            files.push(stat(&format!("{rel}{suffix}"))?);
        }
    }
    Some(files)
}

/// What a [`Stamp`] keeps of a file (inode, size, modification and change times).
type StampFields = [u64; 6];

fn stamp_fields(s: &rustix::fs::Stat) -> StampFields {
    [
        s.st_ino,
        s.st_size as u64,
        s.st_mtime as u64,
        s.st_mtime_nsec,
        s.st_ctime as u64,
        s.st_ctime_nsec,
    ]
}

/// All of [`StampFields`]; the first [`KEPT_FIELDS`] are the inode, size and
/// modification time, all a hard-linked file keeps: linking and unlinking it move its
/// change time.
const ALL_FIELDS: usize = 6;
const KEPT_FIELDS: usize = 4;

/// Whether an output's files, as they are `now`, are as the build `left` them, by
/// their first `compared` fields. Only an in-place rewrite of a kept file to the same
/// size with its modification time put back, between the build finding it intact
/// and taking the stamps, passes unseen.
fn as_left(left: &[StampFields], now: &[rustix::fs::Stat], compared: usize) -> bool {
    left.len() == now.len()
        && left
            .iter()
            .zip(now)
            .all(|(left, now)| left[..compared] == stamp_fields(now)[..compared])
}

/// How many files an output of `len` bytes at `rel` is: itself, and its siblings.
fn files_of(rel: &str, len: u64) -> usize {
    if has_siblings(rel, len) {
        3
    } else {
        1
    }
}

/// The folders the outputs `rels` are in (every folder on the way), but the site's.
fn folders_of<'a>(rels: impl Iterator<Item = &'a str>) -> std::collections::HashSet<&'a str> {
    rels.flat_map(|rel| rel.match_indices('/').map(|(end, _)| &rel[..end]))
        .collect()
}

/// The lists a build writes into the site besides its outputs: the manifest and the
/// immutable list.
const OWN_LISTS: usize = 2;

/// Whether the site at `site` holds nothing but `outputs` files (the outputs with
/// their siblings, all known to be there) and its two lists, in `folders` folders. A
/// file added to the live site by hand is served like the others, and no build of
/// the inputs makes it: a site that has one is not up to date, nor kept as it is.
fn holds_only(site: &Path, outputs: usize, folders: usize) -> bool {
    entries_within(site, outputs + OWN_LISTS, folders) == Some((outputs + OWN_LISTS, folders))
}

/// How many files and folders `site` holds, if at most `files` and `folders`: the
/// walk stops at the first entry too many, so a big tree added by hand is not walked.
fn entries_within(site: &Path, files: usize, folders: usize) -> Option<(usize, usize)> {
    let (mut seen_files, mut seen_folders) = (0, 0);
    // Links are entries like files, never followed.
    for entry in walkdir::WalkDir::new(site).min_depth(1) {
        if entry.ok()?.file_type().is_dir() {
            seen_folders += 1;
        } else {
            seen_files += 1;
        }
        if seen_files > files || seen_folders > folders {
            return None;
        }
    }
    Some((seen_files, seen_folders))
}

/// Adds what a [`Stamp`] keeps of a file to it.
fn add_to_stamp(hash: &mut xxhash_rust::xxh3::Xxh3, s: &rustix::fs::Stat) {
    // The change time too: a file rewritten in place to the same length with its
    // modification time put back (`cp -p`) keeps its inode, size and mtime.
    for field in stamp_fields(s) {
        hash.update(&field.to_le_bytes());
    }
}

/// The stamps of the lists that say what the live site's files are: the stamps beside
/// it, and its manifest and immutable list. `None` if one is not a regular file.
fn list_stamps(stamps: &Path, site: &Path) -> Option<[Stamp; 3]> {
    let stamp = |path: &Path| {
        let stat = rustix::fs::lstat(path).ok()?;
        rustix::fs::FileType::from_raw_mode(stat.st_mode)
            .is_file()
            .then(|| {
                let mut hash = xxhash_rust::xxh3::Xxh3::new();
                add_to_stamp(&mut hash, &stat);
                hash.digest().max(1)
            })
    };
    Some([
        stamp(stamps)?,
        stamp(&site.join(MANIFEST))?,
        stamp(&site.join(IMMUTABLE_LIST))?,
    ])
}

/// gzip by libdeflate: at each level about twice zlib's speed, and smaller at level 6.
/// Below [`SMALL_FILE`] level 1 is within 3% of level 6 (a page's text repeats
/// little) at half the cost, so a small page takes level 1 and a large one level 6.
/// Browsers take the `.br` sibling when they can: this one is the fallback.
pub(crate) fn gzip(bytes: &[u8], effort: Effort) -> Vec<u8> {
    use libdeflater::{CompressionLvl, Compressor};
    thread_local! {
        // A compressor holds ~0.5 MB of tables: one per thread and level, reused.
        static COMPRESSORS: std::cell::RefCell<[Option<Compressor>; 2]> =
            const { std::cell::RefCell::new([None, None]) };
    }
    let (slot, level) = if bytes.len() < SMALL_FILE || effort == Effort::Archive {
        (0, 1)
    } else {
        (1, GZIP_LEVEL)
    };
    COMPRESSORS.with_borrow_mut(|compressors| {
        let compressor = compressors[slot].get_or_insert_with(|| {
            Compressor::new(CompressionLvl::new(level).expect("1 and 6 are valid levels"))
        });
        into_scratch(compressor.gzip_compress_bound(bytes.len()), |out| {
            compressor
                .gzip_compress(bytes, out)
                .expect("the output holds the bound")
        })
    })
}

/// Most bytes of scratch space a thread keeps between files: a page's bound, not a
/// whole dataset's download.
const SCRATCH_KEPT: usize = 4 << 20;

/// Runs `compress` on a scratch buffer of `bound` bytes and returns the `n` bytes it
/// wrote. The buffer is the thread's, reused: a fresh zeroed buffer of the bound for
/// each of a build's thousands of files cost more clearing memory than a page's
/// compression saves by not copying its result.
fn into_scratch(bound: usize, compress: impl FnOnce(&mut [u8]) -> usize) -> Vec<u8> {
    thread_local! {
        static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    SCRATCH.with_borrow_mut(|scratch| {
        if scratch.len() < bound {
            scratch.resize(bound, 0);
        }
        let n = compress(&mut scratch[..bound]);
        let out = scratch[..n].to_vec();
        if scratch.len() > SCRATCH_KEPT {
            *scratch = Vec::new();
        }
        out
    })
}

/// Brotli at [`BROTLI_QUALITY`]; at [`LARGE_FILE`] and beyond (a download of a
/// whole dataset) quality 2, which on such files is as small and three times faster,
/// so one big file does not become the build's longest serial step.
///
/// By the reference C encoder (`brotlic`, built in by cc like libdeflate): on the
/// 2,000-note bench corpus's 2,369 pages it takes three quarters of the `brotli`
/// crate's time at the same quality and window, for the same size (26.3 → 6.7 MiB
/// either way). Quality 3 would take a quarter less again but is 6% larger, and
/// quality 5 is 7% smaller for 1.5× the time.
pub(crate) fn brotli(bytes: &[u8], effort: Effort) -> Vec<u8> {
    // A window no larger than the input: a 4 MiB window allocated and cleared for
    // every 10 KB page costs more than the compression itself.
    let fits = (usize::BITS - bytes.len().max(1).leading_zeros()).clamp(10, BROTLI_WINDOW);
    let quality =
        if bytes.len() >= LARGE_FILE || (effort == Effort::Archive && bytes.len() >= SMALL_FILE) {
            LARGE_BROTLI_QUALITY
        } else {
            BROTLI_QUALITY
        };
    let quality = brotlic::Quality::new(quality).expect("2 and 4 are valid qualities");
    let window = brotlic::WindowSize::new(fits as u8).expect("clamped to 10..=22");
    let bound = brotlic::compress_bound(bytes.len(), quality).expect("quality >= 2");
    into_scratch(bound, |out| {
        brotlic::compress(
            bytes,
            out,
            quality,
            window,
            brotlic::CompressionMode::Generic,
        )
        .expect("the output holds the bound")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record {
            inputs: 0x0123_4567_89ab_cdef_0011_2233_4455_6677,
            pages: 20,
            charts: 6,
            files: 54,
            images: 0,
            lists: [1, u64::MAX, 0x42],
        }
    }

    #[test]
    fn a_record_reads_back_and_nothing_else_passes_for_one() {
        let text = record().render();
        assert_eq!(Record::parse(&text), Some(record()));
        let truncated = text.lines().take(3).collect::<Vec<_>>().join("\n");
        for bad in [
            String::new(),
            truncated,
            text.replacen("program ", "program 0", 1),
            text.replace("site 20 6 54 0", "site 20 6 54"),
            text.replace("site 20", "site -20"),
            text.replace("lists 0000000000000001", "lists"),
            format!("{text}one line too many\n"),
            text.replace("inputs ", "inputs z"),
        ] {
            assert_eq!(Record::parse(&bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_read_as_a_record_never_panics(text in "(?s).{0,300}") {
            let _ = Record::parse(&text);
            let _ = Record::parse(&format!("program {}\ninputs {text}", super::super::keys::PROGRAM_ID));
        }
    }

    #[test]
    fn failed_build_leaves_nothing_and_commit_swaps() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("public");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("old.html"), "old").unwrap();
        {
            let staged = StagedSite::create(&target).unwrap();
            staged.put("new.html", b"new").unwrap();
        } // dropped without commit
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, [".public.lock", "public"]);
        assert!(target.join("old.html").exists());

        let page = "x".repeat(2000);
        let staged = StagedSite::create(&target).unwrap();
        staged.put("a/index.html", page.as_bytes()).unwrap();
        staged.commit(&[], None, &Default::default()).unwrap();
        assert!(!target.join("old.html").exists());
        assert!(target.join("a/index.html.gz").exists() && target.join("a/index.html.br").exists());

        let staged = StagedSite::create(&target).unwrap();
        staged.put("a/index.html", page.as_bytes()).unwrap();
        assert_eq!(staged.stats.reused.load(Ordering::Relaxed), 1);
        staged.commit(&[], None, &Default::default()).unwrap();
        assert_eq!(
            fs::read(target.join("a/index.html")).unwrap(),
            page.as_bytes()
        );
    }

    #[test]
    fn siblings_decode_to_the_same_bytes_at_every_size_and_effort() {
        use std::io::Read;
        for len in [600, SMALL_FILE - 1, SMALL_FILE, 200_000, LARGE_FILE + 1] {
            let text: Vec<u8> = (0..len)
                .map(|i| b"<tr><td>64.25</td></tr>\n"[i % 24] ^ (i / 977) as u8 & 1)
                .collect();
            for effort in [Effort::Normal, Effort::Archive] {
                let mut unzipped = Vec::new();
                flate2::read::GzDecoder::new(&gzip(&text, effort)[..])
                    .read_to_end(&mut unzipped)
                    .unwrap();
                assert!(unzipped == text, "gzip {len} {effort:?}");
                let mut unbrotlied = Vec::new();
                brotli::BrotliDecompress(&mut &brotli(&text, effort)[..], &mut unbrotlied).unwrap();
                assert!(unbrotlied == text, "brotli {len} {effort:?}");
            }
        }
    }
}
