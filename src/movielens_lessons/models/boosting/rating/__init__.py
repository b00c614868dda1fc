"""``xgboost-rating``: a booster over rating features stacked with out-of-fold base models.

``model`` is the estimator; ``features``, ``stacking`` and ``booster`` are its parts."""
