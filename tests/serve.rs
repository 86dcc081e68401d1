//! `petrol-watch serve` through the real binary and a raw HTTP client on 127.0.0.1.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// One built site shared by the tests of this file (building is the slow part).
fn site() -> &'static std::path::Path {
    static SITE: OnceLock<tempfile::TempDir> = OnceLock::new();
    SITE.get_or_init(|| {
        let site = built_site();
        let public = site.path().join("public");
        // Things that must never be served.
        std::fs::write(site.path().join("secret.txt"), "CANARY-outside").unwrap();
        std::fs::write(public.join(".env"), "CANARY-dotenv").unwrap();
        std::fs::create_dir_all(public.join(".git")).unwrap();
        std::fs::write(public.join(".git/config"), "CANARY-git").unwrap();
        std::os::unix::fs::symlink(site.path().join("secret.txt"), public.join("escape.txt"))
            .unwrap();
        std::os::unix::fs::symlink(site.path(), public.join("up")).unwrap();
        // A large file for slow downloads.
        std::fs::write(public.join("big.bin"), vec![7u8; 8 * 1024 * 1024]).unwrap();
        site
    })
    .path()
}

fn server() -> Server {
    Server::start(&site().join("public"), &[])
}

fn asset_paths(addr: std::net::SocketAddr) -> (String, String) {
    let home = get(addr, "/").text();
    let css = value_after(&home, "href=\"/static/style.");
    let svg = value_after(&home, "src=\"/charts/fuel-prices.");
    (
        format!("/static/style.{css}"),
        format!("/charts/fuel-prices.{svg}"),
    )
}

#[test]
fn cache_classes_follow_the_policy_table() {
    let s = server();
    let (css, svg) = asset_paths(s.addr);
    for path in [css.as_str(), svg.as_str()] {
        let r = get(s.addr, path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(
            r.header("cache-control"),
            Some("public, max-age=31536000, immutable"),
            "{path}"
        );
    }
    for path in [
        "/",
        "/notes/",
        "/feed.xml",
        "/api/prices.json",
        "/data/fuel-prices.csv",
        "/sitemap.xml",
    ] {
        let r = get(s.addr, path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(
            r.header("cache-control"),
            Some("public, max-age=300, s-maxage=3600"),
            "{path}"
        );
    }
    let r = get(s.addr, "/healthz");
    assert_eq!(
        (r.status, r.text().as_str(), r.header("cache-control")),
        (200, "ok\n", Some("no-store"))
    );
    assert_eq!(
        get(s.addr, "/feed.xml").header("content-type"),
        Some("application/atom+xml; charset=utf-8")
    );
    assert_eq!(get(s.addr, "/").header("set-cookie"), None);
}

#[test]
fn cache_lifetimes_come_from_site_toml() {
    let site = fixture_site();
    let toml = std::fs::read_to_string(site.path().join("site.toml"))
        .unwrap()
        .replace("browser_max_age = 300", "browser_max_age = 120");
    std::fs::write(site.path().join("site.toml"), toml).unwrap();
    assert!(run(site.path(), &["build"]).status.success());
    let s = Server::start(&site.path().join("public"), &[]);
    assert_eq!(
        get(s.addr, "/").header("cache-control"),
        Some("public, max-age=120, s-maxage=3600")
    );
}

#[test]
fn validators_give_304() {
    let s = server();
    let r = get(s.addr, "/notes/");
    let etag = r.header("etag").unwrap().to_string();
    let modified = r.header("last-modified").unwrap().to_string();
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "strong: {etag}"
    );
    let r = request(s.addr, "GET", "/notes/", &[("If-None-Match", &etag)]);
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=300, s-maxage=3600")
    );
    let r = request(
        s.addr,
        "GET",
        "/notes/",
        &[("If-Modified-Since", &modified)],
    );
    assert_eq!(r.status, 304);
    let r = request(
        s.addr,
        "GET",
        "/notes/",
        &[
            ("If-None-Match", "\"something-else\""),
            ("If-Modified-Since", &modified),
        ],
    );
    assert_eq!(r.status, 200, "If-None-Match wins over If-Modified-Since");
    let r = request(
        s.addr,
        "GET",
        "/notes/",
        &[("If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT")],
    );
    assert_eq!(r.status, 200);
}

#[test]
fn ranges_give_206_and_416() {
    let s = server();
    let full = get(s.addr, "/api/prices.json").body;
    let r = request(
        s.addr,
        "GET",
        "/api/prices.json",
        &[("Range", "bytes=10-19")],
    );
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &full[10..20]);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes 10-19/{}", full.len()).as_str())
    );
    let r = request(s.addr, "GET", "/api/prices.json", &[("Range", "bytes=-5")]);
    assert_eq!(
        (r.status, r.body.as_slice()),
        (206, &full[full.len() - 5..])
    );
    let r = request(
        s.addr,
        "GET",
        "/api/prices.json",
        &[("Range", "bytes=999999-")],
    );
    assert_eq!(r.status, 416);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes */{}", full.len()).as_str())
    );
    let r = request(
        s.addr,
        "GET",
        "/api/prices.json",
        &[("Range", "bytes=0-4"), ("If-Range", "\"stale\"")],
    );
    assert_eq!(
        (r.status, r.body.len()),
        (200, full.len()),
        "If-Range mismatch sends everything"
    );
}

#[test]
fn head_works_everywhere_and_other_methods_get_405() {
    let s = server();
    for path in ["/", "/api/prices", "/healthz", "/nope"] {
        let g = get(s.addr, path);
        let h = request(s.addr, "HEAD", path, &[]);
        assert_eq!(h.status, g.status, "{path}");
        assert!(h.body.is_empty());
        assert_eq!(
            h.header("content-length"),
            g.header("content-length"),
            "{path}"
        );
    }
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let r = request(s.addr, method, "/", &[("Content-Length", "0")]);
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
    }
}

#[test]
fn precompressed_variants_are_chosen_by_accept_encoding() {
    let s = server();
    let identity = get(s.addr, "/");
    assert_eq!(identity.header("content-encoding"), None);
    assert_eq!(identity.header("vary"), Some("accept-encoding"));
    let br = request(
        s.addr,
        "GET",
        "/",
        &[("Accept-Encoding", "gzip, deflate, br")],
    );
    assert_eq!(br.header("content-encoding"), Some("br"));
    assert_eq!(br.header("vary"), Some("accept-encoding"));
    let mut decoded = Vec::new();
    brotli::BrotliDecompress(&mut &br.body[..], &mut decoded).unwrap();
    assert_eq!(decoded, identity.body);
    let gz = request(s.addr, "GET", "/", &[("Accept-Encoding", "gzip")]);
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&gz.body[..])
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, identity.body);
    let q = request(
        s.addr,
        "GET",
        "/",
        &[("Accept-Encoding", "br;q=0, gzip;q=0.5")],
    );
    assert_eq!(
        q.header("content-encoding"),
        Some("gzip"),
        "br refused by q=0"
    );
    // Each representation has its own strong ETag.
    let tags = [
        identity.header("etag"),
        br.header("etag"),
        gz.header("etag"),
    ];
    assert!(
        tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2],
        "{tags:?}"
    );
    // A fingerprinted chart is compressible too; a tiny file has no variants.
    let (_, svg) = asset_paths(s.addr);
    assert_eq!(
        request(s.addr, "GET", &svg, &[("Accept-Encoding", "br")]).header("content-encoding"),
        Some("br")
    );
}

#[test]
fn clean_urls_redirect_and_alias() {
    let s = server();
    let r = get(s.addr, "/notes");
    assert_eq!(r.status, 308);
    assert_eq!(r.header("location"), Some("/notes/"));
    let r = get(s.addr, "/prices/fuel-prices?x=1");
    assert_eq!(
        (r.status, r.header("location")),
        (308, Some("/prices/fuel-prices/?x=1"))
    );
    assert!(get(s.addr, "/notes/how-mauritius-sets-fuel-prices/")
        .text()
        .contains("How Mauritius sets fuel prices"));
    let api = get(s.addr, "/api/prices");
    assert_eq!(api.status, 200);
    assert_eq!(api.header("content-type"), Some("application/json"));
    assert_eq!(api.body, get(s.addr, "/api/prices.json").body);
    let rows: serde_json::Value = serde_json::from_slice(&api.body).unwrap();
    assert_eq!(rows[120]["mogas"], 64.25);
}

#[test]
fn unknown_paths_get_the_404_page_with_a_short_public_cache() {
    let s = server();
    let r = get(s.addr, "/no/such/page/");
    assert_eq!(r.status, 404);
    assert!(r.text().contains("Page not found"));
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=60, s-maxage=60")
    );
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
}

#[test]
fn security_headers_on_every_response() {
    let s = server();
    for path in ["/", "/nope", "/healthz", "/notes", "/static/"] {
        let r = get(s.addr, path);
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            r.header("referrer-policy"),
            Some("strict-origin-when-cross-origin"),
            "{path}"
        );
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(r.header("set-cookie"), None, "{path}");
    }
    let csp = get(s.addr, "/")
        .header("content-security-policy")
        .unwrap()
        .to_string();
    assert!(
        csp.contains("default-src 'none'")
            && csp.contains("frame-ancestors 'none'")
            && !csp.contains("script-src"),
        "{csp}"
    );
}

#[test]
fn traversal_dotfiles_and_outside_symlinks_never_leak() {
    let s = server();
    let attempts = [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/%2E%2E/etc/passwd",
        "/%252e%252e/secret.txt",
        "/..%2fsecret.txt",
        "/..%5csecret.txt",
        "/static/..%5c..%5csecret.txt",
        "/static/%2e%2e/%2e%2e/secret.txt",
        "/index.html%00.txt",
        "/%00",
        "/%c0%ae%c0%ae/secret.txt",
        "//etc/passwd",
        "/.env",
        "/.git/config",
        "/%2egit/config",
        "/escape.txt",
        "/up/secret.txt",
        "/static/",
        "/notes/./index.html",
    ];
    for path in attempts {
        let r = get(s.addr, path);
        assert!(matches!(r.status, 400 | 404), "{path}: {}", r.status);
        assert!(!r.text().contains("CANARY"), "{path} leaked");
    }
    // Raw bytes a client library would refuse to send.
    for raw in [
        "GET /..\\..\\secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /../../secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ] {
        let r = send_raw(s.addr, raw.as_bytes(), false);
        assert!(matches!(r.status, 400 | 404), "{raw:?}: {}", r.status);
        assert!(!r.text().contains("CANARY"));
    }
}

#[test]
fn sigterm_lets_a_slow_download_finish_then_exits() {
    let mut s = server();
    let mut stream = TcpStream::connect(s.addr).unwrap();
    stream
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut received = stream.read(&mut buf).unwrap();
    s.terminate();
    let started = Instant::now();
    // Keep reading slowly: the response must still arrive whole.
    let mut chunks = 0;
    loop {
        let n = stream.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        received += n;
        chunks += 1;
        if chunks % 2 == 0 {
            std::thread::sleep(Duration::from_millis(10));
        }
        if received >= 8 * 1024 * 1024 {
            break;
        }
    }
    let headers_len = 400; // status line and headers, roughly
    assert!(
        received >= 8 * 1024 * 1024 && received < 8 * 1024 * 1024 + headers_len * 4,
        "{received}"
    );
    let status = s
        .wait_exit(Duration::from_secs(10))
        .expect("exits after draining");
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        TcpStream::connect_timeout(&s.addr, Duration::from_millis(300)).is_err(),
        "no longer accepting"
    );
}

#[test]
fn sigterm_with_nothing_in_flight_exits_at_once() {
    let mut s = server();
    assert_eq!(get(s.addr, "/healthz").status, 200);
    s.terminate();
    let status = s.wait_exit(Duration::from_secs(5)).expect("exits");
    assert!(status.success());
}

#[test]
fn idle_connections_do_not_stop_it_serving_and_slow_headers_are_cut_off() {
    let s = Server::start(&site().join("public"), &[("HEADER_TIMEOUT_SECS", "1")]);
    let idle: Vec<TcpStream> = (0..300)
        .map(|_| TcpStream::connect(s.addr).unwrap())
        .collect();
    assert_eq!(get(s.addr, "/").status, 200);
    // A client that never finishes its headers is disconnected.
    let mut slow = TcpStream::connect(s.addr).unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 512];
    let n = slow.read(&mut buf).unwrap_or(0);
    assert!(
        n == 0 || String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 408"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    drop(idle);
}

#[test]
fn json_log_lines_parse_and_carry_the_trace() {
    let trace = "105445aa7843bc8bf206b12000100000";
    let mut s = Server::start(
        &site().join("public"),
        &[("GOOGLE_CLOUD_PROJECT", "petrol-test")],
    );
    request(
        s.addr,
        "GET",
        "/notes/?page=1",
        &[
            ("X-Cloud-Trace-Context", &format!("{trace}/42;o=1")),
            ("User-Agent", "tester/1"),
        ],
    );
    request(s.addr, "GET", "/healthz", &[]);
    s.terminate();
    s.wait_exit(Duration::from_secs(5)).unwrap();
    // The reader thread may still be taking the last lines from the pipe.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let lines = loop {
        let lines = s.lines.lock().unwrap().clone();
        if lines.iter().any(|l| l.contains("stopped")) || std::time::Instant::now() > deadline {
            break lines;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(lines.len() >= 3, "{lines:?}");
    let parsed: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    for p in &parsed {
        assert!(
            p["severity"].is_string() && p["message"].is_string() && p["timestamp"].is_string(),
            "{p}"
        );
    }
    let req = parsed
        .iter()
        .find(|p| p["httpRequest"]["requestUrl"] == "/notes/?page=1")
        .expect("request logged");
    assert_eq!(req["severity"], "INFO");
    assert_eq!(req["httpRequest"]["status"], 200);
    assert_eq!(req["httpRequest"]["requestMethod"], "GET");
    assert_eq!(req["httpRequest"]["userAgent"], "tester/1");
    assert_eq!(req["httpRequest"]["remoteIp"], "127.0.0.1");
    assert!(req["httpRequest"]["latency"]
        .as_str()
        .unwrap()
        .ends_with('s'));
    assert_ne!(req["httpRequest"]["responseSize"], "0");
    assert_eq!(
        req["logging.googleapis.com/trace"],
        format!("projects/petrol-test/traces/{trace}")
    );
    assert_eq!(req["logging.googleapis.com/spanId"], "42");
    assert!(
        !parsed
            .iter()
            .any(|p| p["httpRequest"]["requestUrl"] == "/healthz"),
        "health checks stay out of the info log"
    );
}

#[test]
fn request_logging_can_be_turned_off() {
    let mut s = Server::start(&site().join("public"), &[("NO_REQUEST_LOG", "true")]);
    get(s.addr, "/");
    s.terminate();
    s.wait_exit(Duration::from_secs(5)).unwrap();
    assert!(!s
        .lines
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("httpRequest")));
}

#[test]
fn start_up_fails_clearly() {
    let empty = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(bin())
        .args(["serve", "--port", "0", "--dir"])
        .arg(empty.path().join("missing"))
        .output()
        .unwrap();
    assert_fails_with(&out, "no such folder");
    let out = std::process::Command::new(bin())
        .args(["serve", "--port", "0", "--dir"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert_fails_with(&out, "no index.html");
    let s = server();
    let out = std::process::Command::new(bin())
        .args([
            "serve",
            "--bind",
            "127.0.0.1",
            "--port",
            &s.addr.port().to_string(),
            "--dir",
        ])
        .arg(site().join("public"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("cannot listen on 127.0.0.1:{}", s.addr.port())),
        "{}",
        stderr(&out)
    );
}
