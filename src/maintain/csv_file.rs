//! Editing a dataset CSV in place while keeping its style. The file is parsed into rows
//! that know their exact byte spans; an edit splices only those bytes, so blank lines,
//! quoting, BOM, line endings and order stay as they were and the row named is the row
//! changed. The file is locked for the whole read–edit–write, every edit is validated
//! with the same rules as `build`, and it is written atomically (temporary file with
//! the original's mode and owner, then rename; a symlink's target is the file replaced).

use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::data::{self, RowAt, Table};
use crate::error::{read_utf8, Error, Result};
use crate::price::{Change, Price};

pub(crate) struct CsvFile {
    pub(crate) path: PathBuf,
    text: String,
    pub(crate) table: Table,
    /// Where each row of `table` is in `text`.
    at: Vec<RowAt>,
    /// Held until the edit is saved or dropped: other edits of this file wait.
    _lock: File,
    /// The file as it was before it was read, to tell at saving whether another
    /// program (an editor, which takes no lock) wrote it in the meantime.
    seen: Stamp,
}

/// What says a file is still the one that was read: which file it is, its length and
/// when it was last written (to the nanosecond where the file system keeps it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Stamp {
        use std::os::unix::fs::MetadataExt as _;
        Stamp {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            modified: meta.modified().ok(),
        }
    }
}

/// One row as the editor sees it: its values and where it is in the file.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) values: Vec<Price>,
    pub(crate) line: usize,
    pub(crate) span: Range<usize>,
}

/// One row to write: its date and each column's value with the decimals it was given.
pub(crate) type NewRow = (NaiveDate, Vec<(Price, usize)>);

struct Splice {
    range: Range<usize>,
    text: String,
    /// Orders several insertions at one place so the file keeps its date order.
    date: NaiveDate,
}

/// Takes an exclusive lock on the file at `path` (std's `File::lock`, an OS advisory
/// lock). A rename by the edit that held the lock before leaves this handle on the old
/// file, so after locking, the path must still name the locked file, or we try again.
fn lock(path: &Path) -> Result<File> {
    loop {
        crate::error::require_file(path)?;
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        file.lock().map_err(|e| Error::io(path, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            let held = file.metadata().map_err(|e| Error::io(path, e))?;
            let now = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
            if (held.dev(), held.ino()) != (now.dev(), now.ino()) {
                continue;
            }
        }
        return Ok(file);
    }
}

impl CsvFile {
    /// Opens a dataset to read or edit: it must have rows, as `build` requires.
    pub(crate) fn open(path: &Path) -> Result<CsvFile> {
        Self::open_with(path, true)
    }

    /// Opens a dataset to add rows to: a header alone is a new dataset waiting for
    /// its first row.
    pub(crate) fn open_to_add(path: &Path) -> Result<CsvFile> {
        Self::open_with(path, false)
    }

    fn open_with(path: &Path, need_rows: bool) -> Result<CsvFile> {
        let lock = lock(path)?;
        // Taken before reading: a write while the file is read shows at saving.
        let seen = Stamp::of(&lock.metadata().map_err(|e| Error::io(path, e))?);
        let text = read_utf8(path)?;
        let (table, at) = data::parse_table_at(&text, path, need_rows)?;
        Ok(CsvFile {
            path: path.to_path_buf(),
            text,
            table,
            at,
            _lock: lock,
            seen,
        })
    }

    pub(crate) fn columns(&self) -> &[String] {
        &self.table.columns
    }

    /// Row `i` of the table.
    fn row_at(&self, i: usize) -> Row {
        let t = &self.table;
        Row {
            values: (0..t.columns.len()).map(|s| t.value(i, s)).collect(),
            line: self.at[i].line,
            span: self.at[i].span.clone(),
        }
    }

    pub(crate) fn row(&self, date: NaiveDate) -> Option<Row> {
        self.table
            .dates
            .binary_search(&date)
            .ok()
            .map(|i| self.row_at(i))
    }

    /// The decision in force just before `date`.
    pub(crate) fn previous(&self, date: NaiveDate) -> Option<Row> {
        let i = self.table.dates.partition_point(|d| *d < date);
        i.checked_sub(1).map(|i| self.row_at(i))
    }

    fn newest_first(&self) -> bool {
        let at = &self.at;
        at.len() > 1 && at[0].line > at[at.len() - 1].line
    }

    /// The file's line ending, from its first line: LF, CRLF, or a lone CR (old Mac
    /// exports, which the parser reads too), so a new row never mixes styles.
    fn newline(&self) -> &'static str {
        let bytes = self.text.as_bytes();
        match self.text.find(['\r', '\n']) {
            Some(i) if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') => "\r\n",
            Some(i) if bytes[i] == b'\r' => "\r",
            _ => "\n",
        }
    }

    /// Formats values as the file writes them: at least the column's decimals.
    fn format_row(&self, date: NaiveDate, values: &[(Price, usize)]) -> String {
        let mut line = date.to_string();
        for (i, (value, places)) in values.iter().enumerate() {
            line.push(',');
            value.write(&mut line, (*places).max(self.table.decimals[i]));
        }
        line
    }

    /// Inserts or replaces the rows for the given dates in one pass (linear in the
    /// file, however many rows), then re-validates the whole file.
    pub(crate) fn upsert(&mut self, rows: &[NewRow]) -> Result<()> {
        let newline = self.newline();
        let newest_first = self.newest_first();
        let mut splices = Vec::with_capacity(rows.len());
        for (date, values) in rows {
            let line = self.format_row(*date, values);
            let splice = if let Some(row) = self.row(*date) {
                Splice {
                    range: row.span.clone(),
                    text: line,
                    date: *date,
                }
            } else {
                let first = (!self.at.is_empty()).then(|| self.row_at(0));
                let (at, text) = match (self.previous(*date), newest_first) {
                    // After the previous decision, or before it when newest first.
                    (Some(r), false) => (r.span.end, format!("{newline}{line}")),
                    (Some(r), true) => (r.span.start, format!("{line}{newline}")),
                    // Older than every row: next to the oldest one.
                    (None, false) => match first {
                        Some(r) => (r.span.start, format!("{line}{newline}")),
                        None => (self.table.header_end, format!("{newline}{line}")),
                    },
                    (None, true) => match first {
                        Some(r) => (r.span.end, format!("{newline}{line}")),
                        None => (self.table.header_end, format!("{newline}{line}")),
                    },
                };
                Splice {
                    range: at..at,
                    text,
                    date: *date,
                }
            };
            splices.push(splice);
        }
        self.apply(splices, newest_first)
    }

    pub(crate) fn remove(&mut self, date: NaiveDate) -> Result<()> {
        let Some(row) = self.row(date) else {
            return Err(Error::in_file(&self.path, format!("no row dated {date}")));
        };
        let bytes = self.text.as_bytes();
        let mut range = row.span.clone();
        // The row goes with its own line ending; the last line, which may have none,
        // takes the one before it.
        let ending = match bytes.get(range.end) {
            Some(b'\r') if bytes.get(range.end + 1) == Some(&b'\n') => 2,
            Some(b'\r' | b'\n') => 1,
            _ => 0,
        };
        if ending > 0 {
            range.end += ending;
        } else {
            if range.start > 0 && matches!(bytes[range.start - 1], b'\r' | b'\n') {
                range.start -= 1;
                if bytes[range.start] == b'\n' && range.start > 0 && bytes[range.start - 1] == b'\r'
                {
                    range.start -= 1;
                }
            }
        }
        self.apply(
            vec![Splice {
                range,
                text: String::new(),
                date,
            }],
            false,
        )
    }

    fn apply(&mut self, mut splices: Vec<Splice>, newest_first: bool) -> Result<()> {
        splices.sort_by(|a, b| {
            a.range
                .start
                .cmp(&b.range.start)
                .then_with(|| (!a.range.is_empty()).cmp(&!b.range.is_empty()))
                .then_with(|| {
                    if newest_first {
                        b.date.cmp(&a.date)
                    } else {
                        a.date.cmp(&b.date)
                    }
                })
        });
        let extra: usize = splices.iter().map(|s| s.text.len()).sum();
        let mut text = String::with_capacity(self.text.len() + extra);
        let mut cursor = 0;
        for s in &splices {
            text.push_str(&self.text[cursor..s.range.start]);
            text.push_str(&s.text);
            cursor = s.range.end;
        }
        text.push_str(&self.text[cursor..]);
        (self.table, self.at) = data::parse_table_at(&text, &self.path, true)?;
        self.text = text;
        Ok(())
    }

    /// Writes the file through a temporary file in the same folder and a rename, so a
    /// crash leaves either the old file or the new one. The new file gets the old one's
    /// permissions and, where the OS lets us, its owner. A symlinked CSV stays a link:
    /// the rename happens where it points, beside the file it replaces.
    pub(crate) fn save(&self) -> Result<()> {
        let real = std::fs::canonicalize(&self.path).map_err(|e| Error::io(&self.path, e))?;
        let dir = real.parent().unwrap_or(Path::new("."));
        let old = std::fs::metadata(&real).map_err(|e| Error::io(&self.path, e))?;
        // The rename would replace a file marked read-only (its folder is what the
        // rename needs), and even as root: keep `chmod a-w` meaning "do not edit", as
        // editors do.
        if old.permissions().readonly() {
            return Err(Error::in_file(
                &self.path,
                "read-only (no write permission for anyone); make it writable (`chmod u+w`) to edit it",
            ));
        }
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
        // Failures name the CSV being saved, not the temporary file (removed on the way
        // out), and through the plain file, whose errors do not repeat the path.
        std::io::Write::write_all(tmp.as_file_mut(), self.text.as_bytes())
            .map_err(|e| Error::io(&self.path, e))?;
        tmp.as_file()
            .set_permissions(old.permissions())
            .map_err(|e| Error::io(&self.path, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            // Only root may give a file away; as the owner this is a no-op, so a
            // refusal changes nothing and is not an error.
            let _ = rustix::fs::fchown(
                tmp.as_file(),
                Some(rustix::fs::Uid::from_raw(old.uid())),
                Some(rustix::fs::Gid::from_raw(old.gid())),
            );
        }
        tmp.as_file()
            .sync_all()
            .map_err(|e| Error::io(&self.path, e))?;
        // Editors take no lock: a file another program saved since it was read is
        // refused rather than replaced by an edit of its old text. (A write in the
        // instant between this look and the rename would still be lost; no rename
        // can be made conditional on the file it replaces.)
        let now = std::fs::metadata(&real).map_err(|e| Error::io(&self.path, e))?;
        if Stamp::of(&now) != self.seen {
            return Err(Error::in_file(
                &self.path,
                "changed on disk while this edit was being made (another program wrote it); \
                 nothing was written: run the command again",
            ));
        }
        tmp.persist(&real)
            .map_err(|e| Error::io(&self.path, e.error))?;
        Ok(())
    }
}

/// `old → new (+1.75, +2.7%)`, or `new (first value)`.
pub(crate) fn describe_change(old: Option<Price>, new: Price, decimals: usize) -> String {
    match old {
        None => format!("{} (first value)", new.format(decimals)),
        Some(old) => format!(
            "{} → {} ({})",
            old.format(decimals),
            new.format(decimals),
            Change::between(old, new).text(decimals).short()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "date,mogas,gasoil\n2026-01-01,60.00,55.00\n";

    fn new_row() -> NewRow {
        let date = NaiveDate::from_ymd_opt(2026, 2, 1).expect("a date");
        let value = |s: &str| Price::parse(s).expect("a price");
        (date, vec![value("61.00"), value("56.00")])
    }

    /// A folder holding `fuel.csv` (as [`CSV`]), the file's path, and an edit that has
    /// read it.
    fn opened() -> (tempfile::TempDir, PathBuf, CsvFile) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fuel.csv");
        std::fs::write(&path, CSV).unwrap();
        let file = CsvFile::open_to_add(&path).unwrap();
        (dir, path, file)
    }

    #[test]
    fn an_edit_is_saved_when_nothing_else_wrote_the_file() {
        let (_dir, path, mut file) = opened();
        file.upsert(&[new_row()]).unwrap();
        file.save().unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{CSV}2026-02-01,61.00,56.00\n")
        );
    }

    /// An editor saved the CSV after the edit read it: saving the edit would put the
    /// old text back under the new row and lose what the editor wrote.
    #[test]
    fn an_edit_of_a_file_another_program_wrote_since_is_refused_and_writes_nothing() {
        let (dir, path, mut file) = opened();
        // Written in place, the same length, as an editor that keeps the inode may.
        let theirs = CSV.replace("60.00", "60.50");
        std::fs::write(&path, &theirs).unwrap();
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(1);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(later)
            .unwrap();
        file.upsert(&[new_row()]).unwrap();
        let err = file.save().unwrap_err().to_string();
        assert!(err.contains("fuel.csv"), "{err}");
        assert!(
            err.contains("changed on disk while this edit was being made"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), theirs);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "a temporary file was left: {left:?}");
    }

    /// An editor that saves through a new file and a rename: the path names another
    /// file than the one read.
    #[test]
    fn an_edit_of_a_file_replaced_since_is_refused() {
        let (dir, path, mut file) = opened();
        let theirs = dir.path().join("fuel.csv~");
        std::fs::write(&theirs, CSV).unwrap();
        std::fs::rename(&theirs, &path).unwrap();
        file.upsert(&[new_row()]).unwrap();
        assert!(file.save().is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), CSV);
    }
}
