"""The three-user worked example shared by the metric tests (numbers worked by hand in each test)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp


def csr(rows: list[list[int]], n_items: int) -> sp.csr_matrix:
    """Binary CSR with row r holding the items ``rows[r]``."""
    indptr = np.cumsum([0, *[len(r) for r in rows]])
    indices = np.array([i for r in rows for i in sorted(r)], dtype=np.int32)
    m = sp.csr_matrix((np.ones(len(indices), np.float32), indices, indptr), shape=(len(rows), n_items))
    m.sort_indices()
    return m


@pytest.fixture
def example():
    """3 users, 6 items. Lists (best first): u0 [0, 1, 2], u1 [3, 4, pad], u2 [5, 0, 1].
    Relevant: u0 {1, 4}, u1 {3}, u2 {2}. Hits: u0 at rank 2, u1 at rank 1, u2 none.
    Training: counts per item [5, 3, 0, 1, 1, 2] among 8 users (item 2 is outside the catalogue).
    Genres: 0 {A}, 1 {A, B}, 2 {C}, 3 {}, 4 {}, 5 {B}."""
    return {
        "rec": np.array([[0, 1, 2], [3, 4, -1], [5, 0, 1]]),
        "relevant": csr([[1, 4], [3], [2]], 6),
        "counts": np.array([5, 3, 0, 1, 1, 2]),
        "n_train_users": 8,
        "genres": [{"A"}, {"A", "B"}, {"C"}, set(), set(), {"B"}],
    }


@pytest.fixture
def make_csr():
    return csr
