#!/usr/bin/env bash
# Syntax highlighters compared on one corpus, in one run: time per code block, HTML
# size, and release binary size added (each variant against the same program with no
# highlighter, built with the site's release profile). The corpus is 2,000 notes x 3
# blocks of ~20 lines in 12 languages (bench/highlight/src/main.rs).
#
#   bash bench/highlight.sh             # syntect (+two-face, fancy-regex), giallo, lumis
#                                       # (lumis also prints each language's first-use cost)
#   RUNS=1 bash bench/highlight.sh
#
# Builds in /dev/shm (several minutes the first time: each variant compiles its crate).
set -euo pipefail
cd "$(dirname "$0")/highlight"
RUNS=${RUNS:-3}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/dev/shm/petrol-watch-highlight-bench}
declare -A BIN SIZE
for v in none syntect giallo lumis; do
  if [ "$v" = none ]; then cargo build --release --quiet; else cargo build --release --quiet --features "$v"; fi
  cp "$CARGO_TARGET_DIR/release/highlight-compare" "$CARGO_TARGET_DIR/hc-$v"
  BIN[$v]=$CARGO_TARGET_DIR/hc-$v
  SIZE[$v]=$(stat -c %s "${BIN[$v]}")
done
declare -A US
for v in syntect giallo lumis; do
  best=
  for _ in $(seq "$RUNS"); do
    out=$("${BIN[$v]}" "$v")
    line=$(grep 'µs/block' <<<"$out")
    grep -v 'µs/block' <<<"$out" || true
    us=$(sed -E 's/.* = ([0-9.]+) µs\/block.*/\1/' <<<"$line")
    if [ -z "$best" ] || awk "BEGIN{exit !($us < $best)}"; then best=$us; bestline=$line; fi
  done
  US[$v]=$best
  echo "$bestline (best of $RUNS)"
done
echo
printf '%-22s %12s %16s %18s\n' highlighter "µs/block" "× lumis time" "binary added (MB)"
for v in lumis giallo syntect; do
  printf '%-22s %12s %16s %18s\n' "$v" "${US[$v]}" \
    "$(awk "BEGIN{printf \"%.2f\", ${US[$v]} / ${US[lumis]}}")" \
    "$(awk "BEGIN{printf \"%.2f\", (${SIZE[$v]} - ${SIZE[none]}) / 1048576}")"
done
