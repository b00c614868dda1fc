"""``movielens-lessons serve``: a real uvicorn server on 127.0.0.1 answers over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from movielens_lessons import columns as C

from ..models.contract import cluster_frame
from .runner import run_cli


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_serve_answers_over_http(tmp_path: Path) -> None:
    ratings = tmp_path / "ratings.csv"
    cluster_frame().to_csv(ratings, index=False)
    ids = [*range(100, 110), *range(200, 210)]
    movies = tmp_path / "movies.csv"
    pd.DataFrame({C.ITEM: ids, C.TITLE: [f"Movie {m} (1999)" for m in ids],
                  C.GENRES: "Comedy"}).to_csv(movies, index=False)  # fmt: skip
    model = tmp_path / "ease"
    trained = run_cli("train", "ease", "--ratings", str(ratings), "--movies", str(movies),
                      "--out", str(model))  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "movielens_lessons", "serve", "--model", str(model), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ},
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):  # start-up: imports and the model load, a few seconds
            try:
                status, body = _get(f"{base}/health")
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, server.communicate()[1]
                time.sleep(0.1)
        else:
            pytest.fail("the server did not answer /health within 30 s")
        assert (status, body) == (200, {"status": "ok", "models": ["ease"]})
        status, body = _get(f"{base}/users/1/recommendations?k=3")
        assert status == 200 and len(body["items"]) == 3
        # the titles come from the movies.csv that `train --movies` left in the model folder
        assert body["items"][0]["title"].startswith("Movie ")
        status, body = _get(f"{base}/users/999/recommendations")
        assert status == 404 and "not known" in body["detail"]
    finally:
        server.terminate()
        server.communicate(timeout=10)  # waits, and closes the pipes
