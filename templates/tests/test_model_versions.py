import io
import json

import model_versions

# Shaped like `az ml model list --name diabetes-ridge -o json` (fields trimmed).
VERSIONS = [
    {"name": "diabetes-ridge", "version": "2", "tags": {"build_id": "41", "mse": "2890.5"}},
    {"name": "diabetes-ridge", "version": "10", "tags": {"build_id": "57", "mse": "2856.5"}},
    {"name": "diabetes-ridge", "version": "9", "tags": {"build_id": "50", "mse": "2870.0"}},
    {"name": "diabetes-ridge", "version": "manual", "tags": {"mse": "1.0"}},
]


def run(argv, versions, capsys):
    assert model_versions.main(argv, stdin=io.StringIO(json.dumps(versions))) == 0
    return capsys.readouterr()


def test_production_metric_is_the_latest_numeric_versions_tag(capsys):
    # version 10 is the latest, not "9" (string order) nor the hand-named one
    assert model_versions.production_metric(VERSIONS, "mse") == "2856.5"
    output = run(["production-metric", "--metric", "mse"], VERSIONS, capsys)
    assert output.out == "2856.5\n"
    assert "version 10" in output.err


def test_no_production_model_gives_none(capsys):
    assert run(["production-metric", "--metric", "mse"], [], capsys).out == "none\n"
    assert model_versions.production_metric([{"version": "3", "tags": {}}], "mse") == "none"
    assert model_versions.production_metric([{"version": "3", "tags": None}], "r2") == "none"


def test_registered_by_finds_this_builds_version(capsys):
    assert run(["registered-by", "--build-id", "50"], VERSIONS, capsys).out == "9\n"


def test_registered_by_is_empty_when_the_build_registered_nothing(capsys):
    assert run(["registered-by", "--build-id", "58"], VERSIONS, capsys).out == "\n"
    assert model_versions.registered_by([], 1) == ""
