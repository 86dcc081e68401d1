//! Hostile and careless inputs against the price path and the build, through the real
//! binary: each test is a case that once lost data, hung or published a wrong value.

mod common;

use common::*;
use std::fs;
use std::path::Path;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

fn within(root: &Path, args: &[&str]) -> std::process::Output {
    run_within(root, args, LIMIT).0
}

/// Every input of the site, byte for byte, to show a refused build touched none.
fn inputs(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut all = snapshot(&root.join("data"));
    all.extend(snapshot(&root.join("content")));
    all.insert(
        "site.toml".into(),
        fs::read(root.join("site.toml")).unwrap(),
    );
    all
}

#[test]
fn an_output_folder_that_holds_the_inputs_is_refused_and_nothing_is_deleted() {
    let site = small_site();
    let root = site.path();
    let before = inputs(root);
    let absolute = root.display().to_string();
    for out in [
        "data",
        "content",
        ".",
        absolute.as_str(),
        "..",
        "/",
        "static/site",
        "templates/out",
    ] {
        let o = within(root, &["build", "--out", out]);
        assert_fails_with(&o, "argument --out: ");
        assert!(
            stderr(&o).contains("inputs") || stderr(&o).contains("site root"),
            "{out}: {}",
            stderr(&o)
        );
        assert_eq!(inputs(root), before, "--out {out} changed the inputs");
    }
}

#[test]
fn an_output_folder_not_built_by_petrol_watch_is_left_alone() {
    let site = small_site();
    let root = site.path();
    fs::create_dir(root.join("mine")).unwrap();
    fs::write(root.join("mine/thesis.txt"), "years of work").unwrap();
    let o = within(root, &["build", "--out", "mine"]);
    assert_fails_with(&o, "argument --out: ");
    assert_eq!(
        fs::read_to_string(root.join("mine/thesis.txt")).unwrap(),
        "years of work"
    );
    // An empty folder and a folder a build made are fine.
    fs::create_dir(root.join("empty")).unwrap();
    build_ok(root, "empty");
    build_ok(root, "empty");
}

#[cfg(unix)]
#[test]
fn a_fifo_among_the_inputs_is_refused_instead_of_hanging() {
    let site = small_site();
    let root = site.path();
    let fifo = root.join("data/pipe.csv");
    mkfifo(&fifo);
    let o = within(root, &["check"]);
    assert_fails_with(&o, "pipe.csv: not a regular file");
    let o = within(root, &["price", "list", "--dataset", "pipe"]);
    assert_fails_with(&o, "pipe.csv: not a regular file");
    let o = within(
        root,
        &[
            "import",
            "stc",
            "--file",
            fifo.to_str().unwrap(),
            "--dry-run",
        ],
    );
    assert_fails_with(&o, "pipe.csv: not a regular file");
}

/// A socket cannot even be opened (ENXIO): it is named for what it is, as a pipe is.
#[cfg(unix)]
#[test]
fn a_socket_among_the_inputs_is_named_for_what_it_is() {
    let site = small_site();
    let root = site.path();
    let _listener = std::os::unix::net::UnixListener::bind(root.join("data/sock.csv")).unwrap();
    let o = within(root, &["check"]);
    assert_fails_with(&o, "sock.csv: not a regular file");
}

#[test]
fn a_header_with_a_huge_number_of_columns_is_refused_quickly() {
    let site = small_site();
    let root = site.path();
    let n = 200_000;
    let names: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
    let ones = vec!["1"; n].join(",");
    fs::write(
        root.join("data/wide.csv"),
        format!("date,{}\n2024-01-01,{ones}\n", names.join(",")),
    )
    .unwrap();
    let (o, took) = run_within(root, &["check"], LIMIT);
    assert_fails_with(&o, "wide.csv:1: 200000 series");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn a_huge_change_gets_its_exact_percentage() {
    let site = small_site();
    let root = site.path();
    fs::write(
        root.join("data/tiny.csv"),
        "date,a\n2024-01-01,0.000001\n2024-02-01,999999999999.999999\n",
    )
    .unwrap();
    let o = within(root, &["price", "list", "--dataset", "tiny"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // (999999999999.999999 − 0.000001) / 0.000001 = 999999999999999998 × 100 %.
    assert!(
        stdout(&o).contains("+99999999999999999800.0%"),
        "{}",
        stdout(&o)
    );
    let o = within(root, &["build"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = fs::read_to_string(root.join("public/prices/tiny/index.html")).unwrap();
    assert!(page.contains("+99999999999999999800.0%"), "{page}");
}

#[cfg(unix)]
#[test]
fn price_add_on_a_symlinked_csv_edits_the_target_and_keeps_the_link() {
    let site = small_site();
    let root = site.path();
    fs::create_dir(root.join("shared")).unwrap();
    fs::rename(
        root.join("data/fuel-prices.csv"),
        root.join("shared/fuel-prices.csv"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        "../shared/fuel-prices.csv",
        root.join("data/fuel-prices.csv"),
    )
    .unwrap();
    let o = within(
        root,
        &[
            "price",
            "add",
            "--date",
            "2026-10-01",
            "mogas=70.00",
            "gasoil=71.00",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let link = fs::symlink_metadata(root.join("data/fuel-prices.csv")).unwrap();
    assert!(link.file_type().is_symlink(), "the link was replaced");
    let target = fs::read_to_string(root.join("shared/fuel-prices.csv")).unwrap();
    assert!(target.contains("2026-10-01,70.00,71.00"), "{target}");
    // The target's folder holds no leftover temporary file.
    assert_eq!(fs::read_dir(root.join("shared")).unwrap().count(), 1);
}

fn import(root: &Path, page: &str) -> std::process::Output {
    let file = root.join("page.html");
    fs::write(&file, page).unwrap();
    within(
        root,
        &[
            "import",
            "stc",
            "--file",
            file.to_str().unwrap(),
            "--dry-run",
        ],
    )
}

#[test]
fn import_reads_columns_under_spanning_headers_or_refuses() {
    let site = small_site();
    // Each price has its change beside it, under one header spanning both cells.
    let o = import(
        site.path(),
        "<table><tr><th>Date</th><th colspan=\"2\">MOGAS</th><th colspan=\"2\">GAS OIL</th></tr>\
         <tr><td>1-October-2026</td><td>70.00</td><td>5.75</td><td>71.00</td><td>0.25</td></tr></table>",
    );
    assert!(
        !stdout(&o).contains("gasoil 5.75"),
        "the Mogas change was read as Gas Oil: {}",
        stdout(&o)
    );
    assert_fails_with(&o, "page.html: table row 1: ");
    assert!(
        stderr(&o).contains("2 columns are headed \"mogas\""),
        "{}",
        stderr(&o)
    );
}

#[test]
fn import_refuses_a_price_cell_with_more_than_a_number() {
    let site = small_site();
    let o = import(
        site.path(),
        "<table><tr><th>Date</th><th>MOGAS</th><th>GAS OIL</th></tr>\
         <tr><td>1-October-2026</td><td>70.00<sup>1</sup></td><td>71.00</td></tr></table>",
    );
    assert!(!stdout(&o).contains("70.001"), "{}", stdout(&o));
    assert_fails_with(
        &o,
        "page.html: table row 2: Mogas: \"70.00 1\" is not a price",
    );
}

#[test]
fn import_reads_a_cell_spanning_rows_into_each_row_it_covers() {
    let site = small_site();
    // Gas Oil kept for two decisions, written once; an LPG column follows.
    let o = import(
        site.path(),
        "<table><tr><th>Date</th><th>MOGAS</th><th>GAS OIL</th><th>LPG</th></tr>\
         <tr><td>1-October-2026</td><td>70.00</td><td rowspan=\"2\">71.00</td><td>9.10</td></tr>\
         <tr><td>1-November-2026</td><td>72.00</td><td>9.20</td></tr></table>",
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("would add 2026-11-01: mogas 72.00, gasoil 71.00"),
        "{}",
        stdout(&o)
    );
    let o = import(
        site.path(),
        "<table><tr><th>Date</th><th>MOGAS</th><th colspan=\"100000\">GAS OIL</th></tr></table>",
    );
    assert_fails_with(&o, "page.html: table row 1: a cell spans 100000 columns");
}

#[test]
fn import_refuses_two_price_tables_that_disagree() {
    let site = small_site();
    let table = |m: &str| {
        format!(
            "<table><tr><th>Date</th><th>MOGAS</th><th>GAS OIL</th></tr>\
             <tr><td>1-October-2026</td><td>{m}</td><td>71.00</td></tr></table>"
        )
    };
    let o = import(
        site.path(),
        &format!("{}{}", table("70.00"), table("80.00")),
    );
    assert_fails_with(&o, "page.html: ");
    assert!(stderr(&o).contains("2026-10-01"), "{}", stderr(&o));
    // The same table twice (say, one for phones) is one table.
    let o = import(
        site.path(),
        &format!("{}{}", table("70.00"), table("70.00")),
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stdout(&o).contains("would add 2026-10-01: mogas 70.00"));
}

#[test]
fn import_refuses_a_page_of_millions_of_cells_quickly() {
    let site = small_site();
    let page = format!(
        "<table><tr><th>Date</th><th>MOGAS</th><th>GAS OIL</th></tr><tr>{}</tr></table>",
        "<td colspan=50>".repeat(600_000)
    );
    let started = std::time::Instant::now();
    let o = import(site.path(), &page);
    assert_fails_with(&o, "table cells; the STC page has about 400");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[cfg(unix)]
#[test]
fn a_symlinked_note_and_static_file_are_published_not_skipped() {
    let site = small_site();
    let root = site.path();
    let shared = tempfile::tempdir().unwrap();
    for (from, name) in [("content/notes", "first-note.md"), ("static", "style.css")] {
        fs::rename(root.join(from).join(name), shared.path().join(name)).unwrap();
        std::os::unix::fs::symlink(shared.path().join(name), root.join(from).join(name)).unwrap();
    }
    let o = within(root, &["build"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(root.join("public/notes/first-note/index.html").is_file());
    let home = fs::read_to_string(root.join("public/index.html")).unwrap();
    let css = value_after(&home, "href=\"/static/style.");
    assert!(root.join(format!("public/static/style.{css}")).is_file());
    // A link loop is an error, not a hang.
    std::os::unix::fs::symlink("..", root.join("content/notes/loop")).unwrap();
    let o = within(root, &["check"]);
    assert_fails_with(&o, "content/notes");
}

#[test]
fn import_refuses_a_decision_dated_years_ahead() {
    let site = small_site();
    let o = import(
        site.path(),
        "<table><tr><th>Date</th><th>MOGAS</th><th>GAS OIL</th></tr>\
         <tr><td>16-April-2962</td><td>70.00</td><td>71.00</td></tr></table>",
    );
    assert_fails_with(
        &o,
        "page.html: table row 2: \"16-April-2962\" is 2962-04-16, more than 31 days after today",
    );
}

#[test]
fn price_add_writes_the_first_row_of_a_new_dataset() {
    let site = small_site();
    let root = site.path();
    let csv = root.join("data/new-data.csv");
    fs::write(&csv, "date,a,b\n").unwrap();
    // A dataset needs a row to be built...
    assert_fails_with(
        &within(root, &["check"]),
        "new-data.csv:1: no rows after the header",
    );
    // ...and price add can write it.
    let o = within(
        root,
        &[
            "price",
            "add",
            "--dataset",
            "new-data",
            "--date",
            "2026-01-05",
            "a=1.50",
            "b=2",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(&csv).unwrap(),
        "date,a,b\n2026-01-05,1.50,2\n"
    );
    let o = within(root, &["check"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Listing needs rows; removing the only row would leave no dataset: refused,
    // file unchanged.
    fs::write(&csv, "date,a,b\n").unwrap();
    let o = within(root, &["price", "list", "--dataset", "new-data"]);
    assert_fails_with(&o, "new-data.csv:1: no rows after the header");
    fs::write(&csv, "date,a,b\n2026-01-05,1.50,2\n").unwrap();
    let o = within(
        root,
        &[
            "price",
            "remove",
            "--dataset",
            "new-data",
            "--date",
            "2026-01-05",
        ],
    );
    assert_fails_with(&o, "new-data.csv:1: no rows after the header");
    assert_eq!(
        fs::read_to_string(&csv).unwrap(),
        "date,a,b\n2026-01-05,1.50,2\n"
    );
}

#[test]
fn check_reads_links_in_a_note_nested_100000_deep_quickly() {
    let site = small_site();
    let root = site.path();
    let note = format!(
        "+++\ntitle = \"Deep\"\ndate = 2026-01-01\n+++\n{} [gone](/prices/gone/)\n\n{}<a href=\"/nowhere/\">x</a>\n",
        ">".repeat(100_000),
        "<div>".repeat(100_000)
    );
    fs::write(root.join("content/notes/deep.md"), note).unwrap();
    let (o, took) = run_within(root, &["check"], Duration::from_secs(60));
    assert_fails_with(
        &o,
        "content/notes/deep.md:5: broken link \"/prices/gone/\" on notes/deep/index.html",
    );
    assert!(
        stderr(&o).contains("broken link \"/nowhere/\""),
        "{}",
        stderr(&o)
    );
    assert!(took < Duration::from_secs(15), "{took:?}");
}

#[test]
fn five_thousand_headings_with_one_text_get_unique_ids_quickly() {
    let site = small_site();
    let root = site.path();
    let note = format!(
        "+++\ntitle = \"Same\"\ndate = 2026-01-01\n+++\n## a-2 {{#a-2}}\n\n{}",
        "## a\n\n".repeat(5_000)
    );
    fs::write(root.join("content/notes/same.md"), note).unwrap();
    let (o, took) = run_within(root, &["build"], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(took < Duration::from_secs(10), "{took:?}");
    let page = fs::read_to_string(root.join("public/notes/same/index.html")).unwrap();
    let mut ids: Vec<&str> = page
        .split("<h2 id=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    assert_eq!(ids.len(), 5_001);
    assert_eq!(&ids[..4], ["a-2", "a", "a-1", "a-3"]);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5_001, "repeated ids");
}
