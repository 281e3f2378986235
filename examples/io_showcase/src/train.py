"""Moves one centroid per species towards the mean of its rows, `--epochs` times (standard
library only). With `--warm_start`, starts from an earlier model instead of zeros."""
import argparse
import csv
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--rows", required=True)
parser.add_argument("--warm_start")
parser.add_argument("--epochs", type=int, required=True)
parser.add_argument("--learning_rate", type=float, required=True)
parser.add_argument("--report_time", required=True)
parser.add_argument("--model", required=True)
args = parser.parse_args()

with open(os.path.join(args.rows, "rows.csv"), newline="") as f:
    rows = list(csv.reader(f))[1:]
means = {}
for r in rows:
    s = means.setdefault(r[-1], [0.0] * (len(r) - 1) + [0])
    for i, v in enumerate(r[:-1]):
        s[i] += float(v)
    s[-1] += 1
means = {k: [v / s[-1] for v in s[:-1]] for k, s in means.items()}

if args.warm_start:
    with open(os.path.join(args.warm_start, "model.json")) as f:
        centroids = json.load(f)["centroids"]
    start = "warm"
else:
    centroids = {k: [0.0] * len(v) for k, v in means.items()}
    start = "cold"
for _ in range(args.epochs):
    for k, m in means.items():
        c = centroids.setdefault(k, [0.0] * len(m))
        centroids[k] = [ci + args.learning_rate * (mi - ci) for ci, mi in zip(c, m)]

os.makedirs(args.model, exist_ok=True)
with open(os.path.join(args.model, "model.json"), "w") as f:
    json.dump({"centroids": centroids, "start": start, "report_time": args.report_time}, f,
              indent=1, sort_keys=True)
print(f"{start} start, {args.epochs} epochs, report at {args.report_time}")
