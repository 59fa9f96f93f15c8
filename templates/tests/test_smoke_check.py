import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

import score
import smoke_check


class FakeEndpoint(BaseHTTPRequestHandler):
    """Answers like the deployment would, using score.run(); checks the key."""
    key = "test-key"
    answer_override = None

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Authorization") != f"Bearer {self.key}":
            self.send_response(401)
            self.end_headers()
            return
        answer = self.answer_override if self.answer_override is not None else score.run(body)
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def endpoint(scoring):
    server = HTTPServer(("127.0.0.1", 0), FakeEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api/v1/endpoint/diabetes/score"
    FakeEndpoint.answer_override = None
    server.shutdown()
    server.server_close()


def test_smoke_check_passes_against_a_working_endpoint(endpoint, sample_request_path, monkeypatch, capsys):
    monkeypatch.setenv("ENDPOINT_KEY", FakeEndpoint.key)
    code = smoke_check.main(["--scoring-uri", endpoint, "--payload", str(sample_request_path)])
    output = capsys.readouterr()
    assert code == 0, output.err
    assert "3 predictions" in output.out
    assert FakeEndpoint.key not in output.out + output.err


def test_smoke_check_fails_on_a_wrong_answer(endpoint, sample_request_path, monkeypatch, capsys):
    FakeEndpoint.answer_override = {"predictions": [1.0, 2.0]}  # one row short
    monkeypatch.setenv("ENDPOINT_KEY", FakeEndpoint.key)
    assert smoke_check.main(["--scoring-uri", endpoint, "--payload", str(sample_request_path),
                             "--attempts", "1"]) == 1
    assert "expected 3 predictions, got 2" in capsys.readouterr().err


def test_smoke_check_fails_on_a_wrong_key(endpoint, sample_request_path, monkeypatch, capsys):
    monkeypatch.setenv("ENDPOINT_KEY", "wrong-key")
    assert smoke_check.main(["--scoring-uri", endpoint, "--payload", str(sample_request_path)]) == 1
    output = capsys.readouterr()
    assert "HTTP 401" in output.err
    assert "wrong-key" not in output.out + output.err


def test_smoke_check_needs_the_key(monkeypatch):
    monkeypatch.delenv("ENDPOINT_KEY", raising=False)
    assert smoke_check.main(["--scoring-uri", "http://127.0.0.1:9/score"]) == 2


@pytest.mark.parametrize("body", ['{"predictions": [1, "2", 3]}', '{"result": [1, 2, 3]}',
                                  '"{\\"predictions\\": [1, 2]}"', "<html>", '{"predictions": [1, 2, NaN]}'])
def test_check_answer_rejects_malformed_answers(body):
    with pytest.raises(smoke_check.SmokeTestError):
        smoke_check.check_answer(body, 3)


def test_check_answer_accepts_a_double_encoded_answer():
    assert smoke_check.check_answer(json.dumps(json.dumps({"predictions": [1, 2.5]})), 2) == [1, 2.5]
