"""PureSVD (Cremonesi, Koren & Turrin, 2010): a truncated SVD of the user × item matrix of positives.

``X ≈ U Σ Vᵀ`` with ``n_factors`` singular triplets. A user's scores are their row of the low-rank
reconstruction, ``x_u V Vᵀ`` (= ``U_u Σ Vᵀ``): the projection of the user's history onto the item
"taste space" spanned by ``V``. A new user folds in for free: ``history · V Vᵀ``; no refit needed.

``item_scaling`` (EigenRec-style, Nikolakopoulos et al. 2017) scales column ``j`` of ``X`` by
``popularity_j ** (item_scaling − 1) / 2`` before the decomposition (``1.0``: plain PureSVD; lower
values shrink popular items so the factors describe niche taste more). The user's history itself is
never rescaled, so scores stay ``x_u V Vᵀ``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import svds

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError
from movielens_lessons.models.base import BaseRecommender


class PureSVD(BaseRecommender):
    """Truncated SVD of the binary implicit matrix (scipy ARPACK, seeded by ``random_state``).

    ``n_factors`` is capped at ``min(n_users, n_items) − 1`` (ARPACK's limit) on small data. Learned:
    ``item_factors_`` ``V`` ``(n_items, f)``, ``singular_values_`` ``(f,)`` (descending) and
    ``user_factors_`` ``x_u V`` ``(n_users, f)``, all float32.
    """

    name = "pure-svd"

    def __init__(
        self, n_factors: int = 24, item_scaling: float = 1.0, random_state: int = 42
    ) -> None:
        self.n_factors = n_factors
        self.item_scaling = item_scaling
        self.random_state = random_state

    def _fit(self, dataset: Dataset) -> None:
        if isinstance(self.n_factors, bool) or not isinstance(self.n_factors, (int, np.integer)):
            raise ConfigError(f"n_factors must be a positive integer, got {self.n_factors!r}")
        if self.n_factors <= 0:
            raise ConfigError(f"n_factors must be a positive integer, got {self.n_factors!r}")
        x = sp.csr_matrix(dataset.implicit(), dtype=np.float32, copy=True)
        x.data[:] = 1.0
        positives = x.copy()
        if self.item_scaling != 1.0:
            counts = np.asarray(x.sum(axis=0)).ravel()
            scale = np.power(np.maximum(counts, 1.0), (float(self.item_scaling) - 1.0) / 2.0)
            x = (x @ sp.diags(scale.astype(np.float32))).tocsr()  # already CSR: no copy
        f = min(int(self.n_factors), min(x.shape) - 1)
        if f < 1:
            raise ConfigError(f"pure-svd needs at least 2 users and 2 items, got shape {x.shape}")
        # ARPACK in float64: float32 Lanczos loses orthogonality on the larger triplets
        _, sigma, vt = svds(
            x.astype(np.float64), k=f, random_state=np.random.default_rng(self.random_state)
        )
        order = np.argsort(-sigma, kind="stable")
        v = vt[order].T
        # fix each factor's sign (largest-magnitude entry positive) so refits agree exactly
        flip = np.sign(v[np.abs(v).argmax(axis=0), np.arange(f)])
        flip[flip == 0] = 1.0
        self.item_factors_ = (v * flip).astype(np.float32)
        self.singular_values_ = sigma[order].astype(np.float32)
        self.user_factors_ = np.asarray(positives @ self.item_factors_, dtype=np.float32)

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T

    def _score_history(self, history: sp.csr_matrix) -> np.ndarray:
        h = sp.csr_matrix(history, dtype=np.float32, copy=True)
        h.data = (h.data > 0).astype(np.float32)  # every history item counts as one positive
        return np.asarray(h @ self.item_factors_).ravel() @ self.item_factors_.T

    def _item_vectors(self) -> np.ndarray:
        # V Σ: factors weighted by their strength, so similar_items is not driven by the weakest ones
        return self.item_factors_ * self.singular_values_[None, :]

    def _get_state(self) -> dict[str, np.ndarray]:
        return {
            "item_factors_": self.item_factors_,
            "singular_values_": self.singular_values_,
            "user_factors_": self.user_factors_,
        }

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.item_factors_ = state["item_factors_"]
        self.singular_values_ = state["singular_values_"]
        self.user_factors_ = state["user_factors_"]
