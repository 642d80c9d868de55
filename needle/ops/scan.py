"""Scans: running sums along an axis."""
import numpy as np

from ..autograd import LinearOp
from .axes import axis_aliases
from .indexing import flip
from .shape import normalize_axis

__all__ = ["CumSum", "cumsum"]


class CumSum(LinearOp):
    """Running sum along the axis `axes`: y_i = Σ_{j≤i} a_j. The adjoint is the reversed running sum
    of the adjoint, ā_j = Σ_{i≥j} ȳ_i."""

    def __init__(self, axes):
        self.axes = axes

    def compute(self, a):
        axis = normalize_axis("cumsum", self.axes, max(a.ndim, 1))  # 0-d: axis 0 or -1, as in PyTorch
        return np.cumsum(a, axis=axis) if a.ndim else np.array(a)

    def gradient(self, out_grad, node):
        return flip(cumsum(flip(out_grad, self.axes), self.axes), self.axes)


@axis_aliases
def cumsum(a, axes=None):
    """Running sum along one axis, which must be given (`axes=`, `dim=` or `axis=`), as in PyTorch."""
    if axes is None:
        raise TypeError("cumsum: the axis is missing; pass it as axes=, dim= or axis=")
    return CumSum(axes)(a)
