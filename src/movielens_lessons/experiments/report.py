"""The benchmark's ``report.html``: self-contained (PNG figures embedded as base64, inline CSS, one
inline script that sorts the tables, no network), in the shared look of
:mod:`movielens_lessons.reporting`; the same figures are written to ``figures/*.png``. The
leaderboard tables are :mod:`movielens_lessons.experiments.leaderboard_html`'s."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd

from movielens_lessons.experiments import explanation_figures, figures
from movielens_lessons.experiments.config import BenchmarkConfig
from movielens_lessons.experiments.environment import describe_machine
from movielens_lessons.experiments.leaderboard_html import CSS as TABLE_CSS
from movielens_lessons.experiments.leaderboard_html import tables_html
from movielens_lessons.experiments.runner import ProtocolRun
from movielens_lessons.reporting.figures import png_bytes
from movielens_lessons.reporting.html import (
    PAGE_END,
    SORT_SCRIPT,
    figure_html,
    nav_link,
    page_start,
)
from movielens_lessons.reporting.style import draw

_EXTRA_CSS = ".tied{color:#3b6ea5}.failed{color:#a33}td.num{text-align:right}" + TABLE_CSS


def figure_data(config: BenchmarkConfig, board: pd.DataFrame, protocol: ProtocolRun,
                per_user: pd.DataFrame) -> figures.FigureData:
    metric, k = config.primary()
    name = protocol.config.name
    rows = board[(board["protocol"] == name) & (board["status"] == "ok")]
    exposure = {m.model: m.exposure for m in protocol.models if m.exposure is not None}
    return figures.FigureData(name, rows, per_user[per_user["protocol"] == name], exposure,
                              protocol.train_popularity, metric, k)


def draw_figures(config: BenchmarkConfig, board: pd.DataFrame, protocols: list[ProtocolRun],
                 per_user: pd.DataFrame, out_dir: Path) -> dict[str, dict[str, bytes]]:
    """Every figure of every protocol as PNG bytes (also written to ``figures/<protocol>_<name>.png``)."""
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    pngs: dict[str, dict[str, bytes]] = {}
    for p in protocols:
        data = figure_data(config, board, p, per_user)
        pngs[p.config.name] = {}
        for stem, function, _ in figures.FIGURES:
            fig = draw(function, data)
            if fig is not None:
                pngs[p.config.name][stem] = _save_png(fig, out_dir, f"{p.config.name}_{stem}")
        for m in p.models:
            if m.explanation is None:
                continue
            for suffix, explain in explanation_figures.FIGURES:
                fig = draw(explain, m.explanation)
                if fig is not None:
                    stem = explanation_stem(m.model, suffix)
                    pngs[p.config.name][stem] = _save_png(fig, out_dir, f"{p.config.name}_{stem}")
    return pngs


def explanation_stem(model: str, suffix: str) -> str:
    """File stem of an explanation figure, e.g. ``explain_xgboost-ranker_importance``."""
    return f"explain_{model}_{suffix}"


def _save_png(fig: Any, out_dir: Path, stem: str) -> bytes:
    """``fig`` as PNG bytes, also written to ``figures/<stem>.png``."""
    png = png_bytes(fig, dpi=100)
    (out_dir / "figures" / f"{stem}.png").write_bytes(png)
    return png


def protocol_params_html(config: BenchmarkConfig, protocol: str) -> str:
    """One sentence listing the parameters set for ``protocol`` only (empty if none)."""
    items = []
    for m in config.models:
        overrides = m.protocol_params.get(protocol, {})
        if overrides:
            values = ", ".join(f"<code>{html.escape(k)} = {html.escape(repr(v))}</code>"
                               for k, v in overrides.items())
            items.append(f"<code>{html.escape(m.name)}</code> {values}")
    if not items:
        return ""
    return "<p>Parameters set for this protocol only: " + "; ".join(items) + ".</p>"


def cheaper_html(config: BenchmarkConfig) -> str:
    """One paragraph naming the settings a ``--quick`` run made cheaper (empty if none)."""
    items = [f"<code>{html.escape(m.name)}</code> {html.escape(m.cheaper)}"
             for m in config.models if m.cheaper]
    if not items:
        return ""
    return ("<p class='cheaper'><strong>Cheaper settings:</strong> this quick run trained these "
            "models with cheaper settings than the full run (so their rows are not the "
            "leaderboard's): " + "; ".join(items) + ".</p>")


def explanations_html(protocol: ProtocolRun, pngs: dict[str, bytes]) -> str:
    """The protocol's explanation figures with their captions (empty if no model was explained)."""
    parts = []
    for m in protocol.models:
        if m.explanation is None:
            continue
        for suffix, _ in explanation_figures.FIGURES:
            stem = explanation_stem(m.model, suffix)
            if stem in pngs:
                parts.append(figure_html(pngs[stem], f"{protocol.config.name}_{stem}",
                                         explanation_figures.caption(suffix, m.explanation)))
    if not parts:
        return ""
    return ("<h3>Why the tree models rank as they do</h3><p>Models with a feature importance "
            "(the XGBoost models), fitted on this protocol's training split; the data behind each "
            "pair of figures is in <code>explanations/" + html.escape(protocol.config.name)
            + "/MODEL.json</code>.</p>" + "".join(parts))


def write_report(out_dir: Path, config: BenchmarkConfig, board: pd.DataFrame,
                 protocols: list[ProtocolRun], per_user: pd.DataFrame, run_info: dict[str, Any],
                 env: dict[str, Any], run_dir: Path | None = None
                 ) -> tuple[Path, dict[str, dict[str, bytes]]]:
    """Write ``report.html`` and ``figures/`` into ``out_dir``; returns the path and the PNGs by
    protocol and name. ``run_dir``: where the folder will live, for the rerun command, when
    ``out_dir`` is a staging folder that is renamed there once the run is complete."""
    pngs = draw_figures(config, board, protocols, per_user, out_dir)
    esc = html.escape
    title = f"Benchmark: {config.name} on {config.dataset}"
    parts = [
        page_start(title, _EXTRA_CSS),
        *[nav_link(p.config.name, p.config.name) for p in protocols],
        nav_link("environment", "environment") + "</nav>",
        f"<p>Run <code>{esc(run_info['run_id'])}</code>, started {esc(run_info['started_at'])}, "
        f"{run_info['wall_seconds']:.0f} s wall time on {esc(describe_machine(env))}. "
        f"Every model is trained on the same training split and scored on the same test users; "
        f"intervals are 95% percentile bootstraps over test users ({config.n_bootstrap} resamples); "
        f"p-values compare each model with the best on {esc(config.primary_metric)} by a paired "
        f"bootstrap, Holm-corrected within each protocol (tied = not significantly worse at "
        f"α = {config.alpha}).</p>",
        *([f"<p>Engine: <b>Spark</b> (master <code>{esc(str(run_info.get('spark_master')))}</code>)"
           ": the data was read, split, fitted, ranked and scored by Spark; the per-user random "
           "split draws its rows by a seeded hash (same per-user counts as the single-machine "
           "split, other rows), and peak memory is the driver's Python process only.</p>"]
          if config.engine == "spark" else []),
        f"<p>Rerun: <code>movielens-lessons benchmark --config "
        f"{esc(str((run_dir or out_dir) / 'config.toml'))}</code></p>",
        cheaper_html(config),
    ]
    for p in protocols:
        name = p.config.name
        s = p.summary()
        parts.append(f"<section id='{esc(name)}'><h2>Protocol: {esc(name)}</h2>")
        parts.append(f"<p>Split <code>{esc(p.config.strategy)}</code> "
                     f"{esc(str({k: v for k, v in s['params'].items() if v is not None}))}: "
                     f"{s['n_train']:,} training and {s['n_test']:,} test interactions, "
                     f"{s['n_test_users']:,} test users; (user, item) pairs in both: "
                     f"{s['leakage']['overlap']}.</p>")
        parts.append(protocol_params_html(config, name))
        parts.append(tables_html(config, board[board["protocol"] == name]))
        for stem, _, caption in figures.FIGURES:
            png = pngs.get(name, {}).get(stem)
            if png is not None:
                parts.append(figure_html(png, f"{name}_{stem}", caption))
        parts.append(explanations_html(p, pngs.get(name, {})))
        parts.append("</section>")
    versions = ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v)
    parts.append("<section id='environment'><h2>Environment</h2>"
                 f"<p>{esc(describe_machine(env))}; {esc(versions)}; commit "
                 f"{esc(str(env.get('git_commit')))}. Full details in "
                 "<code>environment.json</code>.</p></section>" + SORT_SCRIPT + PAGE_END)
    path = out_dir / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path, pngs
