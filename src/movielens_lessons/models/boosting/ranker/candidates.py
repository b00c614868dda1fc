"""Stage one of the two-stage ranker: each retriever's top-``N`` unseen items per user, united.

Every candidate keeps each retriever's view of it (score, and rank among the user's unseen items, or
``N + 1`` outside its top-``N``), which :mod:`~movielens_lessons.models.boosting.ranker.features` turns into
features.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from movielens_lessons.errors import ConfigError
from movielens_lessons.models.base import BaseRecommender
from movielens_lessons.models.registry import create_model
from movielens_lessons.models.topk import top_k

#: Users per block of candidate generation: bounds the dense (block, n_items) score rows.
USER_BLOCK = 256
#: Retriever settings used unless ``retriever_params`` overrides them: EASE pruned to the 3 000 most
#: popular items inverts a 3 000² Gram matrix instead of a 9 700² one (≈ 30× less work, fitted twice
#: per ``fit``) and measured the same NDCG@10 on ml-latest-small (P1 0.4037 vs 0.4038, P2 0.1300).
DEFAULT_RETRIEVER_PARAMS: dict[str, dict[str, Any]] = {"ease": {"max_items": 3000}}


@dataclass(frozen=True)
class Candidates:
    """The candidate pairs of a batch of users, and each retriever's view of them.

    ``rows``/``items``: (n_pairs,) row in the batch and internal item id, grouped by row (ascending);
    ``scores``/``ranks``: float32 (n_pairs, n_retrievers).
    """

    rows: np.ndarray
    items: np.ndarray
    scores: np.ndarray
    ranks: np.ndarray
    best: np.ndarray  # float32 (n_rows, n_retrievers): each retriever's best unseen score per user


def candidates(
    retrievers: list[BaseRecommender], users: np.ndarray, seen: sp.csr_matrix, n_candidates: int
) -> Candidates:
    """Union of each retriever's top-``n_candidates`` unseen items for internal ``users``.

    Users go in blocks of :data:`USER_BLOCK`, so the dense score rows stay small.
    """
    parts = [
        _candidates_block(retrievers, users[s : s + USER_BLOCK], seen, n_candidates)
        for s in range(0, len(users), USER_BLOCK)
    ]
    if not parts:
        empty = np.empty((0, len(retrievers)), np.float32)
        return Candidates(np.empty(0, np.int64), np.empty(0, np.int64), empty, empty, empty)
    offsets = np.cumsum([0] + [s for s in [USER_BLOCK] * (len(parts) - 1)])
    return Candidates(
        rows=np.concatenate([p.rows + o for p, o in zip(parts, offsets, strict=True)]),
        items=np.concatenate([p.items for p in parts]),
        scores=np.vstack([p.scores for p in parts]),
        ranks=np.vstack([p.ranks for p in parts]),
        best=np.vstack([p.best for p in parts]),
    )


def _candidates_block(
    retrievers: list[BaseRecommender], users: np.ndarray, seen: sp.csr_matrix, n_candidates: int
) -> Candidates:
    n_items = seen.shape[1]
    n = min(n_candidates, n_items)
    member = np.zeros((len(users), n_items), dtype=bool)
    all_scores, all_ranks, best = [], [], []
    seen_rows = seen[users]
    seen_r = np.repeat(np.arange(len(users)), np.diff(seen_rows.indptr))
    for retriever in retrievers:
        scores = retriever._score_blocks(users).astype(np.float32)
        work = np.nan_to_num(scores, nan=-np.inf, neginf=-np.inf).copy()
        work[seen_r, seen_rows.indices] = -np.inf
        top_items, top_scores = top_k(work, n)  # ties: lower item id first
        ranks = np.full(work.shape, n + 1, dtype=np.float32)
        valid = top_items >= 0
        r_idx = np.nonzero(valid)
        ranks[r_idx[0], top_items[valid]] = (r_idx[1] + 1).astype(np.float32)
        member |= ranks <= n
        all_scores.append(scores)
        all_ranks.append(ranks)
        top = top_scores[:, 0]
        best.append(np.where(np.isfinite(top), top, np.nan))
    rows, items = np.nonzero(member)
    return Candidates(
        rows=rows,
        items=items,
        scores=np.column_stack([s[rows, items] for s in all_scores]).astype(np.float32),
        ranks=np.column_stack([r[rows, items] for r in all_ranks]).astype(np.float32),
        best=np.column_stack(best).astype(np.float32),
    )


def parse_retrievers(spec: str, own_name: str) -> list[tuple[str, str]]:
    """``(label, registry name)`` per comma-separated entry of ``spec``: ``"seq=item-knn"`` is
    item-kNN labelled ``seq`` (so one model can serve twice with different settings); a bare name is
    its own label. ``own_name``: the ranker's registry name, which may not retrieve for itself."""
    specs = []
    for entry in (e.strip() for e in spec.split(",")):
        if not entry:
            continue
        label, _, model = (p.strip() for p in entry.partition("="))
        specs.append((label, model or label))
    if not specs:
        raise ConfigError("retrievers must name at least one model, e.g. 'ease,most-popular'")
    labels = [label for label, _ in specs]
    if len(set(labels)) != len(labels):
        raise ConfigError(
            f"retrievers must not repeat a label, got {spec!r}; "
            "write label=model (e.g. seq=item-knn) to use one model twice"
        )
    if any(not label for label in labels):
        raise ConfigError(f"a retriever label is empty in {spec!r}")
    if own_name in [model for _, model in specs]:
        raise ConfigError(f"{own_name} cannot be its own retriever")
    return specs


def make_retrievers(
    specs: list[tuple[str, str]], overrides: dict[str, dict[str, Any]] | None
) -> list[BaseRecommender]:
    """Unfitted retrievers for ``specs`` (:func:`parse_retrievers`): each registry model with
    :data:`DEFAULT_RETRIEVER_PARAMS`, then ``overrides[label]`` on top."""
    overrides = dict(overrides or {})
    labels = [label for label, _ in specs]
    unknown = set(overrides) - set(labels)
    if unknown:
        raise ConfigError(
            f"retriever_params names {sorted(unknown)}, which are not among the retrievers "
            f"{','.join(labels)!r}"
        )
    return [
        create_model(model, **{**DEFAULT_RETRIEVER_PARAMS.get(model, {}), **overrides.get(label, {})})
        for label, model in specs
    ]
