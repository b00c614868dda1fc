"""``engine = "spark"`` configs: what Spark can run is checked before any work."""

from __future__ import annotations

import pytest

from movielens_lessons.errors import ConfigError
from movielens_lessons.experiments.config_loading import config_from_dict, load_config

BASE = {"engine": "spark", "dataset": {"name": "ml-latest-small"},
        "models": {"spark-als-implicit": {}}}


def test_the_shipped_spark_config_loads() -> None:
    config = load_config("experiments/ml-latest-small-spark.toml")
    assert config.engine == "spark"
    assert {m.name for m in config.models} == {"spark-most-popular", "spark-als-implicit",
                                               "spark-als"}
    assert config.to_dict()["engine"] == "spark"


@pytest.mark.parametrize(("change", "message"), [
    ({"models": {"ease": {}}}, "the ones that can are"),
    ({"evaluation": {"metrics": ["ndcg", "ild"]}}, "not 'ild'"),
    ({"protocols": [{"name": "r", "strategy": "random"}]}, "Spark splits by"),
    ({"engine": "dask"}, "engine must be one of local, spark"),
    ({"spark": {"executor_mem": "2g"}}, "unknown key spark.executor_mem"),
    ({"spark": {"conf": {"memory": "2g"}}}, "is not a Spark setting"),
])
def test_what_spark_cannot_run_is_refused(change: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config_from_dict({**BASE, **change}, "x.toml")


def test_spark_settings_become_spark_conf() -> None:
    from movielens_lessons.spark.session import session_settings

    master, conf, checkpoint = session_settings(
        {"master": "yarn", "executor_memory": "8g", "shuffle_partitions": 400,
         "checkpoint_dir": "hdfs:///tmp/ck", "conf": {"spark.executor.instances": 10,
                                                       "spark.sql.shuffle.partitions": 200}},
        master="local[2]")
    assert master == "local[2]" and checkpoint == "hdfs:///tmp/ck"
    assert conf == {"spark.executor.memory": "8g", "spark.sql.shuffle.partitions": "200",
                    "spark.executor.instances": "10"}
