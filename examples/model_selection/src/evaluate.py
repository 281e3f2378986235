"""Evaluates a k-nearest-neighbours model on the test rows (standard library only)."""
import argparse
import collections
import csv
import json
import math
import os

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
parser.add_argument("--test", required=True)
parser.add_argument("--metrics", required=True)
args = parser.parse_args()

with open(os.path.join(args.model, "knn.json")) as f:
    model = json.load(f)
with open(os.path.join(args.test, "rows.csv"), newline="") as f:
    rows = list(csv.reader(f))[1:]


def predict(x):
    near = sorted(model["points"], key=lambda p: math.dist(x, p[:4]))[: model["k"]]
    return collections.Counter(p[4] for p in near).most_common(1)[0][0]


correct = sum(predict([float(v) for v in r[:4]]) == r[4] for r in rows)
metrics = {"k": model["k"], "accuracy": correct / len(rows), "test_rows": len(rows)}
os.makedirs(args.metrics, exist_ok=True)
with open(os.path.join(args.metrics, "metrics.json"), "w") as f:
    json.dump(metrics, f, indent=2, sort_keys=True)
print(f"k={model['k']}: accuracy {metrics['accuracy']:.3f}")
