//! A folder of files ready to send: body (in memory, or on disk for big files),
//! precompressed variants, content type, strong ETags, Last-Modified and cache class,
//! all computed once at start-up. Small files are read into memory (up to a budget);
//! bigger ones stay on disk and are streamed, so a large folder costs file handles
//! while they are sent, not RAM. The server can only ever send what was under the
//! folder when it was loaded, and nothing whose real location is a dotfile.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::HeaderValue;
use bytes::Bytes;
use futures_util::Stream;
use http_body::{Frame, SizeHint};

use super::policy::{CacheClass, CachePolicy, PAGE_CSP, SVG_CSP};
use crate::media;

/// Written by the build: one site-relative path per line, naming exactly the
/// fingerprinted files (whose name changes when their content does). Only those, and
/// their `.gz`/`.br` siblings, are cached as immutable.
pub(crate) const IMMUTABLE_LIST: &str = ".petrol-watch-immutable";
/// Written by the build when notes have old addresses: one redirect per line, the old
/// site path, a space, the new one. Answered with 301 before any file.
pub(crate) const REDIRECT_LIST: &str = ".petrol-watch-redirects";
/// Redirects read at most: each is a note's alias, so a site has a few.
pub(crate) const MAX_REDIRECTS: usize = 100_000;

#[derive(Debug, thiserror::Error)]
pub(crate) enum LoadError {
    #[error("{}: no such folder (run `petrol-watch build` first?)", .0.display())]
    MissingDir(PathBuf),
    #[error("{}: no index.html in the folder; is it a built site?", .0.display())]
    NoIndex(PathBuf),
    #[error("{}: replaced by another folder during each of {} loads (a build swapping it in a loop?)", .0.display(), .1)]
    KeptChanging(PathBuf, usize),
    /// The cause is in the message, not a `source`: with both, the error chain
    /// printed at start-up said it twice.
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}:{line}: expected a site-relative path in UTF-8 (one per line)", path.display())]
    BadImmutableList { path: PathBuf, line: usize },
    #[error("{}:{line}: {why} (want `/old/path/ /new/path/`, one redirect per line)", path.display())]
    BadRedirectList {
        path: PathBuf,
        line: usize,
        why: String,
    },
}

/// Where a representation's bytes are.
#[derive(Debug, Clone)]
pub(crate) enum Stored {
    Memory(Bytes),
    /// Opened per request; `modified` and the length must still match, else the file
    /// was replaced after start-up and is not sent under the old validators.
    Disk {
        path: PathBuf,
        modified: SystemTime,
    },
}

/// One stored representation of a file.
#[derive(Debug, Clone)]
pub(crate) struct Variant {
    pub(crate) body: Stored,
    pub(crate) len: u64,
    /// Strong, quoted: `"…"`.
    pub(crate) etag: HeaderValue,
    /// The same ETag parsed once, for comparing with `If-None-Match` and `If-Range`.
    pub(crate) typed_etag: headers::ETag,
}
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) content_type: HeaderValue,
    pub(crate) cache_control: HeaderValue,
    pub(crate) csp: HeaderValue,
    pub(crate) last_modified: HeaderValue,
    /// Whole seconds, as HTTP dates carry them, for `If-Modified-Since`.
    pub(crate) modified: SystemTime,
    pub(crate) identity: Variant,
    pub(crate) gzip: Option<Variant>,
    pub(crate) brotli: Option<Variant>,
    /// Sent with `Vary: Accept-Encoding`: the type is compressible.
    pub(crate) compressible: bool,
    pub(crate) cors: bool,
}

/// How to load: the normal server sends files as they are; `dev` injects its reload
/// script into pages (and so cannot use the precompressed siblings).
#[derive(Debug, Clone, Default)]
pub(crate) struct LoadOptions {
    pub(crate) inject_before_body_end: Option<String>,
    /// A Content-Security-Policy for pages other than the default (dev allows its script).
    pub(crate) page_csp: Option<&'static str>,
    pub(crate) memory: MemoryBudget,
}

/// Which files are kept in memory: each at most `max_file` bytes, all together at most
/// `total` (smallest first). Everything else is streamed from disk.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MemoryBudget {
    pub(crate) max_file: u64,
    pub(crate) total: u64,
}

impl Default for MemoryBudget {
    fn default() -> Self {
        MemoryBudget {
            max_file: 1024 * 1024,
            total: 64 * 1024 * 1024,
        }
    }
}

#[derive(Debug)]
pub(crate) struct StaticSite {
    files: HashMap<String, Entry>,
    /// Old path → new path, from the build's redirect list.
    redirects: HashMap<String, HeaderValue>,
    memory_bytes: u64,
    disk_files: usize,
    disk_bytes: u64,
}

/// A file found under the folder, before it becomes an [`Entry`].
struct Found {
    /// Where it is served from (and checked again, if it stays on disk).
    real: PathBuf,
    /// Where it is read at load: through the folder held open (see `load_once`).
    read_from: PathBuf,
    len: u64,
    modified: SystemTime,
    data: Option<Bytes>,
}

/// How many times a load is tried while the folder keeps being replaced under it.
const LOAD_ATTEMPTS: usize = 5;

/// Which folder `dir` is right now (device and inode, through links): a build swaps
/// a new site in by renaming a new folder into its place.
fn folder_identity(dir: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(dir).ok().map(|m| (m.dev(), m.ino()))
}

impl StaticSite {
    /// Loads the site in `dir`, all of it from one build: a load that a swap went
    /// through (the folder at `dir` is another one when it ends) could pair one
    /// build's page with the other's `.br`, so it is done again.
    pub(crate) fn load(
        dir: &Path,
        policy: &CachePolicy,
        options: &LoadOptions,
    ) -> Result<StaticSite, LoadError> {
        for _ in 0..LOAD_ATTEMPTS {
            let before = folder_identity(dir);
            let loaded = Self::load_once(dir, policy, options);
            if before.is_none() || folder_identity(dir) == before {
                return loaded;
            }
        }
        Err(LoadError::KeptChanging(dir.to_path_buf(), LOAD_ATTEMPTS))
    }

    fn load_once(
        dir: &Path,
        policy: &CachePolicy,
        options: &LoadOptions,
    ) -> Result<StaticSite, LoadError> {
        if !dir.is_dir() {
            return Err(LoadError::MissingDir(dir.to_path_buf()));
        }
        let root = dir.canonicalize().map_err(|e| LoadError::Io {
            path: dir.to_path_buf(),
            error: e,
        })?;
        // The folder, held open: everything is read through it (`/proc/self/fd/N/…`),
        // so swaps during the load (even two that put this folder back, which `load`
        // cannot see) never mix two builds' files. Without /proc, by path.
        let pinned = std::fs::File::open(&root).map_err(|e| LoadError::Io {
            path: root.clone(),
            error: e,
        })?;
        let base = {
            use std::os::fd::AsRawFd;
            let through = PathBuf::from(format!("/proc/self/fd/{}", pinned.as_raw_fd()));
            if through.is_dir() {
                through
            } else {
                root.clone()
            }
        };
        let immutable = read_immutable_list(&base, &root)?;
        let redirects = read_redirect_list(&base, &root)?;
        let mut found: HashMap<String, Found> = HashMap::new();
        let walker = walkdir::WalkDir::new(&base)
            .follow_links(false)
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
        for entry in walker {
            let entry = entry.map_err(|e| LoadError::Io {
                path: root.clone(),
                error: e.into(),
            })?;
            let path = entry.path();
            let rel = path.strip_prefix(&base).expect("walked under the folder");
            let Some(rel) = rel.to_str() else { continue };
            let (real, read_from) = if entry.path_is_symlink() {
                // Follow a link only to a file inside the folder that is not itself a
                // dotfile or inside a dot-folder (`.env`, `.git/config`).
                match path.canonicalize() {
                    Ok(target) if target.is_file() && is_servable_target(&root, &target) => {
                        (target.clone(), target)
                    }
                    _ => continue,
                }
            } else if entry.file_type().is_file() {
                (root.join(rel), path.to_path_buf())
            } else {
                continue;
            };
            let meta = std::fs::metadata(&read_from).map_err(|e| LoadError::Io {
                path: real.clone(),
                error: e,
            })?;
            found.insert(
                format!("/{rel}"),
                Found {
                    real,
                    read_from,
                    len: meta.len(),
                    modified: meta.modified().unwrap_or(UNIX_EPOCH),
                    data: None,
                },
            );
        }
        if !found.contains_key("/index.html") {
            return Err(LoadError::NoIndex(dir.to_path_buf()));
        }
        // Smallest first, so the budget holds as many files as it can.
        let mut by_size: Vec<(&String, u64)> = found.iter().map(|(k, f)| (k, f.len)).collect();
        by_size.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(b.0)));
        let mut in_memory = HashSet::new();
        let mut memory_bytes = 0u64;
        for (path, len) in by_size {
            // dev rewrites pages, so those must be in memory whatever their size.
            let must = options.inject_before_body_end.is_some() && path.ends_with(".html");
            if must
                || (len <= options.memory.max_file && memory_bytes + len <= options.memory.total)
            {
                memory_bytes += len;
                in_memory.insert(path.clone());
            }
        }
        for path in in_memory {
            let f = found.get_mut(&path).expect("listed above");
            let body = std::fs::read(&f.read_from).map_err(|e| LoadError::Io {
                path: f.real.clone(),
                error: e,
            })?;
            f.len = body.len() as u64;
            f.data = Some(Bytes::from(body));
        }

        let mut files = HashMap::with_capacity(found.len());
        let (mut disk_files, mut disk_bytes) = (0, 0);
        for (path, f) in &found {
            // A `.gz`/`.br` next to its original is a variant, not a file of its own.
            if let Some(base) = path
                .strip_suffix(".gz")
                .or_else(|| path.strip_suffix(".br"))
            {
                if found.contains_key(base) {
                    continue;
                }
            }
            let mut precompressed = true;
            let mut identity = stored(f);
            if let (Some(snippet), Some(body)) = (
                &options.inject_before_body_end,
                f.data.as_ref().filter(|_| path.ends_with(".html")),
            ) {
                identity = Stored::Memory(inject(body, snippet));
                precompressed = false;
            }
            let identity_len = match &identity {
                Stored::Memory(b) => b.len() as u64,
                Stored::Disk { .. } => f.len,
            };
            // In memory the tag hashes the content; on disk (too big to hash at every
            // start) it is length and modification time, checked again when opened.
            let tag_base = match &identity {
                Stored::Memory(b) => format!("{:032x}", xxhash_rust::xxh3::xxh3_128(b)),
                Stored::Disk { modified, .. } => format!(
                    "{:x}-{:x}",
                    f.len,
                    modified
                        .duration_since(UNIX_EPOCH)
                        .map_or(0, |d| d.as_nanos())
                ),
            };
            let sibling = |suffix: &str, tag: &str| {
                let s = found
                    .get(&format!("{path}{suffix}"))
                    .filter(|_| precompressed)?;
                Some(Variant::new(stored(s), s.len, &tag_base, tag))
            };
            let cache_class = if immutable.contains(path.as_str()) {
                CacheClass::Fingerprinted
            } else {
                CacheClass::Page
            };
            let entry = Entry {
                content_type: HeaderValue::from_static(media::path_content_type(path)),
                cache_control: policy.cache_control(cache_class),
                csp: HeaderValue::from_static(if path.ends_with(".svg") {
                    SVG_CSP
                } else {
                    options.page_csp.unwrap_or(PAGE_CSP)
                }),
                last_modified: HeaderValue::from_str(&httpdate::fmt_http_date(f.modified))
                    .expect("ASCII date"),
                modified: truncate_to_seconds(f.modified),
                gzip: sibling(".gz", "-gz"),
                brotli: sibling(".br", "-br"),
                identity: Variant::new(identity, identity_len, &tag_base, ""),
                compressible: media::is_compressible(path),
                cors: path.ends_with(".json") || path.ends_with(".csv"),
            };
            for v in [
                Some(&entry.identity),
                entry.gzip.as_ref(),
                entry.brotli.as_ref(),
            ]
            .into_iter()
            .flatten()
            {
                if let Stored::Disk { .. } = v.body {
                    disk_files += 1;
                    disk_bytes += v.len;
                }
            }
            files.insert(path.clone(), entry);
        }
        Ok(StaticSite {
            files,
            redirects,
            memory_bytes,
            disk_files,
            disk_bytes,
        })
    }

    pub(crate) fn get(&self, path: &str) -> Option<&Entry> {
        self.files.get(path)
    }

    /// Where an old address moved to. A folder's alias (`/old/`) also answers
    /// without its trailing slash.
    pub(crate) fn redirect(&self, path: &str) -> Option<&HeaderValue> {
        self.redirects.get(path)
    }

    pub(crate) fn len(&self) -> usize {
        self.files.len()
    }

    /// Bytes held in memory.
    pub(crate) fn memory_bytes(&self) -> u64 {
        self.memory_bytes
    }

    /// Representations served from disk, and their bytes.
    pub(crate) fn on_disk(&self) -> (usize, u64) {
        (self.disk_files, self.disk_bytes)
    }
}

fn stored(f: &Found) -> Stored {
    match &f.data {
        Some(b) => Stored::Memory(b.clone()),
        None => Stored::Disk {
            path: f.real.clone(),
            modified: f.modified,
        },
    }
}

/// A link's real target must be under the root with no dot-segment on the way
/// (`.env`, `.git/config`, `..` cannot appear after canonicalising, but say so).
fn is_servable_target(root: &Path, target: &Path) -> bool {
    let Ok(rel) = target.strip_prefix(root) else {
        return false;
    };
    rel.components().all(|c| match c {
        Component::Normal(name) => !name.to_string_lossy().starts_with('.'),
        _ => false,
    })
}

/// One of the build's lists (at `path`, named `shown` in errors), `None` if there
/// is none, read as [`crate::own_file::read`] reads: a FIFO in its place would hang
/// start-up, a link to `/dev/zero` fill memory.
fn read_list(path: &Path, shown: &Path) -> Result<Option<Vec<u8>>, LoadError> {
    crate::own_file::read(path).map_err(|e| LoadError::Io {
        path: shown.to_path_buf(),
        error: match e {
            crate::own_file::OwnFileError::Io(error) => error,
            other => std::io::Error::other(other.to_string()),
        },
    })
}

/// The build's list of fingerprinted files, as site paths (`/static/style.….css`);
/// empty when the folder has none.
fn read_immutable_list(base: &Path, root: &Path) -> Result<HashSet<String>, LoadError> {
    let path = root.join(IMMUTABLE_LIST);
    let Some(bytes) = read_list(&base.join(IMMUTABLE_LIST), &path)? else {
        return Ok(HashSet::new());
    };
    let mut set = HashSet::new();
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let bad = || LoadError::BadImmutableList {
            path: path.clone(),
            line: i + 1,
        };
        let line = std::str::from_utf8(line).map_err(|_| bad())?.trim();
        if line.is_empty() {
            continue;
        }
        if line.split('/').any(|s| s == ".." || s == ".") {
            return Err(bad());
        }
        set.insert(format!("/{}", line.trim_start_matches('/')));
    }
    Ok(set)
}

/// The build's redirect list (see [`REDIRECT_LIST`]); empty when there is none. The
/// build writes only clean paths; anything else here means a damaged or hand-edited
/// file, refused with its line rather than served.
fn read_redirect_list(base: &Path, root: &Path) -> Result<HashMap<String, HeaderValue>, LoadError> {
    let path = root.join(REDIRECT_LIST);
    let Some(bytes) = read_list(&base.join(REDIRECT_LIST), &path)? else {
        return Ok(HashMap::new());
    };
    let clean = |p: &str| {
        p.starts_with('/')
            && !p.contains("//")
            && p.bytes()
                .all(|b| b.is_ascii_graphic() && b != b'\\' && b != b'%')
            && !p.split('/').any(|s| s.starts_with('.'))
    };
    let mut map = HashMap::new();
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let bad = |why: &str| LoadError::BadRedirectList {
            path: path.clone(),
            line: i + 1,
            why: why.to_string(),
        };
        let line = std::str::from_utf8(line)
            .map_err(|_| bad("not UTF-8"))?
            .trim();
        if line.is_empty() {
            continue;
        }
        if map.len() >= MAX_REDIRECTS {
            return Err(bad(&format!("more than {MAX_REDIRECTS} redirects")));
        }
        let mut parts = line.split(' ');
        let (Some(from), Some(to), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected two paths separated by one space"));
        };
        if !clean(from) || !clean(to) {
            return Err(bad("a path is not a clean site path"));
        }
        let location = HeaderValue::from_str(to).map_err(|_| bad("bad location"))?;
        if let Some(bare) = from.strip_suffix('/').filter(|b| !b.is_empty()) {
            map.insert(bare.to_string(), location.clone());
        }
        map.insert(from.to_string(), location);
    }
    Ok(map)
}

impl Variant {
    /// The strong ETag comes from the identity content (`tag_base`) plus a suffix per
    /// encoding, so each representation has its own.
    fn new(body: Stored, len: u64, tag_base: &str, suffix: &str) -> Variant {
        let tag = format!("\"{tag_base}{suffix}\"");
        Variant {
            body,
            len,
            etag: HeaderValue::from_str(&tag).expect("ASCII etag"),
            typed_etag: tag.parse().expect("a quoted hex string is a valid ETag"),
        }
    }

    /// Whether the bytes loaded at start-up are still there to send: always for a
    /// body in memory; for one on disk, whether its file has the same length and
    /// modification time. Checked before a status line is sent, so a file a build
    /// swapped under the server is refused rather than announced as a 200 and then cut
    /// off (the stream checks again when it opens the file).
    ///
    /// A plain `stat` on the serving thread, on purpose: only files too large for
    /// memory are on disk, the folder is the container's own local file system, and
    /// one `stat` there takes about a microsecond, less than handing it to tokio's
    /// blocking pool and back (`tokio::fs::metadata`) would.
    pub(crate) fn is_current(&self) -> bool {
        match &self.body {
            Stored::Memory(_) => true,
            Stored::Disk { path, modified } => std::fs::metadata(path)
                .is_ok_and(|m| m.len() == self.len && m.modified().ok() == Some(*modified)),
        }
    }

    /// The bytes `start..=end` (or all) as a response body: a slice of memory, or a
    /// stream from disk that opens the file when first polled.
    pub(crate) fn body(&self, range: Option<(u64, u64)>) -> axum::body::Body {
        let (start, end) = range.unwrap_or((0, self.len.saturating_sub(1)));
        let len = if self.len == 0 { 0 } else { end - start + 1 };
        match &self.body {
            Stored::Memory(b) if len == 0 => axum::body::Body::from(b.slice(0..0)),
            Stored::Memory(b) => axum::body::Body::from(b.slice(start as usize..=end as usize)),
            Stored::Disk { path, modified } => axum::body::Body::new(DiskBody {
                stream: Box::pin(disk_stream(path.clone(), *modified, self.len, start, len)),
                remaining: len,
            }),
        }
    }
}

/// How much of a file on disk is read at a time.
const DISK_CHUNK: usize = 64 * 1024;

/// Streams `len` bytes from `start`, after checking the file is still the one loaded.
fn disk_stream(
    path: PathBuf,
    modified: SystemTime,
    file_len: u64,
    start: u64,
    len: u64,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    enum State {
        Start(PathBuf),
        Reading(tokio_util::io::ReaderStream<tokio::io::Take<tokio::fs::File>>),
        Done,
    }
    futures_util::stream::unfold(State::Start(path), move |state| async move {
        let mut reader = match state {
            State::Done => return None,
            State::Reading(r) => r,
            State::Start(path) => {
                let opened = async {
                    let mut file = tokio::fs::File::open(&path).await?;
                    let meta = file.metadata().await?;
                    if meta.len() != file_len || meta.modified().ok() != Some(modified) {
                        return Err(std::io::Error::other(format!(
                            "{}: changed on disk since the server started",
                            path.display()
                        )));
                    }
                    file.seek(std::io::SeekFrom::Start(start)).await?;
                    Ok(tokio_util::io::ReaderStream::with_capacity(
                        file.take(len),
                        DISK_CHUNK,
                    ))
                }
                .await;
                match opened {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::error!("{e}");
                        return Some((Err(e), State::Done));
                    }
                }
            }
        };
        use futures_util::StreamExt;
        reader
            .next()
            .await
            .map(|item| (item, State::Reading(reader)))
    })
}

/// A response body read from disk, with its exact length known up front (so it goes
/// out with `Content-Length`, and HEAD never opens the file).
struct DiskBody {
    stream: Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>,
    remaining: u64,
}

impl http_body::Body for DiskBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        match self.stream.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.remaining = self.remaining.saturating_sub(chunk.len() as u64);
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "file shorter than when the server started",
            )))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

fn truncate_to_seconds(t: SystemTime) -> SystemTime {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    UNIX_EPOCH + std::time::Duration::from_secs(secs)
}

fn inject(html: &[u8], snippet: &str) -> Bytes {
    let text = String::from_utf8_lossy(html);
    let out = match text.rfind("</body>") {
        Some(i) => format!("{}{snippet}{}", &text[..i], &text[i..]),
        None => format!("{text}{snippet}"),
    };
    Bytes::from(out)
}
