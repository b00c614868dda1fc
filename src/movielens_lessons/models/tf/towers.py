"""The two-tower network in Keras 3 on TensorFlow, and its training loop (see
:mod:`movielens_lessons.models.tf.two_tower` for the design).

Only fitting (and :meth:`~movielens_lessons.models.tf.two_tower.TwoTower.keras_network`) imports this
module: a fitted model serves from NumPy arrays, so loading and recommending need no TensorFlow.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from movielens_lessons.errors import DataValidationError
from movielens_lessons.models.tf.item_features import ItemFeatures

#: Floor of the squared norm in the L2 normalisation (as two_tower's NumPy towers).
_NORM_EPSILON = 1e-12
#: Rows per forward pass when exporting item vectors.
_EXPORT_BATCH = 4096
#: Logit given to in-batch duplicates of a row's positive item (never its negatives).
_MASKED_LOGIT = -1e9


def _l2_normalize(x: tf.Tensor) -> tf.Tensor:
    return x * tf.math.rsqrt(tf.maximum(tf.reduce_sum(x * x, axis=-1, keepdims=True), _NORM_EPSILON))


class TwoTowerNetwork(keras.Model):
    """Both towers. Item ids index ``0 .. n_items-1`` (row ``n_items`` of the id table pads histories);
    the item features are constants of the network (rebuilt from the model's state on load)."""

    def __init__(
        self,
        n_users: int,
        n_items: int,
        features: ItemFeatures,
        embedding_dim: int,
        feature_dim: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.n_items = n_items
        self.pad = n_items
        self.genre_weights = tf.constant(features.genre_weights, dtype=tf.float32)
        self.codes = tf.constant(features.codes, dtype=tf.int32)
        self.item_id = keras.layers.Embedding(n_items + 1, embedding_dim, name="item_id")
        self.user_id = keras.layers.Embedding(max(n_users, 1), embedding_dim, name="user_id")
        n_genres = int(features.genre_weights.shape[1])
        self.genres = (
            keras.layers.Dense(feature_dim, use_bias=False, name="genres") if n_genres else None
        )
        self.categoricals = [
            keras.layers.Embedding(int(size), feature_dim, name=f"feature_{name}")
            for name, size in zip(features.names.tolist(), features.sizes.tolist(), strict=True)
        ]
        self.item_out = keras.layers.Dense(embedding_dim, name="item_out")
        self.user_out = keras.layers.Dense(embedding_dim, name="user_out")

    def item_tower(self, items: tf.Tensor, id_keep: tf.Tensor) -> tf.Tensor:
        """Unit item vectors ``(batch, d)`` for internal ids ``items`` ``(batch,)``; ``id_keep``
        ``(batch, 1)`` scales the id embedding (0: features alone)."""
        parts = [self.item_id(items) * id_keep]
        if self.genres is not None:
            parts.append(self.genres(tf.gather(self.genre_weights, items)))
        codes = tf.gather(self.codes, items)
        for j, layer in enumerate(self.categoricals):
            parts.append(layer(codes[:, j]))
        joined = parts[0] if len(parts) == 1 else tf.concat(parts, axis=1)
        return _l2_normalize(self.item_out(joined))

    def user_tower(
        self, users: tf.Tensor, history: tf.Tensor, mask: tf.Tensor, id_keep: tf.Tensor
    ) -> tf.Tensor:
        """Unit user vectors ``(batch, d)``: ``history`` ``(batch, L)`` item ids (``mask`` marks the
        real ones) mean-pooled, next to the user-id embedding scaled by ``id_keep`` ``(batch, 1)``."""
        weights = tf.cast(mask, tf.float32)
        count = tf.maximum(tf.reduce_sum(weights, axis=1, keepdims=True), 1.0)
        pooled = tf.reduce_sum(self.item_id(history) * weights[:, :, None], axis=1) / count
        joined = tf.concat([pooled, self.user_id(users) * id_keep], axis=1)
        return _l2_normalize(self.user_out(joined))

    def call(self, inputs: tuple[tf.Tensor, tf.Tensor, tf.Tensor]) -> tuple[tf.Tensor, tf.Tensor]:
        """``(users, history, items)`` → ``(user vectors, item vectors)``, every id kept."""
        users, history, items = inputs
        ones = tf.ones((tf.shape(users)[0], 1))
        return (
            self.user_tower(users, history, history != self.pad, ones),
            self.item_tower(items, tf.ones((tf.shape(items)[0], 1))),
        )

    def build_all(self) -> None:
        """Create every weight with one dummy pass (before loading weights or training)."""
        self((tf.zeros((1,), tf.int32), tf.fill((1, 1), self.pad), tf.zeros((1,), tf.int32)))


def new_network(
    n_users: int, n_items: int, features: ItemFeatures, embedding_dim: int, feature_dim: int
) -> TwoTowerNetwork:
    """A built network (every weight created)."""
    network = TwoTowerNetwork(n_users, n_items, features, embedding_dim, feature_dim)
    network.build_all()
    return network


def load_network(
    path: Path,
    n_users: int,
    n_items: int,
    features: ItemFeatures,
    embedding_dim: int,
    feature_dim: int,
) -> TwoTowerNetwork:
    """A network rebuilt from the saved shapes with the weights of ``path`` (``save_weights``)."""
    network = new_network(n_users, n_items, features, embedding_dim, feature_dim)
    try:
        network.load_weights(path)
    except ValueError as exc:
        raise DataValidationError(f"{path}: weights do not fit the saved configuration: "
                                  f"{str(exc).splitlines()[0]}") from None  # fmt: skip
    return network


def seed(value: int) -> None:
    """Seed Keras (and with it Python's, NumPy's and TensorFlow's global generators) and make
    TensorFlow's ops deterministic (process-wide: TensorFlow has no public switch back)."""
    keras.utils.set_random_seed(value)
    tf.config.experimental.enable_op_determinism()


def set_threads(num_threads: int) -> None:
    """Ask TensorFlow for ``num_threads`` threads per pool (0: its own choice); warn when its pools
    are already running with another size (they are fixed when TensorFlow first runs an op)."""
    if num_threads == 0:
        return
    threading = tf.config.threading
    current = (
        threading.get_intra_op_parallelism_threads(),
        threading.get_inter_op_parallelism_threads(),
    )
    if current == (num_threads, num_threads):
        return
    try:
        threading.set_intra_op_parallelism_threads(num_threads)
        threading.set_inter_op_parallelism_threads(num_threads)
    except RuntimeError:
        warnings.warn(
            f"two-tower: num_threads={num_threads} is ignored: TensorFlow already runs with "
            f"intra/inter-op pools of {current[0]}/{current[1]} (0 = its default) in this process, "
            "and fixes them when it first runs an op",
            RuntimeWarning,
            stacklevel=4,
        )


def zero_rows(table: keras.Variable, rows: np.ndarray) -> None:
    """Set the rows of ``table`` where the boolean ``rows`` is true to zeros."""
    if rows.any():
        values = np.asarray(table.numpy())
        values[: len(rows)][rows] = 0.0
        table.assign(values)


@dataclass(frozen=True)
class TrainingSettings:
    """The optimisation parameters of :func:`train` (see ``TwoTower``)."""

    learning_rate: float
    temperature: float
    log_q_weight: float
    id_dropout: float
    batch_size: int
    n_epochs: int
    patience: int


def _epoch_bar(n_epochs: int) -> Any:
    """A tqdm bar over epochs, on stderr, shown only on a terminal (as the PyTorch models')."""
    from tqdm.auto import tqdm

    return tqdm(range(n_epochs), desc="two-tower epochs", unit="epoch", leave=False, disable=None)


def train(
    network: TwoTowerNetwork,
    users: np.ndarray,
    items: np.ndarray,
    histories: np.ndarray,
    settings: TrainingSettings,
    seed: int,
    validate: Callable[[TwoTowerNetwork], tuple[float, float]] | None,
) -> dict[str, Any]:
    """Adam epochs over the (user, item) positive pairs ``users``, ``items`` (internal ids; each
    user's pooled history is the row of ``histories`` ``(n_users, L)``), early-stopped on the
    ``(NDCG@10, recall@10)`` that ``validate`` returns after each epoch when given; leaves the best
    epoch's weights in ``network`` and returns the metrics."""
    n_items = network.n_items
    share = np.bincount(items, minlength=n_items) / len(items)
    log_q = tf.constant(
        float(settings.log_q_weight) * np.log(np.maximum(share, 1e-12)), dtype=tf.float32
    )
    history_table = tf.constant(histories, dtype=tf.int32)
    inv_temperature = 1.0 / float(settings.temperature)
    keep_prob = 1.0 - float(settings.id_dropout)
    noise = tf.random.Generator.from_seed(seed)
    optimizer = keras.optimizers.Adam(learning_rate=float(settings.learning_rate))
    variables = network.trainable_variables
    optimizer.build(variables)

    @tf.function(reduce_retracing=True, jit_compile=True)
    def step(batch_users: tf.Tensor, batch_items: tf.Tensor) -> tf.Tensor:
        size = tf.shape(batch_users)[0]
        history = tf.gather(history_table, batch_users)
        # a pair's own item is left out of its user's history: the tower would learn to copy it
        mask = (history != n_items) & (history != batch_items[:, None])
        keep_user = tf.cast(noise.uniform((size, 1)) < keep_prob, tf.float32)
        keep_item = tf.cast(noise.uniform((size, 1)) < keep_prob, tf.float32)
        with tf.GradientTape() as tape:
            u = network.user_tower(batch_users, history, mask, keep_user)
            v = network.item_tower(batch_items, keep_item)
            logits = tf.matmul(u, v, transpose_b=True) * inv_temperature
            logits -= tf.gather(log_q, batch_items)[None, :]  # log-Q correction
            duplicate = (batch_items[:, None] == batch_items[None, :]) & ~tf.eye(size, dtype=tf.bool)
            logits = tf.where(duplicate, tf.constant(_MASKED_LOGIT, tf.float32), logits)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(tf.range(size), logits)
            )
        grads = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(grads, variables, strict=True))
        return loss

    pairs = (
        tf.data.Dataset.from_tensor_slices((users.astype(np.int32), items.astype(np.int32)))
        .shuffle(len(users), seed=seed, reshuffle_each_iteration=True)
        .batch(int(settings.batch_size))
    )
    best: tuple[float, float, int, list[np.ndarray]] | None = None
    epochs_run = 0
    bar = _epoch_bar(int(settings.n_epochs))
    try:
        for epoch in bar:
            total, n_steps = 0.0, 0
            for batch_users, batch_items in pairs:
                total += float(step(batch_users, batch_items))
                n_steps += 1
            epochs_run = epoch + 1
            postfix = {"loss": f"{total / max(n_steps, 1):.4f}"}
            if validate is not None:
                ndcg, recall = validate(network)
                postfix["val_ndcg@10"] = f"{ndcg:.4f}"
                if best is None or ndcg > best[0]:
                    best = (ndcg, recall, epochs_run, [w.numpy() for w in network.weights])
                elif epochs_run - best[2] >= int(settings.patience):
                    bar.set_postfix(postfix)
                    break
            bar.set_postfix(postfix)
    finally:
        bar.close()
    if best is None:
        return {"best_epoch": epochs_run, "validation_ndcg@10": None,
                "validation_recall@10": None, "epochs_run": epochs_run}  # fmt: skip
    network.set_weights(best[3])
    return {"best_epoch": best[2], "validation_ndcg@10": best[0],
            "validation_recall@10": best[1], "epochs_run": epochs_run}  # fmt: skip


def item_vectors(network: TwoTowerNetwork) -> np.ndarray:
    """Unit vectors ``(n_items, d)`` float32 of every item, through the Keras item tower."""
    out = []
    for start in range(0, network.n_items, _EXPORT_BATCH):
        ids = tf.range(start, min(start + _EXPORT_BATCH, network.n_items), dtype=tf.int32)
        out.append(network.item_tower(ids, tf.ones((tf.shape(ids)[0], 1))).numpy())
    return np.concatenate(out).astype(np.float32)


def user_weights(network: TwoTowerNetwork) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(history_table, user_ids, kernel, bias)`` float32: the id embeddings a history is pooled from
    (padding row dropped), the user-id embeddings and the user tower's Dense layer."""
    table = np.asarray(network.item_id.embeddings.numpy(), dtype=np.float32)[: network.n_items]
    user_ids = np.asarray(network.user_id.embeddings.numpy(), dtype=np.float32)
    kernel = np.asarray(network.user_out.kernel.numpy(), dtype=np.float32)
    bias = np.asarray(network.user_out.bias.numpy(), dtype=np.float32)
    return table, user_ids, kernel, bias


__all__ = [
    "TrainingSettings",
    "TwoTowerNetwork",
    "item_vectors",
    "load_network",
    "new_network",
    "seed",
    "set_threads",
    "train",
    "user_weights",
    "zero_rows",
]
