"""The benchmark's ``report.html``: self-contained (PNG figures embedded as base64, inline CSS, no
scripts, no network), in the shared look of :mod:`movielens_lessons.reporting`; the same figures are
written to ``figures/*.png``."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from movielens_lessons.experiments import explanation_figures, figures
from movielens_lessons.experiments.config import BenchmarkConfig
from movielens_lessons.experiments.environment import describe_machine
from movielens_lessons.experiments.leaderboard import metric_key
from movielens_lessons.experiments.runner import ProtocolRun
from movielens_lessons.reporting.figures import png_bytes
from movielens_lessons.reporting.html import PAGE_END, figure_html, nav_link, page_start
from movielens_lessons.reporting.style import draw

_EXTRA_CSS = ".tied{color:#3b6ea5}.failed{color:#a33}td.num{text-align:right}"


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


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, float | np.floating):
        return f"{v:.{digits}f}"
    return html.escape(str(v))


def table_html(config: BenchmarkConfig, rows: pd.DataFrame) -> str:
    """The leaderboard of one protocol: metric (± CI half-width), RMSE, costs, p vs best."""
    metric, k = config.primary()
    primary = metric_key(metric, k)
    metrics = [c for c in rows.columns if "@" in c and not c.endswith(("_ci_low", "_ci_high"))]
    metrics.sort(key=lambda c: (c != primary, int(c.split("@")[1]), c))
    head = ["#", "model", "feedback", *metrics, "RMSE", "MAE", "fit s", "rec s", "peak MiB",
            f"p vs best ({primary}, Holm)"]
    out = ["<table><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head)
           + "</tr></thead><tbody>"]
    for r in rows.to_dict("records"):
        if r["status"] != "ok":
            out.append(f"<tr class='failed'><td></td><td>{html.escape(r['model'])}</td>"
                       f"<td>{r['feedback']}</td><td colspan='{len(head) - 3}'>"
                       f"{html.escape(r['status'])}: {html.escape(str(r['message']))}</td></tr>")
            continue
        cells = [_fmt(r["rank"]), html.escape(r["model"]), r["feedback"]]
        for c in metrics:
            lo, hi = r.get(f"{c}_ci_low"), r.get(f"{c}_ci_high")
            ci = "" if lo is None or math.isnan(lo) else f" <small>[{lo:.4f}, {hi:.4f}]</small>"
            cells.append(_fmt(r[c]) + ci)
        cells += [_fmt(r.get("rmse")), _fmt(r.get("mae")), _fmt(r["fit_seconds"], 2),
                  _fmt(r["recommend_seconds"], 2), _fmt(r["peak_memory_mb"], 0)]
        p = r["p_vs_best"]
        if r["rank"] == 1 and (p is None or math.isnan(p)):
            cells.append("<b>best</b>")
        else:
            tied = " <span class='tied'>(tied)</span>" if r["tied_with_best"] else ""
            cells.append(_fmt(p, 3) + tied)
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def write_report(out_dir: Path, config: BenchmarkConfig, board: pd.DataFrame,
                 protocols: list[ProtocolRun], per_user: pd.DataFrame, run_info: dict[str, Any],
                 env: dict[str, Any]) -> tuple[Path, dict[str, dict[str, bytes]]]:
    """Write ``report.html`` and ``figures/``; returns the path and the PNGs by protocol and name."""
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
        f"<p>Rerun: <code>movielens-lessons benchmark --config "
        f"{esc(str(out_dir / 'config.toml'))}</code></p>",
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
        parts.append(table_html(config, board[board["protocol"] == name]))
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
                 "<code>environment.json</code>.</p></section>" + PAGE_END)
    path = out_dir / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path, pngs
