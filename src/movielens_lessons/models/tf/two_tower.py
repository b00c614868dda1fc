"""Two-tower retrieval (Yi et al., 2019, "Sampling-Bias-Corrected Neural Modeling for Large Corpus
Item Recommendations"), in Keras 3 on TensorFlow, served in NumPy.

Item tower: the item's id embedding (``embedding_dim``), the mean of its genres' embeddings (a genre
multi-hot row scaled to sum 1 times a ``(n_genres, feature_dim)`` table), and embeddings of its
release decade, its release year and, when the movies table carries IMDb columns (``data imdb`` /
``enrich_items``), of its IMDb rating and votes buckets (``feature_dim`` each; index 0 = unknown),
concatenated, one Dense layer to
``embedding_dim``, L2-normalised. The features come from :mod:`movielens_lessons.features.catalogue`
(the same genres, years and IMDb buckets LightFM and XGBoost read); without a movies table the tower
is the id embedding alone. User tower: the mean of the id embeddings (the item tower's table) of the
user's latest ``history_length`` training positives, next to a user-id embedding, one Dense layer to
``embedding_dim``, L2-normalised. A score is the cosine of the two vectors.

Loss: softmax over the batch's positive items (in-batch negatives) of the logits ``cos(u, i) / τ −
log q_i``, where ``q_i`` is item ``i``'s share of the training pairs: the log-Q correction, without
which popular items, drawn as negatives far more often than a uniform sample would draw them, are
pushed down. Duplicates of the positive item in a batch are not its negatives, and a pair's own
item is left out of its user's history (the tower would learn to copy it otherwise). Batches of
(user, item) positive pairs come from ``tf.data`` (shuffled with a seed each epoch); Adam. With
``id_dropout``, that share of the training examples have their user-id and item-id embeddings
zeroed, so both towers also learn to work from history and features alone: that is how a new user
(fold-in: the id part is zeros) and a cold item (a movie of the id map without training positives,
whose id embedding is zeros and never trained) are served.

Validation, carved from the training data only: a seeded ``validation_fraction`` of the users with
≥ 3 positives lose their latest positive, which becomes their target. After each epoch, NDCG@10 (and
recall@10) of ranking that item, the user's remaining positives excluded, is computed in NumPy from
the exported vectors; training stops after ``patience`` epochs without improvement and the best
epoch's weights are kept. Known users are then embedded from their full training history.

Serving needs no TensorFlow: after fitting, the item vectors of every item of the id map, the user
vectors of the known users and the user tower's id table and Dense layer (for fold-in) are NumPy
arrays in the model's state (``arrays.npz``). This module imports no TensorFlow; the network and its
training live in :mod:`movielens_lessons.models.tf.towers`, imported to fit. A saved model loads,
recommends and folds in new users where TensorFlow is not installed (the registry's
``load_requires``); ``two_tower.weights.h5`` (``save_weights``) keeps the Keras weights, rebuilt into
the towers by :meth:`TwoTower.keras_network` only when asked for.

Determinism: ``keras.utils.set_random_seed`` and ``tf.config.experimental.enable_op_determinism``
(process-wide, and left on: TensorFlow has no public switch back); Python's and NumPy's global
random states are put back after the fit. Two fits with the same ``random_state`` and thread count
give identical scores on the CPU. TensorFlow fixes its thread pools when it first runs an op, so
``num_threads`` only takes effect before that; later, another value warns and is ignored.

Defaults: ``embedding_dim`` 64, ``feature_dim`` 16, histories of 50, ``id_dropout`` 0.1, batches of
512 pairs, Adam 2e-3, at most 30 epochs with patience 4, every eligible user validated (as SASRec: 610
users give few targets), τ = 0.1 and ``log_q_weight`` 1.5. Chosen by hand on tune's validation
splits of ml-latest-small (the benchmark config's protocols cut again; one seed each, 2026-12-06),
validation NDCG@10 against ALS's 0.1265 (user-temporal) and 0.1812 (user-random):

- the first defaults (τ 0.3, α 1): 0.1039 / 0.1608 (0.82× / 0.89× ALS);
- α (log-Q share): 0 gives 0.0439 / 0.0544, 0.5 gives 0.0794 / 0.1258: the correction is what makes
  in-batch negatives work; with τ 0.1, α 1.25 / 1.5 / 2.0 give 0.115 / 0.117 / 0.115 (temporal) and
  0.1915 / 0.1915 / 0.168 (random). Above 1 the correction over-compensates: popular items end
  up scored above where a full softmax would put them, and MovieLens test sets reward popular movies;
- τ (α 1): 0.05 / 0.1 / 0.3 / 0.5 give 0.0969 / 0.1057 / 0.1039 / 0.0936 (temporal), 0.1592 / 0.1647 /
  0.1608 / 0.1389 (random); τ 0.2 with α 1.5: 0.1096 / 0.181;
- with τ 0.1, α 1: ``embedding_dim`` 128, batches of 256 or 1,024, 60 epochs with patience 10, Adam
  5e-3 and ``id_dropout`` 0 moved validation by less than the seed does; histories of 200 or 1,000
  did not help (0.1032 / 0.1025 temporal, at 2-7× the fit time);
- the shipped setting with ``random_state`` 7: 0.1209 / 0.1861, so 0.92-0.96× ALS on user-temporal
  and 1.03-1.06× on user-random over two seeds.

On synthetic data of other shapes (``synthesize``: 3,000 users × 2,000 movies × 150,000 ratings, and
1,000 × 6,000 × 60,000; with and without the movies table) the same defaults were checked against ALS
and EASE on validation splits of both protocols, NDCG@10 as a multiple of ALS's (user-random /
user-temporal): on the first 1.05× / 1.02× with movies, 1.01× / 0.995× without; on the second,
where ALS leads every model (EASE: 0.91× / 0.91×), 0.88× / 0.96× with movies and 0.91× / 0.93×
without. Synthetic release years carry no taste, so there the year feature is noise: before it was
added the second shape scored 0.92× / 0.98× with movies.

The release-year feature (next to the decade) was added for item cold start, on the reasoning that a
new movie is a recent release. On the user-temporal validation split it changed neither the shipped
setting's recall@10 on the movies rated only in validation parts (0 with and without it) nor its
NDCG@10 by more than the seed does: 0.1175 / 0.1139 (seeds 42 / 7; 0.90-0.93× ALS), and 0.1853 /
0.1899 on user-random (1.02-1.05×); the two seeds above are without it. On the test split it took
that recall from 0 to 0.0031 (``benchmarks/item_cold_start.py``, ``docs/lessons/item-cold-start.md``;
measured after the choice, not used for it). On the validation split, ``id_dropout`` 0.5 with
``log_q_weight`` 1.25 put more new movies into the top 10 (cold recall@10 0.0018 against 0) at
0.86-0.90× ALS on user-temporal: the lesson's dial, not the default. A fit on ml-latest-small takes
10-30 s on 2 cores (the step is compiled with XLA); early stopping ends it after about 10 epochs.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import DataValidationError
from movielens_lessons.models.base import BaseRecommender
from movielens_lessons.models.params import check_int, check_number, check_seed
from movielens_lessons.models.tf.item_features import ItemFeatures, item_features

if TYPE_CHECKING:
    from movielens_lessons.models.tf.towers import TwoTowerNetwork

WEIGHTS_FILE = "two_tower.weights.h5"
#: Users need this many positives to give one up for validation.
MIN_VALIDATION_POSITIVES = 3
#: Cut-off of the validation metrics.
VALIDATION_K = 10
#: Floor of the squared norm in the L2 normalisation (as ``tf.math.l2_normalize``).
NORM_EPSILON = 1e-12


# --- the NumPy towers (serving) --------------------------------------------------------------------


def _l2_normalize_np(x: np.ndarray) -> np.ndarray:
    sq = np.maximum(np.sum(x * x, axis=-1, keepdims=True), np.float32(NORM_EPSILON))
    return (x / np.sqrt(sq)).astype(np.float32)


def user_vectors(
    histories: np.ndarray,
    user_id_vectors: np.ndarray,
    table: np.ndarray,
    kernel: np.ndarray,
    bias: np.ndarray,
) -> np.ndarray:
    """The user tower in NumPy: ``histories`` ``(n, L)`` of item ids (``len(table)`` = padding)
    mean-pooled from ``table`` ``(n_items, d)``, next to ``user_id_vectors`` ``(n, d)``, through the
    Dense layer (``kernel`` ``(2d, d)``, ``bias`` ``(d,)``), L2-normalised; ``(n, d)`` float32."""
    real = histories < len(table)
    gathered = table[np.where(real, histories, 0)] * real[:, :, None]
    pooled = gathered.sum(axis=1) / np.maximum(real.sum(axis=1), 1)[:, None]
    joined = np.concatenate([pooled, user_id_vectors], axis=1).astype(np.float32)
    return _l2_normalize_np(joined @ kernel + bias)


def next_item_metrics(
    user_vecs: np.ndarray, item_vecs: np.ndarray, histories: np.ndarray, targets: np.ndarray
) -> tuple[float, float]:
    """NDCG@10 and recall@10 of ranking one target item per user (``targets`` ``(n,)``) by the dot
    products of ``user_vecs`` ``(n, d)`` and ``item_vecs`` ``(n_items, d)``, each user's ``histories``
    ``(n, L)`` items (``n_items`` = padding) excluded."""
    scores = user_vecs @ item_vecs.T
    n_items = len(item_vecs)
    rows = np.repeat(np.arange(len(targets)), histories.shape[1])
    cols = histories.ravel()
    real = cols != n_items
    scores[rows[real], cols[real]] = -np.inf
    target_scores = scores[np.arange(len(targets)), targets]
    rank = (scores > target_scores[:, None]).sum(axis=1)
    hit = rank < VALIDATION_K
    ndcg = np.where(hit, 1.0 / np.log2(rank + 2.0), 0.0)
    return float(ndcg.mean()), float(hit.mean())


# --- the model --------------------------------------------------------------------------------------


def recent_items(
    users: np.ndarray, items: np.ndarray, n_users: int, length: int, pad: int
) -> np.ndarray:
    """Each user's latest ``length`` items ``(n_users, length)`` int32, oldest first, right-padded with
    ``pad``. ``users`` must be grouped (non-decreasing) with ``items`` in time order, as the Dataset
    stores them."""
    counts = np.bincount(users, minlength=n_users)
    ends = np.cumsum(counts)
    from_end = ends[users] - np.arange(len(users)) - 1  # 0 = the user's latest item
    keep = from_end < length
    slot = np.minimum(counts[users], length) - 1 - from_end
    out = np.full((n_users, length), pad, dtype=np.int32)
    out[users[keep], slot[keep]] = items[keep]
    return out


class TwoTower(BaseRecommender):
    """Two-tower retrieval with in-batch softmax and log-Q correction, on implicit feedback (see the
    module for the design).

    Parameters: ``embedding_dim`` d, width of the id embeddings and of the towers' outputs;
    ``feature_dim``, width of each item-feature embedding (genres, decade, IMDb buckets);
    ``history_length``, the latest training positives a user tower pools (items); ``temperature`` τ >
    0 (logits are cosines / τ); ``log_q_weight`` α in [0, 2], the multiple of the log-Q correction
    subtracted (1: the full correction; 0: none, so popular items, drawn as negatives more often,
    are pushed down; above 1, they end up above where a full softmax would put them); ``id_dropout`` in [0, 1), share of training examples whose user-id and
    item-id embeddings are zeroed; Adam's ``learning_rate``; ``batch_size`` (user, item) positive
    pairs per step, which are also each other's negatives; at most ``n_epochs`` epochs, stopping after
    ``patience`` epochs without a better validation NDCG@10 on a ``validation_fraction`` of the users
    with ≥ 3 positives (0: no validation, every epoch runs); ``num_threads`` TensorFlow threads per
    pool (0: its choice; effective only before TensorFlow first runs); ``random_state`` seed (None:
    a fresh one).

    Learned (NumPy, float32): ``item_vectors_`` ``(n_items, d)`` unit vectors of every item of the id
    map (cold items from their features), ``user_vectors_`` ``(n_users, d)``, ``active_users_`` (users
    with a training positive; the others get the training popularity), ``trained_items_`` (items with
    a positive in the pairs trained on), ``history_table_`` ``(n_items, d)`` (the id embeddings a
    history is pooled from), ``user_kernel_`` ``(2d, d)`` and ``user_bias_`` ``(d,)`` (the user tower's
    Dense layer), the item features (``genre_weights_``, ``feature_codes_``, ``feature_sizes_``,
    ``feature_names_``); ``network_`` (the Keras towers, after a fit; :meth:`keras_network` rebuilds
    them for a loaded model) and ``training_metrics_`` (``best_epoch``,
    1-based, ``validation_ndcg@10``, ``validation_recall@10``, ``epochs_run``).
    """

    name = "two-tower"
    feedback = "implicit"
    scores_unrated_items = True

    def __init__(
        self,
        embedding_dim: int = 64,
        feature_dim: int = 16,
        history_length: int = 50,
        temperature: float = 0.1,
        log_q_weight: float = 1.5,
        id_dropout: float = 0.1,
        learning_rate: float = 2e-3,
        batch_size: int = 512,
        n_epochs: int = 30,
        patience: int = 4,
        validation_fraction: float = 1.0,
        num_threads: int = 0,
        random_state: int | None = 42,
    ) -> None:
        self.embedding_dim = embedding_dim
        self.feature_dim = feature_dim
        self.history_length = history_length
        self.temperature = temperature
        self.log_q_weight = log_q_weight
        self.id_dropout = id_dropout
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.num_threads = num_threads
        self.random_state = random_state

    # --- parameters ------------------------------------------------------------------------------

    def _check_params(self) -> None:
        name = self.name
        for key in ("embedding_dim", "feature_dim", "history_length", "batch_size", "n_epochs",
                    "patience"):  # fmt: skip
            check_int(f"{name}: {key}", getattr(self, key))
        check_int(f"{name}: num_threads", self.num_threads, minimum=0)
        check_number(f"{name}: temperature", self.temperature, 0.0, low_open=True)
        check_number(f"{name}: log_q_weight", self.log_q_weight, 0.0, 2.0)
        check_number(f"{name}: id_dropout", self.id_dropout, 0.0, 1.0, high_open=True)
        check_number(f"{name}: learning_rate", self.learning_rate, 0.0, low_open=True)
        check_number(f"{name}: validation_fraction", self.validation_fraction, 0.0, 1.0)
        check_seed(f"{name}: random_state", self.random_state)

    # --- fitting ---------------------------------------------------------------------------------

    def _fit(self, dataset: Dataset) -> None:
        self._check_params()
        positive = dataset.positive_mask
        users = dataset.users[positive].astype(np.int64)
        items = dataset.items[positive].astype(np.int64)
        if not len(users):
            raise DataValidationError(f"{self.name} needs training positives; the dataset has none")
        seed = (
            int(np.random.SeedSequence().generate_state(1)[0] >> 1)
            if self.random_state is None
            else int(self.random_state)
        )
        rng = np.random.default_rng(seed)
        n_users, n_items = dataset.n_users, dataset.n_items

        # validation carve-out: the latest positive of a seeded share of the users with ≥ 3
        counts = np.bincount(users, minlength=n_users)
        eligible = np.flatnonzero(counts >= MIN_VALIDATION_POSITIVES)
        n_val = round(float(self.validation_fraction) * len(eligible))
        if self.validation_fraction > 0 and len(eligible):
            n_val = max(n_val, 1)
        val_users = np.sort(rng.choice(eligible, n_val, replace=False)) if n_val else eligible[:0]
        last = np.cumsum(counts) - 1
        held_out = np.zeros(len(users), dtype=bool)
        held_out[last[val_users]] = True
        val_targets = items[last[val_users]]
        train_users, train_items = users[~held_out], items[~held_out]

        self.trained_items_ = np.bincount(train_items, minlength=n_items) > 0
        self.active_users_ = counts > 0
        features = item_features(dataset)
        self.genre_weights_ = features.genre_weights
        self.feature_codes_ = features.codes
        self.feature_sizes_ = features.sizes
        self.feature_names_ = features.names
        length = int(self.history_length)
        train_histories = recent_items(train_users, train_items, n_users, length, n_items)

        from movielens_lessons.models.tf import towers  # TensorFlow: only to fit

        settings = towers.TrainingSettings(
            learning_rate=float(self.learning_rate),
            temperature=float(self.temperature),
            log_q_weight=float(self.log_q_weight),
            id_dropout=float(self.id_dropout),
            batch_size=int(self.batch_size),
            n_epochs=int(self.n_epochs),
            patience=int(self.patience),
        )
        val_history = train_histories[val_users]

        def validate(network: TwoTowerNetwork) -> tuple[float, float]:
            table, user_ids, kernel, bias = towers.user_weights(network)
            users_vecs = user_vectors(val_history, user_ids[val_users], table, kernel, bias)
            return next_item_metrics(users_vecs, towers.item_vectors(network), val_history,
                                     val_targets)  # fmt: skip

        # keras.utils.set_random_seed also seeds the global generators: put them back afterwards
        py_state, np_state = random.getstate(), np.random.get_state()  # noqa: NPY002
        try:
            towers.set_threads(int(self.num_threads))  # first: TensorFlow may not have started yet
            towers.seed(seed)
            network = towers.new_network(
                n_users, n_items, self._features(), int(self.embedding_dim), int(self.feature_dim)
            )
            # ids without a training pair are never updated: zeros, so they add nothing untrained
            towers.zero_rows(network.item_id.embeddings, ~self.trained_items_)
            towers.zero_rows(
                network.user_id.embeddings, np.bincount(train_users, minlength=n_users) == 0
            )
            metrics = towers.train(
                network, train_users, train_items, train_histories, settings, seed,
                validate if len(val_users) else None,
            )  # fmt: skip
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)  # noqa: NPY002
        self.network_ = network
        self.training_metrics_ = metrics
        # the NumPy state that serves the model: item vectors of every item, user vectors of the
        # known users from their full training history, the user tower's weights for fold-in
        table, user_ids, kernel, bias = towers.user_weights(network)
        self.item_vectors_ = towers.item_vectors(network)
        self.history_table_, self.user_kernel_, self.user_bias_ = table, kernel, bias
        histories = recent_items(users, items, n_users, length, n_items)
        self.user_vectors_ = user_vectors(histories, user_ids[:n_users], table, kernel, bias)
        self._weights_path: Path | None = None

    def _features(self) -> ItemFeatures:
        return ItemFeatures(
            self.genre_weights_, self.feature_codes_, self.feature_sizes_, self.feature_names_
        )

    def keras_network(self) -> TwoTowerNetwork:
        """The Keras towers (``network_``): the fitted network, or for a loaded model the saved
        weights rebuilt into one (this needs TensorFlow; serving does not)."""
        network = getattr(self, "network_", None)
        if network is not None:
            return network
        path = getattr(self, "_weights_path", None)
        if path is None:
            raise DataValidationError(
                f"{self.name}: no Keras network: the model was neither fitted nor loaded from a "
                f"folder with {WEIGHTS_FILE}"
            )
        from movielens_lessons.models.tf import towers

        self.network_ = towers.load_network(
            path, len(self.user_ids_), len(self.item_ids_), self._features(),
            int(self.embedding_dim), int(self.feature_dim),
        )  # fmt: skip
        return self.network_

    # --- scoring (NumPy only) --------------------------------------------------------------------

    def _score(self, users: np.ndarray) -> np.ndarray:
        scores = self.user_vectors_[users] @ self.item_vectors_.T
        inactive = ~self.active_users_[users]
        if inactive.any():  # no training positive: the training popularity, as for unknown users
            scores[inactive] = self.item_popularity_.astype(np.float32)
        return scores

    def _fold_in(self, items: np.ndarray) -> np.ndarray:
        """Scores ``(n_items,)`` for a new user whose positives are ``items`` (internal ids, oldest
        first): the latest ``history_length`` trained items pooled, the user-id part zeros; with no
        trained item, the training popularity."""
        items = np.asarray(items, dtype=np.int64)
        items = items[self.trained_items_[items]][-int(self.history_length) :]
        if not len(items):
            return self.item_popularity_.astype(np.float32)
        d = self.history_table_.shape[1]
        user = user_vectors(
            items[None, :], np.zeros((1, d), dtype=np.float32), self.history_table_,
            self.user_kernel_, self.user_bias_,
        )  # fmt: skip
        return (user @ self.item_vectors_.T)[0]

    def _score_history_items(self, items: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Every history item counts as a positive, whatever its value; the order picks the latest."""
        return self._fold_in(items)

    def _score_history(self, history: sp.csr_matrix) -> np.ndarray:
        """Every stored item of the row counts as a positive (in column order: without times, the
        ``history_length`` kept are the highest ids)."""
        row = sp.csr_matrix(history)
        return self._fold_in(row.indices[row.data != 0])

    def _item_vectors(self) -> np.ndarray:
        return self.item_vectors_

    # --- persistence -----------------------------------------------------------------------------

    _STATE = (
        "item_vectors_", "user_vectors_", "active_users_", "trained_items_", "history_table_",
        "user_kernel_", "user_bias_", "genre_weights_", "feature_codes_", "feature_sizes_",
        "feature_names_",
    )  # fmt: skip

    def _get_state(self) -> dict[str, np.ndarray]:
        return {key: getattr(self, key) for key in self._STATE}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        for key in self._STATE:
            setattr(self, key, state[key])

    def _save_files(self, folder: Path) -> None:
        network = getattr(self, "network_", None)
        if network is not None:
            network.save_weights(folder / WEIGHTS_FILE)
            return
        source = getattr(self, "_weights_path", None)
        if source is None:
            raise DataValidationError(f"{self.name}: no Keras weights to save")
        if source.resolve() != (folder / WEIGHTS_FILE).resolve():
            shutil.copyfile(source, folder / WEIGHTS_FILE)

    def _load_files(self, folder: Path) -> None:
        # the Keras weights are read only when keras_network() is asked for: serving is NumPy
        path = folder / WEIGHTS_FILE
        if not path.is_file():
            raise DataValidationError(f"{path}: the model's weights are missing")
        self._weights_path = path


__all__ = [
    "ItemFeatures",
    "TwoTower",
    "item_features",
    "next_item_metrics",
    "recent_items",
    "user_vectors",
]
