"""``01-eda.md``: numbers of ``movielens-lessons eda ml-latest-small`` (its overview, users and
long-tail sections, computed by the functions the command calls)."""

from __future__ import annotations

import pytest

from movielens_lessons.eda import interactions

pytestmark = pytest.mark.realdata


def test_overview_and_users(raw, on_page) -> None:
    overview = interactions.overview(raw).numbers
    users = interactions.users(raw).numbers
    on_page(
        "01-eda",
        f"{overview['ratings']:,} ratings by {overview['users']} users on "
        f"{overview['rated_movies']:,} movies",
        f"fill **{100 * overview['density']:.2f} %**",
        f"The median user has **{users['median']:g}** ratings",
        f"the most active user has **{users['max']:,}**",
        f"**{100 * users['one_day_share']:.0f} %** of users rated everything within a single day",
    )


def test_long_tail(raw, on_page) -> None:
    items = interactions.items(raw).numbers
    on_page(
        "01-eda",
        f"**top 1 % of movies ({items['top1_movies']}) hold {100 * items['top1_share']:.1f} %**",
        f"**top 20 % hold {100 * items['top20_share']:.1f} %**",
        f"Gini coefficient of item popularity is **{items['gini']:.3f}**",
        f"**{items['single_rating']:,} movies ({100 * items['single_rating_share']:.0f} % of those "
        "rated) have exactly one rating**",
    )
