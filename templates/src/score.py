"""Scoring script of the online deployment: the Azure ML inference server calls init() once
and run() for every request.

Request:  {"data": [[10 numbers], ...]}  the diabetes features (age, sex, bmi, bp, s1..s6),
                                         scaled as in scikit-learn's dataset
Response: {"predictions": [number, ...]}  one prediction per row

The model is the model.pkl that train.py writes (both its MLflow and its joblib format hold
one), found under AZUREML_MODEL_DIR, so scoring does not need MLflow. This file imports nothing
from the rest of src/ on purpose.
"""
import json
import logging
import math
import os
from pathlib import Path

import joblib
import numpy as np

try:  # provided by azureml-inference-server-http; absent in local tests
    from azureml.contrib.services.aml_response import AMLResponse
except ImportError:
    AMLResponse = None

N_FEATURES = 10
model = None


def find_model_file(model_dir):
    candidates = sorted(Path(model_dir).rglob("model.pkl"))
    if not candidates:
        raise FileNotFoundError(f"no model.pkl under {model_dir}")
    return candidates[0]


def init():
    global model
    model_dir = os.environ.get("AZUREML_MODEL_DIR")
    if not model_dir:
        raise RuntimeError("AZUREML_MODEL_DIR is not set")
    path = find_model_file(model_dir)
    model = joblib.load(path)
    logging.info("Loaded the model from %s", path)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def parse_rows(raw_data):
    """Validate the request and return the rows as a float matrix; raise ValueError if invalid."""
    payload = json.loads(raw_data) if isinstance(raw_data, (str, bytes, bytearray)) else raw_data
    if not isinstance(payload, dict) or "data" not in payload:
        raise ValueError('expected a JSON object {"data": [[10 numbers], ...]}')
    rows = payload["data"]
    if not isinstance(rows, list) or not rows:
        raise ValueError('"data" must be a non-empty list of rows')
    for index, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != N_FEATURES or not all(map(_is_number, row)):
            raise ValueError(f"row {index} must be a list of {N_FEATURES} finite numbers")
    return np.asarray(rows, dtype=float)


def run(raw_data):
    try:
        rows = parse_rows(raw_data)
    except ValueError as error:  # json.JSONDecodeError is a ValueError too
        message = {"error": str(error)}
        return AMLResponse(json.dumps(message), 400) if AMLResponse else message
    return {"predictions": [float(value) for value in model.predict(rows)]}
