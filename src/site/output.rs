//! Writing a built site: each file once, in place, in a temporary folder beside the
//! target, with `.gz` and `.br` siblings for compressible files; then one atomic swap.
//! Files identical to the previous build's are hard-linked from it, compressed
//! siblings and all, so an unchanged page costs a read and a compare, not a compress.
//! If anything fails the temporary folder is removed and the previous site stays.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};

/// Where rendered files go: a real folder, or nowhere (for `check`).
pub(crate) trait Sink: Sync {
    fn put(&self, path: &str, bytes: &[u8]) -> Result<()>;

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
}

/// Where a build records the key of each keyed output, inside the output folder (a
/// dotfile: never served).
pub(crate) const MANIFEST: &str = ".petrol-watch-manifest";

/// Extensions worth precompressing.
pub(crate) fn is_compressible(path: &str) -> bool {
    matches!(
        path.rsplit('.').next(),
        Some(
            "html"
                | "css"
                | "svg"
                | "json"
                | "xml"
                | "csv"
                | "txt"
                | "js"
                | "md"
                | "ico"
                | "webmanifest"
        )
    )
}

/// Files smaller than this are sent as they are: a sibling would save too little.
const MIN_COMPRESS_BYTES: usize = 512;
const GZIP_LEVEL: u32 = 6;
/// Above 4 this encoder switches to a hasher that costs ~50× more on a 7 KB page for
/// ~6% smaller output; 4 is the best ratio before that cliff.
const BROTLI_QUALITY: u32 = 4;
const BROTLI_WINDOW: u32 = 22;

#[derive(Debug, Default)]
pub(crate) struct WriteStats {
    pub(crate) reused: AtomicUsize,
}

/// A site being written into a temporary folder next to `target`.
pub(crate) struct StagedSite {
    staging: PathBuf,
    target: PathBuf,
    /// The live site from the last build, for reuse of unchanged files.
    previous: Option<PathBuf>,
    committed: bool,
    pub(crate) stats: WriteStats,
    /// Keys of the previous build's keyed outputs.
    previous_keys: std::collections::HashMap<String, u128>,
    keys: std::sync::Mutex<Vec<(String, u128)>>,
}

impl StagedSite {
    pub(crate) fn create(target: &Path) -> Result<StagedSite> {
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        let name = target
            .file_name()
            .map_or("site".into(), |n| n.to_string_lossy().to_string());
        let staging = tempfile::Builder::new()
            .prefix(&format!(".{name}.tmp-"))
            .tempdir_in(&parent)
            .map_err(|e| Error::io(&parent, e))?
            .keep();
        let previous = target.is_dir().then(|| target.to_path_buf());
        let previous_keys = previous
            .as_ref()
            .map(|p| read_manifest(&p.join(MANIFEST)))
            .unwrap_or_default();
        Ok(StagedSite {
            staging,
            previous,
            target: target.to_path_buf(),
            committed: false,
            stats: WriteStats::default(),
            previous_keys,
            keys: Default::default(),
        })
    }

    /// Swaps the staged folder in for the target in one rename, then removes the old one.
    pub(crate) fn commit(mut self) -> Result<()> {
        let mut keys = std::mem::take(&mut *self.keys.lock().expect("not poisoned"));
        keys.sort();
        let manifest: String = keys
            .iter()
            .map(|(path, key)| format!("{key:032x} {path}\n"))
            .collect();
        let path = self.staging.join(MANIFEST);
        fs::write(&path, manifest).map_err(|e| Error::io(&path, e))?;
        if self.target.is_dir() {
            rustix::fs::renameat_with(
                rustix::fs::CWD,
                &self.staging,
                rustix::fs::CWD,
                &self.target,
                rustix::fs::RenameFlags::EXCHANGE,
            )
            .map_err(|e| Error::io(&self.target, e.into()))?;
            // `staging` now holds the previous site.
            self.committed = true;
            fs::remove_dir_all(&self.staging).map_err(|e| Error::io(&self.staging, e))?;
        } else {
            fs::rename(&self.staging, &self.target).map_err(|e| Error::io(&self.target, e))?;
            self.committed = true;
        }
        Ok(())
    }

    /// Where `rel` goes in the staged folder, with its folder created.
    fn destination(&self, rel: &str) -> Result<PathBuf> {
        let dest = self.staging.join(rel);
        if let Some(dir) = dest.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        Ok(dest)
    }

    /// Reuses the previous build's file when its bytes are the same.
    fn try_reuse(&self, rel: &str, bytes: &[u8], dest: &Path) -> bool {
        let Some(previous) = &self.previous else {
            return false;
        };
        let old = previous.join(rel);
        match fs::metadata(&old) {
            Ok(m) if m.is_file() && m.len() == bytes.len() as u64 => {}
            _ => return false,
        }
        fs::read(&old).ok().as_deref() == Some(bytes)
            && self.link_previous(rel, bytes.len() as u64, dest)
    }

    /// Hard-links `rel` and its compressed siblings from the previous build.
    fn link_previous(&self, rel: &str, len: u64, dest: &Path) -> bool {
        let Some(previous) = &self.previous else {
            return false;
        };
        let old = previous.join(rel);
        let siblings: &[&str] = if is_compressible(rel) && len >= MIN_COMPRESS_BYTES as u64 {
            &[".gz", ".br"]
        } else {
            &[]
        };
        // Reuse only a complete set, so a sibling never belongs to other content.
        if siblings
            .iter()
            .any(|s| !previous.join(format!("{rel}{s}")).is_file())
        {
            return false;
        }
        if fs::hard_link(&old, dest).is_err() {
            return false;
        }
        for s in siblings {
            let sibling = format!("{}{s}", dest.display());
            if fs::hard_link(previous.join(format!("{rel}{s}")), &sibling).is_err() {
                let _ = fs::remove_file(dest);
                return false;
            }
        }
        true
    }
}

impl Sink for StagedSite {
    fn put_keyed(&self, rel: &str, key: u128, render: &dyn Fn() -> Result<Vec<u8>>) -> Result<()> {
        self.keys
            .lock()
            .expect("not poisoned")
            .push((rel.to_string(), key));
        if self.previous_keys.get(rel) == Some(&key) {
            if let Some(len) = self
                .previous
                .as_ref()
                .and_then(|p| fs::metadata(p.join(rel)).ok())
                .map(|m| m.len())
            {
                let dest = self.destination(rel)?;
                if self.link_previous(rel, len, &dest) {
                    self.stats.reused.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
            }
        }
        self.put(rel, &render()?)
    }

    fn put(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        debug_assert!(!rel.starts_with('/') && !rel.contains(".."), "{rel}");
        let dest = self.destination(rel)?;
        if self.try_reuse(rel, bytes, &dest) {
            self.stats.reused.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        fs::write(&dest, bytes).map_err(|e| Error::io(&dest, e))?;
        if is_compressible(rel) && bytes.len() >= MIN_COMPRESS_BYTES {
            // Side by side: a large page (a 100,000-row table) is otherwise the longest
            // serial step of a cold build.
            let write = |suffix: &str, compress: fn(&[u8]) -> Vec<u8>| {
                let path = PathBuf::from(format!("{}{suffix}", dest.display()));
                fs::write(&path, compress(bytes)).map_err(|e| Error::io(&path, e))
            };
            let (gz, br) = rayon::join(|| write(".gz", gzip), || write(".br", brotli));
            gz?;
            br?;
        }
        Ok(())
    }
}

impl Drop for StagedSite {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

fn read_manifest(path: &Path) -> std::collections::HashMap<String, u128> {
    let Ok(text) = fs::read_to_string(path) else {
        return Default::default();
    };
    text.lines()
        .filter_map(|line| {
            let (key, rel) = line.split_once(' ')?;
            Some((rel.to_string(), u128::from_str_radix(key, 16).ok()?))
        })
        .collect()
}

pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 3),
        flate2::Compression::new(GZIP_LEVEL),
    );
    enc.write_all(bytes).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}

pub(crate) fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() / 3);
    // A window no larger than the input: a 4 MiB window allocated and cleared for
    // every 10 KB page costs more than the compression itself.
    let fits = (usize::BITS - bytes.len().max(1).leading_zeros()).clamp(10, BROTLI_WINDOW);
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY as i32,
        lgwin: fits as i32,
        size_hint: bytes.len(),
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)
        .expect("writing to a Vec cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["public"]);
        assert!(target.join("old.html").exists());

        let page = "x".repeat(2000);
        let staged = StagedSite::create(&target).unwrap();
        staged.put("a/index.html", page.as_bytes()).unwrap();
        staged.commit().unwrap();
        assert!(!target.join("old.html").exists());
        assert!(target.join("a/index.html.gz").exists() && target.join("a/index.html.br").exists());

        let staged = StagedSite::create(&target).unwrap();
        staged.put("a/index.html", page.as_bytes()).unwrap();
        assert_eq!(staged.stats.reused.load(Ordering::Relaxed), 1);
        staged.commit().unwrap();
        assert_eq!(
            fs::read(target.join("a/index.html")).unwrap(),
            page.as_bytes()
        );
    }
}
