//! Property tests through the real binary: any CSV text, note front matter or STC page
//! makes a command exit 0 with sound output or 1 naming the file (and line), never
//! panic, abort or hang. The bulk of the cases run in-process on the parsers (unit
//! tests in src/); these few hundred go through the binary, each bounded in time.

mod common;

use common::*;
use proptest::prelude::*;
use std::fs;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

fn csv_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("date,mogas,gasoil".to_string()),
        Just(String::new()),
        (2002u32..2031, 1u32..13, 1u32..32)
            .prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02},1.25,3")),
        "[0-9]{1,14}(\\.[0-9]{0,8})?".prop_map(|v| format!("2004-01-01,{v},1")),
        "(20[0-9]{2}-[01][0-9]-[0-3][0-9])(,[0-9.\\-]{0,6}){0,4}",
        "\"[0-9,\\n-]{0,12}\",1,2",
        "[ -~]{0,20}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_csv_is_listed_or_refused_with_its_line(
        lines in proptest::collection::vec(csv_line(), 0..8),
        crlf in any::<bool>(),
        bom in any::<bool>(),
    ) {
        let site = frozen_site();
        let mut text = lines.join(if crlf { "\r\n" } else { "\n" });
        if bom {
            text.insert(0, '\u{feff}');
        }
        fs::write(site.path().join("data/fuel-prices.csv"), &text).unwrap();
        let (out, _) = run_within(site.path(), &["price", "list", "--last", "1000"], LIMIT);
        match out.status.code() {
            Some(0) => {
                let listed = stdout(&out).lines().count() - 1;
                prop_assert!(listed >= 1 && listed <= lines.len(), "{}", stdout(&out));
            }
            Some(1) => {
                let err = stderr(&out);
                let line: usize = err
                    .split_once("data/fuel-prices.csv:")
                    .filter(|(before, _)| before.starts_with("error: "))
                    .and_then(|(_, rest)| rest.split(':').next())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("no file:line in {err:?}"));
                prop_assert!(line >= 1 && line <= 1 + text.matches('\n').count(), "{err}");
            }
            other => prop_assert!(false, "exit {other:?}: {}", stderr(&out)),
        }
    }

    #[test]
    fn any_front_matter_checks_or_is_refused_naming_the_note(
        fields in proptest::collection::vec(prop_oneof![
            Just("title = \"A note\"".to_string()),
            Just("date = 2026-01-01".to_string()),
            "date = \"[0-9-]{0,12}\"",
            "tags = \\[(\"[a-z ]{0,6}\",?){0,3}\\]?",
            "draft = (true|false|1)",
            "[ -~]{0,16}",
        ], 0..6),
        closed in any::<bool>(),
        body in "[ -~\\n]{0,60}",
    ) {
        let site = frozen_site();
        let mut text = format!("+++\n{}\n", fields.join("\n"));
        if closed {
            text.push_str("+++\n");
        }
        text.push_str(&body);
        fs::write(site.path().join("content/notes/p.md"), &text).unwrap();
        let (out, _) = run_within(site.path(), &["check"], LIMIT);
        match out.status.code() {
            Some(0) => {}
            Some(1) => prop_assert!(
                stderr(&out).contains("content/notes/p.md"),
                "{}", stderr(&out)
            ),
            other => prop_assert!(false, "exit {other:?}: {}", stderr(&out)),
        }
    }

    #[test]
    fn any_stc_page_imports_or_is_refused_naming_the_page(
        header in prop_oneof![
            Just("<tr><th>Date</th><th>MOGAS</th><th>GAS OIL</th></tr>"),
            Just("<tr><th>gas oil</th><th>Mogas</th><th>date</th></tr>"),
            Just("<tr><th>Date</th><th>Mogas</th></tr>"),
            Just(""),
        ],
        cells in proptest::collection::vec(prop_oneof![
            "[0-9]{1,2}-(May|Fev|Août|Dec|Juillet)-[0-9]{2,4}",
            "[0-9]{1,3}[.,][0-9]{1,7}",
            "[ -~]{0,10}",
            Just("<table><tr><td>1</td></tr></table>".to_string()),
        ], 0..24),
    ) {
        let site = frozen_site();
        let csv = site.path().join("data/fuel-prices.csv");
        let before = fs::read(&csv).unwrap();
        let mut html = format!("<table>{header}");
        for row in cells.chunks(3) {
            html.push_str("<tr>");
            for c in row {
                html.push_str(&format!("<td>{c}</td>"));
            }
            html.push_str("</tr>");
        }
        html.push_str("</table>");
        let page = site.path().join("page.html");
        fs::write(&page, &html).unwrap();
        let (out, _) = run_within(
            site.path(),
            &["import", "stc", "--file", page.to_str().unwrap(), "--dry-run", "--json"],
            LIMIT,
        );
        match out.status.code() {
            Some(0 | 3 | 4) => {
                let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                prop_assert_eq!(&summary["exit_code"], &serde_json::json!(out.status.code().unwrap()));
            }
            Some(1) => prop_assert!(stderr(&out).contains("page.html: "), "{}", stderr(&out)),
            other => prop_assert!(false, "exit {other:?}: {}", stderr(&out)),
        }
        prop_assert_eq!(fs::read(&csv).unwrap(), before, "--dry-run writes nothing");
    }
}

/// One generated value: digits before the point and after it (maybe none).
fn value() -> impl Strategy<Value = (String, String)> {
    ("[0-9]{1,5}", "[0-9]{0,6}")
}

/// The value as the JSON download writes it: the shortest exact text.
fn trimmed((int, frac): &(String, String)) -> String {
    let int = match int.trim_start_matches('0') {
        "" => "0",
        digits => digits,
    };
    match frac.trim_end_matches('0') {
        "" => int.to_string(),
        frac => format!("{int}.{frac}"),
    }
}

/// The value as the CSV download writes it: with its column's `decimals`.
fn fixed((int, frac): &(String, String), decimals: usize) -> String {
    let int = match int.trim_start_matches('0') {
        "" => "0",
        digits => digits,
    };
    if decimals == 0 {
        int.to_string()
    } else {
        format!("{int}.{frac:0<decimals$}")
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Rows in any order, with blank lines, CRLF, a BOM and quoted fields, come out
    /// of the column loader and the streamed downloads exactly: every date and every
    /// digit, oldest first, in both the JSON and the CSV.
    #[test]
    fn downloads_publish_exactly_the_rows_read(
        rows in proptest::collection::btree_map(0i64..20_000, (value(), value(), any::<bool>(), any::<bool>()), 1..40)
            .prop_map(|m| m.into_iter().collect::<Vec<_>>())
            .prop_shuffle(),
        crlf in any::<bool>(),
        bom in any::<bool>(),
    ) {
        let site = frozen_site();
        let day = |offset: i64| {
            (chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap() + chrono::Duration::days(offset)).to_string()
        };
        let newline = if crlf { "\r\n" } else { "\n" };
        let mut text = String::from(if bom { "\u{feff}date,low,high" } else { "date,low,high" });
        for (offset, (a, b, blank, quoted)) in &rows {
            text.push_str(newline);
            let field = |(int, frac): &(String, String)| {
                let v = if frac.is_empty() { int.clone() } else { format!("{int}.{frac}") };
                if *quoted { format!("\"{v}\"") } else { v }
            };
            text.push_str(&format!("{},{},{}", day(*offset), field(a), field(b)));
            if *blank {
                text.push_str(newline);
            }
        }
        fs::write(site.path().join("data/prop-test.csv"), &text).unwrap();
        let (out, _) = run_within(site.path(), &["build", "--out", "public"], LIMIT);
        prop_assert!(out.status.success(), "{}", stderr(&out));

        let mut sorted = rows.clone();
        sorted.sort_by_key(|(offset, _)| *offset);
        let json: Vec<String> = sorted
            .iter()
            .map(|(o, (a, b, _, _))| format!("\n{{\"date\":\"{}\",\"low\":{},\"high\":{}}}", day(*o), trimmed(a), trimmed(b)))
            .collect();
        let want_json = format!("[{}\n]\n", json.join(","));
        let got_json = fs::read_to_string(site.path().join("public/api/prop-test.json")).unwrap();
        prop_assert_eq!(got_json, want_json);

        let da = sorted.iter().map(|(_, (a, _, _, _))| a.1.len()).max().unwrap_or(0);
        let db = sorted.iter().map(|(_, (_, b, _, _))| b.1.len()).max().unwrap_or(0);
        let mut want_csv = String::from("date,low,high\n");
        for (o, (a, b, _, _)) in &sorted {
            want_csv.push_str(&format!("{},{},{}\n", day(*o), fixed(a, da), fixed(b, db)));
        }
        let got_csv = fs::read_to_string(site.path().join("public/data/prop-test.csv")).unwrap();
        prop_assert_eq!(got_csv, want_csv);
    }

    /// The build (column loader, no spans kept) and the editor (spans kept) refuse the
    /// same broken file with the same file, line and message.
    #[test]
    fn build_and_editor_refuse_a_csv_alike(
        lines in proptest::collection::vec(csv_line(), 0..8),
        crlf in any::<bool>(),
    ) {
        let site = frozen_site();
        let text = lines.join(if crlf { "\r\n" } else { "\n" });
        fs::write(site.path().join("data/prop-test.csv"), &text).unwrap();
        let (list, _) = run_within(site.path(), &["price", "list", "--dataset", "prop-test"], LIMIT);
        if list.status.code() == Some(1) {
            let (build, _) = run_within(site.path(), &["build", "--out", "public"], LIMIT);
            prop_assert_eq!(build.status.code(), Some(1));
            let refusal = stderr(&list);
            let refusal = refusal.lines().next().unwrap_or_default();
            prop_assert!(refusal.contains("data/prop-test.csv:"), "{}", refusal);
            prop_assert!(stderr(&build).contains(refusal), "{}\nvs\n{}", stderr(&build), refusal);
        } else {
            prop_assert_eq!(list.status.code(), Some(0), "{}", stderr(&list));
        }
    }
}
