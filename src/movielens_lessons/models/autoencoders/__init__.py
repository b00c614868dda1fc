"""Autoencoders over a user's history: EASE (a closed-form linear autoencoder)."""
