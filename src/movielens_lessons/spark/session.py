"""One SparkSession per process, configured for a laptop by default and for a cluster on request.

``spark_session()`` checks Java first (Spark 4 needs Java 17 or newer) and turns a missing or old Java
into one :class:`~movielens_lessons.errors.SystemDependencyError` line instead of a py4j traceback.
The master is, in order: the ``master`` argument, ``$SPARK_MASTER``, ``local[*]``. Settings for a real
cluster (executor memory, shuffle partitions, a checkpoint folder for long ALS runs, any other
``spark.*`` key) come from ``conf`` (a benchmark config's ``[spark]`` table, for instance); the
defaults suit one machine: few shuffle partitions, no web UI, Arrow transfers from pandas.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from movielens_lessons.errors import ConfigError, MissingExtraError, SystemDependencyError

#: The oldest Java that Spark 4 runs on.
MIN_JAVA = 17
#: Settings for one machine; any key of ``conf`` wins over them.
LOCAL_DEFAULTS: dict[str, str] = {
    # 200 shuffle partitions (Spark's default) is 200 tiny tasks per shuffle on ml-latest-small
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",  # stage bars would break the CLI's own progress
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.memory": "4g",
}


#: Keys of a benchmark config's ``[spark]`` table, and the Spark setting each short key stands for.
SETTINGS_KEYS: dict[str, str | None] = {
    "master": None,
    "checkpoint_dir": None,
    "conf": None,
    "driver_memory": "spark.driver.memory",
    "executor_memory": "spark.executor.memory",
    "executor_cores": "spark.executor.cores",
    "shuffle_partitions": "spark.sql.shuffle.partitions",
}


def session_settings(
    table: Mapping[str, Any], master: str | None = None
) -> tuple[str | None, dict[str, str], str | None]:
    """``(master, conf, checkpoint_dir)`` from a config's ``[spark]`` table (``master`` argument
    first, e.g. ``--spark-master``): short keys become their ``spark.*`` settings, ``conf`` adds
    any other; a value in ``conf`` wins over a short key. Raises :class:`ConfigError` for an
    unknown key or a ``conf`` that is not a table of ``spark.*`` settings."""
    unknown = sorted(set(table) - set(SETTINGS_KEYS))
    if unknown:
        raise ConfigError(f"unknown key spark.{unknown[0]}; allowed: {', '.join(SETTINGS_KEYS)}")
    conf: dict[str, str] = {}
    for key, setting in SETTINGS_KEYS.items():
        if setting is not None and key in table:
            conf[setting] = str(table[key])
    extra = table.get("conf", {})
    if not isinstance(extra, Mapping):
        raise ConfigError(f"spark.conf must be a table of Spark settings; got {extra!r}")
    for key, value in extra.items():
        if not str(key).startswith("spark."):
            raise ConfigError(f"spark.conf: {key!r} is not a Spark setting (they start with 'spark.')")
        if isinstance(value, Mapping | list):
            raise ConfigError(f"spark.conf.{key!r} must be a single value; got {value!r}")
        conf[str(key)] = str(value).lower() if isinstance(value, bool) else str(value)
    url = master or table.get("master")
    checkpoint = table.get("checkpoint_dir")
    for name, value in (("master", url), ("checkpoint_dir", checkpoint)):
        if value is not None and (not isinstance(value, str) or not value):
            raise ConfigError(f"spark.{name} must be a non-empty string; got {value!r}")
    return url, conf, checkpoint


@contextlib.contextmanager
def quiet_pandas_check() -> Iterator[None]:
    """Silence pyspark's "does not yet fully support pandas >= 3" FutureWarning, which it gives on
    session start and ``mapInArrow`` (they import its pandas helpers): this project moves data
    between NumPy and Spark through Arrow only, never through pyspark's pandas conversions."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas",
                                FutureWarning)
        yield


def java_version(java: str | None = None) -> int:
    """The major version of ``java`` (default: ``$JAVA_HOME/bin/java``, else ``java`` on the PATH).

    Raises :class:`SystemDependencyError` naming what was looked for when there is none or its
    version cannot be read."""
    if java is None:
        home = os.environ.get("JAVA_HOME")
        java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if java is None or not Path(java).exists():
        raise SystemDependencyError(
            f"Spark needs Java {MIN_JAVA} or newer, and no java was found (JAVA_HOME is "
            f"{os.environ.get('JAVA_HOME') or 'unset'}, none on PATH); install it, e.g. "
            "apt-get install openjdk-17-jre-headless"
        )
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise SystemDependencyError(f"{java} -version failed: {exc}") from None
    # `java -version` writes to stderr: 'openjdk version "17.0.15"' or 'java version "1.8.0_402"'
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if match is None:
        raise SystemDependencyError(f"could not read the Java version from {java} -version")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def check_java(java: str | None = None) -> int:
    """The Java major version, or :class:`SystemDependencyError` when it is older than :data:`MIN_JAVA`."""
    major = java_version(java)
    if major < MIN_JAVA:
        raise SystemDependencyError(
            f"Spark needs Java {MIN_JAVA} or newer, found Java {major}; install a newer one "
            "(e.g. apt-get install openjdk-17-jre-headless) and point JAVA_HOME at it"
        )
    return major


def session_conf(
    master: str | None = None, conf: Mapping[str, Any] | None = None
) -> tuple[str | None, dict[str, str]]:
    """The master URL and the settings :func:`spark_session` would use (no Spark started).

    Under ``spark-submit`` (its JVM started this Python: ``$PYSPARK_GATEWAY_PORT`` is set) and with
    no ``master`` nor ``$SPARK_MASTER``, the master is None: the one given to ``spark-submit``
    stands, as do its settings, with none of this machine's defaults."""
    url = master or os.environ.get("SPARK_MASTER")
    if url is None and not os.environ.get("PYSPARK_GATEWAY_PORT"):
        url = "local[*]"
    settings = dict(LOCAL_DEFAULTS) if url is not None and url.startswith("local") else {
        "spark.sql.execution.arrow.pyspark.enabled": "true"
    }
    settings.update({str(k): str(v) for k, v in (conf or {}).items()})
    return url, settings


def spark_session(
    master: str | None = None,
    conf: Mapping[str, Any] | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    app_name: str = "movielens-lessons",
) -> Any:
    """The process's SparkSession, created on first use (later calls return the same one, whose
    master and settings were fixed when it started). ``checkpoint_dir`` cuts the lineage of long
    iterative jobs (ALS); it is set on every call. A local session starts with a temporary one
    (removed at exit); on a cluster give a folder every executor reaches (HDFS, S3, DBFS)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise MissingExtraError("pyspark", "spark") from None
    active = SparkSession.getActiveSession()
    if active is None:
        check_java()
        url, settings = session_conf(master, conf)
        builder = SparkSession.builder
        if url is not None:  # else spark-submit's master and --name stand
            builder = builder.master(url).appName(app_name)
        for key, value in settings.items():
            builder = builder.config(key, value)
        with quiet_pandas_check():
            active = builder.getOrCreate()
        active.sparkContext.setLogLevel("ERROR")
        if checkpoint_dir is None and (active.sparkContext.master or "").startswith("local"):
            # ALS checkpoints every 10 iterations only where a folder is set; without one, ~25
            # iterations already overflowed the JVM's stack with the lineage (measured)
            checkpoint_dir = tempfile.mkdtemp(prefix="movielens-spark-checkpoints-")
            atexit.register(shutil.rmtree, checkpoint_dir, True)
    if checkpoint_dir is not None:
        active.sparkContext.setCheckpointDir(str(checkpoint_dir))
    return active
