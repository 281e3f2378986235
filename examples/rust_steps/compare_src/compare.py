"""Comparison step: the trained model against a baseline (standard library only).

Reads --comp_data1 (prepped data) and --comp_data2 (training results); the baseline predicts
the majority species of the first --param1 percent of the rows. Writes comparison.json into
--output_data.
"""
import argparse
import collections
import csv
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--comp_data1", required=True)
parser.add_argument("--comp_data2", required=True)
parser.add_argument("--param1", type=int, required=True)
parser.add_argument("--output_data", required=True)
args = parser.parse_args()

with open(os.path.join(args.comp_data1, "prepped.csv"), newline="") as f:
    rows = list(csv.reader(f))[1:]
test = [r for i, r in enumerate(rows) if i % 5 == 0]
sample = rows[: max(1, len(rows) * max(1, min(args.param1, 100)) // 100)]
majority = collections.Counter(r[4] for r in sample).most_common(1)[0][0]
baseline = sum(r[4] == majority for r in test) / len(test)

with open(os.path.join(args.comp_data2, "metrics.json")) as f:
    trained = json.load(f)

result = {
    "baseline": {"model": f"majority({majority})", "accuracy": baseline, "param1": args.param1},
    "trained": trained,
    "winner": trained["model"] if trained["accuracy"] >= baseline else "baseline",
}
os.makedirs(args.output_data, exist_ok=True)
with open(os.path.join(args.output_data, "comparison.json"), "w") as f:
    json.dump(result, f, indent=2, sort_keys=True)
print(f"baseline {baseline:.3f} vs {trained['model']} {trained['accuracy']:.3f}: {result['winner']} wins")
