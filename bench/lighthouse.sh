#!/usr/bin/env bash
# Lighthouse scores of the built site, mobile and desktop, served by `petrol-watch
# serve` on 127.0.0.1 (loopback only).
#
#   bash bench/lighthouse.sh            # /, each dataset page, /notes/ and one note
#   PAGES="/ /notes/" bash bench/lighthouse.sh
#
# Lighthouse comes from npm into a cache folder outside the repository (installed
# once); Chrome is Debian's chromium (CHROME_PATH, default /usr/bin/chromium). Prints
# one row per page and form factor with the four category scores, then every audit
# that kept a category under 100. Exits 1 when any score is under 100.
set -euo pipefail
cd "$(dirname "$0")/.."
LH_VERSION=${LH_VERSION:-12.8.2}
tools="${XDG_CACHE_HOME:-$HOME/.cache}/petrol-watch-lighthouse"
[ -x "$tools/node_modules/.bin/lighthouse" ] ||
  npm install --silent --no-audit --no-fund --prefix "$tools" "lighthouse@$LH_VERSION"
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}

cargo build --quiet --bin petrol-watch
PW=$PWD/target/debug/petrol-watch
WORK=$(mktemp -d /tmp/petrol-watch-lighthouse.XXXXXX)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
"$PW" build --out "$WORK/site" >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PW" serve --dir "$WORK/site" --bind 127.0.0.1 --port "$PORT" --no-request-log >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done

if [ -z "${PAGES:-}" ]; then
  PAGES="/"
  for d in "$WORK"/site/prices/*/; do PAGES+=" /prices/$(basename "$d")/"; done
  PAGES+=" /notes/"
  note=$(find "$WORK/site/notes" -mindepth 1 -maxdepth 1 -type d | sort | head -n 1)
  PAGES+=" /notes/$(basename "$note")/"
fi

for page in $PAGES; do
  for form in mobile desktop; do
    preset=()
    [ "$form" = desktop ] && preset=(--preset=desktop)
    name=$(echo "$page" | tr -c 'a-z0-9\n' '_')
    "$tools/node_modules/.bin/lighthouse" "http://127.0.0.1:$PORT$page" "${preset[@]}" \
      --chrome-flags="--headless --no-sandbox --disable-gpu" \
      --only-categories=performance,accessibility,best-practices,seo \
      --output=json --output-path="$WORK/$name.$form.json" --quiet ||
      echo "lighthouse failed on $page ($form)" >&2
  done
done

python3 - "$WORK" $PAGES <<'PY'
import json, sys, os
work, pages = sys.argv[1], sys.argv[2:]
cats = ["performance", "accessibility", "best-practices", "seo"]
print(f"{'page':<60} {'form':<8} {'perf':>5} {'a11y':>5} {'bp':>5} {'seo':>5}")
problems, low = [], False
for page in pages:
    name = "".join(c if c in "abcdefghijklmnopqrstuvwxyz0123456789\n" else "_" for c in page)
    for form in ["mobile", "desktop"]:
        path = os.path.join(work, f"{name}.{form}.json")
        try:
            r = json.load(open(path))
        except (OSError, ValueError):
            print(f"{page:<60} {form:<8} {'no report':>23}"); low = True; continue
        scores = []
        for c in cats:
            cat = r["categories"][c]
            s = cat["score"]
            scores.append("-" if s is None else str(round(s * 100)))
            if s is None or s < 1:
                low = True
                for ref in cat["auditRefs"]:
                    a = r["audits"][ref["id"]]
                    if ref["weight"] > 0 and a["score"] is not None and a["score"] < 1:
                        problems.append(f"{page} {form} {c}: {a['id']}: {a['title']}")
        print(f"{page:<60} {form:<8} " + " ".join(f"{s:>5}" for s in scores))
for p in sorted(set(problems)):
    print(p)
sys.exit(1 if low else 0)
PY
