//! `petrol-watch build` and `check` through the real binary on copies of the real site.

mod common;

use common::*;
use std::fs;

#[test]
fn fixture_data_renders_its_prices_and_the_old_api_shape() {
    let site = built_site();
    let public = site.path().join("public");
    let home = fs::read_to_string(public.join("index.html")).unwrap();
    assert!(
        home.contains("64.25") && home.contains("71.25"),
        "current prices on the home page"
    );
    assert!(home.contains("16 April 2026"));
    assert!(
        home.contains("+9.9%"),
        "change against the previous decision"
    );

    let api: serde_json::Value =
        serde_json::from_slice(&fs::read(public.join("api/prices.json")).unwrap()).unwrap();
    let rows = api.as_array().unwrap();
    assert_eq!(rows.len(), 121);
    assert_eq!(
        rows[0],
        serde_json::json!({"date": "2004-04-02", "mogas": 21.35, "gasoil": 13.05})
    );
    assert_eq!(
        rows[120],
        serde_json::json!({"date": "2026-04-16", "mogas": 64.25, "gasoil": 71.25})
    );

    // A kept price shows as unchanged, not as a rise or fall.
    let table = fs::read_to_string(public.join("prices/fuel-prices/index.html")).unwrap();
    // Older years are on their own pages.
    let year_2018 = fs::read_to_string(public.join("prices/fuel-prices/2018/index.html")).unwrap();
    let kept = year_2018
        .split("<tr id=d-2018-10-09>")
        .nth(1)
        .unwrap()
        .split('\n')
        .next()
        .unwrap();
    assert_eq!(kept.matches(">unchanged<").count(), 2, "{kept}");
    let fall = table
        .split("<tr id=d-2024-01-28>")
        .nth(1)
        .unwrap()
        .split('\n')
        .next()
        .unwrap();
    assert!(
        fall.contains("66.20") && fall.contains("−2.80") && fall.contains("unchanged"),
        "{fall}"
    );

    for file in [
        "404.html",
        "sitemap.xml",
        "robots.txt",
        "feed.xml",
        "data/fuel-prices.csv",
        "notes/index.html",
        "tags/index.html",
    ] {
        assert!(public.join(file).is_file(), "{file}");
    }
    let feed = fs::read_to_string(public.join("feed.xml")).unwrap();
    assert!(feed.contains("<entry>") && feed.contains("Retail fuel prices from 16 April 2026"));
    let sitemap = fs::read_to_string(public.join("sitemap.xml")).unwrap();
    assert!(sitemap
        .contains("<loc>https://petrol-watch.web.app/notes/how-mauritius-sets-fuel-prices/</loc>"));
}

#[test]
fn assets_are_fingerprinted_precompressed_and_referenced() {
    let site = built_site();
    let public = site.path().join("public");
    let home = fs::read_to_string(public.join("index.html")).unwrap();
    let css = value_after(&home, "href=\"/static/style.");
    assert!(
        css.ends_with(".css") && css.len() == "3f9a1c2e.css".len(),
        "{css}"
    );
    assert!(public.join(format!("static/style.{css}")).is_file());
    let chart = value_after(&home, "src=\"/charts/fuel-prices.");
    let svg = fs::read_to_string(public.join(format!("charts/fuel-prices.{chart}"))).unwrap();
    assert!(
        svg.contains("<title id=\"t\">")
            && svg.contains("<desc id=\"d\">Step chart of Mogas (petrol) and Gas Oil (diesel)")
    );
    for f in [
        "index.html",
        "api/prices.json",
        "feed.xml",
        "data/fuel-prices.csv",
    ] {
        let original = fs::read(public.join(f)).unwrap();
        let mut gz = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(
                &fs::read(public.join(format!("{f}.gz"))).unwrap()[..],
            ),
            &mut gz,
        )
        .unwrap();
        assert_eq!(gz, original, "{f}.gz");
        let mut br = Vec::new();
        brotli::BrotliDecompress(
            &mut &fs::read(public.join(format!("{f}.br"))).unwrap()[..],
            &mut br,
        )
        .unwrap();
        assert_eq!(br, original, "{f}.br");
    }
    // Pages use no inline scripts or styles (the server's CSP forbids them); the one
    // script element allowed is a JSON-LD data block, which browsers never run.
    for (path, bytes) in snapshot(&public) {
        if path.ends_with(".html") {
            let html = String::from_utf8(bytes).unwrap();
            let scripts = html.matches("<script").count();
            let data = html
                .matches("<script type=\"application/ld+json\">")
                .count();
            assert!(scripts == data && !html.contains(" style="), "{path}");
        }
    }
}

#[test]
fn two_builds_are_byte_identical() {
    let site = fixture_site();
    assert!(run(site.path(), &["build", "--out", "a"]).status.success());
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert!(run(site.path(), &["build", "--out", "b"]).status.success());
    let (a, b) = (
        snapshot(&site.path().join("a")),
        snapshot(&site.path().join("b")),
    );
    assert!(a.len() > 30);
    assert_eq!(a, b);
    // Rebuilding over an existing site reuses it and still gives the same bytes.
    let again = run(site.path(), &["build", "--out", "a"]);
    assert!(stdout(&again).contains("unchanged"), "{}", stdout(&again));
    assert_eq!(snapshot(&site.path().join("a")), b);
}

#[test]
fn a_second_dataset_gets_its_own_page_and_chart() {
    let site = fixture_site();
    fs::write(
        site.path().join("data/lpg-cylinder.csv"),
        "date,lpg_12kg\n2022-04-18,240\n2026-03-31,250\n",
    )
    .unwrap();
    let out = run(site.path(), &["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let public = site.path().join("public");
    let page = fs::read_to_string(public.join("prices/lpg-cylinder/index.html")).unwrap();
    assert!(
        page.contains("<h1>Lpg Cylinder</h1>"),
        "title from the file name"
    );
    assert!(page.contains("Lpg 12kg"));
    let chart = value_after(&page, "src=\"/charts/lpg-cylinder.");
    assert!(public
        .join(format!("charts/lpg-cylinder.{chart}"))
        .is_file());
    assert!(fs::read_to_string(public.join("index.html"))
        .unwrap()
        .contains("href=\"/prices/lpg-cylinder/\""));
    assert!(
        public.join("data/lpg-cylinder.csv").is_file()
            && public.join("api/lpg-cylinder.json").is_file()
    );
}

#[test]
fn spreadsheet_exports_are_accepted_and_sorted() {
    let site = frozen_site();
    let csv = site.path().join("data/fuel-prices.csv");
    let text = fs::read_to_string(&csv).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let header = lines.remove(0);
    lines.reverse(); // newest first, as the STC page lists them
    fs::write(&csv, format!("\u{feff}{header}\r\n{}", lines.join("\r\n"))).unwrap();
    let out = run(site.path(), &["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let api: serde_json::Value =
        serde_json::from_slice(&fs::read(site.path().join("public/api/prices.json")).unwrap())
            .unwrap();
    assert_eq!(api[0]["date"], "2004-04-02");
    assert_eq!(api[120]["date"], "2026-04-16");
}

/// Each case breaks one input; the build must fail with exit 1, name the file and line,
/// and leave the previous site byte-identical with no temporary folder left behind.
#[test]
fn bad_input_is_rejected_with_file_and_line_and_nothing_is_lost() {
    let csv = "data/fuel-prices.csv";
    let note = "content/notes/bad.md";
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (csv, b"date,mogas,gasoil\n2004-13-40,1,2\n".to_vec(), "data/fuel-prices.csv:2: \"2004-13-40\" is not a valid date (want YYYY-MM-DD)"),
        (csv, b"date,mogas,gasoil\n2004-01-01,1,2\n2004-02-01,abc,2\n".to_vec(), "data/fuel-prices.csv:3: mogas: \"abc\" is not a price"),
        (csv, b"date,mogas,gasoil\n2004-01-01,-1.00,2\n".to_vec(), "data/fuel-prices.csv:2: mogas: \"-1.00\" is not a price"),
        (csv, b"date,mogas,gasoil\n2004-01-01,NaN,2\n".to_vec(), "data/fuel-prices.csv:2: mogas: \"NaN\""),
        (csv, b"date,mogas,gasoil\n2004-01-01,1,inf\n".to_vec(), "data/fuel-prices.csv:2: gasoil: \"inf\""),
        (csv, b"date,mogas,gasoil\n2004-01-01,1,2\n2004-01-01,1,3\n".to_vec(), "data/fuel-prices.csv:3: duplicate date 2004-01-01 (also on line 2)"),
        (csv, b"date,mogas,gasoil\n2004-01-01,1\n".to_vec(), "data/fuel-prices.csv:2: 2 fields, want 3"),
        (csv, b"date,mogas,gasoil\n2004-01-01,1,2,3\n".to_vec(), "data/fuel-prices.csv:2: 4 fields, want 3"),
        (csv, b"2004-01-01,1,2\n".to_vec(), "data/fuel-prices.csv:1: missing header"),
        (csv, b"".to_vec(), "data/fuel-prices.csv:1: empty file"),
        (csv, b"date,mogas,gasoil\n2004-01-01,1,2\n2004-02-01,\xff,2\n".to_vec(), "data/fuel-prices.csv:3: invalid UTF-8"),
        (note, b"+++\ntitle = \"x\"\ndate = 2026-01-01\n\nbody\n".to_vec(), "content/notes/bad.md:1: front matter opened with `+++` is never closed"),
        (note, b"+++\ntitle = \"x\"\ndate = 2026-01-01\ntags = [\n+++\n".to_vec(), "content/notes/bad.md:5: invalid front matter TOML"),
        (note, b"+++\ndate = 2026-01-01\n+++\nbody\n".to_vec(), "content/notes/bad.md:1: front matter has no `title`"),
        (note, b"+++\ntitle = \"x\"\ndate = \"2026-02-30\"\n+++\n".to_vec(), "content/notes/bad.md:3: `date` is not a real calendar date"),
        ("templates/note.html", b"{% extends \"base.html\" %}{% block content %}{{ note.title | nosuchfilter }}{% endblock content %}".to_vec(), "templates/note.html"),
        ("templates/index.html", b"{% if %}".to_vec(), "templates/index.html"),
    ];
    // A typo in site.toml's primary_dataset: every page's footer would link to an
    // api/prices.json that no dataset writes.
    let toml = fs::read_to_string(repo().join("site.toml")).unwrap();
    let setting = "primary_dataset = \"fuel-prices\"";
    let at = toml
        .find(setting)
        .expect("the real site names its primary dataset");
    let line = toml[..at].matches('\n').count() + 1;
    let typo = toml.replacen(setting, "primary_dataset = \"fuel-price\"", 1);
    let want_typo = format!(
        "site.toml:{line}: primary_dataset = \"fuel-price\" names no dataset (want one of: fuel-prices, brent-crude)"
    );
    let mut cases = cases;
    cases.push(("site.toml", typo.into_bytes(), &want_typo));
    let site = built_site();
    let public = site.path().join("public");
    let before = snapshot(&public);
    for (file, contents, want) in cases {
        let path = site.path().join(file);
        let original = fs::read(&path).ok();
        fs::write(&path, &contents).unwrap();
        let out = run(site.path(), &["build"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{file}: {err}");
        assert!(err.contains(want), "{file}: want {want:?} in:\n{err}");
        let check = run(site.path(), &["check"]);
        assert_eq!(check.status.code(), Some(1), "check agrees for {file}");
        assert!(snapshot(&public) == before, "{file}: previous site changed");
        let leftovers = staging_folders(site.path());
        assert!(leftovers.is_empty(), "{leftovers:?}");
        match original {
            Some(bytes) => fs::write(&path, bytes).unwrap(),
            None => fs::remove_file(&path).unwrap(),
        }
    }
}

#[test]
fn usage_errors_exit_2_and_every_command_has_help() {
    let site = fixture_site();
    assert_eq!(
        run(site.path(), &["build", "--no-such-flag"]).status.code(),
        Some(2)
    );
    assert_eq!(run(site.path(), &["frobnicate"]).status.code(), Some(2));
    for cmd in ["build", "check", "serve"] {
        let out = run(site.path(), &[cmd, "--help"]);
        assert!(
            out.status.success() && stdout(&out).contains("Usage"),
            "{cmd}"
        );
    }
}

#[test]
fn check_writes_nothing_and_finds_broken_links() {
    let site = fixture_site();
    let out = run(site.path(), &["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!site.path().join("public").exists());
    fs::write(
        site.path().join("content/notes/linky.md"),
        "+++\ntitle = \"Links\"\ndate = 2026-01-01\n+++\nSee [the missing note](/notes/not-there/) and [prices](/prices/fuel-prices/).\n",
    )
    .unwrap();
    let out = run(site.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(
            "content/notes/linky.md:5: broken link \"/notes/not-there/\" on notes/linky/index.html"
        ),
        "{err}"
    );
    assert!(!err.contains("/prices/fuel-prices/\""), "{err}");
}

/// A broken link is named at the line that writes it as a link: not where the same
/// text appears earlier in another link or in code; each of many links at its own.
#[test]
fn check_names_the_line_that_writes_a_broken_link() {
    let site = fixture_site();
    fs::write(
        site.path().join("content/notes/linky.md"),
        "+++\ntitle = \"Links\"\ndate = 2026-01-01\n+++\nSee [the data](/data/fuel-prices.csv).\n\nIn code: `/notes/gone/`.\n\nA [relative typo](a/).\n\nAnd [gone](/notes/gone/).\n",
    )
    .unwrap();
    let out = run(site.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    for want in [
        "content/notes/linky.md:9: broken link \"a/\"",
        "content/notes/linky.md:11: broken link \"/notes/gone/\"",
    ] {
        assert!(err.contains(want), "want {want:?} in:\n{err}");
    }
    let many: String = (0..2_000).map(|i| format!("[{i}](/gone/{i}/)\n")).collect();
    fs::write(
        site.path().join("content/notes/linky.md"),
        format!("+++\ntitle = \"Links\"\ndate = 2026-01-01\n+++\n{many}"),
    )
    .unwrap();
    let (out, _) = run_within(site.path(), &["check"], std::time::Duration::from_secs(120));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("content/notes/linky.md:5: broken link \"/gone/0/\"")
            && err.contains("content/notes/linky.md:2004: broken link \"/gone/1999/\""),
        "{}",
        &err[..err.len().min(2000)]
    );
}

#[test]
fn drafts_are_left_out_unless_asked_for() {
    let site = fixture_site();
    fs::write(
        site.path().join("content/notes/wip.md"),
        "+++\ntitle = \"WIP\"\ndate = 2026-01-01\ndraft = true\n+++\nSoon.\n",
    )
    .unwrap();
    assert!(run(site.path(), &["build"]).status.success());
    assert!(!site.path().join("public/notes/wip").exists());
    assert!(run(site.path(), &["build", "--drafts"]).status.success());
    assert!(site.path().join("public/notes/wip/index.html").exists());
}

/// Without `primary_dataset` in site.toml and without a `fuel-prices.csv`, the old
/// app's endpoint publishes the first dataset, so the link every page's footer has
/// to it resolves.
#[test]
fn without_a_primary_dataset_setting_the_old_endpoint_is_the_first_dataset() {
    let site = frozen_site();
    fs::write(
        site.path().join("site.toml"),
        "title = \"Brent Watch\"\nbase_url = \"https://brent.example\"\n",
    )
    .unwrap();
    fs::remove_file(site.path().join("data/fuel-prices.csv")).unwrap();
    let out = run(site.path(), &["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let api = fs::read_to_string(site.path().join("public/api/prices.json")).unwrap();
    let brent = fs::read_to_string(site.path().join("public/api/brent-crude.json")).unwrap();
    let first_date = |json: &str| {
        json.split("\"date\":\"")
            .nth(1)
            .map(|r| r[..10].to_string())
    };
    assert_eq!(first_date(&api), first_date(&brent), "{api:.200}");
    let check = run(site.path(), &["check"]);
    assert!(check.status.success(), "{}", stderr(&check));
    // The maintainer's commands take the same dataset by default.
    let last = fs::read_to_string(site.path().join("data/brent-crude.csv")).unwrap();
    let last = last
        .lines()
        .last()
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let list = run(site.path(), &["price", "list", "--last", "1"]);
    assert!(list.status.success(), "{}", stderr(&list));
    assert!(stdout(&list).contains(&last), "{}", stdout(&list));
    // A setting is found where the TOML has it: not in a multi-line string (the site
    // builds with the first dataset), and also when its key is quoted (a typo there is
    // refused at its line).
    fs::write(
        site.path().join("site.toml"),
        "title = \"Brent Watch\"\ndescription = \"\"\"\nprimary_dataset is the old endpoint's\n\"\"\"\nbase_url = \"https://brent.example\"\n",
    )
    .unwrap();
    let out = run(site.path(), &["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    fs::write(
        site.path().join("site.toml"),
        "title = \"Brent Watch\"\nbase_url = \"https://brent.example\"\n\"primary_dataset\" = \"brent\"\n",
    )
    .unwrap();
    let out = run(site.path(), &["build"]);
    assert_fails_with(
        &out,
        "site.toml:3: primary_dataset = \"brent\" names no dataset",
    );
}
