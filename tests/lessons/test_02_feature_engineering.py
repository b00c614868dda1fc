"""``02-feature-engineering.md``: the page's own script (features on a global 80 % time cut)."""

from __future__ import annotations

import numpy as np
import pytest

from movielens_lessons.features import item_features, user_features

pytestmark = pytest.mark.realdata


def test_time_cut_numbers(ds, on_page) -> None:
    cut = int(np.quantile(ds.timestamps, 0.8))
    full, win = item_features(ds), item_features(ds, as_of=cut)
    test = ds.timestamps > cut
    items = np.unique(ds.items[test])
    users = np.unique(ds.users[test])
    cold = win["n_ratings"].to_numpy()[items] == 0
    changed = int((full["n_ratings"] != win["n_ratings"]).sum())
    cold_users = int((user_features(ds, as_of=cut)["n_ratings"].to_numpy()[users] == 0).sum())
    on_page(
        "02-feature-engineering",
        f"a {full.shape[0]:,} × {full.shape[1]} frame",
        f"**{changed:,} have a different `n_ratings`**",
        f"**{cold_users} of the {len(users)} users**",
        f"**{int(cold.sum()):,} of the {len(items):,} movies** rated after it "
        f"({100 * cold.sum() / len(items):.0f} %)",
        f"receiving {100 * np.isin(ds.items[test], items[cold]).mean():.0f} % of the test ratings",
    )
