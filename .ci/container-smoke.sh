#!/usr/bin/env bash
# Proves the container works on this machine: static binary, image from the
# Containerfile's `runtime-prebuilt` stage (no base image pulls), a real run on
# 127.0.0.1, the right headers, and a clean stop on SIGTERM well inside 10 s.
#
#   bash .ci/container-smoke.sh            # builds, runs, checks, cleans up
#   KEEP_IMAGE=1 bash .ci/container-smoke.sh   # keeps localhost/petrol-watch:smoke
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=localhost/petrol-watch:smoke
NAME=petrol-watch-smoke-$$
TARGET=x86_64-unknown-linux-gnu
say() { printf '[container-smoke] %s\n' "$*"; }
fail() { printf '[container-smoke] FAIL: %s\n' "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }

# --- tools (idempotent) ---------------------------------------------------------------
need=()
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
command -v file >/dev/null || need+=(file)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
work=$(mktemp -d)
trap 'podman rm -f "$NAME" >/dev/null 2>&1 || true; [ "${KEEP_IMAGE:-}" = 1 ] || podman rmi -f "$IMAGE" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
cat > "$work/containers.conf" <<'CONF'
[engine]
runtime = "runc"
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
CONF
export CONTAINERS_CONF="$work/containers.conf"

# --- a fully static release binary ----------------------------------------------------
say "building the static binary"
# As the Containerfile builds it: without the HTTPS client, which only `import` uses.
RUSTFLAGS='-C target-feature=+crt-static -C relocation-model=static' cargo build --quiet --release --locked --no-default-features --target "$TARGET" --bin petrol-watch
bin="target/$TARGET/release/petrol-watch"
file "$bin" | grep -Eq 'statically linked|static-pie linked' || fail "not static: $(file "$bin")"
ldd_says=$(ldd "$bin" 2>&1 || true)   # ldd exits 1 on a static binary
grep -Eq 'not a dynamic executable|statically linked' <<<"$ldd_says" || fail "ldd finds dynamic dependencies: $ldd_says"

say "binary: $(du -h "$bin" | cut -f1), $(file -b "$bin" | cut -d, -f1-2), static"

# --- a staged context: the binary, the built site, site.toml; no target/ -------------
ctx="$work/ctx"
mkdir -p "$ctx"
cp "$bin" "$ctx/petrol-watch"
cp site.toml Containerfile "$ctx/"
"$ctx/petrol-watch" build --out "$ctx/public" >/dev/null
say "building the image (runtime-prebuilt, --pull=never)"
podman build --quiet --pull=never --target runtime-prebuilt -f "$ctx/Containerfile" -t "$IMAGE" "$ctx" >/dev/null
size=$(podman image inspect "$IMAGE" --format '{{.Size}}')
say "image: $((size / 1024)) KiB"
# The one binary builds and serves, so it carries the code highlighter's grammars
# (~6.6 MB) and the share images' renderer and fonts (~2.4 MB): 24 MiB is the budget
# (measured: 19.8 MiB).
[ "$size" -le $((24 * 1024 * 1024)) ] || fail "image is over 24 MiB"

# --- a data-only change: from an edited CSV to a new image ----------------------------
# What a price decision costs to ship when the binary is already built (in Cloud Build:
# every compiled layer comes from the cache): check, build the site, pack the image.
site="$work/site"
mkdir -p "$site"
cp -r site.toml data content templates static "$site/"
csv="$site/data/fuel-prices.csv"
last=$(grep -E '^[0-9]{4}-' "$csv" | sort | tail -n 1)
next=$(date -d "${last%%,*} + 1 day" +%F)
printf '%s,%s\n' "$next" "${last#*,}" >> "$csv"
data_start=$(now_ms)
"$ctx/petrol-watch" --root "$site" check >/dev/null
"$ctx/petrol-watch" --root "$site" build --out "$ctx/public" >/dev/null
podman build --quiet --pull=never --target runtime-prebuilt -f "$ctx/Containerfile" -t "$IMAGE" "$ctx" >/dev/null
say "data-only change to a new image (check + build + image): $(( $(now_ms) - data_start )) ms"
grep -q "$next" "$ctx/public/data/fuel-prices.csv" || fail "the new row is not in the rebuilt site"

# --- run it on a free loopback port ---------------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
started=$(now_ms)
podman run -d --name "$NAME" --network host -e PORT="$port" -e LOG_FORMAT=json "$IMAGE" >/dev/null
for _ in $(seq 1 200); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
  sleep 0.01
done
first=$(( $(now_ms) - started ))
say "start to first response (including podman's own start): ${first} ms"
pid=$(podman inspect "$NAME" --format '{{.State.Pid}}')
say "idle RSS of the server in the container: $(awk '/VmRSS/ {print $2, $3}' "/proc/$pid/status")"

headers() { curl -fsS -D - -o /dev/null "$@"; }
home=$(headers -H 'Accept-Encoding: br' "http://127.0.0.1:$port/")
grep -qi '^cache-control: public, max-age=300, s-maxage=3600' <<<"$home" || fail "home page cache-control: $home"
grep -qi '^content-encoding: br' <<<"$home" || fail "home page not served precompressed: $home"
grep -qi '^etag: "' <<<"$home" || fail "no strong ETag: $home"
css=$(curl -fsS "http://127.0.0.1:$port/" | grep -o '/static/style\.[0-9a-f]*\.css' | head -1)
[ -n "$css" ] || fail "no fingerprinted stylesheet in the home page"
asset=$(headers "http://127.0.0.1:$port$css")
grep -qi '^cache-control: public, max-age=31536000, immutable' <<<"$asset" || fail "asset cache-control: $asset"
health=$(curl -fsS -D - "http://127.0.0.1:$port/healthz")
grep -qi '^cache-control: no-store' <<<"$health" || fail "healthz: $health"
grep -q '^ok' <<<"$health" || fail "healthz body: $health"
[ "$(podman inspect "$NAME" --format '{{.Config.User}}')" = "65532:65532" ] || fail "not running as 65532:65532"
say "home, $css and /healthz answer with the right headers"

# --- SIGTERM: a clean, quick exit -----------------------------------------------------
stop_start=$(now_ms)
podman stop -t 10 "$NAME" >/dev/null
stopped=$(( $(now_ms) - stop_start ))
code=$(podman inspect "$NAME" --format '{{.State.ExitCode}}')
[ "$code" = 0 ] || fail "exit code $code after SIGTERM"
[ "$stopped" -lt 5000 ] || fail "took ${stopped} ms to stop"
podman logs "$NAME" | tail -n 3 | grep -q '"severity":"INFO"' || fail "no JSON log lines"
say "stopped cleanly (exit 0) in ${stopped} ms"
say "ok"
