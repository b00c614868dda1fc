"""The SparkSession factory: master and settings, and one clear line for a missing or old Java."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from movielens_lessons.errors import SystemDependencyError
from movielens_lessons.spark.session import LOCAL_DEFAULTS, check_java, session_conf


def fake_java(tmp_path: Path, banner: str) -> str:
    """A ``java`` that prints ``banner`` to stderr, as ``java -version`` does."""
    path = tmp_path / "java"
    path.write_text(f"#!/bin/sh\necho '{banner}' >&2\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_java_17_and_newer_pass(tmp_path: Path) -> None:
    assert check_java(fake_java(tmp_path, 'openjdk version "17.0.15" 2025-04-15')) == 17
    assert check_java(fake_java(tmp_path, 'openjdk version "21" 2023-09-19')) == 21


def test_old_java_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(SystemDependencyError, match=r"needs Java 17 or newer, found Java 8"):
        check_java(fake_java(tmp_path, 'java version "1.8.0_402"'))


def test_missing_java_names_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    with pytest.raises(SystemDependencyError, match=r"no java was found \(JAVA_HOME is .*no-jdk"):
        check_java()
    with pytest.raises(SystemDependencyError, match="could not read the Java version"):
        check_java(fake_java(tmp_path, "something else"))


def test_master_from_argument_then_environment_then_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPARK_MASTER", raising=False)
    assert session_conf()[0] == "local[*]"
    monkeypatch.setenv("SPARK_MASTER", "spark://head:7077")
    url, conf = session_conf()
    assert url == "spark://head:7077"
    assert "spark.driver.memory" not in conf  # the laptop defaults are for local masters only
    assert session_conf("local[2]")[0] == "local[2]"


def test_under_spark_submit_its_master_stands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPARK_MASTER", raising=False)
    monkeypatch.setenv("PYSPARK_GATEWAY_PORT", "40000")  # spark-submit's JVM started this Python
    url, conf = session_conf()
    assert url is None and "spark.driver.memory" not in conf
    assert session_conf("local[2]")[0] == "local[2]"  # an explicit master still wins
    monkeypatch.setenv("SPARK_MASTER", "yarn")
    assert session_conf()[0] == "yarn"


def test_config_settings_win_over_the_local_defaults() -> None:
    _, conf = session_conf("local[2]", {"spark.sql.shuffle.partitions": 64, "spark.x": "y"})
    assert conf["spark.sql.shuffle.partitions"] == "64" and conf["spark.x"] == "y"
    assert conf["spark.ui.enabled"] == LOCAL_DEFAULTS["spark.ui.enabled"]


@pytest.mark.spark
def test_one_session_per_process(spark, tmp_path: Path) -> None:
    from movielens_lessons.spark.session import spark_session

    assert spark_session() is spark  # later calls reuse it, whatever they ask
    spark_session(checkpoint_dir=tmp_path / "ckpt")
    assert spark.sparkContext.getCheckpointDir() is not None
