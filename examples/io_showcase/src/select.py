"""Keeps the iris rows of one species (standard library only)."""
import argparse
import csv
import os

parser = argparse.ArgumentParser()
parser.add_argument("--raw", required=True)
parser.add_argument("--species", required=True)
parser.add_argument("--rows", required=True)
args = parser.parse_args()

with open(args.raw, newline="") as f:
    rows = list(csv.reader(f))
header, body = rows[0], rows[1:]
kept = [r for r in body if args.species == "all" or r[-1] == args.species]
os.makedirs(args.rows, exist_ok=True)
with open(os.path.join(args.rows, "rows.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(header)
    w.writerows(kept)
print(f"kept {len(kept)} of {len(body)} rows ({args.species})")
