"""Matrix products with NumPy's batching (leading axes broadcast, 1-D operands are vectors), and
vector norms."""
import numpy as np

from ..autograd import MultilinearOp, Tensor, as_tensor
from .axes import axis_aliases
from .broadcast import WeightedReduction, check_nonempty, expand_reduced, normalize_axes, sum_to_shape
from .comparison import where
from .elementwise import abs, power_scalar
from .shape import reshape, transpose

__all__ = ["MatMul", "matmul", "Norm", "norm"]


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
            return batch_by_matrix(left, right)
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


def batch_by_matrix(left, right):
    """np.matmul(left, right); a batch (..., n, k) times a matrix (k, m) is one (rows, k) @ (k, m)
    BLAS call rather than NumPy's call per matrix of the batch (workload 9's (32, 64, 128) @
    (128, 128): 2-8x faster on 2 cores, most when they are busy). A batch whose rows are not
    contiguous (a transposed view) is copied first, which costs less than the loop."""
    if left.ndim > 2 and right.ndim == 2:
        rows = int(np.prod(left.shape[:-1]))
        out = np.matmul(np.reshape(left, (rows, left.shape[-1])), right)
        return out.reshape(left.shape[:-1] + right.shape[-1:])
    return np.matmul(left, right)


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
    a, b = as_tensor("matmul", a, b), as_tensor("matmul", b, a)
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


class Norm(WeightedReduction):
    """Vector p-norm over axes (all when None): (Σ|a|^p)^(1/p) for p > 0, max|a| for p = inf;
    reduced axes are dropped unless `keepdims`.

    ∂y/∂a = sign(a)·(|a|/y)^(p−1) is taken as 0 where it reads 0/0 (y = 0; a = 0 when p < 1), as
    in PyTorch: the 2-norm of zeros has gradient 0, not NaN. For p = inf ties share evenly.
    """

    def __init__(self, p=2, axes=None, keepdims=False):
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not p > 0:
            raise ValueError(f"norm: p must be a number > 0 or inf, got {p!r}")
        self.p = float(p)
        self.axes = axes
        self.keepdims = keepdims

    def compute(self, a):
        axes = normalize_axes("norm", self.axes, a.shape)
        magnitude = np.abs(a)
        if self.p == np.inf:
            check_nonempty("norm", a.shape, axes)
            return np.max(magnitude, axis=axes, keepdims=self.keepdims)
        if self.p == 1 or a.size == 0:
            return np.sum(magnitude, axis=axes, keepdims=self.keepdims)
        if self.p == 2:
            return np.sqrt(np.sum(a * a, axis=axes, keepdims=self.keepdims))
        # Scaled by the largest entry, so |a|^p neither overflows nor underflows for large p.
        peak = np.max(magnitude, axis=axes, keepdims=True)
        scale = np.where(peak > 0, peak, 1).astype(a.dtype)
        out = scale * np.sum((magnitude / scale) ** self.p, axis=axes, keepdims=True) ** (1 / self.p)
        return out if self.keepdims else np.squeeze(out, axis=axes)

    def derivative(self, node):
        """(D, axes): D = ∂y/∂a of the input's shape, a constant for p = 1 and inf, else a graph."""
        a = node.inputs[0]
        data = a.cached_data
        axes = normalize_axes("norm", self.axes, data.shape)
        peak = node.cached_data if self.keepdims else np.expand_dims(node.cached_data, axes)
        sign = np.sign(data)
        if self.p == 1:
            return Tensor.make_const(sign), axes
        if self.p == np.inf:
            hits = np.abs(data) == peak
            shares = sign * hits / np.sum(hits, axis=axes, keepdims=True)
            return Tensor.make_const(shares.astype(data.dtype)), axes
        vanishing = np.broadcast_to(peak == 0, data.shape)
        y = where(vanishing, 1, expand_reduced(node, axes, data.shape))
        if self.p == 2:
            return a / y, axes
        vanishing = vanishing | (data == 0)
        ratio = abs(where(vanishing, 1, a)) / y
        return where(vanishing, 0, Tensor.make_const(sign) * power_scalar(ratio, self.p - 1)), axes


@axis_aliases
def norm(a, p=2, axes=None, keepdims=False):
    """The vector p-norm over `axes` (all when None); p > 0 or inf (`float("inf")`)."""
    return Norm(p, axes, keepdims)(a)
