import json

import pytest

import score


def test_one_prediction_per_row_of_the_sample_request(scoring, sample_request):
    answer = scoring.run(json.dumps(sample_request))
    predictions = answer["predictions"]
    assert len(predictions) == len(sample_request["data"]) == 3
    assert all(isinstance(value, float) for value in predictions)
    # disease progression one year after baseline: the dataset's targets lie in 25..346
    assert all(0 < value < 400 for value in predictions)
    json.dumps(answer)  # the inference server must be able to serialize it


def test_accepts_bytes_and_parsed_payloads(scoring, sample_request):
    as_bytes = scoring.run(json.dumps(sample_request).encode())
    assert as_bytes == scoring.run(sample_request)


@pytest.mark.parametrize("payload", [
    "not json",
    json.dumps({"rows": [[0.0] * 10]}),
    json.dumps({"data": []}),
    json.dumps({"data": [[0.0] * 9]}),
    json.dumps({"data": [[0.0] * 9 + ["x"]]}),
    json.dumps({"data": [[0.0] * 9 + [True]]}),
    '{"data": [[0, 0, 0, 0, 0, 0, 0, 0, 0, NaN]]}',
])
def test_bad_requests_get_an_error(scoring, payload):
    assert "error" in scoring.run(payload)


def test_init_fails_clearly_without_a_model(tmp_path, monkeypatch):
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError):
        score.init()
