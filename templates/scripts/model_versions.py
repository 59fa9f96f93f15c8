"""Answer the pipeline's two questions about the registered versions of the model, read as the
JSON output of `az ml model list --name <model> -o json` on stdin:

    python3 scripts/model_versions.py production-metric --metric mse   # before training
    python3 scripts/model_versions.py registered-by --build-id 1234    # after the Azure ML job

production-metric prints the metric tag of the production model, the latest registered version
(only models better than it get registered), or "none" when there is none: the baseline
evaluate.py compares the new model with. registered-by prints the version that register.py
tagged with that build id, or nothing when the build registered none (the model was not better).
Standard library only: it runs with the agent's python3.
"""
import argparse
import json
import sys


def numeric_versions(versions):
    return [v for v in versions or [] if str(v.get("version", "")).isdigit()]


def latest_version(versions):
    return max(numeric_versions(versions), key=lambda v: int(v["version"]), default=None)


def production_metric(versions, metric):
    latest = latest_version(versions)
    value = ((latest or {}).get("tags") or {}).get(metric)
    return str(value) if value not in (None, "") else "none"


def registered_by(versions, build_id):
    tagged = [v for v in numeric_versions(versions)
              if str((v.get("tags") or {}).get("build_id", "")) == str(build_id)]
    return str(max(tagged, key=lambda v: int(v["version"]))["version"]) if tagged else ""


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    metric = commands.add_parser("production-metric")
    metric.add_argument("--metric", required=True)
    build = commands.add_parser("registered-by")
    build.add_argument("--build-id", required=True)
    return parser.parse_args(argv)


def main(argv=None, stdin=None):
    args = parse_args(argv)
    versions = json.load(stdin or sys.stdin)
    if args.command == "production-metric":
        latest = latest_version(versions)
        value = production_metric(versions, args.metric)
        described = f"version {latest['version']}, {args.metric}={value}" if latest else "none yet"
        print(f"Production model: {described}", file=sys.stderr)
        print(value)
    else:
        print(registered_by(versions, args.build_id))
    return 0


if __name__ == "__main__":
    sys.exit(main())
