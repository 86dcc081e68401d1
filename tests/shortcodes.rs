//! Shortcodes in notes: live figures from the frozen fixture data, expanded before
//! markdown, left alone in code, and refused with the note's file and line.

mod common;

use std::fs;
use std::path::Path;

use common::*;

/// The frozen site with the shortcode fixture notes added to its notes.
fn site_with_notes() -> tempfile::TempDir {
    let site = frozen_site();
    copy_dir(
        &repo().join("tests/fixtures/notes-shortcodes"),
        &site.path().join("content/notes"),
    );
    site
}

fn note_html(site: &Path, slug: &str) -> String {
    fs::read_to_string(site.join(format!("public/notes/{slug}/index.html"))).unwrap()
}

/// Writes a note with `body` after a three-line front matter (so the body's first
/// line is line 5 of the file).
fn write_note(site: &Path, body: &str) {
    fs::write(
        site.join("content/notes/bad.md"),
        format!("+++\ntitle = \"Bad\"\ndate = 2026-05-01\n+++\n{body}"),
    )
    .unwrap();
}

#[test]
fn each_shortcode_gives_the_exact_value_from_the_data() {
    let site = site_with_notes();
    build_ok(site.path(), "public");
    let html = note_html(site.path(), "live-figures");
    // Hand-computed from tests/fixtures/site/data/fuel-prices.csv: the last rows are
    // 2026-03-25 (58.45, 64.80) and 2026-04-16 (64.25, 71.25); 121 decisions.
    for want in [
        "Mogas now: Rs 64.25.",
        // 2022-04-20 was 67.40; 2022-05-19 set 74.10.
        "On 18 May 2022: Rs 67.40.",
        "On 20 May 2022: Rs 74.10.",
        // 5.80 / 58.45 = 9.92%; 6.45 / 64.80 = 9.95%.
        "Latest Mogas change: up Rs 5.80 (+9.9%).",
        "Latest Gas Oil change: up Rs 6.45 (+10.0%).",
        "Decisions: 121.",
        "Mogas record: Rs 74.10 on 19 May 2022.",
        "Gas Oil lowest: Rs 13.05.",
        "From 2 April 2004 to 16 April 2026.",
        // Of the 120 changes between consecutive rows.
        "Mogas moves: 35 up, 28 down, 57 kept.",
    ] {
        assert!(html.contains(want), "want {want:?} in:\n{html}");
    }
}

#[test]
fn shortcodes_in_code_are_left_verbatim() {
    let site = site_with_notes();
    build_ok(site.path(), "public");
    let html = note_html(site.path(), "live-figures");
    assert!(
        html.contains("<code>{{ price(dataset=\"fuel-prices\", series=\"mogas\") }}</code>"),
        "inline code: {html}"
    );
    assert!(html.contains("{{ nonsense }}"), "fenced block: {html}");
    assert!(
        html.contains("{{ indented(code=&quot;block&quot;) }}"),
        "indented block: {html}"
    );
}

#[test]
fn chart_shortcode_draws_a_window_with_title_description_and_table_link() {
    let site = site_with_notes();
    build_ok(site.path(), "public");
    let html = note_html(site.path(), "live-figures");
    assert_eq!(
        html.matches("<figure class=\"note-chart\">").count(),
        2,
        "{html}"
    );
    // 2021-01-01..2022-12-31 holds 8 decisions; the last one in force is 2022-09-14.
    assert!(html.contains(
        "alt=\"Step chart of Mogas (petrol) and Gas Oil (diesel) in Rs/litre, 8 decisions from 1 January 2021 to 31 December 2022. On 31 December 2022: Mogas (petrol) Rs 74.10, Gas Oil (diesel) Rs 54.55.\""
    ), "{html}");
    assert!(html.contains("Retail fuel prices, Mogas (petrol) and Gas Oil (diesel): 1 January 2021 to 31 December 2022."));
    assert!(html.contains("<a href=\"/prices/fuel-prices/\">Every decision as a table</a>"));
    assert!(
        html.contains("<a href=\"/prices/fuel-prices/2022/\">The 2022 decisions as a table</a>")
    );
    for size in ["", "-narrow"] {
        let src = value_after(&html, &format!("=\"/charts/fuel-prices-note{size}."));
        let path = site
            .path()
            .join(format!("public/charts/fuel-prices-note{size}.{src}"));
        let svg = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(svg.starts_with("<svg") || svg.contains("<svg"), "{svg}");
        assert!(
            svg.contains("1 January 2021 to 31 December 2022"),
            "title in the SVG"
        );
        // The window's values, as exact text, and nothing from before it but the
        // price in force when it opens (2020-12-05: 44.00).
        assert!(svg.contains("Rs 74.10"));
        assert!(svg.contains("Rs 44.00"));
        assert!(!svg.contains("Rs 21.35"));
    }
    // The charts are checked by `check` too: every link resolves.
    let out = run(site.path(), &["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn every_bad_call_is_an_error_naming_note_and_line() {
    let cases: &[(&str, &str)] = &[
        (
            "{{ cost(dataset=\"fuel-prices\") }}",
            "unknown shortcode `cost`",
        ),
        (
            "{{ price(dataset=\"kerosene\", series=\"mogas\") }}",
            "unknown dataset \"kerosene\"",
        ),
        (
            "{{ price(dataset=\"fuel-prices\", series=\"lpg\") }}",
            "unknown series \"lpg\"",
        ),
        (
            "{{ price(dataset=\"fuel-prices\", series=\"mogas\", colour=\"red\") }}",
            "unknown argument `colour`",
        ),
        (
            "{{ price(dataset=\"fuel-prices\") }}",
            "`price` needs the argument `series`",
        ),
        (
            "{{ stat(dataset=\"fuel-prices\", series=\"mogas\") }}",
            "`stat` needs the argument `what`",
        ),
        (
            "{{ stat(dataset=\"fuel-prices\", series=\"mogas\", what=\"median\") }}",
            "unknown stat \"median\"",
        ),
        (
            "{{ chart(dataset=\"fuel-prices\", to=\"2022-01-01\") }}",
            "`chart` needs the argument `from`",
        ),
        (
            "{{ price(dataset=\"fuel-prices\", series=\"mogas\", date=\"2003-01-01\") }}",
            "outside the data",
        ),
        (
            "{{ price(dataset=\"fuel-prices\", series=\"mogas\", date=\"2030-01-01\") }}",
            "outside the data",
        ),
        (
            "{{ price(dataset=\"fuel-prices\", series=\"mogas\", date=\"19 May 2022\") }}",
            "is not a date",
        ),
        (
            "{{ chart(dataset=\"fuel-prices\", from=\"2022-01-01\", to=\"2021-01-01\") }}",
            "must be before",
        ),
        (
            "{{ price(dataset=fuel-prices, series=\"mogas\") }}",
            "must be a quoted string",
        ),
        (
            "{{ price(dataset=\"fuel-prices\" series=\"mogas\") }}",
            "separated by `,`",
        ),
        (
            "{{ price(dataset=\"fuel-prices\", series=\"mogas\"",
            "not closed by `}}`",
        ),
        ("{{ price }}", "no `(`"),
        (
            "{{ price(dataset=\"fuel-prices\", dataset=\"x\") }}",
            "given twice",
        ),
    ];
    let site = frozen_site();
    build_ok(site.path(), "public");
    for (call, want) in cases {
        // Two good lines first, so the line counts front matter and body.
        write_note(
            site.path(),
            &format!(
                "Fine: {{{{ price(dataset=\"fuel-prices\", series=\"mogas\") }}}}.\n\nThen {call} here.\n"
            ),
        );
        let before = snapshot(&site.path().join("public"));
        for command in ["build", "check"] {
            let out = run(site.path(), &[command]);
            assert_fails_with(&out, "content/notes/bad.md:7: ");
            assert_fails_with(&out, want);
        }
        assert_eq!(
            snapshot(&site.path().join("public")),
            before,
            "{call}: site untouched"
        );
    }
}

#[test]
fn a_note_with_shortcodes_is_rerendered_when_a_row_is_added() {
    let site = site_with_notes();
    build_ok(site.path(), "public");
    assert!(note_html(site.path(), "live-figures").contains("Mogas now: Rs 64.25."));
    let out = run(
        site.path(),
        &[
            "price",
            "add",
            "--date",
            "2026-05-20",
            "mogas=66.10",
            "gasoil=70.00",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    build_ok(site.path(), "public");
    let html = note_html(site.path(), "live-figures");
    assert!(html.contains("Mogas now: Rs 66.10."), "{html}");
    // 66.10 − 64.25 = 1.85, 2.88% of 64.25.
    assert!(
        html.contains("Latest Mogas change: up Rs 1.85 (+2.9%)."),
        "{html}"
    );
    assert!(
        html.contains("Latest Gas Oil change: down Rs 1.25 (−1.8%)."),
        "{html}"
    );
    assert!(html.contains("Decisions: 122."));
    assert!(html.contains("to 20 May 2026."));
}

#[test]
fn a_note_is_bounded_in_charts() {
    let site = frozen_site();
    let calls: String = (0..21)
        .map(|i| {
            format!(
                "{{{{ chart(dataset=\"fuel-prices\", from=\"2010-01-{:02}\") }}}}\n\n",
                i + 1
            )
        })
        .collect();
    write_note(site.path(), &calls);
    let out = run(site.path(), &["check"]);
    // The 21st call is on line 5 + 2 × 20.
    assert_fails_with(&out, "bad.md:45: more than 20 charts in one note");
}
