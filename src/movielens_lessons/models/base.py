"""The template base class every model derives from (the ``Recommender`` protocol it implements is in
:mod:`.protocol`).

Public methods (``fit``, ``recommend``, ``score``, ``predict``, ``similar_items``,
``recommend_for_history``, ``save``/``load``) validate input, map external ids to internal ones, check ``k``
and exclude seen items; a model writes only the private hooks:

- ``_fit(dataset)``: learn from a :class:`~movielens_lessons.data.dataset.Dataset`;
- ``_score(users)``: dense scores ``(len(users), n_items)`` for internal user ids;
- optionally ``_score_history(history)`` (fold-in of a new user's CSR row; sequence models override
  ``_score_history_items(items, values)``, which gets the history in order), ``_predict_pairs(u, i)``
  (explicit models: ratings, with their own fallback for unknown ids = -1), ``_item_vectors()`` (for
  ``similar_items``), ``_get_state()``/``_set_state()`` (arrays saved to ``.npz``) and
  ``_save_files(dir)``/``_load_files(dir)`` for a library's own safe format.

Unknown-user policy (documented in docs/conventions.md): ``recommend`` gives an unknown user the most
popular training items and flags the row in ``Recommendations.fallback``; ``score``/``predict`` give NaN
for unknown users or items, except explicit models, which fall back to their baseline prediction.
"""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import scipy.sparse as sp

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.indexing import map_ids
from movielens_lessons.errors import ConfigError, DataValidationError, NotFittedError
from movielens_lessons.models.artifacts import load_model, save_model
from movielens_lessons.models.protocol import Feedback
from movielens_lessons.models.topk import check_k, mask_seen, top_k
from movielens_lessons.recommendations import Recommendations

#: Users scored per batch: bounds the dense (batch, n_items) float32 score block to ~256 MiB.
_SCORE_BLOCK_BYTES = 256 * 2**20

M = TypeVar("M", bound="BaseRecommender")


class BaseRecommender:
    """Template for models: hyperparameters are constructor keywords stored as given (scikit-learn style);
    learned attributes end in ``_``; ``fit`` returns ``self`` and replaces all learned state."""

    name: ClassVar[str] = ""
    feedback: ClassVar[Feedback] = "implicit"
    #: Whether the model scores items of the id map that have no training interaction from their
    #: features (item cold start); ``train --movies`` then adds every movie of the table to the id map.
    scores_unrated_items: ClassVar[bool] = False
    #: Parameters added after models were already saved, with the value those older folders were
    #: fitted with (where the new constructor default differs): loading fills them in.
    legacy_params: ClassVar[dict[str, Any]] = {}
    #: Set by the models that record metrics while fitting (absent otherwise); saved with the model.
    training_metrics_: dict[str, Any]

    # --- hyperparameters -------------------------------------------------------------------------

    @classmethod
    def param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self) -> dict[str, Any]:
        return {p: getattr(self, p) for p in self.param_names()}

    def set_params(self, **params: Any) -> BaseRecommender:
        known = self.param_names()
        for key, value in params.items():
            if key not in known:
                raise ConfigError(
                    f"unknown parameter {key!r} for {self.name}; known: {', '.join(known) or 'none'}"
                )
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # --- fitting ---------------------------------------------------------------------------------

    def fit(self, dataset: Dataset) -> BaseRecommender:
        """Learn from ``dataset`` (implicit models use its implicit view, explicit ones its ratings)."""
        if not isinstance(dataset, Dataset):
            raise TypeError(f"fit expects a Dataset, got {type(dataset).__name__}")
        if dataset.n_interactions == 0:
            raise DataValidationError(f"cannot fit {self.name} on a dataset without interactions")
        if self.feedback == "explicit" and dataset.ratings is None:
            raise DataValidationError(f"{self.name} is an explicit model and needs ratings")
        for attr in [a for a in vars(self) if a.endswith("_") and not a.startswith("__")]:
            delattr(self, attr)
        start = time.perf_counter()
        self.user_ids_ = np.asarray(dataset.user_ids)
        self.item_ids_ = np.asarray(dataset.item_ids)
        # every training interaction counts as seen, whatever the positive threshold
        self.seen_ = sp.csr_matrix(
            (np.ones(dataset.n_interactions, dtype=np.float32), (dataset.users, dataset.items)),
            shape=(dataset.n_users, dataset.n_items),
        )
        self.item_popularity_ = dataset.item_counts().astype(np.int64)
        self.fingerprint_ = dataset.fingerprint()
        self._fit(dataset)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def _fit(self, dataset: Dataset) -> None:
        raise NotImplementedError

    def _check_fitted(self) -> None:
        if not hasattr(self, "item_ids_"):
            raise NotFittedError(f"{self.name} is not fitted yet; call fit(dataset) first")

    @property
    def n_users(self) -> int:
        self._check_fitted()
        return len(self.user_ids_)

    @property
    def n_items(self) -> int:
        self._check_fitted()
        return len(self.item_ids_)

    # --- scoring hooks ---------------------------------------------------------------------------

    def _score(self, users: np.ndarray) -> np.ndarray:
        """Dense float scores ``(len(users), n_items)`` for internal user ids (higher = better)."""
        raise NotImplementedError

    def _score_history(self, history: sp.csr_matrix) -> np.ndarray:
        """Scores ``(n_items,)`` for a new user whose history is a ``(1, n_items)`` CSR row."""
        raise ConfigError(
            f"{self.name} cannot fold in a new user's history; use a model that supports it "
            "(e.g. item-knn, ease, pure-svd, als) or most-popular"
        )

    def _predict_pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Predictions per pair of internal ids (-1 = unknown → NaN here; explicit models override)."""
        out = np.full(len(users), np.nan, dtype=np.float32)
        known = (users >= 0) & (items >= 0)
        if known.any():
            uniq, inv = np.unique(users[known], return_inverse=True)
            rows = self._score_blocks(uniq)
            out[known] = rows[inv, items[known]]
        return out

    def _item_vectors(self) -> np.ndarray | None:
        """Item embeddings ``(n_items, d)`` for ``similar_items``, or ``None``."""
        return None

    def _score_blocks(self, users: np.ndarray) -> np.ndarray:
        step = max(1, _SCORE_BLOCK_BYTES // (4 * max(self.n_items, 1)))
        return (
            np.vstack(
                [
                    np.asarray(self._score(users[s : s + step]), dtype=np.float32)
                    for s in range(0, len(users), step)
                ]
            )
            if len(users)
            else np.empty((0, self.n_items), dtype=np.float32)
        )

    # --- public prediction API -------------------------------------------------------------------

    def recommend(
        self,
        users: Iterable[int] | None = None,
        k: int = 10,
        *,
        exclude_seen: bool = True,
    ) -> Recommendations:
        """Top-``k`` items for each external ``userId`` (``None``: every user in the training map).

        Seen training items are excluded unless ``exclude_seen=False``. Unknown users get the most
        popular training items, flagged in ``Recommendations.fallback``; so do users of the id map
        without a training interaction (a split's parts share the full data's id maps, so a user
        whose every rating is in the test part is in the map with an empty row, and no model knows
        anything about them).
        """
        self._check_fitted()
        k = check_k(k)
        ext = (
            self.user_ids_
            if users is None
            else np.asarray(list(users) if not isinstance(users, np.ndarray) else users)
        )
        internal = map_ids(ext, self.user_ids_)
        known = self._with_training_data(internal)
        items = np.empty((len(ext), k), dtype=np.int64)
        scores = np.empty((len(ext), k), dtype=np.float32)
        step = max(1, _SCORE_BLOCK_BYTES // (4 * max(self.n_items, 1)))
        known_rows = np.flatnonzero(known)
        for s in range(0, len(known_rows), step):
            rows = known_rows[s : s + step]
            block = np.asarray(self._score(internal[rows]), dtype=np.float32).copy()
            if exclude_seen:
                mask_seen(block, self.seen_, internal[rows])
            items[rows], scores[rows] = top_k(block, k)
        if (~known).any():
            pop_items, pop_scores = top_k(self.item_popularity_[None, :].astype(np.float32), k)
            items[~known], scores[~known] = pop_items[0], pop_scores[0]
        return Recommendations(
            users=internal,
            items=items,
            scores=scores,
            user_ids=self.user_ids_,
            item_ids=self.item_ids_,
            external_users=ext,
            fallback=~known,
        )

    def knows_users(self, users: Iterable[int]) -> np.ndarray:
        """Whether the model knows each external ``userId`` (bool array): in its id map *and* with a
        training interaction. :meth:`recommend` serves the others the popularity fallback."""
        self._check_fitted()
        return self._with_training_data(map_ids(np.asarray(list(users)), self.user_ids_))

    def _with_training_data(self, internal: np.ndarray) -> np.ndarray:
        """Mask of internal user rows (-1: not in the map) that hold a training interaction."""
        known = internal >= 0
        known[known] = np.diff(self.seen_.indptr)[internal[known]] > 0
        return known

    def _score_history_items(self, items: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Scores ``(n_items,)`` for a new user's history: internal item ids in the order given
        (oldest first) and their values (ratings, or ones). The default builds the CSR row that
        ``_score_history`` reads; sequence models override this to use the order."""
        history = sp.csr_matrix(
            (values, (np.zeros(len(items), dtype=np.int64), items)), shape=(1, self.n_items)
        )
        return self._score_history(history)

    def recommend_for_history(
        self,
        items: Iterable[int],
        k: int = 10,
        *,
        ratings: Iterable[float] | None = None,
        exclude_seen: bool = True,
    ) -> Recommendations:
        """Top-``k`` for a brand-new user described by external ``movieId``s (and ratings, if any).

        Items unknown to the model are ignored. The result has one row whose user is -1.
        """
        self._check_fitted()
        k = check_k(k)
        ext_items = np.asarray(list(items))
        idx = map_ids(ext_items, self.item_ids_)
        vals = (
            np.ones(len(idx), dtype=np.float32)
            if ratings is None
            else np.asarray(list(ratings), dtype=np.float32)
        )
        keep = idx >= 0
        scores = self._score_history_items(idx[keep], vals[keep])
        row = np.asarray(scores, dtype=np.float32).reshape(1, -1).copy()
        if exclude_seen:
            row[0, idx[keep]] = -np.inf
        top_items, top_scores = top_k(row, k)
        return Recommendations(
            users=np.array([-1], dtype=np.int64),
            items=top_items,
            scores=top_scores,
            user_ids=self.user_ids_,
            item_ids=self.item_ids_,
            external_users=np.array([-1]),
            fallback=np.array([False]),
        )

    def score(self, users: Iterable[int], items: Iterable[int] | None = None) -> np.ndarray:
        """Scores ``(len(users), len(items))`` (``items=None``: every training item, in id-map order).

        NaN for unknown users or items.
        """
        self._check_fitted()
        u = map_ids(np.asarray(list(users)), self.user_ids_)
        out = np.full((len(u), self.n_items), np.nan, dtype=np.float32)
        known = u >= 0
        if known.any():
            out[known] = self._score_blocks(u[known])
        if items is None:
            return out
        i = map_ids(np.asarray(list(items)), self.item_ids_)
        res = out[:, np.maximum(i, 0)]
        res[:, i < 0] = np.nan
        return res

    def predict(self, users: Iterable[int], items: Iterable[int]) -> np.ndarray:
        """One prediction per (user, item) pair of external ids: a rating for explicit models, a
        score for implicit ones. Shape ``(n_pairs,)``, float32."""
        self._check_fitted()
        u_ext, i_ext = np.asarray(list(users)), np.asarray(list(items))
        if len(u_ext) != len(i_ext):
            raise ConfigError(
                f"predict needs as many users as items, got {len(u_ext)} and {len(i_ext)}"
            )
        return self._predict_pairs(map_ids(u_ext, self.user_ids_), map_ids(i_ext, self.item_ids_))

    def similar_items(self, items: Iterable[int], k: int = 10) -> Recommendations:
        """The ``k`` most similar training items to each external ``movieId``, excluding the item
        itself. Rows are the query items (in ``external_users``); padded with -1 where fewer exist."""
        self._check_fitted()
        k = check_k(k)
        ext = np.asarray(list(items))
        idx = map_ids(ext, self.item_ids_)
        if (idx < 0).any():
            bad = ext[np.flatnonzero(idx < 0)[0]].item()
            raise DataValidationError(f"movieId {bad} is not in the model's training data")
        sims = np.asarray(self._similar_scores(idx), dtype=np.float32)
        sims[np.arange(len(idx)), idx] = -np.inf
        top_items, top_scores = top_k(sims, k)
        return Recommendations(
            users=np.full(len(idx), -1, dtype=np.int64),
            items=top_items,
            scores=top_scores,
            user_ids=self.user_ids_,
            item_ids=self.item_ids_,
            external_users=ext,
            fallback=np.zeros(len(idx), dtype=bool),
        )

    @classmethod
    def folds_in(cls) -> bool:
        """Whether :meth:`recommend_for_history` serves a brand-new user (the model implements a
        history hook)."""
        return (
            cls._score_history is not BaseRecommender._score_history
            or cls._score_history_items is not BaseRecommender._score_history_items
        )

    def has_item_similarity(self) -> bool:
        """Whether :meth:`similar_items` and :meth:`item_similarity` work for this model."""
        return (
            type(self)._similar_scores is not BaseRecommender._similar_scores
            or self._item_vectors() is not None
        )

    def item_similarity(self, items: Iterable[int], others: Iterable[int]) -> np.ndarray:
        """Similarity ``(len(items), len(others))`` float32 between external ``movieId``s, as
        :meth:`similar_items` ranks them; NaN where either is unknown. ConfigError when the model
        has no item representation."""
        self._check_fitted()
        a = map_ids(np.asarray(list(items)), self.item_ids_)
        b = map_ids(np.asarray(list(others)), self.item_ids_)
        out = np.full((len(a), len(b)), np.nan, dtype=np.float32)
        rows = np.flatnonzero(a >= 0)
        if len(rows) and (b >= 0).any():
            cols = np.flatnonzero(b >= 0)
            out[np.ix_(rows, cols)] = self._pair_similarity(a[rows], b[cols])
        return out

    def _pair_similarity(self, items: np.ndarray, others: np.ndarray) -> np.ndarray:
        """Similarity ``(len(items), len(others))`` of internal items, as ``_similar_scores`` has it.

        The default cosine normalises only the vectors asked for: the service asks this for up to
        200 history movies × 10 recommended ones on every request, and going through
        ``_similar_scores`` would normalise and multiply every item's vector (for EASE, a 200 × m
        by m × m product: most of a second on ml-latest-small).
        """
        if type(self)._similar_scores is not BaseRecommender._similar_scores:
            return np.asarray(self._similar_scores(items), dtype=np.float32)[:, others]
        vectors, norms = self._item_vectors_and_norms()
        # a BLAS product (the cached vectors are float32): einsum's own loop was 5x slower for
        # EASE's 200 x m by m x 10
        return (vectors[items] @ vectors[others].T) / norms[items][:, None] / norms[others][None, :]

    def _item_vectors_and_norms(self) -> tuple[np.ndarray, np.ndarray]:
        """``_item_vectors()`` and their L2 norms ``(n_items,)`` float32 (0 → 1), built once per fit
        or load: a service asks for them on every request, and several models assemble their vectors
        anew on each call (from a network's weights, or padded for pruned items)."""
        cached = getattr(self, "_vectors_and_norms_", None)
        if cached is None:
            vectors = self._item_vectors()
            if vectors is None:
                raise ConfigError(f"{self.name} has no item representation for similar items")
            vectors = np.asarray(vectors, dtype=np.float32)
            norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors, dtype=np.float64))
            norms[norms == 0] = 1.0
            # fit() drops every attribute ending in "_", so a refit never sees stale vectors
            cached = self._vectors_and_norms_ = (vectors, norms.astype(np.float32))
        return cached

    def _similar_scores(self, items: np.ndarray) -> np.ndarray:
        """Similarity ``(len(items), n_items)`` of internal items to every item (-inf: never similar).

        Default: cosine of the model's item vectors (``_item_vectors``).
        """
        vectors, norms = self._item_vectors_and_norms()
        # normalising every vector on each call cost EASE 2.4 s per "more like this" request
        left = vectors[items] / norms[items][:, None]
        return (left @ vectors.T) / norms[None, :]

    # --- persistence -----------------------------------------------------------------------------

    def _get_state(self) -> dict[str, np.ndarray]:
        """Learned arrays to save (besides the id maps, seen items and popularity)."""
        return {}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what ``_get_state`` returned."""

    def _save_files(self, folder: Path) -> None:
        """Write files in a library's own safe format (optional)."""

    def _load_files(self, folder: Path) -> None:
        """Read what ``_save_files`` wrote (optional)."""

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the fitted model to the folder ``path`` (``model.json`` + ``arrays.npz``; no pickle).

        The folder is written next to its destination and renamed into place, so a failed save never
        leaves a half-written model; an existing folder is replaced. Format: :mod:`.artifacts`.
        """
        return save_model(self, path)

    @classmethod
    def load(cls: type[M], path: str | os.PathLike[str]) -> M:
        """Load a model folder written by :meth:`save` (arrays are read with ``allow_pickle=False``); the
        folder must hold a ``cls`` (any model when called on :class:`BaseRecommender`)."""
        return load_model(cls, path)
