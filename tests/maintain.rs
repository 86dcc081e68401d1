//! The maintainer's commands through the real binary on temporary copies of the site.

mod common;

use common::*;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn csv(site: &Path) -> std::path::PathBuf {
    site.join("data/fuel-prices.csv")
}

#[test]
fn add_replace_and_remove_keep_the_csv_valid_and_sorted() {
    let site = frozen_site();
    let original = fs::read(csv(site.path())).unwrap();
    let out = run(
        site.path(),
        &[
            "price",
            "add",
            "--date",
            "2026-12-01",
            "--mogas",
            "66",
            "--gasoil",
            "72.50",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("64.25 → 66.00 (+1.75, +2.7%)"),
        "{}",
        stdout(&out)
    );
    // In the middle of the history, in date order, in the file's two-decimal style.
    let out = run(
        site.path(),
        &[
            "price",
            "add",
            "--date",
            "2010-01-15",
            "--gasoil",
            "30.1",
            "--mogas",
            "40",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = fs::read_to_string(csv(site.path())).unwrap();
    assert!(
        text.ends_with("2026-04-16,64.25,71.25\n2026-12-01,66.00,72.50\n"),
        "{text}"
    );
    assert!(
        text.contains("2010-01-06,40.40,32.65\n2010-01-15,40.00,30.10\n2010-02-04,"),
        "{text}"
    );
    // Everything else is untouched, byte for byte.
    let without: String = text
        .lines()
        .filter(|l| !l.starts_with("2026-12-01") && !l.starts_with("2010-01-15"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(without.as_bytes(), original.as_slice());
    assert!(run(site.path(), &["check"]).status.success());

    // An existing date needs --replace.
    let before = fs::read(csv(site.path())).unwrap();
    let out = run(
        site.path(),
        &[
            "price",
            "add",
            "--date",
            "2026-12-01",
            "--mogas",
            "67",
            "--gasoil",
            "72.50",
        ],
    );
    assert_fails_with(&out, "already has a row; pass --replace");
    assert_eq!(fs::read(csv(site.path())).unwrap(), before);
    let out = run(
        site.path(),
        &[
            "price",
            "add",
            "--mogas",
            "67",
            "--gasoil",
            "72.50",
            "--date",
            "2026-12-01",
            "--replace",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(fs::read_to_string(csv(site.path()))
        .unwrap()
        .contains("2026-12-01,67.00,72.50\n"));

    let list = run(site.path(), &["price", "list", "--last", "2"]);
    assert!(
        stdout(&list).contains("2026-12-01")
            && stdout(&list).contains("2026-04-16")
            && !stdout(&list).contains("2026-03-25")
    );

    for date in ["2026-12-01", "2010-01-15"] {
        assert!(run(site.path(), &["price", "remove", "--date", date])
            .status
            .success());
    }
    assert_eq!(fs::read(csv(site.path())).unwrap(), original);
}

#[test]
fn bad_price_edits_fail_and_leave_the_file_byte_identical() {
    let site = frozen_site();
    let original = fs::read(csv(site.path())).unwrap();
    for (args, want) in [
        (
            vec!["--date", "2026-13-01", "--mogas", "1", "--gasoil", "1"],
            "is not a valid date",
        ),
        (
            vec!["--date", "2026-12-01", "--mogas", "-1", "--gasoil", "1"],
            "argument mogas=: \"-1\" is not a price",
        ),
        (
            vec!["--date", "2026-12-01", "--mogas", "NaN", "--gasoil", "1"],
            "is not a price",
        ),
        (
            vec!["--date", "2026-12-01", "--mogas", "1"],
            "argument gasoil=: missing",
        ),
        (
            vec![
                "--date",
                "2026-12-01",
                "--mogas",
                "1",
                "--gasoil",
                "1",
                "--lpg",
                "2",
            ],
            "argument lpg=: ",
        ),
    ] {
        let mut full = vec!["price", "add"];
        full.extend(args.iter());
        let out = run(site.path(), &full);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stderr(&out).contains(want), "{args:?}: {}", stderr(&out));
        assert_eq!(fs::read(csv(site.path())).unwrap(), original, "{args:?}");
    }
    // A missing --date is a usage error (exit 2) and writes nothing either.
    let out = run(
        site.path(),
        &["price", "add", "--mogas", "1", "--gasoil", "1"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--date"), "{}", stderr(&out));
    assert_eq!(fs::read(csv(site.path())).unwrap(), original);
    let out = run(site.path(), &["price", "remove", "--date", "2001-01-01"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(fs::read(csv(site.path())).unwrap(), original);
}

#[test]
fn edits_keep_crlf_bom_and_newest_first_order() {
    let site = frozen_site();
    fs::write(csv(site.path()), "\u{feff}date,mogas,gasoil\r\n2026-04-16,64.25,71.25\r\n2026-03-25,58.45,64.80\r\n2026-03-03,58.45,58.95").unwrap();
    assert!(run(
        site.path(),
        &[
            "price",
            "add",
            "--date",
            "2026-03-10",
            "--mogas",
            "58.45",
            "--gasoil",
            "60"
        ]
    )
    .status
    .success());
    assert!(run(
        site.path(),
        &[
            "price",
            "add",
            "--date",
            "2026-05-01",
            "--mogas",
            "65",
            "--gasoil",
            "72"
        ]
    )
    .status
    .success());
    assert_eq!(
        fs::read_to_string(csv(site.path())).unwrap(),
        "\u{feff}date,mogas,gasoil\r\n2026-05-01,65.00,72.00\r\n2026-04-16,64.25,71.25\r\n2026-03-25,58.45,64.80\r\n2026-03-10,58.45,60.00\r\n2026-03-03,58.45,58.95"
    );
}

fn stc(name: &str) -> String {
    repo()
        .join("tests/fixtures/stc")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn import_adds_new_rows_reports_disagreements_and_keeps_the_rest() {
    let site = frozen_site();
    let real = fs::read_to_string(csv(site.path())).unwrap();
    // The CSV lacks the three newest decisions and has one row that disagrees with the page.
    let start: String = real
        .lines()
        .filter(|l| {
            !["2026-04-16", "2026-03-25", "2026-03-03"]
                .iter()
                .any(|d| l.starts_with(d))
        })
        .map(|l| {
            if l.starts_with("2024-01-28") {
                "2024-01-28,66.00,63.95".to_string()
            } else {
                l.to_string()
            }
        })
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(csv(site.path()), &start).unwrap();

    let dry = run(
        site.path(),
        &[
            "import",
            "stc",
            "--file",
            &stc("retail-prices.html"),
            "--dry-run",
        ],
    );
    // 4: the page disagrees with the CSV on a date (the new rows would be added too).
    assert_eq!(dry.status.code(), Some(4), "{}", stderr(&dry));
    assert!(
        stdout(&dry).contains("would add 2026-04-16: mogas 64.25, gasoil 71.25"),
        "{}",
        stdout(&dry)
    );
    assert_eq!(
        fs::read_to_string(csv(site.path())).unwrap(),
        start,
        "dry run writes nothing"
    );

    let out = run(
        site.path(),
        &["import", "stc", "--file", &stc("retail-prices.html")],
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let report = stdout(&out);
    assert!(
        report.contains("16 rows on the page: 12 agree, 3 new, 1 disagree"),
        "{report}"
    );
    assert!(
        report.contains("2024-01-28 (page row 12): the page says mogas 66.20"),
        "{report}"
    );
    let expected = real.replace("2024-01-28,66.20,63.95", "2024-01-28,66.00,63.95");
    assert_eq!(fs::read_to_string(csv(site.path())).unwrap(), expected);

    let out = run(
        site.path(),
        &[
            "import",
            "stc",
            "--file",
            &stc("retail-prices.html"),
            "--overwrite",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(
        fs::read_to_string(csv(site.path())).unwrap(),
        real,
        "--overwrite takes the page's values"
    );
    let again = run(
        site.path(),
        &["import", "stc", "--file", &stc("retail-prices.html")],
    );
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("16 agree, 0 new, 0 disagree (nothing to write)"),
        "{}",
        stdout(&again)
    );
}

#[test]
fn import_refuses_malformed_pages_and_writes_nothing() {
    let site = frozen_site();
    let original = fs::read(csv(site.path())).unwrap();
    let out = run(
        site.path(),
        &["import", "stc", "--file", &stc("malformed.html")],
    );
    assert_fails_with(
        &out,
        "malformed.html: table row 4: \"31-Fevrier-2026\" is not a date",
    );
    let out = run(
        site.path(),
        &["import", "stc", "--file", &stc("no-table.html")],
    );
    assert_fails_with(&out, "no table headed with MOGAS and GAS OIL columns found");
    assert_eq!(fs::read(csv(site.path())).unwrap(), original);
}

#[test]
fn import_without_network_fails_clearly() {
    let site = frozen_site();
    // Nothing listens on this loopback port: the fetch fails at once.
    let out = run(
        site.path(),
        &[
            "import",
            "stc",
            "--url",
            "https://127.0.0.1:9/retail-prices",
            "--timeout",
            "3",
        ],
    );
    assert_fails_with(&out, "could not fetch the STC page");
}

/// Reads an SSE stream until `needle` appears; false after `limit`.
fn wait_for(stream: &mut TcpStream, seen: &mut String, needle: &str, limit: Duration) -> bool {
    let start = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 4096];
    while start.elapsed() < limit {
        if seen.contains(needle) {
            return true;
        }
        match stream.read(&mut buf) {
            Ok(0) => return seen.contains(needle),
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
            Err(_) => {}
        }
    }
    seen.contains(needle)
}

/// Run as the README says, from the site's folder with the default `--root .`: the
/// watcher's events name absolute paths, which a relative root once matched none of,
/// so no edit was ever rebuilt.
#[test]
fn dev_rebuilds_on_change_and_tells_open_pages() {
    let site = frozen_site();
    let mut child = Command::new(bin())
        .args(["dev", "--port", "0"])
        .current_dir(site.path())
        .env_remove("PORT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("dev prints its address").unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest
                .split(' ')
                .next()
                .unwrap()
                .parse::<std::net::SocketAddr>()
                .unwrap();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));

    // Pages are build's pages plus one script tag.
    let page = get(addr, "/notes/").text();
    let built = fs::read_to_string(site.path().join("public/notes/index.html")).unwrap();
    assert_eq!(
        page.replace("<script src=\"/__petrol_watch/reload.js\"></script>\n", ""),
        built
    );
    assert!(get(addr, "/__petrol_watch/reload.js")
        .text()
        .contains("EventSource"));

    let mut events = TcpStream::connect(addr).unwrap();
    events
        .write_all(
            b"GET /__petrol_watch/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n",
        )
        .unwrap();
    let mut seen = String::new();
    assert!(
        wait_for(&mut events, &mut seen, "connected", Duration::from_secs(5)),
        "{seen}"
    );
    // Nothing edited, nothing to reload: a build's own reads of its inputs once set
    // off another build (and a reload) every 150 ms.
    assert!(
        !wait_for(
            &mut events,
            &mut seen,
            "event: reload",
            Duration::from_millis(1500)
        ),
        "{seen}"
    );

    let note = site
        .path()
        .join("content/notes/how-mauritius-sets-fuel-prices.md");
    let text = fs::read_to_string(&note).unwrap();
    // Saved as editors do: written whole beside the notes, then renamed in.
    let staged = site.path().join("note.md.new");
    fs::write(
        &staged,
        text.replacen(
            "How Mauritius sets fuel prices",
            "How Mauritius fixes fuel prices",
            1,
        ),
    )
    .unwrap();
    fs::rename(&staged, &note).unwrap();
    assert!(
        wait_for(
            &mut events,
            &mut seen,
            "event: reload",
            Duration::from_secs(20)
        ),
        "{seen}"
    );
    assert!(get(addr, "/notes/how-mauritius-sets-fuel-prices/")
        .text()
        .contains("How Mauritius fixes fuel prices"));

    // A broken edit: the error reaches the page, the last good site stays up. Written
    // whole and renamed in, as editors save, so no half-written file is ever seen.
    let staged = site.path().join("fuel-prices.csv.new");
    fs::write(&staged, "date,mogas,gasoil\n2026-01-01,oops,1\n").unwrap();
    fs::rename(&staged, site.path().join("data/fuel-prices.csv")).unwrap();
    assert!(
        wait_for(
            &mut events,
            &mut seen,
            "event: build-error",
            Duration::from_secs(20)
        ),
        "{seen}"
    );
    assert!(
        seen.contains("fuel-prices.csv:2: mogas: \\\"oops\\\"")
            || seen.contains("fuel-prices.csv:2: mogas: \"oops\""),
        "{seen}"
    );
    let home = get(addr, "/");
    assert_eq!(home.status, 200);
    assert!(home.text().contains("64.25"));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_dataset_name_cannot_point_outside_data() {
    let site = frozen_site();
    // A CSV one level up, where `--dataset ../outside` would have reached it.
    let outside = site.path().join("outside.csv");
    fs::write(&outside, "date,mogas,gasoil\n2020-01-01,1.00,1.00\n").unwrap();
    let before = fs::read(&outside).unwrap();
    for name in ["../outside", "data/../../outside", "My Data", "/etc/passwd"] {
        let add = run(
            site.path(),
            &[
                "price",
                "add",
                "--dataset",
                name,
                "--date",
                "2026-12-01",
                "mogas=1",
                "gasoil=1",
            ],
        );
        assert_fails_with(&add, "argument --dataset:");
        assert_fails_with(&add, "is not a dataset name");
        let list = run(site.path(), &["price", "list", "--dataset", name]);
        assert_fails_with(&list, "is not a dataset name");
    }
    // The same name in site.toml's primary_dataset is named at its line there.
    let toml = site.path().join("site.toml");
    let text = fs::read_to_string(&toml).unwrap();
    let setting = "primary_dataset = \"fuel-prices\"";
    let line = text[..text.find(setting).unwrap()].matches('\n').count() + 1;
    fs::write(
        &toml,
        text.replacen(setting, "primary_dataset = \"../outside\"", 1),
    )
    .unwrap();
    let list = run(site.path(), &["price", "list"]);
    assert_fails_with(
        &list,
        &format!("site.toml:{line}: primary_dataset: \"../outside\" is not a dataset name"),
    );
    assert_eq!(fs::read(&outside).unwrap(), before);
}

/// What automation reads: `import stc --json` on the fixture pages, one case per exit
/// code (0 nothing new, 3 rows added, 4 disagreements, 1 page unreadable).
#[test]
fn import_json_and_exit_codes_for_automation() {
    let json = |out: &std::process::Output| -> serde_json::Value {
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
    };
    let page = stc("retail-prices.html");
    let import = |site: &Path, page: &str| run(site, &["import", "stc", "--file", page, "--json"]);

    // 0: every row of the page is already in the data.
    let site = frozen_site();
    let out = import(site.path(), &page);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary = json(&out);
    assert_eq!(summary["added"], serde_json::json!([]));
    assert_eq!(summary["disagreeing"], serde_json::json!([]));
    assert_eq!(summary["exit_code"], 0);
    assert_eq!(summary["written"], false);

    // 3: the newest decision is missing from the data; it is added.
    let text = fs::read_to_string(csv(site.path())).unwrap();
    let without_newest: String = text
        .lines()
        .filter(|l| !l.starts_with("2026-04-16"))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(csv(site.path()), &without_newest).unwrap();
    let out = import(site.path(), &page);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let summary = json(&out);
    assert_eq!(
        summary["added"],
        serde_json::json!([{"date": "2026-04-16", "mogas": "64.25", "gasoil": "71.25", "page_row": 3}])
    );
    assert_eq!(summary["written"], true);
    assert!(fs::read_to_string(csv(site.path()))
        .unwrap()
        .contains("2026-04-16,64.25,71.25"));

    // 4: the data disagrees with the page on a date; nothing is changed.
    let disagreeing = fs::read_to_string(csv(site.path()))
        .unwrap()
        .replace("2026-03-25,58.45,64.80", "2026-03-25,58.45,64.90");
    fs::write(csv(site.path()), &disagreeing).unwrap();
    let out = import(site.path(), &page);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let summary = json(&out);
    assert_eq!(summary["disagreeing"][0]["date"], "2026-03-25");
    assert_eq!(summary["disagreeing"][0]["gasoil"], "64.80");
    assert_eq!(summary["disagreeing"][0]["csv"]["gasoil"], "64.90");
    assert_eq!(summary["disagreeing"][0]["applied"], false);
    assert_eq!(fs::read_to_string(csv(site.path())).unwrap(), disagreeing);

    // 1: a page with no price table: a message, no JSON summary, nothing written.
    let out = import(site.path(), &stc("no-table.html"));
    assert_fails_with(&out, "no table headed with MOGAS and GAS OIL columns found");
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    assert_eq!(fs::read_to_string(csv(site.path())).unwrap(), disagreeing);
}

/// A browser's "Save page as" keeps the bytes the server sent: a page served in
/// windows-1252 (or labelled ISO-8859-1) is saved with `é` as the byte 0xE9. It was
/// refused as invalid UTF-8; it is read as browsers read it, declared or not.
#[test]
fn import_reads_a_page_saved_in_windows_1252() {
    let site = frozen_site();
    let original = fs::read(csv(site.path())).unwrap();
    let page = fs::read_to_string(stc("retail-prices.html")).unwrap();
    assert!(page.contains("4-Fevrier-2009"));
    let latin1 = |text: &str| -> Vec<u8> {
        text.chars()
            .map(|c| u8::try_from(u32::from(c)).expect("a Latin-1 character"))
            .collect()
    };
    let accented = page.replace("4-Fevrier-2009", "4-Février-2009");
    for (name, text) in [
        (
            "declared.html",
            accented.replace("<meta charset=\"utf-8\">", "<meta charset=\"ISO-8859-1\">"),
        ),
        (
            "undeclared.html",
            accented.replace("<meta charset=\"utf-8\">", ""),
        ),
    ] {
        let path = site.path().join(name);
        fs::write(&path, latin1(&text)).unwrap();
        let out = run(
            site.path(),
            &["import", "stc", "--file", path.to_str().unwrap()],
        );
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        assert!(
            stdout(&out).contains("16 agree, 0 new, 0 disagree (nothing to write)"),
            "{name}: {}",
            stdout(&out)
        );
    }
    // A page that says it is UTF-8 and is not is refused at its line, nothing written.
    let path = site.path().join("mislabelled.html");
    fs::write(&path, latin1(&accented)).unwrap();
    let out = run(
        site.path(),
        &["import", "stc", "--file", path.to_str().unwrap()],
    );
    let line = 1 + accented[..accented.find("Février").unwrap()]
        .matches('\n')
        .count();
    assert_fails_with(
        &out,
        &format!("mislabelled.html: line {line}: invalid UTF-8 in a page that says it is UTF-8"),
    );
    assert_eq!(fs::read(csv(site.path())).unwrap(), original);
}
