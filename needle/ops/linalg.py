"""Matrix products with NumPy's batching: leading axes broadcast, 1-D operands are vectors."""
import numpy as np

from ..autograd import MultilinearOp
from .shape import reshape, sum_to_shape, transpose

__all__ = ["MatMul", "matmul"]


def _shape_problem(lhs, rhs):
    """Why `lhs @ rhs` is undefined under NumPy's rules (1-D operands are vectors), or None."""
    if not lhs or not rhs:
        return "0-d operands have no matrix product"
    inner_rhs = rhs[-2] if len(rhs) >= 2 else rhs[0]
    if lhs[-1] != inner_rhs:
        return f"inner sizes {lhs[-1]} and {inner_rhs} differ"
    try:
        np.broadcast_shapes(lhs[:-2], rhs[:-2])
    except ValueError:
        return f"batch dimensions {lhs[:-2]} and {rhs[:-2]} do not broadcast"
    return None


class MatMul(MultilinearOp):
    """a @ b: (..., n, k) @ (..., k, m) -> (..., n, m), batch axes broadcast. Ā = Z̄ Bᵀ, B̄ = Aᵀ Z̄.

    Both operands have 2 or more dimensions here; `matmul` turns vectors into matrices first.
    """

    def compute(self, a, b):
        if a.ndim < 2 or b.ndim < 2:
            raise ValueError(f"matmul: {a.shape} @ {b.shape}: MatMul takes 2 or more dimensions each")
        try:
            return np.matmul(a, b)
        except ValueError:
            raise ValueError(f"matmul: {a.shape} @ {b.shape}: {_shape_problem(a.shape, b.shape)}") from None

    def gradient(self, out_grad, node):
        lhs, rhs = node.inputs
        grad_lhs = grad_rhs = None
        # Only the adjoints someone needs: the input batch's would cost a whole product.
        if lhs.requires_grad:
            grad_lhs = sum_to_shape(matmul(out_grad, transpose(rhs)), lhs.shape)
        if rhs.requires_grad:
            if rhs.ndim == 2:
                grad_rhs = weight_gradient(lhs, out_grad)
            else:
                grad_rhs = sum_to_shape(matmul(transpose(lhs), out_grad), rhs.shape)
        return grad_lhs, grad_rhs


def weight_gradient(x, out_grad):
    """W̄ = xᵀ ȳ for y = x @ W with a matrix W: x (..., k), ȳ (..., m) -> (k, m).

    The batch axes are folded into rows first: one (k, N) @ (N, m) product beats a batch of small
    ones followed by a sum.
    """
    if x.ndim != 2:
        x = reshape(x, (-1, x.shape[-1]))
        out_grad = reshape(out_grad, (-1, out_grad.shape[-1]))
    return matmul(transpose(x), out_grad)


def matmul(a, b):
    """a @ b with NumPy semantics; a 1-D operand is a vector (a row on the left, a column on the right)."""
    if a.ndim >= 2 and b.ndim >= 2:
        return MatMul()(a, b)
    problem = _shape_problem(a.shape, b.shape)
    if problem:
        raise ValueError(f"matmul: {a.shape} @ {b.shape}: {problem}")
    if a.ndim == 1 and b.ndim == 1:
        return reshape(MatMul()(reshape(a, (1, -1)), reshape(b, (-1, 1))), ())
    if a.ndim == 1:
        out = MatMul()(reshape(a, (1, -1)), b)
        return reshape(out, out.shape[:-2] + out.shape[-1:])
    out = MatMul()(a, reshape(b, (-1, 1)))
    return reshape(out, out.shape[:-1])
