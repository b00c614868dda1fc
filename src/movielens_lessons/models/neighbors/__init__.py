"""Neighbourhood models: item-based k-nearest neighbours over the implicit matrix."""
