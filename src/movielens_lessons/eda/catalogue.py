"""Sections about the catalogue: release decades, genres (frequency, co-occurrence, mean rating) and tags."""

from __future__ import annotations

import numpy as np
import pandas as pd

from movielens_lessons import columns as C
from movielens_lessons.data.raw import MovieLensData
from movielens_lessons.eda import stats
from movielens_lessons.eda.section import Section

#: How many tags the top-tags figure shows.
TOP_TAGS = 20


def content(data: MovieLensData) -> Section:
    """Movies per decade, genre frequencies and co-occurrence, mean rating by genre, genre-less movies."""
    sec = Section("content", "Content: decades and genres")
    movies = data.movies
    if movies is None or not len(movies):
        sec.missing = f"{data.name} has no movies file"
        return sec
    n = len(movies)
    genres = [list(g) if isinstance(g, (list, tuple, np.ndarray)) else [] for g in movies[C.GENRES]]
    counts = pd.Series([g for gs in genres for g in gs], dtype="object").value_counts()
    vocab = counts.index.tolist()
    co = stats.cooccurrence(genres, vocab)
    n_genres = np.array([len(g) for g in genres])
    years = movies[C.YEAR].to_numpy(dtype=np.float64, na_value=np.nan)
    decades = (years[~np.isnan(years)] // 10 * 10).astype(np.int64)
    dec, dec_counts = np.unique(decades, return_counts=True)
    sec.numbers = {
        "movies": n,
        "genres": len(vocab),
        "no_genres": int((n_genres == 0).sum()),
        "genres_per_movie_mean": float(n_genres.mean()),
        "single_genre_share": float(np.mean(n_genres == 1)),
        "genre_counts": counts.to_dict(),
        "top_decade": int(dec[np.argmax(dec_counts)]) if len(dec) else None,
        "top_decade_share": float(dec_counts.max() / dec_counts.sum()) if len(dec) else None,
        "no_year": int(np.isnan(years).sum()),
    }
    sec.data = {
        "genre_counts": counts,
        "cooccurrence": co,
        "vocab": vocab,
        "decades": dec,
        "decade_counts": dec_counts,
    }
    if len(vocab) >= 2:
        off = co.astype(np.float64).copy()
        np.fill_diagonal(off, -1)
        i, j = np.unravel_index(int(np.argmax(off)), off.shape)
        sec.numbers["top_pair"] = [vocab[i], vocab[j]]
        sec.numbers["top_pair_movies"] = int(co[i, j])
    if C.RATING in data.ratings.columns:
        by_genre = _mean_rating_by_genre(data.ratings, movies)
        sec.data["genre_rating"] = by_genre
        if len(by_genre):
            sec.numbers["best_genre"] = str(by_genre.index[0])
            sec.numbers["best_genre_mean"] = float(by_genre["mean"].iloc[0])
            sec.numbers["worst_genre"] = str(by_genre.index[-1])
            sec.numbers["worst_genre_mean"] = float(by_genre["mean"].iloc[-1])
    return sec


def _mean_rating_by_genre(ratings: pd.DataFrame, movies: pd.DataFrame) -> pd.DataFrame:
    """Per genre: ``mean`` rating, ``ratings`` count, ``sem``; genres with ≥ 100 ratings (or all if fewer
    would remain), best first. Ratings of a multi-genre movie count once per genre."""
    g = movies[[C.ITEM, C.GENRES]].explode(C.GENRES).dropna(subset=[C.GENRES])
    joined = ratings[[C.ITEM, C.RATING]].merge(g, on=C.ITEM, how="inner")
    agg = joined.groupby(C.GENRES)[C.RATING].agg(["mean", "size", "std"])
    agg = agg.rename(columns={"size": "ratings"})
    agg["sem"] = agg["std"].fillna(0.0) / np.sqrt(agg["ratings"])
    big = agg[agg["ratings"] >= 100]
    out = big if len(big) >= 3 else agg
    return out.drop(columns="std").sort_values("mean", ascending=False)


def tags(data: MovieLensData) -> Section:
    """Top tags, how few users tag, and how much of the catalogue any tag covers."""
    sec = Section("tags", "Tags")
    t = data.tags
    if t is None or not len(t):
        sec.missing = f"{data.name} has no tags" + (" file" if t is None else "")
        return sec
    text = t[C.TAG].astype("string").str.strip().str.lower()
    top = text.value_counts().head(TOP_TAGS)
    raters = set(np.unique(data.ratings[C.USER].to_numpy()).tolist())
    taggers = set(np.unique(t[C.USER].to_numpy()).tolist())
    tagged = set(np.unique(t[C.ITEM].to_numpy()).tolist())
    per_tagger = stats.counts_per(t[C.USER].to_numpy())
    catalogue = data.movies[C.ITEM].nunique() if data.movies is not None else None
    rated = stats.counts_per(data.ratings[C.ITEM].to_numpy())
    sec.numbers = {
        "tags": len(t),
        "distinct_tags": int(text.nunique()),
        "distinct_tags_raw": int(t[C.TAG].nunique()),
        "taggers": len(taggers),
        "taggers_share_of_raters": len(taggers & raters) / len(raters) if raters else None,
        "taggers_without_ratings": len(taggers - raters),
        "tags_per_tagger_median": float(np.median(per_tagger)),
        "top_tagger_share": float(per_tagger.max() / per_tagger.sum()),
        "tagged_movies": len(tagged),
        "catalogue_coverage": len(tagged) / catalogue if catalogue else None,
        "rated_movies": len(rated),
        "top_tags": top.to_dict(),
    }
    sec.data = {"top_tags": top}
    return sec
