"""Test-row masks and parameter checks behind the split strategies in :mod:`.splits`.

Each mask builder takes a :class:`~movielens_lessons.data.dataset.Dataset` with ``n`` rows and
returns a boolean array of shape ``(n,)``, True for the rows that go to test. Randomness comes only
from the ``numpy.random.Generator`` passed in. All work is vectorised: per-user choices use each
row's position within its user (rows are stored sorted by user, timestamp, item), never a Python
loop over users.

Rounding: a share ``f`` of ``n`` rows is ``floor(f * n + 0.5)`` rows (half rounds up).
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np
import pandas as pd

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError

# --- parameter checks ------------------------------------------------------------------------------


def check_fraction(name: str, value: object) -> float:
    """``value`` as a float strictly between 0 and 1; ConfigError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise ConfigError(f"{name} must be a fraction strictly between 0 and 1; got {value!r}")
    return float(value)


def check_count(name: str, value: object, minimum: int) -> int:
    """``value`` as an int ≥ ``minimum`` (bools refused); ConfigError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(f"{name} must be an integer ≥ {minimum}; got {value!r}")
    return int(value)


def check_seed(value: object) -> int:
    """``value`` as an int seed (bools refused); ConfigError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigError(f"seed must be an integer; got {value!r}")
    return int(value)


def _timestamps(ds: Dataset, strategy: str) -> np.ndarray:
    if ds.timestamps is None:
        raise ConfigError(
            f"strategy {strategy!r} needs timestamps and this data has none; "
            "use 'random' or 'user-random'"
        )
    return ds.timestamps


def share(fraction: float, n: np.ndarray | int) -> np.ndarray:
    """``floor(fraction * n + 0.5)``: rows a share amounts to, half rounding up (int64)."""
    return np.floor(fraction * np.asarray(n, dtype=np.float64) + 0.5).astype(np.int64)


# --- per-user positions (vectorised) -----------------------------------------------------------------


def position_in_user(ds: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Each row's 0-based position within its user in stored (time) order, and each row's user size.

    Both are int arrays of shape ``(len(ds),)``.
    """
    counts = ds.user_counts()
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    return np.arange(len(ds)) - starts[ds.users], counts[ds.users]


def random_rank_in_user(ds: Dataset, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random permutation of positions 0..n_u-1 within each user's rows.

    int64 array of shape ``(len(ds),)``; one draw of ``rng.random(len(ds))``.
    """
    # user + U[0, 1) sorts users apart (rows are sorted by user) and shuffles within each user; one
    # float sort is several times faster than lexsort on (user, key).
    order = np.argsort(ds.users + rng.random(len(ds)), kind="stable")
    pos, _ = position_in_user(ds)
    rank = np.empty(len(ds), dtype=np.int64)
    rank[order] = pos  # the k-th row of a user's shuffled block gets rank k
    return rank


# --- test masks: one function per idea --------------------------------------------------------------


def random_mask(ds: Dataset, test_size: float, rng: np.random.Generator) -> np.ndarray:
    """``share(test_size, n)`` rows drawn at random (at least 1, at most n - 1)."""
    n = len(ds)
    n_test = int(np.clip(share(test_size, n), 1, n - 1))
    mask = np.zeros(n, dtype=bool)
    mask[rng.permutation(n)[:n_test]] = True
    return mask


def user_random_mask(
    ds: Dataset, test_size: float, min_train: int, rng: np.random.Generator
) -> np.ndarray:
    """``share(test_size, n_u)`` random rows of each user, capped so ``min_train`` rows stay out."""
    _, n_u = position_in_user(ds)
    n_test = np.minimum(share(test_size, n_u), np.maximum(n_u - min_train, 0))
    return random_rank_in_user(ds, rng) < n_test


def temporal_mask(ds: Dataset, test_size: float | None, at: int | None) -> np.ndarray:
    """Rows at or after the cut: ``at`` (epoch seconds) or else the ``1 - test_size`` quantile.

    ConfigError when the data has no timestamps or the cut leaves train or test empty.
    """
    ts = _timestamps(ds, "temporal")
    if at is None:
        n = len(ds)
        n_test = int(np.clip(share(test_size or 0.0, n), 1, n - 1))
        at = int(np.sort(ts)[n - n_test])
    # Ties at the cut go to TEST: train is strictly older than every test interaction.
    mask = ts >= at
    if mask.all() or not mask.any():
        side = "train" if mask.all() else "test"
        first, last = _iso(int(ts.min())), _iso(int(ts.max()))
        raise ConfigError(
            f"the temporal cut at {_iso(at)} leaves the {side} set empty; "
            f"the data runs from {first} to {last}"
        )
    return mask


def user_temporal_mask(
    ds: Dataset, test_size: float | None, leave_last: int | None, min_train: int
) -> np.ndarray:
    """Each user's last ``leave_last`` rows, or last ``share(test_size, n_u)`` rows.

    Counts are capped so each user keeps ≥ ``min_train`` rows out of test. ConfigError when the
    data has no timestamps.
    """
    _timestamps(ds, "user-temporal")
    pos, n_u = position_in_user(ds)
    # the caller passes exactly one of test_size and leave_last
    wanted = (share(cast(float, test_size), n_u) if leave_last is None
              else np.full(len(ds), leave_last))
    n_test = np.minimum(wanted, np.maximum(n_u - min_train, 0))
    # Stored order is (timestamp, item) within a user, so equal timestamps split by item id.
    return pos >= n_u - n_test


def _iso(seconds: int) -> str:
    return pd.Timestamp(seconds, unit="s", tz="UTC").isoformat()


def parse_at(at: object) -> int:
    """``at`` as int seconds since the epoch (UTC): an int, a digit string, or an ISO date/time."""
    if isinstance(at, int | np.integer) and not isinstance(at, bool):
        return int(at)
    if isinstance(at, str):
        if at.strip().lstrip("-").isdigit():
            return int(at)
        try:
            stamp = pd.Timestamp(at)
        except ValueError as exc:
            raise ConfigError(
                f"at must be epoch seconds or an ISO date like 2015-01-01; got {at!r}"
            ) from exc
        if stamp is pd.NaT:
            raise ConfigError(f"at must be a date or epoch seconds; got {at!r}")
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        return math.floor(stamp.timestamp())
    raise ConfigError(f"at must be epoch seconds or an ISO date string; got {at!r}")
