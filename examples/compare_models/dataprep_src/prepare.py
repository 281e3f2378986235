"""Data preparation step: cleans the raw iris CSV (standard library only).

Reads --input (a CSV file), drops rows with missing or non-numeric measurements,
normalises species names, and writes prepped.csv into the --output folder.
"""
import argparse
import csv
import os
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--input", required=True)
parser.add_argument("--output", required=True)
args = parser.parse_args()

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]

kept, dropped = [], 0
with open(args.input, newline="") as f:
    reader = csv.DictReader(f)
    missing = [c for c in FEATURES + ["species"] if c not in (reader.fieldnames or [])]
    if missing:
        sys.exit(f"prepare.py: {args.input} lacks columns {missing}")
    for row in reader:
        try:
            values = [float(row[c]) for c in FEATURES]
        except (TypeError, ValueError):
            dropped += 1
            continue
        species = (row["species"] or "").strip().lower().removeprefix("iris-")
        if not species:
            dropped += 1
            continue
        kept.append(values + [species])

os.makedirs(args.output, exist_ok=True)
with open(os.path.join(args.output, "prepped.csv"), "w", newline="") as f:
    writer = csv.writer(f, lineterminator="\n")
    writer.writerow(FEATURES + ["species"])
    writer.writerows(kept)
print(f"prepared {len(kept)} rows ({dropped} dropped) -> {args.output}")
