import json

import pytest

import evaluate
import register
import train


@pytest.fixture(scope="module")
def two_models():
    """Metrics of a good model (alpha=0.1) and a much worse one (alpha=100)."""
    x_train, x_test, y_train, y_test, _ = train.load_data()
    metrics = {}
    for alpha in (0.1, 100.0):
        model = train.train_model(x_train, y_train, alpha)
        metrics[alpha] = train.compute_metrics(model, x_test, y_test)
    return metrics[0.1], metrics[100.0]


@pytest.mark.parametrize("metric", ["mse", "r2"])
def test_picks_the_better_of_two_models(two_models, metric):
    good, bad = two_models
    assert evaluate.decide(good, bad[metric], metric)["register"] is True
    assert evaluate.decide(bad, good[metric], metric)["register"] is False


def test_first_model_always_registers(two_models):
    _, bad = two_models
    decision = evaluate.decide(bad, evaluate.parse_baseline("none"), "mse")
    assert decision["register"] is True
    assert decision["baseline_value"] is None


def test_an_equal_model_is_not_registered():
    assert evaluate.decide({"mse": 3000.0}, 3000.0, "mse")["register"] is False
    assert evaluate.decide({"r2": 0.4}, 0.4, "r2")["register"] is False


@pytest.mark.parametrize("value,expected", [("none", None), ("", None), (" null ", None),
                                            ("2856.5", 2856.5), (3000, 3000.0)])
def test_parse_baseline(value, expected):
    assert evaluate.parse_baseline(value) == expected


def test_bad_baseline_or_metric_is_refused():
    with pytest.raises(ValueError):
        evaluate.parse_baseline("not-a-number")
    with pytest.raises(ValueError):
        evaluate.parse_baseline("nan")
    with pytest.raises(ValueError):
        evaluate.decide({"mae": 1.0}, None, "mae")


def test_main_writes_the_decision_the_pipeline_reads(trained, tmp_path):
    output, summary = trained
    worse = summary["mse"] - 1.0  # production is slightly better than the new model
    assert evaluate.main(["--model-output", str(output), "--baseline", str(worse),
                          "--decision", str(tmp_path)]) == 0
    decision = json.loads((tmp_path / "decision.json").read_text())
    assert decision["register"] is False
    assert decision["metric"] == "mse"


class FakeRegistry:
    def __init__(self):
        self.calls = []

    def register(self, model_dir, name, tags):
        self.calls.append((model_dir, name, tags))
        return "7"


def write_decision(folder, register_it):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "decision.json").write_text(json.dumps({"register": register_it, "reason": "test"}))
    return folder


def test_registers_with_build_id_and_metric_tags(trained, tmp_path):
    output, summary = trained
    registry = FakeRegistry()
    outcome = register.register(output, write_decision(tmp_path / "d", True), "diabetes-ridge", 1234,
                                registry=registry)
    assert outcome["registered"] is True and outcome["version"] == "7"
    (model_dir, name, tags), = registry.calls
    assert model_dir == output / "model" and name == "diabetes-ridge"
    assert tags["build_id"] == "1234"
    assert float(tags["mse"]) == summary["mse"] and float(tags["r2"]) == summary["r2"]


def test_does_not_register_when_not_better(trained, tmp_path):
    output, _ = trained
    registry = FakeRegistry()
    outcome = register.register(output, write_decision(tmp_path / "d", False), "diabetes-ridge", 1,
                                registry=registry)
    assert outcome == {"registered": False, "name": "diabetes-ridge", "reason": "test"}
    assert registry.calls == []


def test_registration_needs_mlflow_when_better(trained, tmp_path, monkeypatch):
    output, _ = trained
    monkeypatch.setattr(register, "mlflow", None)
    with pytest.raises(RuntimeError, match="MLflow"):
        register.register(output, write_decision(tmp_path / "d", True), "m", 1)
