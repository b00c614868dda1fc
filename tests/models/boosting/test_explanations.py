"""Explanations: contributions → reasons and "why" text (hand-made rows), and a tiny fitted ranker."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from movielens_lessons.models.boosting.explanations import (
    concept_of,
    describe,
    reasons,
    separate_prior,
    why_text,
)
from movielens_lessons.models.boosting.ranker.features import feature_names


def test_reasons_are_ordered_by_absolute_contribution() -> None:
    row = pd.Series({"genre_affinity": 0.1, "item_age_years": -0.5, "als_rank": 0.3})
    found = reasons(row)
    assert [r.concept for r in found] == ["age", "als", "genres"]
    assert [r.contribution for r in found] == pytest.approx([-0.5, 0.3, 0.1])


def test_features_of_one_concept_are_added_up_before_ranking() -> None:
    # no EASE feature alone beats the genre reason, their sum does
    row = pd.Series(
        {
            "ease_rank": 0.2,
            "genre_affinity": 0.25,
            "ease_score": 0.15,
            "ease_score_ratio": -0.05,
            "genre_affinity_mean": 0.01,
        }
    )
    found = reasons(row)
    assert [r.concept for r in found] == ["ease", "genres"]
    assert found[0].contribution == pytest.approx(0.3)
    assert found[0].features == ("ease_rank", "ease_score", "ease_score_ratio")
    assert found[1].features == ("genre_affinity", "genre_affinity_mean")


def test_popularity_features_and_the_popularity_retriever_are_one_concept() -> None:
    row = pd.Series({"most_popular_rank": 0.1, "item_log_pop": 0.05, "item_count": 0.05})
    (reason,) = reasons(row)
    assert reason.concept == "popularity"
    assert reason.contribution == pytest.approx(0.2)
    assert reason.phrase == "it is popular"


def test_sign_picks_the_phrase_and_the_side_of_the_sentence() -> None:
    row = pd.Series(
        {"ease_rank": 0.6, "item_log_pop_user_span": 0.3, "item_age_years": -0.1, "bias": 5.0}
    )
    found = reasons(row)
    assert [r.direction for r in found] == ["for", "for", "against"]
    assert found[2].phrase == "its age"
    assert why_text(row) == (
        "Recommended mainly because people with your history rank it highly (EASE) and it was "
        "popular when you were active; held back a little by its age."
    )
    flipped = reasons(-row)
    assert flipped[0].phrase == "how people with your history rank it (EASE)"


def test_three_reasons_for_read_as_a_list_with_a_final_and() -> None:
    row = pd.Series({"ease_rank": 0.5, "genre_affinity": 0.3, "item_log_pop_user_last": 0.2})
    assert why_text(row) == (
        "Recommended mainly because people with your history rank it highly (EASE), it matches "
        "the genres you watch, and it was popular around your last visit."
    )


def test_strength_words_follow_the_balance_of_for_and_against() -> None:
    even = pd.Series({"als_rank": 0.3, "item_age_years": -0.2})
    assert why_text(even) == (
        "Recommended mainly because viewers with tastes like yours rank it highly (ALS); "
        "held back by its age."
    )
    outweighed = pd.Series({"als_rank": 0.3, "item_age_years": -0.5, "genre_affinity": -0.1})
    assert why_text(outweighed).startswith("Recommended partly because viewers")


def test_only_negative_reasons_say_despite() -> None:
    row = pd.Series({"item_age_years": -0.2, "genre_affinity": -0.1})
    assert why_text(row) == (
        "Recommended despite its age and a weaker match with the genres you watch."
    )


def test_the_strongest_reason_for_is_kept_when_the_top_are_all_against() -> None:
    row = pd.Series(
        {"item_age_years": -0.9, "genre_affinity": -0.8, "als_rank": -0.7, "ease_rank": 0.1}
    )
    found = reasons(row, top=3)
    assert [r.concept for r in found] == ["age", "genres", "ease"]
    assert "because people with your history rank it highly (EASE)" in why_text(row)


def test_bias_identifiers_and_totals_are_not_reasons() -> None:
    # a whole row of either model's explain() frame can be passed as it is
    row = pd.Series(
        {
            "userId": 7,
            "movieId": 318,
            "prediction": 4.5,
            "fallback": False,
            "base_value": 3.5,
            "bias": -2.0,
            "score": 1.0,
            "user_mean": 0.4,
        }
    )
    (reason,) = reasons(row)
    assert reason.concept == "your_habits"


def test_rating_model_features_have_their_own_phrases() -> None:
    row = pd.Series(
        {
            "pred_svd": 0.6,
            "pred_explicit-als": 0.5,
            "pred_bias-baseline": 0.4,
            "item_mean": 0.3,
            "item_genre_drama": 0.2,
            "item_year": 0.1,
        }
    )
    phrases = [r.phrase for r in reasons(row, top=6)]
    assert phrases == [
        "the SVD model predicts you will like it",
        "the explicit ALS model predicts you will like it",
        "its baseline rating for you is high",
        "it is well rated",
        "its genres suit you",
        "its age suits what you watch",
    ]


def test_unknown_names_get_a_readable_fallback() -> None:
    assert concept_of("tag_relevance").for_phrase == "tag relevance counts in its favour"
    assert concept_of("tag_relevance").against_phrase == "tag relevance"
    assert concept_of("item_imdb_votes_bucket").for_phrase == "its imdb votes bucket suits you"
    seq = concept_of("seq_rank")  # a retriever labelled seq=item-knn
    assert (seq.key, seq.for_phrase) == ("seq", "the seq model ranks it highly")
    assert concept_of("item_knn_score").key == "item_knn"  # a retriever, not an item feature


def test_every_ranker_feature_has_a_phrase_from_the_table() -> None:
    names = feature_names(["ease", "als", "item_knn", "most_popular"])
    fallbacks = [n for n in names if concept_of(n).key == n]
    assert fallbacks == []


def test_imdb_fields_are_one_concept() -> None:
    row = pd.Series({"item_imdb_rating": 0.2, "item_imdb_log_votes": 0.1, "ease_rank": 0.25})
    first = reasons(row, top=2)[0]
    assert (first.concept, first.phrase) == ("imdb", "IMDb rates it well")
    assert set(first.features) == {"item_imdb_rating", "item_imdb_log_votes"}


def test_top_limits_the_number_of_reasons() -> None:
    row = pd.Series(
        {"ease_rank": 0.4, "als_rank": 0.3, "genre_affinity": 0.2, "item_age_years": 0.1}
    )
    assert [r.concept for r in reasons(row, top=2)] == ["ease", "als"]
    assert len(reasons(row, top=10)) == 4
    with pytest.raises(ValueError, match="top"):
        reasons(row, top=0)


@pytest.mark.parametrize(
    "row",
    [
        pd.Series(dtype=float),
        pd.Series({"ease_rank": 0.0, "genre_affinity": 0.0, "bias": 1.5}),
        pd.Series({"ease_rank": np.nan, "genre_affinity": 1e-9}),
    ],
    ids=["empty", "all-zero", "nan-and-negligible"],
)
def test_nothing_to_say_still_gives_a_sentence(row: pd.Series) -> None:
    assert reasons(row) == []
    assert why_text(row) == "Recommended, with no single feature standing out."
    assert describe([], lead="Predicted 4.5 stars") == (
        "Predicted 4.5 stars, with no single feature standing out."
    )


def test_reasons_serialise_to_json() -> None:
    row = pd.Series({"ease_rank": np.float32(0.5), "item_age_years": np.float32(-0.25)})
    data = json.loads(json.dumps([r.to_dict() for r in reasons(row)]))
    assert data[0] == {
        "concept": "ease",
        "direction": "for",
        "contribution": 0.5,
        "phrase": "people with your history rank it highly (EASE)",
        "features": ["ease_rank"],
    }
    assert data[1]["direction"] == "against"


def test_separate_prior_moves_the_varying_bias_and_keeps_row_sums() -> None:
    frame = pd.DataFrame(
        {"movieId": [1, 2, 3], "ease_rank": [0.1, -0.2, 0.3], "bias": [0.0, -0.7, -1.1]}
    )
    out = separate_prior(frame, "ease_prior")
    assert list(out.columns) == ["movieId", "ease_rank", "ease_prior", "bias"]
    np.testing.assert_allclose(out["ease_prior"], [0.6, -0.1, -0.5])
    np.testing.assert_allclose(out["bias"], -0.6)
    np.testing.assert_allclose(
        out[["ease_rank", "ease_prior", "bias"]].sum(axis=1),
        frame[["ease_rank", "bias"]].sum(axis=1),
    )
    assert concept_of("ease_prior").key == "ease"


# --- a tiny fitted ranker ----------------------------------------------------------------------------


def test_why_of_a_fitted_rankers_top_recommendation() -> None:
    pytest.importorskip("xgboost")
    from movielens_lessons.data.dataset import Dataset
    from movielens_lessons.data.synth import synthesize
    from movielens_lessons.models.boosting.ranker.model import XGBoostRanker

    data = synthesize(100, 120, 4000, seed=3)
    ds = Dataset.from_frame(data.ratings, movies=data.movies, name="synth")
    model = XGBoostRanker(
        retrievers="ease,item-knn,most-popular",
        n_candidates=20,
        n_estimators=30,
        early_stopping_rounds=5,
        learning_rate=0.3,
    ).fit(ds)
    row = model.explain(int(ds.user_ids[0]), k=3).iloc[0]
    text = why_text(row)
    every = reasons(row, top=100)
    assert text.startswith("Recommended") and text.endswith(".")
    strongest_for = max((r for r in every if r.contribution > 0), key=lambda r: r.contribution)
    assert strongest_for.phrase in text
    # the reasons account for the whole score but the bias
    total = sum(r.contribution for r in every)
    assert total == pytest.approx(row["score"] - row["bias"], abs=1e-4)
