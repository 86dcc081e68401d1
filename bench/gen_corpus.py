#!/usr/bin/env python3
"""Writes a benchmark corpus: N notes of ~600 words (front matter, headings, lists, a
code block, a table) for both petrol-watch and Hugo, and a CSV of 100,000 rows.

usage: gen_corpus.py OUT_DIR NOTES
"""
import datetime
import os
import random
import sys

out, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(42)
WORDS = ("price decision mogas gas oil litre rupee committee import freight duty levy "
         "review month quarter rise fall kept chart table series station island port "
         "tanker barrel crude brent margin subsidy account stabilisation formula").split()


def sentence(n):
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def paragraph():
    return " ".join(sentence(rng.randint(8, 16)) for _ in range(5))


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
    body += ["", paragraph(), "```rust", "fn main() {", '    println!("price {}", 64.25);', "}", "```", "",
             "## Reading it", paragraph(), paragraph(), "1. one", "2. two", "3. three", "", paragraph()]
    front = (f'+++\ntitle = "Note {i}: the {rng.choice(WORDS)} and the {rng.choice(WORDS)}"\n'
             f"date = {date.isoformat()}\ntags = {tags!r}\n+++\n").replace("'", '"')
    return front + "\n".join(body) + "\n"


for site in ("petrol", "hugo"):
    os.makedirs(os.path.join(out, site, "content", "notes"), exist_ok=True)
for i in range(count):
    text = note(i)
    for site in ("petrol", "hugo"):
        with open(os.path.join(out, site, "content", "notes", f"note-{i:05d}.md"), "w") as f:
            f.write(text)

os.makedirs(os.path.join(out, "petrol", "data"), exist_ok=True)
with open(os.path.join(out, "petrol", "data", "big-series.csv"), "w") as f:
    f.write("date,alpha,beta\n")
    day = datetime.date(1800, 1, 1)
    a, b = 50.0, 40.0
    for _ in range(100_000):
        a = max(0.0, a + rng.uniform(-1, 1))
        b = max(0.0, b + rng.uniform(-1, 1))
        f.write(f"{day.isoformat()},{a:.2f},{b:.2f}\n")
        day += datetime.timedelta(days=1)
