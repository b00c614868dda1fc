"""Sections about the user × movie interactions: overview, ratings, users, items (long tail) and time.

Counts are of rating *rows* as read from the release (duplicate pairs, if any, are counted and reported
in the data-quality section, not silently dropped here).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from movielens_lessons import columns as C
from movielens_lessons.data.info import describe
from movielens_lessons.data.raw import MovieLensData
from movielens_lessons.eda import stats
from movielens_lessons.eda.section import Section
from movielens_lessons.reporting.figures import lorenz_curve

#: Ratings closer together than this (seconds) belong to the same rating session.
SESSION_GAP = 3600
#: A session with at least this many ratings is a binge.
BINGE_SIZE = 20
#: Users need this many ratings before their mean rating says something about them.
MIN_RATINGS_FOR_MEAN = 5
#: How far (in stars) from the global mean a user's mean must be to call them generous or strict.
RATER_MARGIN = 0.5


def overview(data: MovieLensData) -> Section:
    """Counts, density, date range and rating scale (reuses :func:`movielens_lessons.data.info.describe`)."""
    info = describe(data)
    numbers = {k: v for k, v in info.items() if k != "path"}
    if info["first_date"] and info["last_date"]:
        first, last = pd.Timestamp(info["first_date"]), pd.Timestamp(info["last_date"])
        numbers["span_years"] = round((last - first).days / 365.25, 1)
    return Section("overview", "Overview", numbers=numbers)


def ratings(data: MovieLensData) -> Section:
    """Distribution of rating values (the half-star effect), per-user means, generous vs strict raters."""
    sec = Section("ratings", "Ratings")
    r = data.ratings
    if C.RATING not in r.columns:
        sec.missing = f"{data.name} has no rating values (implicit interactions only)"
        return sec
    values = r[C.RATING].to_numpy(np.float64)
    levels, counts = np.unique(values, return_counts=True)
    share = counts / counts.sum()
    half = levels != np.round(levels)
    mode = int(np.argmax(counts))
    user_n = r.groupby(C.USER, sort=True)[C.RATING].agg(["mean", "size"])
    means = user_n.loc[user_n["size"] >= MIN_RATINGS_FOR_MEAN, "mean"].to_numpy(np.float64)
    global_mean = float(values.mean())
    sec.numbers = {
        "levels": levels,
        "counts": counts,
        "mode": float(levels[mode]),
        "mode_share": float(share[mode]),
        "mean": global_mean,
        "midpoint": float(
            sum(data.rating_scale) / 2 if data.rating_scale else (levels[0] + levels[-1]) / 2
        ),
        "median": float(np.median(values)),
        "has_half_stars": bool(half.any()),
        "half_star_share": float(share[half].sum()),
        # The half-star effect: an average half-star level vs an average whole-star level.
        "mean_share_half_level": float(share[half].mean()) if half.any() else None,
        "mean_share_whole_level": float(share[~half].mean()) if (~half).any() else None,
        "users_for_mean": len(means),
        "user_mean_median": float(np.median(means)) if len(means) else None,
        "user_mean_std": float(means.std()) if len(means) else None,
        "user_mean_p10": float(np.quantile(means, 0.1)) if len(means) else None,
        "user_mean_p90": float(np.quantile(means, 0.9)) if len(means) else None,
        "generous_share": float(np.mean(means >= global_mean + RATER_MARGIN))
        if len(means)
        else None,
        "strict_share": float(np.mean(means <= global_mean - RATER_MARGIN)) if len(means) else None,
        "margin": RATER_MARGIN,
        "min_ratings_for_mean": MIN_RATINGS_FOR_MEAN,
    }
    sec.data = {"levels": levels, "counts": counts, "user_means": means}
    return sec


def users(data: MovieLensData) -> Section:
    """Ratings per user (tail, power users), rating sessions and binges, tenure."""
    r = data.ratings
    per_user = stats.counts_per(r[C.USER].to_numpy())
    n = len(per_user)
    top10 = stats.top_share(per_user, 0.10)
    numbers: dict[str, Any] = {
        "users": n,
        "min": int(per_user.min()),
        "median": float(np.median(per_user)),
        "mean": float(per_user.mean()),
        "p90": float(np.quantile(per_user, 0.9)),
        "max": int(per_user.max()),
        "top10_share": top10,
        "users_1000_plus": int((per_user >= 1000).sum()),
    }
    data_ = {"per_user": per_user}
    if C.TIMESTAMP in r.columns:
        u = r[C.USER].to_numpy()
        t = r[C.TIMESTAMP].to_numpy(np.int64)
        sizes = stats.session_sizes(u, t, SESSION_GAP)
        _, _, tenure = stats.user_spans(u, t)
        binge = sizes >= BINGE_SIZE
        numbers |= {
            "session_gap_s": SESSION_GAP,
            "binge_size": BINGE_SIZE,
            "sessions": len(sizes),
            "sessions_per_user_median": float(np.median(stats.counts_per(_session_users(u, t)))),
            "session_median": float(np.median(sizes)),
            "session_max": int(sizes.max()),
            "binge_sessions": int(binge.sum()),
            "binge_rating_share": float(sizes[binge].sum() / sizes.sum()),
            "tenure_median_days": float(np.median(tenure)),
            "tenure_p90_days": float(np.quantile(tenure, 0.9)),
            "one_day_share": float(np.mean(tenure < 1.0)),
            "over_year_share": float(np.mean(tenure > 365.0)),
        }
        data_ |= {"sessions": sizes, "tenure_days": tenure}
    if data.users is not None and len(data.users):
        demo = data.users
        numbers["with_demographics"] = len(demo)
        if C.GENDER in demo.columns:
            numbers["gender_shares"] = (
                demo[C.GENDER].value_counts(normalize=True).round(4).to_dict()
            )
    return Section("users", "Users", numbers=numbers, data=data_)


def _session_users(u: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The user of each session (same order as :func:`stats.session_sizes`)."""
    su, st = stats.group_by_user_time(u, t)
    new = np.r_[True, (su[1:] != su[:-1]) | (np.diff(st) > SESSION_GAP)]
    return su[new]


def items(data: MovieLensData) -> Section:
    """The popularity long tail: top 1 % / 20 % shares, Lorenz curve and Gini, one-rating movies."""
    per_item = stats.counts_per(data.ratings[C.ITEM].to_numpy())
    n = len(per_item)
    x, y = lorenz_curve(per_item)
    catalogue = None if data.movies is None else int(data.movies[C.ITEM].nunique())
    rated = set(np.unique(data.ratings[C.ITEM].to_numpy()).tolist())
    unrated = None
    if data.movies is not None:
        unrated = int(sum(1 for m in data.movies[C.ITEM].tolist() if m not in rated))
    few = per_item < 5
    numbers = {
        "rated_movies": n,
        "catalogue": catalogue,
        "unrated_in_catalogue": unrated,
        "gini": stats.gini(per_item),
        "top1_share": stats.top_share(per_item, 0.01),
        "top1_movies": max(1, int(np.ceil(0.01 * n - 1e-9))),
        "top20_share": stats.top_share(per_item, 0.20),
        "median": float(np.median(per_item)),
        "max": int(per_item.max()),
        "single_rating": int((per_item == 1).sum()),
        "single_rating_share": float(np.mean(per_item == 1)),
        "under5_share": float(np.mean(few)),
        "under5_rating_share": float(per_item[few].sum() / per_item.sum()),
    }
    return Section(
        "items",
        "Movies: the long tail",
        numbers=numbers,
        data={"per_item": per_item, "lorenz_x": x, "lorenz_y": y},
    )


def time(data: MovieLensData) -> Section:
    """Ratings per calendar year and the lag between a movie's release year and its ratings."""
    sec = Section("time", "Time")
    r = data.ratings
    if C.TIMESTAMP not in r.columns:
        sec.missing = f"{data.name} has no timestamps"
        return sec
    rated_year = stats.year_of(r[C.TIMESTAMP].to_numpy(np.int64))
    years, counts = np.unique(rated_year, return_counts=True)
    busiest = int(np.argmax(counts))
    sec.numbers = {
        "first_year": int(years[0]),
        "last_year": int(years[-1]),
        "busiest_year": int(years[busiest]),
        "busiest_share": float(counts[busiest] / counts.sum()),
        "years_with_ratings": len(years),
    }
    sec.data = {"years": years, "per_year": counts}
    if data.movies is not None and C.YEAR in data.movies.columns:
        release = data.movies.set_index(C.ITEM)[C.YEAR]
        released = release.reindex(r[C.ITEM].to_numpy()).to_numpy(dtype=np.float64, na_value=np.nan)
        known = ~np.isnan(released)
        lag = rated_year[known] - released[known].astype(np.int64)
        if len(lag):
            sec.numbers |= {
                "lag_known_share": float(known.mean()),
                "lag_median": float(np.median(lag)),
                "lag_same_year_share": float(np.mean(lag == 0)),
                "lag_within1_share": float(np.mean((lag >= 0) & (lag <= 1))),
                "lag_over10_share": float(np.mean(lag >= 10)),
                "lag_over25_share": float(np.mean(lag >= 25)),
                "rated_before_release": int((lag < 0).sum()),
            }
            sec.data["lag"] = lag
    return sec
