#!/usr/bin/env bash
# Serving speed against nginx, measured in the same run on this machine.
#
#   bash bench/serve.sh                 # 10 s per wrk run
#   DURATION=5 CONNECTIONS=64 bash bench/serve.sh
#
# Both servers get the same built site, one core each (taskset -c 0), and wrk runs on
# the other core (taskset -c 1), in the order A B A B for every case: the home page
# without and with `Accept-Encoding: br`, and a chart SVG. nginx: sendfile,
# gzip_static on, one worker (the one core it may use), access log off; it has no
# Brotli module, so it answers `br` requests uncompressed. petrol-watch: request log
# off. Prints requests/s and p99 latency for each, the ratio, idle RSS and the time
# from start to first response. Then HTTP/2 over cleartext (prior knowledge, as Cloud
# Run's end-to-end HTTP/2 sends it) with h2load, 10 streams per connection: nginx on
# a second `listen … http2` port, petrol-watch on its one port.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
need=()
command -v nginx >/dev/null || need+=(nginx-light)
command -v wrk >/dev/null || need+=(wrk)
command -v h2load >/dev/null || need+=(nghttp2-client)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; fi
# The binary the container ships: static, not position-independent, no HTTPS client.
RUSTFLAGS='-C target-feature=+crt-static -C relocation-model=static' \
  cargo build --quiet --release --locked --no-default-features --target x86_64-unknown-linux-gnu --bin petrol-watch
PW=$PWD/target/x86_64-unknown-linux-gnu/release/petrol-watch
WORK=$(mktemp -d /dev/shm/petrol-watch-serve.XXXXXX)
chmod 755 "$WORK"   # nginx's workers run as another user
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
"$PW" build --out "$WORK/site" >/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
NGINX_PORT=$(free_port); NGINX_H2_PORT=$(free_port); PW_PORT=$(free_port)

mkdir -p "$WORK/nginx"
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 100000;
  gzip_static on;
  client_body_temp_path $WORK/nginx/tmp;
  proxy_temp_path $WORK/nginx/tmp;
  fastcgi_temp_path $WORK/nginx/tmp;
  uwsgi_temp_path $WORK/nginx/tmp;
  scgi_temp_path $WORK/nginx/tmp;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $WORK/site;
    index index.html;
    location / { try_files \$uri \$uri/index.html =404; }
  }
  server {
    listen 127.0.0.1:$NGINX_H2_PORT http2;
    root $WORK/site;
    index index.html;
    location / { try_files \$uri \$uri/index.html =404; }
  }
}
CONF
mkdir -p "$WORK/nginx/tmp"

# launch PORT CMD...: starts a server pinned to core 0 and times its start: the prober
# is already running when it spawns the server, and polls until the first 200.
# Sets LAUNCHED_PID and STARTUP_MS.
launch() {
  local port=$1; shift
  read -r STARTUP_MS LAUNCHED_PID < <(python3 - "$port" taskset -c 0 "$@" <<'PY'
import socket, subprocess, sys, time
port, cmd = int(sys.argv[1]), sys.argv[2:]
t0 = time.perf_counter_ns()
proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
deadline = time.time() + 10
while True:
    if time.time() > deadline:
        sys.exit(f"nothing answered 200 on port {port} within 10 s")
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        if s.recv(12).startswith(b"HTTP/1.1 200"):
            break
    except OSError:
        time.sleep(0.0002)
print(f"{(time.perf_counter_ns() - t0) / 1e6:.1f} {proc.pid}")
PY
)
  pids+=("$LAUNCHED_PID")
}
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

launch "$NGINX_PORT" nginx -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log"
nginx_master=$LAUNCHED_PID
nginx_start=$STARTUP_MS
sleep 0.3
nginx_worker=$(pgrep -P "$nginx_master" | head -1)
nginx_rss=$(( $(rss_kib "$nginx_master") + $(rss_kib "$nginx_worker") ))
export NO_REQUEST_LOG=true
launch "$PW_PORT" "$PW" serve --dir "$WORK/site" --bind 127.0.0.1 --port "$PW_PORT"
pw_pid=$LAUNCHED_PID
pw_start=$STARTUP_MS
sleep 0.3
pw_rss=$(rss_kib "$pw_pid")

chart=$(grep -o '/charts/fuel-prices\.[0-9a-f]*\.svg' "$WORK/site/index.html" | head -1)
run_wrk() { # url header → "rps p99_ms"
  local out
  if [ -n "$2" ]; then
    out=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "$2" "$1")
  else
    out=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$1")
  fi
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  python3 -c "import sys; v=sys.argv[2]; ms=float(v[:-2]) if v.endswith('ms') else float(v[:-2])/1000 if v.endswith('us') else float(v[:-1])*1000; print(sys.argv[1], f'{ms:.2f}')" "$rps" "$p99"
}

printf '%-28s %14s %10s %14s %10s %8s\n' case "nginx req/s" "p99 ms" "petrol req/s" "p99 ms" ratio
for case in "home|/|" "home, Accept-Encoding: br|/|Accept-Encoding: br" "home, Accept-Encoding: gzip|/|Accept-Encoding: gzip" "chart SVG|$chart|"; do
  IFS='|' read -r name path header <<<"$case"
  n=(); p=()
  for _ in 1 2; do
    n+=("$(run_wrk "http://127.0.0.1:$NGINX_PORT$path" "$header")")
    p+=("$(run_wrk "http://127.0.0.1:$PW_PORT$path" "$header")")
  done
  python3 - "$name" "${n[@]}" "${p[@]}" <<'PY'
import sys
name = sys.argv[1]
runs = [tuple(map(float, r.split())) for r in sys.argv[2:]]
n, p = runs[:2], runs[2:]
nr, np99 = sum(r[0] for r in n) / 2, max(r[1] for r in n)
pr, pp99 = sum(r[0] for r in p) / 2, max(r[1] for r in p)
print(f"{name:<28} {nr:>14,.0f} {np99:>10.2f} {pr:>14,.0f} {pp99:>10.2f} {pr / nr:>7.2f}x")
PY
done
run_h2load() { # url → "rps"
  taskset -c 1 h2load -t1 -c"$CONNECTIONS" -m10 -D"$DURATION" "$1" 2>/dev/null |
    awk '/^finished in/ {for (i = 1; i <= NF; i++) if ($i == "req/s,") print $(i - 1)}'
}
n=(); p=()
for _ in 1 2; do
  n+=("$(run_h2load "http://127.0.0.1:$NGINX_H2_PORT/")")
  p+=("$(run_h2load "http://127.0.0.1:$PW_PORT/")")
done
python3 - "${n[@]}" "${p[@]}" <<'PY'
import sys
n, p = [float(x) for x in sys.argv[1:3]], [float(x) for x in sys.argv[3:5]]
nr, pr = sum(n) / 2, sum(p) / 2
print(f"{'home over h2c (h2load -m10)':<28} {nr:>14,.0f} {'-':>10} {pr:>14,.0f} {'-':>10} {pr / nr:>7.2f}x")
PY
echo "idle RSS: nginx (master + worker) $((nginx_rss / 1024)) MiB, petrol-watch $(awk "BEGIN {printf \"%.1f\", $pw_rss / 1024}") MiB"
echo "start to first response: nginx ${nginx_start} ms, petrol-watch ${pw_start} ms (from spawn to the first 200)"
