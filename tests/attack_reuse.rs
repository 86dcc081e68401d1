//! A careless operator and a hostile file system against the build's reuse of the
//! previous site, and hostile clients against the server, through the real binary.
//! Every build here is bounded in time (`run_within`): a hang fails the test.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// Builds `root` into `out` within [`LIMIT`], asserting success.
fn build_within(root: &Path, out: &str) -> std::process::Output {
    let (o, _) = run_within(root, &["build", "--out", out], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    o
}

/// A fresh cold build of `root` (no previous output, no image cache).
fn cold(root: &Path) -> BTreeMap<String, Vec<u8>> {
    for dir in [root.join("cold"), root.join(".cold.cache")] {
        if dir.exists() {
            fs::remove_dir_all(&dir).unwrap();
        }
    }
    build_within(root, "cold");
    snapshot(&root.join("cold"))
}

/// Every `.gz` and `.br` under `dir` decodes to the file beside it.
fn assert_siblings_decode_to_their_page(dir: &Path, when: &str) {
    for (path, bytes) in snapshot(dir) {
        let (base, gz) = if let Some(b) = path.strip_suffix(".gz") {
            (b, true)
        } else if let Some(b) = path.strip_suffix(".br") {
            (b, false)
        } else {
            continue;
        };
        let page = fs::read(dir.join(base)).unwrap();
        let mut decoded = Vec::new();
        let ok = if gz {
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_end(&mut decoded)
                .is_ok()
        } else {
            brotli::BrotliDecompress(&mut &bytes[..], &mut decoded).is_ok()
        };
        assert!(
            ok && decoded == page,
            "{when}: {path} does not decode to {base}"
        );
    }
}

/// Nothing under `dir` is a symlink.
fn assert_no_symlinks(dir: &Path, when: &str) {
    for e in walkdir::WalkDir::new(dir) {
        let e = e.unwrap();
        assert!(
            !e.path_is_symlink(),
            "{when}: {} is a symlink in the published site",
            e.path().display()
        );
    }
}

/// The live site after a build over a tampered output: the same as a cold build, with
/// every compressed sibling decoding to its page, and no symlink in it.
fn assert_healed(root: &Path, when: &str) {
    let live = root.join("out");
    assert_no_symlinks(&live, when);
    assert_siblings_decode_to_their_page(&live, when);
    assert_same(&snapshot(&live), &cold(root), when);
}

/// Rewrites `path` in place with `bytes` (same inode, as an editor saving does).
fn overwrite(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes).unwrap();
}

/// Files of the live output edited by hand between builds, for keyed outputs (a
/// dataset's pages, rendered only when their key changes) and plain ones: the next
/// build, edit or no edit of the inputs, publishes the build's files, never the
/// damaged ones.
#[test]
fn hand_edited_live_files_are_rebuilt_not_republished() {
    type Tamper = fn(&Path);
    let cases: Vec<(&str, Tamper)> = vec![
        ("keyed page truncated", |out| {
            let p = out.join("prices/fuel-prices/index.html");
            let bytes = fs::read(&p).unwrap();
            overwrite(&p, &bytes[..100]);
        }),
        ("keyed page replaced by same-length text", |out| {
            let p = out.join("prices/fuel-prices/2025/index.html");
            let len = fs::read(&p).unwrap().len();
            overwrite(&p, &vec![b'x'; len]);
        }),
        ("plain page's .br replaced by same-length garbage", |out| {
            let p = out.join("notes/first-note/index.html.br");
            let len = fs::read(&p).unwrap().len();
            overwrite(&p, &vec![0xA5; len]);
        }),
        ("keyed page's .gz replaced by same-length garbage", |out| {
            let p = out.join("prices/brent-crude/index.html.gz");
            let len = fs::read(&p).unwrap().len();
            overwrite(&p, &vec![0x1f; len]);
        }),
        ("keyed download edited", |out| {
            let p = out.join("data/fuel-prices.csv");
            let mut bytes = fs::read(&p).unwrap();
            let last = bytes.len() - 2;
            bytes[last] ^= 1;
            overwrite(&p, &bytes);
        }),
        ("page replaced by a folder", |out| {
            let p = out.join("prices/fuel-prices/2024/index.html");
            fs::remove_file(&p).unwrap();
            fs::create_dir(&p).unwrap();
            fs::write(p.join("x"), "x").unwrap();
        }),
        ("image replaced by a same-length file", |out| {
            let p = fs::read_dir(out.join("share/prices"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.to_string_lossy().contains("fuel-prices"))
                .unwrap();
            let len = fs::read(&p).unwrap().len();
            fs::remove_file(&p).unwrap();
            fs::write(&p, vec![0u8; len]).unwrap();
        }),
    ];
    for (when, tamper) in cases {
        tamper_then_rebuild(when, |out, _| tamper(out));
    }
}

/// Builds, tampers with the live output (given a folder outside the site too), then
/// builds again, with and without an edit of the inputs: the live site must heal.
fn tamper_then_rebuild(when: &str, tamper: impl Fn(&Path, &Path)) {
    for edit_inputs in [false, true] {
        let site = small_site();
        let outside = tempfile::tempdir().unwrap();
        let root = site.path();
        build_within(root, "out");
        tamper(&root.join("out"), outside.path());
        if edit_inputs {
            let note = root.join("content/notes/third-note.md");
            let text = fs::read_to_string(&note).unwrap();
            fs::write(&note, format!("{text}\nOne more line.\n")).unwrap();
        }
        build_within(root, "out");
        assert_healed(root, &format!("{when} (inputs edited: {edit_inputs})"));
    }
}

/// Symlinks put in the live site (to a file outside it, to one with the very bytes the
/// build writes, to a FIFO, a folder replaced by a link to a copy of itself): the next
/// build never carries a link into the new site nor reads through one, and never hangs.
#[test]
fn symlinks_in_the_live_output_are_never_followed_or_published() {
    type Tamper = fn(&Path, &Path);
    let cases: Vec<(&str, Tamper)> = vec![
        ("keyed page linked to /etc/passwd", |out, _| {
            let p = out.join("prices/brent-crude/2026/index.html");
            fs::remove_file(&p).unwrap();
            std::os::unix::fs::symlink("/etc/passwd", &p).unwrap();
        }),
        (
            "plain file linked to a copy of itself outside",
            |out, outside| {
                let p = out.join("robots.txt");
                let copy = outside.join("robots.txt");
                fs::copy(&p, &copy).unwrap();
                fs::remove_file(&p).unwrap();
                std::os::unix::fs::symlink(&copy, &p).unwrap();
            },
        ),
        ("keyed page's .br linked to a FIFO", |out, outside| {
            let fifo = outside.join("fifo");
            mkfifo(&fifo);
            let p = out.join("prices/fuel-prices/index.html.br");
            fs::remove_file(&p).unwrap();
            std::os::unix::fs::symlink(&fifo, &p).unwrap();
        }),
        ("folder moved outside and linked back", |out, outside| {
            let moved = outside.join("notes");
            fs::rename(out.join("notes"), &moved).unwrap();
            std::os::unix::fs::symlink(&moved, out.join("notes")).unwrap();
        }),
    ];
    for (when, tamper) in cases {
        tamper_then_rebuild(when, tamper);
    }
}

/// The manifest (the previous build's keys) damaged by hand: deleted, emptied,
/// truncated, made huge, given duplicate and garbage lines, made a FIFO or a link.
/// A build never hangs, never trusts a damaged line, and either builds the same site
/// as a cold build or refuses with a message naming the manifest, leaving the live
/// site as it was.
#[test]
fn a_damaged_manifest_never_hangs_nor_misleads_the_build() {
    const MANIFEST: &str = ".petrol-watch-manifest";
    type Tamper = fn(&Path);
    let cases: Vec<(&str, Tamper)> = vec![
        ("emptied", |m| fs::write(m, "").unwrap()),
        ("truncated mid-line", |m| {
            let text = fs::read(m).unwrap();
            fs::write(m, &text[..text.len() / 2]).unwrap();
        }),
        ("100 MB of garbage lines", |m| {
            let first = fs::read_to_string(m).unwrap();
            let first = first.lines().next().unwrap();
            let mut f = fs::File::create(m).unwrap();
            use std::io::Write;
            writeln!(f, "{first}").unwrap();
            let line = format!("{} {}\n", "z".repeat(32), "x/".repeat(40));
            for _ in 0..(100 * 1024 * 1024 / line.len()) {
                f.write_all(line.as_bytes()).unwrap();
            }
        }),
        ("every line twice, the copy with another key", |m| {
            let text = fs::read_to_string(m).unwrap();
            let mut lines: Vec<String> = text.lines().map(String::from).collect();
            for l in text.lines().skip(1) {
                let (_, rel) = l.split_once(' ').unwrap();
                lines.push(format!("{} {rel}", "0".repeat(32)));
            }
            fs::write(m, lines.join("\n") + "\n").unwrap();
        }),
        ("not UTF-8", |m| {
            fs::write(m, b"\xff\xfe\x00garbage\n").unwrap()
        }),
    ];
    for (when, tamper) in cases {
        let site = small_site();
        let root = site.path();
        build_within(root, "out");
        tamper(&root.join("out").join(MANIFEST));
        // A page edited too, so that a trusted damaged line would show.
        let page = root.join("out/prices/fuel-prices/index.html");
        fs::remove_file(&page).unwrap();
        fs::write(&page, "stale").unwrap();
        build_within(root, "out");
        assert_healed(root, when);
    }

    // Deleted, a FIFO, a link to a file outside: not this program's folder any more.
    // Refused with the manifest named, the live site untouched, within the limit.
    type Replace = fn(&Path, &Path);
    let refused: Vec<(&str, Replace)> = vec![
        ("deleted", |m, _| fs::remove_file(m).unwrap()),
        ("a FIFO", |m, _| {
            fs::remove_file(m).unwrap();
            mkfifo(m);
        }),
        ("a link to a file outside", |m, outside| {
            let copy = outside.join("m");
            fs::copy(m, &copy).unwrap();
            fs::remove_file(m).unwrap();
            std::os::unix::fs::symlink(&copy, m).unwrap();
        }),
    ];
    for (when, replace) in refused {
        let site = small_site();
        let outside = tempfile::tempdir().unwrap();
        let root = site.path();
        build_within(root, "out");
        replace(&root.join("out").join(MANIFEST), outside.path());
        let note = root.join("content/notes/third-note.md");
        let text = fs::read_to_string(&note).unwrap();
        fs::write(&note, format!("{text}\nOne more line.\n")).unwrap();
        let before = snapshot(&root.join("out"));
        let (o, _) = run_within(root, &["build", "--out", "out"], LIMIT);
        if o.status.success() {
            assert_healed(root, when);
        } else {
            assert_eq!(o.status.code(), Some(1), "{when}");
            assert!(stderr(&o).contains(MANIFEST), "{when}: {}", stderr(&o));
            assert_same(&snapshot(&root.join("out")), &before, when);
        }
        assert!(staging_folders(root).is_empty(), "{when}");
    }
}

/// The build's other own files, the immutable list in the output and the stamps
/// beside it, made FIFOs, links, folders or garbage: no build hangs or fails on them
/// (stamps only spare work), none claims files were edited by hand, and the site
/// built is a cold build's.
#[test]
fn a_fifo_or_garbage_in_place_of_the_build_s_own_lists_never_hangs() {
    for file in ["out/.petrol-watch-immutable", ".out.stamps"] {
        for what in ["fifo", "link", "garbage", "folder"] {
            let site = small_site();
            let root = site.path();
            build_within(root, "out");
            let path = root.join(file);
            fs::remove_file(&path).unwrap();
            match what {
                "fifo" => mkfifo(&path),
                "link" => std::os::unix::fs::symlink("/etc/passwd", &path).unwrap(),
                "folder" => fs::create_dir(&path).unwrap(),
                _ => fs::write(&path, "program x\n0 index.html\n\u{0}\n").unwrap(),
            }
            let o = build_within(root, "out");
            assert!(!stderr(&o).contains("edited by hand"), "{}", stderr(&o));
            assert_healed(root, &format!("{file} {what}"));
        }
    }
}

/// Builds killed with SIGKILL at moments spread over a build (bounded rounds), each
/// followed by a build: the live site is always a complete site (a cold build's of
/// its inputs, once the next build ran), and no staging folder is left behind.
#[test]
fn builds_killed_at_any_moment_leave_a_complete_site_and_no_staging_folders() {
    let site = small_site();
    let root = site.path();
    build_within(root, "out");
    let note = root.join("content/notes/third-note.md");
    let original = fs::read_to_string(&note).unwrap();
    // How long an edited warm build takes here: the kills are spread over it.
    fs::write(&note, format!("{original}\nedit 0\n")).unwrap();
    let (_, took) = run_within(root, &["build", "--out", "out"], LIMIT);
    const ROUNDS: u32 = 32;
    let mut leftovers = Vec::new();
    for round in 1..=ROUNDS {
        fs::write(&note, format!("{original}\nedit {round}\n")).unwrap();
        let mut child = std::process::Command::new(bin())
            .arg("--root")
            .arg(root)
            .args(["build", "--out", "out"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(took * round / ROUNDS);
        let _ = child.kill();
        child.wait().unwrap();
        // Whatever is live is a whole site: it has its home page and manifest.
        let live = root.join("out");
        assert!(
            live.join("index.html").is_file() && live.join(".petrol-watch-manifest").is_file(),
            "round {round}: the live site is incomplete"
        );
        leftovers.extend(staging_folders(root));
        build_within(root, "out");
        assert!(
            staging_folders(root).is_empty(),
            "round {round}: staging folders left after the next build: {:?}",
            staging_folders(root)
        );
        assert_siblings_decode_to_their_page(&live, &format!("round {round}"));
    }
    assert_healed(root, "after the killed builds");
    eprintln!(
        "staging folders seen right after a kill: {}",
        leftovers.len()
    );
}

/// One GET with `Connection: close`, read to the end whatever happens: the status,
/// the Content-Length announced and the body bytes that actually came.
fn fetch_to_end(
    addr: std::net::SocketAddr,
    path: &str,
    encoding: &str,
) -> (u16, usize, Vec<u8>, String) {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: {encoding}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    let end = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = String::from_utf8_lossy(&all[..end]).to_ascii_lowercase();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    (status, length, all[end..].to_vec(), head)
}

/// `serve` over a folder that a build then swaps (files streamed from disk, as big
/// ones are): a file that changed under the server is never announced as a 200 and
/// then cut off; it is refused with 503 and `no-store` (so no cache keeps it), and
/// files the build kept are still served whole.
#[test]
fn a_file_swapped_under_the_server_is_never_sent_cut_off() {
    let site = small_site();
    let root = site.path();
    build_within(root, "public");
    let mut server = Server::start(&root.join("public"), &[("MEMORY_FILE_KIB", "0")]);
    let changed = "/notes/third-note/";
    let kept = "/notes/first-note/";
    for (path, enc) in [(changed, "br"), (kept, "gzip")] {
        let (status, length, body, _) = fetch_to_end(server.addr, path, enc);
        assert_eq!(
            (status, body.len()),
            (200, length),
            "{path} before the build"
        );
    }
    let note = root.join("content/notes/third-note.md");
    let text = fs::read_to_string(&note).unwrap();
    fs::write(&note, format!("{text}\nOne more line.\n")).unwrap();
    build_within(root, "public");
    for enc in ["br", "gzip", "identity"] {
        let (status, length, body, head) = fetch_to_end(server.addr, changed, enc);
        assert!(
            (status == 503 && head.contains("cache-control: no-store"))
                || (status == 200 && body.len() == length),
            "{changed} ({enc}) after the build: {status}, {} of {length} bytes\n{head}",
            body.len()
        );
    }
    let (status, length, body, _) = fetch_to_end(server.addr, kept, "gzip");
    assert_eq!(
        (status, body.len()),
        (200, length),
        "{kept} after the build"
    );
    server.terminate();
}

/// `serve` over a folder whose immutable or redirect list is a FIFO, a link to
/// `/dev/zero` or a huge file: start-up fails at once with the file named, rather
/// than hang or fill memory.
#[test]
fn serve_refuses_a_fifo_or_endless_list_at_start_up() {
    for list in [".petrol-watch-immutable", ".petrol-watch-redirects"] {
        for what in ["fifo", "/dev/zero", "huge"] {
            let site = bare_site();
            let root = site.path();
            let path = root.join("public").join(list);
            match what {
                "fifo" => mkfifo(&path),
                "huge" => fs::File::create(&path)
                    .unwrap()
                    .set_len(65 * 1024 * 1024)
                    .unwrap(),
                link => std::os::unix::fs::symlink(link, &path).unwrap(),
            }
            let (o, _) = run_within(
                root,
                &[
                    "serve",
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--dir",
                    "public",
                ],
                Duration::from_secs(20),
            );
            assert_fails_with(&o, list);
            // The cause once, not repeated by the error chain.
            let err = stderr(&o);
            for cause in ["regular file", "bytes, more than"] {
                assert!(err.matches(cause).count() <= 1, "{err}");
            }
        }
    }
}

/// `--out` naming a loop of symlinks: refused before anything is written, saying so,
/// rather than failing at the swap with "Not a directory".
#[test]
fn an_output_that_is_a_symlink_loop_is_refused_clearly() {
    let site = small_site();
    let root = site.path();
    std::os::unix::fs::symlink("loop-b", root.join("loop-a")).unwrap();
    std::os::unix::fs::symlink("loop-a", root.join("loop-b")).unwrap();
    let (o, _) = run_within(root, &["build", "--out", "loop-a"], LIMIT);
    assert_fails_with(&o, "symlinks that does not end");
    assert!(staging_folders(root).is_empty());
    assert!(fs::symlink_metadata(root.join("loop-a"))
        .unwrap()
        .file_type()
        .is_symlink());
}

/// Starts `serve` on `dir`; its address, or `None` if it refused to start.
fn start_serving(dir: &Path) -> (std::process::Child, Option<std::net::SocketAddr>) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(bin())
        .args(["serve", "--bind", "127.0.0.1", "--port", "0", "--dir"])
        .arg(dir)
        .arg("--root")
        .arg(dir.parent().unwrap())
        .env("NO_REQUEST_LOG", "1")
        .env_remove("PORT")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let _ = std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
    let addr = line
        .split("listening on http://")
        .nth(1)
        .map(|rest| rest.split([' ', '"']).next().unwrap().parse().unwrap());
    (child, addr)
}

/// `serve` started while builds swap the folder in (here two built sites swapped
/// every 20 ms, about a build's pace on a small site): every page it then serves
/// comes with its own build's `.br` and `.gz`, never the other build's.
#[test]
fn a_server_started_during_swaps_never_pairs_a_page_with_another_build_s_siblings() {
    let site = fixture_site();
    let root = site.path();
    let note = fs::read_dir(root.join("content/notes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "md"))
        .unwrap();
    let slug = note.file_stem().unwrap().to_string_lossy().into_owned();
    build_within(root, "public");
    let text = fs::read_to_string(&note).unwrap();
    fs::write(
        &note,
        format!("{text}\nA sentence only the other build has.\n"),
    )
    .unwrap();
    build_within(root, "other");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let (stop, root) = (stop.clone(), root.to_path_buf());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20));
                let (public, other, aside) =
                    (root.join("public"), root.join("other"), root.join("aside"));
                fs::rename(&public, &aside).unwrap();
                fs::rename(&other, &public).unwrap();
                fs::rename(&aside, &other).unwrap();
            }
        })
    };
    let paths = [
        format!("/notes/{slug}/"),
        "/notes/".into(),
        "/feed.xml".into(),
    ];
    let mut mixed = Vec::new();
    let mut served = 0;
    for round in 0..80 {
        let (mut child, addr) = start_serving(&root.join("public"));
        if let Some(addr) = addr {
            served += 1;
            for path in &paths {
                let (_, _, identity, _) = fetch_to_end(addr, path, "identity");
                let (_, _, br, _) = fetch_to_end(addr, path, "br");
                let (_, _, gz, _) = fetch_to_end(addr, path, "gzip");
                let mut unbr = Vec::new();
                let mut ungz = Vec::new();
                let br_ok = brotli::BrotliDecompress(&mut &br[..], &mut unbr).is_ok();
                let gz_ok = flate2::read::GzDecoder::new(&gz[..])
                    .read_to_end(&mut ungz)
                    .is_ok();
                if !(br_ok && gz_ok && unbr == identity && ungz == identity) {
                    mixed.push(format!("round {round}: {path}"));
                }
            }
        }
        let _ = child.kill();
        child.wait().unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    swapper.join().unwrap();
    assert!(served > 40, "only {served} of 80 starts served");
    assert!(
        mixed.is_empty(),
        "pages served with another build's siblings: {mixed:?}"
    );
}
