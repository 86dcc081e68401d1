//! Highlights the code blocks of a synthetic corpus (2,000 notes x 3 blocks of about
//! 20 lines, 12 languages) with one highlighter, chosen by cargo feature, and prints
//! the time per block. Run through bench/highlight.sh, which builds every variant.
#![allow(unused_variables, unused_imports)]

use std::time::Instant;

const SAMPLES: &[(&str, &str)] = &[
    (
        "rust",
        r#"use std::collections::HashMap;

/// Counts words.
fn count(text: &str) -> HashMap<&str, usize> {
    let mut map = HashMap::new();
    for w in text.split_whitespace() {
        *map.entry(w).or_insert(0) += 1;
    }
    map
}

#[derive(Debug, Clone)]
struct Price { millionths: i64 }

impl Price {
    pub fn new(v: i64) -> Self { Self { millionths: v * 1_000_000 } }
}

fn main() { let p = Price::new(70); println!("{p:?} {}", "NNN"); }
"#,
    ),
    (
        "python",
        r#"import csv
from dataclasses import dataclass
from decimal import Decimal

@dataclass
class Row:
    date: str
    mogas: Decimal

def load(path: str) -> list[Row]:
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            rows.append(Row(r["date"], Decimal(r["mogas"])))
    return rows

if __name__ == "__main__":
    # NNN
    for row in load("data/fuel-prices.csv"):
        print(f"{row.date}: Rs {row.mogas}")
"#,
    ),
    (
        "bash",
        r#"#!/usr/bin/env bash
set -euo pipefail
# NNN
PROJECT=petrol-watch
REGION=europe-west1
for f in data/*.csv; do
  echo "checking $f"
  wc -l "$f" | awk '{print $1}'
done
if [ -z "${PORT:-}" ]; then
  export PORT=8080
fi
gcloud run deploy "$PROJECT" \
  --image "gcr.io/$PROJECT/app:latest" \
  --region "$REGION" --allow-unauthenticated
cargo build --release && ./target/release/petrol-watch serve --port "$PORT"
case "$1" in
  build) echo build ;;
  *) echo "usage: $0 build" >&2; exit 2 ;;
esac
"#,
    ),
    (
        "dockerfile",
        r#"# syntax=docker/dockerfile:1
FROM rust:1.82-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# NNN
RUN cargo build --release --locked \
 && strip target/release/petrol-watch
FROM scratch
COPY --from=build /src/target/release/petrol-watch /petrol-watch
COPY public /public
ENV PORT=8080
EXPOSE 8080
USER 65534:65534
HEALTHCHECK NONE
ENTRYPOINT ["/petrol-watch", "serve", "--dir", "/public"]
CMD []
LABEL org.opencontainers.image.title="petrol-watch"
ARG VERSION=0.1.0
"#,
    ),
    (
        "toml",
        r#"[package]
name = "petrol-watch"
version = "0.1.0"
edition = "2021"
# NNN

[dependencies]
serde = { version = "1", features = ["derive"] }
tokio = { version = "1", features = ["rt-multi-thread"] }

[profile.release]
lto = true
codegen-units = 1
panic = "abort"

[datasets.fuel-prices]
title = "Retail fuel prices"
unit = "Rs/litre"
updated = 2026-04-20
ratio = 1.5e3
"#,
    ),
    (
        "yaml",
        r#"# NNN
name: ci
on:
  push:
    branches: [main]
  pull_request: {}
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Test
        run: cargo test --locked
        env:
          RUST_BACKTRACE: "1"
      - name: Lint
        run: |
          cargo fmt --check
          cargo clippy -- -D warnings
    timeout-minutes: 20
"#,
    ),
    (
        "json",
        r#"[
  {"date": "2004-04-02", "mogas": 31.2, "gasoil": 19.5},
  {"date": "2005-01-10", "mogas": 34.0, "gasoil": 22.0},
  {"date": "2006-07-01", "mogas": 42.5, "gasoil": 30.0},
  {"note": "NNN", "ok": true, "missing": null},
  {
    "nested": {
      "list": [1, 2, 3],
      "text": "with \"escapes\" inside"
    }
  },
  {"date": "2022-05-19", "mogas": 70.65, "gasoil": 63.25},
  {"date": "2023-01-01", "mogas": 65.0, "gasoil": 58.0},
  {"date": "2024-02-01", "mogas": 63.9, "gasoil": 56.9},
  {"date": "2025-03-01", "mogas": 62.0, "gasoil": 55.0},
  {"date": "2026-08-15", "mogas": 61.5, "gasoil": 54.75},
  {"empty": [], "obj": {}},
  {"neg": -1.25e-3}
]
"#,
    ),
    (
        "sql",
        r#"-- NNN
CREATE TABLE prices (
    id SERIAL PRIMARY KEY,
    date DATE NOT NULL UNIQUE,
    mogas NUMERIC(8, 2) NOT NULL CHECK (mogas >= 0),
    gasoil NUMERIC(8, 2) NOT NULL
);
INSERT INTO prices (date, mogas, gasoil)
VALUES ('2022-05-19', 70.65, 63.25);
SELECT date, mogas,
       mogas - LAG(mogas) OVER (ORDER BY date) AS change
FROM prices
WHERE date >= '2020-01-01'
ORDER BY date DESC
LIMIT 10;
UPDATE prices SET mogas = 61.50 WHERE id = 42;
DELETE FROM prices WHERE date < '2004-01-01';
"#,
    ),
    (
        "html",
        r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Petrol Watch NNN</title>
  <link rel="stylesheet" href="/style.css">
</head>
<body>
  <main class="cards">
    <article class="card" id="mogas">
      <h2>Mogas</h2>
      <p class="price">Rs 61.50 <small>&minus;0.50</small></p>
    </article>
    <!-- a comment -->
    <picture>
      <source media="(max-width: 40em)" srcset="chart-narrow.svg">
      <img src="chart.svg" alt="Price chart" width="800" height="400">
    </picture>
  </main>
</body>
</html>
"#,
    ),
    (
        "css",
        r#"/* NNN */
:root {
  --fg: #1b1b1b;
  --bg: #fffdf8;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root { --fg: #e8e6e3; --bg: #16181d; }
}
body {
  font: 1rem/1.5 system-ui, sans-serif;
  color: var(--fg);
  background: var(--bg);
  margin: 0 auto;
  max-width: 42rem;
}
.card > h2::after { content: "\2192"; }
pre { overflow-x: auto; padding: 0.75em 1em !important; }
a:hover, a:focus-visible { text-decoration: underline; }
"#,
    ),
    (
        "javascript",
        r#"// NNN
const source = new EventSource("/__reload");
source.addEventListener("message", (event) => {
  if (event.data === "reload") {
    location.reload();
  }
});
async function load(url) {
  const res = await fetch(url, { headers: { Accept: "application/json" } });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}
export class Prices {
  #rows = [];
  constructor(rows) { this.#rows = rows ?? []; }
  latest() { return this.#rows.at(-1); }
  static from(json) { return new Prices(JSON.parse(json)); }
}
let total = [1, 2, 3].map((x) => x * 2).reduce((a, b) => a + b, 0);
console.log(/^\d{4}-\d{2}$/.test("2026-04"), total);
"#,
    ),
    (
        "diff",
        r#"diff --git a/data/fuel-prices.csv b/data/fuel-prices.csv
index 3f9a1c2..8b7e4d0 100644
--- a/data/fuel-prices.csv
+++ b/data/fuel-prices.csv
@@ -118,6 +118,7 @@ date,mogas,gasoil
 2025-03-01,62.00,55.00
 2025-09-01,62.00,55.00
 2026-04-20,62.00,55.00
+2026-08-15,61.50,54.75
@@ -1,3 +1,3 @@
-old line NNN
+new line NNN
 context
 more context
 and more
-removed
+added
+added again
 end
"#,
    ),
];

fn corpus(notes: usize) -> Vec<(&'static str, String)> {
    let mut out = Vec::with_capacity(notes * 3);
    for n in 0..notes {
        for b in 0..3 {
            let (lang, code) = SAMPLES[(n * 3 + b) % SAMPLES.len()];
            out.push((lang, code.replace("NNN", &format!("note {n} block {b}"))));
        }
    }
    out
}

fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let show = std::env::args().nth(2).is_some();
    let blocks = corpus(2000);
    let lines: usize = blocks.iter().map(|(_, c)| c.lines().count()).sum();
    match which.as_str() {
        #[cfg(feature = "syntect")]
        "syntect" => {
            use syntect::html::{ClassStyle, ClassedHTMLGenerator};
            use syntect::util::LinesWithEndings;
            let t0 = Instant::now();
            let ss = two_face::syntax::extra_newlines();
            let load = t0.elapsed();
            let t1 = Instant::now();
            let mut bytes = 0;
            let mut missing = std::collections::BTreeSet::new();
            for (i, (lang, code)) in blocks.iter().enumerate() {
                let syn = match ss.find_syntax_by_token(lang) {
                    Some(s) => s,
                    None => {
                        missing.insert(*lang);
                        continue;
                    }
                };
                let mut g = ClassedHTMLGenerator::new_with_class_style(
                    syn,
                    &ss,
                    ClassStyle::SpacedPrefixed { prefix: "hl-" },
                );
                for line in LinesWithEndings::from(code) {
                    g.parse_html_for_line_which_includes_newline(line).unwrap();
                }
                let html = g.finalize();
                if show && i < SAMPLES.len() {
                    println!("=== {lang}\n{html}");
                }
                bytes += html.len();
            }
            let t = t1.elapsed();
            println!("syntect+two-face: load {:?}, {} blocks ({} lines) in {:?} = {:.1} µs/block, {} bytes html, missing {:?}", load, blocks.len(), lines, t, t.as_secs_f64()*1e6/blocks.len() as f64, bytes, missing);
        }
        #[cfg(feature = "giallo")]
        "giallo" => {
            use giallo::{HighlightOptions, HtmlRenderer, Registry, RenderOptions, ThemeVariant};
            let t0 = Instant::now();
            let mut reg = Registry::builtin().unwrap();
            reg.link_grammars();
            let load = t0.elapsed();
            let r = HtmlRenderer {
                css_class_prefix: Some("g-".into()),
                add_color_scheme: false,
                ..Default::default()
            };
            let t1 = Instant::now();
            let mut bytes = 0;
            let mut missing = std::collections::BTreeSet::new();
            for (i, (lang, code)) in blocks.iter().enumerate() {
                let opts = HighlightOptions::new(
                    *lang,
                    ThemeVariant::Dual {
                        light: "github-light",
                        dark: "github-dark",
                    },
                );
                let h = match reg.highlight(code, &opts) {
                    Ok(h) => h,
                    Err(e) => {
                        missing.insert(format!("{lang}: {e}"));
                        continue;
                    }
                };
                let html = r.render(&h, &RenderOptions::default());
                if show && i < SAMPLES.len() {
                    println!("=== {lang}\n{html}");
                }
                bytes += html.len();
            }
            let t = t1.elapsed();
            println!("giallo: load {:?}, {} blocks ({} lines) in {:?} = {:.1} µs/block, {} bytes html, missing {:?}", load, blocks.len(), lines, t, t.as_secs_f64()*1e6/blocks.len() as f64, bytes, missing);
        }
        #[cfg(feature = "lumis")]
        "lumis" => {
            use lumis::{languages::Language, HtmlLinkedBuilder};
            // The first block of each language pays for compiling its queries.
            let t0 = Instant::now();
            let mut first = Vec::new();
            for (lang, code) in SAMPLES {
                let t = Instant::now();
                let f = HtmlLinkedBuilder::new()
                    .language(lang.parse().unwrap())
                    .build()
                    .unwrap();
                lumis::highlight(code, f);
                first.push(format!("{lang} {:.0}", t.elapsed().as_secs_f64() * 1e3));
            }
            println!(
                "lumis first use per language (ms): {}; all: {:?}",
                first.join(", "),
                t0.elapsed()
            );
            let t1 = Instant::now();
            let mut bytes = 0;
            let mut missing = std::collections::BTreeSet::new();
            for (i, (lang, code)) in blocks.iter().enumerate() {
                let l: Language = match lang.parse() {
                    Ok(l) => l,
                    Err(_) => {
                        missing.insert(*lang);
                        continue;
                    }
                };
                // The options src/highlight.rs uses.
                let f = HtmlLinkedBuilder::new()
                    .language(l)
                    .structure(lumis::html::HtmlStructure::Inline)
                    .build()
                    .unwrap();
                let options = lumis::highlight::HighlightOptions::new()
                    .budget(lumis::highlight::Budget::new().time_limit(None));
                let mut out = Vec::new();
                lumis::write_highlight_with_options(&mut out, code, f, options).unwrap();
                let html = String::from_utf8(out).unwrap();
                if show && i < SAMPLES.len() {
                    println!("=== {lang}\n{html}");
                }
                bytes += html.len();
            }
            let t = t1.elapsed();
            println!(
                "lumis: {} blocks ({} lines) in {:?} = {:.1} µs/block, {} bytes html, missing {:?}",
                blocks.len(),
                lines,
                t,
                t.as_secs_f64() * 1e6 / blocks.len() as f64,
                bytes,
                missing
            );
        }
        _ => println!("none: {} blocks {} lines", blocks.len(), lines),
    }
}
