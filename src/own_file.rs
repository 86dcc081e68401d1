//! Reading back the small files the build writes for itself and for the server (the
//! manifest, the stamps, the immutable and redirect lists) as a damaged or hostile
//! folder might hold them. Shared by the build and `serve`, which know nothing else of
//! each other: a FIFO in such a file's place must not hang either, a link must not lead
//! out of the folder, and a huge or endless file must not fill memory.

use std::fmt;
use std::path::Path;

/// The most such a file may hold: a line is under 200 bytes, so this is over 300,000
/// outputs, far beyond any site. A bigger file is not one this program wrote.
pub(crate) const MAX_OWN_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Why such a file was not read.
#[derive(Debug)]
pub(crate) enum OwnFileError {
    /// A symlink, a FIFO, a device or a folder: nothing this program writes.
    NotRegular,
    /// Over [`MAX_OWN_FILE_BYTES`].
    TooLarge(u64),
    Io(std::io::Error),
}

impl fmt::Display for OwnFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotRegular => write!(f, "not the regular file this program writes"),
            Self::TooLarge(len) => write!(
                f,
                "{len} bytes, more than this program ever writes ({MAX_OWN_FILE_BYTES})"
            ),
            Self::Io(e) => write!(f, "unreadable ({e})"),
        }
    }
}

/// The bytes of `path`, if it is a regular file (a link is not followed) of at most
/// [`MAX_OWN_FILE_BYTES`]; `None` when there is no file there. Opened without
/// blocking, so a FIFO is seen for what it is instead of waited on.
pub(crate) fn read(path: &Path) -> Result<Option<Vec<u8>>, OwnFileError> {
    use rustix::fs::{FileType, Mode, OFlags};
    let fd = match rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) => return Ok(None),
        // NOFOLLOW on a link, or a socket, which cannot be opened at all.
        Err(rustix::io::Errno::LOOP | rustix::io::Errno::NXIO) => {
            return Err(OwnFileError::NotRegular)
        }
        Err(e) => return Err(OwnFileError::Io(e.into())),
    };
    let stat = rustix::fs::fstat(&fd).map_err(|e| OwnFileError::Io(e.into()))?;
    if !FileType::from_raw_mode(stat.st_mode).is_file() {
        return Err(OwnFileError::NotRegular);
    }
    if stat.st_size as u64 > MAX_OWN_FILE_BYTES {
        return Err(OwnFileError::TooLarge(stat.st_size as u64));
    }
    let mut bytes = Vec::with_capacity(stat.st_size as usize);
    // Bounded again while reading: the file may grow after the check.
    std::io::Read::read_to_end(
        &mut std::io::Read::take(std::fs::File::from(fd), MAX_OWN_FILE_BYTES),
        &mut bytes,
    )
    .map_err(OwnFileError::Io)?;
    Ok(Some(bytes))
}
