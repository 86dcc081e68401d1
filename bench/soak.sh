#!/usr/bin/env bash
# The server under hostile load, on loopback only, every phase bounded in time and
# count. Uses the binary the container ships (static, release).
#
#   bash bench/soak.sh                      # wrk phases 30 s each
#   DURATION=10 bash bench/soak.sh          # shorter, for a loaded machine
#   FLOOD=1500 FAT_KB=300 SLOWLORIS=1000 bash bench/soak.sh   (the defaults)
#
# Phases, each against a fresh server where it matters, printing errors, RSS
# before/during/after and the latency of a normal request meanwhile:
#   1. wrk, 64 connections; 2. wrk, 1,000 connections;
#   3. fat-header flood: FLOOD connections each sending FAT_KB KB of headers that never
#      end (goal: RSS < 150 MB, a normal request < 50 ms);
#   4. slowloris: SLOWLORIS connections trickling one header byte a second;
#   5. stuck stdout: request logs to a pipe nobody reads, under wrk;
#   6. SIGTERM under load (wrk running), and SIGTERM with a client mid-headers: exit
#      status and time.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-30}
FLOOD=${FLOOD:-1500}
FAT_KB=${FAT_KB:-300}
SLOWLORIS=${SLOWLORIS:-1000}
command -v wrk >/dev/null || { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
RUSTFLAGS='-C target-feature=+crt-static -C relocation-model=static' \
  cargo build --quiet --release --locked --no-default-features --target x86_64-unknown-linux-gnu --bin petrol-watch
PW=$PWD/target/x86_64-unknown-linux-gnu/release/petrol-watch
WORK=$(mktemp -d /dev/shm/petrol-watch-soak.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
"$PW" build --out "$WORK/site" >/dev/null
# One driver: it starts and stops every server it uses, and kills them on the way out.
exec python3 - "$PW" "$WORK/site" "$DURATION" "$FLOOD" "$FAT_KB" "$SLOWLORIS" <<'PY'
import os, signal, socket, subprocess, sys, threading, time

PW, SITE = sys.argv[1], sys.argv[2]
DURATION, FLOOD, FAT_KB, SLOWLORIS = (int(a) for a in sys.argv[3:7])
procs = []

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0

def start(stdout=subprocess.DEVNULL, env=None):
    port = free_port()
    e = dict(os.environ, LOG_FORMAT="json", **(env or {}))
    p = subprocess.Popen([PW, "serve", "--dir", SITE, "--bind", "127.0.0.1", "--port", str(port)],
                         stdout=stdout, stderr=subprocess.DEVNULL, env=e)
    procs.append(p)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            time.sleep(0.2)
            return p, port
        except OSError:
            time.sleep(0.01)
    sys.exit("server did not start")

def probe(port, path="/", timeout=5.0):
    """One normal request on a new connection: (status, ms)."""
    t = time.perf_counter()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        s.settimeout(timeout)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        status = int(data.split(b" ", 2)[1]) if data else 0
    except OSError:
        status = 0
    return status, (time.perf_counter() - t) * 1000

def probes(port, n=10, gap=0.2):
    out = []
    for _ in range(n):
        out.append(probe(port)); time.sleep(gap)
    bad = sum(1 for s, _ in out if s != 200)
    ms = sorted(m for _, m in out)
    return f"normal request: median {ms[len(ms)//2]:.1f} ms, max {ms[-1]:.1f} ms, {bad}/{n} failed"

def wrk(port, conns, duration, path="/"):
    threads = 2 if conns >= 100 else 1
    r = subprocess.run(["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--latency",
                        f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                       timeout=duration + 60)
    out = r.stdout
    rps = next((l.split()[1] for l in out.splitlines() if l.startswith("Requests/sec")), "?")
    p99 = next((l.split()[1] for l in out.splitlines() if l.strip().startswith("99%")), "?")
    errs = next((l.strip() for l in out.splitlines() if "Socket errors" in l), "socket errors: none")
    non2xx = next((l.strip() for l in out.splitlines() if "Non-2xx" in l), "non-2xx: none")
    return f"{rps} req/s, p99 {p99}; {errs}; {non2xx}"

def wrk_with_probes(port, conns, duration):
    """wrk, and normal requests on new connections while it runs."""
    res = {}
    t = threading.Thread(target=lambda: res.update(w=wrk(port, conns, duration)))
    t.start()
    time.sleep(min(5, duration / 2))
    lat = probes(port, 5)
    t.join()
    return f"{res['w']}; {lat}"

def sample_rss(pid, stop, peak):
    while not stop.is_set():
        try:
            peak[0] = max(peak[0], rss_mib(pid))
        except OSError:
            return
        time.sleep(0.1)

def stop_server(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill(); p.wait()

def during(p, work):
    """Runs work() while sampling RSS; returns (result, before, peak, after)."""
    before = rss_mib(p.pid)
    stop, peak = threading.Event(), [before]
    t = threading.Thread(target=sample_rss, args=(p.pid, stop, peak)); t.start()
    result = work()
    stop.set(); t.join()
    time.sleep(2)
    return result, before, peak[0], rss_mib(p.pid)

def line(name, before, peak, after, *rest):
    print(f"{name}: RSS {before:.1f} -> {peak:.1f} (peak) -> {after:.1f} MiB after; " + "; ".join(rest), flush=True)

try:
    print(f"soak: wrk phases {DURATION} s, flood {FLOOD} x {FAT_KB} KB, slowloris {SLOWLORIS}; "
          f"{os.cpu_count()} cores shared with other work", flush=True)
    # 1, 2: wrk.
    for conns in (64, 1000):
        p, port = start()
        res, b, pk, a = during(p, lambda: wrk_with_probes(port, conns, DURATION))
        line(f"wrk {conns} connections", b, pk, a, res)
        stop_server(p)

    # 3: fat-header flood.
    p, port = start()
    chunk = b"X-Fat: " + b"a" * 1000 + b"\r\n"
    stats = {"refused_431": 0, "cut": 0, "open_fail": 0}
    lock = threading.Lock()
    def fat_client():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            with lock: stats["open_fail"] += 1
            return
        s.settimeout(10)
        try:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            for _ in range(FAT_KB):
                s.sendall(chunk)
        except OSError:
            pass
        try:
            data = s.recv(64)
            with lock:
                if data.startswith(b"HTTP/1.1 431"): stats["refused_431"] += 1
                else: stats["cut"] += 1
        except OSError:
            with lock: stats["cut"] += 1
        s.close()
    def flood():
        ts = [threading.Thread(target=fat_client) for _ in range(FLOOD)]
        for i, t in enumerate(ts):
            t.start()
        time.sleep(0.5)
        lat = probes(port, 10, 0.1)
        for t in ts: t.join(timeout=30)
        return lat
    t0 = time.time()
    res, b, pk, a = during(p, flood)
    line(f"fat headers {FLOOD} x {FAT_KB} KB", b, pk, a,
         f"431: {stats['refused_431']}, cut: {stats['cut']}, connect failed: {stats['open_fail']}",
         f"took {time.time() - t0:.1f} s", res)
    stop_server(p)

    # 4: slowloris.
    p, port = start(env={"HEADER_TIMEOUT_SECS": "10"})
    def slowloris():
        socks = []
        for _ in range(SLOWLORIS):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
                socks.append(s)
            except OSError:
                pass
        lat = probes(port, 10, 0.2)
        # Trickle a byte a second until the server's header timeout (10 s) cuts them.
        t = time.time(); alive = len(socks)
        while time.time() - t < 15 and alive:
            alive = 0
            for s in socks:
                try:
                    s.send(b"X"); alive += 1
                except OSError:
                    pass
            time.sleep(1)
        took = time.time() - t
        for s in socks: s.close()
        return f"{len(socks)} opened, {alive} still open after {took:.0f} s of trickling; {lat}"
    res, b, pk, a = during(p, slowloris)
    line(f"slowloris {SLOWLORIS}", b, pk, a, res)
    stop_server(p)

    # 5: stuck stdout: request logs on, stdout a pipe nobody reads.
    p, port = start(stdout=subprocess.PIPE)
    res, b, pk, a = during(p, lambda: wrk_with_probes(port, 64, DURATION))
    line("stuck stdout, wrk 64", b, pk, a, res)
    stop_server(p)

    # 6: SIGTERM under load, and with a client mid-headers.
    p, port = start()
    w = subprocess.Popen(["wrk", "-t1", "-c64", f"-d{max(DURATION, 5)}s", f"http://127.0.0.1:{port}/"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2)
    t = time.perf_counter(); p.send_signal(signal.SIGTERM); code = p.wait(timeout=15)
    print(f"SIGTERM under wrk 64: exit {code} in {(time.perf_counter() - t) * 1000:.0f} ms", flush=True)
    w.kill(); w.wait()
    p, port = start()
    s = socket.create_connection(("127.0.0.1", port)); s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    time.sleep(0.3)
    t = time.perf_counter(); p.send_signal(signal.SIGTERM); code = p.wait(timeout=15)
    print(f"SIGTERM with a client mid-headers: exit {code} in {(time.perf_counter() - t) * 1000:.0f} ms", flush=True)
    s.close()
finally:
    for p in procs:
        if p.poll() is None:
            p.kill(); p.wait()
PY
