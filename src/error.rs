//! The library's error type: every failure names the file (and line, where there is
//! one) so a maintainer can go straight to the mistake.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in the input something went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Location {
    pub(crate) file: PathBuf,
    pub(crate) line: Option<usize>,
}

impl Location {
    pub(crate) fn file(file: impl Into<PathBuf>) -> Self {
        Location {
            file: file.into(),
            line: None,
        }
    }
    pub(crate) fn line(file: impl Into<PathBuf>, line: usize) -> Self {
        Location {
            file: file.into(),
            line: Some(line),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}", self.file.display(), line),
            None => write!(f, "{}", self.file.display()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// Bad input: a data file, a note, `site.toml`, a template.
    #[error("{location}: {message}")]
    Input { location: Location, message: String },
    /// The file system refused something.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
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
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
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

/// Reads a file as UTF-8, naming the line of the first invalid byte.
pub(crate) fn read_utf8(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
        Error::at(path, line, "invalid UTF-8 (save the file as UTF-8)")
    })
}

/// The 1-based line of a byte offset in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    1 + text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}
