//! Helpers shared by the integration tests: a copy of the real site in a temporary
//! folder, the real binary, a raw HTTP/1.1 client over loopback, and a server launcher.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_petrol-watch")
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A temporary copy of the real site: site.toml, data/, content/, templates/, static/.
pub fn fixture_site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(repo().join("site.toml"), dir.path().join("site.toml")).unwrap();
    for sub in ["data", "content", "templates", "static"] {
        copy_dir(&repo().join(sub), &dir.path().join(sub));
    }
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let dest = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

pub fn run(root: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Asserts a command failed with exit 1 and said `want` on stderr.
pub fn assert_fails_with(out: &Output, want: &str) {
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    assert!(
        stderr(out).contains(want),
        "want {want:?} in: {}",
        stderr(out)
    );
}

/// The text after `prefix` up to the next `"`: an attribute value in rendered HTML.
pub fn value_after<'a>(text: &'a str, prefix: &str) -> &'a str {
    let rest = text
        .split(prefix)
        .nth(1)
        .unwrap_or_else(|| panic!("no {prefix:?}"));
    rest.split('"').next().unwrap()
}

/// Every file under `dir` with its bytes, for byte-for-byte comparisons.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path()
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// A built copy of the frozen fixture site (exact assertions are safe on it).
pub fn built_site() -> tempfile::TempDir {
    let site = frozen_site();
    let out = run(site.path(), &["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    site
}

#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request (`Connection: close`) and reads the whole answer.
pub fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> HttpResponse {
    let mut raw = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        raw.push_str(&format!("{k}: {v}\r\n"));
    }
    raw.push_str("\r\n");
    send_raw(addr, raw.as_bytes(), method == "HEAD")
}

pub fn get(addr: SocketAddr, target: &str) -> HttpResponse {
    request(addr, "GET", target, &[])
}

pub fn send_raw(addr: SocketAddr, raw: &[u8], head: bool) -> HttpResponse {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(raw).unwrap();
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("0")
        .parse()
        .unwrap();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':').unwrap();
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let mut body = Vec::new();
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map(|(_, v)| v.parse::<usize>().unwrap());
    if head || status == 304 {
        // No body follows.
    } else if let Some(n) = length {
        body.resize(n, 0);
        reader.read_exact(&mut body).unwrap();
    } else {
        reader.read_to_end(&mut body).unwrap();
    }
    HttpResponse {
        status,
        headers,
        body,
    }
}

/// The real binary serving a folder on 127.0.0.1 with a free port.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub lines: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub fn start(dir: &Path, envs: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(bin());
        cmd.args(["serve", "--bind", "127.0.0.1", "--port", "0", "--dir"])
            .arg(dir)
            .arg("--root")
            .arg(dir.parent().unwrap())
            .env("LOG_FORMAT", "json")
            .env_remove("PORT")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // Keep the line before announcing the address, so a test that reads
                // `lines` right after start finds the start-up line there.
                let addr = line
                    .split("listening on http://")
                    .nth(1)
                    .map(|rest| rest.split([' ', '"']).next().unwrap().to_string());
                sink.lock().unwrap().push(line);
                if let Some(addr) = addr {
                    let _ = tx.send(addr);
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("server printed its address");
        Server {
            child,
            addr: addr.parse().unwrap(),
            lines,
        }
    }

    pub fn terminate(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
    }

    /// Waits for exit, at most `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let start = std::time::Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temporary copy of the frozen fixture site (tests/fixtures/site: its own
/// site.toml, data/ and content/) with the repo's templates/ and static/. Exact-value
/// assertions use this, so adding a real price never turns a test red.
pub fn frozen_site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("tests/fixtures/site"), dir.path());
    for sub in ["templates", "static"] {
        copy_dir(&repo().join(sub), &dir.path().join(sub));
    }
    dir
}

/// Runs the binary like `run`, but kills it after `limit` (a hang fails the test
/// instead of stalling the suite). Returns the output and how long it took.
pub fn run_within(root: &Path, args: &[&str], limit: Duration) -> (Output, Duration) {
    let start = std::time::Instant::now();
    let mut child = Command::new(bin())
        .arg("--root")
        .arg(root)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drain the pipes on threads so a chatty child cannot block on a full pipe.
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let output = Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    };
    (output, start.elapsed())
}

/// Builds `root` into `out` (relative to root or absolute) and asserts it succeeded.
pub fn build_ok(root: &Path, out: &str) -> Output {
    let o = run(root, &["build", "--out", out]);
    assert!(o.status.success(), "{}", stderr(&o));
    o
}

/// Every internal link target (`href`, `src`, `srcset`) in the HTML pages under `dir`,
/// as absolute site paths without fragment or query.
pub fn internal_links(dir: &Path) -> std::collections::BTreeSet<String> {
    let selector =
        scraper::Selector::parse("a[href], link[href], img[src], source[srcset], script[src]")
            .unwrap();
    let mut links = std::collections::BTreeSet::new();
    for (path, bytes) in snapshot(dir) {
        if !path.ends_with(".html") {
            continue;
        }
        let doc = scraper::Html::parse_document(&String::from_utf8_lossy(&bytes));
        for el in doc.select(&selector) {
            let v = el.value();
            let Some(link) = v.attr("href").or(v.attr("src")).or(v.attr("srcset")) else {
                continue;
            };
            let link = link.split(['#', '?']).next().unwrap_or("");
            if link.starts_with('/') && !link.starts_with("//") {
                links.insert(link.to_string());
            } else if !link.is_empty() && !link.contains(':') && !link.starts_with("//") {
                let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
                links.insert(format!("/{dir}/{link}"));
            }
        }
    }
    links
}

/// A temporary copy of the small fixture site (`tests/fixtures/small-site`: three short
/// notes, a few price rows) with the repository's templates/ and static/: quick to
/// build many times over, for the plan and reuse tests.
pub fn small_site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("tests/fixtures/small-site"), dir.path());
    for sub in ["templates", "static"] {
        copy_dir(&repo().join(sub), &dir.path().join(sub));
    }
    dir
}

/// Resident memory of a process in KiB, from /proc (Linux).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A minimal folder to serve without building: `root/site.toml` (from the real site)
/// and `root/public/index.html`; add files to `public` as needed.
pub fn bare_site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(repo().join("site.toml"), dir.path().join("site.toml")).unwrap();
    std::fs::create_dir_all(dir.path().join("public")).unwrap();
    std::fs::write(
        dir.path().join("public/index.html"),
        "<!doctype html><title>home</title><p>home</p>\n",
    )
    .unwrap();
    dir
}

/// A temporary copy of `tests/fixtures/notes-reading` (notes with contents, aliases,
/// a draft and tags) with the repository's templates/ and static/.
pub fn reading_site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("tests/fixtures/notes-reading"), dir.path());
    for sub in ["templates", "static"] {
        copy_dir(&repo().join(sub), &dir.path().join(sub));
    }
    dir
}

/// Panics naming the first file that differs, rather than printing two whole sites.
pub fn assert_same(warm: &BTreeMap<String, Vec<u8>>, cold: &BTreeMap<String, Vec<u8>>, when: &str) {
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(warm), names(cold), "{when}: different files");
    for (path, bytes) in warm {
        assert!(
            bytes == &cold[path],
            "{when}: {path} differs from a cold build"
        );
    }
}

/// Builds `root` warm into `warm/` and cold into a fresh `cold/`; returns the warm
/// snapshot after asserting both are equal.
pub fn warm_equals_cold(root: &Path, when: &str) -> BTreeMap<String, Vec<u8>> {
    build_ok(root, "warm");
    let cold = root.join("cold");
    // Truly cold: no previous output and no image cache, so a key that misses an
    // input shows up as a difference.
    for dir in [cold.clone(), root.join(".cold.cache")] {
        if dir.exists() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
    build_ok(root, "cold");
    let warm = snapshot(&root.join("warm"));
    assert_same(&warm, &snapshot(&cold), when);
    warm
}

/// The names of the staging folders beside a site's output (`.<out>.tmp-*`): a build
/// leaves none behind, whether it succeeded or failed.
pub fn staging_folders(root: &Path) -> Vec<String> {
    std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect()
}

/// Asserts a build's report counts every file it wrote as unchanged.
pub fn assert_every_file_unchanged(out: &Output) {
    let report = stdout(out);
    let files = value_after(&report, "charts, ").split(' ').next().unwrap();
    assert!(report.contains(&format!("({files} unchanged)")), "{report}");
}

/// Makes a FIFO at `path` (by the system's `mkfifo`), for inputs that must never be
/// waited on.
pub fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

/// Starts the binary on `root` with `args`, its output discarded: for builds a test
/// races, kills or times.
pub fn spawn_quiet(root: &Path, args: &[&str]) -> std::process::Child {
    Command::new(bin())
        .arg("--root")
        .arg(root)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Adds a note marked `draft = true` to the site at `root`, published only with
/// `--drafts` at `/notes/a-draft/`.
pub fn add_draft_note(root: &Path) {
    std::fs::write(
        root.join("content/notes/a-draft.md"),
        "+++\ntitle = \"A draft\"\ndate = 2024-05-02\ndraft = true\n+++\n\nNot yet.\n",
    )
    .unwrap();
}

/// `petrol-watch dev` on a free loopback port in `root`, killed when dropped, with its
/// stderr (where build errors go) collected.
pub struct DevServer {
    pub child: Child,
    pub addr: SocketAddr,
    pub stderr: Arc<Mutex<String>>,
}

impl DevServer {
    pub fn start(root: &Path) -> DevServer {
        let mut child = Command::new(bin())
            .args(["dev", "--port", "0"])
            .current_dir(root)
            .env_remove("PORT")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let mut err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(rest.split(' ').next().unwrap().to_string());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("dev printed no address: {}", stderr.lock().unwrap()));
        DevServer {
            child,
            addr: addr.parse().unwrap(),
            stderr,
        }
    }

    /// An open event stream (`/__petrol_watch/events`), read with [`DevServer::wait_for`].
    pub fn events(&self) -> TcpStream {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream
            .write_all(
                b"GET /__petrol_watch/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n",
            )
            .unwrap();
        stream
    }

    /// Reads `stream` into `seen` until `needle` is in it; false after `limit` or when
    /// the stream ends without it.
    /// The event stream once its first message ("connected") came, and the text seen
    /// so far: where a test starts editing.
    pub fn connected_events(&self) -> (TcpStream, String) {
        let mut events = self.events();
        let mut seen = String::new();
        assert!(
            DevServer::wait_for(&mut events, &mut seen, "connected", Duration::from_secs(10)),
            "{seen}"
        );
        (events, seen)
    }

    pub fn wait_for(
        stream: &mut TcpStream,
        seen: &mut String,
        needle: &str,
        limit: Duration,
    ) -> bool {
        let start = std::time::Instant::now();
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut buf = [0u8; 4096];
        while start.elapsed() < limit && !seen.contains(needle) {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
                Err(_) => {}
            }
        }
        seen.contains(needle)
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes `text` to `path` as editors save: whole, beside it, then renamed in.
pub fn save_as_editors_do(path: &Path, text: &[u8]) {
    let staged = path.with_extension("saving");
    std::fs::write(&staged, text).unwrap();
    std::fs::rename(&staged, path).unwrap();
}

/// The frozen site with the code fixture notes (`tests/fixtures/notes-code/`) added,
/// not built.
pub fn code_site() -> tempfile::TempDir {
    let site = frozen_site();
    copy_dir(
        &repo().join("tests/fixtures/notes-code"),
        &site.path().join("content/notes"),
    );
    site
}

/// Replaces the first `from` in `root/file` with `to`; the file must hold `from`.
pub fn edit(root: &Path, file: &str, from: &str, to: &str) {
    let path = root.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}
