"""Sorting: sort and topk, whose values carry gradients through the permutation."""
__all__ = []
