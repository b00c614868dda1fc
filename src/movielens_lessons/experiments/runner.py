"""Run a benchmark: for each protocol, split once; for each model, fit → recommend → evaluate.

Every model sees the same split of the same data and is scored by the one ``evaluate``. Per model the run
records wall-clock fit / recommend / predict seconds (``time.perf_counter``) and the peak memory of the fit
(:class:`~movielens_lessons.experiments.memory.PeakMemory`: the larger of tracemalloc's peak and the RSS
growth, in MiB). A model whose optional extra is missing is *skipped* with the install command; a model
that raises is *failed* with its one-line error, and the run goes on.

Parameters are per protocol (:meth:`ModelConfig.params_for`: ``[models.NAME.protocols.P]`` over
``[models.NAME]``). A model with ``feature_importance()`` is also explained
(:mod:`movielens_lessons.experiments.explanations`); an explanation that fails is logged, not fatal.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.split_registry import split
from movielens_lessons.data.splits import Split
from movielens_lessons.errors import MissingExtraError, MovieLensError
from movielens_lessons.evaluation.evaluate import EvaluationResult, evaluate
from movielens_lessons.evaluation.rating import evaluate_predictions
from movielens_lessons.experiments.config import BenchmarkConfig, ModelConfig, ProtocolConfig
from movielens_lessons.experiments.explanations import (
    Explanation,
    explain_model,
    write_explanation,
)
from movielens_lessons.experiments.memory import PeakMemory
from movielens_lessons.models.registry import create_model, get_model_class, get_spec

Progress = Callable[[str], None]


@dataclass
class ModelRun:
    """One model on one protocol: status (``ok``, ``skipped``, ``failed``), timings and results."""

    protocol: str
    model: str
    feedback: str
    params: dict[str, Any]
    status: str = "ok"
    message: str | None = None
    fit_seconds: float | None = None
    recommend_seconds: float | None = None
    predict_seconds: float | None = None
    peak_memory_mb: float | None = None
    traced_memory_mb: float | None = None
    rss_delta_mb: float | None = None
    result: EvaluationResult | None = None
    rating: dict[str, float] | None = None
    exposure: np.ndarray | None = None  # (n_items,) times each item is in a top-k list, primary k
    recommendations_path: Path | None = None
    artifact_path: Path | None = None
    explanation: Explanation | None = None
    explanation_path: Path | None = None


@dataclass
class ProtocolRun:
    """One protocol: its split's sizes, fingerprints and leakage counts (``info``), the training
    popularity of its items, and the runs of every model on it."""

    config: ProtocolConfig
    info: dict[str, Any]
    #: ``(n_items,)`` training interactions per item, indexed like every model run's ``exposure``
    train_popularity: np.ndarray
    models: list[ModelRun] = field(default_factory=list)

    @classmethod
    def from_split(cls, config: ProtocolConfig, sp: Split) -> ProtocolRun:
        tr, te = sp.train, sp.test
        info = {"name": config.name, "strategy": config.strategy,
                "params": sp.params, "n_train": tr.n_interactions,
                "n_test": te.n_interactions, "n_test_users": len(te.active_users),
                "train_fingerprint": tr.fingerprint(), "test_fingerprint": te.fingerprint(),
                "leakage": sp.leakage.to_dict()}
        return cls(config, info, tr.item_counts())

    def summary(self) -> dict[str, Any]:
        """The split's description for ``run.json``."""
        return dict(self.info)


def one_line(exc: BaseException) -> str:
    """``Type: first line of the message`` for the leaderboard (the traceback goes to the log)."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    if isinstance(exc, MovieLensError):
        return first or type(exc).__name__
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def model_params(config: BenchmarkConfig, model: ModelConfig, protocol: str | None = None
                 ) -> dict[str, Any]:
    """The model's parameters on ``protocol`` (its overrides applied; None: the shared ones), with
    ``random_state`` set to the run's seed unless given."""
    params = dict(model.params if protocol is None else model.params_for(protocol))
    try:
        cls = get_model_class(model.name)
    except MissingExtraError:
        return params
    if "random_state" in cls.param_names() and "random_state" not in params:
        params["random_state"] = config.seed
    return params


def make_split(dataset: Dataset, protocol: ProtocolConfig, validation_size: float | None = None
               ) -> Split:
    """The protocol's split of ``dataset`` (``validation_size``: carve validation out of train)."""
    params = dict(protocol.params)
    if validation_size is not None:
        params["validation_size"] = validation_size
    return split(dataset, protocol.strategy, **params)


def run_model(config: BenchmarkConfig, model_cfg: ModelConfig, protocol: ProtocolConfig,
              sp: Split, out_dir: Path | None, progress: Progress | None = None) -> ModelRun:
    """Fit, recommend, evaluate (and predict, for explicit models) one model; never raises."""
    run = new_model_run(config, model_cfg, protocol)
    if run.status == "skipped":
        return run
    say = progress or (lambda _: None)
    try:
        model = create_model(model_cfg.name, **run.params)
        say(f"[{protocol.name}] {model_cfg.name}: fitting")
        measure_fit(run, lambda: model.fit(sp.train))
        test_users = sp.test.user_ids[sp.test.active_users]
        start = time.perf_counter()
        recs = model.recommend(test_users, k=config.k_max)
        run.recommend_seconds = time.perf_counter() - start
        run.result = evaluate(recs, sp.test, sp.train, k=config.k, metrics=config.metrics,
                              relevance_threshold=config.relevance_threshold,
                              n_bootstrap=config.n_bootstrap, seed=config.seed)
        _, k_primary = config.primary()
        top = recs.items[:, :k_primary]
        run.exposure = np.bincount(top[top >= 0], minlength=sp.train.n_items)
        if run.feedback == "explicit" and sp.test.ratings is not None:
            frame = sp.test.to_frame()
            start = time.perf_counter()
            pred = model.predict(frame[C.USER].to_numpy(), frame[C.ITEM].to_numpy())
            run.predict_seconds = time.perf_counter() - start
            frame[C.PREDICTION] = pred
            run.rating = evaluate_predictions(frame[[C.USER, C.ITEM, C.PREDICTION]], sp.test)
        run.explanation = _explain(model, run, sp, test_users, out_dir, say)
        if out_dir is not None:
            run.artifact_path = model.save(out_dir / "models" / protocol.name / model_cfg.name)
            path = out_dir / "recommendations" / protocol.name / f"{model_cfg.name}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            recs.to_frame().to_csv(path, index=False)
            run.recommendations_path = path
    except Exception as exc:  # a failing model is reported, and the benchmark goes on
        record_failure(run, exc, out_dir)
    say(status_line(run))
    return run


def new_model_run(config: BenchmarkConfig, model_cfg: ModelConfig, protocol: ProtocolConfig
                  ) -> ModelRun:
    """The run record of one model on one protocol, with its parameters; status ``skipped`` (and
    the install command) when the model's optional extra is missing."""
    spec = get_spec(model_cfg.name)
    run = ModelRun(protocol.name, model_cfg.name, spec.feedback,
                   model_params(config, model_cfg, protocol.name))
    try:
        get_model_class(model_cfg.name)
    except MissingExtraError as exc:
        run.status, run.message = "skipped", str(exc)
    return run


def measure_fit(run: ModelRun, fit: Callable[[], object]) -> None:
    """Call ``fit`` and record its wall-clock seconds and peak memory on ``run``."""
    with PeakMemory() as mem:
        start = time.perf_counter()
        fit()
        run.fit_seconds = time.perf_counter() - start
    run.peak_memory_mb, run.traced_memory_mb, run.rss_delta_mb = (
        mem.peak_mb, mem.traced_mb, mem.rss_mb)


def record_failure(run: ModelRun, exc: Exception, out_dir: Path | None) -> None:
    """Mark ``run`` failed with the one-line error; the traceback being handled goes to the log."""
    run.status, run.message = "failed", one_line(exc)
    run.result = None
    log_error(out_dir, f"{run.protocol} / {run.model}")


def status_line(run: ModelRun) -> str:
    """The progress line that ends a model run: its status, message and fit time."""
    return (f"[{run.protocol}] {run.model}: {run.status}"
            + (f" ({run.message})" if run.message else "")
            + (f" fit {run.fit_seconds:.1f}s" if run.fit_seconds is not None
               and run.status == "ok" else ""))


def log_error(out_dir: Path | None, what: str) -> None:
    """Append the traceback being handled to ``out_dir/errors.log``."""
    if out_dir is not None:
        with (out_dir / "errors.log").open("a", encoding="utf-8") as fh:
            fh.write(f"--- {what}\n{traceback.format_exc()}\n")


def _explain(model: Any, run: ModelRun, sp: Split, test_users: np.ndarray, out_dir: Path | None,
             say: Progress) -> Explanation | None:
    """Gain importance and the smallest test user's top recommendation explained (if the model can);
    written to ``explanations/`` when ``out_dir`` is given. Failing here does not fail the model."""
    # One fixed user, so reruns (and the two protocols) explain the same person.
    user = int(np.min(test_users)) if len(test_users) else None
    try:
        explanation = explain_model(model, run.feedback, run.protocol, run.model, user,
                                    sp.train.movies)
        if explanation is not None and out_dir is not None:
            run.explanation_path = write_explanation(explanation, out_dir)
        return explanation
    except Exception as exc:  # an explanation is a report extra; the scores stand without it
        say(f"[{run.protocol}] {run.model}: explanation failed ({one_line(exc)})")
        log_error(out_dir, f"{run.protocol} / {run.model} (explanation)")
        return None


def run_protocols(config: BenchmarkConfig, dataset: Dataset, out_dir: Path | None = None,
                  progress: Progress | None = None, save_splits: bool = True
                  ) -> list[ProtocolRun]:
    """Every model of ``config`` on every protocol; artifacts go under ``out_dir`` when given."""
    runs = []
    for protocol in config.protocols:
        if progress:
            progress(f"[{protocol.name}] splitting ({protocol.strategy})")
        sp = make_split(dataset, protocol)
        if out_dir is not None and save_splits:
            folder = out_dir / "splits" / protocol.name
            folder.mkdir(parents=True, exist_ok=True)
            for part, ds in (("train", sp.train), ("test", sp.test)):
                ds.to_frame().to_csv(folder / f"{part}.csv", index=False)
        prun = ProtocolRun.from_split(protocol, sp)
        for model_cfg in config.models:
            prun.models.append(run_model(config, model_cfg, protocol, sp, out_dir, progress))
        runs.append(prun)
    return runs


def per_user_frame(protocols: list[ProtocolRun]) -> pd.DataFrame:
    """Tidy per-user values of every evaluated model: ``protocol, model, userId, metric, k, value``."""
    frames = []
    for p in protocols:
        for m in p.models:
            if m.result is None:
                continue
            f = m.result.per_user.copy()
            f["metric"] = f["metric"].astype(str)
            f.insert(0, "model", m.model)
            f.insert(0, "protocol", p.config.name)
            frames.append(f)
    if not frames:
        return pd.DataFrame(columns=["protocol", "model", C.USER, "metric", "k", "value"])
    return pd.concat(frames, ignore_index=True)
