"""A two-stage recommender: cheap retrievers propose candidates, an XGBoost ranker re-orders them.

Training (``fit``), on a training set ``D`` with timestamps:

1. *Label window.* The last ``validation_fraction`` of each user's interactions in ``D`` (by time) is
   the label window ``W``; the rest is ``D⁻``. Retrievers are fitted on ``D⁻`` only and the feature tables
   are computed from ``D⁻`` only: a feature that saw ``W`` would know the answer (the first leakage trap).
   ``validation`` picks the window: latest (``"temporal"``), seeded random, or half of each; with
   ``n_windows > 1`` several seeded windows are stacked as extra query groups.
2. *Candidates.* Each retriever's top-``n_candidates`` unseen items per user, united; a candidate is
   positive when the user interacted with it in ``W``. ``training_metrics_["candidate_recall"]`` is the
   share of ``W``'s positives that made it into the candidates: the ceiling of any re-ranking.
3. *Ranker.* ``xgboost.train`` with ``objective`` (``rank:ndcg`` by default), one query group per user,
   early stopping on NDCG@10 of held-out users (whole users, so no group is split between fitting
   and stopping): ``n_folds`` user folds, each held out once, then a refit on every user for the
   median of the folds' best rounds (``n_folds=1``: one held-out ``eval_fraction``). The base margin is ``-ln`` of the ``prior`` retriever's rank,
   so the trees correct that retriever's order instead of rebuilding it (stabler early stopping).
4. *Refit.* Retrievers and feature tables are recomputed on all of ``D``: at recommendation time the
   label window is ordinary history, and the "now" of every time feature is ``D``'s last timestamp.

Scores (``_score``): a candidate's score is the ranker's margin, its corrections to the prior scaled
by ``shrink`` (it equals the sum of its ``pred_contribs`` explanation, scaled the same way); every
other item scores below the user's lowest candidate (by training popularity), so ``recommend`` fills
lists from candidates first and the base class's seen-item exclusion applies unchanged. Saved:
``booster.ubj`` (XGBoost's own UBJSON), each retriever as its own model folder under
``retrievers/<name>/``, feature tables in ``arrays.npz``; the retriever list is in ``model.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError, DataValidationError
from movielens_lessons.features.items import slug
from movielens_lessons.models.base import BaseRecommender
from movielens_lessons.models.boosting.ranker.candidates import (
    Candidates,
    candidates,
    make_retrievers,
    parse_retrievers,
)
from movielens_lessons.models.boosting.ranker.features import (
    FeatureTables,
    feature_names,
    feature_tables,
    pair_features,
)
from movielens_lessons.models.boosting.ranker.files import (
    load_boosters,
    load_retrievers,
    save_parts,
)
from movielens_lessons.models.boosting.ranker.labels import all_seen, label_window, window_labels
from movielens_lessons.models.boosting.ranker.params import booster_params, check_params
from movielens_lessons.models.boosting.ranker.prior import (
    PriorColumns,
    prior_columns,
    prior_margins,
    shrink_corrections,
)
from movielens_lessons.models.boosting.ranker.training import (
    stack_rows,
    stage_one_metrics,
    train_booster,
)


class XGBoostRanker(BaseRecommender):
    """Two-stage ranking: union of retrievers' top-``n_candidates``, re-ranked by XGBoost.

    ``retrievers``: comma-separated registry names (fitted with their shipped defaults, overridden per
    name by ``retriever_params``, e.g. ``{"ease": {"regularization": 100}}``). ``validation_fraction``:
    each user's share of training interactions used as labels: the latest ones (``validation=
    "temporal"``, the default: "what comes next") or a seeded random share (``"random"``: "what is
    missing", which matches a per-user random evaluation split; ``"mixed"``: half of each). Which one
    fits is a property of the evaluation protocol, so it is a setting, never inferred from data.
    ``prior``: a retriever (``"first"``, the default: the first listed) whose rank becomes the
    booster's base margin (``-prior_weight · ln rank``), so the trees learn corrections to that
    retriever's order ("" = none); or ``{label: weight}``, a blend: ``prior_weight · Σ weight ·
    score / the user's best score`` over those retrievers (a missing score counts 0; ratios floored
    at :data:`~.prior.BLEND_RATIO_FLOOR`), whose order can beat each retriever's. ``shrink`` in [0, 1]
    scales those corrections at scoring time, ``prior + shrink · (margin - prior)`` (1: as learned;
    0: the prior's order), because corrections learned in the label window, where the retrievers saw less
    data, overrule the prior more than they should on the full data. ``drop_features``: comma-separated
    feature names left out (ablations). ``recent_days``: window of the
    recent-popularity features. Booster: ``n_estimators`` rounds at most, ``learning_rate``,
    ``max_depth``, ``min_child_weight``, ``subsample``, ``objective``; ``early_stopping_rounds`` on each of
    ``n_folds`` folds of users, then a refit on all for the folds' median best round (``n_folds=1``:
    one held-out ``eval_fraction`` of users, no refit); ``n_bags = B ≥ 1`` keeps instead the fold
    boosters of ``B`` fold assignments and averages their margins (bagging: steadier corrections,
    ``B · n_folds`` boosters to store); ``num_threads`` (1 by default: on a loaded 2-core machine
    two OpenMP threads were many times slower than one for identical trees). Learned:
    ``boosters_``, ``retrievers_``, ``tables_``, ``feature_names_``, ``training_metrics_``.
    """

    name = "xgboost-ranker"
    feedback = "implicit"
    #: Settings whose right value is a property of the evaluation protocol (the split the ranker is
    #: judged on), never of the data: benchmark configs set them per protocol
    #: (``[models.xgboost-ranker.protocols.P]``), and ``train`` notes when they are left unset.
    protocol_settings: ClassVar[tuple[str, ...]] = ("validation",)

    def __init__(
        self,
        retrievers: str = "ease,als,item-knn,most-popular",
        retriever_params: dict[str, dict[str, Any]] | None = None,
        n_candidates: int = 100,
        validation_fraction: float = 0.2,
        validation: str = "temporal",
        drop_features: str = "",
        recent_days: float = 90.0,
        objective: str = "rank:ndcg",
        n_estimators: int = 400,
        learning_rate: float = 0.05,
        max_depth: int = 6,
        min_child_weight: float = 1.0,
        subsample: float = 0.8,
        early_stopping_rounds: int = 40,
        eval_fraction: float = 0.2,
        n_folds: int = 5,
        random_state: int = 42,
        num_threads: int = 1,
        n_windows: int = 1,
        prior: str | dict[str, float] = "first",
        prior_weight: float = 1.0,
        shrink: float = 1.0,
        n_bags: int = 0,
    ) -> None:
        self.retrievers = retrievers
        self.retriever_params = retriever_params
        self.n_candidates = n_candidates
        self.validation_fraction = validation_fraction
        self.validation = validation
        self.drop_features = drop_features
        self.recent_days = recent_days
        self.objective = objective
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.early_stopping_rounds = early_stopping_rounds
        self.eval_fraction = eval_fraction
        self.n_folds = n_folds
        self.random_state = random_state
        self.num_threads = num_threads
        self.n_windows = n_windows
        self.prior = prior
        self.prior_weight = prior_weight
        self.shrink = shrink
        self.n_bags = n_bags

    # --- configuration ---------------------------------------------------------------------------

    def protocol_note(self) -> str:
        """One line on which evaluation split this ranker's label window (``validation``) matches."""
        matches = {
            "temporal": "each user's latest ratings, \"what comes next\", which matches a temporal "
                        "split, not a per-user random one",
            "random": "a random share of each user's ratings, \"what is missing\", which matches a "
                      "per-user random split, not a temporal one",
            "mixed": "half latest, half random ratings of each user, which matches neither a "
                     "temporal nor a per-user random split exactly",
        }
        what = matches.get(str(self.validation), "not a known window")
        return f"{self.name}'s label window is validation={self.validation!r}: {what}"

    def retriever_specs(self) -> list[tuple[str, str]]:
        """``(label, registry name)`` per retriever (see :func:`parse_retrievers`)."""
        return parse_retrievers(str(self.retrievers), self.name)

    def retriever_names(self) -> list[str]:
        """The retrievers' labels, in order (feature-name prefixes, artifact folder names)."""
        return [label for label, _ in self.retriever_specs()]

    def _make_retrievers(self) -> list[BaseRecommender]:
        return make_retrievers(self.retriever_specs(), self.retriever_params)

    def _check_params(self) -> None:
        check_params(self.get_params(), self.retriever_names())

    def booster_params(self) -> dict[str, Any]:
        """The ``xgboost.train`` parameters of this ranker's settings."""
        return booster_params(self.get_params())

    # --- fitting ---------------------------------------------------------------------------------

    def _fit(self, dataset: Dataset) -> None:
        self._check_params()
        if dataset.timestamps is None:
            raise DataValidationError(
                f"{self.name} carves its label window by time and needs timestamps; this dataset has none"
            )
        self._select_features()
        # one or more label windows, each with stage one refitted on the data before it; the
        # features come from that data only
        parts = [self._window_rows(dataset, w) for w in range(int(self.n_windows))]
        metrics = stage_one_metrics(parts[0], self.retriever_names(), int(self.n_candidates))
        metrics["n_windows"] = int(self.n_windows)
        self.boosters_, fitted = train_booster(
            self.booster_params(),
            stack_rows(parts),
            self.feature_names_,
            n_users=dataset.n_users,
            n_folds=int(self.n_folds),
            eval_fraction=float(self.eval_fraction),
            n_estimators=int(self.n_estimators),
            early_stopping_rounds=int(self.early_stopping_rounds),
            random_state=int(self.random_state),
            nthread=int(self.num_threads),
            n_bags=int(self.n_bags),
        )
        # stage one again, on everything: the label window is ordinary history at test time
        self.retrievers_ = [r.fit(dataset) for r in self._make_retrievers()]
        self.tables_ = feature_tables(dataset, self.recent_days)
        self.training_metrics_ = metrics | fitted

    def _select_features(self) -> None:
        """``keep_columns_`` / ``feature_names_``: every feature but those in ``drop_features``."""
        every = feature_names([slug(n) for n in self.retriever_names()])
        dropped = {d.strip() for d in str(self.drop_features).split(",") if d.strip()}
        unknown = dropped - set(every)
        if unknown:
            raise ConfigError(
                f"drop_features names unknown features {sorted(unknown)}; known: {', '.join(every)}"
            )
        self.keep_columns_ = np.array([j for j, n in enumerate(every) if n not in dropped])
        self.feature_names_ = [every[j] for j in self.keep_columns_]

    def _window_rows(self, dataset: Dataset, w: int) -> dict[str, Any]:
        """Training rows of label window ``w`` (seeded ``random_state + w``)."""
        before, window = self._label_window(dataset, int(self.random_state) + w)
        if window.n_interactions == 0 or before.n_interactions == 0:
            raise DataValidationError(
                f"{self.name}: the label window is empty; users need at least two interactions"
            )
        return self.label_rows(before, window)

    def label_rows(self, history: Dataset, window: Dataset) -> dict[str, Any]:
        """Ranker rows for users with a positive in ``window``: retrievers and feature tables fitted
        on ``history`` only, candidates among items unseen in ``history``, label 1 for ``window``'s
        positives. Keys: ``x`` (features), ``labels``, ``prior`` (base margins or None), ``rows``
        (index into ``users``), ``items`` (internal ids), ``ranks`` (per retriever), ``users``
        (internal ids), ``n_window``.

        ``fit`` calls it with a label window carved from the training data; calling it with
        (train, test) builds the same rows for the test period (diagnostics only: those labels must
        never train a model that is then scored on them)."""
        if not hasattr(self, "keep_columns_"):  # called before fit (diagnostics)
            self._check_params()
            self._select_features()
        retrievers = [r.fit(history) for r in self._make_retrievers()]
        tables = feature_tables(history, self.recent_days)
        positives = window.subset(window.positive_mask)
        users = np.flatnonzero(np.bincount(positives.users, minlength=history.n_users) > 0)
        cand = candidates(retrievers, users, all_seen(history), int(self.n_candidates))
        return {
            "x": pair_features(tables, users, cand)[:, self.keep_columns_],
            "labels": self._training_labels(cand, users, positives),
            "prior": self._prior(cand),
            "rows": cand.rows,
            "items": cand.items,
            "ranks": cand.ranks,
            "users": users,
            "n_window": positives.n_interactions,
        }

    def _label_window(self, dataset: Dataset, seed: int) -> tuple[Dataset, Dataset]:
        return label_window(dataset, self.validation, float(self.validation_fraction), seed)

    def _training_labels(
        self, cand: Candidates, users: np.ndarray, positives: Dataset
    ) -> np.ndarray:
        return window_labels(users[cand.rows], cand.items, positives)

    def _prior_index(self) -> PriorColumns:
        """Column of the ``prior`` retriever ("first": the first listed; "": none), or for a blend
        ``{column: weight}`` (see :func:`~.prior.prior_columns`)."""
        return prior_columns(self.prior, self.retriever_names(), str(self.retrievers))

    def _prior(self, cand: Candidates) -> np.ndarray | None:
        """Base margins of the candidates from the ``prior`` (see :func:`~.prior.prior_margins`), or
        None: with them, zero trees reproduce the prior's order and the booster only learns
        corrections to it."""
        return prior_margins(cand, self._prior_index(), float(self.prior_weight))

    # --- scoring ---------------------------------------------------------------------------------

    def _candidates(self, users: np.ndarray) -> tuple[Candidates, np.ndarray]:
        cand = candidates(self.retrievers_, users, self.seen_, int(self.n_candidates))
        return cand, pair_features(self.tables_, users, cand)[:, self.keep_columns_]

    def _margins(
        self, x: np.ndarray, prior: np.ndarray | None = None, **kwargs: Any
    ) -> np.ndarray:
        import xgboost as xgb

        if len(x) == 0:  # no candidates left (a user who has seen every movie): XGBoost would warn
            width = (len(self.feature_names_) + 1,) if kwargs.get("pred_contribs") else ()
            return np.zeros((0, *width), dtype=np.float32)
        dm = xgb.DMatrix(
            x, base_margin=prior, feature_names=self.feature_names_, nthread=int(self.num_threads)
        )
        # several boosters (n_bags): their mean margin, and mean contributions, which still add up
        if kwargs.get("pred_contribs"):  # contributions are in margin units
            return np.mean([b.predict(dm, **kwargs) for b in self.boosters_], axis=0)
        return np.mean([b.predict(dm, output_margin=True) for b in self.boosters_], axis=0)

    def _score(self, users: np.ndarray) -> np.ndarray:
        cand, x = self._candidates(users)
        prior = self._prior(cand)
        margin = shrink_corrections(self._margins(x, prior), prior, float(self.shrink))
        margin = margin.astype(np.float32)
        out = np.empty((len(users), self.n_items), dtype=np.float32)
        # non-candidates: below the row's lowest candidate, ordered by training popularity
        pop = self.item_popularity_.astype(np.float64)
        below = (np.argsort(np.argsort(-pop, kind="stable"), kind="stable") + 1) / (
            self.n_items + 1
        )
        low = np.full(len(users), np.inf, dtype=np.float32)
        np.minimum.at(low, cand.rows, margin)
        low[~np.isfinite(low)] = 0.0
        out[:] = (low[:, None] - 1.0 - below[None, :]).astype(np.float32)
        out[cand.rows, cand.items] = margin
        return out

    # --- explanations ----------------------------------------------------------------------------

    def feature_importance(self, importance_type: str = "total_gain") -> pd.Series:
        """Importance of each feature (``total_gain`` by default; any ``Booster.get_score`` type),
        normalised to sum 1, largest first; features never split on get 0."""
        self._check_fitted()
        raws = [b.get_score(importance_type=importance_type) for b in self.boosters_]
        series = pd.Series(
            {n: sum(float(raw.get(n, 0.0)) for raw in raws) for n in self.feature_names_},
            name=importance_type,
        )
        total = series.sum()
        return (series / total if total > 0 else series).sort_values(ascending=False, kind="stable")

    def explain(self, user: int, k: int = 10, *, prior_feature: str | None = None) -> pd.DataFrame:
        """Why the external ``user`` got their top-``k``: one row per recommended ``movieId`` (best first),
        one column per feature with its SHAP contribution (XGBoost ``pred_contribs``) to the score, plus
        ``bias`` and ``score`` (= the row's sum).

        With a prior, XGBoost reports each row's prior margin inside its bias. ``prior_feature`` names a
        column that takes the prior's row-to-row variation out of the bias: the row's prior minus its
        mean over ALL the user's candidates (what ``explanations.separate_prior`` measures when
        given every candidate's row), computed from the priors alone, so only the top-``k`` rows pay
        for ``pred_contribs``.
        """
        from movielens_lessons import columns as C

        recs = self.recommend([user], k=k)
        if recs.fallback is not None and bool(recs.fallback[0]):
            raise DataValidationError(f"userId {user} is not in the model's training data")
        internal = recs.users[:1]
        cand, x = self._candidates(internal)
        pos = {int(i): j for j, i in enumerate(cand.items)}
        picked = [i for i in recs.items[0].tolist() if i in pos]
        rows = [pos[i] for i in picked]
        all_priors = self._prior(cand)
        prior = None if all_priors is None else all_priors[rows]
        contribs = self._margins(x[rows], prior, pred_contribs=True).reshape(
            len(rows), len(self.feature_names_) + 1
        )  # 2-D also for a user with nothing left to recommend (XGBoost returns 1-D for no rows)
        if prior is not None:
            # the features' shares scale with the corrections; the bias holds the prior itself
            contribs[:, :-1] *= float(self.shrink)
            contribs[:, -1] = shrink_corrections(contribs[:, -1], prior, float(self.shrink))
        frame = pd.DataFrame(contribs, columns=[*self.feature_names_, "bias"])
        frame.insert(0, C.ITEM, self.item_ids_[picked])
        if prior_feature is not None and all_priors is not None and prior is not None and rows:
            # each row's bias is its prior plus one constant (the trees' base score, shrunk), so the
            # bias's variation around its mean over every candidate is the prior's around its mean
            moved = prior.astype(np.float64) - float(np.mean(all_priors, dtype=np.float64))
            frame.insert(frame.columns.get_loc("bias"), prior_feature, moved)
            frame["bias"] = frame["bias"] - moved
        frame["score"] = frame.drop(columns=[C.ITEM]).sum(axis=1)
        return frame

    # --- persistence -----------------------------------------------------------------------------

    def _get_state(self) -> dict[str, np.ndarray]:
        return {
            **self.tables_.arrays("tables_"),
            "feature_names_": np.array(self.feature_names_),
            "keep_columns_": self.keep_columns_,
            "n_boosters_": np.array(len(self.boosters_)),
        }

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.tables_ = FeatureTables.from_arrays(state, "tables_")
        self.feature_names_ = [str(n) for n in state["feature_names_"]]
        self.keep_columns_ = state["keep_columns_"]
        self._n_boosters = int(state["n_boosters_"]) if "n_boosters_" in state else 1

    def _save_files(self, folder: Path) -> None:
        save_parts(folder, self.boosters_, self.retriever_names(), self.retrievers_)

    def _load_files(self, folder: Path) -> None:
        self.boosters_ = load_boosters(folder, self._n_boosters, int(self.num_threads))
        self.retrievers_ = load_retrievers(folder, self.retriever_names())
