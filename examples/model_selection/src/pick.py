"""Picks the better of two evaluations (standard library only)."""
import argparse
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--a", required=True)
parser.add_argument("--b", required=True)
parser.add_argument("--best", required=True)
args = parser.parse_args()

candidates = []
for folder in (args.a, args.b):
    with open(os.path.join(folder, "metrics.json")) as f:
        candidates.append(json.load(f))
best = max(candidates, key=lambda m: (m["accuracy"], -m["k"]))
os.makedirs(args.best, exist_ok=True)
with open(os.path.join(args.best, "best.json"), "w") as f:
    json.dump({"best": best, "candidates": candidates}, f, indent=2, sort_keys=True)
print(f"best: k={best['k']} with accuracy {best['accuracy']:.3f}")
