"""Smoke-test the deployed endpoint: post the sample request and fail unless the answer holds
one numeric prediction per input row.

    ENDPOINT_KEY=<key> python scripts/smoke_check.py --scoring-uri <uri> --payload data/sample-request.json

The key is read from the environment only, so it never shows in a command line or a log.
Standard library only: it runs with the agent's python3, no virtual environment needed.
"""
import argparse
import json
import math
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

RETRIED_HTTP_CODES = {404, 429, 500, 502, 503, 504}  # a fresh deployment may need a moment


class SmokeTestError(Exception):
    pass


def check_answer(body, expected_rows):
    """Return the predictions, or raise SmokeTestError when the answer is not as expected."""
    try:
        answer = json.loads(body)
        if isinstance(answer, str):  # some inference servers encode the JSON answer twice
            answer = json.loads(answer)
    except ValueError as error:
        raise SmokeTestError(f"the answer is not JSON: {error}") from None
    predictions = answer.get("predictions") if isinstance(answer, dict) else None
    if not isinstance(predictions, list):
        raise SmokeTestError(f"the answer has no 'predictions' list: {str(answer)[:300]}")
    if len(predictions) != expected_rows:
        raise SmokeTestError(f"expected {expected_rows} predictions, got {len(predictions)}")
    for value in predictions:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise SmokeTestError(f"prediction {value!r} is not a finite number")
    return predictions


def post(uri, body, key, timeout):
    request = urllib.request.Request(
        uri,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def check_endpoint(uri, payload_path, key, attempts=5, delay=10.0, timeout=30.0):
    payload = json.loads(Path(payload_path).read_text())
    rows = len(payload["data"])
    body = json.dumps(payload).encode()
    for attempt in range(1, attempts + 1):
        try:
            return check_answer(post(uri, body, key, timeout), rows)
        except urllib.error.HTTPError as error:
            problem = f"HTTP {error.code}: {error.read()[:300]!r}"
            if error.code not in RETRIED_HTTP_CODES:
                raise SmokeTestError(problem) from None
        except (urllib.error.URLError, OSError) as error:
            problem = f"cannot reach {uri}: {getattr(error, 'reason', error)}"
        if attempt == attempts:
            raise SmokeTestError(f"{problem} (after {attempts} attempts)")
        print(f"Attempt {attempt}/{attempts} failed ({problem}); retrying in {delay:g}s", flush=True)
        time.sleep(delay)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scoring-uri", required=True)
    parser.add_argument("--payload", default="data/sample-request.json")
    parser.add_argument("--attempts", type=int, default=5)
    parser.add_argument("--delay", type=float, default=10.0, help="seconds between attempts")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    key = os.environ.get("ENDPOINT_KEY", "")
    if not key:
        print("SMOKE TEST FAILED: set ENDPOINT_KEY to the endpoint key", file=sys.stderr)
        return 2
    try:
        predictions = check_endpoint(args.scoring_uri, args.payload, key, args.attempts, args.delay)
    except SmokeTestError as error:
        print(f"SMOKE TEST FAILED: {error}", file=sys.stderr)
        return 1
    print(f"Smoke test passed: {len(predictions)} predictions {predictions}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
