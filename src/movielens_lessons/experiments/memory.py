"""Peak memory of a block of code run in this process, measured two ways.

- ``traced``: :mod:`tracemalloc`'s peak of Python and NumPy allocations made inside the block (NumPy
  reports its array buffers to tracemalloc). Exact for what it sees, blind to native libraries that
  allocate with their own ``malloc`` (implicit's C++ and LightFM's C loops, OpenBLAS work buffers).
- ``rss_delta``: the resident set size sampled every few milliseconds by a background thread, minus
  the RSS at the start of the block. Sees native allocations too, but under-counts when the block reuses
  pages an earlier block freed (the allocator keeps them) and can miss a spike shorter than the period.

``peak_mb`` is the larger of the two: a lower bound on the block's real peak, good for comparing models
run one after another in the same process. (``resource.getrusage`` only gives the process-wide peak,
which never goes down, so it cannot separate models run in one process.)
"""

from __future__ import annotations

import os
import threading
import tracemalloc
from dataclasses import dataclass
from types import TracebackType


def _page_size() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 4096


_PAGE = _page_size()


def _rss_of(pid: int | str) -> int | None:
    """Resident bytes of process ``pid`` (``"self"``: this one) from ``/proc/PID/statm``, or None."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def current_rss() -> int | None:
    """Resident set size of this process in bytes (Linux ``/proc/self/statm``), or None."""
    return _rss_of("self")


@dataclass
class PeakMemory:
    """Context manager: ``with PeakMemory() as m: ...`` then ``m.peak_mb``, ``m.traced_mb``, ``m.rss_mb``."""

    interval: float = 0.005
    traced_mb: float = 0.0
    rss_mb: float | None = None

    def __enter__(self) -> PeakMemory:
        self._was_tracing = tracemalloc.is_tracing()
        if not self._was_tracing:
            tracemalloc.start()
        tracemalloc.reset_peak()
        self._base_traced = tracemalloc.get_traced_memory()[0]
        self._base_rss = current_rss()
        self._peak_rss = self._base_rss or 0
        self._stop = threading.Event()
        self._thread = None
        if self._base_rss is not None:
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            rss = current_rss()
            if rss is not None and rss > self._peak_rss:
                self._peak_rss = rss

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        rss = current_rss()
        if rss is not None and rss > self._peak_rss:
            self._peak_rss = rss
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        peak = tracemalloc.get_traced_memory()[1]
        if not self._was_tracing:
            tracemalloc.stop()
        self.traced_mb = max(0, peak - self._base_traced) / 2**20
        if self._base_rss is not None:
            self.rss_mb = max(0, self._peak_rss - self._base_rss) / 2**20

    @property
    def peak_mb(self) -> float:
        """The larger of the traced peak and the RSS growth, in MiB."""
        return max(self.traced_mb, self.rss_mb or 0.0)


def _parent_of(pid: str) -> int | None:
    """The parent pid from ``/proc/PID/stat`` (the command name may hold spaces and parentheses)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return int(fh.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None  # the process ended while we looked


def tree_rss(pid: int | None = None) -> int | None:
    """Resident bytes of process ``pid`` (default: this one) and all its descendants, from Linux
    ``/proc``; None where there is no ``/proc``. A local Spark session is such a tree (the JVM is
    a child of the Python driver, its Python workers children of the JVM), so this is its whole
    footprint. Pages shared by forked children are counted once per process: an upper bound."""
    root = os.getpid() if pid is None else pid
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return None
    children: dict[int, list[int]] = {}
    for name in pids:
        parent = _parent_of(name)
        if parent is not None:
            children.setdefault(parent, []).append(int(name))
    total, todo = 0, [root]
    while todo:
        current = todo.pop()
        rss = _rss_of(current)
        if rss is None:
            continue  # the process ended while we looked
        total += rss
        todo.extend(children.get(current, ()))
    return total
