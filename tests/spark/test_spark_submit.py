"""The documented cluster recipe, on this machine: ``spark-submit`` runs the package's ``__main__``
with ``benchmark --config`` and the master given to spark-submit is the one the job uses."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from movielens_lessons.data.synth import synthesize

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def _spark_submit() -> Path:
    pyspark = importlib.util.find_spec("pyspark")
    if pyspark is None or pyspark.origin is None:
        pytest.skip("pyspark is not installed")
    return Path(pyspark.origin).parent / "bin" / "spark-submit"


def test_benchmark_under_spark_submit_uses_its_master(tmp_path: Path) -> None:
    ratings = synthesize(60, 40, 1200, seed=3).ratings
    ratings.to_csv(tmp_path / "ratings.csv", index=False)
    (tmp_path / "job.toml").write_text(f'''
engine = "spark"
[dataset]
name = "{tmp_path / 'ratings.csv'}"
[evaluation]
k = [10]
metrics = ["ndcg", "coverage"]
n_bootstrap = 20
[spark]
shuffle_partitions = 2
[[protocols]]
name = "user-temporal"
strategy = "user-temporal"
test_size = 0.2
[models.spark-most-popular]
''')
    main = importlib.util.find_spec("movielens_lessons.__main__")
    assert main is not None and main.origin is not None
    env = {k: v for k, v in os.environ.items() if k not in ("SPARK_MASTER", "PYSPARK_GATEWAY_PORT")}
    env["PYSPARK_PYTHON"] = env["PYSPARK_DRIVER_PYTHON"] = sys.executable
    out = tmp_path / "run"
    done = subprocess.run(
        [str(_spark_submit()), "--master", "local[1]", "--driver-memory", "1g", main.origin,
         "benchmark", "--config", str(tmp_path / "job.toml"), "--out", str(out), "--no-store"],
        env=env, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    info = json.loads((out / "run.json").read_text())
    found = json.dumps(info)
    assert '"spark_master": "local[1]"' in found  # spark-submit's master, not local[*]
    assert (out / "leaderboard.csv").is_file()
    assert "spark-most-popular" in done.stdout
