"""Register the new model in the Azure ML model registry, only when evaluate.py decided so.

The model version is tagged with the Azure Pipelines build id (build_id) and its metrics:
the pipeline finds the version this build registered by that tag, and reads the metric tag
of the latest version as the production baseline of the next run. The outcome is written to
<registration>/registration.json.

Registration goes through MLflow (mlflow + azureml-mlflow, both in aml/conda.yml): inside an
Azure ML job MLflow is already connected to the workspace. Nothing else here needs MLflow.
"""
import argparse
import json
import sys
from pathlib import Path

try:
    import mlflow
    from mlflow.tracking import MlflowClient
except ImportError:
    mlflow = None


class MlflowRegistry:
    """The Azure ML model registry, reached through MLflow."""

    def __init__(self):
        if mlflow is None:
            raise RuntimeError(
                "registering a model needs MLflow (pip install mlflow azureml-mlflow); "
                "the Azure ML environment in aml/conda.yml has it"
            )

    def register(self, model_dir, name, tags):
        model_dir = Path(model_dir).resolve()
        if not (model_dir / "MLmodel").is_file():
            raise RuntimeError(f"{model_dir} is not an MLflow model (no MLmodel file)")
        version = mlflow.register_model(f"file://{model_dir}", name).version
        client = MlflowClient()
        for key, value in tags.items():
            client.set_model_version_tag(name, version, key, value)
        return str(version)


def model_tags(metrics, build_id):
    return {
        "build_id": str(build_id),
        "mse": repr(float(metrics["mse"])),
        "r2": repr(float(metrics["r2"])),
        "alpha": repr(float(metrics["alpha"])),
    }


def register(model_output, decision_dir, model_name, build_id, registry=None):
    """Return what was done as a dict; registry defaults to the MLflow-backed registry."""
    decision = json.loads((Path(decision_dir) / "decision.json").read_text())
    if not decision["register"]:
        return {"registered": False, "name": model_name, "reason": decision["reason"]}
    metrics = json.loads((Path(model_output) / "metrics.json").read_text())
    tags = model_tags(metrics, build_id)
    registry = registry or MlflowRegistry()
    version = registry.register(Path(model_output) / "model", model_name, tags)
    return {"registered": True, "name": model_name, "version": str(version), "tags": tags,
            "reason": decision["reason"]}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-output", required=True, help="train.py's output folder")
    parser.add_argument("--decision", required=True, help="evaluate.py's output folder")
    parser.add_argument("--model-name", required=True)
    parser.add_argument("--build-id", required=True, help="the Azure Pipelines build id")
    parser.add_argument("--registration", required=True, help="folder to write registration.json to")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    outcome = register(args.model_output, args.decision, args.model_name, args.build_id)
    output = Path(args.registration)
    output.mkdir(parents=True, exist_ok=True)
    (output / "registration.json").write_text(json.dumps(outcome, indent=2))
    if outcome["registered"]:
        print(f"Registered {outcome['name']}:{outcome['version']} ({outcome['reason']})")
    else:
        print(f"Not registered ({outcome['reason']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
