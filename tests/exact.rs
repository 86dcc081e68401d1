//! Each way a price could be published wrong, an edit could do something other than
//! it says, or an input could hang or crash a command: reproduced through the real
//! binary on the frozen fixture site, and shown fixed.

mod common;

use common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

fn csv(site: &Path) -> PathBuf {
    site.join("data/fuel-prices.csv")
}

/// A frozen site whose fuel CSV is `text`.
fn site_with(text: &str) -> tempfile::TempDir {
    let site = frozen_site();
    fs::write(csv(site.path()), text).unwrap();
    site
}

fn add(site: &Path, date: &str, values: &[&str]) -> std::process::Output {
    let mut args = vec!["price", "add", "--date", date];
    args.extend(values);
    run_within(site, &args, LIMIT).0
}

#[test]
fn the_largest_allowed_value_is_published_with_exactly_its_digits() {
    let site = site_with("date,mogas,gasoil\n2004-01-01,123456789012.123456,1\n2004-02-01,1,2\n");
    let (out, _) = run_within(site.path(), &["build"], LIMIT);
    assert!(out.status.success(), "{}", stderr(&out));
    let public = site.path().join("public");
    let published = fs::read_to_string(public.join("data/fuel-prices.csv")).unwrap();
    assert!(
        published.contains("2004-01-01,123456789012.123456,1\n"),
        "{published}"
    );
    let json = fs::read_to_string(public.join("api/prices.json")).unwrap();
    assert!(json.contains("\"mogas\":123456789012.123456,"), "{json}");
    let home = fs::read_to_string(public.join("prices/fuel-prices/index.html")).unwrap();
    assert!(home.contains("123456789012.123456"));

    // price add writes such a value back exactly.
    let out = add(
        site.path(),
        "2004-03-01",
        &["mogas=999999999999.999999", "gasoil=0.000001"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = fs::read_to_string(csv(site.path())).unwrap();
    assert!(
        text.ends_with("2004-03-01,999999999999.999999,0.000001\n"),
        "{text}"
    );
}

#[test]
fn values_outside_the_rules_are_refused_with_the_line_by_every_command() {
    let too_precise = "123456789012.123456789";
    let huge = format!("143{}", "0".repeat(306));
    let long_fraction = format!("1.{}", "5".repeat(65_536));
    for (value, want) in [
        (too_precise, "9 digits after the point"),
        (huge.as_str(), "309 digits before the point"),
        (long_fraction.as_str(), "65536 digits after the point"),
    ] {
        let text = format!("date,mogas,gasoil\n2004-01-01,1,2\n2004-02-01,{value},2\n");
        let site = site_with(&text);
        for cmd in [&["build"][..], &["check"], &["price", "list"]] {
            let (out, took) = run_within(site.path(), cmd, LIMIT);
            assert_fails_with(&out, "data/fuel-prices.csv:3: mogas: ");
            assert!(stderr(&out).contains(want), "{cmd:?}: {}", stderr(&out));
            assert!(
                stderr(&out).len() < 1000,
                "the message quotes a short prefix"
            );
            assert!(took < Duration::from_secs(10), "{cmd:?} took {took:?}");
        }
        // price add refuses it too, and leaves the file byte-identical.
        let site = frozen_site();
        let before = fs::read(csv(site.path())).unwrap();
        let mogas = format!("mogas={value}");
        let out = add(site.path(), "2030-01-01", &[&mogas, "gasoil=1"]);
        assert_fails_with(&out, "argument mogas=: ");
        assert!(stderr(&out).contains(want), "{}", stderr(&out));
        assert_eq!(fs::read(csv(site.path())).unwrap(), before);
        // So does import stc.
        let page = site.path().join("page.html");
        fs::write(
            &page,
            format!("<table><tr><th>Date</th><th>Mogas</th><th>Gas Oil</th></tr><tr><td>1-May-2030</td><td>{value}</td><td>1</td></tr></table>"),
        )
        .unwrap();
        let (out, _) = run_within(
            site.path(),
            &["import", "stc", "--file", page.to_str().unwrap()],
            LIMIT,
        );
        assert_fails_with(&out, "page.html: table row 2: Mogas: ");
        assert_eq!(fs::read(csv(site.path())).unwrap(), before);
    }
}

#[test]
fn errors_name_the_physical_line_after_blank_lines_and_crlf() {
    for (text, want) in [
        (
            "date,mogas,gasoil\n\n\n\n\n2004-02-01,x,2\n",
            "fuel-prices.csv:6: mogas: \"x\"",
        ),
        (
            "date,mogas,gasoil\r\n2004-01-01,1,2\r\n\r\n\r\n2004-02-01,1,x\r\n",
            "fuel-prices.csv:5: gasoil: \"x\"",
        ),
        (
            "date,mogas,gasoil\n2004-01-01,1,2\n\n2004-01-01,1,2\n",
            "fuel-prices.csv:4: duplicate date 2004-01-01 (also on line 2)",
        ),
    ] {
        let site = site_with(text);
        let (out, _) = run_within(site.path(), &["check"], LIMIT);
        assert_fails_with(&out, want);
    }
}

#[test]
fn remove_removes_the_named_row_and_add_then_inserts_in_order() {
    let start =
        "date,mogas,gasoil\n2004-01-01,1.00,2.00\n\n2004-02-01,3.00,4.00\n2004-03-01,5.00,6.00\n";
    let site = site_with(start);
    let (out, _) = run_within(
        site.path(),
        &["price", "remove", "--date", "2004-02-01"],
        LIMIT,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(":4: removed 2004-02-01 (3.00, 4.00)"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        fs::read_to_string(csv(site.path())).unwrap(),
        "date,mogas,gasoil\n2004-01-01,1.00,2.00\n\n2004-03-01,5.00,6.00\n"
    );
    let out = add(site.path(), "2004-02-15", &["mogas=3.5", "gasoil=4"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        fs::read_to_string(csv(site.path())).unwrap(),
        "date,mogas,gasoil\n2004-01-01,1.00,2.00\n2004-02-15,3.50,4.00\n\n2004-03-01,5.00,6.00\n"
    );
    // Quoting, a BOM, CRLF and no final newline: untouched rows stay byte for byte.
    let start =
        "\u{feff}date,mogas,gasoil\r\n\"2004-01-01\",\"1.00\",2.00\r\n\r\n2004-03-01,5.00,6.00";
    let site = site_with(start);
    let out = add(site.path(), "2004-04-01", &["mogas=7", "gasoil=8"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (out, _) = run_within(
        site.path(),
        &["price", "remove", "--date", "2004-01-01"],
        LIMIT,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        fs::read_to_string(csv(site.path())).unwrap(),
        "\u{feff}date,mogas,gasoil\r\n\r\n2004-03-01,5.00,6.00\r\n2004-04-01,7.00,8.00"
    );
}

#[test]
fn twenty_concurrent_adds_all_land() {
    let site = frozen_site();
    let before = fs::read_to_string(csv(site.path())).unwrap();
    let root = site.path().to_path_buf();
    let handles: Vec<_> = (1..=20)
        .map(|day| {
            let root = root.clone();
            std::thread::spawn(move || {
                let date = format!("2030-01-{day:02}");
                let out = add(&root, &date, &["mogas=70.00", "gasoil=71.00"]);
                (date, out)
            })
        })
        .collect();
    for h in handles {
        let (date, out) = h.join().unwrap();
        assert!(out.status.success(), "{date}: {}", stderr(&out));
        assert!(stdout(&out).contains(&format!("added {date}")));
    }
    let after = fs::read_to_string(csv(site.path())).unwrap();
    let mut want = before;
    for day in 1..=20 {
        want.push_str(&format!("2030-01-{day:02},70.00,71.00\n"));
    }
    assert_eq!(after, want, "every success is a row in the file, in order");
}

#[cfg(unix)]
#[test]
fn add_keeps_the_file_mode_and_refuses_a_repeated_series() {
    use std::os::unix::fs::PermissionsExt;
    let site = frozen_site();
    for mode in [0o644, 0o664, 0o640] {
        fs::set_permissions(csv(site.path()), fs::Permissions::from_mode(mode)).unwrap();
        let date = format!("2030-02-{:02}", mode % 28 + 1);
        let out = add(site.path(), &date, &["mogas=1", "gasoil=2"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let now = fs::metadata(csv(site.path())).unwrap().permissions().mode() & 0o777;
        assert_eq!(now, mode, "mode {mode:o} survives the rename");
    }
    let before = fs::read(csv(site.path())).unwrap();
    for values in [
        &["--mogas", "1", "--mogas", "2", "--gasoil", "1"][..],
        &["mogas=1", "gasoil=1", "mogas=2"],
        &["mogas=1", "--gasoil", "1", "--gasoil=2"],
    ] {
        let out = add(site.path(), "2030-03-01", values);
        assert_fails_with(&out, "given twice");
        assert_eq!(fs::read(csv(site.path())).unwrap(), before, "{values:?}");
    }
}

#[test]
fn a_second_date_column_is_refused() {
    let site = site_with("date,date,mogas\n2004-01-01,2004-01-01,1\n");
    let (out, _) = run_within(site.path(), &["build"], LIMIT);
    assert_fails_with(
        &out,
        "fuel-prices.csv:1: `date` appears twice in the header",
    );
}

#[test]
fn help_and_root_work_anywhere_on_a_price_add_line() {
    let site = frozen_site();
    let before = fs::read(csv(site.path())).unwrap();
    let out = add(site.path(), "2030-01-01", &["mogas=1", "--help"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("SERIES=VALUE"), "{}", stdout(&out));
    assert_eq!(fs::read(csv(site.path())).unwrap(), before);
    // --root after the values, and no --root before them.
    let out = std::process::Command::new(bin())
        .args([
            "price",
            "add",
            "--date",
            "2030-01-01",
            "--mogas",
            "66",
            "gasoil=72.5",
        ])
        .arg("--root")
        .arg(site.path())
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = fs::read_to_string(csv(site.path())).unwrap();
    assert!(text.ends_with("2030-01-01,66.00,72.50\n"), "{text}");
    // A value that is not SERIES=VALUE is a usage error.
    let out = add(site.path(), "2030-02-01", &["66.00"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn io_errors_print_the_os_message_once() {
    let site = frozen_site();
    let (out, _) = run_within(site.path(), &["price", "list", "--dataset", "nope"], LIMIT);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("nope.csv"), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}

fn page(site: &Path, html: &str) -> String {
    let path = site.join("page.html");
    fs::write(&path, html).unwrap();
    path.to_string_lossy().into_owned()
}

fn import(site: &Path, page: &str, extra: &[&str]) -> (std::process::Output, Duration) {
    let mut args = vec!["import", "stc", "--file", page];
    args.extend(extra);
    run_within(site, &args, LIMIT)
}

#[test]
fn import_finds_columns_by_header_text_not_by_order() {
    let site = site_with("date,mogas,gasoil\n2026-04-16,64.25,71.25\n");
    let html = page(
        site.path(),
        "<table><tr><th> gas  OIL </th><th>Mogas</th><th>Date from which price applies</th></tr>\
         <tr><td>Rs/Litre</td><td>Rs/Litre</td><td></td></tr>\
         <tr><td>71.25</td><td>70.65</td><td>15-Août-2026</td></tr>\
         <tr><td>71.25</td><td>64.25</td><td>16-April-26</td></tr></table>",
    );
    let (out, _) = import(site.path(), &html, &["--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        summary["added"],
        serde_json::json!([{"date": "2026-08-15", "mogas": "70.65", "gasoil": "71.25", "page_row": 3}])
    );
    assert_eq!(summary["agreeing"][0]["date"], "2026-04-16");
    assert_eq!(summary["disagreeing"], serde_json::json!([]));
    assert_eq!(
        fs::read_to_string(csv(site.path())).unwrap(),
        "date,mogas,gasoil\n2026-04-16,64.25,71.25\n2026-08-15,70.65,71.25\n"
    );
    // Again: nothing new, exit 0.
    let (out, _) = import(site.path(), &html, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // A table it cannot map is refused with nothing written.
    let before = fs::read(csv(site.path())).unwrap();
    for (html, want) in [
        (
            "<table><tr><th>Date</th><th>Petrol</th><th>Diesel</th></tr><tr><td>1-May-2027</td><td>1</td><td>2</td></tr></table>",
            "no table headed with MOGAS and GAS OIL",
        ),
        (
            "<table><tr><th>Date</th><th>Mogas</th><th>Diesel</th></tr><tr><td>1-May-2027</td><td>1</td><td>2</td></tr></table>",
            "table row 1: the header names MOGAS but not GAS OIL",
        ),
    ] {
        let p = page(site.path(), html);
        let (out, _) = import(site.path(), &p, &[]);
        assert_fails_with(&out, want);
        assert_eq!(fs::read(csv(site.path())).unwrap(), before);
    }
}

#[test]
fn import_reports_disagreements_with_exit_4_and_exact_values_in_json() {
    let site = site_with("date,mogas,gasoil\n2026-04-16,64.25,71.25\n");
    let html = page(
        site.path(),
        "<table><tr><th>Date</th><th>MOGAS</th><th>GAS OIL</th></tr>\
         <tr><td>16-April-2026</td><td>64.2500</td><td>71.305</td></tr></table>",
    );
    let before = fs::read(csv(site.path())).unwrap();
    let (out, _) = import(site.path(), &html, &["--json"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &summary["disagreeing"][0];
    assert_eq!(d["date"], "2026-04-16");
    // The page's extra digit is kept, not rounded away to the column's decimals.
    assert_eq!(d["gasoil"], "71.305");
    assert_eq!(d["csv"]["gasoil"], "71.25");
    assert_eq!(d["applied"], false);
    assert_eq!(fs::read(csv(site.path())).unwrap(), before);
}

#[test]
fn import_resolves_two_digit_years_and_refuses_dates_before_the_mechanism() {
    let site = frozen_site();
    let before = fs::read(csv(site.path())).unwrap();
    let html = page(
        site.path(),
        "<table><tr><th>Date</th><th>MOGAS</th><th>GAS OIL</th></tr>\
         <tr><td>4-May-96</td><td>15.00</td><td>9.00</td></tr></table>",
    );
    let (out, _) = import(site.path(), &html, &[]);
    assert_fails_with(
        &out,
        "table row 2: \"4-May-96\" is 1996-05-04, before the automatic pricing mechanism began on 1 July 2002",
    );
    assert_eq!(fs::read(csv(site.path())).unwrap(), before);
    // "Before APM" is the page's note of the older price, not a decision: skipped.
    let html = page(
        site.path(),
        "<table><tr><th>Date</th><th>MOGAS</th><th>GAS OIL</th></tr>\
         <tr><td>2-Apr-04</td><td>21.35</td><td>13.05</td></tr>\
         <tr><td>Before APM (01 July 2002)</td><td>20.40</td><td>11.90</td></tr></table>",
    );
    let (out, _) = import(site.path(), &html, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("1 rows on the page: 1 agree"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn hostile_pages_fail_fast_and_a_long_real_table_imports_in_linear_time() {
    let site = site_with("date,mogas,gasoil\n2002-07-01,20.00,12.00\n");
    let before = fs::read(csv(site.path())).unwrap();
    let nested = format!(
        "{}{}",
        "<table><tr><td>".repeat(5_000),
        "</td></tr></table>".repeat(5_000)
    );
    let mut many_rows = String::from("<table><tr><th>Date</th><th>MOGAS</th><th>GAS OIL</th></tr>");
    for _ in 0..100_000 {
        many_rows.push_str("<tr><td>1-May-2030</td><td>1</td><td>1</td></tr>");
    }
    let mut deep_cells = String::from(
        "<table><tr><th>Date</th><th>MOGAS</th><th>GAS OIL</th></tr><tr><td>1-May-2030</td><td>",
    );
    deep_cells.push_str(&"<div>".repeat(50_000));
    deep_cells.push_str("</td></tr></table>");
    for (html, want) in [
        (nested, "5000 tables"),
        (many_rows, "100001 table rows"),
        (deep_cells, "elements nested about 50001 deep"),
    ] {
        let p = page(site.path(), &html);
        let (out, took) = import(site.path(), &p, &[]);
        assert_fails_with(&out, want);
        assert!(took < Duration::from_secs(2), "{want}: took {took:?}");
        assert_eq!(fs::read(csv(site.path())).unwrap(), before);
    }
    // 4,000 new daily decisions: read, merged and written in one linear pass.
    let mut html = String::from("<table><tr><th>Date</th><th>MOGAS</th><th>GAS OIL</th></tr>");
    let first = chrono::NaiveDate::from_ymd_opt(2002, 7, 2).unwrap();
    for i in 0..4_000u64 {
        let d = first + chrono::Days::new(i);
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}.{:02}</td><td>12.00</td></tr>",
            d.format("%-d-%B-%Y"),
            20 + i / 100,
            i % 100
        ));
    }
    let p = page(site.path(), &html);
    let (out, took) = import(site.path(), &p, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let text = fs::read_to_string(csv(site.path())).unwrap();
    assert_eq!(text.lines().count(), 1 + 1 + 4_000);
    assert!(
        text.ends_with("2013-06-13,59.99,12.00\n"),
        "{}",
        &text[text.len() - 100..]
    );
}
