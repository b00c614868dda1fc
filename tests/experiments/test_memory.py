"""Peak-memory helpers: the process-tree RSS sees what a child process holds."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from movielens_lessons.experiments.memory import current_rss, tree_rss

pytestmark = pytest.mark.skipif(current_rss() is None, reason="needs Linux /proc")


def test_tree_rss_is_at_least_this_process() -> None:
    own, tree = current_rss(), tree_rss()
    assert own is not None and tree is not None
    assert tree >= own * 0.9  # sampled a moment apart


def test_tree_rss_counts_a_child_holding_memory() -> None:
    code = "import sys; b = bytearray(400 * 2**20); b[::4096] = b'x' * len(b[::4096]); " \
           "print('ready', flush=True); sys.stdin.read()"
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        before = time.perf_counter()
        with_child = tree_rss()
        assert with_child is not None and time.perf_counter() - before < 5
        own = current_rss()
        assert own is not None
        assert with_child - own > 350 * 2**20
        alone = tree_rss(child.pid)
        assert alone is not None and alone > 350 * 2**20
    finally:
        child.communicate("")


def test_tree_rss_of_a_finished_process_is_zero() -> None:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    assert tree_rss(done.pid) == 0
