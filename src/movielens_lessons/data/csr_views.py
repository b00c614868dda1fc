"""User × item CSR views of interactions: the implicit weightings and the read-only matrix layout.

A :class:`~movielens_lessons.data.dataset.Dataset` builds its ``implicit()`` and ``explicit()`` views
with these and caches them; nothing here keeps state.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import scipy.sparse as sp

from movielens_lessons.errors import ConfigError, DataValidationError

Weighting = Literal["binary", "rating", "log"]
#: The weightings :meth:`Dataset.implicit` knows, in order.
WEIGHTINGS: tuple[str, ...] = get_args(Weighting)


def check_weighting(value: object) -> Weighting:
    """``value`` if it names a weighting; else a :class:`ConfigError` listing them (a model's
    ``weighting`` setting, checked before any work)."""
    if value not in WEIGHTINGS:
        raise ConfigError(f"weighting must be one of {', '.join(WEIGHTINGS)}; got {value!r}")
    return value  # type: ignore[return-value]


def implicit_weights(
    weighting: Weighting, ratings: np.ndarray | None, positive: np.ndarray
) -> np.ndarray:
    """The weight (float32) of each positive interaction, shape ``(positive.sum(),)``.

    ``positive`` is a boolean mask over all interactions and ``ratings`` their ratings (``None`` for
    implicit-only data). ``binary``: 1 per positive; ``rating``: the rating as weight; ``log``:
    ``1 + log(rating)`` (confidence-style weights; models scale them by their own ``alpha``).
    """
    if weighting == "binary":
        return np.ones(int(positive.sum()), dtype=np.float32)
    if ratings is None:
        raise DataValidationError(f"weighting {weighting!r} needs ratings; this data has none")
    if weighting == "rating":
        return ratings[positive]
    if weighting == "log":
        return (1.0 + np.log(np.maximum(ratings[positive], 1e-6))).astype(np.float32)
    raise ValueError(f"unknown weighting {weighting!r}; use binary, rating or log")


def history_recency_weights(
    position: np.ndarray, size: np.ndarray, strength: float
) -> np.ndarray:
    """A weight (float64, mean 1) per interaction that grows with its place in its user's history.

    ``position`` is each interaction's 0-based place in its user's time order and ``size`` its user's
    number of interactions, both ``(n_interactions,)`` (as
    :func:`~movielens_lessons.data.split_masks.position_in_user` gives them). The interaction at
    ``position`` weighs ``1 + strength · (position + 1) / size`` before all weights are divided by
    their mean, so a user's latest interaction counts up to ``1 + strength`` times their earliest.
    ``strength = 0``: every weight is 1. For "what comes next" questions: a user's recent choices say
    more about their next ones.
    """
    if strength < 0:
        raise ConfigError(f"recency strength must be non-negative, got {strength!r}")
    if strength == 0 or len(position) == 0:
        return np.ones(len(position), dtype=np.float64)
    weight = 1.0 + strength * (np.asarray(position) + 1.0) / np.asarray(size)
    return weight / weight.mean()


def rating_confidence_weights(
    ratings: np.ndarray, strength: float, floor: float = 0.05
) -> np.ndarray:
    """A weight (float64, mean 1) per interaction that grows with its rating, shape ``ratings.shape``.

    Each rating is standardised over all of ``ratings`` (``z = (r - mean) / std``) and weighs
    ``max(1 + strength · z, floor)`` before all weights are divided by their mean: a rating one
    standard deviation above the mean counts ``1 + strength`` times an average one, whatever the
    rating scale. ``strength = 0`` or ratings that are all equal: every weight is 1. For models that
    learn from every interaction as a positive but should trust a loved film more than a panned one.
    """
    if strength < 0:
        raise ConfigError(f"rating weight strength must be non-negative, got {strength!r}")
    r = np.asarray(ratings, dtype=np.float64)
    std = float(r.std()) if len(r) else 0.0
    if strength == 0 or std == 0.0:
        return np.ones(len(r), dtype=np.float64)
    weight = np.maximum(1.0 + strength * (r - r.mean()) / std, floor)
    return weight / weight.mean()


def readonly_csr(
    users: np.ndarray, items: np.ndarray, data: np.ndarray, shape: tuple[int, int]
) -> sp.csr_matrix:
    """CSR (float32) of ``data`` at ``(users, items)``, shape ``(n_users, n_items)``.

    Indices are sorted and the ``data`` / ``indices`` / ``indptr`` arrays are read-only, so a view
    shared by every model cannot be changed by one of them.
    """
    m = sp.csr_matrix((np.asarray(data, dtype=np.float32), (users, items)), shape=shape)
    m.sort_indices()
    for arr in (m.data, m.indices, m.indptr):
        arr.flags.writeable = False
    return m
