//! The library's error type: every failure names the file (and line, where there is
//! one) so a maintainer can go straight to the mistake.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in the input something went wrong: a file (and line), a command-line
/// argument, or a page address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    File {
        file: PathBuf,
        line: Option<usize>,
    },
    /// A command-line argument, shown as written: `--date`, `mogas=66.00`.
    Arg(String),
    Url(String),
}

impl Location {
    pub(crate) fn file(file: impl Into<PathBuf>) -> Self {
        Location::File {
            file: file.into(),
            line: None,
        }
    }
    pub(crate) fn line(file: impl Into<PathBuf>, line: usize) -> Self {
        Location::File {
            file: file.into(),
            line: Some(line),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File {
                file,
                line: Some(line),
            } => write!(f, "{}:{}", file.display(), line),
            Location::File { file, line: None } => write!(f, "{}", file.display()),
            Location::Arg(arg) => write!(f, "argument {arg}"),
            Location::Url(url) => f.write_str(url),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// Bad input: a data file, a note, `site.toml`, a template, an argument, a page.
    #[error("{location}: {message}")]
    Input { location: Location, message: String },
    /// The file system refused something. The OS message is part of this message and
    /// deliberately not exposed as a `source`, so a chain printer shows it once.
    #[error("{}: {os}", path.display())]
    Io { path: PathBuf, os: std::io::Error },
    /// Several independent input errors found in one pass.
    #[error("{}", join_errors(.0))]
    Many(Vec<Error>),
}

fn join_errors(errors: &[Error]) -> String {
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

impl Error {
    pub(crate) fn input(location: Location, message: impl Into<String>) -> Self {
        Error::Input {
            location,
            message: message.into(),
        }
    }
    pub(crate) fn at(file: &Path, line: usize, message: impl Into<String>) -> Self {
        Error::input(Location::line(file, line), message)
    }
    pub(crate) fn in_file(file: &Path, message: impl Into<String>) -> Self {
        Error::input(Location::file(file), message)
    }
    pub(crate) fn arg(arg: impl Into<String>, message: impl Into<String>) -> Self {
        Error::input(Location::Arg(arg.into()), message)
    }
    pub(crate) fn url(url: impl Into<String>, message: impl Into<String>) -> Self {
        Error::input(Location::Url(url.into()), message)
    }
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            os: source,
        }
    }

    /// Collapses a list of errors into one, or `Ok` when there are none.
    pub(crate) fn collect(mut errors: Vec<Error>) -> Result<()> {
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(Error::Many(errors)),
        }
    }
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

/// Refuses anything but a regular file (after symlinks): opening a FIFO blocks until
/// someone writes to it, and a device can be read forever, so either would hang.
pub(crate) fn require_file(path: &Path) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_file() {
        Ok(())
    } else if meta.is_dir() {
        Err(Error::in_file(path, "a folder, not a file"))
    } else {
        Err(Error::in_file(
            path,
            "not a regular file (a pipe, socket or device); want a text file",
        ))
    }
}

/// Reads a file as UTF-8, naming the line of the first invalid byte (see
/// [`read_bytes`]).
pub(crate) fn read_utf8(path: &Path) -> Result<String> {
    String::from_utf8(read_bytes(path)?).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
        Error::at(path, line, "invalid UTF-8 (save the file as UTF-8)")
    })
}

/// Reads a regular file's bytes. The file is opened without blocking (a pipe would
/// otherwise wait for a writer forever) and checked once open, as [`require_file`]
/// would check the path: one lookup instead of two, and what is read is what was
/// checked.
pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)
        .map_err(|e| match require_file(path) {
            // A socket cannot be opened at all: say what it is, as for a pipe.
            Err(not_a_file) => not_a_file,
            Ok(()) => Error::io(path, e),
        })?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return Err(Error::in_file(path, "a folder, not a file"));
    }
    if !meta.is_file() {
        return Err(Error::in_file(
            path,
            "not a regular file (a pipe, socket or device); want a text file",
        ));
    }
    // Read through `take`, which reads into the room made here: `File::read_to_end`
    // would ask the file its size and position again first, two more system calls a
    // note on every build.
    let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
    (&mut file)
        .take(u64::MAX)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    Ok(bytes)
}

/// The 1-based line of a byte offset in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    1 + text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}
