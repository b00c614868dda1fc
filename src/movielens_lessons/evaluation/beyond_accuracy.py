"""Beyond accuracy: coverage, Gini, novelty, popularity, diversity, personalization and serendipity.

Inputs are the same arrays as for the ranking metrics: ``rec_items`` ``(n_users, K_max)`` of internal item
ids (-1 padding; -2 an item unknown to training, which counts as a recommended slot but is outside the
training catalogue) and ``item_counts`` ``(n_items,)``, the number of training users who interacted with
each item. The training catalogue is the items with ``item_counts ≥ 1``.

Per-user metrics return ``(n_users, len(ks))``; catalogue-level ones (coverage, Gini, personalization)
return ``(len(ks),)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from movielens_lessons.errors import ConfigError
from movielens_lessons.evaluation.ranking import check_ks
from movielens_lessons.evaluation.relevance import is_member


def exposure(rec_items: np.ndarray, n_items: int, k: int) -> np.ndarray:
    """How many lists recommend each item within the top ``k``, shape ``(n_items,)`` int64."""
    top = np.asarray(rec_items)[:, :k]
    top = top[top >= 0]
    return np.bincount(top, minlength=n_items)


def gini_index(x: np.ndarray) -> float:
    r"""Gini index of non-negative values: with x sorted ascending and i = 1..n,
    G = Σ_i (2i − n − 1) x_i / (n Σ_i x_i). 0 = all equal; (n − 1)/n = all mass on one value.
    0 for an all-zero vector (nothing to be unequal about)."""
    x = np.sort(np.asarray(x, dtype=np.float64))
    n, total = len(x), x.sum()
    if n == 0 or total == 0:
        return 0.0
    i = np.arange(1, n + 1, dtype=np.float64)
    return float(np.sum((2 * i - n - 1) * x) / (n * total))


def coverage(rec_items: np.ndarray, item_counts: np.ndarray, ks=(10,)) -> np.ndarray:
    r"""coverage@K = \|{i in catalogue : i is in some top-K list}\| / \|catalogue\|, shape ``(len(ks),)``."""
    catalogue = np.asarray(item_counts) > 0
    n_cat = max(int(catalogue.sum()), 1)
    return np.array(
        [((exposure(rec_items, len(catalogue), k) > 0) & catalogue).sum() / n_cat
         for k in check_ks(ks)]
    )


def gini(rec_items: np.ndarray, item_counts: np.ndarray, ks=(10,)) -> np.ndarray:
    r"""gini@K: Gini index (see :func:`gini_index`) of top-K exposure counts over the whole training
    catalogue, zero-exposure items included, shape ``(len(ks),)``."""
    catalogue = np.asarray(item_counts) > 0
    return np.array(
        [gini_index(exposure(rec_items, len(catalogue), k)[catalogue]) for k in check_ks(ks)]
    )


def personalization(rec_items: np.ndarray, ks=(10,)) -> np.ndarray:
    r"""personalization@K = 1 − mean over user pairs u < v of \|L_u ∩ L_v\| / K, shape ``(len(ks),)``.

    Exact over all pairs of users with a non-empty list, in O(n_items): Σ_{u<v} \|L_u ∩ L_v\| =
    Σ_i e_i (e_i − 1) / 2, where e_i is the exposure of item i. Unknown items (-2) are never shared.
    Dividing by K (not by √(\|L_u\|·\|L_v\|) as a cosine would) is what makes this identity exact; for
    full lists the two agree. NaN with fewer than two users.
    """
    rec_items = np.asarray(rec_items)
    n_items = int(rec_items.max()) + 1 if rec_items.size else 0
    out = []
    for k in check_ks(ks):
        n = int((rec_items[:, :k] != -1).any(axis=1).sum())
        if n < 2:
            out.append(np.nan)
            continue
        e = exposure(rec_items, max(n_items, 0), k).astype(np.float64)
        shared = float(np.sum(e * (e - 1) / 2))
        out.append(1.0 - shared / (n * (n - 1) / 2 * k))
    return np.array(out)


def _slot_values(rec_items: np.ndarray, per_item: np.ndarray, unknown_value: float, ks):
    """Per user and K: (sum of ``per_item`` over valid slots, number of valid slots)."""
    rec_items = np.asarray(rec_items)
    ks = check_ks(ks)
    top = rec_items[:, : ks[-1]]
    if top.shape[1] == 0:
        z = np.zeros((len(top), len(ks)))
        return z, z
    cols = np.minimum(np.asarray(ks), top.shape[1]) - 1
    # ranks as rows: the running sum over ranks is then one whole-vector add per rank, in the same
    # order as a row-wise cumsum (identical rounding) but without materialising every partial sum
    t = np.ascontiguousarray(top.T)
    valid = t != -1
    vals = np.where(t >= 0, per_item[np.maximum(t, 0)], unknown_value)
    vals[~valid] = 0.0
    sums = np.empty((len(top), len(ks)))
    counts = np.empty((len(top), len(ks)))
    acc = vals[0].copy()
    n = valid[0].astype(np.int64)
    for c in range(top.shape[1]):
        if c:
            acc += vals[c]
            n += valid[c]
        for j in np.flatnonzero(cols == c):
            sums[:, j], counts[:, j] = acc, n
    return sums, counts


def self_information(item_counts: np.ndarray, n_train_users: int) -> np.ndarray:
    """−log2(p_i), p_i = share of training users who interacted with i; an item no training user saw
    is treated as seen by one (its novelty is the largest possible, log2(n_train_users))."""
    p = np.maximum(np.asarray(item_counts, dtype=np.float64), 1.0) / max(n_train_users, 1)
    return -np.log2(p)


def novelty_parts(rec_items, item_counts, n_train_users: int, ks=(10,)):
    r"""Per user: (Σ over the user's top-K slots of −log2 p_i, number of slots), each
    ``(n_users, len(ks))``. novelty@K = Σ_users Σ_slots −log2 p_i / Σ_users slots."""
    info = self_information(item_counts, n_train_users)
    return _slot_values(rec_items, info, float(np.log2(max(n_train_users, 1))), ks)


def novelty(rec_items, item_counts, n_train_users: int, ks=(10,)) -> np.ndarray:
    r"""Per-user novelty@K = mean over the user's top-K slots of −log2(p_i), ``(n_users, len(ks))``;
    NaN for an empty list. The overall novelty@K is the mean over all slots (:func:`novelty_parts`)."""
    s, n = novelty_parts(rec_items, item_counts, n_train_users, ks)
    with np.errstate(invalid="ignore"):
        return np.where(n > 0, s / np.maximum(n, 1), np.nan)


def arp_parts(rec_items, item_counts, ks=(10,)):
    r"""Per user: (Σ over top-K slots of the item's training popularity (users), number of slots).
    arp@K = Σ popularity / Σ slots; unknown items have popularity 0."""
    return _slot_values(rec_items, np.asarray(item_counts, dtype=np.float64), 0.0, ks)


def arp(rec_items, item_counts, ks=(10,)) -> np.ndarray:
    r"""Per-user average recommendation popularity: mean training user count of the top-K items."""
    s, n = arp_parts(rec_items, item_counts, ks)
    return np.where(n > 0, s / np.maximum(n, 1), np.nan)


def feature_masks(features: Sequence[Sequence[str]] | Sequence[frozenset]) -> np.ndarray:
    """One uint64 bit mask per item from its feature set (≤ 64 distinct features, e.g. genres)."""
    vocab = sorted({f for fs in features for f in fs})
    if len(vocab) > 64:
        raise ConfigError(f"ILD supports at most 64 distinct item features; got {len(vocab)}")
    bit = {f: np.uint64(1) << np.uint64(j) for j, f in enumerate(vocab)}
    masks = np.zeros(len(features), dtype=np.uint64)
    for idx, fs in enumerate(features):
        for f in fs:
            masks[idx] |= bit[f]
    return masks


def ild(rec_items: np.ndarray, masks: np.ndarray, ks=(10,), chunk_size: int = 4096) -> np.ndarray:
    r"""Intra-list diversity@K = mean over pairs a < b of the user's top-K items of 1 − J(G_a, G_b),
    J the Jaccard index of feature (genre) sets; J(∅, ∅) = 1. Unknown items have no features.
    Shape ``(n_users, len(ks))``; NaN for lists with fewer than two items. ``masks``: uint64 bit mask per
    internal item (:func:`feature_masks`)."""
    rec_items = np.asarray(rec_items)
    ks = check_ks(ks)
    k_max = min(ks[-1], rec_items.shape[1])
    top = rec_items[:, :k_max]
    out = np.full((len(top), len(ks)), np.nan)
    a_idx, b_idx = np.triu_indices(k_max, k=1)
    # pairs with b < k are the pairs within the top k; sorting by b makes them a prefix
    order = np.argsort(b_idx, kind="stable")
    a_idx, b_idx = a_idx[order], b_idx[order]
    n_pairs_k = [int((b_idx < k).sum()) for k in ks]
    for start in range(0, len(top), chunk_size):
        t = top[start : start + chunk_size]
        m = np.where(t >= 0, masks[np.maximum(t, 0)], np.uint64(0))
        valid = t != -1
        ma, mb = m[:, a_idx], m[:, b_idx]
        inter = np.bitwise_count(ma & mb).astype(np.float64)
        union = np.bitwise_count(ma | mb).astype(np.float64)
        dist = np.where(union > 0, 1.0 - inter / np.maximum(union, 1), 0.0)
        pair_ok = valid[:, a_idx] & valid[:, b_idx]
        dist = np.where(pair_ok, dist, 0.0)
        cum_d = np.cumsum(dist, axis=1)
        cum_n = np.cumsum(pair_ok, axis=1)
        for j, npk in enumerate(n_pairs_k):
            if npk == 0:
                continue
            n = cum_n[:, npk - 1]
            out[start : start + chunk_size, j] = np.where(
                n > 0, cum_d[:, npk - 1] / np.maximum(n, 1), np.nan
            )
    return out


def popular_rank(item_counts: np.ndarray) -> np.ndarray:
    """Position of each item in the most-popular order (0 = most popular; ties by lower item id)."""
    order = np.lexsort((np.arange(len(item_counts)), -np.asarray(item_counts)))
    pos = np.empty(len(order), dtype=np.int64)
    pos[order] = np.arange(len(order))
    return pos


def in_popular_top_k(
    rows_users: np.ndarray, items: np.ndarray, k: int, item_counts: np.ndarray,
    train: sp.csr_matrix,
) -> np.ndarray:
    """Whether ``items[j]`` is in the most-popular top-``k`` list of user ``rows_users[j]``.

    That list is what a popularity recommender shows the user: the k most popular training items the
    user has not interacted with in training. Item i is in it iff fewer than k unseen items rank above
    it: ``popular_rank[i] − #(user's training items ranked above i) < k`` and i is not a training item.
    """
    pos = popular_rank(item_counts)
    n = len(pos)
    # Only a user's training items at popular positions < k + (their number of training items) can
    # matter: an item further down has p − above ≥ k whatever is above it, and is never in the list.
    # Keeping just those (a fraction of the training data) makes the sort below much smaller.
    if getattr(train, "format", None) != "csr":
        train = sp.csr_matrix(train)
    per_user = np.diff(train.indptr)
    row = np.repeat(np.arange(train.shape[0], dtype=np.int64), per_user)
    col_pos = pos[train.indices]
    near = col_pos < k + per_user[row]
    # sorted keys user * n + popular position of each kept training item of each user
    keys = np.sort(row[near] * n + col_pos[near])
    u = rows_users.astype(np.int64)
    p = pos[np.maximum(items, 0)]
    q = u * n + p
    at = np.searchsorted(keys, q)
    above = at - np.searchsorted(keys, u * n)
    # an item the user has seen in training is a kept key itself whenever it could count (p < k + n_u)
    seen = keys[np.minimum(at, max(len(keys) - 1, 0))] == q if len(keys) else np.zeros(len(q), bool)
    return (items >= 0) & (p - above < k) & ~seen


def serendipity(
    rec_items: np.ndarray,
    relevant: sp.csr_matrix,
    users: np.ndarray,
    train: sp.csr_matrix,
    item_counts: np.ndarray,
    ks=(10,),
    hits: np.ndarray | None = None,
) -> np.ndarray:
    r"""serendipity@K = \|{i in top-K : i relevant and i not in the user's most-popular top-K}\| / K.

    ``users``: internal user id of each row (to look up the user's training items in ``train``,
    CSR ``(n_all_users, n_items)``). Shape ``(n_users, len(ks))``; an empty list scores 0.
    """
    ks = check_ks(ks)
    rec_items = np.asarray(rec_items)
    k_max = min(ks[-1], rec_items.shape[1])
    top = rec_items[:, :k_max]
    if hits is None:
        rows = np.broadcast_to(np.arange(len(top))[:, None], top.shape)
        hits = is_member(rows, top, relevant)
    hits = hits[:, :k_max]
    out = np.zeros((len(top), len(ks)))
    r, c = np.nonzero(hits)
    for j, k in enumerate(ks):
        sel = c < k
        pop = in_popular_top_k(np.asarray(users)[r[sel]], top[r[sel], c[sel]], k, item_counts, train)
        out[:, j] = np.bincount(r[sel][~pop], minlength=len(top)) / k
    return out
