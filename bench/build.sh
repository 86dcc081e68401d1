#!/usr/bin/env bash
# Build speed and memory against Hugo, measured in the same run, output on /dev/shm.
#
#   bash bench/build.sh            # 2,000 and 10,000 notes (+ a 100,000-row CSV)
#   NOTES="2000" RUNS=5 bash bench/build.sh
#   ROWS=3650000 bash bench/build.sh   # the big-dataset case's size (default 1,000,000)
#   NOTES=" " BIG_RUNS=1 bash bench/build.sh  # mostly the big-dataset case
#
# Hugo (Debian's package) renders the same markdown with a minimal layout, syntax
# highlighting off, taxonomies on. petrol-watch does everything its build does: note,
# tag, list and dataset pages, charts, feed, sitemap, JSON/CSV, fingerprinting and
# .gz/.br for every compressible file. "cold" = empty output folder; "warm" = rebuild
# over the previous output (petrol-watch reuses unchanged files; Hugo renders all).
# Prints medians, pages per second, peak RSS and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
NOTES=${NOTES:-"2000 10000"}
RUNS=${RUNS:-3}
need=()
command -v hugo >/dev/null || need+=(hugo)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; fi
cargo build --release --quiet
PW=$PWD/target/release/petrol-watch
WORK=/dev/shm/petrol-watch-bench
rm -rf "$WORK"; mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT

# median wall time (ms) and max peak RSS (KiB) of RUNS runs of a command; $PREP runs before each
measure() {
  local times=() rss=0 t0 t1 r
  for _ in $(seq "$RUNS"); do
    eval "$PREP"
    t0=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$WORK/rss" "$@" >"$WORK/out" 2>&1 || { cat "$WORK/out"; exit 1; }
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000000 )))
    r=$(tail -n 1 "$WORK/rss"); [ "$r" -gt "$rss" ] && rss=$r
  done
  MEDIAN=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
  PEAK=$rss
}

hugo_site() {
  local dir=$1
  mkdir -p "$dir/layouts/_default"
  cat > "$dir/hugo.toml" <<'TOML'
baseURL = "https://example.org/"
title = "Bench"
disableKinds = ["RSS", "sitemap", "robotsTXT"]
[markup.highlight]
  codeFences = false
[taxonomies]
  tag = "tags"
TOML
  cat > "$dir/layouts/_default/baseof.html" <<'HTML'
<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head><body><main>{{ block "main" . }}{{ end }}</main></body></html>
HTML
  cat > "$dir/layouts/_default/single.html" <<'HTML'
{{ define "main" }}<article><h1>{{ .Title }}</h1><p>{{ .Date.Format "2 January 2006" }} · {{ .ReadingTime }} min</p>{{ .Content }}</article>{{ end }}
HTML
  cat > "$dir/layouts/_default/list.html" <<'HTML'
{{ define "main" }}<h1>{{ .Title }}</h1><ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ .Summary }}</li>{{ end }}</ul>{{ end }}
HTML
  cp "$dir/layouts/_default/list.html" "$dir/layouts/index.html"
}

printf '%-34s %10s %10s %10s %12s\n' "case" "pages" "median ms" "pages/s" "peak RSS MiB"
for n in $NOTES; do
  corpus="$WORK/corpus-$n"
  python3 bench/gen_corpus.py "$corpus" "$n"
  cp -r site.toml templates static "$corpus/petrol/"
  cp data/*.csv "$corpus/petrol/data/"
  hugo_site "$corpus/hugo"

  PREP="rm -rf $corpus/hugo/public"
  measure hugo --quiet --source "$corpus/hugo" --destination "$corpus/hugo/public"
  hugo_pages=$(find "$corpus/hugo/public" -name '*.html' | wc -l)
  hugo_ms=$MEDIAN; hugo_rss=$PEAK
  printf '%-34s %10s %10s %10s %12s\n' "hugo $n notes (cold)" "$hugo_pages" "$hugo_ms" "$(( hugo_pages * 1000 / hugo_ms ))" "$(( hugo_rss / 1024 ))"

  PREP="rm -rf $corpus/petrol/public"
  measure "$PW" --root "$corpus/petrol" build
  pw_pages=$(grep -o '[0-9]* pages' "$WORK/out" | cut -d' ' -f1)
  cold_ms=$MEDIAN; cold_rss=$PEAK
  printf '%-34s %10s %10s %10s %12s\n' "petrol-watch $n notes (cold)" "$pw_pages" "$cold_ms" "$(( pw_pages * 1000 / cold_ms ))" "$(( cold_rss / 1024 ))"

  PREP=":"
  measure "$PW" --root "$corpus/petrol" build
  warm_ms=$MEDIAN
  printf '%-34s %10s %10s %10s %12s\n' "petrol-watch $n notes (warm)" "$pw_pages" "$warm_ms" "$(( pw_pages * 1000 / warm_ms ))" "$(( PEAK / 1024 ))"

  python3 - "$hugo_pages" "$hugo_ms" "$hugo_rss" "$pw_pages" "$cold_ms" "$warm_ms" "$cold_rss" "$n" <<'PY'
import sys
hp, hms, hrss, pp, cms, wms, prss, n = map(int, sys.argv[1:])
h = hp / hms
print(f"  ratio at {n} notes: pages/s vs Hugo  cold {pp / cms / h:.1f}x  warm {pp / wms / h:.1f}x   "
      f"peak memory {prss / hrss:.3f} of Hugo's (1/{hrss / prss:.0f})")
PY
done

RUNS=11
PREP=":"
measure "$PW" --root . build --out "$WORK/real-site"
echo "real site, whole process (warm): median ${MEDIAN} ms, peak RSS $(( PEAK / 1024 )) MiB"
PREP="rm -rf $WORK/real-site"
measure "$PW" --root . build --out "$WORK/real-site"
echo "real site, whole process (cold): median ${MEDIAN} ms"

# Big dataset: the bundled site plus one ROWS-row CSV (bench/gen_big_csv.py, ~24 MB at
# 1,000,000 rows). The peer is Python's csv module merely reading that file; the
# target is a cold build within 3x of it, peak memory under 300 MiB.
big_dataset() {
  local rows=${ROWS:-1000000} site="$WORK/big/site" RUNS=${BIG_RUNS:-3}
  mkdir -p "$site"
  cp -r site.toml templates static data content "$site/"
  python3 bench/gen_big_csv.py "$site/data/big-series.csv" "$rows"
  PREP=":"
  measure python3 -c 'import csv, sys
with open(sys.argv[1], newline="") as f:
    n = sum(1 for _ in csv.reader(f))
print(n)' "$site/data/big-series.csv"
  local py_ms=$MEDIAN py_rss=$PEAK
  PREP="rm -rf $WORK/big/out"
  measure "$PW" --root "$site" build --out "$WORK/big/out"
  local pw_ms=$MEDIAN pw_rss=$PEAK
  printf '%-34s %10s %10s %10s %12s\n' "python csv, read $rows rows" "" "$py_ms" "" "$(( py_rss / 1024 ))"
  printf '%-34s %10s %10s %10s %12s\n' "petrol-watch, $rows rows (cold)" "" "$pw_ms" "" "$(( pw_rss / 1024 ))"
  python3 - "$py_ms" "$pw_ms" "$pw_rss" <<'PY'
import sys
py, pw, rss = map(int, sys.argv[1:])
print(f"  big dataset: build time {pw / py:.2f}x Python csv's read (target <= 3x), "
      f"peak RSS {rss / 1024:.0f} MiB (target < 300 MiB)")
PY
}
big_dataset
