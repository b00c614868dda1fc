"""``xgboost-ranker``: retrievers propose candidates, a booster re-ranks them with time-aware features.

``model`` is the estimator; ``candidates``, ``labels``, ``features`` and ``training`` are its stages."""
