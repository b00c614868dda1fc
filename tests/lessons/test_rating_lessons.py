"""``als-from-scratch.md`` and ``xgboost-rating.md``: the rating baselines' rows of their tables.

Both pages cite ``benchmarks/quality_cli.py`` (``split`` → ``train`` → ``predict``/``recommend`` →
``evaluate`` on the benchmark's two protocols); the rating baselines fit in milliseconds, so their
RMSE and NDCG@10 are recomputed here on the same splits. P1 = user-random, P2 = user-temporal.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.realdata

P = {"P1": "user-random", "P2": "user-temporal"}


@pytest.fixture(scope="module")
def baselines(splits, tables) -> dict:
    """RMSE and NDCG@10 of ``global-mean`` and ``bias-baseline`` on P1 and P2."""
    out = {}
    for label, protocol in P.items():
        sp = splits[protocol]
        for name in ("global-mean", "bias-baseline"):
            model = tables.fit(name, sp.train, protocol)
            out[label, name] = (tables.rmse(model, sp.test),
                                tables.ndcg_at_10(model, sp.train, sp.test))
    return out


def test_als_from_scratch_baseline_rows(baselines, on_page) -> None:
    rows = [f"| {name} | {label} | {rmse:.4f} |" for (label, name), (rmse, _) in baselines.items()]
    on_page("als-from-scratch", *rows)
    on_page("als-from-scratch",
            f"the bias baseline itself scores {baselines['P1', 'bias-baseline'][0]:.4f} (P1",
            f"but {baselines['P2', 'bias-baseline'][0]:.4f} on P2")


def test_xgboost_rating_baseline_rows(baselines, on_page) -> None:
    on_page("xgboost-rating", *[
        f"| {label} | {name} | {rmse:.4f} | {ndcg:.4f} |"
        for (label, name), (rmse, ndcg) in baselines.items()
    ])
