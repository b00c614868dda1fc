"""A served model's leaderboard row, when the model folder is one a benchmark run saved.

``movielens-lessons benchmark`` saves each model it fits as ``<run>/models/<protocol>/<model>/`` next
to ``<run>/leaderboard.json``; a model served from there has measured metrics (means with bootstrap CI
bounds, on that protocol's test split), which ``GET /models`` shows. A model trained with ``train`` has
none: the service does not evaluate anything itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from movielens_lessons.serving import schemas as S


def leaderboard_entry(folder: str | Path, model: str) -> S.LeaderboardEntry | None:
    """``model``'s row in the leaderboard of the benchmark run that saved ``folder``; None when the
    folder is not in a run (or the run has no ``ok`` row for it)."""
    folder = Path(folder).resolve()
    protocol, run = folder.parent.name, folder.parent.parent.parent
    board = run / "leaderboard.json"
    if folder.parent.parent.name != "models" or not board.is_file():
        return None
    try:
        payload = json.loads(board.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # a damaged leaderboard hides the metrics; the model itself still serves
    rows = [
        r for r in payload.get("rows", [])
        if isinstance(r, dict) and r.get("protocol") == protocol and r.get("model") == model
        and r.get("status") == "ok"
    ]  # fmt: skip
    if len(rows) != 1:
        return None
    row: dict[str, Any] = rows[0]
    metrics = {
        key: S.MetricValue(
            mean=float(value),
            ci_low=_number(row.get(f"{key}_ci_low")),
            ci_high=_number(row.get(f"{key}_ci_high")),
        )
        for key, value in row.items()
        if ("@" in key or key in ("auc", "rmse", "mae"))
        and not key.endswith(("_ci_low", "_ci_high"))
        and _number(value) is not None
    }
    info = payload.get("run", {})
    rank = row.get("rank")
    return S.LeaderboardEntry(
        run=str(info.get("run_id", run.name)), protocol=protocol,
        primary_metric=str(info.get("primary_metric", "")),
        rank=int(rank) if isinstance(rank, (int, float)) else None, metrics=metrics,
    )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


__all__ = ["leaderboard_entry"]
