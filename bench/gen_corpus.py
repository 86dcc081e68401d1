#!/usr/bin/env python3
"""Writes a benchmark corpus: N notes of ~600 words (front matter, headings, lists,
three code blocks, a table) for petrol-watch, Hugo and Zola; with ROWS set, also a CSV of
that many rows.

usage: gen_corpus.py OUT_DIR NOTES [plain]

Each note's code blocks are in two of the languages workshop notes use (shell, TOML,
Dockerfile, Python, Rust, YAML, SQL, JSON), so highlighting costs what it would on real
notes. With "plain", the same blocks are written without a language: nothing is
highlighted, which measures what highlighting costs.
"""
import datetime
import os
import random
import sys

out, count = sys.argv[1], int(sys.argv[2])
plain = len(sys.argv) > 3 and sys.argv[3] == "plain"
rows = int(os.environ.get("ROWS", "0"))
rng = random.Random(42)
WORDS = ("price decision mogas gas oil litre rupee committee import freight duty levy "
         "review month quarter rise fall kept chart table series station island port "
         "tanker barrel crude brent margin subsidy account stabilisation formula").split()


def sentence(n):
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def paragraph():
    return " ".join(sentence(rng.randint(8, 16)) for _ in range(5))


# Each block carries its note's number, so no two notes share a block, as on a real
# site: a build that remembers blocks it has seen gains nothing within one build.
CODE = {
    "bash": ["petrol-watch price add 2026-08-15 mogas=70.65 gas-oil=71.25",
             "petrol-watch build && petrol-watch check",
             'PORT={n} petrol-watch serve --dir public &'],
    "toml": ['[site]', 'title = "Petrol Watch"', 'base_url = "https://example.org"', "notes_per_page = {n}"],
    "dockerfile": ["FROM docker.io/library/rust:1.95-slim AS builder", "WORKDIR /src/{n}", "COPY . .",
                   "RUN cargo build --release", "FROM scratch", "COPY --from=builder /src/target/release/app /app",
                   'ENTRYPOINT ["/app"]'],
    "python": ["import csv", "with open('data/fuel-prices.csv') as f:",
               "    rows = list(csv.DictReader(f))", "print(len(rows), rows[-1]['mogas'], {n})"],
    "rust": ["fn main() {", '    let price = "{n}.25".parse::<f64>().unwrap();', '    println!("price {price}");', "}"],
    "yaml": ["steps:", "  - name: gcr.io/cloud-builders/docker", "    args: [build, -f, Containerfile, ., -t, v{n}]"],
    "sql": ["SELECT date, mogas FROM prices", "WHERE date >= '2020-01-01'", "ORDER BY date DESC LIMIT {n};"],
    "json": ['{"date": "2026-08-15", "mogas": "{n}.65", "gas_oil": "71.25"}'],
}


def code_block(language, n):
    return ["```" + ("" if plain else language)] + [line.replace("{n}", str(n)) for line in CODE[language]] + ["```", ""]


def note(i):
    date = datetime.date(2004, 1, 1) + datetime.timedelta(days=i % 8000)
    tags = rng.sample(["prices", "data", "mauritius", "diesel", "petrol", "notes", "charts", "stc"], 2)
    body = [
        f"{paragraph()}",
        "## Background",
        paragraph(),
        "- first point about the " + rng.choice(WORDS),
        "- second point about the " + rng.choice(WORDS),
        "- third point with `code` inline",
        "",
        "## Numbers",
        "| Date | Mogas | Gas Oil |",
        "|:--|--:|--:|",
    ]
    for r in range(4):
        body.append(f"| 2024-0{r + 1}-01 | {rng.uniform(40, 75):.2f} | {rng.uniform(30, 70):.2f} |")
    first, second = rng.sample(sorted(CODE), 2)
    body += ["", paragraph(), *code_block("rust", i), "## Reading it", paragraph(),
             *code_block(first, i), paragraph(), "1. one", "2. two", "3. three", "",
             *code_block(second, i), paragraph()]
    front = (f'+++\ntitle = "Note {i}: the {rng.choice(WORDS)} and the {rng.choice(WORDS)}"\n'
             f"date = {date.isoformat()}\ntags = {tags!r}\n+++\n").replace("'", '"')
    return front + "\n".join(body) + "\n"


def zola(text):
    """The same note for Zola, which takes tags under a [taxonomies] table."""
    front, body = text[4:].split("+++\n", 1)
    lines = front.splitlines()
    tags = [line for line in lines if line.startswith("tags = ")]
    rest = [line for line in lines if not line.startswith("tags = ")]
    return "+++\n" + "\n".join(rest + ["[taxonomies]"] + tags) + "\n+++\n" + body


for site in ("petrol", "hugo", "zola"):
    os.makedirs(os.path.join(out, site, "content", "notes"), exist_ok=True)
for i in range(count):
    text = note(i)
    for site, page in (("petrol", text), ("hugo", text), ("zola", zola(text))):
        with open(os.path.join(out, site, "content", "notes", f"note-{i:05d}.md"), "w") as f:
            f.write(page)

os.makedirs(os.path.join(out, "petrol", "data"), exist_ok=True)
if rows:
    with open(os.path.join(out, "petrol", "data", "big-series.csv"), "w") as f:
        f.write("date,alpha,beta\n")
        day = datetime.date(1800, 1, 1)
        a, b = 50.0, 40.0
        for _ in range(rows):
            a = max(0.0, a + rng.uniform(-1, 1))
            b = max(0.0, b + rng.uniform(-1, 1))
            f.write(f"{day.isoformat()},{a:.2f},{b:.2f}\n")
            day += datetime.timedelta(days=1)
