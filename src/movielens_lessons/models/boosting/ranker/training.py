"""Fitting the two-stage ranker's booster: one query group per user, early stopping on whole users.

The rows of one or more label windows (:meth:`XGBoostRanker.label_rows`) are stacked into query
groups (user × window). Only groups with a positive candidate carry a gradient, so only they are
trained on. Early stopping holds users out *whole* (in every window), so it never scores a user the
trees were fitted on: ``n_folds`` user folds are each held out once and the booster is refitted on
every user for the median of the folds' best rounds. One split of ~120 users stopped anywhere between
round 0 and round 130 depending on the seed (P2 NDCG@10 0.130-0.159); the folds' median does not.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from movielens_lessons.errors import DataValidationError


def stack_rows(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One training set from the rows of several label windows: ``x`` (n_rows, n_features),
    ``labels``, ``prior`` (base margins or None), ``qid`` (query group: window × user, contiguous)
    and ``row_user`` (internal user id of each row)."""
    offsets = np.cumsum([0] + [len(p["users"]) for p in parts[:-1]])
    return {
        "x": np.vstack([p["x"] for p in parts]),
        "labels": np.concatenate([p["labels"] for p in parts]),
        "prior": None if parts[0]["prior"] is None else np.concatenate([p["prior"] for p in parts]),
        "qid": np.concatenate([p["rows"] + o for p, o in zip(parts, offsets, strict=True)]),
        "row_user": np.concatenate([p["users"][p["rows"]] for p in parts]),
    }


def stage_one_metrics(rows: dict[str, Any], names: list[str], n_candidates: int) -> dict[str, Any]:
    """Candidate recall of one label window's ``rows``: of the union and of each retriever (by
    label in ``names``) alone; the ceiling of any re-ranking."""
    n_window = rows["n_window"]
    metrics: dict[str, Any] = {
        "n_candidates": int(n_candidates),
        "candidate_recall": float(rows["labels"].sum() / max(n_window, 1)),
        "candidates_per_user": float(len(rows["labels"]) / max(len(rows["users"]), 1)),
        "label_window_positives": int(n_window),
    }
    for j, name in enumerate(names):
        hits = rows["labels"][rows["ranks"][:, j] <= n_candidates].sum()
        metrics[f"recall_{name}"] = float(hits / max(n_window, 1))
    return metrics


def train_booster(
    params: dict[str, Any],
    rows: dict[str, Any],
    feature_names: list[str],
    *,
    n_users: int,
    n_folds: int,
    eval_fraction: float,
    n_estimators: int,
    early_stopping_rounds: int,
    random_state: int,
    nthread: int = 1,
    n_bags: int = 0,
) -> tuple[list[Any], dict[str, Any]]:
    """The boosters trained on stacked ``rows`` (:func:`stack_rows`), each cut to its best round,
    and their metrics (``best_iteration``, ``fold_best_iterations``, ``eval_ndcg@10``, ...).

    ``n_folds > 1``: each fold of users stops once, then one refit on every user for the median best
    round (``n_bags = 0``: one booster), or, with ``n_bags = B ≥ 1``, the fold boosters of ``B``
    fold assignments are kept instead (``B · n_folds`` boosters whose margins are to be averaged);
    ``n_folds = 1``: one held-out ``eval_fraction`` of the users, no refit. ``n_users``: the number
    of internal user ids (``row_user`` indexes it)."""
    import xgboost as xgb

    x, labels, qid, prior, row_user = (
        rows["x"], rows["labels"], rows["qid"], rows["prior"], rows["row_user"]
    )
    has_pos = np.bincount(qid, weights=labels, minlength=int(qid.max()) + 1) > 0
    rng = np.random.default_rng(random_state)
    group_users = np.unique(row_user[has_pos[qid]])
    if len(group_users) < 2:
        raise DataValidationError(
            f"only {len(group_users)} user(s) have a label-window item among their candidates; "
            "raise n_candidates or add retrievers"
        )

    def matrix(mask: np.ndarray) -> xgb.DMatrix:
        return xgb.DMatrix(
            x[mask],
            label=labels[mask],
            qid=qid[mask],
            base_margin=None if prior is None else prior[mask],
            feature_names=feature_names,
            nthread=nthread,
        )

    n_folds = min(n_folds, len(group_users))  # no fold without a user
    folds = []
    if n_folds > 1:
        for _ in range(max(n_bags, 1)):
            fold_of = np.full(n_users, -1)
            fold_of[rng.permutation(group_users)] = np.arange(len(group_users)) % n_folds
            folds += [fold_of == f for f in range(n_folds)]
    else:
        n_eval = min(max(1, round(len(group_users) * eval_fraction)), len(group_users) - 1)
        eval_users = np.zeros(n_users, dtype=bool)
        eval_users[rng.choice(group_users, n_eval, replace=False)] = True
        folds = [eval_users]
    bests, scores, boosters = [], [], []
    for b, held_users in enumerate(folds):
        history: dict[str, Any] = {}
        # bagged boosters differ in their row sampling too
        booster = xgb.train(
            params if n_bags == 0 else params | {"seed": int(params.get("seed", 0)) + b},
            matrix(has_pos[qid] & ~held_users[row_user]),
            num_boost_round=n_estimators,
            evals=[(matrix(has_pos[qid] & held_users[row_user]), "eval")],
            early_stopping_rounds=early_stopping_rounds,
            evals_result=history,
            verbose_eval=False,
        )
        bests.append(int(booster.best_iteration))
        scores.append(float(history["eval"]["ndcg@10"][booster.best_iteration]))
        # only the rounds up to the best one, so predictions need no iteration_range
        boosters.append(booster[: booster.best_iteration + 1])
    best = int(np.median(bests))
    if n_folds > 1 and n_bags == 0:  # one refit on every user replaces the fold boosters
        booster = xgb.train(params, matrix(has_pos[qid]), num_boost_round=best + 1)
        boosters = [booster[: best + 1]]
    metrics = {
        "best_iteration": best,
        "fold_best_iterations": bests,
        "eval_ndcg@10": float(np.mean(scores)),
        "n_users_with_labels": len(group_users),
        "n_folds": n_folds,
        "n_boosters": len(boosters),
    }
    return boosters, metrics
