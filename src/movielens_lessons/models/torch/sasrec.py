"""SASRec (Kang & McAuley, 2018): a causal self-attention transformer over each user's items in time
order, trained with full-catalogue cross-entropy as in Klenitskiy & Vasilev (2023, "Turning Dross
Into Gold Loss: is BERT4Rec really better than SASRec?").

Input: each user's positive training items (the implicit view) in the Dataset's (user, timestamp,
item) order, the last ``max_length`` kept and left-padded: ``sequences_`` ``(n_users, max_length)``
int64, 0 = padding, ``c + 1`` = the ``c``-th of ``kept_items_``, the items with a training positive
(the network never sees the rest of the id map, so a test-only movie changes nothing; those items
score ``-inf``). Without timestamps that order is by item id, which carries no sequence at all.

Network, with ``d = hidden_dim``: item embeddings ``E`` ``(n_items + 1, d)`` (row 0 = padding) times
√d plus learned positions ``(max_length, d)`` (right-aligned: the latest item always sits at the last
position), dropout, ``n_blocks`` pre-LN transformer blocks (``n_heads`` heads, feed-forward width
``d``) whose self-attention is causal and never attends to padding, a final LayerNorm. The scores at
position ``t`` are ``h_t · E[1:]ᵀ``, ``(n_items,)``: the output layer is the input embedding (tied).

Loss: at every non-padded position, softmax cross-entropy over the whole catalogue of the next item
(the original paper samples one negative; Klenitskiy & Vasilev show the full softmax is what lifts
SASRec above BERT4Rec). A history longer than ``max_length + 1`` is cut into consecutive windows
(:func:`training_windows`), so every next-item pair of every user is trained on once an epoch. The logits are built and backpropagated in row chunks of at most ~64 MiB, so a batch never
holds its whole ``(positions, n_items)`` block.

Validation, carved from the training data (never from a test set): a seeded ``validation_fraction`` of
the users with ≥ 3 training items lose their last item, which becomes their target; they train on the
rest. After each epoch, NDCG@10 of ranking that item from the prefix (the prefix's items excluded)
drives early stopping (``patience`` epochs without improvement); the best epoch's weights are kept.
Known users are then scored from their full training sequence, held-out item included; users (and
new histories) without any item get the training popularity.

Defaults: the network is the SASRec paper's MovieLens-1M setting, which Klenitskiy & Vasilev keep
(d = 64, 2 blocks, 1 head, dropout 0.2); ``max_length`` 200 covers the median ml-latest-small user
(~70 ratings). Training differs, because ml-latest-small has 610 users, not 6,040: 128 sequences a
batch gave ~5 Adam steps an epoch and stopped (on 61 noisy validation users) before learning
anything (test NDCG@10 0.068 on user-temporal, below most-popular's 0.088). Every user's last item
is the validation target (``validation_fraction=1.0``: 610 targets instead of 61; each user gives
up one training pair), batches of 32 windows, learning rate 2e-3, at most 30 epochs, patience 4.
On ``tune``'s validation split of user-temporal (carved from the training part; 2 cores,
2026-12-06): NDCG@10 0.1158 in 208 s (best epoch 22 of 27) against EASE's 0.1354; learning rate
4e-3 gave 0.1103 (best epoch 11). Not yet chosen on a second data set.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError, DataValidationError
from movielens_lessons.models.base import BaseRecommender
from movielens_lessons.models.params import check_int, check_number, check_seed
from movielens_lessons.models.torch.runtime import (
    EarlyStopping,
    check_threads,
    epoch_bar,
    load_weights,
    pick_device,
    save_weights,
    training_context,
)

#: Bound on one chunk of the (positions, n_items) float32 logits in the loss and in scoring.
_LOGIT_BLOCK_BYTES = 64 * 2**20
#: Sequences per forward pass when scoring: bounds the (batch·heads, L, L) attention weights.
_SCORE_BATCH = 256
#: Cut-off of the validation metric (NDCG@10).
_VALIDATION_K = 10


class SASRecNetwork(nn.Module):
    """Embeddings, causal transformer blocks and a final LayerNorm; ``forward`` maps item sequences
    ``(batch, L)`` (int64, 0 = padding, ``L ≤ max_length``, right-aligned) to hidden states
    ``(batch, L, d)``."""

    def __init__(
        self, n_items: int, max_length: int, d: int, n_blocks: int, n_heads: int, dropout: float
    ) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.items = nn.Embedding(n_items + 1, d, padding_idx=0)
        # std d^-1/2: tied output logits h·e start near unit variance (h is LayerNorm-ed, |h| ≈ √d)
        nn.init.normal_(self.items.weight, std=d**-0.5)
        with torch.no_grad():
            self.items.weight[0].zero_()
        self.positions = nn.Embedding(max_length, d)
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(
                d,
                n_heads,
                dim_feedforward=d,
                dropout=dropout,
                activation="gelu",
                batch_first=True,
                norm_first=True,
            )
            for _ in range(n_blocks)
        )
        self.norm = nn.LayerNorm(d)
        self.scale = math.sqrt(d)

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        length = seq.shape[1]
        positions = self.positions.weight[self.positions.num_embeddings - length :]
        x = self.dropout(self.items(seq) * self.scale + positions)
        mask = attention_mask(seq == 0).repeat_interleave(self.n_heads, dim=0)
        for block in self.blocks:
            x = block(x, src_mask=mask)
        out: torch.Tensor = self.norm(x)
        return out

    def output_weights(self) -> torch.Tensor:
        """The real items' embeddings ``(n_items, d)``: the tied output layer."""
        return self.items.weight[1:]

    def last_scores(self, seq: torch.Tensor) -> torch.Tensor:
        """Scores ``(batch, n_items)`` for the item after each sequence's last position."""
        return self(seq)[:, -1] @ self.output_weights().T


def attention_mask(pad: torch.Tensor) -> torch.Tensor:
    """Blocked pairs ``(batch, L, L)`` (True = may not attend) for a padding mask ``(batch, L)``.

    Position ``i`` sees positions ``j ≤ i`` that are not padding, and always itself: a padded position
    (left of every real item) then attends only to itself, so no softmax row is empty (which would give
    NaN), and no real position ever sees padding.
    """
    length = pad.shape[1]
    future = torch.ones(length, length, dtype=torch.bool, device=pad.device).triu(1)
    eye = torch.eye(length, dtype=torch.bool, device=pad.device)
    return future[None] | (pad[:, None, :] & ~eye[None])


def pad_sequences(users: np.ndarray, items: np.ndarray, n_rows: int, length: int) -> np.ndarray:
    """Each row's last ``length`` items, left-padded: ``(n_rows, length)`` int64 of ``item + 1``.

    ``users`` must be grouped (non-decreasing, as the Dataset stores them) with ``items`` in order.
    """
    ends = np.cumsum(np.bincount(users, minlength=n_rows))
    from_end = ends[users] - np.arange(len(users)) - 1  # 0 = the row's latest item
    keep = from_end < length
    out = np.zeros((n_rows, length), dtype=np.int64)
    out[users[keep], length - 1 - from_end[keep]] = items[keep].astype(np.int64) + 1
    return out


def training_windows(users: np.ndarray, items: np.ndarray, n_users: int, length: int
                     ) -> np.ndarray:
    """Every user's whole history cut into windows of ``length + 1`` items, ``(n_windows, length +
    1)`` int64 of ``item + 1``, left-padded: the latest window ends at the user's latest item and
    each earlier one ends where the next one's inputs start, so every next-item pair is a target
    exactly once (a heavy user is not cut to their last ``length`` items). Windows with fewer than
    two items (no pair) are dropped. ``users`` grouped, ``items`` in order, as the Dataset stores."""
    counts = np.bincount(users, minlength=n_users)
    ends = np.cumsum(counts)
    from_end = ends[users] - np.arange(len(users)) - 1  # 0 = the user's latest item
    # window w holds the items with from_end in [w·length, w·length + length]: its last item is
    # the one before window w-1's first target; the shared item is an input here, a target there
    out = []
    n_windows = (np.maximum(counts - 1, 0) + length - 1) // length
    for w in range(int(n_windows.max(initial=0))):
        lo = w * length
        pick = (from_end >= lo) & (from_end <= lo + length)
        rows = np.zeros((n_users, length + 1), dtype=np.int64)
        rows[users[pick], length - (from_end[pick] - lo)] = items[pick].astype(np.int64) + 1
        out.append(rows[(rows != 0).sum(axis=1) >= 2])
    return np.concatenate(out) if out else np.zeros((0, length + 1), dtype=np.int64)


def trim_padding(*seqs: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Drop the leading columns that are padding in every row of ``seqs[0]`` (positions are
    right-aligned and padding is never attended to, so the result is the same, only cheaper)."""
    real = (seqs[0] != 0).any(dim=0)
    first = int(real.to(torch.int64).argmax()) if bool(real.any()) else seqs[0].shape[1] - 1
    return tuple(s[:, first:] for s in seqs)


class SASRec(BaseRecommender):
    """Self-attentive sequential recommendation with full softmax cross-entropy (see the module).

    ``hidden_dim`` d, ``n_blocks`` transformer blocks of ``n_heads`` heads (d divisible by it),
    ``max_length`` items per sequence, ``dropout`` rate, Adam's ``learning_rate``, ``batch_size`` users
    per step, at most ``n_epochs`` epochs, early stopping after ``patience`` epochs without a better
    validation NDCG@10 on a ``validation_fraction`` of users (0: no validation, all ``n_epochs``
    run). ``device``: "auto" (CUDA when present), "cpu" or "cuda[:N]"; ``num_threads`` CPU threads (0:
    PyTorch's choice). Learned: ``network_`` (:class:`SASRecNetwork`), ``kept_items_`` (internal ids
    of its items), ``sequences_`` ``(n_users, max_length)``, ``training_metrics_`` (best epoch, its
    validation NDCG@10, epochs run).
    """

    name = "sasrec"
    feedback = "implicit"

    def __init__(
        self,
        hidden_dim: int = 64,
        n_blocks: int = 2,
        n_heads: int = 1,
        max_length: int = 200,
        dropout: float = 0.2,
        learning_rate: float = 2e-3,
        batch_size: int = 32,
        n_epochs: int = 30,
        patience: int = 4,
        validation_fraction: float = 1.0,
        device: str = "auto",
        num_threads: int = 0,
        random_state: int = 42,
    ) -> None:
        self.hidden_dim = hidden_dim
        self.n_blocks = n_blocks
        self.n_heads = n_heads
        self.max_length = max_length
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.device = device
        self.num_threads = num_threads
        self.random_state = random_state

    # --- parameters ------------------------------------------------------------------------------

    def _check_params(self) -> None:
        for key in ("hidden_dim", "n_blocks", "n_heads", "max_length", "batch_size", "n_epochs",
                    "patience"):  # fmt: skip
            check_int(f"sasrec: {key}", getattr(self, key))
        if self.hidden_dim % self.n_heads:
            raise ConfigError(
                f"sasrec: hidden_dim ({self.hidden_dim}) must be divisible by n_heads ({self.n_heads})"
            )
        check_number("sasrec: dropout", self.dropout, 0.0, 1.0, high_open=True)
        check_number("sasrec: validation_fraction", self.validation_fraction, 0.0, 1.0)
        check_number("sasrec: learning_rate", self.learning_rate, 0.0, low_open=True)
        check_seed("sasrec: random_state", self.random_state)
        check_threads(self.num_threads)

    def _new_network(self) -> SASRecNetwork:
        return SASRecNetwork(
            len(self.kept_items_), int(self.max_length), int(self.hidden_dim), int(self.n_blocks),
            int(self.n_heads), float(self.dropout),
        )  # fmt: skip

    # --- fitting ---------------------------------------------------------------------------------

    def _fit(self, dataset: Dataset) -> None:
        self._check_params()
        device = pick_device(self.device)
        length = int(self.max_length)
        positive = dataset.positive_mask
        users = dataset.users[positive].astype(np.int64)
        items = dataset.items[positive].astype(np.int64)
        n_users = dataset.n_users
        # the network's catalogue is the items with a training positive (compact ids), so its size
        # and initialisation do not depend on movies the id map knows from elsewhere (a test split)
        self.kept_items_ = np.unique(items)
        items = np.searchsorted(self.kept_items_, items)
        self.sequences_ = pad_sequences(users, items, n_users, length)

        # validation carve-out: the last item of a seeded share of the users with ≥ 3 items
        counts = np.bincount(users, minlength=n_users)
        eligible = np.flatnonzero(counts >= 3)
        n_val = round(float(self.validation_fraction) * len(eligible))
        if self.validation_fraction > 0 and len(eligible):
            n_val = max(n_val, 1)
        rng = np.random.default_rng(self.random_state)
        val_users = (
            np.sort(rng.choice(eligible, size=n_val, replace=False)) if n_val else eligible[:0]
        )
        last = np.cumsum(counts) - 1  # index of each user's latest interaction
        held_out = np.zeros(len(users), dtype=bool)
        held_out[last[val_users]] = True
        val_targets = items[last[val_users]] + 1
        train_users, train_items = users[~held_out], items[~held_out]

        windows = training_windows(train_users, train_items, n_users, length)
        if not len(windows):
            raise DataValidationError(
                "sasrec needs at least one user with two or more training items to learn from"
            )
        val_prefix = pad_sequences(train_users, train_items, n_users, length)[val_users]

        with training_context(self.random_state, int(self.num_threads)) as generator:
            net = self._new_network().to(device)
            inputs = torch.from_numpy(windows[:, :-1]).to(device)
            targets = torch.from_numpy(windows[:, 1:]).to(device)
            val_x = torch.from_numpy(val_prefix).to(device)
            val_y = torch.from_numpy(val_targets).to(device)
            optimizer = torch.optim.Adam(net.parameters(), lr=float(self.learning_rate))
            stopper = EarlyStopping(int(self.patience))
            batch = int(self.batch_size)
            epochs_run = 0
            bar = epoch_bar(int(self.n_epochs), self.name)
            try:
                for epoch in bar:
                    net.train()
                    order = torch.randperm(len(inputs), generator=generator).to(device)
                    for start in range(0, len(order), batch):
                        rows = order[start : start + batch]
                        x, y = trim_padding(inputs[rows], targets[rows])
                        optimizer.zero_grad(set_to_none=True)
                        full_softmax_backward(net, x, y)
                        optimizer.step()
                    epochs_run = epoch + 1
                    if not len(val_x):
                        continue
                    score = validation_ndcg(net, val_x, val_y)
                    bar.set_postfix({"val_ndcg@10": f"{score:.4f}"})
                    if stopper.update(epoch, score, net):
                        break
            finally:
                bar.close()
            stopper.restore(net)
        net.eval()
        self.network_ = net
        self.training_metrics_ = {
            "best_epoch": stopper.best_epoch if len(val_x) else epochs_run - 1,
            "validation_ndcg@10": stopper.best_score if len(val_x) else None,
            "epochs_run": epochs_run,
        }

    # --- scoring ---------------------------------------------------------------------------------

    def _score_sequences(self, seqs: np.ndarray) -> np.ndarray:
        """Scores ``(len(seqs), n_items)`` float32 of the item after each padded sequence; empty
        sequences get the training popularity."""
        net = self.network_
        device = next(net.parameters()).device
        out = np.full((len(seqs), len(self.item_ids_)), -np.inf, dtype=np.float32)
        net.eval()
        with torch.no_grad():
            for start in range(0, len(seqs), _SCORE_BATCH):
                (x,) = trim_padding(torch.from_numpy(seqs[start : start + _SCORE_BATCH]).to(device))
                scores = net.last_scores(x).float().cpu().numpy()
                out[start : start + len(x), self.kept_items_] = scores
        empty = ~(seqs != 0).any(axis=1)
        out[empty] = self.item_popularity_.astype(np.float32)
        return out

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self._score_sequences(self.sequences_[users])

    def _score_history_items(self, items: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Scores ``(n_items,)`` for a new user's items in order (oldest first); every item counts,
        whatever its value. The last ``max_length`` are used; an empty history gets popularity."""
        items = np.asarray(items, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.kept_items_, items), len(self.kept_items_) - 1)
        known = self.kept_items_[pos] == items  # movies without a training positive carry no signal
        codes = pos[known][-int(self.max_length) :]
        seq = np.zeros((1, int(self.max_length)), dtype=np.int64)
        if len(codes):
            seq[0, -len(codes) :] = codes + 1
        return self._score_sequences(seq)[0]

    def _item_vectors(self) -> np.ndarray:
        """The item embeddings ``(n_items, d)`` (input and output layer at once; zeros for items
        without a training positive)."""
        weights = self.network_.output_weights().detach().float().cpu().numpy()
        out = np.zeros((len(self.item_ids_), weights.shape[1]), dtype=np.float32)
        out[self.kept_items_] = weights
        return out

    # --- persistence -----------------------------------------------------------------------------

    def _get_state(self) -> dict[str, np.ndarray]:
        return {"sequences_": self.sequences_, "kept_items_": self.kept_items_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.sequences_ = state["sequences_"]
        self.kept_items_ = state["kept_items_"]

    def _save_files(self, folder: Path) -> None:
        save_weights(self.network_, folder)

    def _load_files(self, folder: Path) -> None:
        # the saved params and id maps fix every shape; the weights are plain tensors on the CPU
        net = self._new_network()
        load_weights(net, folder)
        net.eval()
        self.network_ = net


def full_softmax_backward(net: SASRecNetwork, x: torch.Tensor, y: torch.Tensor) -> float:
    """Backpropagate the mean cross-entropy over all items of the next item ``y`` at every real
    position of ``x`` (both ``(batch, L)``, 0 = padding); returns the loss.

    The hidden states are cut from the graph and the logits built chunk by chunk, each chunk's loss
    backpropagated at once, so at most ~64 MiB of logits live at a time; the gradient gathered on the
    hidden states then flows through the transformer in one pass.
    """
    real = x != 0
    hidden = net(x)[real]  # (positions, d)
    target = y[real] - 1
    n = len(target)
    detached = hidden.detach().requires_grad_(True)
    step = max(1, _LOGIT_BLOCK_BYTES // (4 * net.items.num_embeddings))
    total = 0.0
    for start in range(0, n, step):
        logits = detached[start : start + step] @ net.output_weights().T
        loss = (
            nn.functional.cross_entropy(logits, target[start : start + step], reduction="sum") / n
        )
        loss.backward()
        total += float(loss.detach())
    assert detached.grad is not None  # set by the chunks' backward passes
    hidden.backward(detached.grad)
    return total


def validation_ndcg(net: SASRecNetwork, prefix: torch.Tensor, target: torch.Tensor) -> float:
    """Mean NDCG@10 of ranking ``target`` ``(n,)`` (item + 1) after ``prefix`` ``(n, L)``, the
    prefix's own items excluded; one relevant item, so NDCG = 1 / log2(rank + 2) within the top 10."""
    net.eval()
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(prefix), _SCORE_BATCH):
            (x,) = trim_padding(prefix[start : start + _SCORE_BATCH])
            y = target[start : start + _SCORE_BATCH]
            scores = net(x)[:, -1] @ net.items.weight.T  # (batch, n_items + 1), column 0 = padding
            scores.scatter_(1, x, float("-inf"))  # seen items, and the padding column
            scores[:, 0] = float("-inf")
            rank = (scores > scores.gather(1, y[:, None])).sum(dim=1)
            gain = torch.where(rank < _VALIDATION_K, 1.0 / torch.log2(rank.double() + 2.0), 0.0)
            total += float(gain.sum())
    return total / max(len(prefix), 1)
