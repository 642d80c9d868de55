"""Matrix functions and decompositions (inv, solve, det, cholesky, eigh, svd, qr, ...); `ndl.linalg` is their namespace."""
__all__ = []
