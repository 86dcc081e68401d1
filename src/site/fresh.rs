//! Whether a build has anything to do, known without reading an input: a fingerprint
//! of the site's inputs as `stat` sees them. Every file under `site.toml`, `data/`,
//! `content/notes/`, `templates/` and `static/` counts (links followed, as the build
//! follows them): its path, file system, inode, size, mode, and modification and change
//! times; with the program and the build's options. The build records it beside the
//! output once its site is live (see `output`); the next build that finds the same
//! fingerprint, over a live site whose every file is as that build left it, has
//! nothing to do and stops there. `make`, ninja, cargo and git trust file times the
//! same way; Hugo and Zola read and render everything on every build.
//!
//! The change time is what makes this safe: whatever writes a file, renames it or
//! changes its mode sets it to the current time, and nothing sets it back (`touch -d`,
//! `cp -p`, `rsync -t` and `tar` restore the modification time only). But file
//! systems keep times in ticks (up to 2 s on some), so a file changed twice within one
//! tick, once before the scan and once after, would look the same to the next build.
//! A file changed within [`RECENT`] of the scan therefore leaves no fingerprint, and
//! the next build reads everything again: git's rule for "racily clean" files.

use std::hash::Hash;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use xxhash_rust::xxh3::Xxh3;

use super::keys::PROGRAM_ID;
use super::load::READ;
use super::BuildOptions;

/// How long after a file's last change its times are trusted to show the next one:
/// longer than the coarsest clock tick of a file system (FAT's 2 s).
const RECENT: Duration = Duration::from_secs(3);

/// The fingerprint of the inputs of a build with `options`, as they are now. `None`
/// when one of them changed within [`RECENT`], or the walk failed: the build then
/// reads everything, and says what is wrong with an input that cannot be read.
pub(crate) fn fingerprint(options: &BuildOptions) -> Option<u128> {
    let trusted_before = SystemTime::now()
        .checked_sub(RECENT)?
        .duration_since(UNIX_EPOCH)
        .ok()?;
    let trusted_before = (
        i64::try_from(trusted_before.as_secs()).ok()?,
        i64::from(trusted_before.subsec_nanos()),
    );
    let root = std::fs::canonicalize(&options.root).ok()?;
    let mut hash = Xxh3::new();
    (PROGRAM_ID, root.as_os_str().as_bytes(), options.drafts).hash(&mut hash);
    let mut files: Vec<PathBuf> = Vec::new();
    for input in READ {
        let top = root.join(input);
        // Folders in name order, through links (a loop is an error), as the loaders
        // walk them; a folder counts by the names in it, a file by its `stat` below.
        for entry in walkdir::WalkDir::new(&top)
            .follow_links(true)
            .sort_by_file_name()
        {
            match entry {
                Ok(entry) if entry.file_type().is_dir() => {
                    (entry.path().as_os_str().as_bytes(), "/").hash(&mut hash);
                }
                Ok(entry) => files.push(entry.into_path()),
                Err(e)
                    if e.depth() == 0
                        && e.io_error()
                            .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound) =>
                {
                    (input, "absent").hash(&mut hash);
                }
                Err(_) => return None,
            }
        }
    }
    let stats: Vec<std::fs::Metadata> = {
        use rayon::prelude::*;
        // Thousands of notes: one `stat` each, on every core.
        files
            .par_iter()
            .map(|path| std::fs::metadata(path).ok())
            .collect::<Option<_>>()?
    };
    for (path, stat) in files.iter().zip(&stats) {
        if (stat.ctime(), stat.ctime_nsec()) >= trusted_before {
            return None;
        }
        (
            path.as_os_str().as_bytes(),
            stat.dev(),
            stat.ino(),
            stat.size(),
            stat.mode(),
            (stat.mtime(), stat.mtime_nsec()),
            (stat.ctime(), stat.ctime_nsec()),
        )
            .hash(&mut hash);
    }
    Some(hash.digest128())
}
