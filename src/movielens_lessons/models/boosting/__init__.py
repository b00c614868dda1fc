"""Gradient-boosted models (XGBoost): the two-stage ranker (``ranker/``), the stacked rating model
(``rating/``) and the explanations of their scores."""
