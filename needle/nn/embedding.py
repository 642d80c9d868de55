"""Embedding: a lookup table of learned vectors, indexed by token id."""
__all__ = []
