"""What a run needs recorded to be understood and redone: versions, threads, machine, source commit."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

#: Distributions whose versions can change a result or a timing.
PACKAGES = (
    "movielens-lessons", "numpy", "scipy", "pandas", "pyarrow", "duckdb", "scikit-learn",
    "implicit", "lightfm-next", "numba", "optuna", "matplotlib", "threadpoolctl", "mlflow",
)  # fmt: skip
#: Environment variables that set the size of native thread pools.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)  # fmt: skip


def package_versions() -> dict[str, str | None]:
    """Installed version of each of :data:`PACKAGES` (``None`` where not installed)."""
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def thread_pools() -> list[dict[str, Any]]:
    """Native thread pools (BLAS, OpenMP) and their sizes, as threadpoolctl sees them."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("user_api", "internal_api", "num_threads", "version")
    return [{k: info.get(k) for k in keep} for info in threadpool_info()]


def git_commit() -> str | None:
    """The source checkout's commit (with ``+dirty`` when it has local changes), if it is one."""
    root = Path(__file__).resolve().parents[3]
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "-uno"],
                               capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty.strip() else "")


def cpu_model() -> str | None:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else :func:`platform.processor`)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def memory_total_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def environment() -> dict[str, Any]:
    """Everything about this process that a reader needs next to its results (JSON-plain)."""
    return {
        "recorded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_total_bytes": memory_total_bytes(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "thread_variables": {v: os.environ.get(v) for v in THREAD_VARIABLES},
        "thread_pools": thread_pools(),
        "packages": package_versions(),
        "git_commit": git_commit(),
        "argv": sys.argv,
    }


def describe_machine(env: dict[str, Any]) -> str:
    """One line: ``"Linux x86_64, 2 CPUs (AMD EPYC), 23 GiB, Python 3.11.9"``."""
    mem = env.get("memory_total_bytes")
    mem_s = f", {mem / 2**30:.0f} GiB" if mem else ""
    cpu = f" ({env['processor']})" if env.get("processor") else ""
    return (f"{env.get('platform', '?').split('-')[0]} {env.get('machine')}, "
            f"{env.get('cpu_count')} CPUs{cpu}{mem_s}, Python {env.get('python')}")
