"""`ndl.linalg`: linear algebra, as `numpy.linalg` and `torch.linalg` name it. Every function is a
differentiable needle op (see needle/ops/decompositions.py)."""
__all__ = []
