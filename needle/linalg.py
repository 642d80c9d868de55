"""`ndl.linalg`: linear algebra, as `torch.linalg` names it (`numpy.linalg` where PyTorch has no name).
Every function is a differentiable needle op or a composition of them (needle/ops/decompositions.py),
to any order and in both modes. Matrices are the last two axes; leading axes are a batch.

>>> import numpy as np, needle as ndl
>>> a = ndl.Tensor(np.array([[4.0, 2.0], [2.0, 3.0]]))
>>> ndl.linalg.cholesky(a).numpy().round(3).tolist()
[[2.0, 0.0], [1.0, 1.414]]
"""
import numpy as np

from .autograd import Tensor, as_tensor
from .ops import decompositions as _ops
from .ops.broadcast import broadcast_to, summation
from .ops.elementwise import abs as _abs
from .ops.linalg import Norm, matmul
from .ops.reduction import max as _max, min as _min
from .ops.shape import permute, reshape, transpose

__all__ = [
    "inv", "solve", "det", "slogdet", "logdet", "inv_quad_logdet", "cholesky", "cholesky_solve", "solve_triangular",
    "triangular_solve", "eigh", "eigvalsh", "svd", "svdvals", "qr", "norm", "vector_norm", "matrix_norm",
    "pinv", "matrix_power", "matmul", "LinAlgError",
]

LinAlgError = np.linalg.LinAlgError


def _matrix(name, a):
    a = as_tensor(name, a)
    if a.ndim < 2:
        raise ValueError(f"{name}: expected matrices (..., m, n), got shape {a.shape}")
    return a


def inv(a):
    """A⁻¹ of square A (..., n, n); a singular A raises LinAlgError."""
    return _ops.Inverse()(_matrix("inv", a))


def _as_columns(name, a, b):
    """(B as (..., n, k), whether b was a vector): b is a vector when it is 1-D or has A's shape
    without its last axis (PyTorch's rule)."""
    b = as_tensor(name, b, a)
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    if b.ndim == 0:
        raise ValueError(f"{name}: B must be a vector or matrices, got a 0-d tensor")
    return (reshape(b, b.shape + (1,)) if vector else b), vector


def solve(a, b):
    """X with A X = B: A (..., n, n); B (..., n, k), or a vector (n,) / (..., n) (A's shape without
    its last axis), as `torch.linalg.solve` decides. Batch axes broadcast; a singular A raises LinAlgError."""
    a = _matrix("solve", a)
    columns, vector = _as_columns("solve", a, b)
    x = _ops.Solve()(a, columns)
    return reshape(x, x.shape[:-1]) if vector else x


def det(a):
    """det A of square A (..., n, n) -> (...)."""
    return _ops.Determinant()(_matrix("det", a))


def slogdet(a):
    """(sign, log|det A|): the sign a constant (no gradient), log|det A| differentiable; −inf when singular."""
    logabsdet = _ops.LogAbsDet()(_matrix("slogdet", a))
    return Tensor.make_const(np.asarray(logabsdet.saved, dtype=logabsdet.dtype)), logabsdet


def logdet(a):
    """log det A (...): NaN where det A < 0, −inf where it is 0, as `torch.logdet`. For a symmetric
    positive definite A, 2·Σ log diag(cholesky(A)) is the same number and the cheaper route."""
    sign, logabsdet = slogdet(a)
    return logabsdet + Tensor.make_const(np.where(sign.cached_data < 0, np.nan, 0).astype(logabsdet.dtype))


def inv_quad_logdet(a, b):
    """(bᵀ A⁻¹ b, log |det A|) for square A (..., n, n) and b a vector (as in `solve`) or B (..., n, k)
    (then tr(Bᵀ A⁻¹ B)): the two terms of a Gaussian log-likelihood, from one inverse and one LU, with
    rules that reuse the inverse (GPyTorch's name). Through A⁻¹, so for well-conditioned A (a kernel
    matrix with its noise term); a singular A raises LinAlgError."""
    a = _matrix("inv_quad_logdet", a)
    columns, _ = _as_columns("inv_quad_logdet", a, b)
    out = _ops.InvQuadLogDet()(a, columns)
    return out[..., 0], out[..., 1]


def cholesky(a, *, upper=False):
    """L lower triangular with L Lᵀ = A (or U = Lᵀ with `upper`), A symmetric positive definite
    (..., n, n); a non-symmetric A raises ValueError, an indefinite one LinAlgError."""
    lower = _ops.Cholesky()(_matrix("cholesky", a))
    return transpose(lower) if upper else lower


def solve_triangular(a, b, *, upper, left=True, unitriangular=False):
    """X with T X = B (`left`) or X T = B, T the upper (`upper=True`) or lower triangle of A (..., n, n),
    as `torch.linalg.solve_triangular`. B (..., n, k) (left) or (..., k, n); a 1-D B is a column."""
    a = _matrix("solve_triangular", a)
    b = as_tensor("solve_triangular", b, a)
    if b.ndim == 1:
        return reshape(solve_triangular(a, reshape(b, (-1, 1)) if left else reshape(b, (1, -1)), upper=upper,
                                        left=left, unitriangular=unitriangular), b.shape)
    if left:
        return _ops.TriangularSolve(upper, unitriangular)(a, b)
    # X T = B  <=>  Tᵀ Xᵀ = Bᵀ, and Tᵀ is the other triangle of Aᵀ
    return transpose(_ops.TriangularSolve(not upper, unitriangular)(transpose(a), transpose(b)))


triangular_solve = solve_triangular


def cholesky_solve(b, l, *, upper=False):
    """X with A X = B for A = L Lᵀ given its Cholesky factor L (or U = Lᵀ with `upper`), as
    `torch.cholesky_solve`: two triangular solves."""
    l = _matrix("cholesky_solve", l)
    if upper:
        l = transpose(l)
    y = solve_triangular(l, b, upper=False)
    return solve_triangular(transpose(l), y, upper=True)


def eigh(a):
    """(w, V) of symmetric A (..., n, n): eigenvalues ascending and eigenvectors as V's columns.
    Gradients through V need distinct eigenvalues (else LinAlgError); through w they always work."""
    out = _ops.Eigh()(_matrix("eigh", a))
    return out[0], out[1]


def eigvalsh(a):
    """The eigenvalues of symmetric A, ascending."""
    return eigh(a)[0]


def svd(a, full_matrices=False):
    """(U, S, Vh) with A = U diag(S) Vh, the reduced SVD of A (..., m, n); S descending.
    Gradients through U or Vh need distinct nonzero singular values (else LinAlgError)."""
    if full_matrices:
        raise NotImplementedError("svd: only the reduced SVD (full_matrices=False) is differentiable here")
    out = _ops.SVD()(_matrix("svd", a))
    return out[0], out[1], out[2]


def svdvals(a):
    """The singular values of A (..., m, n), descending."""
    return svd(a)[1]


def qr(a, mode="reduced"):
    """(Q, R), the reduced QR factorization of A (..., m, n), m ≥ n, full column rank."""
    if mode != "reduced":
        raise NotImplementedError(f"qr: only mode='reduced' is differentiable here, got {mode!r}")
    out = _ops.QR()(_matrix("qr", a))
    return out[0], out[1]


def pinv(a):
    """The Moore-Penrose pseudo-inverse of a full-rank A (..., m, n): R⁻¹ Qᵀ from A = QR when m ≥ n,
    pinv(Aᵀ)ᵀ otherwise. A rank-deficient A raises LinAlgError (its pseudo-inverse jumps there)."""
    a = _matrix("pinv", a)
    if a.shape[-2] < a.shape[-1]:
        return transpose(pinv(transpose(a)))
    q, r = qr(a)
    return solve_triangular(r, transpose(q), upper=True)


def matrix_power(a, n):
    """A^n for square A and an integer n (A⁻¹ first for n < 0; the identity for n = 0), by squaring."""
    a = _matrix("matrix_power", a)
    _ops.check_square("matrix_power", a.shape)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"matrix_power: n must be an integer, got {n!r}")
    if n == 0:
        return broadcast_to(Tensor.make_const(np.eye(a.shape[-1], dtype=a.dtype)), a.shape)
    if n < 0:
        a, n = inv(a), -n
    result = None
    while n:
        if n & 1:
            result = a if result is None else matmul(result, a)
        n >>= 1
        if n:
            a = matmul(a, a)
    return result


def vector_norm(a, ord=2, dim=None, keepdim=False):  # noqa: A002  (PyTorch's name)
    """The vector ord-norm over `dim` (all when None): ord > 0 or ±inf."""
    a = as_tensor("vector_norm", a)
    if ord == -np.inf:
        return _min(_abs(a), dim, keepdim)
    return Norm(ord, dim, keepdim)(a)


def matrix_norm(a, ord="fro", dim=(-2, -1), keepdim=False):  # noqa: A002  (PyTorch's name)
    """A matrix norm over the two axes `dim`: 'fro' (Frobenius), 'nuc' (nuclear: Σ singular values),
    1 / −1 (max / min column abs-sum), inf / −inf (rows), 2 / −2 (largest / smallest singular value)."""
    a = _matrix("matrix_norm", a)
    if len(dim) != 2:
        raise ValueError(f"matrix_norm: dim must name two axes, got {dim!r}")
    rows, cols = (d % a.ndim for d in dim)
    if rows == cols:
        raise ValueError(f"matrix_norm: dim {dim!r} names one axis twice")
    if ord == "fro":
        return Norm(2, (rows, cols), keepdim)(a)
    rest = [k for k in range(a.ndim) if k not in (rows, cols)]
    m = permute(a, rest + [rows, cols])  # the matrix axes last
    if ord in ("nuc", 2, -2):
        s = svdvals(m)
        out = summation(s, -1) if ord == "nuc" else (s[..., 0] if ord == 2 else s[..., -1])
    elif ord in (1, -1, np.inf, -np.inf):
        sums = summation(_abs(m), -2 if ord in (1, -1) else -1)
        out = _max(sums, -1) if ord in (1, np.inf) else _min(sums, -1)
    else:
        raise ValueError(f"matrix_norm: ord must be 'fro', 'nuc', ±1, ±2 or ±inf, got {ord!r}")
    if keepdim:
        shape = list(a.shape)
        shape[rows] = shape[cols] = 1
        out = reshape(out, tuple(shape))
    return out


def norm(a, ord=None, dim=None, keepdim=False):  # noqa: A002  (PyTorch's name)
    """`torch.linalg.norm`: with ord None the 2-norm of all entries (Frobenius for matrices); a
    matrix norm when `dim` is a pair, or when it is None and A is 2-D; else a vector norm."""
    a = as_tensor("norm", a)
    if isinstance(ord, str) or (ord is not None and (
            (dim is None and a.ndim == 2) or (isinstance(dim, (tuple, list)) and len(dim) == 2))):
        return matrix_norm(a, "fro" if ord is None else ord, (-2, -1) if dim is None else tuple(dim), keepdim)
    return vector_norm(a, 2 if ord is None else ord, dim, keepdim)
