//! The maintainer's commands attacked as a careless maintainer and a hostile file
//! system would (line endings the editor must keep, a file marked read-only), and what
//! readers get, checked as invariants on the bundled site built through the real binary.

mod common;

use common::*;
use std::collections::{BTreeMap, BTreeSet};
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

/// Every address a page refers to (`href`, `src`, each `srcset` candidate, `og:image`
/// and the canonical link), as written.
fn references(doc: &scraper::Html) -> Vec<String> {
    let selector = scraper::Selector::parse("[href], [src], [srcset], meta[content]").unwrap();
    let mut out = Vec::new();
    for el in doc.select(&selector) {
        let v = el.value();
        out.extend(v.attr("href").map(str::to_string));
        out.extend(v.attr("src").map(str::to_string));
        if let Some(set) = v.attr("srcset") {
            for candidate in set.split(',') {
                out.extend(candidate.split_whitespace().next().map(str::to_string));
            }
        }
        if v.attr("property") == Some("og:image") || v.attr("name") == Some("twitter:image") {
            out.extend(v.attr("content").map(str::to_string));
        }
    }
    out
}

/// The site path of `link` as found on the page at `page` (a site path), if it is
/// one of this site's: absolute on the site's base, rooted, or relative.
fn site_path(link: &str, page: &str, base: &str) -> Option<String> {
    let link = link.split(['#', '?']).next().unwrap_or("");
    if let Some(rest) = link.strip_prefix(base) {
        return Some(if rest.is_empty() {
            "/".into()
        } else {
            rest.into()
        });
    }
    if link.is_empty() || link.starts_with("//") || link.contains(':') {
        return None;
    }
    if link.starts_with('/') {
        return Some(link.into());
    }
    let dir = page.rsplit_once('/').map_or("", |(d, _)| d);
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in link.split('/') {
        match part {
            "." | "" => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let trailing = if link.ends_with('/') { "/" } else { "" };
    Some(format!("/{}{trailing}", parts.join("/")))
}

/// Whether a site path names a file of the built site, as `serve` answers it.
fn resolves(public: &Path, path: &str) -> bool {
    let rel = percent_decode(path.trim_start_matches('/'));
    let file = public.join(&rel);
    file.is_file() || file.join("index.html").is_file()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The site path a built HTML file is served at: `notes/index.html` → `/notes/`.
fn page_path(file: &str) -> String {
    match file.strip_suffix("index.html") {
        Some(dir) => format!("/{dir}"),
        None => format!("/{file}"),
    }
}

/// The latest row of a dataset CSV as the site must publish it: its date and each
/// value with its column's decimals (the most any row writes), from the CSV's own
/// digits, never through a number type.
fn latest_row(csv: &Path) -> (String, Vec<String>) {
    let text = fs::read_to_string(csv).unwrap();
    let mut lines = text
        .trim_start_matches('\u{feff}')
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty());
    let width = lines.next().unwrap().split(',').count() - 1;
    let mut decimals = vec![0; width];
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    for line in lines {
        let mut fields = line
            .split(',')
            .map(|f| f.trim().trim_matches('"').to_string());
        let date = fields.next().unwrap();
        let values: Vec<String> = fields.collect();
        for (d, v) in decimals.iter_mut().zip(&values) {
            *d = (*d).max(v.split_once('.').map_or(0, |(_, f)| f.len()));
        }
        rows.push((date, values));
    }
    let (date, values) = rows.into_iter().max_by(|a, b| a.0.cmp(&b.0)).unwrap();
    let values = values
        .iter()
        .zip(&decimals)
        .map(|(v, &d)| {
            let (int, frac) = v.split_once('.').unwrap_or((v, ""));
            let int = match int.trim_start_matches('0') {
                "" => "0",
                digits => digits,
            };
            if d == 0 {
                int.to_string()
            } else {
                format!("{int}.{frac:0<d$}")
            }
        })
        .collect();
    (date, values)
}

fn text_of(el: scraper::ElementRef) -> String {
    el.text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The dated value cards of `slug` on a page: the `datetime` they are in force from
/// and each card's number. The home page has a summary per dataset, headed with a link
/// to its page; a dataset's own page has one "Now" section.
fn cards(doc: &scraper::Html, slug: &str) -> Option<(String, Vec<String>)> {
    let section =
        scraper::Selector::parse("section.dataset-summary, section[aria-labelledby=now]").unwrap();
    let heading = scraper::Selector::parse("h2 a[href]").unwrap();
    let time = scraper::Selector::parse(".meta time[datetime]").unwrap();
    let value = scraper::Selector::parse(".card .card-value").unwrap();
    let href = format!("/prices/{slug}/");
    let s = doc.select(&section).find(|s| {
        s.value().attr("aria-labelledby") == Some("now")
            || s.select(&heading)
                .next()
                .and_then(|a| a.value().attr("href"))
                == Some(href.as_str())
    })?;
    let date = s
        .select(&time)
        .next()?
        .value()
        .attr("datetime")?
        .to_string();
    let values = s
        .select(&value)
        .map(|v| text_of(v).rsplit(' ').next().unwrap().to_string())
        .collect();
    Some((date, values))
}

/// What readers get from the bundled site, checked as invariants (never today's
/// figures): every page is complete (one `<h1>`, `lang`, a title, its own canonical
/// address, an `og:image` that exists); every address a page refers to on this site is
/// a file; the home and dataset pages show each dataset's latest CSV row digit for
/// digit, their feeds begin with it and their JSON-LD covers the CSV's dates; every
/// feed and the sitemap parse as XML, and feed links lead to an element of a page;
/// the sitemap lists every indexable page exactly once and nothing else.
#[test]
fn the_bundled_site_links_only_to_its_files_and_shows_each_latest_row() {
    let site = fixture_site();
    let o = within(site.path(), &["build"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let public = site.path().join("public");
    let config = fs::read_to_string(site.path().join("site.toml")).unwrap();
    let base = config
        .lines()
        .find_map(|l| l.strip_prefix("base_url = \""))
        .unwrap()
        .trim_end_matches('"')
        .trim_end_matches('/')
        .to_string();

    let files = snapshot(&public);
    let mut problems = Vec::new();
    let mut indexable = BTreeSet::new();
    let mut ids_by_page: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let h1 = scraper::Selector::parse("h1").unwrap();
    let title = scraper::Selector::parse("head title").unwrap();
    let html = scraper::Selector::parse("html[lang]").unwrap();
    let canonical = scraper::Selector::parse("link[rel=canonical]").unwrap();
    let og_image = scraper::Selector::parse("meta[property='og:image']").unwrap();
    let noindex = scraper::Selector::parse("meta[name=robots][content*=noindex]").unwrap();
    let ids = scraper::Selector::parse("[id]").unwrap();
    for (file, bytes) in &files {
        if !file.ends_with(".html") {
            continue;
        }
        let page = page_path(file);
        let doc = scraper::Html::parse_document(&String::from_utf8_lossy(bytes));
        let mut bad = |what: String| problems.push(format!("{page}: {what}"));
        let hidden = doc.select(&noindex).next().is_some();
        let count = doc.select(&h1).count();
        if count != 1 && !hidden {
            bad(format!("{count} <h1>"));
        }
        if doc
            .select(&html)
            .next()
            .and_then(|h| h.value().attr("lang"))
            .is_none_or(str::is_empty)
        {
            bad("no lang".into());
        }
        if doc
            .select(&title)
            .map(text_of)
            .filter(|t| !t.is_empty())
            .count()
            != 1
        {
            bad("not one non-empty <title>".into());
        }
        if !hidden {
            indexable.insert(page.clone());
            let links: Vec<_> = doc
                .select(&canonical)
                .filter_map(|l| l.value().attr("href"))
                .collect();
            if links != [format!("{base}{page}")] {
                bad(format!("canonical {links:?}"));
            }
            // The pages a link preview is drawn for: home, each dataset, each note.
            let segments: Vec<&str> = page.split('/').filter(|s| !s.is_empty()).collect();
            let previewed = matches!(segments[..], [] | ["prices", _])
                || matches!(segments[..], ["notes", s] if s != "page");
            if previewed && doc.select(&og_image).next().is_none() {
                bad("no og:image".into());
            }
        }
        let own_ids: BTreeSet<&str> = doc.select(&ids).filter_map(|e| e.value().id()).collect();
        ids_by_page.insert(
            page.clone(),
            own_ids.iter().map(|id| id.to_string()).collect(),
        );
        for link in references(&doc) {
            if let Some(fragment) = link.strip_prefix('#') {
                if !fragment.is_empty() && !own_ids.contains(fragment) {
                    bad(format!("{link} names no element"));
                }
                continue;
            }
            if let Some(path) = site_path(&link, &format!("/{file}"), &base) {
                if !resolves(&public, &path) {
                    bad(format!("{link} is no file"));
                }
            }
        }
    }

    // Each dataset's latest row, digit for digit, on the home page and its own page.
    let home =
        scraper::Html::parse_document(&fs::read_to_string(public.join("index.html")).unwrap());
    for entry in fs::read_dir(site.path().join("data")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("csv") {
            continue;
        }
        let slug = path.file_stem().unwrap().to_str().unwrap().to_string();
        let want = latest_row(&path);
        let own = fs::read_to_string(public.join(format!("prices/{slug}/index.html"))).unwrap();
        let own = scraper::Html::parse_document(&own);
        for (where_, doc) in [("home", &home), ("its page", &own)] {
            match cards(doc, &slug) {
                Some(got) if got == want => {}
                got => problems.push(format!(
                    "{slug} on {where_}: cards show {got:?}, the CSV's latest row is {want:?}"
                )),
            }
        }
        // Its JSON-LD covers the CSV's first to last date, and its downloads exist.
        let ld = scraper::Selector::parse("script[type='application/ld+json']").unwrap();
        let ld: serde_json::Value = own
            .select(&ld)
            .next()
            .map(|s| serde_json::from_str(&s.inner_html()).unwrap())
            .unwrap_or_default();
        let first = fs::read_to_string(&path)
            .unwrap()
            .lines()
            .skip(1)
            .filter_map(|l| l.split(',').next())
            .map(|d| d.trim().trim_matches('"').to_string())
            .filter(|d| !d.is_empty())
            .min()
            .unwrap();
        let coverage = format!("{first}/{}", want.0);
        if ld["temporalCoverage"] != coverage.as_str() {
            problems.push(format!(
                "{slug}'s JSON-LD covers {}, the CSV {coverage}",
                ld["temporalCoverage"]
            ));
        }
        for download in ld["distribution"].as_array().into_iter().flatten() {
            let url = download["contentUrl"].as_str().unwrap_or("");
            if !site_path(url, "/", &base).is_some_and(|p| resolves(&public, &p)) {
                problems.push(format!("{slug}'s JSON-LD offers {url}, which is no file"));
            }
        }
        // Its feed's newest entry is that decision, with those values.
        let feed = fs::read_to_string(public.join(format!("prices/{slug}/feed.xml"))).unwrap();
        let feed = roxmltree::Document::parse(&feed).unwrap();
        let entry = feed.descendants().find(|n| n.has_tag_name("entry"));
        let field = |name: &str| {
            entry
                .and_then(|e| e.children().find(|n| n.has_tag_name(name)))
                .and_then(|n| n.text())
                .unwrap_or("")
                .to_string()
        };
        let (title, updated) = (field("title"), field("updated"));
        if !updated.starts_with(&want.0) || !want.1.iter().all(|v| title.contains(v.as_str())) {
            problems.push(format!(
                "{slug}'s feed begins with {title:?} ({updated}), not the CSV's latest row {want:?}"
            ));
        }
        // The dataset's download ends with that row too.
        let json: serde_json::Value =
            serde_json::from_slice(&fs::read(public.join(format!("api/{slug}.json"))).unwrap())
                .unwrap();
        let last = json
            .as_array()
            .and_then(|a| a.last())
            .or_else(|| json["rows"].as_array().and_then(|a| a.last()))
            .map(|r| r.to_string())
            .unwrap_or_default();
        if !last.contains(&want.0) {
            problems.push(format!("api/{slug}.json ends with {last}, not {}", want.0));
        }
    }

    // Feeds and sitemaps parse; the sitemap lists each indexable page once.
    let mut listed: BTreeMap<String, usize> = BTreeMap::new();
    for (file, bytes) in &files {
        if !file.ends_with(".xml") {
            continue;
        }
        let text = String::from_utf8(bytes.clone()).unwrap();
        let doc = match roxmltree::Document::parse(&text) {
            Ok(doc) => doc,
            Err(e) => {
                problems.push(format!("/{file}: not XML: {e}"));
                continue;
            }
        };
        // A feed's links (entries, with their fragments, and the feed's own) lead
        // to a page and to an element on it.
        if doc.root_element().tag_name().name() == "feed" {
            for link in doc.descendants().filter(|n| n.has_tag_name("link")) {
                let href = link.attribute("href").unwrap_or("");
                let Some(path) = site_path(href, &format!("/{file}"), &base) else {
                    continue;
                };
                if !resolves(&public, &path) {
                    problems.push(format!("/{file}: {href} is no file"));
                } else if let Some((_, fragment)) = href.split_once('#') {
                    if !ids_by_page
                        .get(&path)
                        .is_some_and(|ids| ids.contains(fragment))
                    {
                        problems.push(format!("/{file}: {href} names no element"));
                    }
                }
            }
        }
        if doc.root_element().tag_name().name() == "urlset" {
            for loc in doc.descendants().filter(|n| n.has_tag_name("loc")) {
                let url = loc.text().unwrap_or("");
                match url.strip_prefix(&base) {
                    Some(path) => *listed.entry(path.to_string()).or_default() += 1,
                    None => problems.push(format!("/{file} lists {url}, not on {base}")),
                }
            }
        }
    }
    for (path, n) in &listed {
        if *n != 1 {
            problems.push(format!("the sitemap lists {path} {n} times"));
        }
    }
    let listed: BTreeSet<String> = listed.into_keys().collect();
    for path in indexable.difference(&listed) {
        problems.push(format!("{path} is not in the sitemap"));
    }
    for path in listed.difference(&indexable) {
        problems.push(format!(
            "the sitemap lists {path}, which is no indexable page"
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `dev` through an edit that breaks the build, its fix, and the same again while a
/// page is open: each error and each recovery reaches the page as an event, and the
/// server keeps answering. The error's text holds a carriage return (a header cell
/// with a quoted CR, which the message quotes), which a server-sent event cannot carry
/// as it is.
#[test]
fn dev_reports_each_broken_build_and_each_fix_to_open_pages() {
    let site = small_site();
    let root = site.path();
    let o = within(root, &["build"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let broken = root.join("data/broken.csv");
    // Broken before dev starts: the first build fails and the last good site is served.
    fs::write(&broken, b"date2,\"a\rb\"\n2026-01-01,1\n").unwrap();
    let dev = DevServer::start(root);
    let mut events = dev.events();
    let mut seen = String::new();
    let limit = Duration::from_secs(30);
    assert!(
        DevServer::wait_for(&mut events, &mut seen, "event: build-error", limit),
        "{seen}\n{}",
        dev.stderr.lock().unwrap()
    );
    assert!(seen.contains("broken.csv:1: missing header"), "{seen}");
    // Fixed: a rebuild, and open pages reload.
    save_as_editors_do(&broken, b"date,b\n2026-01-01,1\n");
    assert!(
        DevServer::wait_for(&mut events, &mut seen, "event: reload", limit),
        "{seen}\n{}",
        dev.stderr.lock().unwrap()
    );
    // Broken again while pages are open, then fixed again: both reach the page.
    let before = seen.matches("event: build-error").count();
    save_as_editors_do(&broken, b"date2,\"a\rb\"\n2026-01-01,1\n");
    let deadline = std::time::Instant::now() + limit;
    while seen.matches("event: build-error").count() == before
        && std::time::Instant::now() < deadline
    {
        DevServer::wait_for(&mut events, &mut seen, "\u{0}", Duration::from_millis(200));
    }
    assert!(
        seen.matches("event: build-error").count() > before,
        "{seen}\n{}",
        dev.stderr.lock().unwrap()
    );
    let reloads = seen.matches("event: reload").count();
    fs::remove_file(&broken).unwrap();
    while seen.matches("event: reload").count() == reloads
        && std::time::Instant::now() < deadline + limit
    {
        DevServer::wait_for(&mut events, &mut seen, "\u{0}", Duration::from_millis(200));
    }
    assert!(
        seen.matches("event: reload").count() > reloads,
        "{seen}\n{}",
        dev.stderr.lock().unwrap()
    );
    assert_eq!(get(dev.addr, "/").status, 200);
}

/// The first note's page, as `dev` serves it now.
fn first_note(dev: &DevServer) -> String {
    get(dev.addr, "/notes/first-note/").text()
}

/// Fifty saves of a note in a second make one rebuild that shows the last of them, not
/// a build per save or a lost final save.
#[test]
fn dev_builds_fifty_saves_in_a_second_once_with_the_last() {
    let site = small_site();
    let note = site.path().join("content/notes/first-note.md");
    let text = fs::read_to_string(&note).unwrap();
    let dev = DevServer::start(site.path());
    let (mut events, mut seen) = dev.connected_events();
    for i in 1..=50 {
        save_as_editors_do(
            &note,
            text.replacen("First note", &format!("Save number {i}"), 1)
                .as_bytes(),
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        DevServer::wait_for(
            &mut events,
            &mut seen,
            "event: reload",
            Duration::from_secs(30)
        ),
        "{seen}\n{}",
        dev.stderr.lock().unwrap()
    );
    // Any build still to come is done well within this.
    DevServer::wait_for(&mut events, &mut seen, "\u{0}", Duration::from_secs(2));
    assert!(first_note(&dev).contains("Save number 50"));
    let reloads = seen.matches("event: reload").count();
    assert!(reloads <= 2, "{reloads} reloads for one burst of saves");
}

/// A file in a watched folder that something rewrites every 50 ms (a log, an editor's
/// autosave) does not hold back the rebuild of a note edited meanwhile: the watcher
/// gathered events until none came for 150 ms, so under a steady trickle it never
/// built at all, and kept every event's path while it waited.
#[test]
fn dev_rebuilds_while_a_watched_file_keeps_changing() {
    let site = small_site();
    let note = site.path().join("content/notes/first-note.md");
    let text = fs::read_to_string(&note).unwrap();
    let dev = DevServer::start(site.path());
    let (mut events, mut seen) = dev.connected_events();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let busy = site.path().join("content/scratch.log");
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                fs::write(&busy, n.to_string()).unwrap();
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    save_as_editors_do(
        &note,
        text.replacen("First note", "Edited under a trickle", 1)
            .as_bytes(),
    );
    let rebuilt = DevServer::wait_for(
        &mut events,
        &mut seen,
        "event: reload",
        Duration::from_secs(8),
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    assert!(
        rebuilt,
        "no rebuild in 8 s while a watched file kept changing: {seen}\n{}",
        dev.stderr.lock().unwrap()
    );
    assert!(first_note(&dev).contains("Edited under a trickle"));
}

/// `dev` started on a site whose first build fails, with no earlier build to fall back
/// on (a fresh clone, a broken pull): it once exited ("nothing to serve"), so the
/// maintainer had to fix the input blind and start it again. It now stays up, shows
/// the error on the page it serves meanwhile, and serves the site once a fix builds.
#[test]
fn dev_waits_for_a_first_good_build_instead_of_exiting() {
    let site = small_site();
    let csv = site.path().join("data/fuel-prices.csv");
    let good = fs::read(&csv).unwrap();
    fs::write(&csv, b"date,mogas,gasoil\n2026-01-01,oops,1\n").unwrap();
    let dev = DevServer::start(site.path());
    let waiting = get(dev.addr, "/");
    assert!(
        waiting.text().contains("/__petrol_watch/reload.js"),
        "{}",
        waiting.text()
    );
    let mut events = dev.events();
    let mut seen = String::new();
    let limit = Duration::from_secs(30);
    assert!(
        DevServer::wait_for(&mut events, &mut seen, "event: build-error", limit),
        "{seen}\n{}",
        dev.stderr.lock().unwrap()
    );
    assert!(seen.contains("fuel-prices.csv:2: mogas"), "{seen}");
    save_as_editors_do(&csv, &good);
    assert!(
        DevServer::wait_for(&mut events, &mut seen, "event: reload", limit),
        "{seen}\n{}",
        dev.stderr.lock().unwrap()
    );
    let home = get(dev.addr, "/");
    assert_eq!(home.status, 200);
    assert!(home.text().contains("64.25"), "{}", home.text());
}

/// Careless arguments to `price add`: each is refused naming the argument and what
/// was expected, with the CSV byte-identical, and none hangs or panics.
#[test]
fn careless_price_arguments_are_refused_naming_the_argument() {
    let site = small_site();
    let csv = site.path().join("data/fuel-prices.csv");
    let before = fs::read(&csv).unwrap();
    let add = |date: &str, mogas: &str| {
        within(
            site.path(),
            &[
                "price",
                "add",
                "--date",
                date,
                &format!("mogas={mogas}"),
                "gasoil=70",
            ],
        )
    };
    for date in [
        "2026-02-29",
        "2026-13-01",
        "２０２６-05-01",
        "2026-5-1",
        "20260501",
        "2026-05-01T00:00",
        "",
    ] {
        assert_fails_with(&add(date, "66"), "argument --date");
    }
    for value in [
        "1e3",
        "+5",
        ".5",
        "5.",
        "-0",
        "0.0000001",
        "1234567890123",
        "NaN",
        "inf",
        "６６",
        "66,50",
        "",
        "0x10",
    ] {
        let o = add("2026-05-01", value);
        assert_fails_with(&o, "argument mogas=");
        assert!(stderr(&o).contains("want a plain number"), "{}", stderr(&o));
    }
    for name in ["../x", "CON", "a/b", ".hidden", "fuel-prices.csv", "x y"] {
        let o = within(site.path(), &["price", "list", "--dataset", name]);
        assert_fails_with(&o, "argument --dataset");
    }
    assert_eq!(fs::read(&csv).unwrap(), before);
    // The edges that are valid dates and values are written exactly.
    let o = add(" 2026-05-01 ", "0.000001");
    assert!(o.status.success(), "{}", stderr(&o));
    let text = fs::read_to_string(&csv).unwrap();
    assert!(text.ends_with("\n2026-05-01,0.000001,70.00\n"), "{text}");
}

/// A refusal about a row that is in the CSV names its line, so the maintainer can open
/// the file there: `price add` of a date that has a row, and an import whose page
/// disagrees with a row.
#[test]
fn a_refusal_about_an_existing_row_names_its_line() {
    let site = small_site();
    let csv = site.path().join("data/fuel-prices.csv");
    // Blank lines and a CRLF ending, which count as the parser counts them.
    fs::write(
        &csv,
        "date,mogas,gasoil\r\n\r\n2024-01-28,66.20,69.60\r\n\r\n2026-04-16,64.25,71.25\r\n",
    )
    .unwrap();
    let before = fs::read(&csv).unwrap();
    let o = within(
        site.path(),
        &[
            "price",
            "add",
            "--date",
            "2026-04-16",
            "mogas=66",
            "gasoil=72.5",
        ],
    );
    assert_fails_with(
        &o,
        "fuel-prices.csv:5: 2026-04-16 already has a row; pass --replace",
    );
    assert_eq!(fs::read(&csv).unwrap(), before);
    // The fixture page says gasoil 63.95 on 2024-01-28, where this CSV says 69.60.
    let page = repo().join("tests/fixtures/stc/retail-prices.html");
    let o = within(
        site.path(),
        &[
            "import",
            "stc",
            "--file",
            page.to_str().unwrap(),
            "--dry-run",
        ],
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("fuel-prices.csv:3 says 66.20, 69.60: DISAGREES"),
        "{}",
        stdout(&o)
    );
}

/// The line an import names for a disagreeing row is where that row is in the file
/// as it is left: rows the same import added above it move it down.
#[test]
fn an_import_names_the_line_a_disagreeing_row_ends_on() {
    let site = small_site();
    let csv = site.path().join("data/fuel-prices.csv");
    // Only the row the page disagrees with; the page's older rows go above it.
    fs::write(&csv, "date,mogas,gasoil\n2024-01-28,66.20,69.60\n").unwrap();
    let page = repo().join("tests/fixtures/stc/retail-prices.html");
    let o = within(
        site.path(),
        &["import", "stc", "--file", page.to_str().unwrap(), "--json"],
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let text = fs::read_to_string(&csv).unwrap();
    let line = 1 + text
        .lines()
        .position(|l| l.starts_with("2024-01-28,"))
        .unwrap();
    assert!(line > 2, "{text}");
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["disagreeing"][0]["csv"]["line"], line, "{report}");
}

/// A disk that fills while the new version is written (here a file size limit,
/// `ulimit -f`, which fails writes past it as a full disk does): the edit is refused
/// naming the CSV, the OS's reason said once, the CSV byte-identical and no temporary
/// file left beside it.
#[cfg(unix)]
#[test]
fn a_full_disk_while_saving_leaves_the_csv_and_no_temporary_file() {
    let site = small_site();
    let mut text = String::from("date,a\n");
    for day in 0..400 {
        let date = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::Days::new(day);
        text.push_str(&format!("{date},{day}.25\n"));
    }
    let csv = dataset(site.path(), "filled", text.as_bytes());
    // 4 KiB: the file (~8 KiB) is read whole, and only writing its new version fails.
    let script = "ulimit -f 4; trap '' XFSZ; \
                  exec \"$0\" --root \"$1\" price add --dataset filled --date 2030-01-01 a=1";
    let o = std::process::Command::new("bash")
        .args(["-c", script, bin()])
        .arg(site.path())
        .output()
        .unwrap();
    assert_fails_with(&o, "filled.csv: ");
    let err = stderr(&o);
    assert_eq!(err.matches("os error").count(), 1, "{err}");
    assert!(
        !err.contains("data/.tmp"),
        "names the temporary file: {err}"
    );
    assert_eq!(fs::read_to_string(&csv).unwrap(), text);
    let left: Vec<_> = fs::read_dir(site.path().join("data"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".csv"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Reads the event stream until it holds `count` reloads; false after `limit`.
fn wait_for_reloads(events: &mut std::net::TcpStream, seen: &mut String, count: usize) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while seen.matches("event: reload").count() < count && std::time::Instant::now() < deadline {
        DevServer::wait_for(events, seen, "\u{0}", Duration::from_millis(200));
    }
    seen.matches("event: reload").count() >= count
}

/// A watched folder that did not exist when `dev` started (a new site's first note
/// creates `content/notes/`) is watched once it appears: its files' edits were never
/// seen, so the page kept showing the first version until dev was restarted.
#[test]
fn dev_watches_a_folder_created_after_it_started() {
    let site = small_site();
    fs::remove_dir_all(site.path().join("content")).unwrap();
    let dev = DevServer::start(site.path());
    let (mut events, mut seen) = dev.connected_events();
    let note = |body: &str| format!("+++\ntitle = \"New\"\ndate = 2026-01-01\n+++\n{body}\n");
    let notes = site.path().join("content/notes");
    fs::create_dir_all(&notes).unwrap();
    fs::write(notes.join("new.md"), note("Version one.")).unwrap();
    let page = |dev: &DevServer| get(dev.addr, "/notes/new/").text();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !page(&dev).contains("Version one.") && std::time::Instant::now() < deadline {
        DevServer::wait_for(&mut events, &mut seen, "\u{0}", Duration::from_millis(200));
    }
    assert!(
        page(&dev).contains("Version one."),
        "{seen}\n{}",
        dev.stderr.lock().unwrap()
    );
    let reloads = seen.matches("event: reload").count();
    save_as_editors_do(&notes.join("new.md"), note("Version two.").as_bytes());
    assert!(
        wait_for_reloads(&mut events, &mut seen, reloads + 1),
        "no rebuild after an edit in the new folder: {seen}\n{}",
        dev.stderr.lock().unwrap()
    );
    assert!(page(&dev).contains("Version two."));
}

/// An empty `--dataset` is bad usage, said as such, not a search for `data/.csv`.
#[test]
fn an_empty_dataset_name_is_bad_usage() {
    let site = small_site();
    let page = repo().join("tests/fixtures/stc/retail-prices.html");
    for args in [
        vec!["price", "list", "--dataset", ""],
        vec!["price", "remove", "--dataset", "", "--date", "2026-04-16"],
        vec![
            "price",
            "add",
            "--dataset",
            "",
            "--date",
            "2026-05-01",
            "mogas=1",
            "gasoil=1",
        ],
        vec![
            "import",
            "stc",
            "--dataset",
            "",
            "--file",
            page.to_str().unwrap(),
        ],
    ] {
        let o = within(site.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("--dataset"), "{}", stderr(&o));
        assert!(!stderr(&o).contains("data/.csv"), "{}", stderr(&o));
    }
}

/// A header with a huge cell (a spreadsheet pasted into the first line), or a huge
/// value that is no number, is refused
/// with a message of a few lines that names the file and line, not one that repeats
/// megabytes of the file: each command printed the whole cell (10 MB to the terminal,
/// and to every open page through `dev`).
#[test]
fn an_error_about_a_huge_header_cell_is_short() {
    let site = small_site();
    let huge = "a".repeat(2_000_000);
    let cases = [
        (
            format!("date,{}!\n2026-01-01,1\n", huge),
            "huge.csv:1: series name",
        ),
        (
            format!("x{huge},a\n2026-01-01,1\n"),
            "huge.csv:1: missing header",
        ),
        (
            format!("date,{huge}\n2026-01-01,1,2\n"),
            "huge.csv:2: 3 fields, want 2",
        ),
        (
            format!("date,{huge},{huge}\n2026-01-01,1,2\n"),
            "huge.csv:1: series",
        ),
        // A value that is no number, in any script, is quoted cut too.
        (
            format!("date,a\n2026-01-01,{}\n", "é".repeat(1_000_000)),
            "huge.csv:2: a: \"éééééééééééééééééééé\"… (1000000 characters) is not a price",
        ),
    ];
    for (text, want) in cases {
        dataset(site.path(), "huge", text.as_bytes());
        for args in [&["price", "list", "--dataset", "huge"][..], &["check"][..]] {
            let o = within(site.path(), args);
            assert!(o.stderr.len() < 2_000, "{} bytes of error", o.stderr.len());
            assert_fails_with(&o, want);
        }
    }
}

/// A page whose cells are huge, or whose bad row or header has thousands of cells, is
/// refused with a short message naming the page and its row: the whole cell, or
/// every cell of the row, was quoted (a megabyte of error for a megabyte cell).
#[test]
fn an_import_error_about_huge_cells_is_short() {
    let site = small_site();
    let head = "<table><tr><th>Date</th><th>MOGAS</th><th>GAS OIL</th></tr>";
    let many = "<th>zzzzzzzzzz</th>".repeat(10_000);
    let cases = [
        (
            format!("{head}<tr><td>{}</td><td>1</td><td>2</td></tr></table>", "x".repeat(1_000_000)),
            "table row 2: \"xxxxxxxxxxxxxxxxxxxx\"… (1000000 characters) is not a date",
        ),
        (
            format!("{head}<tr><td>1-Jan-2020</td><td>{}</td><td>2</td></tr></table>", "x ".repeat(500_000)),
            "table row 2: Mogas: \"x x x x x x x x x x \"… (999999 characters) is not a price",
        ),
        (
            format!("<table><tr><th>Date</th><th>MOGAS</th><th>MOGAS</th><th>GAS OIL</th>{many}</tr></table>"),
            "table row 1: 2 columns are headed",
        ),
    ];
    let page = site.path().join("page.html");
    for (html, want) in cases {
        fs::write(&page, html).unwrap();
        let o = within(
            site.path(),
            &[
                "import",
                "stc",
                "--file",
                page.to_str().unwrap(),
                "--dry-run",
            ],
        );
        assert!(o.stderr.len() < 2_000, "{} bytes of error", o.stderr.len());
        assert_fails_with(&o, want);
    }
}

/// A decision dated far ahead (`2062` typed for `2026`) becomes the price every page
/// calls current at the next build, and `price add` took it without a word, where
/// `import` refuses such a date. It now warns, naming the date and how to undo it.
/// (A warning, not a refusal: the maintainer may enter a decision announced ahead.)
#[test]
fn price_add_warns_of_a_date_far_after_today() {
    let site = small_site();
    let add = |date: &str| {
        within(
            site.path(),
            &["price", "add", "--date", date, "mogas=66", "gasoil=72.5"],
        )
    };
    let o = add("9999-12-31");
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("warning: 9999-12-31 is more than 31 days after today")
            && err.contains("price remove --date 9999-12-31"),
        "{err}"
    );
    let o = add("2026-05-01");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}

/// An editor saves the CSV (a new file renamed over it) while `price add` is between
/// reading it and writing it back: the editor's text is never lost. The edit either
/// saw the editor's file (it had not read yet: its row is added to the editor's text)
/// or refuses, naming the file, leaving the editor's bytes and no temporary file.
/// The CSV is large so the edit holds its lock long enough for the save to land
/// inside it; the test waits until the edit holds the lock.
#[test]
fn an_editor_saving_during_price_add_loses_nothing() {
    let site = small_site();
    let root = site.path();
    let csv = root.join("data/fuel-prices.csv");
    let mut text = String::from("date,mogas,gasoil\n");
    let start = chrono::NaiveDate::from_ymd_opt(1200, 1, 1).unwrap();
    for i in 0..300_000u32 {
        let day = start + chrono::Days::new(u64::from(i));
        text.push_str(&format!("{day},{}.25,{}.50\n", 60 + i % 7, 55 + i % 5));
    }
    fs::write(&csv, &text).unwrap();
    let theirs = format!("{text}2030-01-01,99.00,98.00\n");

    let mut child = std::process::Command::new(bin())
        .arg("--root")
        .arg(root)
        .args([
            "price",
            "add",
            "--date",
            "2029-06-01",
            "mogas=66.00",
            "gasoil=72.50",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The edit holds an advisory lock on the CSV from reading it to renaming over it.
    let started = std::time::Instant::now();
    loop {
        let probe = fs::File::open(&csv).unwrap();
        match probe.try_lock() {
            Err(fs::TryLockError::WouldBlock) => break,
            Ok(()) => drop(probe),
            Err(e) => panic!("{e}"),
        }
        assert!(started.elapsed() < LIMIT, "price add never locked the CSV");
        assert!(child.try_wait().unwrap().is_none(), "price add ended first");
        std::thread::sleep(Duration::from_millis(1));
    }
    save_as_editors_do(&csv, theirs.as_bytes());
    let out = child.wait_with_output().unwrap();
    let now = fs::read_to_string(&csv).unwrap();
    if out.status.success() {
        assert!(now.starts_with(&text) && now.contains("2030-01-01,99.00,98.00\n"));
        assert!(now.contains("2029-06-01,66.00,72.50\n"));
    } else {
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("fuel-prices.csv") && err.contains("changed on disk"),
            "{err}"
        );
        assert!(now == theirs, "the editor's text was lost");
        let left: Vec<_> = fs::read_dir(root.join("data"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 2, "a temporary file was left: {left:?}");
    }
}
