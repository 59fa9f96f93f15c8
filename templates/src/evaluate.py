"""Decide whether the newly trained model should be registered.

The new model's metric (from train.py's metrics.json) is compared with the production
model's metric, which the Azure pipeline reads from the latest registered model version's
tags and passes in as --baseline ("none" when no model is registered yet: the first model
always registers). The new model must be strictly better. The decision is written to
<decision>/decision.json for register.py.
"""
import argparse
import json
import math
import sys
from pathlib import Path

# Whether a lower value of the metric is better.
LOWER_IS_BETTER = {"mse": True, "r2": False}


def parse_baseline(value):
    """'none', '' or 'null' mean "no production model"; anything else must be a number."""
    if value is None or str(value).strip().lower() in ("", "none", "null"):
        return None
    baseline = float(value)
    if math.isnan(baseline):
        raise ValueError("the baseline metric is NaN")
    return baseline


def decide(new_metrics, baseline, metric_name):
    """Return the decision as a dict; decision["register"] is True when the new model is better."""
    if metric_name not in LOWER_IS_BETTER:
        raise ValueError(f"unknown metric {metric_name!r}; expected one of {sorted(LOWER_IS_BETTER)}")
    new_value = float(new_metrics[metric_name])
    if baseline is None:
        register, reason = True, "no production model yet: the first model always registers"
    elif LOWER_IS_BETTER[metric_name]:
        register = new_value < baseline
        reason = f"{metric_name} {new_value:.4f} {'<' if register else '>='} production {baseline:.4f}"
    else:
        register = new_value > baseline
        reason = f"{metric_name} {new_value:.4f} {'>' if register else '<='} production {baseline:.4f}"
    return {
        "register": register,
        "metric": metric_name,
        "new_value": new_value,
        "baseline_value": baseline,
        "reason": reason,
    }


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-output", required=True, help="train.py's output folder")
    parser.add_argument("--metric-name", default="mse", choices=sorted(LOWER_IS_BETTER))
    parser.add_argument("--baseline", default="none", help="the production model's metric, or 'none'")
    parser.add_argument("--decision", required=True, help="folder to write decision.json to")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    metrics = json.loads((Path(args.model_output) / "metrics.json").read_text())
    decision = decide(metrics, parse_baseline(args.baseline), args.metric_name)
    output = Path(args.decision)
    output.mkdir(parents=True, exist_ok=True)
    (output / "decision.json").write_text(json.dumps(decision, indent=2))
    print(("REGISTER: " if decision["register"] else "KEEP PRODUCTION MODEL: ") + decision["reason"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
