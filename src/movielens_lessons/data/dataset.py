"""The one way in to interaction data: an immutable :class:`Dataset`.

Internal ids are contiguous integers (``0 .. n_users-1``, ``0 .. n_items-1``) used inside models and
metrics; external ids (MovieLens ``userId`` / ``movieId``) appear at every edge. The id maps are sorted
external ids, so internal ids are deterministic for the same data. Splits share their parent's id maps, so a
train and a test ``Dataset`` index the same users and items. Reading a ratings frame into the arrays is
:mod:`movielens_lessons.data.ingest`; the weightings and layout of the CSR views are
:mod:`movielens_lessons.data.csr_views`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Literal, overload

import numpy as np
import pandas as pd
import scipy.sparse as sp

from movielens_lessons import columns as C
from movielens_lessons.data.csr_views import Weighting, implicit_weights, readonly_csr
from movielens_lessons.data.indexing import interaction_order, map_ids
from movielens_lessons.data.ingest import index_frame
from movielens_lessons.errors import DataValidationError

UnknownPolicy = Literal["raise", "mask"]


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a



class Dataset:
    """Interactions of users with items, their id maps and item/user metadata. Never mutated.

    Interactions are stored sorted by (user, timestamp, item). ``ratings`` is ``None`` for purely
    implicit data; ``timestamps`` (int64 seconds, UTC) is ``None`` when the source has none.
    ``positive_threshold`` (e.g. 4.0) makes the implicit view keep only ratings ≥ the threshold.
    """

    __slots__ = (
        "_cache",
        "_items",
        "_ratings",
        "_timestamps",
        "_users",
        "item_ids",
        "links",
        "movies",
        "n_duplicates_dropped",
        "name",
        "positive_threshold",
        "tags",
        "user_ids",
        "users_meta",
    )

    def __init__(
        self,
        users: np.ndarray,
        items: np.ndarray,
        ratings: np.ndarray | None,
        timestamps: np.ndarray | None,
        user_ids: np.ndarray,
        item_ids: np.ndarray,
        *,
        movies: pd.DataFrame | None = None,
        tags: pd.DataFrame | None = None,
        links: pd.DataFrame | None = None,
        users_meta: pd.DataFrame | None = None,
        positive_threshold: float | None = None,
        name: str = "",
        n_duplicates_dropped: int = 0,
        _sorted: bool = False,
    ) -> None:
        users = np.asarray(users, dtype=np.int32)
        items = np.asarray(items, dtype=np.int32)
        n = len(users)
        if (
            len(items) != n
            or (ratings is not None and len(ratings) != n)
            or (timestamps is not None and len(timestamps) != n)
        ):
            raise ValueError("users, items, ratings and timestamps must have the same length")
        if not _sorted and n:
            timestamps = None if timestamps is None else np.asarray(timestamps)
            order = interaction_order(users, items, timestamps, len(user_ids), len(item_ids))
            users, items = users[order], items[order]
            ratings = None if ratings is None else np.asarray(ratings)[order]
            timestamps = None if timestamps is None else np.asarray(timestamps)[order]
        self._users = _readonly(users)
        self._items = _readonly(items)
        self._ratings = (
            None if ratings is None else _readonly(np.asarray(ratings, dtype=np.float32))
        )
        self._timestamps = (
            None if timestamps is None else _readonly(np.asarray(timestamps, dtype=np.int64))
        )
        self.user_ids = _readonly(np.asarray(user_ids))
        self.item_ids = _readonly(np.asarray(item_ids))
        self.movies = movies
        self.tags = tags
        self.links = links
        self.users_meta = users_meta
        self.positive_threshold = positive_threshold
        self.name = name
        self.n_duplicates_dropped = n_duplicates_dropped
        self._cache: dict[object, object] = {}

    def __setattr__(self, key: str, value: object) -> None:
        if hasattr(self, "_cache"):  # set last in __init__: from then on the object is frozen
            raise AttributeError(f"Dataset is immutable; cannot set {key!r}")
        object.__setattr__(self, key, value)

    # --- construction ----------------------------------------------------------------------------

    @classmethod
    def from_frame(
        cls,
        ratings: pd.DataFrame,
        *,
        movies: pd.DataFrame | None = None,
        tags: pd.DataFrame | None = None,
        links: pd.DataFrame | None = None,
        users_meta: pd.DataFrame | None = None,
        user_ids: np.ndarray | None = None,
        item_ids: np.ndarray | None = None,
        positive_threshold: float | None = None,
        name: str = "",
        source: str | None = None,
    ) -> Dataset:
        """Build a dataset from a frame in the canonical schema (``userId, movieId[, rating][, timestamp]``).

        :func:`~movielens_lessons.data.ingest.index_frame` maps the ids, orders the rows and resolves
        duplicate (user, item) pairs (keeps the latest, reports the count in a ``DataQualityWarning``).
        ``user_ids`` / ``item_ids`` fix the id maps (rows with ids outside them are an error); by default
        they are the sorted distinct ids present.
        """
        found = index_frame(ratings, user_ids=user_ids, item_ids=item_ids, name=name, source=source)
        return cls(
            found.users,
            found.items,
            found.ratings,
            found.timestamps,
            found.user_ids,
            found.item_ids,
            movies=movies,
            tags=tags,
            links=links,
            users_meta=users_meta,
            positive_threshold=positive_threshold,
            name=name,
            n_duplicates_dropped=found.n_duplicates_dropped,
            _sorted=True,
        )

    def subset(self, rows: np.ndarray, *, name: str | None = None) -> Dataset:
        """A dataset with the selected interactions (boolean mask or row indices), same id maps."""
        rows = np.asarray(rows)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        rows = np.sort(rows)  # keeps the (user, timestamp, item) order
        return self._derive(rows, name=self.name if name is None else name)

    def with_positive_threshold(self, threshold: float | None) -> Dataset:
        """The same data whose implicit view keeps only ratings ≥ ``threshold`` (``None``: all)."""
        if threshold is not None and self._ratings is None:
            raise DataValidationError("a positive threshold needs ratings; this dataset has none")
        return self._derive(
            None, positive_threshold=threshold, n_duplicates_dropped=self.n_duplicates_dropped
        )

    def with_movies(self, movies: pd.DataFrame | None) -> Dataset:
        """The same interactions with another movies table (e.g. one carrying IMDb columns)."""
        return self._derive(None, movies=movies, n_duplicates_dropped=self.n_duplicates_dropped)

    def with_items(self, item_ids: np.ndarray) -> Dataset:
        """The same interactions with ``item_ids`` added to the item id map (ids already in it are
        kept once): e.g. every movie of a movies table, so that a model that reads item features can
        score the movies nobody rated. The id map stays sorted; internal item indices are remapped."""
        extra = np.asarray(item_ids)
        if extra.dtype.kind not in "iu":
            raise DataValidationError(f"item ids must be integers, got dtype {extra.dtype}")
        merged = np.union1d(self.item_ids, extra.astype(self.item_ids.dtype, copy=False))
        if len(merged) == len(self.item_ids):
            return self
        items = np.searchsorted(merged, self.item_ids[self._items])  # monotonic: row order holds
        return self._derive(
            None, items=items, item_ids=merged, n_duplicates_dropped=self.n_duplicates_dropped
        )

    def _derive(
        self,
        rows: np.ndarray | None,
        *,
        items: np.ndarray | None = None,
        item_ids: np.ndarray | None = None,
        **changes: object,
    ) -> Dataset:
        """A dataset sharing this one's id maps and metadata, on ``rows`` (``None``: all) of it;
        ``items`` and ``item_ids`` replace the item column and id map (same row order)."""

        @overload
        def take(a: np.ndarray) -> np.ndarray: ...
        @overload
        def take(a: np.ndarray | None) -> np.ndarray | None: ...
        def take(a: np.ndarray | None) -> np.ndarray | None:
            return a if a is None or rows is None else a[rows]

        kwargs: dict[str, object] = {
            "movies": self.movies,
            "tags": self.tags,
            "links": self.links,
            "users_meta": self.users_meta,
            "positive_threshold": self.positive_threshold,
            "name": self.name,
        }
        kwargs.update(changes)
        return Dataset(
            take(self._users),
            take(self._items if items is None else items),
            take(self._ratings),
            take(self._timestamps),
            self.user_ids,
            self.item_ids if item_ids is None else item_ids,
            _sorted=True,
            **kwargs,  # type: ignore[arg-type]
        )

    # --- sizes and raw arrays (read-only) ----------------------------------------------------------

    @property
    def n_users(self) -> int:
        """Users in the id map (not only those with interactions here)."""
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        """Items in the id map (not only those with interactions here)."""
        return len(self.item_ids)

    @property
    def n_interactions(self) -> int:
        return len(self._users)

    def __len__(self) -> int:
        return self.n_interactions

    @property
    def users(self) -> np.ndarray:
        """Internal user id of each interaction, shape ``(n_interactions,)``, int32."""
        return self._users

    @property
    def items(self) -> np.ndarray:
        """Internal item id of each interaction, shape ``(n_interactions,)``, int32."""
        return self._items

    @property
    def ratings(self) -> np.ndarray | None:
        """Rating of each interaction (float32), or ``None`` for implicit-only data."""
        return self._ratings

    @property
    def timestamps(self) -> np.ndarray | None:
        """Seconds since the epoch (UTC) of each interaction (int64), or ``None``."""
        return self._timestamps

    @property
    def positive_mask(self) -> np.ndarray:
        """Which interactions count as positive in the implicit view."""
        if self.positive_threshold is None or self._ratings is None:
            return np.ones(self.n_interactions, dtype=bool)
        return self._ratings >= self.positive_threshold

    def user_counts(self) -> np.ndarray:
        """Interactions per internal user, shape ``(n_users,)``."""
        return np.bincount(self._users, minlength=self.n_users)

    def item_counts(self) -> np.ndarray:
        """Interactions per internal item, shape ``(n_items,)``."""
        return np.bincount(self._items, minlength=self.n_items)

    @property
    def active_users(self) -> np.ndarray:
        """Internal ids of users with at least one interaction here."""
        return np.flatnonzero(self.user_counts())

    @property
    def active_items(self) -> np.ndarray:
        """Internal ids of items with at least one interaction here."""
        return np.flatnonzero(self.item_counts())

    @property
    def rating_scale(self) -> tuple[float, float] | None:
        if self._ratings is None or not len(self._ratings):
            return None
        return float(self._ratings.min()), float(self._ratings.max())

    # --- id maps ---------------------------------------------------------------------------------

    def user_index(
        self, external: Iterable[int] | np.ndarray, unknown: UnknownPolicy = "mask"
    ) -> np.ndarray:
        """Internal ids of external ``userId``s; unknown ids give -1 (``"mask"``) or raise."""
        return self._to_internal(external, self.user_ids, C.USER, unknown)

    def item_index(
        self, external: Iterable[int] | np.ndarray, unknown: UnknownPolicy = "mask"
    ) -> np.ndarray:
        """Internal ids of external ``movieId``s; unknown ids give -1 (``"mask"``) or raise."""
        return self._to_internal(external, self.item_ids, C.ITEM, unknown)

    @staticmethod
    def _to_internal(external, id_map, column, unknown) -> np.ndarray:
        values = np.asarray(list(external) if not isinstance(external, np.ndarray) else external)
        idx = (
            map_ids(values.astype(id_map.dtype, copy=False), id_map).astype(np.int32)
            if len(values)
            else (np.empty(0, dtype=np.int32))
        )
        if unknown == "raise" and (idx < 0).any():
            bad = values[np.flatnonzero(idx < 0)[0]].item()
            raise DataValidationError(f"unknown id {bad!r}", column=column)
        return idx

    # --- matrix views ----------------------------------------------------------------------------

    def implicit(self, weighting: Weighting = "binary") -> sp.csr_matrix:
        """User × item CSR (float32) of positive interactions, shape ``(n_users, n_items)``.

        ``binary``: 1 per positive; ``rating``: the rating as weight; ``log``: ``1 + log(rating)``
        (confidence-style weights; models scale them by their own ``alpha``).
        """
        key = ("implicit", weighting, self.positive_threshold)
        if key not in self._cache:
            mask = self.positive_mask
            data = implicit_weights(weighting, self._ratings, mask)
            self._cache[key] = readonly_csr(
                self._users[mask], self._items[mask], data, (self.n_users, self.n_items)
            )
        return self._cache[key]  # type: ignore[return-value]

    def explicit(self) -> sp.csr_matrix:
        """User × item CSR (float32) of ratings, shape ``(n_users, n_items)``; absent = not rated."""
        if self._ratings is None:
            raise DataValidationError("this dataset has no ratings (implicit feedback only)")
        if "explicit" not in self._cache:
            self._cache["explicit"] = readonly_csr(
                self._users, self._items, self._ratings, (self.n_users, self.n_items)
            )
        return self._cache["explicit"]  # type: ignore[return-value]

    # --- export ----------------------------------------------------------------------------------

    def to_frame(self) -> pd.DataFrame:
        """Interactions with external ids, in the canonical ``ratings.csv`` schema."""
        data: dict[str, np.ndarray] = {
            C.USER: self.user_ids[self._users],
            C.ITEM: self.item_ids[self._items],
        }
        if self._ratings is not None:
            data[C.RATING] = self._ratings
        if self._timestamps is not None:
            data[C.TIMESTAMP] = self._timestamps
        return pd.DataFrame(data)

    def fingerprint(self) -> str:
        """SHA-256 (hex, 16 chars) of the interactions and id maps: identifies the training data."""
        if "fingerprint" not in self._cache:
            h = hashlib.sha256()
            for arr in (
                self.user_ids,
                self.item_ids,
                self._users,
                self._items,
                self._ratings,
                self._timestamps,
            ):
                h.update(b"|" if arr is None else np.ascontiguousarray(arr).tobytes())
            self._cache["fingerprint"] = h.hexdigest()[:16]
        return self._cache["fingerprint"]  # type: ignore[return-value]

    def __repr__(self) -> str:
        kind = "explicit" if self._ratings is not None else "implicit"
        label = f"{self.name!r}, " if self.name else ""
        return (
            f"Dataset({label}{self.n_interactions:,} {kind} interactions, "
            f"{self.n_users:,} users, {self.n_items:,} items)"
        )
