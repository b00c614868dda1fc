"""EASE (Steck, 2019): a closed-form item-item linear model with a zero diagonal.

With ``X`` the binary user × item matrix of positives and ``G = XᵀX`` its Gram matrix,

    P = (G + λI)⁻¹,    B = I − P · diag(1 / diag(P))    (so B_jj = 0, B_ij = −P_ij / P_jj),

and a user's scores are ``x_u B``. The inverse is computed in float32 from a Cholesky factorisation
(LAPACK ``spotrf`` + ``spotri``, in place): ``G + λI`` is symmetric positive definite, and this costs
about ``n³`` flops in single precision against ``2n³`` in double for a generic LU inverse.

Memory is the limit: one dense ``n_items × n_items`` float32 matrix (``4 n²`` bytes) plus working copies.
``fit`` estimates ``3 × 4 n²`` bytes and refuses, with the GiB needed and a ``max_items`` that would fit,
when that exceeds the memory available. ``min_item_count`` / ``max_items`` prune the catalogue to items
with at least that many training positives / the most popular ones; pruned items are never recommended
(score ``-inf``).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError, DataValidationError
from movielens_lessons.models.base import BaseRecommender

#: Dense n × n float32 copies alive at the peak of a fit (Gram/inverse, B, and a transposed block).
MEMORY_FACTOR = 3
#: Row block for the blocked Gram product and the triangle copy: bounds temporaries to ~128 MiB.
_BLOCK_BYTES = 128 * 2**20


def available_memory_bytes() -> int | None:
    """Memory available to a new allocation (psutil if installed, else ``MemAvailable`` in
    ``/proc/meminfo``), or ``None`` when neither can tell."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        return int(psutil.virtual_memory().available)
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def memory_estimate_bytes(n_items: int) -> int:
    """Peak memory of an EASE fit on ``n_items`` items: ``MEMORY_FACTOR × 4 × n_items²`` bytes."""
    return MEMORY_FACTOR * 4 * int(n_items) ** 2


class EASE(BaseRecommender):
    """Embarrassingly shallow autoencoder on implicit feedback.

    ``regularization`` is λ (added to the Gram diagonal; larger = smoother, more popular picks).
    ``min_item_count``: items with fewer training positives are left out (the default 1 drops only
    items absent from training, e.g. test-only items of a split; 0 keeps every item of the id map). ``max_items``: keep only the most
    popular items (ties to the lower internal id). Learned: ``weights_`` ``B`` ``(m, m)`` float32 over
    the ``m`` kept items ``kept_items_`` (internal ids).
    """

    name = "ease"

    def __init__(
        self,
        regularization: float = 200.0,
        min_item_count: int = 1,
        max_items: int | None = None,
    ) -> None:
        self.regularization = regularization
        self.min_item_count = min_item_count
        self.max_items = max_items

    # --- fitting ---------------------------------------------------------------------------------

    def _fit(self, dataset: Dataset) -> None:
        lam = float(self.regularization)
        if not lam > 0:
            raise ConfigError(f"ease needs regularization > 0, got {self.regularization!r}")
        x = sp.csr_matrix(dataset.implicit(), dtype=np.float32, copy=True)
        x.data[:] = 1.0
        kept = self._kept_items(np.asarray(x.sum(axis=0)).ravel())
        check_memory(len(kept))
        xk = x[:, kept].tocsr()
        self.kept_items_ = kept.astype(np.int64)
        self.positives_ = x
        self.weights_ = _ease_weights(xk, lam)

    def _kept_items(self, counts: np.ndarray) -> np.ndarray:
        min_count = self.min_item_count
        if (
            isinstance(min_count, bool)
            or not isinstance(min_count, (int, np.integer))
            or min_count < 0
        ):
            raise ConfigError(f"min_item_count must be an integer ≥ 0, got {min_count!r}")
        kept = np.flatnonzero(counts >= int(min_count))
        if self.max_items is not None:
            if isinstance(self.max_items, bool) or not isinstance(
                self.max_items, (int, np.integer)
            ):
                raise ConfigError(f"max_items must be a positive integer, got {self.max_items!r}")
            if self.max_items <= 0:
                raise ConfigError(f"max_items must be a positive integer, got {self.max_items!r}")
            if len(kept) > self.max_items:
                order = np.lexsort((kept, -counts[kept]))  # most popular, then lower id
                kept = np.sort(kept[order[: int(self.max_items)]])
        if len(kept) == 0:
            raise DataValidationError(
                f"ease kept no items: none has ≥ {self.min_item_count} training positives"
            )
        return kept

    # --- scoring ---------------------------------------------------------------------------------

    def _full(self, kept_scores: np.ndarray) -> np.ndarray:
        if len(self.kept_items_) == self.n_items:
            return kept_scores
        out = np.full((kept_scores.shape[0], self.n_items), -np.inf, dtype=np.float32)
        out[:, self.kept_items_] = kept_scores
        return out

    def _kept_columns(self, rows: sp.csr_matrix) -> sp.csr_matrix:
        return rows if len(self.kept_items_) == self.n_items else rows[:, self.kept_items_]

    def _score(self, users: np.ndarray) -> np.ndarray:
        hist = self._kept_columns(self.positives_[users])
        return self._full(np.asarray(hist @ self.weights_))

    def _score_history(self, history: sp.csr_matrix) -> np.ndarray:
        h = sp.csr_matrix(history, dtype=np.float32, copy=True)
        h.data = (h.data > 0).astype(np.float32)  # every history item counts as one positive
        return self._full(np.asarray(self._kept_columns(h) @ self.weights_)).ravel()

    def _item_vectors(self) -> np.ndarray:
        """Each item's row of B, its learned weights towards every kept item (pruned items: zeros).

        ``similar_items`` compares these profiles by cosine: two movies are similar when the model uses
        them to recommend the same movies.
        """
        if len(self.kept_items_) == self.n_items:
            return self.weights_
        out = np.zeros((self.n_items, len(self.kept_items_)), dtype=np.float32)
        out[self.kept_items_] = self.weights_
        return out

    # --- persistence -----------------------------------------------------------------------------

    def _get_state(self) -> dict[str, np.ndarray]:
        return {
            "weights_": self.weights_,
            "kept_items_": self.kept_items_,
            "positives_indices_": self.positives_.indices,
            "positives_indptr_": self.positives_.indptr,
        }

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.weights_ = state["weights_"]
        self.kept_items_ = state["kept_items_"]
        indices = state["positives_indices_"]
        self.positives_ = sp.csr_matrix(
            (np.ones(len(indices), dtype=np.float32), indices, state["positives_indptr_"]),
            shape=(len(self.user_ids_), len(self.item_ids_)),
        )


def check_memory(n_items: int, available: int | None = None) -> None:
    """Raise :class:`ConfigError` when an EASE fit on ``n_items`` items cannot fit in memory."""
    available = available_memory_bytes() if available is None else available
    needed = memory_estimate_bytes(n_items)
    if available is None or needed <= available:
        return
    fits = max(1, math.isqrt(available // (MEMORY_FACTOR * 4)))
    raise ConfigError(
        f"ease on {n_items} items needs about {needed / 2**30:.1f} GiB "
        f"({MEMORY_FACTOR} × {n_items}² float32) but only {available / 2**30:.1f} GiB is available; "
        f"set max_items (e.g. max_items={fits}) or a higher min_item_count to keep fewer items"
    )


def gram(x: sp.csr_matrix) -> np.ndarray:
    """``XᵀX`` as a dense C-ordered float32 ``(n_items, n_items)``, built in row blocks so the sparse
    intermediate never exceeds ~128 MiB."""
    n = x.shape[1]
    xt = x.T.tocsr()
    out = np.empty((n, n), dtype=np.float32)
    step = max(1, _BLOCK_BYTES // (16 * max(n, 1)))
    for start in range(0, n, step):
        stop = min(start + step, n)
        out[start:stop] = (xt[start:stop] @ x).toarray()
    return out


def _ease_weights(x: sp.csr_matrix, lam: float) -> np.ndarray:
    """EASE's ``B`` for the binary user × item CSR ``x``, float32 ``(n_items, n_items)``, in place."""
    g = gram(x)
    n = g.shape[0]
    g[np.diag_indices(n)] += np.float32(lam)
    # G is symmetric, so its C-ordered buffer is also a Fortran-ordered G: LAPACK works in place
    # (overwrite_a) without a copy. "lower" of the Fortran view is the upper triangle of the C view.
    c, info = lapack.spotrf(g.T, lower=1, clean=0, overwrite_a=1)
    if info != 0:
        raise DataValidationError(
            f"ease: the Gram matrix + λI is not positive definite (LAPACK spotrf info={info}); "
            "increase regularization"
        )
    p, info = lapack.spotri(c, lower=1, overwrite_c=1)
    if info != 0:
        raise DataValidationError(
            f"ease: inverting the Cholesky factor failed (spotri info={info})"
        )
    p = p.T  # back to the C view; the inverse now sits in its upper triangle
    if not np.shares_memory(p, g):  # LAPACK had to copy after all (never for C-ordered float32)
        g = np.ascontiguousarray(p)
    _mirror_upper(g)
    diag = g.diagonal().copy()
    g /= -diag[None, :]  # B_ij = −P_ij / P_jj
    g[np.diag_indices(n)] = 0.0
    return g


def _mirror_upper(a: np.ndarray) -> None:
    """Copy the upper triangle of the square ``a`` onto its lower triangle, in place, in blocks."""
    n = a.shape[0]
    step = max(1, _BLOCK_BYTES // (4 * max(n, 1)))
    for start in range(0, n, step):
        stop = min(start + step, n)
        # rows start:stop, columns < start lie below the diagonal: take them from the transposed block
        a[start:stop, :start] = a[:start, start:stop].T
        block = a[start:stop, start:stop]
        lower = np.tril_indices(stop - start, -1)
        block[lower] = block.T[lower]
