"""The report's figures: one function per figure, each taking a :class:`Section` and returning a Figure.

Figures are plain :class:`matplotlib.figure.Figure` objects in the shared report look
(:mod:`movielens_lessons.reporting`); draw them with
:func:`~movielens_lessons.reporting.style.draw`, which applies that style while one is made. A
function returns ``None`` when its section has no data for it (a release without timestamps has no
time figures).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from movielens_lessons.eda.section import Section
from movielens_lessons.reporting.figures import lorenz_axes, new_figure
from movielens_lessons.reporting.style import BLUE, ORANGE, RED


def _r(x: float | None) -> str:
    """A correlation for a title; ``n/a`` when it could not be computed (too few movies, no spread)."""
    return "n/a" if x is None else f"{x:.2f}"


def _log_bins(values: np.ndarray, per_decade: int = 8) -> np.ndarray:
    """Integer-valued bin edges evenly spaced in log from the smallest to the largest value."""
    lo, hi = max(float(np.min(values)), 1.0), max(float(np.max(values)), 2.0)
    n = max(2, int(per_decade * (np.log10(hi + 1) - np.log10(lo)) + 1))
    return np.unique(np.round(np.logspace(np.log10(lo), np.log10(hi + 1), n)))


def rating_distribution(sec: Section) -> Figure | None:
    if not sec.available:
        return None
    levels, counts = sec.data["levels"], sec.data["counts"]
    fig, (ax,) = new_figure()
    colors = [ORANGE if v != round(v) else BLUE for v in levels]
    ax.bar([f"{v:g}" for v in levels], counts / counts.sum() * 100, color=colors)
    ax.set(xlabel="rating (stars)", ylabel="% of ratings", title="How often each rating is given")
    if sec.numbers["has_half_stars"]:
        ax.legend(
            handles=[
                Patch(color=BLUE, label="whole stars"),
                Patch(color=ORANGE, label="half stars"),
            ],
            frameon=False,
        )
    return fig


def user_mean_rating(sec: Section) -> Figure | None:
    if not sec.available or not len(sec.data["user_means"]):
        return None
    n = sec.numbers
    fig, (ax,) = new_figure()
    ax.hist(sec.data["user_means"], bins=40, color=BLUE, alpha=0.85)
    ax.axvline(n["mean"], color="black", lw=1.5, label=f"mean of all ratings {n['mean']:.2f}")
    for x, lab, c in (
        (n["mean"] - n["margin"], "strict", RED),
        (n["mean"] + n["margin"], "generous", ORANGE),
    ):
        ax.axvline(x, color=c, ls="--", lw=1.2, label=f"{lab} (±{n['margin']:g} star)")
    ax.set(
        xlabel="mean rating of a user",
        ylabel="users",
        title=f"Per-user mean rating (users with ≥ {n['min_ratings_for_mean']} ratings)",
    )
    ax.legend(frameon=False, fontsize=8)
    return fig


def ratings_per_user(sec: Section) -> Figure | None:
    per_user = sec.data["per_user"]
    fig, (a1, a2) = new_figure(2, width=10)
    a1.hist(per_user, bins=_log_bins(per_user), color=BLUE)  # type: ignore[arg-type]  # stubs want a Sequence; arrays work
    a1.set_xscale("log")
    a1.set(xlabel="ratings per user (log scale)", ylabel="users", title="Ratings per user")
    a1.axvline(
        np.median(per_user), color="black", ls="--", lw=1, label=f"median {np.median(per_user):g}"
    )
    a1.legend(frameon=False)
    v = np.sort(per_user)
    a2.loglog(v, 1 - np.arange(len(v)) / len(v), color=BLUE, lw=2)
    a2.set(xlabel="k ratings", ylabel="share of users with ≥ k ratings", title="CCDF (log-log)")
    return fig


def sessions(sec: Section) -> Figure | None:
    if "sessions" not in sec.data:
        return None
    sizes = sec.data["sessions"]
    n = sec.numbers
    bins = _log_bins(sizes, per_decade=6)
    fig, (ax,) = new_figure()
    weights = sizes / sizes.sum() * 100
    ax.hist(sizes, bins=bins, weights=weights, color=BLUE)  # type: ignore[arg-type]  # stubs want a Sequence; arrays work
    ax.set_xscale("log")
    ax.axvline(n["binge_size"], color=RED, ls="--", label=f"binge: ≥ {n['binge_size']} ratings")
    ax.set(
        xlabel=f"ratings in a session (gap ≤ {n['session_gap_s'] // 60} min), log scale",
        ylabel="% of all ratings",
        title="Where ratings happen: session sizes",
    )
    ax.legend(frameon=False)
    return fig


def tenure(sec: Section) -> Figure | None:
    if "tenure_days" not in sec.data:
        return None
    days = sec.data["tenure_days"]
    fig, (ax,) = new_figure()
    edges = np.r_[0, np.logspace(-3, np.log10(max(days.max(), 1.0) + 1), 40)]
    ax.hist(np.maximum(days, 1e-3), bins=edges, color=BLUE)
    ax.set_xscale("log")
    ax.axvline(1, color=RED, ls="--", lw=1, label="1 day")
    ax.axvline(365, color=ORANGE, ls="--", lw=1, label="1 year")
    ax.set(
        xlabel="days between a user's first and last rating (log scale)",
        ylabel="users",
        title="User tenure",
    )
    ax.legend(frameon=False)
    return fig


def long_tail(sec: Section) -> Figure | None:
    per_item = np.sort(sec.data["per_item"])[::-1]
    n = sec.numbers
    rank = np.arange(1, len(per_item) + 1)
    fig, (ax,) = new_figure()
    ax.loglog(rank, per_item, color=BLUE, lw=2)
    k1, k20 = n["top1_movies"], max(1, int(np.ceil(0.2 * len(per_item))))
    ax.axvspan(1, k1, color=RED, alpha=0.15, label=f"top 1 %: {n['top1_share']:.0%} of ratings")
    ax.axvspan(
        k1, k20, color=ORANGE, alpha=0.12, label=f"top 20 %: {n['top20_share']:.0%} of ratings"
    )
    ax.set(
        xlabel="movie rank by number of ratings (log)",
        ylabel="ratings (log)",
        title="The long tail of movie popularity",
    )
    ax.legend(frameon=False)
    return fig


def lorenz(sec: Section) -> Figure | None:
    x, y = sec.data["lorenz_x"], sec.data["lorenz_y"]
    fig, (ax,) = new_figure(width=5.5, height=5)
    lorenz_axes(
        ax,
        xlabel="share of movies (least rated first)",
        ylabel="share of ratings",
        title="Lorenz curve of item popularity",
    )
    ax.plot(x, y, color=BLUE, lw=2, label=f"movies (Gini {sec.numbers['gini']:.3f})")
    ax.fill_between(x, y, x, color=BLUE, alpha=0.1)
    ax.legend(frameon=False, loc="upper left")
    return fig


def ratings_per_year(sec: Section) -> Figure | None:
    if not sec.available:
        return None
    fig, (ax,) = new_figure()
    ax.bar(sec.data["years"], sec.data["per_year"], color=BLUE)
    ax.set(xlabel="year the rating was given", ylabel="ratings", title="Ratings per year")
    return fig


def release_lag(sec: Section) -> Figure | None:
    if "lag" not in sec.data:
        return None
    lag = sec.data["lag"]
    fig, (ax,) = new_figure()
    lo, hi = max(int(lag.min()), -5), min(int(lag.max()), 80)
    ax.hist(np.clip(lag, lo, hi), bins=np.arange(lo, hi + 2) - 0.5, color=BLUE)  # type: ignore[arg-type]  # stubs want a Sequence; arrays work
    ax.axvline(
        np.median(lag), color="black", ls="--", lw=1, label=f"median {np.median(lag):g} years"
    )
    ax.set(
        xlabel="years between a movie's release and its rating",
        ylabel="ratings",
        title="Catalogue age: how old movies are when rated",
    )
    ax.legend(frameon=False)
    return fig


def movies_per_decade(sec: Section) -> Figure | None:
    if not sec.available or not len(sec.data["decades"]):
        return None
    fig, (ax,) = new_figure()
    ax.bar([f"{d}s" for d in sec.data["decades"]], sec.data["decade_counts"], color=BLUE)
    ax.set(xlabel="release decade", ylabel="movies", title="Movies per release decade")
    ax.tick_params(axis="x", rotation=45)
    return fig


def genre_counts(sec: Section) -> Figure | None:
    if not sec.available or not len(sec.data["genre_counts"]):
        return None
    counts = sec.data["genre_counts"].sort_values()
    fig, (ax,) = new_figure(height=max(3.0, 0.28 * len(counts) + 1))
    ax.barh(counts.index, counts.to_numpy(), color=BLUE)
    ax.set(xlabel="movies", title="Movies per genre (a movie counts once per genre)")
    return fig


def genre_cooccurrence(sec: Section) -> Figure | None:
    if not sec.available or len(sec.data["vocab"]) < 2:
        return None
    co, vocab = sec.data["cooccurrence"].astype(np.float64), sec.data["vocab"]
    # Share of the row genre's movies that also carry the column genre: comparable across sizes.
    share = co / np.maximum(np.diag(co)[:, None], 1)
    np.fill_diagonal(share, np.nan)
    k = len(vocab)
    fig, (ax,) = new_figure(width=max(6.0, 0.42 * k + 2), height=max(5.0, 0.38 * k + 1.5))
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=np.nanmax(share) if k > 1 else 1)
    ax.set_xticks(range(k), vocab, rotation=60, ha="right")
    ax.set_yticks(range(k), vocab)
    ax.grid(False)
    ax.set_title("Genre co-occurrence: share of row genre's movies also in column genre")
    fig.colorbar(im, ax=ax, shrink=0.8)
    return fig


def genre_mean_rating(sec: Section) -> Figure | None:
    by = sec.data.get("genre_rating")
    if by is None or not len(by):
        return None
    by = by.iloc[::-1]
    fig, (ax,) = new_figure(height=max(3.0, 0.28 * len(by) + 1))
    ax.barh(by.index, by["mean"], xerr=1.96 * by["sem"], color=BLUE, capsize=2)
    lo = float((by["mean"] - 1.96 * by["sem"]).min())
    ax.set_xlim(max(0.0, lo - 0.15), float(by["mean"].max()) + 0.15)
    ax.set(xlabel="mean rating (95 % interval)", title="Mean rating by genre")
    return fig


def top_tags(sec: Section) -> Figure | None:
    if not sec.available:
        return None
    top = sec.data["top_tags"].iloc[::-1]
    fig, (ax,) = new_figure(height=max(3.0, 0.28 * len(top) + 1))
    ax.barh([str(t) for t in top.index], top.to_numpy(), color=BLUE)
    ax.set(xlabel="times applied (lower-cased)", title=f"Top {len(top)} tags")
    return fig


def imdb_vs_movielens(sec: Section) -> Figure | None:
    if not sec.available or not len(sec.data["imdb_rating"]):
        return None
    n = sec.numbers
    fig, (ax,) = new_figure(width=6, height=5)
    ax.scatter(sec.data["imdb_rating"], sec.data["ml_mean"], s=6, alpha=0.4, color=BLUE)
    ax.set(
        xlabel="IMDb average rating (1-10)",
        ylabel="MovieLens mean rating (stars)",
        title=f"IMDb vs MovieLens rating (Pearson r = {_r(n['rating_pearson'])})",
    )
    return fig


def imdb_votes(sec: Section) -> Figure | None:
    if not sec.available or not len(sec.data["imdb_votes"]):
        return None
    fig, (ax,) = new_figure(width=6, height=5)
    ax.scatter(sec.data["imdb_votes"], sec.data["ml_count"], s=6, alpha=0.4, color=BLUE)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set(
        xlabel="IMDb votes (log)",
        ylabel="MovieLens ratings (log)",
        title=f"Popularity on IMDb vs MovieLens (Spearman {_r(sec.numbers['votes_spearman'])})",
    )
    return fig


def imdb_runtime(sec: Section) -> Figure | None:
    if not sec.available or not len(sec.data["runtime"]):
        return None
    fig, (ax,) = new_figure()
    rt = sec.data["runtime"]
    ax.hist(np.clip(rt, 0, 240), bins=48, color=BLUE)
    ax.set(xlabel="runtime (minutes, clipped at 240)", ylabel="movies", title="IMDb runtime")
    return fig


#: (file stem, section key, function, caption) of every figure, in report order.
FIGURES: list[tuple[str, str, Callable[[Section], Figure | None], str]] = [
    ("rating_distribution", "ratings", rating_distribution, "Share of each rating value"),
    ("user_mean_rating", "ratings", user_mean_rating, "Per-user mean rating"),
    ("ratings_per_user", "users", ratings_per_user, "Ratings per user: histogram and CCDF"),
    ("sessions", "users", sessions, "Share of ratings by rating-session size"),
    ("tenure", "users", tenure, "Days between a user's first and last rating"),
    ("long_tail", "items", long_tail, "Ratings per movie by popularity rank"),
    ("lorenz", "items", lorenz, "Lorenz curve and Gini of item popularity"),
    ("ratings_per_year", "time", ratings_per_year, "Ratings per calendar year"),
    ("release_lag", "time", release_lag, "Years between release and rating"),
    ("movies_per_decade", "content", movies_per_decade, "Movies per release decade"),
    ("genre_counts", "content", genre_counts, "Movies per genre"),
    ("genre_cooccurrence", "content", genre_cooccurrence, "Genre co-occurrence"),
    ("genre_mean_rating", "content", genre_mean_rating, "Mean rating by genre"),
    ("top_tags", "tags", top_tags, "Most frequent tags"),
    ("imdb_vs_movielens", "imdb", imdb_vs_movielens, "IMDb rating vs MovieLens mean rating"),
    ("imdb_votes", "imdb", imdb_votes, "IMDb votes vs MovieLens ratings per movie"),
    ("imdb_runtime", "imdb", imdb_runtime, "IMDb runtime of the catalogue"),
]
