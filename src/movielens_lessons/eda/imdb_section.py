"""The IMDb section: join coverage, runtime, IMDb vs MovieLens ratings and popularity, genre disagreement.

The enrichment itself (reading IMDb's dumps with DuckDB, joined through ``links.csv``) lives in
:mod:`movielens_lessons.data.imdb`; it is imported only when an IMDb folder is given.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from movielens_lessons import columns as C
from movielens_lessons.data.raw import MovieLensData
from movielens_lessons.eda import stats
from movielens_lessons.eda.section import Section

#: Movies need this many MovieLens ratings before their mean is compared with IMDb's.
MIN_RATINGS = 10
#: MovieLens genre names → IMDb's where they differ; ``IMAX`` is a format, not an IMDb genre.
GENRE_TO_IMDB = {"Children": "Family", "Musical": "Musical", "Film-Noir": "Film-Noir", "IMAX": None}


def _ml_genres_as_imdb(genres: list[str]) -> set[str]:
    out = set()
    for g in genres:
        mapped = GENRE_TO_IMDB.get(g, g)
        if mapped is not None:
            out.add(mapped)
    return out


def imdb(data: MovieLensData, imdb_dir: str | os.PathLike[str] | None) -> Section:
    """IMDb statistics of the release's movies, or a section that says why there are none."""
    sec = Section("imdb", "IMDb enrichment")
    if imdb_dir is None:
        sec.missing = (
            "no IMDb dumps given (pass --imdb-dir with title.basics/title.ratings .tsv.gz)"
        )
        return sec
    if data.movies is None or data.links is None:
        sec.missing = f"{data.name} has no links file, so its movies cannot be joined to IMDb"
        return sec
    from movielens_lessons.data.imdb import enrich_items

    enriched = enrich_items(data.movies, data.links, Path(imdb_dir))
    return summarize(enriched, data)


def summarize(enriched: pd.DataFrame, data: MovieLensData) -> Section:
    """The section from an enriched items frame (``movieId`` + IMDb columns ``tconst, titleType,
    runtimeMinutes, imdbGenres, startYear, averageRating, numVotes``; NA where IMDb has nothing)."""
    sec = Section("imdb", "IMDb enrichment")
    catalogue = int(data.movies[C.ITEM].nunique()) if data.movies is not None else len(enriched)
    e = enriched.drop_duplicates(C.ITEM)
    if C.GENRES not in e.columns and data.movies is not None:
        e = e.merge(data.movies[[C.ITEM, C.GENRES]], on=C.ITEM, how="left")
    matched = e[C.IMDB_TITLE_TYPE].notna()
    with_rating = e[C.IMDB_RATING].notna()
    per_item = data.ratings.groupby(C.ITEM)[C.RATING].agg(["mean", "size"])
    m = e[matched].merge(per_item, left_on=C.ITEM, right_index=True, how="left")
    m["size"] = m["size"].fillna(0).astype(np.int64)
    runtime = pd.to_numeric(m[C.IMDB_RUNTIME], errors="coerce").dropna().to_numpy(np.float64)
    comp = m[m[C.IMDB_RATING].notna() & (m["size"] >= MIN_RATINGS)]
    votes = m[m[C.IMDB_VOTES].notna() & (m["size"] > 0)]
    types = m[C.IMDB_TITLE_TYPE].value_counts()
    sec.numbers = {
        "catalogue": catalogue,
        "matched": int(matched.sum()),
        "coverage": float(matched.sum() / catalogue) if catalogue else None,
        "with_imdb_rating": int(with_rating.sum()),
        "title_types": types.to_dict(),
        "runtime_median": float(np.median(runtime)) if len(runtime) else None,
        "runtime_over_150_share": float(np.mean(runtime > 150)) if len(runtime) else None,
        "compared_movies": len(comp),
        "min_ratings": MIN_RATINGS,
        # MovieLens stars are 0.5-5, IMDb's 1-10: correlation is scale-free, the mean gap is not.
        "rating_pearson": stats.pearson(comp[C.IMDB_RATING], comp["mean"]),
        "rating_spearman": stats.spearman(comp[C.IMDB_RATING], comp["mean"]),
        "votes_spearman": stats.spearman(votes[C.IMDB_VOTES], votes["size"]),
        "votes_compared": len(votes),
    }
    jacc, none_shared = _genre_disagreement(m)
    sec.numbers |= {
        "genre_jaccard_mean": float(np.mean(jacc)) if len(jacc) else None,
        "genre_none_shared_share": float(np.mean(none_shared)) if len(jacc) else None,
        "genre_compared": len(jacc),
    }
    sec.data = {
        "runtime": runtime,
        "imdb_rating": comp[C.IMDB_RATING].to_numpy(np.float64),
        "ml_mean": comp["mean"].to_numpy(np.float64),
        "imdb_votes": votes[C.IMDB_VOTES].to_numpy(np.float64),
        "ml_count": votes["size"].to_numpy(np.float64),
        "title_types": types,
    }
    return sec


def _genre_disagreement(m: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per movie with genres in both sources: Jaccard of the two genre sets, and whether they share none."""
    jacc, none_shared = [], []
    for ml, im in zip(m[C.GENRES], m[C.IMDB_GENRES], strict=True):
        if not isinstance(im, (list, tuple, np.ndarray)) or len(im) == 0 or len(ml) == 0:
            continue
        a, b = _ml_genres_as_imdb(list(ml)), set(im)
        if not a:
            continue
        jacc.append(len(a & b) / len(a | b))
        none_shared.append(not (a & b))
    return np.asarray(jacc), np.asarray(none_shared, dtype=bool)
