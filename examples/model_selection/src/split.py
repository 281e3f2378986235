"""Splits the iris CSV into train/ and test/ folders (standard library only).

Every row whose index falls in the last --test_percent of each block of 100 goes to test.
"""
import argparse
import csv
import os

parser = argparse.ArgumentParser()
parser.add_argument("--raw", required=True)
parser.add_argument("--test_percent", type=int, required=True)
parser.add_argument("--train", required=True)
parser.add_argument("--test", required=True)
args = parser.parse_args()
if not 1 <= args.test_percent <= 90:
    raise SystemExit(f"split.py: --test_percent must be between 1 and 90, got {args.test_percent}")

with open(args.raw, newline="") as f:
    rows = list(csv.reader(f))
header, body = rows[0], rows[1:]
parts = {"train": [], "test": []}
for i, row in enumerate(body):
    parts["test" if (i * 37) % 100 < args.test_percent else "train"].append(row)
for name, out in (("train", args.train), ("test", args.test)):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "rows.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(parts[name])
print(f"split {len(body)} rows: {len(parts['train'])} train, {len(parts['test'])} test")
