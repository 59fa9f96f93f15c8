"""Train a Ridge regression on scikit-learn's diabetes dataset.

Writes into --model-output:
  model/        the model: MLflow format when MLflow is installed (as in the Azure ML
                environment), otherwise model.pkl (joblib) plus signature.json
  metrics.json  mse and r2 on the held-out split, the hyperparameters, the model format

Metrics and parameters are also logged to MLflow when MLflow is installed and a tracking
server is configured (Azure ML sets MLFLOW_TRACKING_URI in every job).
"""
import argparse
import json
import os
import sys
from pathlib import Path

import joblib
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.model_selection import train_test_split

try:
    import mlflow
    import mlflow.sklearn
    from mlflow.models import infer_signature
except ImportError:  # tests and local runs work without MLflow
    mlflow = None

TEST_SIZE = 0.2
RANDOM_STATE = 42


def load_data(test_size=TEST_SIZE, random_state=RANDOM_STATE):
    """The diabetes dataset ships with scikit-learn: nothing is downloaded.

    The split is fixed so that the metrics of successive models are comparable.
    """
    dataset = load_diabetes()
    x_train, x_test, y_train, y_test = train_test_split(
        dataset.data, dataset.target, test_size=test_size, random_state=random_state
    )
    return x_train, x_test, y_train, y_test, list(dataset.feature_names)


def train_model(x_train, y_train, alpha):
    return Ridge(alpha=alpha).fit(x_train, y_train)


def compute_metrics(model, x_test, y_test):
    predictions = model.predict(x_test)
    return {
        "mse": float(mean_squared_error(y_test, predictions)),
        "r2": float(r2_score(y_test, predictions)),
    }


def save_model(model, model_dir, x_sample, feature_names):
    """Save in MLflow format when MLflow is available, else joblib plus a signature file.

    Both formats hold the estimator in model/model.pkl, which score.py loads with joblib.
    Returns the format used.
    """
    model_dir = Path(model_dir)
    if mlflow is not None:
        mlflow.sklearn.save_model(
            model,
            str(model_dir),
            signature=infer_signature(x_sample, model.predict(x_sample)),
            input_example=x_sample[:2],
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_PICKLE,
        )
        return "mlflow"
    model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, model_dir / "model.pkl")
    signature = {
        "inputs": [{"name": name, "type": "double"} for name in feature_names],
        "outputs": [{"name": "disease_progression", "type": "double"}],
    }
    (model_dir / "signature.json").write_text(json.dumps(signature, indent=2))
    return "joblib"


def tracking_enabled():
    return mlflow is not None and bool(os.environ.get("MLFLOW_TRACKING_URI"))


def run(alpha, model_output):
    x_train, x_test, y_train, y_test, feature_names = load_data()
    model = train_model(x_train, y_train, alpha)
    metrics = compute_metrics(model, x_test, y_test)

    output = Path(model_output)
    output.mkdir(parents=True, exist_ok=True)
    model_format = save_model(model, output / "model", x_train, feature_names)
    summary = dict(metrics, alpha=alpha, n_train=len(y_train), n_test=len(y_test),
                   model_format=model_format)
    (output / "metrics.json").write_text(json.dumps(summary, indent=2))

    if tracking_enabled():
        mlflow.log_param("alpha", alpha)
        mlflow.log_metrics(metrics)
    return summary


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alpha", type=float, default=0.1, help="Ridge regularization strength")
    parser.add_argument("--model-output", required=True, help="folder to write the model and metrics to")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    summary = run(args.alpha, args.model_output)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
