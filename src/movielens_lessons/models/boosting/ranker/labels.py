"""What the two-stage ranker learns from: a label window carved out of the training data.

The window must ask the question the evaluation asks: the latest interactions for a temporal holdout
("what comes next"), a seeded random share for a random one ("what is missing"). Everything the
ranker's rows are built from (retrievers, feature tables, seen items) comes from the data before it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.splits import user_random_split, user_temporal_split
from movielens_lessons.evaluation.relevance import is_member

#: The label windows :func:`label_window` can carve.
VALIDATIONS = ("temporal", "random", "mixed")


def label_window(
    dataset: Dataset, validation: str, fraction: float, seed: int
) -> tuple[Dataset, Dataset]:
    """(data before the window, the label window): each user's latest ``fraction`` of interactions
    (``"temporal"``), a seeded random share (``"random"``), or half of each (``"mixed"``: the latest
    half-share, then a random half-share of the rest)."""
    if validation == "temporal":
        split = user_temporal_split(dataset, test_size=fraction)
        return split.train, split.test
    if validation == "random":
        split = user_random_split(dataset, test_size=fraction, seed=seed)
        return split.train, split.test
    late = user_temporal_split(dataset, test_size=fraction / 2)
    rest = user_random_split(late.train, test_size=(fraction / 2) / (1 - fraction / 2), seed=seed)
    in_before = is_member(dataset.users, dataset.items, all_seen(rest.train))
    return dataset.subset(in_before), dataset.subset(~in_before)


def window_labels(users: np.ndarray, items: np.ndarray, positives: Dataset) -> np.ndarray:
    """float32 1.0 where internal (``users[j]``, ``items[j]``) is one of ``positives``' pairs, else 0.0."""
    return is_member(users, items, all_seen(positives)).astype(np.float32)


def all_seen(dataset: Dataset) -> sp.csr_matrix:
    """Binary user × item CSR of every interaction (positive or not): none is a candidate."""
    return sp.csr_matrix(
        (np.ones(dataset.n_interactions, dtype=np.float32), (dataset.users, dataset.items)),
        shape=(dataset.n_users, dataset.n_items),
    )
