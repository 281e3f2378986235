"""Training step: a nearest-centroid classifier on the prepped iris data (standard library only).

Reads --prepped_data (a folder with prepped.csv), holds out every fifth row, fits one centroid
per species on the rest, and writes model.json and metrics.json into --training_results.
"""
import argparse
import csv
import json
import math
import os

parser = argparse.ArgumentParser()
parser.add_argument("--prepped_data", required=True)
parser.add_argument("--training_results", required=True)
args = parser.parse_args()

with open(os.path.join(args.prepped_data, "prepped.csv"), newline="") as f:
    rows = list(csv.reader(f))[1:]
data = [([float(v) for v in r[:4]], r[4]) for r in rows]
train = [d for i, d in enumerate(data) if i % 5 != 0]
test = [d for i, d in enumerate(data) if i % 5 == 0]

centroids = {}
for features, label in train:
    c = centroids.setdefault(label, [0.0, 0.0, 0.0, 0.0, 0])
    for k in range(4):
        c[k] += features[k]
    c[4] += 1
model = {label: [c[k] / c[4] for k in range(4)] for label, c in sorted(centroids.items())}


def predict(features):
    return min(model, key=lambda label: math.dist(features, model[label]))


correct = sum(predict(f) == label for f, label in test)
metrics = {"model": "nearest_centroid", "test_rows": len(test), "accuracy": correct / len(test)}

os.makedirs(args.training_results, exist_ok=True)
with open(os.path.join(args.training_results, "model.json"), "w") as f:
    json.dump(model, f, indent=2, sort_keys=True)
with open(os.path.join(args.training_results, "metrics.json"), "w") as f:
    json.dump(metrics, f, indent=2, sort_keys=True)
print(f"trained nearest-centroid: accuracy {metrics['accuracy']:.3f} on {len(test)} held-out rows")
