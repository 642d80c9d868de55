"""Contractions: einsum, tensordot, outer, inner, trace, diagonal, diag, kron."""
__all__ = []
