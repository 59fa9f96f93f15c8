import json

import train

# Ridge(alpha=0.1) reaches mse ~2860 and r2 ~0.46 on this split; the target's variance is ~5900.
MSE_BOUND = 3200.0
R2_BOUND = 0.4


def test_split_is_fixed_and_held_out():
    x_train, x_test, y_train, y_test, feature_names = train.load_data()
    assert len(feature_names) == 10
    assert x_train.shape == (353, 10) and x_test.shape == (89, 10)
    again = train.load_data()
    assert (again[1] == x_test).all() and (again[3] == y_test).all()


def test_trained_model_is_under_the_mse_bound(trained):
    _, summary = trained
    assert summary["mse"] < MSE_BOUND
    assert summary["r2"] > R2_BOUND
    assert summary["n_test"] == 89


def test_output_holds_model_and_metrics(trained):
    output, summary = trained
    metrics = json.loads((output / "metrics.json").read_text())
    assert metrics == summary
    assert metrics["alpha"] == 0.1
    model_dir = output / "model"
    assert (model_dir / "model.pkl").is_file()
    if metrics["model_format"] == "mlflow":
        assert (model_dir / "MLmodel").is_file()
    else:
        signature = json.loads((model_dir / "signature.json").read_text())
        assert [column["name"] for column in signature["inputs"]][:4] == ["age", "sex", "bmi", "bp"]
        assert len(signature["inputs"]) == 10 and len(signature["outputs"]) == 1


def test_alpha_changes_the_model():
    x_train, x_test, y_train, y_test, _ = train.load_data()
    strong = train.compute_metrics(train.train_model(x_train, y_train, alpha=100.0), x_test, y_test)
    weak = train.compute_metrics(train.train_model(x_train, y_train, alpha=0.1), x_test, y_test)
    assert weak["mse"] < strong["mse"]


def test_main_parses_arguments(tmp_path, capsys):
    assert train.main(["--alpha", "0.5", "--model-output", str(tmp_path)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["alpha"] == 0.5
    assert (tmp_path / "metrics.json").is_file()
