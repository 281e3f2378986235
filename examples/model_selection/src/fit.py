"""Fits a k-nearest-neighbours model: stores k and the training rows (standard library only)."""
import argparse
import csv
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--train", required=True)
parser.add_argument("--k", type=int, required=True)
parser.add_argument("--model", required=True)
args = parser.parse_args()
if args.k < 1:
    raise SystemExit(f"fit.py: --k must be at least 1, got {args.k}")

with open(os.path.join(args.train, "rows.csv"), newline="") as f:
    rows = list(csv.reader(f))[1:]
points = [[float(v) for v in r[:4]] + [r[4]] for r in rows]
os.makedirs(args.model, exist_ok=True)
with open(os.path.join(args.model, "knn.json"), "w") as f:
    json.dump({"k": args.k, "points": points}, f)
print(f"fitted {args.k}-nearest-neighbours on {len(points)} rows")
