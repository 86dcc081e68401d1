#!/usr/bin/env bash
# Two builds of petrol-watch against each other on the same site, interleaved (A B A B
# …) so a shared machine's load falls on both alike: cold builds (output emptied, image
# cache kept), median wall and CPU (user + system) time of each, and B's ratio to A.
#
#   bash bench/ab.sh OLD_BINARY NEW_BINARY SITE_ROOT [RUNS]
#
# SITE_ROOT is a site folder, e.g. a corpus from bench/gen_corpus.py with the repo's
# site.toml, templates/, static/ and data/ copied in (bench/build.sh does the same).
set -euo pipefail
A=$1 B=$2 SITE=$3 RUNS=${4:-7}
[ -x /usr/bin/time ] || { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
out=$(mktemp -d -p /dev/shm)
trap 'rm -rf "$out"' EXIT
# Each binary keeps its own image cache: cache keys name the program, so one
# binary's cards are not the other's, and a shared cache would make every build first.
for which in A B; do
  "${!which}" --root "$SITE" build --out "$out/$which/public" >/dev/null
done
for r in $(seq "$RUNS"); do
  for which in A B; do
    rm -rf "$out/$which/public"
    /usr/bin/time -f "$which %e %U %S" -a -o "$out/times" "${!which}" --root "$SITE" build --out "$out/$which/public" >/dev/null
  done
done
python3 - "$out/times" <<'PY'
import statistics, sys
runs = {"A": [], "B": []}
for line in open(sys.argv[1]):
    w, wall, user, sys_ = line.split()
    runs[w].append((float(wall), float(user) + float(sys_)))
med = {w: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v)) for w, v in runs.items()}
for w in "AB":
    print(f"{w}: wall {med[w][0] * 1000:.0f} ms, cpu {med[w][1] * 1000:.0f} ms (medians of {len(runs[w])})")
print(f"B/A: wall {med['B'][0] / med['A'][0]:.2f}, cpu {med['B'][1] / med['A'][1]:.2f}")
PY
