//! The maintainer's commands attacked as a careless maintainer and a hostile file
//! system would (line endings the editor must keep, a file marked read-only), and what
//! readers get, checked as invariants on the bundled site built through the real binary.

mod common;

use common::*;
use std::fs;
use std::path::Path;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// Runs the real binary in `root`, bounded in time.
fn within(root: &Path, args: &[&str]) -> std::process::Output {
    run_within(root, args, LIMIT).0
}

/// A dataset in `site`'s data/ with exactly `text`; returns its path.
fn dataset(site: &Path, name: &str, text: &[u8]) -> std::path::PathBuf {
    let path = site.join(format!("data/{name}.csv"));
    fs::write(&path, text).unwrap();
    path
}

/// A file saved with old Mac line endings (a lone CR ends each line) gets its new row
/// with a CR too: an edit keeps the file's style, and never mixes line endings.
#[test]
fn an_edit_keeps_lone_cr_line_endings() {
    let site = small_site();
    let csv = dataset(
        site.path(),
        "cr",
        b"date,brent\r2026-01-01,76.10\r2026-02-01,77.00\r",
    );
    let o = within(
        site.path(),
        &[
            "price",
            "add",
            "--dataset",
            "cr",
            "--date",
            "2026-03-01",
            "brent=78.5",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        fs::read(&csv).unwrap(),
        b"date,brent\r2026-01-01,76.10\r2026-02-01,77.00\r2026-03-01,78.50\r"
    );
    // Oldest first into the middle, and a removal, keep it too.
    let o = within(
        site.path(),
        &[
            "price",
            "add",
            "--dataset",
            "cr",
            "--date",
            "2025-12-01",
            "brent=70",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = within(
        site.path(),
        &["price", "remove", "--dataset", "cr", "--date", "2026-02-01"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        fs::read(&csv).unwrap(),
        b"date,brent\r2025-12-01,70.00\r2026-01-01,76.10\r2026-03-01,78.50\r"
    );
}

/// A CSV the maintainer marked read-only (`chmod a-w`) is not replaced behind their
/// back by the rename every edit ends with: the edit and a non-dry-run import are
/// refused, naming the file, and it stays byte-identical and read-only.
#[cfg(unix)]
#[test]
fn a_read_only_csv_is_not_edited() {
    use std::os::unix::fs::PermissionsExt as _;
    let site = small_site();
    let csv = site.path().join("data/fuel-prices.csv");
    let before = fs::read(&csv).unwrap();
    fs::set_permissions(&csv, fs::Permissions::from_mode(0o444)).unwrap();
    let o = within(
        site.path(),
        &[
            "price",
            "add",
            "--date",
            "2026-05-01",
            "mogas=66",
            "gasoil=72.5",
        ],
    );
    assert_fails_with(&o, "fuel-prices.csv: read-only");
    let o = within(site.path(), &["price", "remove", "--date", "2026-04-16"]);
    assert_fails_with(&o, "fuel-prices.csv: read-only");
    let page = repo().join("tests/fixtures/stc/retail-prices.html");
    let page = page.to_str().unwrap();
    let o = within(site.path(), &["import", "stc", "--file", page]);
    assert_fails_with(&o, "fuel-prices.csv: read-only");
    // Reading still works, and so does a dry run, which writes nothing.
    let o = within(site.path(), &["import", "stc", "--file", page, "--dry-run"]);
    assert!(matches!(o.status.code(), Some(3 | 4)), "{}", stderr(&o));
    assert_eq!(fs::read(&csv).unwrap(), before);
    assert_eq!(
        fs::metadata(&csv).unwrap().permissions().mode() & 0o777,
        0o444
    );
    let o = within(site.path(), &["price", "list"]);
    assert!(o.status.success(), "{}", stderr(&o));
}
