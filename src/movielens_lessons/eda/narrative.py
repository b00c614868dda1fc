"""The two or three sentences of interpretation under each section, written from the measured numbers.

Every sentence is a template filled with the section's numbers, and the wording of comparisons (more or
fewer, above or below) is chosen from the numbers too, so the text stays true on any release.
"""

from __future__ import annotations

from collections.abc import Callable

from movielens_lessons.eda.section import Section


def _pct(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:.1%}" if x < 0.1 else f"{x:.0%}"


def _n(x: float | int) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def overview(s: Section) -> list[str]:
    n = s.numbers
    out = [
        f"{_n(n['ratings'])} ratings by {_n(n['users'])} users on {_n(n['rated_movies'])} movies"
        + (f" (of {_n(n['movies'])} in the catalogue)" if n.get("movies") else "")
        + f": only {n['density']:.2%} of the user × movie matrix is filled, so a recommender "
        f"predicts the other {1 - n['density']:.2%}."
    ]
    if n.get("first_date"):
        out.append(
            f"The ratings span {n['first_date']} to {n['last_date']} "
            f"({n.get('span_years', 0):g} years)."
        )
    if n.get("distinct_rating_values"):
        vals = n["distinct_rating_values"]
        mid = (vals[0] + vals[-1]) / 2
        side = "above" if n["rating_mean"] > mid else "below" if n["rating_mean"] < mid else "at"
        out.append(
            f"Ratings take {len(vals)} values from {vals[0]:g} to {vals[-1]:g}; the mean is "
            f"{n['rating_mean']:.2f}, {side} the scale's midpoint {mid:g}."
        )
    return out


def ratings(s: Section) -> list[str]:
    n = s.numbers
    why = (
        "people mostly rate what they chose to watch and liked"
        if n["mean"] > n["midpoint"]
        else "ratings lean to the low end of the scale"
    )
    out = [
        f"The most common rating is {n['mode']:g} ({_pct(n['mode_share'])} of all ratings) and the "
        f"mean is {n['mean']:.2f} against a scale midpoint of {n['midpoint']:g}: {why}."
    ]
    if n["has_half_stars"]:
        ratio = n["mean_share_whole_level"] / n["mean_share_half_level"]
        out.append(
            f"Half stars hold {_pct(n['half_star_share'])} of ratings: an average whole-star value "
            f"is used {ratio:.1f}× as often as an average half-star value (the half-star effect)."
        )
    else:
        out.append("This release allows whole stars only, so there is no half-star effect to see.")
    if n["users_for_mean"]:
        out.append(
            f"Users' own mean ratings spread from {n['user_mean_p10']:.2f} (10th percentile) to "
            f"{n['user_mean_p90']:.2f} (90th); {_pct(n['generous_share'])} are generous and "
            f"{_pct(n['strict_share'])} strict (mean ≥ {n['margin']:g} star above / below the global "
            "mean), which is why models learn a bias per user."
        )
    return out


def users(s: Section) -> list[str]:
    n = s.numbers
    ratio = n["mean"] / n["median"] if n["median"] else float("nan")
    out = [
        f"A user has a median of {_n(n['median'])} ratings but the mean is {_n(n['mean'])} "
        f"({ratio:.1f}× the median) and the most active has {_n(n['max'])}: the top 10 % of users "
        f"give {_pct(n['top10_share'])} of all ratings."
    ]
    if n["min"] >= 20:
        out.append(
            f"No user has fewer than {n['min']} ratings: the release was filtered, so real "
            "cold-start users are absent and must be simulated."
        )
    if "sessions" in n:
        lead = "Ratings come in bursts" if n["binge_rating_share"] >= 0.5 else "Bursts are rare"
        out.append(
            f"{lead}: {_pct(n['binge_rating_share'])} of ratings are entered in "
            f"{_n(n['binge_sessions'])} sessions of ≥ {n['binge_size']} ratings within an hour of each "
            f"other (the largest has {_n(n['session_max'])}), and {_pct(n['one_day_share'])} of users "
            f"rated everything within one day while {_pct(n['over_year_share'])} stayed longer than a year."
        )
    return out


def items(s: Section) -> list[str]:
    n = s.numbers
    return [
        f"The top 1 % of movies ({n['top1_movies']}) hold {_pct(n['top1_share'])} of all ratings and the "
        f"top 20 % hold {_pct(n['top20_share'])}; the Gini coefficient of item popularity is "
        f"{n['gini']:.3f} (0 would be equal popularity).",
        f"{_n(n['single_rating'])} movies ({_pct(n['single_rating_share'])} of those rated) have a single "
        f"rating and {_pct(n['under5_share'])} have fewer than 5, "
        + (
            f"yet together these under-5 movies hold only {_pct(n['under5_rating_share'])} of the ratings."
            if n["under5_rating_share"] < n["under5_share"]
            else f"and they hold {_pct(n['under5_rating_share'])} of the ratings."
        ),
        "Collaborative filtering knows little about them — the item cold-start problem that content "
        "features (genres, tags, IMDb) have to fill"
        + (
            f", as for the {_n(n['unrated_in_catalogue'])} catalogue movies nobody rated."
            if n.get("unrated_in_catalogue")
            else "."
        ),
    ]


def time(s: Section) -> list[str]:
    n = s.numbers
    out = [
        f"Ratings run from {n['first_year']} to {n['last_year']}; the busiest year, "
        f"{n['busiest_year']}, holds {_pct(n['busiest_share'])} of them, so a random split mixes "
        "eras that a time-based split keeps apart."
    ]
    if "lag_median" in n:
        out.append(
            f"The median movie is {n['lag_median']:g} years old when rated; {_pct(n['lag_within1_share'])} "
            f"of ratings come within a year of release and {_pct(n['lag_over10_share'])} ten or more years "
            "after, so "
            + (
                "the catalogue's back-list, not new releases, carries much of the signal."
                if n["lag_over10_share"] > n["lag_within1_share"]
                else "new releases carry more of the signal than the back-list."
            )
        )
        if n["rated_before_release"]:
            out.append(
                f"{_n(n['rated_before_release'])} ratings are dated before the movie's release "
                "year (festival screenings or wrong years)."
            )
    return out


def content(s: Section) -> list[str]:
    n = s.numbers
    top = list(n["genre_counts"].items())
    out = []
    if top:
        out.append(
            f"{top[0][0]} is the most common of {n['genres']} genres ({_n(top[0][1])} of "
            f"{_n(n['movies'])} movies); a movie carries {n['genres_per_movie_mean']:.1f} genres on "
            f"average and {_pct(n['single_genre_share'])} carry just one."
        )
    if n.get("top_pair"):
        a, b = n["top_pair"]
        out.append(
            f"The most frequent pair is {a} + {b} ({_n(n['top_pair_movies'])} movies), and "
            f"{_n(n['no_genres'])} movies have no genre listed."
        )
    if n.get("best_genre"):
        gap = n["best_genre_mean"] - n["worst_genre_mean"]
        out.append(
            f"{n['best_genre']} has the highest mean rating ({n['best_genre_mean']:.2f}) and "
            f"{n['worst_genre']} the lowest ({n['worst_genre_mean']:.2f}), a gap of {gap:.2f} "
            f"stars{' only' if gap < 1 else ''}: genre is a "
            f"{'usable but weak' if gap < 1 else 'strong'} signal."
        )
    if n.get("top_decade") is not None:
        out.append(
            f"The {n['top_decade']}s supply the most movies ({_pct(n['top_decade_share'])})."
        )
    return out


def tags(s: Section) -> list[str]:
    n = s.numbers
    out = []
    if n["taggers_share_of_raters"] is not None:
        out.append(
            f"Only {_n(n['taggers'])} users tagged anything — {_pct(n['taggers_share_of_raters'])} "
            f"of the raters — and the most active tagger wrote {_pct(n['top_tagger_share'])} of all "
            f"{_n(n['tags'])} tags."
        )
    if n["catalogue_coverage"] is not None:
        out.append(
            f"Tags cover {_n(n['tagged_movies'])} movies, {_pct(n['catalogue_coverage'])} of the "
            f"catalogue, with {_n(n['distinct_tags'])} distinct lower-cased tags "
            f"({_n(n['distinct_tags_raw'])} as written): sparse, noisy features."
        )
    return out


def quality(s: Section) -> list[str]:
    n = s.numbers
    out = [
        f"{_n(n['duplicate_pairs'])} duplicate (user, movie) rows"
        + (
            " — each pair is rated once."
            if n["duplicate_pairs"] == 0
            else "; the Dataset keeps the latest of each pair."
        )
    ]
    if "no_year" in n:
        rule = (
            ", so the year must be taken from the last group"
            if n["several_parentheses"]
            else "; the year is the parenthesised number at the end"
        )
        out.append(
            f"{_n(n['no_year'])} titles have no release year and {_n(n['several_parentheses'])} "
            f"have several parenthesised groups{rule}."
        )
    if "imdb_leading_zero" in n:
        out.append(
            f"{_pct(n['imdb_leading_zero_share'])} of imdbIds start with a zero: reading links as "
            f"integers breaks the join to IMDb for {_n(n['imdb_naive_mismatch'])} movies."
        )
    return out


def imdb(s: Section) -> list[str]:
    n = s.numbers
    out = [
        f"{_n(n['matched'])} of {_n(n['catalogue'])} movies ({_pct(n['coverage'])}) join to IMDb "
        f"through links.csv; the median runtime is {n['runtime_median'] or 0:g} minutes."
    ]
    if n["rating_pearson"] is not None and n["compared_movies"] >= 3:
        r = n["rating_pearson"]
        strength = "strongly" if r >= 0.7 else "moderately" if r >= 0.4 else "weakly"
        votes = (
            f"; IMDb votes and MovieLens ratings per movie have Spearman {n['votes_spearman']:.2f}"
            if n["votes_spearman"] is not None
            else ""
        )
        out.append(
            f"For the {_n(n['compared_movies'])} movies with ≥ {n['min_ratings']} MovieLens ratings, "
            f"IMDb's average rating and the MovieLens mean agree {strength} (Pearson {r:.2f}, "
            f"Spearman {n['rating_spearman']:.2f}){votes}."
        )
    if n["genre_jaccard_mean"] is not None:
        out.append(
            f"The two genre lists overlap by a mean Jaccard of {n['genre_jaccard_mean']:.2f} and "
            f"share no genre at all for {_pct(n['genre_none_shared_share'])} of movies: the sources "
            "disagree on what a movie is about."
        )
    return out


NARRATIVES: dict[str, Callable[[Section], list[str]]] = {
    "overview": overview,
    "ratings": ratings,
    "users": users,
    "items": items,
    "time": time,
    "content": content,
    "tags": tags,
    "quality": quality,
    "imdb": imdb,
}


def narrate(section: Section) -> list[str]:
    """The interpretation of ``section``; for a section without data, the reason."""
    if not section.available:
        return [f"Not available: {section.missing}."]
    # Sentences are written most important first; the report keeps three at most.
    return NARRATIVES[section.key](section)[:3]
