"""Matrix products with NumPy's batching: leading axes broadcast, 1-D operands are vectors."""
import numpy as np

from ..autograd import MultilinearOp
from .broadcast import sum_to_shape
from .shape import reshape, transpose

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
    """op(a) @ op(b): (..., n, k) @ (..., k, m) -> (..., n, m), batch axes broadcast, where op swaps
    the last two axes of an operand whose flag is set. Ā = Z̄ Bᵀ, B̄ = Aᵀ Z̄ without flags.

    Both operands have 2 or more dimensions here; `matmul` turns vectors into matrices first. The
    flags let the rules multiply by a transpose without a Transpose node (BLAS reads it as it lies).
    """

    def __init__(self, transpose_a=False, transpose_b=False):
        self.transpose_a = transpose_a
        self.transpose_b = transpose_b

    def compute(self, a, b):
        if a.ndim < 2 or b.ndim < 2:
            raise ValueError(f"matmul: {a.shape} @ {b.shape}: MatMul takes 2 or more dimensions each")
        left = a.swapaxes(-1, -2) if self.transpose_a else a
        right = b.swapaxes(-1, -2) if self.transpose_b else b
        try:
            return np.matmul(left, right)
        except ValueError:
            written = f"{a.shape}{'.T' * self.transpose_a} @ {b.shape}{'.T' * self.transpose_b}"
            raise ValueError(f"matmul: {written}: {_shape_problem(left.shape, right.shape)}") from None

    def gradient(self, out_grad, node):
        # With A' = op(A) and B' = op(B), the adjoints of A' and B' are Z̄ B'ᵀ and A'ᵀ Z̄. An unflagged
        # operand's adjoint is its primed one's; a flagged one's is the transpose, Ā = B' Z̄ᵀ or
        # B̄ = Z̄ᵀ A'. Each is again one product with flags.
        lhs, rhs = node.inputs
        flip_a, flip_b = self.transpose_a, self.transpose_b
        grad_lhs = grad_rhs = None
        # Only the adjoints someone needs: the input batch's would cost a whole product.
        if lhs.requires_grad:
            if flip_a:
                grad_lhs = MatMul(flip_b, True)(rhs, out_grad)
            else:
                grad_lhs = MatMul(False, not flip_b)(out_grad, rhs)
            grad_lhs = sum_to_shape(grad_lhs, lhs.shape)
        if rhs.requires_grad:
            if flip_b:
                grad_rhs = sum_to_shape(MatMul(True, flip_a)(out_grad, lhs), rhs.shape)
            elif rhs.ndim == 2 and not flip_a:
                grad_rhs = weight_gradient(lhs, out_grad)
            else:
                grad_rhs = sum_to_shape(MatMul(not flip_a, False)(lhs, out_grad), rhs.shape)
        return grad_lhs, grad_rhs


def input_gradient(out_grad, weight):
    """x̄ = ȳ Wᵀ for y = x @ W with a matrix W: ȳ (..., m), W (k, m) -> (..., k)."""
    if out_grad.ndim == 1:
        return matmul(out_grad, transpose(weight))
    return MatMul(transpose_b=True)(out_grad, weight)


def weight_gradient(x, out_grad):
    """W̄ = xᵀ ȳ for y = x @ W with a matrix W: x (..., k), ȳ (..., m) -> (k, m).

    The batch axes are folded into rows first: one (k, N) @ (N, m) product beats a batch of small
    ones followed by a sum.
    """
    if x.ndim != 2:
        x = reshape(x, (-1, x.shape[-1]))
        out_grad = reshape(out_grad, (-1, out_grad.shape[-1]))
    return MatMul(transpose_a=True)(x, out_grad)


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
