#!/usr/bin/env python3
"""Writes one dataset CSV of ROWS daily rows with two series (a random walk to two
decimals, as prices are written), for the big-dataset benchmark.

usage: gen_big_csv.py OUT.csv ROWS
"""
import datetime
import random
import sys

out, rows = sys.argv[1], int(sys.argv[2])
rng = random.Random(42)
day = datetime.date(1800, 1, 1)
one = datetime.timedelta(days=1)
a, b = 50.0, 40.0
with open(out, "w") as f:
    f.write("date,alpha,beta\n")
    for _ in range(rows):
        a = max(0.0, a + rng.uniform(-1, 1))
        b = max(0.0, b + rng.uniform(-1, 1))
        f.write(f"{day.isoformat()},{a:.2f},{b:.2f}\n")
        day += one
