"""``train``, ``recommend``, ``predict`` and ``similar``: models from the command line, through the registry."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import typer

from movielens_lessons import columns as C
from movielens_lessons.cli.app import app, err_console
from movielens_lessons.errors import (
    ConfigError,
    DataNotFoundError,
    DataValidationError,
    EmptyDataError,
    MissingColumnError,
)

#: Item metadata copied next to a trained model so that ``similar`` can show titles.
MODEL_MOVIES = "movies.csv"


#: ``train --help``: paragraphs are single strings, as rich keeps a docstring's line breaks.
_TRAIN_HELP = "\n\n".join([
    "Train a model and save it as a folder (model.json + arrays; no pickle).",
    "With --config FILE the parameters are the config's for MODEL, so that every leaderboard row "
    "is one command; --protocol NAME adds the settings that the config keeps for that protocol "
    "only. --param still wins over both.",
    "Some models depend on the protocol they are judged on, not only on the data. xgboost-ranker "
    "learns from a label window carved out of each user's training ratings, and that window must "
    "ask what the test split asks: validation='temporal' (its default, \"what comes next\") for a "
    "temporal split, 'random' (\"what is missing\") for a per-user random split. Its user-random "
    "leaderboard row (label window, retrievers, prior, bags) is:",
    "movielens-lessons train xgboost-ranker --config experiments/ml-latest-small.toml "
    "--protocol user-random --ratings TRAIN.csv --out MODEL",
])


@app.command(help=_TRAIN_HELP)
def train(
    model: str = typer.Argument(
        ..., help="Model name, e.g. ease, als, item-knn, svd (see `models`)."
    ),
    out: Path = typer.Option(..., "--out", help="Folder to write the trained model to."),
    ratings: Path | None = typer.Option(
        None, "--ratings", help="Interactions in MovieLens ratings.csv format."
    ),
    dataset: str | None = typer.Option(
        None, "--dataset", help="A MovieLens release name, e.g. ml-latest-small."
    ),
    movies: Path | None = typer.Option(
        None, "--movies", help="movies.csv for item features and titles."
    ),
    imdb: Path | None = typer.Option(
        None,
        "--imdb",
        help="Parquet written by `data imdb`: IMDb runtime, rating and votes per movie, used as item "
        "features by the XGBoost models.",
    ),
    param: list[str] = typer.Option(
        [], "--param", help="Hyperparameter KEY=VALUE (repeatable); wins over --config."
    ),
    config: Path | None = typer.Option(
        None,
        "--config",
        help="A benchmark config (e.g. experiments/ml-latest-small.toml): MODEL's parameters from "
        "its \\[models.MODEL] table, as the leaderboard trained it.",  # escaped: rich markup
    ),
    protocol: str | None = typer.Option(
        None,
        "--protocol",
        help="With --config: also that protocol's settings, \\[models.MODEL.protocols.PROTOCOL]. "
        "They matter for xgboost-ranker: on user-random it needs the random label window "
        "(validation=random) and the retrievers chosen for it.",
    ),
    quick: bool = typer.Option(
        False, "--quick", help="With --config: the parameters of its \\[quick] variant."
    ),
    positive_threshold: float | None = typer.Option(
        None, "--positive-threshold", help="Implicit models: only ratings ≥ this count as positive."
    ),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Where releases live."),
) -> None:
    """Train a model and save it as a folder (model.json + arrays; no pickle); see _TRAIN_HELP."""
    from movielens_lessons.models.registry import create_model, get_model_class, parse_param

    given = dict(parse_param(p) for p in param)
    get_model_class(model)  # an unknown name fails before any config is read
    if config is None:
        if protocol is not None or quick:
            flag = "--protocol" if protocol is not None else "--quick"
            raise ConfigError(f"{flag} picks settings from a benchmark config; add --config FILE "
                              "(e.g. experiments/ml-latest-small.toml)")
        from_config: dict[str, object] = {}
        by_protocol: set[str] = set()
        said: list[str] = []
    else:
        from_config, by_protocol, said = _params_from_config(model, config, protocol, quick, given)
    recommender = create_model(
        model, **{**from_config, **given}
    )  # checks the name and parameters before loading data
    for line in said:
        err_console.print(line, markup=False)
    if protocol is None:
        _note_protocol_settings(recommender, model, set(given) | by_protocol, config)
    ds = _load_training_data(ratings, dataset, movies, data_dir)
    if imdb is not None:
        ds = _with_imdb(ds, imdb)
    if positive_threshold is not None:
        ds = ds.with_positive_threshold(positive_threshold)
    if ds.movies is not None and type(recommender).scores_unrated_items:
        # the model scores a movie from its features: the unrated movies of the table can be served
        before = ds.n_items
        ds = ds.with_items(ds.movies[C.ITEM].to_numpy())
        if ds.n_items > before:
            err_console.print(f"{ds.n_items - before:,} movies of --movies without ratings join the "
                              f"catalogue; {model} scores them from their features", markup=False)
    recommender.fit(ds)
    path = recommender.save(out)
    if ds.movies is not None:
        cols = [c for c in (C.ITEM, C.TITLE, C.GENRES) if c in ds.movies.columns]
        meta = ds.movies[cols].copy()
        if C.GENRES in meta.columns:
            meta[C.GENRES] = meta[C.GENRES].map(lambda g: "|".join(g) if len(g) else "")
        meta.to_csv(path / MODEL_MOVIES, index=False)
    err_console.print(
        f"trained {model} on {ds!r} in {recommender.fit_seconds_:.2f} s", markup=False
    )
    typer.echo(str(path))


@app.command()
def recommend(
    model: Path = typer.Option(..., "--model", help="A folder written by `train`."),
    out: Path = typer.Option(
        ..., "--out", help="CSV to write: userId,movieId,rank,score,fallback."
    ),
    users: str | None = typer.Option(None, "--users", help="Comma-separated userIds, e.g. 1,2,3."),
    users_from: Path | None = typer.Option(
        None, "--users-from", help="Any CSV with a userId column (e.g. a test ratings file)."
    ),
    all_users: bool = typer.Option(
        False, "--all-users", help="Every user the model was trained on."
    ),
    k: int = typer.Option(10, "--k", help="List length."),
    include_seen: bool = typer.Option(
        False, "--include-seen", help="Also recommend items the user interacted with in training."
    ),
) -> None:
    """Top-k recommendations per user. Unknown users get the most popular items (fallback=True)."""
    from movielens_lessons.models.base import BaseRecommender

    chosen = sum(x is not None and x is not False for x in (users, users_from, all_users or None))
    if chosen != 1:
        raise ConfigError("give exactly one of --users, --users-from or --all-users")
    if k <= 0:
        raise ConfigError(f"--k must be a positive integer, got {k}")
    recommender = BaseRecommender.load(model)
    if users is not None:
        user_list = _parse_user_list(users)
    elif users_from is not None:
        user_list = _users_from_file(users_from)
    else:
        user_list = None
    recs = recommender.recommend(user_list, k=k, exclude_seen=not include_seen)
    frame = recs.to_frame()
    _write_csv(frame, out)
    n_fallback = int(np.sum(recs.fallback)) if recs.fallback is not None else 0
    err_console.print(
        f"wrote {len(frame):,} rows for {len(recs):,} users to {out}"
        + (f" ({n_fallback} unknown users got the popularity fallback)" if n_fallback else ""),
        markup=False,
    )


@app.command()
def predict(
    model: Path = typer.Option(..., "--model", help="A folder written by `train`."),
    pairs: Path = typer.Option(..., "--pairs", help="CSV with userId,movieId columns."),
    out: Path = typer.Option(..., "--out", help="CSV to write: userId,movieId,prediction."),
) -> None:
    """Predict a rating (explicit models) or a score (implicit models) for every input pair.

    Explicit models fall back to their baseline for unknown users or items; implicit models write an
    empty prediction for them.
    """
    from movielens_lessons.models.base import BaseRecommender

    recommender = BaseRecommender.load(model)
    frame = read_id_columns(pairs, (C.USER, C.ITEM))
    values = recommender.predict(frame[C.USER].to_numpy(), frame[C.ITEM].to_numpy())
    result = frame[[C.USER, C.ITEM]].copy()
    result[C.PREDICTION] = values
    _write_csv(result, out)
    err_console.print(f"wrote {len(result):,} predictions to {out}", markup=False)


@app.command()
def similar(
    model: Path = typer.Option(..., "--model", help="A folder written by `train`."),
    movie: int = typer.Option(..., "--movie", help="movieId to find neighbours of."),
    k: int = typer.Option(10, "--k", help="How many similar movies."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Movies most similar to one movie, by the model's item representation."""
    from movielens_lessons.models.base import BaseRecommender

    if k <= 0:
        raise ConfigError(f"--k must be a positive integer, got {k}")
    recommender = BaseRecommender.load(model)
    frame = recommender.similar_items([movie], k=k).to_frame()
    frame = frame.rename(columns={C.USER: "queryMovieId"}).drop(
        columns=[C.FALLBACK], errors="ignore"
    )
    titles_path = Path(model) / MODEL_MOVIES
    if titles_path.is_file():
        titles = pd.read_csv(titles_path, usecols=[C.ITEM, C.TITLE])
        frame = frame.merge(titles, on=C.ITEM, how="left")
    if as_json:
        typer.echo(json.dumps(frame.to_dict(orient="records"), default=float))
        return
    typer.echo(frame.to_string(index=False))


# --- helpers for these commands --------------------------------------------------------------------


def _params_from_config(
    model: str, path: Path, protocol: str | None, quick: bool, given: dict[str, object]
) -> tuple[dict[str, object], set[str], list[str]]:
    """MODEL's parameters in the benchmark config at ``path`` (on ``protocol``, its overrides
    applied) as the benchmark runs it, the names that ``protocol``'s own table sets, and the lines
    that say where the parameters came from (the artifact format has no field for it)."""
    from movielens_lessons.experiments.config_loading import load_config
    from movielens_lessons.experiments.runner import model_params

    cfg = load_config(path)
    if quick:
        cfg = cfg.quick_version()
    names = [m.name for m in cfg.models]
    if model not in names:
        where = " [quick] variant" if quick else ""
        raise ConfigError(f"{path}: model {model!r} is not in this config{where}; its models: "
                          f"{', '.join(names)}")
    model_cfg = cfg.model(model)
    if protocol is not None:
        cfg.protocol(protocol)  # ConfigError listing the configured protocols
    params = model_params(cfg, model_cfg, protocol)
    overrides = model_cfg.protocol_params.get(protocol, {}) if protocol is not None else {}
    source = f"[models.{model}]"
    if overrides:
        source += f" + [models.{model}.protocols.{protocol}] ({', '.join(overrides)})"
    elif protocol is not None:
        source += f" (no settings of its own for {protocol})"
    if quick:
        source += " with [quick]"
    if given:
        source += f"; --param {', '.join(given)}"
    said = [f"params from {path}: {source}"]
    if protocol is None and model_cfg.protocol_params:
        said.append(f"note: {path} also has per-protocol settings for {model} "
                    f"({', '.join(model_cfg.protocol_params)}); add --protocol NAME to use them")
    return params, set(overrides), said


def _note_protocol_settings(
    recommender: object, model: str, chosen: set[str], config: Path | None
) -> None:
    """One line on stderr when the model has settings that depend on the evaluation protocol
    (its ``protocol_settings``) and neither --param nor a protocol's config table chose them."""
    unset = [s for s in getattr(recommender, "protocol_settings", ()) if s not in chosen]
    if not unset:
        return
    note = getattr(recommender, "protocol_note", None)
    about = note() if callable(note) else f"{model}'s {', '.join(unset)} depend on the protocol"
    err_console.print(f"note: {about}; {_protocol_advice(model, unset, config)}", markup=False)


def _protocol_advice(model: str, unset: list[str], config: Path | None) -> str:
    """How to set ``unset`` for the protocols of ``config`` (default: the shipped benchmark
    config) that set them for ``model``; generic advice when there is no such config."""
    from movielens_lessons.errors import MovieLensError
    from movielens_lessons.experiments.config_loading import default_config_path, load_config

    generic = (f"set {', '.join(unset)} with --param, or use a benchmark config's protocol "
               "with --config FILE --protocol NAME")
    try:
        path = config if config is not None else default_config_path()
        per_protocol = load_config(path).model(model).protocol_params
    except MovieLensError:
        return generic
    advice = []
    for name, table in per_protocol.items():
        values = {k: table[k] for k in unset if k in table}
        if values:
            params = " ".join(
                f"--param {k}={v if isinstance(v, str) else json.dumps(v)}"
                for k, v in values.items()
            )
            advice.append(f"for the {name} protocol pass --config {path} --protocol {name} "
                          f"(its leaderboard settings), or at least {params}")
    return "; ".join(advice) or generic


def _load_training_data(ratings, dataset, movies, data_dir):
    from movielens_lessons.data.loading import load_dataset

    if (ratings is None) == (dataset is None):
        raise ConfigError("give exactly one of --ratings FILE or --dataset NAME")
    if dataset is not None:
        ds = load_dataset(dataset, data_dir=data_dir, download=True)
    else:
        ds = load_dataset(ratings)
    if movies is None:
        return ds
    from movielens_lessons.data.readers import read_movies_csv

    return ds.with_movies(read_movies_csv(movies))


def _with_imdb(ds, path: Path):
    """``ds`` with the IMDb columns of a ``data imdb`` Parquet joined to its movies by ``movieId``
    (the Parquet's own MovieLens columns serve as the movies when ``ds`` has none)."""
    from movielens_lessons.errors import DataNotFoundError
    from movielens_lessons.features.catalogue import IMDB_SOURCE_COLUMNS

    if not path.is_file():
        raise DataNotFoundError(f"{path}: IMDb items file not found (write it with `data imdb`)")
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise DataValidationError(f"{path}: not a Parquet file written by `data imdb` ({exc})") from None
    missing = [c for c in (C.ITEM, *IMDB_SOURCE_COLUMNS) if c not in frame.columns]
    if missing:
        raise MissingColumnError(
            f"{path}: lacks column(s) {', '.join(missing)}; write it with `data imdb`"
        )
    imdb = frame[[C.ITEM, *IMDB_SOURCE_COLUMNS]].drop_duplicates(C.ITEM)
    if ds.movies is not None:
        base = ds.movies.drop(columns=[c for c in IMDB_SOURCE_COLUMNS if c in ds.movies.columns])
    else:
        base = frame.drop(columns=list(IMDB_SOURCE_COLUMNS)).drop_duplicates(C.ITEM)
        if C.GENRES in base.columns:  # Parquet gives arrays; the readers give lists
            base[C.GENRES] = base[C.GENRES].map(lambda g: [] if g is None else list(g))
    return ds.with_movies(base.merge(imdb, on=C.ITEM, how="left"))


def _parse_user_list(text: str) -> np.ndarray:
    values = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            values.append(int(part))
        except ValueError:
            raise ConfigError(f"--users: {part!r} is not an integer userId") from None
    if not values:
        raise ConfigError("--users: no userId given")
    return np.asarray(values, dtype=np.int64)


def _users_from_file(path: Path) -> np.ndarray:
    frame = read_id_columns(path, (C.USER,))
    # first appearance order, each user once
    return pd.unique(frame[C.USER].to_numpy())


def read_id_columns(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    """A CSV whose ``required`` columns are integer ids (int64); errors name the file, line, column."""
    if not Path(path).is_file():
        raise DataNotFoundError(f"{path}: file not found")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise EmptyDataError("the file is empty", path=path) from None
    for col in required:
        if col not in frame.columns:
            raise MissingColumnError(
                f"missing column {col!r}; found {list(frame.columns)}", path=path
            )
        ints = pd.to_numeric(frame[col], errors="coerce")
        bad = ints.isna() | (ints != ints.round())
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataValidationError(
                f"{frame[col].iloc[row]!r} is not an integer id",
                path=path,
                line=row + 2,
                column=col,
            )
        frame[col] = ints.astype(np.int64)
    return frame


def _write_csv(frame: pd.DataFrame, out: Path) -> None:
    """Write next to the destination, then rename: an interrupted write never leaves half a file."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        frame.to_csv(tmp, index=False)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


@app.command("models")
def list_models(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every model name, its feedback kind, and whether its optional framework is installed."""
    from movielens_lessons.models.registry import MODELS, is_available

    rows = [
        {
            "name": spec.name,
            "feedback": spec.feedback,
            "available": is_available(spec.name),
            "install": f'pip install "movielens-lessons[{spec.extra}]"' if spec.extra else "",
        }
        for spec in MODELS.values()
    ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        status = "ok" if row["available"] else f"missing: {row['install']}"
        typer.echo(f"{row['name']:<16} {row['feedback']:<9} {status}")
