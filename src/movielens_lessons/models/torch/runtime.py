"""What every PyTorch model of the project shares: the device, seeding, threads, early stopping and
safe weights on disk.

- :func:`pick_device`: ``"auto"`` is CUDA when present, else the CPU; ``"cpu"``, ``"cuda"``,
  ``"cuda:1"`` are taken as asked (a CUDA device that is not there is a :class:`ConfigError`).
- :func:`training_context`: seeds torch (and CUDA), asks for deterministic algorithms and sets the
  thread count for the duration of a fit, then puts the process's settings back.
- :class:`EarlyStopping`: keeps the best validation score's weights (a copy on the CPU) and says when
  ``patience`` epochs have passed without improvement.
- :func:`save_weights` / :func:`load_weights`: a module's ``state_dict`` (tensors only) written with
  ``torch.save`` atomically and read back with ``torch.load(weights_only=True)``: no pickled objects.
- :func:`epoch_bar`: a tqdm bar over epochs on stderr (silent when stderr is not a terminal).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from movielens_lessons.errors import ConfigError, DataValidationError

WEIGHTS_FILE = "weights.pt"


def pick_device(device: str = "auto") -> torch.device:
    """The device to train on: ``"auto"`` (CUDA when available, else CPU) or an explicit one."""
    if not isinstance(device, str) or not device:
        raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device)
    except RuntimeError:
        raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}") from None
    if chosen.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device {device!r} was asked for, but this PyTorch sees no CUDA "
                              "device; use device='auto' or 'cpu'")
        if chosen.index is not None and chosen.index >= torch.cuda.device_count():
            raise ConfigError(f"device {device!r}: only {torch.cuda.device_count()} CUDA "
                              "device(s) here")
    elif chosen.type != "cpu":
        raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}")
    return chosen


def check_threads(num_threads: Any) -> int:
    """``num_threads`` as an int ≥ 0 (0: PyTorch's own choice), else :class:`ConfigError`."""
    if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 0:
        raise ConfigError(f"num_threads must be an integer ≥ 0 (0: all cores), got {num_threads!r}")
    return num_threads


@contextlib.contextmanager
def training_context(seed: int | None, num_threads: int = 0) -> Iterator[torch.Generator]:
    """Seed torch, use deterministic algorithms and ``num_threads`` CPU threads inside the block;
    yields a CPU generator seeded with ``seed`` for the model's own shuffling and sampling."""
    threads = check_threads(num_threads)
    before_threads = torch.get_num_threads()
    before_det = torch.are_deterministic_algorithms_enabled()
    before_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    generator = torch.Generator()
    generator.manual_seed(0 if seed is None else int(seed))
    try:
        if seed is not None:
            torch.manual_seed(int(seed))  # also seeds every CUDA device
        # warn_only: a CUDA kernel without a deterministic version warns instead of failing
        torch.use_deterministic_algorithms(True, warn_only=True)
        if threads:
            torch.set_num_threads(threads)
        yield generator
    finally:
        torch.set_num_threads(before_threads)
        torch.use_deterministic_algorithms(before_det, warn_only=before_warn)


class EarlyStopping:
    """Best-so-far tracker for a validation score where higher is better."""

    def __init__(self, patience: int) -> None:
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ConfigError(f"patience must be an integer ≥ 1, got {patience!r}")
        self.patience = patience
        self.best_score = float("-inf")
        self.best_epoch = -1
        self.best_state: dict[str, torch.Tensor] | None = None
        self.history: list[float] = []

    def update(self, epoch: int, score: float, module: torch.nn.Module) -> bool:
        """Record ``score`` for ``epoch``; True when training should stop."""
        self.history.append(float(score))
        if score > self.best_score:
            self.best_score, self.best_epoch = float(score), epoch
            self.best_state = {k: v.detach().to("cpu", copy=True)
                               for k, v in module.state_dict().items()}
        return epoch - self.best_epoch >= self.patience

    def restore(self, module: torch.nn.Module) -> None:
        """Load the best epoch's weights into ``module`` (a no-op before any update)."""
        if self.best_state is not None:
            module.load_state_dict(self.best_state)


def save_weights(module: torch.nn.Module, folder: str | os.PathLike[str]) -> Path:
    """Write ``module``'s ``state_dict`` (CPU tensors only) to ``folder/weights.pt`` atomically."""
    path = Path(folder) / WEIGHTS_FILE
    state = {k: v.detach().to("cpu") for k, v in module.state_dict().items()}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".weights-", suffix=".pt")
    os.close(fd)
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load_weights(module: torch.nn.Module, folder: str | os.PathLike[str]) -> None:
    """Read ``folder/weights.pt`` with ``weights_only=True`` into ``module`` (shapes must match)."""
    path = Path(folder) / WEIGHTS_FILE
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise DataValidationError(f"{path}: the model's weights are missing") from None
    except Exception as exc:  # weights_only refuses anything that is not plain tensors
        raise DataValidationError(f"{path}: not a weights file this model can read ({exc})") from None
    try:
        module.load_state_dict(state)
    except RuntimeError as exc:
        raise DataValidationError(f"{path}: weights do not fit the saved configuration: "
                                  f"{str(exc).splitlines()[0]}") from None


def epoch_bar(n_epochs: int, name: str) -> Any:
    """A tqdm bar over epochs, on stderr, shown only on a terminal."""
    from tqdm.auto import tqdm

    return tqdm(range(n_epochs), desc=f"{name} epochs", unit="epoch", leave=False, disable=None)
