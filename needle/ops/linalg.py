"""Matrix products with NumPy's batching: leading axes broadcast, 1-D operands are vectors."""
import numpy as np

from ..autograd import MultilinearOp
from .shape import reshape, sum_to_shape, transpose

__all__ = ["MatMul", "matmul"]


class MatMul(MultilinearOp):
    """a @ b: (..., n, k) @ (..., k, m) -> (..., n, m), batch axes broadcast. Ā = Z̄ Bᵀ, B̄ = Aᵀ Z̄."""

    def compute(self, a, b):
        if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:
            raise ValueError(f"matmul: {a.shape} @ {b.shape}: {_mismatch(a.shape, b.shape)}")
        try:
            return np.matmul(a, b)
        except ValueError:
            raise ValueError(
                f"matmul: {a.shape} @ {b.shape}: batch dimensions do not broadcast"
            ) from None

    def gradient(self, out_grad, node):
        lhs, rhs = node.inputs
        grad_lhs = grad_rhs = None
        # Only the adjoints someone needs: the input batch's would cost a whole product.
        if lhs.requires_grad:
            grad_lhs = sum_to_shape(matmul(out_grad, transpose(rhs)), lhs.shape)
        if rhs.requires_grad:
            grad_rhs = sum_to_shape(matmul(transpose(lhs), out_grad), rhs.shape)
        return grad_lhs, grad_rhs


def _mismatch(lhs, rhs):
    if len(lhs) < 2 or len(rhs) < 2:
        return "both operands need 2 or more dimensions here"
    return f"inner sizes {lhs[-1]} and {rhs[-2]} differ"


def matmul(a, b):
    """a @ b with NumPy semantics; a 1-D operand is a vector (a row on the left, a column on the right)."""
    if a.ndim == 1 and b.ndim == 1:
        return reshape(MatMul()(reshape(a, (1, -1)), reshape(b, (-1, 1))), ())
    if a.ndim == 1:
        out = MatMul()(reshape(a, (1, -1)), b)
        return reshape(out, out.shape[:-2] + out.shape[-1:])
    if b.ndim == 1:
        out = MatMul()(a, reshape(b, (-1, 1)))
        return reshape(out, out.shape[:-1])
    return MatMul()(a, b)
