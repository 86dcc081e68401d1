//! `petrol-watch serve` against hostile clients and a stuck log pipe, through the real
//! binary on 127.0.0.1. Every wait is bounded; sizes are kept small enough for a
//! loaded 2-core machine, and the full-size figures live in `bench/soak.sh`.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Reads one response's status and body off a keep-alive connection.
fn read_response(reader: &mut BufReader<TcpStream>) -> (u16, Vec<u8>) {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line
        .split_whitespace()
        .nth(1)
        .unwrap_or("0")
        .parse()
        .unwrap();
    let mut length = 0;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (status, body)
}

#[test]
fn oversized_headers_get_431_and_a_flood_of_them_costs_little_memory() {
    let site = bare_site();
    let s = Server::start(&site.path().join("public"), &[]);
    // Complete, but bigger than the 32 KiB limit: refused, not parsed.
    let big = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Fat: {}\r\n\r\n",
        "a".repeat(100 * 1024)
    );
    let r = send_raw(s.addr, big.as_bytes(), false);
    assert_eq!(r.status, 431);
    // Just under the limit still works.
    let ok = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Fat: {}\r\n\r\n",
        "a".repeat(24 * 1024)
    );
    assert_eq!(send_raw(s.addr, ok.as_bytes(), false).status, 200);

    let before = rss_kib(s.child.id());
    // 300 connections each pushing 300 KB of headers that never end.
    let chunk = format!("X-Fat: {}\r\n", "b".repeat(1000));
    let mut flood = Vec::new();
    for _ in 0..300 {
        let mut c = connect(s.addr);
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
        for _ in 0..300 {
            // The server gives up after 32 KiB: writes then fail, which is the point.
            if c.write_all(chunk.as_bytes()).is_err() {
                break;
            }
        }
        flood.push(c);
    }
    let during = rss_kib(s.child.id());
    let started = Instant::now();
    assert_eq!(get(s.addr, "/").status, 200);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        during < before + 40 * 1024,
        "RSS grew from {before} KiB to {during} KiB under the flood"
    );
    drop(flood);
}

#[test]
fn a_client_that_stops_reading_is_dropped_and_others_are_served() {
    let site = bare_site();
    let public = site.path().join("public");
    // Bigger than what loopback socket buffers can absorb.
    let size = 48 * 1024 * 1024;
    std::fs::write(public.join("big.bin"), vec![1u8; size]).unwrap();
    let s = Server::start(&public, &[("WRITE_TIMEOUT_SECS", "1")]);
    let mut stuck = connect(s.addr);
    stuck
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    // Meanwhile everyone else is served.
    assert_eq!(get(s.addr, "/healthz").status, 200);
    // Now read what is buffered: the server must have given up (EOF or reset)
    // well before sending the whole file.
    let mut received = 0usize;
    let mut buf = vec![0u8; 256 * 1024];
    let started = Instant::now();
    loop {
        match stuck.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => received += n,
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "connection still open"
        );
    }
    assert!(received < size, "the whole file was sent: {received}");
}

#[test]
fn a_stuck_log_pipe_never_stalls_serving_and_dropped_lines_are_counted() {
    let site = bare_site();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    // stdout is a pipe nobody reads until the end.
    let mut child = Killed(
        Command::new(bin())
            .args(["serve", "--bind", "127.0.0.1", "--port", &port.to_string()])
            .arg("--dir")
            .arg(site.path().join("public"))
            .arg("--root")
            .arg(site.path())
            .env("LOG_FORMAT", "json")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let started = Instant::now();
    while TcpStream::connect(addr).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never listened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Far more log lines than the pipe (64 KiB) and the queue (4,096 lines) hold.
    let per_conn = 2500;
    let workers: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let stream = connect(addr);
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                for _ in 0..per_conn {
                    writer
                        .write_all(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
                        .unwrap();
                    assert_eq!(read_response(&mut reader).0, 200);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("every request answered in time");
    }
    let t = Instant::now();
    assert_eq!(get(addr, "/healthz").status, 200);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    // Unblock the pipe: the writer catches up and says how much it dropped.
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("dropped") && line.contains("log lines") {
                let _ = tx.send(line);
            }
        }
    });
    let report = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("a line reporting dropped log lines");
    let n: u64 = report
        .split("dropped ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(n > 0, "{report}");
}

/// A child process killed when the test ends, even by a failed assertion.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sigterm_closes_clients_still_sending_headers_at_once() {
    let site = bare_site();
    let mut s = Server::start(&site.path().join("public"), &[]);
    let mut mid_headers = connect(s.addr);
    mid_headers
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    // One that sent nothing at all, and one between keep-alive requests.
    let _silent = connect(s.addr);
    let idle = connect(s.addr);
    let mut writer = idle.try_clone().unwrap();
    writer
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut BufReader::new(idle)).0, 200);
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    s.terminate();
    let status = s.wait_exit(Duration::from_secs(7)).expect("exits");
    let took = started.elapsed();
    assert!(status.success(), "{status:?}");
    // The drain deadline is 8 s; a client that has not asked for anything is not
    // worth waiting for. (Typically ~10 ms; bench/soak.sh measures it.)
    assert!(took < Duration::from_secs(5), "{took:?}");
    let mut buf = [0u8; 64];
    assert!(matches!(mid_headers.read(&mut buf), Ok(0) | Err(_)));
}

#[test]
fn http_1_1_needs_exactly_one_host() {
    let site = bare_site();
    let s = Server::start(&site.path().join("public"), &[]);
    let none = send_raw(
        s.addr,
        b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
        false,
    );
    assert_eq!(none.status, 400);
    let two = send_raw(
        s.addr,
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n",
        false,
    );
    assert_eq!(two.status, 400);
    assert_eq!(two.header("x-content-type-options"), Some("nosniff"));
    let one = send_raw(
        s.addr,
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        false,
    );
    assert_eq!(one.status, 200);
    // HTTP/1.0 has no such rule.
    let old = send_raw(s.addr, b"GET / HTTP/1.0\r\n\r\n", false);
    assert_eq!(old.status, 200);
}

#[test]
fn a_suffix_range_longer_than_the_file_is_the_whole_file() {
    let site = bare_site();
    let public = site.path().join("public");
    std::fs::write(public.join("ten.txt"), "0123456789").unwrap();
    let s = Server::start(&public, &[]);
    let r = request(s.addr, "GET", "/ten.txt", &[("Range", "bytes=-500")]);
    assert_eq!(r.status, 206);
    assert_eq!(r.body, b"0123456789");
    assert_eq!(r.header("content-range"), Some("bytes 0-9/10"));
    let r = request(s.addr, "GET", "/ten.txt", &[("Range", "bytes=-3")]);
    assert_eq!((r.status, r.body.as_slice()), (206, &b"789"[..]));
    let r = request(s.addr, "GET", "/ten.txt", &[("Range", "bytes=-0")]);
    assert_eq!(r.status, 416);
    // Not a valid range: ignored.
    let r = request(s.addr, "GET", "/ten.txt", &[("Range", "bytes=5-2")]);
    assert_eq!(r.status, 200);
}

#[test]
fn symlinks_to_dotfiles_are_never_served() {
    let site = bare_site();
    let public = site.path().join("public");
    std::fs::write(public.join(".env"), "CANARY-dotenv").unwrap();
    std::fs::create_dir_all(public.join(".git")).unwrap();
    std::fs::write(public.join(".git/config"), "CANARY-git").unwrap();
    std::fs::create_dir_all(public.join("docs")).unwrap();
    std::fs::write(public.join("docs/real.txt"), "fine").unwrap();
    let link = std::os::unix::fs::symlink;
    link(public.join(".env"), public.join("env.txt")).unwrap();
    link(
        std::path::PathBuf::from("../.env"),
        public.join("docs/env.txt"),
    )
    .unwrap();
    link(public.join(".git/config"), public.join("config.txt")).unwrap();
    link(public.join("docs/real.txt"), public.join("ok.txt")).unwrap();
    let s = Server::start(&public, &[]);
    for path in ["/env.txt", "/docs/env.txt", "/config.txt", "/.env"] {
        let r = get(s.addr, path);
        assert_eq!(r.status, 404, "{path}");
        assert!(!r.text().contains("CANARY"), "{path} leaked");
    }
    let r = get(s.addr, "/ok.txt");
    assert_eq!((r.status, r.text().as_str()), (200, "fine"));
}

#[test]
fn configuration_out_of_range_is_refused_at_start() {
    let site = bare_site();
    for (var, value) in [
        ("HEADER_TIMEOUT_SECS", "9.2e18"),
        ("HEADER_TIMEOUT_SECS", "9200000000000000000"),
        ("HEADER_TIMEOUT_SECS", "0"),
        ("WRITE_TIMEOUT_SECS", "0"),
        ("WRITE_TIMEOUT_SECS", "-1"),
        ("MAX_HEADER_KIB", "4"),
        ("MAX_HEADER_KIB", "999999"),
        ("MEMORY_BUDGET_MIB", "1e9"),
    ] {
        let out = Command::new(bin())
            .args(["serve", "--bind", "127.0.0.1", "--port", "0", "--dir"])
            .arg(site.path().join("public"))
            .env(var, value)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{var}={value} was accepted");
        assert!(
            stderr(&out).contains(var) && stderr(&out).contains("whole number from"),
            "{var}={value}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn big_files_stream_from_disk_with_the_same_headers() {
    let site = bare_site();
    let public = site.path().join("public");
    let big: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(public.join("big.bin"), &big).unwrap();
    // 200 MB of zeros that take no disk (sparse): too big for the memory budget.
    let huge = std::fs::File::create(public.join("huge.bin")).unwrap();
    huge.set_len(200 * 1024 * 1024).unwrap();
    let s = Server::start(&public, &[("MEMORY_FILE_KIB", "1024")]);
    assert!(
        s.lines.lock().unwrap()[0].contains("2 from disk"),
        "{:?}",
        s.lines.lock().unwrap()
    );
    let r = get(s.addr, "/big.bin");
    assert_eq!(r.status, 200);
    assert!(r.body == big, "body differs");
    assert_eq!(r.header("content-length"), Some("3145728"));
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    let etag = r.header("etag").unwrap().to_string();
    assert!(etag.starts_with('"'), "{etag}");
    let r = request(s.addr, "GET", "/big.bin", &[("If-None-Match", &etag)]);
    assert_eq!(r.status, 304);
    let r = request(
        s.addr,
        "GET",
        "/big.bin",
        &[("Range", "bytes=1000000-1000099")],
    );
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &big[1_000_000..1_000_100]);
    let r = request(s.addr, "HEAD", "/huge.bin", &[]);
    assert_eq!(r.header("content-length"), Some("209715200"));
    let r = request(s.addr, "GET", "/huge.bin", &[("Range", "bytes=-10")]);
    assert_eq!((r.status, r.body.as_slice()), (206, &[0u8; 10][..]));
    let rss = rss_kib(s.child.id());
    assert!(rss < 100 * 1024, "RSS {rss} KiB for a 200 MB folder");
}

#[test]
fn h2c_with_prior_knowledge_on_the_same_port_and_idle_h2_is_closed() {
    let site = bare_site();
    let s = Server::start(&site.path().join("public"), &[("HEADER_TIMEOUT_SECS", "1")]);
    let http1 = get(s.addr, "/");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (status, body, cache) = rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(10), async {
            let tcp = tokio::net::TcpStream::connect(s.addr).await.unwrap();
            let (client, conn) = h2::client::handshake(tcp).await.unwrap();
            let conn = tokio::spawn(conn);
            let mut client = client.ready().await.unwrap();
            let req = axum::http::Request::get(format!("http://{}/", s.addr))
                .body(())
                .unwrap();
            let (response, _) = client.send_request(req, true).unwrap();
            let response = response.await.unwrap();
            let status = response.status().as_u16();
            let cache = response
                .headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap().to_string());
            let mut body = response.into_body();
            let mut bytes = Vec::new();
            while let Some(chunk) = body.data().await {
                let chunk = chunk.unwrap();
                let _ = body.flow_control().release_capacity(chunk.len());
                bytes.extend_from_slice(&chunk);
            }
            // Asked for nothing more (but still holding the connection open): closed by
            // the server after the header timeout.
            let idle = Instant::now();
            tokio::time::timeout(Duration::from_secs(5), conn)
                .await
                .expect("idle h2c connection closed by the server")
                .unwrap()
                .ok();
            assert!(idle.elapsed() < Duration::from_secs(4));
            drop(client);
            (status, bytes, cache)
        })
        .await
        .expect("h2c answered in time")
    });
    assert_eq!(status, 200);
    assert_eq!(body, http1.body);
    assert_eq!(cache.as_deref(), http1.header("cache-control"));
}
