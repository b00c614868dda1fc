"""Would more information lift the ranker on P1? Ceiling and transfer of candidate extra features.

A diagnostic beside ``ranker_transfer.py`` (same two worlds, same DCG@10 within the candidates,
relative to EASE's order). It appends experimental feature groups, each computed from the world's
history only, to the ranker's rows and reports, per group, the ceiling (5 folds of test-world users)
and the transfer (trained on the label window, scored on the test world):

- ``seq``: session co-occurrence: cosine of items rated at most 5 steps apart, summed over the
  user's history (and divided by the user's best);
- ``cohort``: share of the users who joined within a year of the user who rated the item, and its
  lift over the item's overall share (the site showed each cohort different films);
- ``centred``: EASE's item weights applied to the user's mean-centred ratings instead of 0/1;
- ``svd``: the explicit SVD's predicted rating;
- ``uknn``: user-kNN (cosine, 50 neighbours) score (and divided by the user's best).

    MOVIELENS_DATA_DIR=../shared/data python benchmarks/ranker_extra_features.py [--protocol P1]
"""

from __future__ import annotations

import argparse

import numpy as np
import scipy.sparse as sp

from ranker_transfer import ceiling_and_transfer, dcg_at_10

GROUPS = {
    "seq": ["seq5", "seq5_ratio"],
    "cohort": ["cohort_share", "cohort_lift"],
    "centred": ["ease_centred"],
    "svd": ["svd_pred"],
    "uknn": ["uknn", "uknn_ratio"],
}
YEAR_SECONDS = 365 * 86400


def session_similarity(history, window: int) -> sp.csr_matrix:
    """Cosine of item co-occurrence counted only within ``window`` steps of a user's time order."""
    order = np.lexsort((history.timestamps, history.users))
    u, i = history.users[order], history.items[order]
    left, right = [], []
    for step in range(1, window + 1):
        same = u[step:] == u[:-step]
        left += [i[:-step][same], i[step:][same]]
        right += [i[step:][same], i[:-step][same]]
    r, c = np.concatenate(left), np.concatenate(right)
    n = history.n_items
    counts = sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(n, n))
    norm = 1 / (np.sqrt(np.asarray(counts.sum(1)).ravel()) + 1e-9)
    return (sp.diags(norm) @ counts @ sp.diags(norm)).tocsr()


def extra_features(history, rows: dict) -> np.ndarray:
    """float32 (n_pairs, 8): the :data:`GROUPS` columns for ``rows`` (``label_rows``'s output)."""
    from movielens_lessons.models.registry import create_model

    users, row, item = rows["users"], rows["rows"], rows["items"]
    u = users[row]
    x = history.implicit().tocsr().astype(np.float32)
    cols = []

    def with_ratio(dense: np.ndarray) -> None:
        value = dense[row, item]
        cols.extend([value, value / np.maximum(dense.max(1)[row], 1e-9)])

    with_ratio((x[users] @ session_similarity(history, 5)).toarray())

    first = np.full(history.n_users, np.inf)
    np.minimum.at(first, history.users, history.timestamps.astype(float))
    known = np.isfinite(first)
    year = np.zeros(history.n_users, dtype=int)
    year[known] = ((first[known] - first[known].min()) // YEAR_SECONDS).astype(int)
    n_years = year.max() + 1
    per_year = sp.csr_matrix(
        (np.ones(history.n_interactions), (year[history.users], history.items)),
        shape=(n_years, history.n_items),
    ).toarray()
    members = np.bincount(year, minlength=n_years).astype(float)
    near, near_members = per_year.copy(), members.copy()  # the year before, of, and after
    near[1:] += per_year[:-1]
    near[:-1] += per_year[1:]
    near_members[1:] += members[:-1]
    near_members[:-1] += members[1:]
    share = near[year[u], item] / near_members[year[u]]
    overall = np.asarray(x.sum(0)).ravel() / history.n_users
    cols.extend([share, np.log((share + 1e-3) / (overall[item] + 1e-3))])

    ease = create_model("ease", max_items=3000).fit(history)
    ratings = history.explicit().tocsr().astype(np.float32)
    counts = np.maximum(np.diff(ratings.indptr), 1)
    mean = np.asarray(ratings.sum(1)).ravel() / counts
    centred = ratings[users].copy()
    centred.data -= np.repeat(mean[users], np.diff(centred.indptr)).astype(np.float32)
    dense = np.full((len(users), history.n_items), np.nan, np.float32)
    dense[:, ease.kept_items_] = np.asarray(centred[:, ease.kept_items_] @ ease.weights_)
    cols.append(dense[row, item])

    cols.append(create_model("svd").fit(history)._predict_pairs(u, item))

    unit = x.multiply(1 / np.sqrt(np.maximum(np.asarray(x.sum(1)), 1))).tocsr()
    sim = (unit[users] @ unit.T).toarray()
    sim[np.arange(len(users)), users] = 0
    sim[sim < np.partition(sim, -50, axis=1)[:, -50][:, None]] = 0
    with_ratio((sp.csr_matrix(sim) @ x).toarray())

    out = np.column_stack(cols).astype(np.float32)
    out[~np.isfinite(out)] = np.nan
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--protocol", choices=["P1", "P2"], default="P1")
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()

    from movielens_lessons.data.loading import load_dataset
    from movielens_lessons.data.splits import user_random_split, user_temporal_split
    from movielens_lessons.models.boosting.ranker.labels import label_window
    from movielens_lessons.models.boosting.ranker.model import XGBoostRanker

    data = load_dataset("ml-latest-small")
    split = (user_random_split(data, test_size=0.25, seed=42) if args.protocol == "P1"
             else user_temporal_split(data, test_size=0.2))
    model = XGBoostRanker(validation="random" if args.protocol == "P1" else "temporal")
    worlds = []
    for history, window in [
        (split.train, split.test),
        label_window(split.train, model.validation, model.validation_fraction, model.random_state),
    ]:
        rows = model.label_rows(history, window)
        rows["x"] = np.hstack([rows["x"], extra_features(history, rows)])
        worlds.append(rows)
    every = model.feature_names_ + [n for group in GROUPS.values() for n in group]
    params = model.booster_params() | {"nthread": 2}
    prior_dcg = dcg_at_10(worlds[0]["prior"], worlds[0]["labels"], worlds[0]["rows"]).mean()
    print(f"{args.protocol}: prior (EASE order) DCG@10 within candidates {prior_dcg:.4f}")
    print("gain over EASE's order, one figure per seed: ceiling | transfer")
    for group in ["none", *GROUPS, "all"]:
        added = {n for g, names in GROUPS.items() if group in (g, "all") for n in names}
        keep = [j for j, n in enumerate(every) if j < len(model.feature_names_) or n in added]
        names = [every[j] for j in keep]
        test_world, window_world = (dict(world, x=world["x"][:, keep]) for world in worlds)
        ceiling, transfer, _ = ceiling_and_transfer(
            test_world, window_world, names, params, args.seeds
        )

        def gain(values: list[float]) -> str:
            return " ".join(f"{100 * (v / prior_dcg - 1):+.1f}" for v in values)

        print(f"  {group:8s} ceiling {gain(ceiling):14s} | transfer {gain(transfer)}", flush=True)


if __name__ == "__main__":
    main()
