"""ALS and BPR from the ``implicit`` library, behind the shared :class:`BaseRecommender` template.

Both wrappers call the CPU classes directly (``implicit.cpu.als`` / ``implicit.cpu.bpr``): the top-level
``implicit.als`` name is a factory that silently picks a GPU model when CUDA is present, which would make
results depend on the machine. The learned factors are exported to ``arrays.npz`` and scored with NumPy,
so a saved model never needs ``implicit`` to be unpickled (and never is).

How the defaults were chosen (ml-latest-small, all ratings as interactions): validation splits carved
from the *training* parts only — P1v = 25 % of each user's P1 training rows at random (seed 42), P2v =
the latest 20 % of each user's P2 training rows — and NDCG@10 averaged over P1v and P2v; choices
were made on these scores only. Differences below about 0.002 are within split-to-split noise.

- ALS (15 epochs, CG): regularization {25, 50, 75, 100} × alpha {5, 7, 10, 15, 20} (partial grid) at
  128 factors, then 64 / 256 factors and 30 epochs. Best: 128 factors, λ = 50, alpha = 7 (P1v 0.2214,
  P2v 0.1222); 256 factors was no better beyond noise at twice the fit time, 64 worse, 30 epochs no gain.
- BPR: the peer's 128 factors, lr 0.003, λ = 0.01, 200 epochs (P1v 0.1621, P2v 0.1050) beat
  lr 0.01 / 0.002, λ 0.001, 64 factors and 150 / 250 / 400 epochs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from movielens_lessons.data.csr_views import Weighting, check_weighting
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.models.factorization.factor_model import FactorModel
from movielens_lessons.models.params import check_int, check_number


def confidence_matrix(dataset: Dataset, weighting: Weighting, alpha: float) -> sp.csr_matrix:
    """User × item CSR of confidences ``C = 1 + alpha · w`` over the positives, float32.

    ``w`` is the dataset's implicit weight (1 for ``binary``, the rating, or ``1 + log(rating)``); cells
    that are not stored have confidence 1 and preference 0 (Hu, Koren & Volinsky 2008).
    """
    weights = dataset.implicit(check_weighting(weighting))
    # a new matrix with its own index arrays: the dataset's cached view is shared and read-only, and
    # implicit's Cython code asks for writable buffers even though it only reads them
    return sp.csr_matrix(
        (1.0 + np.float32(alpha) * weights.data, weights.indices.copy(), weights.indptr.copy()),
        shape=weights.shape,
        dtype=np.float32,
    )


def one_blas_thread():
    """A context in which BLAS runs on one thread, as implicit recommends for building and fitting.

    implicit parallelises over users/items itself; a multi-threaded BLAS underneath oversubscribes the
    cores (implicit warns about it when a model is built) and can make a fit several times slower.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1, "blas")


class _FactorModel(FactorModel):
    """A factor model whose factors come from ``implicit`` (as NumPy, whatever its backend)."""

    @staticmethod
    def _as_numpy(factors: Any) -> np.ndarray:
        # implicit returns numpy on CPU; ``to_numpy`` covers its GPU matrix type just in case
        arr = factors.to_numpy() if hasattr(factors, "to_numpy") else factors
        return np.ascontiguousarray(arr, dtype=np.float32)


class ALS(_FactorModel):
    """Implicit-feedback matrix factorisation by alternating least squares (``implicit`` library).

    Minimises ``Σ_ui c_ui (p_ui − x_u·y_i)² + λ(‖X‖² + ‖Y‖²)`` with ``p_ui = 1`` for positives (0
    elsewhere) and confidence ``c_ui = 1 + alpha · w_ui`` (``w`` from ``dataset.implicit(weighting)``).
    ``use_cg`` uses implicit's conjugate-gradient solver (3 steps per update, the library default);
    ``False`` solves each normal equation exactly by Cholesky. Every user's and item's update is
    independent of the others, so results do not depend on ``num_threads`` (0 = all cores).

    Fold-in (``recommend_for_history``) solves one exact ALS user update against the fixed item factors
    with the same confidence.
    """

    name = "als"

    def __init__(
        self,
        n_factors: int = 128,
        regularization: float = 50.0,
        alpha: float = 7.0,
        n_epochs: int = 15,
        weighting: Weighting = "binary",
        use_cg: bool = True,
        random_state: int | None = 42,
        num_threads: int = 0,
    ) -> None:
        self.n_factors = n_factors
        self.regularization = regularization
        self.alpha = alpha
        self.n_epochs = n_epochs
        self.weighting = weighting
        self.use_cg = use_cg
        self.random_state = random_state
        self.num_threads = num_threads

    def _library_model(self):
        """The configured ``implicit.cpu.als.AlternatingLeastSquares`` (unfitted)."""
        from implicit.cpu.als import AlternatingLeastSquares

        check_int("n_factors", self.n_factors)
        check_number("regularization", self.regularization, 0.0)
        check_number("alpha", self.alpha, 0.0)
        check_int("n_epochs", self.n_epochs)
        check_int("num_threads", self.num_threads, minimum=0)
        return AlternatingLeastSquares(
            factors=int(self.n_factors),
            regularization=float(self.regularization),
            alpha=1.0,  # the confidence 1 + alpha·w is built here, so the library must not rescale it
            dtype=np.float32,
            use_cg=bool(self.use_cg),
            iterations=int(self.n_epochs),
            calculate_training_loss=False,
            num_threads=int(self.num_threads),
            random_state=self.random_state,
        )

    def _fit(self, dataset: Dataset) -> None:
        confidence = confidence_matrix(dataset, self.weighting, self.alpha)
        with one_blas_thread():
            model = self._library_model()
            model.fit(confidence, show_progress=False)
        self.user_factors_ = self._as_numpy(model.user_factors)
        self.item_factors_ = self._as_numpy(model.item_factors)

    def _score_history(self, history: sp.csr_matrix) -> np.ndarray:
        """Exact ALS user step: ``x = (YᵀY + Yᵀ(C−I)Y + λI)⁻¹ Yᵀ C p`` for the one new user."""
        cols = history.indices
        if len(cols) == 0:
            return np.zeros(self.n_items, dtype=np.float32)
        y, gram = self._item_gram()
        # history values are ratings when given, else 1; map them like the training weighting
        w = np.asarray(history.data, dtype=np.float64)
        if self.weighting == "binary":
            w = np.ones_like(w)
        elif self.weighting == "log":
            w = 1.0 + np.log(np.maximum(w, 1e-6))
        conf = 1.0 + float(self.alpha) * w
        y_u = y[cols]
        a = gram + (y_u.T * (conf - 1.0)) @ y_u
        a[np.diag_indices_from(a)] += float(self.regularization)
        x = scipy.linalg.solve(a, y_u.T @ conf, assume_a="pos")
        return (self.item_factors_ @ x.astype(np.float32)).astype(np.float32)

    def _item_gram(self) -> tuple[np.ndarray, np.ndarray]:
        """The item factors as float64 ``(n_items, f)`` and their Gram matrix ``YᵀY`` ``(f, f)``,
        computed once per fit or load: every fold-in needs them, and ``YᵀY`` is most of its cost."""
        cached = getattr(self, "_item_gram_", None)
        if cached is None:
            y = self.item_factors_.astype(np.float64)
            # fit() drops every attribute ending in "_", so a refit never sees a stale Gram matrix
            cached = self._item_gram_ = (y, y.T @ y)
        return cached


class BPR(_FactorModel):
    """Bayesian Personalised Ranking by SGD over (user, positive, sampled negative) triples (``implicit``).

    Only which items a user interacted with matters (values are ignored). implicit appends an item-bias
    column, so the stored factors have ``n_factors + 1`` columns. SGD runs Hogwild-style across
    threads, so only ``num_threads=1`` (the default) makes a seeded fit reproducible.
    """

    name = "bpr"

    def __init__(
        self,
        n_factors: int = 128,
        learning_rate: float = 0.003,
        regularization: float = 0.01,
        n_epochs: int = 200,
        verify_negative_samples: bool = True,
        random_state: int | None = 42,
        num_threads: int = 1,
    ) -> None:
        self.n_factors = n_factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.n_epochs = n_epochs
        self.verify_negative_samples = verify_negative_samples
        self.random_state = random_state
        self.num_threads = num_threads

    def _library_model(self):
        """The configured ``implicit.cpu.bpr.BayesianPersonalizedRanking`` (unfitted)."""
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        check_int("n_factors", self.n_factors)
        check_number("learning_rate", self.learning_rate, 0.0, low_open=True)
        check_number("regularization", self.regularization, 0.0)
        check_int("n_epochs", self.n_epochs)
        check_int("num_threads", self.num_threads, minimum=0)
        return BayesianPersonalizedRanking(
            factors=int(self.n_factors),
            learning_rate=float(self.learning_rate),
            regularization=float(self.regularization),
            dtype=np.float32,
            iterations=int(self.n_epochs),
            num_threads=int(self.num_threads),
            verify_negative_samples=bool(self.verify_negative_samples),
            random_state=self.random_state,
        )

    def _fit(self, dataset: Dataset) -> None:
        # a writable copy: the dataset's cached view is read-only and implicit's Cython code asks for
        # writable buffers (it only reads them)
        user_items = dataset.implicit("binary").copy()
        with one_blas_thread():
            model = self._library_model()
            model.fit(user_items, show_progress=False)
        self.user_factors_ = self._as_numpy(model.user_factors)
        self.item_factors_ = self._as_numpy(model.item_factors)
