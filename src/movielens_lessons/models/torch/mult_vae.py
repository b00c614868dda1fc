"""Mult-VAE (Liang et al., 2018, "Variational Autoencoders for Collaborative Filtering").

A user is the binary row ``x_u`` of their training positives, ``(n_items,)``. The network reads it
L2-normalised and with dropout on the input (``dropout``, a share of the items zeroed while training),

    encoder:  n_items → hidden_dim (tanh) → 2 × latent_dim  = (μ, log σ²)
    decoder:  latent_dim → hidden_dim (tanh) → n_items logits

and samples ``z = μ + σ·ε`` while training (μ alone when scoring). Loss per batch of users, in nats:

    −mean_u Σ_i x_ui · log_softmax(logits_u)_i  +  β · mean_u w_u · KL(N(μ_u, σ_u²) ‖ N(0, I))

with β raised linearly from 0 to ``beta_cap`` over the first ``anneal_steps`` Adam updates (the KL
annealing of the paper: a weak prior early lets the encoder learn first) and ``w_u`` = 1, or (the
default, ``kl_scaling="history"``) the user's number of positives over the mean number. Scores are each item's
log-probability under the decoder's multinomial, averaged over ``n_networks`` independently seeded
networks, float32 ``(n_users, n_items)``; a new user is folded in by running their history through
the same encoders.

Validation is carved from the training data, never from the test part: a seeded random
``validation_fraction`` of the users with ≥ 5 positives (at least one such user when any exists) hold
out 20 % of their positives at random. Every user trains on their remaining positives; after each
epoch, NDCG@100 ranks the held-out items from the remaining positives (which are excluded from the
ranking), and training stops after ``patience`` epochs without improvement. With ``refit`` (the
default) a fresh network, seeded the same, then trains that best number of epochs on every positive,
held-out ones included; without it the best epoch's weights are kept. With ``validation_fraction=0``
or no user with ≥ 5 positives, it trains all ``n_epochs`` epochs. ``training_metrics_`` lists, one
entry per network, ``best_epoch`` (1-based), ``validation_ndcg@100`` (``None`` without validation)
and ``epochs_run``, and records ``refit``.

Defaults. The network is the paper's (600 → 200 dimensions, dropout 0.5, Adam 1e-3, no weight
decay); its KL weight and training are not (β cap 1 scaled by each user's history: see "The KL
weight" below; the grid just below was run with the paper's one β of 0.2), because
ml-latest-small has 610 users where the paper had 100,000+: the paper's batches of 500 give two updates an epoch, and its catalogue-wide softmax
spends the decoder on thousands of movies that one or two users rated. So: batches of 64, β annealed
over 2,000 updates, up to 400 epochs with patience 40, refit on all positives, and items with fewer
than 10 training users left out (``min_item_count=10``), three networks averaged (``n_networks``).
Chosen on validation splits carved from the training part of both protocols of the benchmark config
(``tune``'s split, 2026-12-06, one thread), NDCG@10 as a share of EASE's (0.1994 user-random /
0.1354 user-temporal), one network unless said:

    setting (user-random / user-temporal)                                     share of EASE
    paper's training (batch 500, 20,000-step anneal, every item)              0.84x / -
    batch 64, anneal 2,000                                                    0.86x / 0.79x
      + weight decay 1e-5 / 1e-4                                              0.84x, 0.85x / -
      + hidden 200, latent 100                                                0.79x / -
      + min_item_count 3                                                      0.91x / 0.84x
      + min_item_count 10 (the defaults)                                      0.91-0.92x / 0.79-0.86x
      + min_item_count 20                                                     0.82-0.85x / 0.84-0.86x
      + min_item_count 40                                                     0.87-0.90x / 0.88x
    min_item_count 40, three seeds each, user-temporal only:
      β from the start (anneal 0) 0.88-0.90x; β 0 0.85-0.89x; dropout 0.3 0.87-0.90x, 0.7
      0.85-0.91x; hidden 200 / latent 50 0.83-0.89x; batch 16 0.84-0.89x;
      hidden 1000 / latent 400 0.90-0.92x (the config's user-temporal setting)
    hidden 1000 / latent 400, anneal 0, min_item_count 10                     0.89-0.92x / 0.81-0.82x

A single network's score varies with its seed alone: 0.83-0.96x EASE on user-random across seeds
42, 1 and 2, 0.90-0.92x on user-temporal (61 validation users choose its epoch; 550 users train it).
Averaging the log-probabilities of three networks seeded 42, 1 and 2 gave 0.979x and 0.930x, hence
``n_networks=3`` (seeds ``random_state`` … ``+ 2``; 0.983x / 0.918x for 42, 43, 44) at three times
the fit time. "What is missing" (user-random) wants the rarer items kept; "what comes next"
(user-temporal) is served better by the wider network over items with ≥ 40 users, which the
benchmark config sets for that protocol (``experiments/ml-latest-small-neural.toml``). The pruning
thresholds count users, so on a larger release they prune a smaller share of its catalogue.

The KL weight. With one β for every user, the likelihood (a sum over the user's items) outweighs
the KL term of a heavy user a hundredfold, so their codes are barely held to the prior; RecVAE
(Shenbin et al. 2020) weighs each user's KL term by their number of items instead
(``kl_scaling="history"``, here divided by the mean so that β keeps its scale). The three-network
model's NDCG@10 on tune's user-random validation split, as a share of EASE's (λ 208.4 as in the
config), on that split (``validation_size`` 0.2: 60 % of each user's ratings train) and on two with
more training per user, closer to the test split's 75 % (0.15 and 0.1):

    setting                          vs 0.2    vs 0.15   vs 0.1   vs 0.1, heaviest quarter of users
    β 0.2, constant (the old default) 0.983x   0.911x    0.908x   0.743x
    β 0.2, history                    0.976x   -         0.880x   0.740x
    β 0.5, constant                   -        -         0.931x   0.774x
    β 1, constant                     -        -         0.935x   0.841x
    β 1, history (the defaults)       0.981x   0.937x    0.973x   0.874x
    β 2, constant / history           -        -         0.961x / 0.956x   0.862x / 0.848x
    on β 1, history: 5 networks       -        -         0.959x   0.858x
      hidden 1000, latent 400         -        -         0.885x   0.806x
      min_item_count 3                -        -         0.932x   0.788x
      dropout 0.6                     -        -         0.953x   0.873x
      L1 instead of L2 input norm     -        -         0.902x   0.844x

The more of each user's history trains, the more the old default lost on the heaviest users (the
test split's loss was there too: 0.84x EASE on the heaviest quarter, 0.94-0.95x on the middle half).
β 1 with history scaling held the most, and costs nothing where the old default did well: on
user-temporal validation, 0.1249 against 0.1243 with the config's network for that protocol, and
0.1185 (0.875x EASE) with the constructor's, against 0.79-0.86x; on synthetic data of 2,000 users ×
3,000 movies × 150,000 ratings (user-random validation; ``data synth --users 2000 --items 3000
--ratings 150000 --seed 1 --factors 12``), 0.2080 against 0.2052, EASE 0.1795.

The anneal (issue 17, 2026-12-07). The test split's 0.902x stayed below the 0.973x of the
validation_size 0.1 split above. Further carves of the user-random training part showed the share of
EASE falling as more of each history trains: with seeds 1, 2, 3 (``user_random_split`` of the
training part), 0.990x / 0.959x when 75 % of it trains and 0.898x / 0.951x / 0.916x at 90 %. The
models stopped early (best epochs 14-46, ten updates an epoch), so β had reached only 0.07-0.23 of its
cap. Letting β reach the cap sooner, in three networks' NDCG@10 as a share of EASE's at 90 % (seeds
1, 2, 3; 75 %, seed 1, in brackets):

    anneal_steps    ml-latest-small user-random         synthetic A / B    user-temporal (config net.)
    2,000           0.898x, 0.951x, 0.916x (0.990x)     0.1633 / 0.1371   0.1249 / 0.0913
    1,000           0.893x, -, -                        -                 -
    500             0.926x, 0.970x, 0.961x (1.008x)     0.1584 / 0.1330   0.1198 / 0.0862
    0               0.924x, -, -                        -                 -
    learning rate 3e-4 (2,000)  0.878x (1.006x), fits 3-4x longer

(synthetic A and B are the sets of the LightFM docstring, user-random validation_size 0.1, EASE
0.1373 / 0.1279; user-temporal at validation_size 0.2 / 0.1 with that protocol's network of the
neural config, EASE 0.1354 / 0.0945). 500 wins on ml-latest-small's user-random carves only, so it
is a setting of the benchmark config for that protocol (``[models.mult-vae.protocols.user-random]``
of ``experiments/ml-latest-small-neural.toml``) and the constructor keeps 2,000; ``tune`` searches
``anneal_steps`` for other data.

On synthetic data of other shapes (``data synth``; the same validation carve-out; EASE at its best λ
of 50 / 200 / 800): one network with these settings scored 1.06x EASE (user-random) and 1.07x
(user-temporal) on 3,000 users × 3,000 movies × 150,000 ratings; the three-network defaults 1.18x
and 1.15x on 2,000 × 2,500 × 100,000. On ml-latest-small's test splits
(``movielens-lessons benchmark --config experiments/ml-latest-small-neural.toml``, 2026-12-07):
0.3866 NDCG@10 (0.956x EASE's 0.4046) on user-random with the config's anneal of 500 updates
(0.3648, 0.902x, with the constructor's 2,000) and 0.1261 (0.970x of 0.1300) on user-temporal; with
the paper's single β of 0.2, 0.3584 (0.886x) and 0.1230 (0.946x), and one such network 0.3358 /
0.1161; the paper's training, 0.310 (0.77x) on user-random.

Deterministic on the CPU for a given ``random_state``. The weights are saved as a ``state_dict``
(``weights.pt``, read with ``weights_only=True``); a model trained on CUDA loads on the CPU when no
CUDA device is there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, cast

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError, DataValidationError
from movielens_lessons.models.base import BaseRecommender
from movielens_lessons.models.params import check_flag, check_int, check_number, check_seed
from movielens_lessons.models.torch.runtime import (
    EarlyStopping,
    check_threads,
    epoch_bar,
    load_weights,
    pick_device,
    save_weights,
    training_context,
)

#: Users with fewer training positives never join the validation users.
MIN_VALIDATION_POSITIVES = 5
#: Share of a validation user's positives held out.
HOLDOUT_SHARE = 0.2
#: Cut-off of the validation NDCG.
VALIDATION_K = 100
#: How each user's KL term is weighted: the same for all, or by their number of positives.
_KL_SCALINGS = ("constant", "history")
#: Rows scored per forward pass: bounds the dense (rows, n_items) float32 input and logits to ~64 MiB.
_SCORE_BLOCK_BYTES = 64 * 2**20


class _Network(nn.Module):
    """Encoder ``n_items → hidden → 2·latent`` and decoder ``latent → hidden → n_items``."""

    def __init__(self, n_items: int, hidden_dim: int, latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder_hidden = nn.Linear(n_items, hidden_dim)
        self.encoder_out = nn.Linear(hidden_dim, 2 * latent_dim)
        self.decoder_hidden = nn.Linear(latent_dim, hidden_dim)
        self.decoder_out = nn.Linear(hidden_dim, n_items)

    def init_weights(self, generator: torch.Generator) -> None:
        """The paper's init: Xavier-uniform weights, biases N(0, 0.001²), drawn from ``generator``."""
        for layer in (self.encoder_hidden, self.encoder_out, self.decoder_hidden, self.decoder_out):
            nn.init.xavier_uniform_(layer.weight, generator=generator)
            nn.init.normal_(layer.bias, std=0.001, generator=generator)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(μ, log σ²)``, each ``(batch, latent_dim)``, for already normalised input rows."""
        stats = self.encoder_out(torch.tanh(self.encoder_hidden(x)))
        return stats[:, : self.latent_dim], stats[:, self.latent_dim :]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, n_items)`` of the multinomial over items."""
        return self.decoder_out(torch.tanh(self.decoder_hidden(z)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scoring path: logits from the mean code of the binary rows ``x`` ``(batch, n_items)``."""
        mu, _ = self.encode(F.normalize(x, dim=1))
        return self.decode(mu)


class _Ensemble(nn.Module):
    """Independently trained networks; scores are their mean log-softmax (log-probabilities)."""

    def __init__(self, networks: list[_Network]) -> None:
        super().__init__()
        self.networks = nn.ModuleList(networks)

    def members(self) -> list[_Network]:
        """The networks, typed."""
        return [cast(_Network, network) for network in self.networks]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Mean log-probability ``(batch, n_items)`` of each item under each network's multinomial."""
        total = torch.zeros((), device=x.device)
        for network in self.members():
            total = total + F.log_softmax(network(x), dim=1)
        return total / len(self.networks)


class MultVAE(BaseRecommender):
    """Variational autoencoder with a multinomial likelihood over items, on implicit feedback.

    ``hidden_dim`` / ``latent_dim``: widths of the hidden layers and of the code; ``dropout``: share of
    input items zeroed while training, in [0, 1); ``beta_cap``: final KL weight β; ``anneal_steps``:
    Adam updates over which β rises from 0 to ``beta_cap`` (0: ``beta_cap`` from the start);
    ``kl_scaling``: ``"constant"`` (the paper: one β for every user) or ``"history"`` (each user's
    KL term times their number of training positives over the mean number, as RecVAE (Shenbin et
    al. 2020) does: the likelihood sums over a user's items, so with one β a heavy user's code is
    barely held to the prior);
    ``n_epochs``: most epochs; ``patience``: epochs without a better validation NDCG@100 before stopping;
    ``validation_fraction``: share of eligible users who hold out positives for validation (0: none);
    ``device``: ``"auto"``, ``"cpu"``, ``"cuda[:N]"``; ``num_threads``: CPU threads (0: PyTorch's
    choice); ``min_item_count``: items with fewer training positives are left out of the network's
    input and output and never recommended (score ``-inf``; 1 drops only items absent from training,
    0 keeps every item of the id map); ``n_networks``: networks trained independently (seeds
    ``random_state``, ``random_state + 1``, …) whose log-probabilities are averaged. Learned:
    ``kept_items_`` (internal ids of the networks' items), ``network_`` (the torch module holding
    every network, in eval mode) and ``positives_`` (binary CSR ``(n_users, n_items)`` of the
    training positives, the input at scoring time). ``training_metrics_`` lists ``best_epoch``,
    ``validation_ndcg@100`` and ``epochs_run`` per network.
    """

    name = "mult-vae"
    feedback = "implicit"
    legacy_params: ClassVar[dict[str, Any]] = {"kl_scaling": "constant"}  # saved before it existed

    def __init__(
        self,
        hidden_dim: int = 600,
        latent_dim: int = 200,
        dropout: float = 0.5,
        beta_cap: float = 1.0,
        anneal_steps: int = 2000,
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        min_item_count: int = 10,
        n_networks: int = 3,
        batch_size: int = 64,
        n_epochs: int = 400,
        patience: int = 40,
        validation_fraction: float = 0.1,
        refit: bool = True,
        kl_scaling: str = "history",
        device: str = "auto",
        num_threads: int = 0,
        random_state: int | None = 42,
    ) -> None:
        self.hidden_dim = hidden_dim
        self.latent_dim = latent_dim
        self.dropout = dropout
        self.beta_cap = beta_cap
        self.anneal_steps = anneal_steps
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.min_item_count = min_item_count
        self.n_networks = n_networks
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.refit = refit
        self.kl_scaling = kl_scaling
        self.device = device
        self.num_threads = num_threads
        self.random_state = random_state

    # --- parameters ------------------------------------------------------------------------------

    def _check_params(self) -> None:
        name = self.name
        for key in ("hidden_dim", "latent_dim", "n_networks", "batch_size", "n_epochs", "patience"):
            check_int(f"{name}: {key}", getattr(self, key))
        for key in ("anneal_steps", "min_item_count"):
            check_int(f"{name}: {key}", getattr(self, key), minimum=0)
        check_number(f"{name}: dropout", self.dropout, 0.0, 1.0, high_open=True)
        check_number(f"{name}: validation_fraction", self.validation_fraction, 0.0, 1.0,
                     high_open=True)  # fmt: skip
        check_number(f"{name}: beta_cap", self.beta_cap, 0.0)
        check_number(f"{name}: weight_decay", self.weight_decay, 0.0)
        check_number(f"{name}: learning_rate", self.learning_rate, 0.0, low_open=True)
        check_flag(f"{name}: refit", self.refit)
        if self.kl_scaling not in _KL_SCALINGS:
            raise ConfigError(f"{name}: kl_scaling must be one of {', '.join(_KL_SCALINGS)}; "
                              f"got {self.kl_scaling!r}")  # fmt: skip
        check_seed(f"{name}: random_state", self.random_state)
        check_threads(self.num_threads)

    # --- fitting ---------------------------------------------------------------------------------

    def _fit(self, dataset: Dataset) -> None:
        self._check_params()
        device = pick_device(self.device)
        x = sp.csr_matrix(dataset.implicit(), dtype=np.float32, copy=True)
        x.data[:] = 1.0
        x.eliminate_zeros()
        if x.nnz == 0:
            raise DataValidationError(f"{self.name} needs training positives; the dataset has none")
        kept = np.flatnonzero(x.getnnz(axis=0) >= int(self.min_item_count))
        if len(kept) == 0:
            raise DataValidationError(
                f"{self.name} kept no items: none has ≥ {self.min_item_count} training positives"
            )
        self.kept_items_ = kept
        rng = np.random.default_rng(self.random_state)
        train, held_out, val_users = _carve_validation(
            self._kept_columns(x), float(self.validation_fraction), rng
        )
        refit = bool(self.refit and len(val_users))
        networks, runs = [], []
        for index in range(int(self.n_networks)):
            seed = None if self.random_state is None else int(self.random_state) + index
            with training_context(seed, int(self.num_threads)) as gen:
                network = self._new_network(len(kept), gen, device)
                metrics = self._train(network, train, held_out, val_users, gen, device)
            if refit:
                # the held-out positives rejoin training: a fresh network, the best epoch count
                whole = self._kept_columns(x)
                with training_context(seed, int(self.num_threads)) as gen:
                    network = self._new_network(len(kept), gen, device)
                    self._train(network, whole, whole[:0], val_users[:0], gen, device,
                                n_epochs=metrics["best_epoch"])  # fmt: skip
            networks.append(network)
            runs.append(metrics)
        self.training_metrics_ = {
            **{key: [run[key] for run in runs] for key in runs[0]},
            "refit": refit,
        }
        self.network_ = _Ensemble(networks).eval()
        self.positives_ = x

    def _new_network(self, n_items: int, gen: torch.Generator, device: torch.device) -> _Network:
        """A freshly initialised network over ``n_items`` items on ``device``, drawn from ``gen``."""
        with torch.device("meta"):  # no throwaway default init: init_weights draws from gen
            network = _Network(n_items, int(self.hidden_dim), int(self.latent_dim))
        network = network.to_empty(device=device)
        network.init_weights(gen)
        return network

    def _train(
        self,
        network: _Network,
        train: sp.csr_matrix,
        held_out: sp.csr_matrix,
        val_users: np.ndarray,
        gen: torch.Generator,
        device: torch.device,
        n_epochs: int | None = None,
    ) -> dict[str, Any]:
        """Adam epochs (at most ``n_epochs``, default the parameter) over the users with positives,
        early-stopped on ``val_users``' ``held_out`` items when there are any; returns the training
        metrics."""
        # dropout masks and ε are drawn on the training device, from a generator seeded by ``gen``
        noise = gen if device.type == "cpu" else torch.Generator(device=device)
        if device.type != "cpu":
            noise.manual_seed(int(torch.randint(0, 2**62, (1,), generator=gen)))
        optimizer = torch.optim.Adam(
            network.parameters(),
            lr=float(self.learning_rate),
            weight_decay=float(self.weight_decay),
        )
        users = np.flatnonzero(np.diff(train.indptr) > 0)
        mean_count = train.nnz / max(len(users), 1)
        keep = 1.0 - float(self.dropout)
        batch = int(self.batch_size)
        stopper = EarlyStopping(int(self.patience)) if len(val_users) else None
        step, epochs_run, score = 0, 0, float("nan")
        bar = epoch_bar(int(self.n_epochs if n_epochs is None else n_epochs), self.name)
        for epoch in bar:
            network.train()
            order = users[torch.randperm(len(users), generator=gen).numpy()]
            for start in range(0, len(order), batch):
                rows = torch.from_numpy(train[order[start : start + batch]].toarray()).to(device)
                inputs = F.normalize(rows, dim=1)
                if keep < 1.0:
                    mask = torch.empty_like(inputs).bernoulli_(keep, generator=noise)
                    inputs = inputs * mask / keep
                mu, logvar = network.encode(inputs)
                eps = torch.randn(mu.shape, generator=noise, device=device, dtype=mu.dtype)
                logits = network.decode(mu + eps * torch.exp(0.5 * logvar))
                nll = -(F.log_softmax(logits, dim=1) * rows).sum(dim=1).mean()
                kl_users = -0.5 * (1.0 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)
                if self.kl_scaling == "history":
                    kl_users = kl_users * (rows.sum(dim=1) / mean_count)
                kl = kl_users.mean()
                loss = nll + self._beta(step) * kl
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                step += 1
            epochs_run = epoch + 1
            if stopper is None:
                continue
            network.eval()
            score = _validation_ndcg(network, train, held_out, val_users, batch, device)
            bar.set_postfix({"ndcg@100": f"{score:.4f}"})
            if stopper.update(epochs_run, score, network):
                break
        bar.close()
        if stopper is None:
            return {"best_epoch": epochs_run, "validation_ndcg@100": None, "epochs_run": epochs_run}
        stopper.restore(network)
        return {
            "best_epoch": stopper.best_epoch,
            "validation_ndcg@100": stopper.best_score,
            "epochs_run": epochs_run,
        }

    def _beta(self, step: int) -> float:
        """KL weight after ``step`` updates: linear from 0 to ``beta_cap`` over ``anneal_steps``."""
        cap, steps = float(self.beta_cap), int(self.anneal_steps)
        return cap if steps == 0 else cap * min(1.0, step / steps)

    # --- scoring ---------------------------------------------------------------------------------

    def _kept_columns(self, rows: sp.csr_matrix) -> sp.csr_matrix:
        """``rows`` restricted to the network's items (a view of every column when none is pruned)."""
        return rows if len(self.kept_items_) == rows.shape[1] else rows[:, self.kept_items_]

    def _logits(self, rows: sp.csr_matrix) -> np.ndarray:
        """Scores ``(n_rows, n_items)`` float32 (the networks' mean log-probabilities) for binary CSR
        input rows over the whole catalogue, in blocks; pruned items score ``-inf``."""
        device = next(self.network_.parameters()).device
        kept_rows = self._kept_columns(rows)
        out = np.full(rows.shape, -np.inf, dtype=np.float32)
        whole = len(self.kept_items_) == rows.shape[1]
        step = max(1, _SCORE_BLOCK_BYTES // (8 * max(rows.shape[1], 1)))
        with training_context(None, int(self.num_threads)), torch.inference_mode():
            for start in range(0, rows.shape[0], step):
                block = torch.from_numpy(kept_rows[start : start + step].toarray()).to(device)
                logits = self.network_(block).cpu().numpy()
                if whole:
                    out[start : start + step] = logits
                else:
                    out[start : start + step, self.kept_items_] = logits
        return out

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self._logits(self.positives_[users])

    def _score_history(self, history: sp.csr_matrix) -> np.ndarray:
        h = sp.csr_matrix(history, dtype=np.float32, copy=True)
        h.data = (h.data > 0).astype(np.float32)  # every history item counts as one positive
        return self._logits(h).ravel()

    def _item_vectors(self) -> np.ndarray:
        """Each item's row of the decoder's output layer ``(n_items, hidden_dim)``: two movies are
        similar when the decoder reads the same hidden features into both."""
        rows = np.hstack([network.decoder_out.weight.detach().float().cpu().numpy()
                          for network in self.network_.members()])  # fmt: skip
        if len(self.kept_items_) == self.n_items:
            return rows
        out = np.zeros((self.n_items, rows.shape[1]), dtype=np.float32)  # pruned items: zeros
        out[self.kept_items_] = rows
        return out

    # --- persistence -----------------------------------------------------------------------------

    def _get_state(self) -> dict[str, np.ndarray]:
        return {
            "kept_items_": self.kept_items_,
            "positives_indices_": self.positives_.indices,
            "positives_indptr_": self.positives_.indptr,
        }

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.kept_items_ = state["kept_items_"]
        indices = state["positives_indices_"]
        self.positives_ = sp.csr_matrix(
            (np.ones(len(indices), dtype=np.float32), indices, state["positives_indptr_"]),
            shape=(len(self.user_ids_), len(self.item_ids_)),
        )

    def _save_files(self, folder: Path) -> None:
        save_weights(self.network_, folder)

    def _load_files(self, folder: Path) -> None:
        # runs after _set_state: the id maps give n_items, the saved params the layer widths
        try:
            device = pick_device(self.device)
        except ConfigError:  # e.g. trained on "cuda", read on a machine without one
            device = torch.device("cpu")
        with torch.device("meta"):
            network = _Ensemble([
                _Network(len(self.kept_items_), int(self.hidden_dim), int(self.latent_dim))
                for _ in range(int(self.n_networks))
            ])  # fmt: skip
        network = network.to_empty(device=device)
        load_weights(network, folder)
        self.network_ = network.eval()


def _carve_validation(
    x: sp.csr_matrix, fraction: float, rng: np.random.Generator
) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
    """``(train, held_out, val_users)``: a random ``fraction`` of the users with ≥ 5 positives in the
    binary CSR ``x`` give 20 % of their positives (at random) to ``held_out``; ``train`` keeps the rest.
    Both are ``x``'s shape; ``val_users`` are sorted internal ids (empty: no validation)."""
    counts = np.diff(x.indptr)
    eligible = np.flatnonzero(counts >= MIN_VALIDATION_POSITIVES)
    n_val = min(len(eligible), max(1, round(fraction * len(eligible)))) if fraction > 0 else 0
    val_users = np.sort(rng.choice(eligible, n_val, replace=False)) if n_val else eligible[:0]
    hold = np.zeros(x.nnz, dtype=bool)
    for u in val_users:
        lo, hi = x.indptr[u], x.indptr[u + 1]
        n_hold = max(1, int(HOLDOUT_SHARE * (hi - lo)))
        hold[lo + rng.choice(hi - lo, n_hold, replace=False)] = True
    rows = np.repeat(np.arange(x.shape[0]), counts)

    def part(mask: np.ndarray) -> sp.csr_matrix:
        return sp.csr_matrix(
            (x.data[mask], (rows[mask], x.indices[mask])), shape=x.shape, dtype=np.float32
        )

    return part(~hold), part(hold), val_users


def _validation_ndcg(
    network: _Network,
    train: sp.csr_matrix,
    held_out: sp.csr_matrix,
    val_users: np.ndarray,
    batch: int,
    device: torch.device,
) -> float:
    """Mean NDCG@100 of the held-out items, ranked from each validation user's remaining positives
    (which are excluded from the ranking)."""
    k = min(VALIDATION_K, train.shape[1])
    discounts = 1.0 / torch.log2(torch.arange(2, k + 2, dtype=torch.float64, device=device))
    ideal = torch.cumsum(discounts, dim=0)
    total = 0.0
    with torch.inference_mode():
        for start in range(0, len(val_users), batch):
            users = val_users[start : start + batch]
            seen = torch.from_numpy(train[users].toarray()).to(device)
            truth = torch.from_numpy(held_out[users].toarray()).to(device)
            logits = network(seen).masked_fill(seen > 0, -torch.inf)
            top = torch.topk(logits, k, dim=1).indices
            dcg = (truth.gather(1, top).double() * discounts).sum(dim=1)
            n_relevant = truth.sum(dim=1).long().clamp(max=k)
            total += float((dcg / ideal[n_relevant - 1]).sum())
    return total / len(val_users)
