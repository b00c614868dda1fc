"""Accuracy of top-K lists: precision, recall, hit rate, nDCG, MAP, MRR (several K at once) and AUC.

Every function takes recommended internal item ids ``rec_items`` of shape ``(n_users, K_max)`` (best first,
padded with -1; unknown items -2 are never hits) and relevant sets as CSR ``(n_users, n_items)`` in the same
row order, and returns per-user values of shape ``(n_users, len(ks))``. Hits are computed once for the
largest K; each K is then a column of cumulative sums. A user whose list is empty scores 0; a user with no
relevant item is the caller's business (``evaluate`` only scores users with ≥ 1 relevant item: recall and
nDCG are 0/0 for the others).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata

from movielens_lessons.errors import ConfigError
from movielens_lessons.evaluation.relevance import hit_matrix

RANKING_METRICS = ("precision", "recall", "hit_rate", "ndcg", "map", "mrr")


def check_ks(ks: int | Sequence[int], available: int | None = None) -> tuple[int, ...]:
    """Sorted distinct cutoffs; each must be a positive integer."""
    ks = (ks,) if isinstance(ks, (int, np.integer)) else tuple(ks)
    if not ks or any(int(k) != k or k < 1 for k in ks):
        raise ConfigError(f"k must be positive integers; got {ks!r}")
    return tuple(sorted({int(k) for k in ks}))


def _pad_to(rec_items: np.ndarray, k_max: int) -> np.ndarray:
    """The first ``k_max`` columns, padded with -1 when the lists are shorter."""
    rec_items = np.asarray(rec_items)
    if rec_items.shape[1] >= k_max:
        return rec_items[:, :k_max]
    pad = np.full((rec_items.shape[0], k_max - rec_items.shape[1]), -1, dtype=rec_items.dtype)
    return np.hstack([rec_items, pad])


def ranking_metrics(
    rec_items: np.ndarray,
    relevant: sp.csr_matrix,
    ks: int | Sequence[int] = (10,),
    metrics: Sequence[str] = RANKING_METRICS,
    hits: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """All requested ranking metrics, ``{name: (n_users, len(ks)) float64}``, from one hit matrix.

    Pass ``hits`` (bool ``(n_users, ≥ max(ks))``) to reuse an already computed hit matrix.
    """
    ks = check_ks(ks)
    unknown = set(metrics) - set(RANKING_METRICS)
    if unknown:
        raise ConfigError(f"unknown ranking metric(s) {sorted(unknown)}; known: {RANKING_METRICS}")
    k_max = ks[-1]
    if hits is None:
        hits = hit_matrix(_pad_to(rec_items, k_max), relevant)
    hits = hits[:, :k_max]
    n_rel = np.diff(relevant.indptr).astype(np.float64)
    cols = np.asarray(ks) - 1
    cum = np.cumsum(hits, axis=1, dtype=np.int64)  # hits within the first i+1 ranks
    hits_k = cum[:, cols].astype(np.float64)
    out: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        if "precision" in metrics:
            out["precision"] = hits_k / np.asarray(ks, dtype=np.float64)
        if "recall" in metrics:
            out["recall"] = np.where(n_rel[:, None] > 0, hits_k / n_rel[:, None], 0.0)
        if "hit_rate" in metrics:
            out["hit_rate"] = (hits_k > 0).astype(np.float64)
        if "ndcg" in metrics:
            disc = 1.0 / np.log2(np.arange(2, k_max + 2, dtype=np.float64))
            dcg = np.cumsum(hits * disc, axis=1)[:, cols]
            ideal_table = np.concatenate([[0.0], np.cumsum(disc)])  # IDCG of m relevant items
            m = np.minimum(n_rel[:, None], np.asarray(ks)[None, :]).astype(np.int64)
            idcg = ideal_table[m]
            out["ndcg"] = np.where(idcg > 0, dcg / idcg, 0.0)
        if "map" in metrics:
            ranks = np.arange(1, k_max + 1, dtype=np.float64)
            ap_sum = np.cumsum(np.where(hits, cum / ranks, 0.0), axis=1)[:, cols]
            denom = np.minimum(n_rel[:, None], np.asarray(ks)[None, :])
            out["map"] = np.where(denom > 0, ap_sum / denom, 0.0)
        if "mrr" in metrics:
            any_hit = hits.any(axis=1)
            first = np.where(any_hit, hits.argmax(axis=1) + 1, np.iinfo(np.int64).max)
            rr = np.where(any_hit, 1.0 / np.maximum(first, 1), 0.0)
            out["mrr"] = np.where(first[:, None] <= np.asarray(ks)[None, :], rr[:, None], 0.0)
    return out


def precision(rec_items: np.ndarray, relevant: sp.csr_matrix, ks=(10,)) -> np.ndarray:
    r"""precision@K = hits@K / K, shape ``(n_users, len(ks))``. Short lists still divide by K."""
    return ranking_metrics(rec_items, relevant, ks, ("precision",))["precision"]


def recall(rec_items: np.ndarray, relevant: sp.csr_matrix, ks=(10,)) -> np.ndarray:
    r"""recall@K = hits@K / \|relevant\|; 0 for a user without relevant items."""
    return ranking_metrics(rec_items, relevant, ks, ("recall",))["recall"]


def hit_rate(rec_items: np.ndarray, relevant: sp.csr_matrix, ks=(10,)) -> np.ndarray:
    r"""hit_rate@K = 1 if hits@K ≥ 1 else 0."""
    return ranking_metrics(rec_items, relevant, ks, ("hit_rate",))["hit_rate"]


def ndcg(rec_items: np.ndarray, relevant: sp.csr_matrix, ks=(10,)) -> np.ndarray:
    r"""nDCG@K = DCG@K / IDCG@K with binary gains.

    DCG@K = Σ_{i≤K} rel_i / log2(i + 1); IDCG@K = Σ_{i ≤ min(\|relevant\|, K)} 1 / log2(i + 1).
    """
    return ranking_metrics(rec_items, relevant, ks, ("ndcg",))["ndcg"]


def average_precision(rec_items: np.ndarray, relevant: sp.csr_matrix, ks=(10,)) -> np.ndarray:
    r"""AP@K = Σ_{i≤K} precision@i · rel_i / min(\|relevant\|, K); its mean over users is MAP@K.

    The denominator min(\|relevant\|, K) (as in RecBole and Microsoft Recommenders) lets a perfect list
    score 1 even when a user has more than K relevant items; trec_eval/ranx divide by \|relevant\|.
    """
    return ranking_metrics(rec_items, relevant, ks, ("map",))["map"]


def reciprocal_rank(rec_items: np.ndarray, relevant: sp.csr_matrix, ks=(10,)) -> np.ndarray:
    r"""RR@K = 1 / rank of the first hit if it is within K, else 0; its mean over users is MRR@K."""
    return ranking_metrics(rec_items, relevant, ks, ("mrr",))["mrr"]


def auc(
    scorer: Callable[[np.ndarray], np.ndarray],
    users: np.ndarray,
    relevant: sp.csr_matrix,
    exclude: sp.csr_matrix | None = None,
    *,
    chunk_size: int = 1024,
) -> np.ndarray:
    r"""Per-user ROC AUC of the full score vector over candidate items, shape ``(n_users,)``.

    Candidates are all items not in ``exclude`` (row r: the user's training items). With P relevant and N
    other candidates, AUC = (Σ_{p∈P} rank(p) − P(P+1)/2) / (P · N), ranks ascending over candidates with
    ties averaged (so a tie counts ½). NaN where P = 0 or N = 0. ``scorer(users)`` must return finite
    scores ``(len(users), n_items)``; it is called on chunks of ``chunk_size`` users.
    """
    users = np.asarray(users)
    n_items = relevant.shape[1]
    out = np.full(len(users), np.nan)
    for start in range(0, len(users), chunk_size):
        stop = min(start + chunk_size, len(users))
        s = np.asarray(scorer(users[start:stop]), dtype=np.float64)
        if s.shape != (stop - start, n_items):
            raise ConfigError(f"scorer returned shape {s.shape}; expected {(stop - start, n_items)}")
        if not np.isfinite(s).all():
            raise ConfigError("scorer returned non-finite scores; AUC needs finite scores")
        s = s.copy()
        n_ex = np.zeros(stop - start)
        if exclude is not None:
            ex = exclude[start:stop].tocoo()
            s[ex.row, ex.col] = -np.inf  # ranks below every candidate
            n_ex = np.bincount(ex.row, minlength=stop - start).astype(np.float64)
        ranks = rankdata(s, axis=1) - n_ex[:, None]  # rank among candidates, 1 = lowest
        rel = relevant[start:stop].tocoo()
        if exclude is not None:  # a relevant item that is also excluded is not a candidate
            keep = ~np.isneginf(s[rel.row, rel.col])
            rel_row, rel_col = rel.row[keep], rel.col[keep]
        else:
            rel_row, rel_col = rel.row, rel.col
        p = np.bincount(rel_row, minlength=stop - start).astype(np.float64)
        rank_sum = np.bincount(rel_row, weights=ranks[rel_row, rel_col], minlength=stop - start)
        n = n_items - n_ex - p
        with np.errstate(divide="ignore", invalid="ignore"):
            val = (rank_sum - p * (p + 1) / 2) / (p * n)
        out[start:stop] = np.where((p > 0) & (n > 0), val, np.nan)
    return out
