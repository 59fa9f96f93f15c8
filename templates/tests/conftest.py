import json
from pathlib import Path

import pytest

import score
import train

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_REQUEST = PROJECT_ROOT / "data" / "sample-request.json"


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """train.py's output folder for the default alpha, and its summary."""
    output = tmp_path_factory.mktemp("model_output")
    summary = train.run(alpha=0.1, model_output=output)
    return output, summary


@pytest.fixture
def sample_request_path():
    return SAMPLE_REQUEST


@pytest.fixture
def sample_request(sample_request_path):
    return json.loads(sample_request_path.read_text())


@pytest.fixture
def scoring(trained, monkeypatch):
    """score.py, initialized like the deployment does, with the trained model."""
    output, _ = trained
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(output))
    score.init()
    return score
