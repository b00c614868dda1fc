"""Baselines every model must beat: random, most popular (implicit), global mean and user/item biases
(explicit)."""
