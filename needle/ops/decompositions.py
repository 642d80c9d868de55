"""Matrix functions and decompositions: inv, solve, det, log|det|, cholesky, triangular solves, eigh,
svd and qr. `ndl.linalg` is their namespace (with the compositions pinv, matrix_power, logdet, norm).

Matrices are the last two axes; leading axes are a batch, broadcast where NumPy broadcasts them.
Every rule is written with needle ops (matmul, transpose, these ops themselves), so gradients of
gradients work; the derivations are in hw_notes/ops_linalg.md (Giles 2008; Murray 2016).
"""
import numpy as np

from ..autograd import SavingOp, Tensor, TensorOp, TensorTupleOp, ZeroTangent
from .broadcast import sum_to_shape, summation
from .contraction import diagonal
from .elementwise import power_scalar
from .linalg import MatMul
from .shape import reshape, stack, transpose
from .tuples import make_tuple, tuple_get_item

__all__ = [
    "Inverse", "Solve", "Determinant", "LogAbsDet", "InvQuadLogDet", "Cholesky", "TriangularSolve", "Eigh", "SVD",
    "QR",
]

LinAlgError = np.linalg.LinAlgError


# ---- helpers: shapes, masks and products, on arrays and on Tensors --------------------------------

def check_square(name, shape):
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"{name}: expected square matrices (..., n, n), got shape {tuple(shape)}")


def symmetric_part(name, a):
    """(a + aᵀ)/2 after checking that a is symmetric up to rounding (relative 1e-5, or 1000 ulps of
    its dtype if that is larger: finite-difference steps and float32 products fit)."""
    check_square(name, a.shape)
    relative = max(1e-5, 1000 * np.finfo(np.result_type(a.dtype, np.float32)).eps)
    tolerance = relative * max(float(np.max(np.abs(a), initial=0)), 1e-30)
    asymmetry = float(np.max(np.abs(a - np.swapaxes(a, -1, -2)), initial=0))
    if asymmetry > tolerance:
        raise ValueError(f"{name}: expected symmetric matrices, got shape {a.shape} with "
                         f"max |a - aᵀ| = {asymmetry:.3g}")
    return (a + np.swapaxes(a, -1, -2)) / 2


def _mask(n, dtype, lower=True, diagonal_weight=1.0):
    """A constant (n, n) Tensor: ones on one strict triangle, `diagonal_weight` on the diagonal."""
    mask = np.tril(np.ones((n, n)), -1) if lower else np.triu(np.ones((n, n)), 1)
    return Tensor.make_const((mask + diagonal_weight * np.eye(n)).astype(dtype))


def mT(x):
    return transpose(x)


def sym(x):
    return (x + transpose(x)) * 0.5


def mm(a, b, ta=False, tb=False):
    """op(a) @ op(b) with op a transpose where flagged: one MatMul node."""
    return MatMul(ta, tb)(a, b)


def diag_embed(w):
    """(..., k) -> (..., k, k) with w on the diagonal."""
    k = w.shape[-1]
    return reshape(w, w.shape + (1,)) * Tensor.make_const(np.eye(k, dtype=w.dtype))


def matrix_diagonal(x):
    return diagonal(x, 0, -2, -1)


def _is_zero(x):
    """Whether `x` is a known-zero adjoint or tangent: the filler a TensorTuple gives unused outputs."""
    return type(x) is ZeroTangent or (x.op is None and not x.requires_grad and not np.any(x.cached_data))


def _gap_inverse(name, values, squared=False):
    """F_ij = 1/(v_j − v_i) for i ≠ j, 0 on the diagonal, as a graph of `values` (…, k) (v = s² when
    `squared`). Equal values have no such F: the vectors' derivative is undefined, so it raises."""
    v = values * values if squared else values
    k = v.shape[-1]
    gaps = reshape(v, v.shape[:-1] + (1, k)) - reshape(v, v.shape + (1,))
    eye = np.eye(k, dtype=v.dtype)
    data = np.abs(gaps.cached_data) + eye
    scale = np.max(np.abs(v.cached_data), axis=-1, keepdims=True)[..., None]
    if np.any(data <= 16 * np.finfo(v.dtype).eps * np.maximum(scale, np.finfo(v.dtype).tiny)):
        what = "singular values" if squared else "eigenvalues"
        raise LinAlgError(f"{name}: repeated {what}: the gradient of the vectors divides by their gaps "
                          "and is undefined (only functions of the values alone are differentiable here)")
    return power_scalar(gaps + Tensor.make_const(eye), -1) * Tensor.make_const(1 - eye)


def _named(name, error, shape):
    return LinAlgError(f"{name}: {shape} matrix: {error}")


def _cholesky_if_spd(a):
    """The Cholesky factor of A (..., n, n) when every matrix is exactly symmetric and the
    factorization succeeds (positive definite), else None."""
    if a.shape[-1] == 0 or not np.array_equal(a, np.swapaxes(a, -1, -2)):
        return None
    try:
        return np.linalg.cholesky(a)
    except LinAlgError:
        return None


def _logdet_from_cholesky(chol):
    return 2 * np.sum(np.log(np.diagonal(chol, 0, -2, -1)), axis=-1)


def sign_logabsdet(a):
    """(sign, log |det A|) as `np.linalg.slogdet`. When every matrix of A is exactly symmetric and
    positive definite, from its Cholesky factor (2 Σ log L_ii, sign +1): half an LU's work, and the
    number a hand-written Gaussian-process likelihood uses. Anything else goes to slogdet's LU."""
    chol = _cholesky_if_spd(a)
    if chol is None:
        return np.linalg.slogdet(a)
    logabsdet = _logdet_from_cholesky(chol)
    return np.ones_like(logabsdet), logabsdet


_BLOCK = 64  # below this size a triangular block is inverted by LAPACK and a Gram product is one call


def _invert_lower_in_place(low):
    """Overwrite lower triangular L (..., n, n) with L⁻¹, by halves: [[P, 0], [Q, R]]⁻¹ =
    [[P⁻¹, 0], [−R⁻¹ Q P⁻¹, R⁻¹]]. All but the small diagonal blocks is matrix products (n³/3
    multiply-adds); the temporaries are a quarter of the matrix at most."""
    n = low.shape[-1]
    if n <= _BLOCK:
        low[...] = np.tril(np.linalg.inv(low))
        return
    h = n // 2
    _invert_lower_in_place(low[..., :h, :h])
    _invert_lower_in_place(low[..., h:, h:])
    low[..., h:, :h] = np.matmul(low[..., h:, h:], -np.matmul(low[..., h:, :h], low[..., :h, :h]))


def _symmetrize_in_place(x):
    np.add(x, np.swapaxes(x, -1, -2), out=x)  # NumPy buffers the overlapping transpose
    x *= 0.5


def _lower_gram_in_place(m):
    """Overwrite lower triangular M (..., n, n) with Mᵀ M (exactly symmetric), by halves, skipping
    the zero block: 2n³/3 multiply-adds rather than a full product's n³."""
    n = m.shape[-1]
    if n <= _BLOCK:
        m[...] = np.matmul(np.swapaxes(m, -1, -2), m)
        _symmetrize_in_place(m)
        return
    h = n // 2
    m11, m21, m22 = m[..., :h, :h], m[..., h:, :h], m[..., h:, h:]
    top_extra = np.matmul(np.swapaxes(m21, -1, -2), m21)
    corner = np.matmul(np.swapaxes(m22, -1, -2), m21)
    _lower_gram_in_place(m11)
    m11 += top_extra
    _symmetrize_in_place(m11)
    _lower_gram_in_place(m22)
    m21[...] = corner
    m[..., :h, h:] = np.swapaxes(corner, -1, -2)


def spd_inverse(a):
    """(A⁻¹, log det A) from one Cholesky factor, A⁻¹ = L⁻ᵀ L⁻¹ (LAPACK's potrf + potri route, in
    products: n³ multiply-adds against the 8n³/3 of an LU inverse), when every matrix of A (..., n, n)
    is exactly symmetric positive definite; None otherwise (the caller takes the LU route)."""
    chol = _cholesky_if_spd(a)
    if chol is None:
        return None
    logdet = _logdet_from_cholesky(chol)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        try:
            _invert_lower_in_place(chol)  # the factor's buffer becomes L⁻¹, then A⁻¹: one n² array in all
            _lower_gram_in_place(chol)
        except (LinAlgError, FloatingPointError):
            return None  # a factor too close to singular for this route: the LU one reports it
    return chol, logdet


# ---- inverse, solve, determinants -------------------------------------------------------------------

class Inverse(TensorOp):
    """Y = A⁻¹ for square A (..., n, n): from a Cholesky factor when A is exactly symmetric positive
    definite (`spd_inverse`), else LU. Ā = −Yᵀ Ȳ Yᵀ; Ẏ = −Y Ȧ Y."""

    def compute(self, a):
        check_square("inv", a.shape)
        spd = spd_inverse(a)
        if spd is not None:
            return spd[0]
        try:
            return np.linalg.inv(a)
        except LinAlgError as error:
            raise _named("inv", "singular" if "ingular" in str(error) else error, a.shape) from None

    def gradient(self, out_grad, node):
        return -mm(node, mm(out_grad, node, tb=True), ta=True)

    def jvp(self, tangents, node):
        return -mm(node, mm(tangents[0], node))


class Solve(TensorOp):
    """X = A⁻¹ B for A (..., n, n) and B (..., n, k), batch axes broadcast. B̄ = A⁻ᵀ X̄, Ā = −B̄ Xᵀ;
    Ẋ = A⁻¹ (Ḃ − Ȧ X)."""

    def compute(self, a, b):
        check_square("solve", a.shape)
        if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
            raise ValueError(f"solve: A {a.shape} and B {b.shape}: B must be (..., {a.shape[-1]}, k)")
        try:
            return np.linalg.solve(a, b)
        except LinAlgError as error:
            raise _named("solve", "singular" if "ingular" in str(error) else error, a.shape) from None
        except ValueError:
            raise ValueError(f"solve: A {a.shape} and B {b.shape}: batch axes do not broadcast") from None

    def gradient(self, out_grad, node):
        a, b = node.inputs
        grad_b = Solve()(mT(a), out_grad)
        # −B̄ Xᵀ with the (n, k) factor negated rather than the (n, n) product
        grad_a = mm(-grad_b, node, tb=True) if a.requires_grad else None
        return (None if grad_a is None else sum_to_shape(grad_a, a.shape),
                sum_to_shape(grad_b, b.shape) if b.requires_grad else None)

    def jvp(self, tangents, node):
        a, _ = node.inputs
        da, db = tangents
        rhs = None if _is_zero(db) else db
        if not _is_zero(da):
            rhs = -mm(da, node) if rhs is None else rhs - mm(da, node)
        return Solve()(a, rhs)


class Determinant(TensorOp):
    """det A for square A (..., n, n) -> (...). Ā = Ȳ det(A) A⁻ᵀ; ẏ = det(A) tr(A⁻¹ Ȧ) (Jacobi's formula).

    The rule goes through A⁻¹, so a singular A has no gradient here (inv raises)."""

    def compute(self, a):
        check_square("det", a.shape)
        return np.linalg.det(a)

    def gradient(self, out_grad, node):
        (a,) = node.inputs
        scale = reshape(out_grad * node, node.shape + (1, 1))
        return scale * mT(Inverse()(a))

    def jvp(self, tangents, node):
        (a,) = node.inputs
        return node * summation(mT(Inverse()(a)) * tangents[0], (-2, -1))


class LogAbsDet(SavingOp):
    """log |det A| for square A (..., n, n) -> (...), from an LU factorization, or a Cholesky one when A
    is exactly symmetric positive definite (no overflow either way).
    Ā = Ȳ A⁻ᵀ; ẏ = tr(A⁻¹ Ȧ). −inf for a singular A. The node saves the sign of det A (`slogdet`'s)."""

    def compute_saving(self, a):
        check_square("slogdet", a.shape)
        sign, logabsdet = sign_logabsdet(a)
        return logabsdet, sign

    def gradient(self, out_grad, node):
        (a,) = node.inputs
        return reshape(out_grad, node.shape + (1, 1)) * mT(Inverse()(a))

    def jvp(self, tangents, node):
        (a,) = node.inputs
        return summation(mT(Inverse()(a)) * tangents[0], (-2, -1))


class InvQuadLogDet(SavingOp):
    """[q, l] stacked on a last axis of 2: q = tr(Bᵀ A⁻¹ B) and l = log |det A|, for square A (..., n, n)
    and B (..., n, k), batch axes broadcast. What a Gaussian log-likelihood needs, from one inverse and
    one factorization (Cholesky for an exactly symmetric positive definite A, else LU): the inverse is
    saved, so the rules cost products only.

    With W = A⁻¹, α = W B and u = Wᵀ B: Ā = −q̄ u αᵀ + l̄ Wᵀ, B̄ = q̄ (α + u);
    q̇ = ⟨α + u, Ḃ⟩ − ⟨u αᵀ, Ȧ⟩, l̇ = ⟨Wᵀ, Ȧ⟩. W enters the rules as an `Inverse` node (made from the
    saved array, not recomputed), so second order goes through the inverse's own rule.
    """

    def compute_saving(self, a, b):
        check_square("inv_quad_logdet", a.shape)
        if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
            raise ValueError(f"inv_quad_logdet: A {a.shape} and B {b.shape}: B must be (..., {a.shape[-1]}, k)")
        spd = spd_inverse(a)
        if spd is not None:
            inverse, logabsdet = spd
        else:
            try:
                inverse = np.linalg.inv(a)
            except LinAlgError:
                raise _named("inv_quad_logdet", "singular", a.shape) from None
            logabsdet = np.linalg.slogdet(a)[1]
        quad = np.sum(b * np.matmul(inverse, b), axis=(-2, -1))
        quad, logabsdet = np.broadcast_arrays(quad, logabsdet)
        return np.stack([quad, logabsdet], axis=-1), inverse

    def _pieces(self, node):
        """(W as an Inverse node, α = W B, u = Wᵀ B)."""
        a, b = node.inputs
        w = Tensor.make_from_op(Inverse(), (a,), node.saved)
        return w, mm(w, b), mm(w, b, ta=True)

    def gradient(self, out_grad, node):
        a, b = node.inputs
        w, alpha, u = self._pieces(node)
        grad_q = reshape(out_grad[..., 0], out_grad.shape[:-1] + (1, 1))
        grad_l = reshape(out_grad[..., 1], out_grad.shape[:-1] + (1, 1))
        grad_a = grad_b = None
        if a.requires_grad:
            grad_a = sum_to_shape(mm(u * -grad_q, alpha, tb=True) + grad_l * mT(w), a.shape)
        if b.requires_grad:
            grad_b = sum_to_shape((alpha + u) * grad_q, b.shape)
        return grad_a, grad_b

    def jvp(self, tangents, node):
        w, alpha, u = self._pieces(node)
        da, db = tangents
        quad = summation((alpha + u) * db, (-2, -1))
        if not _is_zero(da):
            quad = quad - summation(mm(u, alpha, tb=True) * da, (-2, -1))
        logdet = summation(mT(w) * da, (-2, -1))
        quad, logdet = (x if x.shape == node.shape[:-1] else x.broadcast_to(node.shape[:-1]) for x in (quad, logdet))
        return stack([quad, logdet], -1)


# ---- Cholesky and triangular solves -------------------------------------------------------------------

class Cholesky(TensorOp):
    """L lower triangular with L Lᵀ = A for symmetric positive definite A (..., n, n).

    A must be symmetric (checked); its symmetric part is used, so Ā is symmetric (Murray 2016):
    Ā = sym(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹) and L̇ = L Φ(L⁻¹ sym(Ȧ) L⁻ᵀ), Φ = the lower triangle with half the diagonal.
    """

    def compute(self, a):
        try:
            return np.linalg.cholesky(symmetric_part("cholesky", a))
        except LinAlgError:
            raise _named("cholesky", "not positive definite", a.shape) from None

    def gradient(self, out_grad, node):
        phi = _mask(node.shape[-1], node.dtype, diagonal_weight=0.5)
        p = mm(node, out_grad, ta=True) * phi
        left = TriangularSolve(upper=True)(mT(node), p)  # L⁻ᵀ P
        right = mT(TriangularSolve(upper=True)(mT(node), mT(left)))  # L⁻ᵀ P L⁻¹
        return sym(right)

    def jvp(self, tangents, node):
        phi = _mask(node.shape[-1], node.dtype, diagonal_weight=0.5)
        inner = TriangularSolve(upper=False)(node, sym(tangents[0]))  # L⁻¹ Ȧ
        inner = TriangularSolve(upper=False)(node, mT(inner))  # L⁻¹ Ȧ L⁻ᵀ (symmetric)
        return mm(node, inner * phi)


class TriangularSolve(TensorOp):
    """X = T⁻¹ B, T the upper (`upper`) or lower triangle of A (..., n, n), B (..., n, k); the other
    triangle of A is not read, nor its diagonal when `unitriangular` (taken as ones).
    B̄ = T⁻ᵀ X̄, Ā = tri(−B̄ Xᵀ); Ẋ = T⁻¹ (Ḃ − tri(Ȧ) X)."""

    def __init__(self, upper, unitriangular=False):
        self.upper = bool(upper)
        self.unitriangular = bool(unitriangular)

    def triangle(self, a):
        t = np.triu(a) if self.upper else np.tril(a)
        if self.unitriangular:
            n = a.shape[-1]
            t = t - t * np.eye(n, dtype=a.dtype) + np.eye(n, dtype=a.dtype)
        return t

    def compute(self, a, b):
        check_square("solve_triangular", a.shape)
        if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
            raise ValueError(f"solve_triangular: A {a.shape} and B {b.shape}: B must be (..., {a.shape[-1]}, k)")
        t = self.triangle(a)
        if np.any(np.diagonal(t, 0, -2, -1) == 0):
            raise LinAlgError(f"solve_triangular: {a.shape} matrix: singular (a zero on the diagonal)")
        # NumPy has no triangular solver; LU of a triangular matrix pivots nothing and is exact in form
        return np.linalg.solve(t, b)

    def _tri_mask(self, a):
        return _mask(a.shape[-1], a.dtype, lower=not self.upper, diagonal_weight=0.0 if self.unitriangular else 1.0)

    def gradient(self, out_grad, node):
        a, b = node.inputs
        grad_b = TriangularSolve(not self.upper, self.unitriangular)(mT(a), out_grad)
        grad_a = None
        if a.requires_grad:
            grad_a = sum_to_shape(-mm(grad_b, node, tb=True) * self._tri_mask(a), a.shape)
        return grad_a, sum_to_shape(grad_b, b.shape) if b.requires_grad else None

    def jvp(self, tangents, node):
        a, _ = node.inputs
        da, db = tangents
        rhs = None if _is_zero(db) else db
        if not _is_zero(da):
            term = mm(da * self._tri_mask(a), node)
            rhs = -term if rhs is None else rhs - term
        return TriangularSolve(self.upper, self.unitriangular)(a, rhs)


# ---- eigh, svd, qr -------------------------------------------------------------------------------------

class Eigh(TensorTupleOp):
    """(w, V): eigenvalues ascending (..., n) and orthonormal eigenvectors (columns of V, (..., n, n))
    of symmetric A (checked; its symmetric part is used).

    Ā = sym(V (diag(w̄) + F ∘ Vᵀ V̄) Vᵀ), F_ij = 1/(w_j − w_i) (i ≠ j); ẇ = diag(Vᵀ Ȧ V),
    V̇ = V (F ∘ Vᵀ Ȧ V). With repeated eigenvalues F does not exist: eigenvalue-only uses still
    differentiate, and any use of V raises LinAlgError (an eigenvector of a repeated eigenvalue is
    not a function of A).
    """

    def compute(self, a):
        w, v = np.linalg.eigh(symmetric_part("eigh", a))
        return w, v

    def gradient(self, out_grad, node):
        w, v = tuple_get_item(node, 0), tuple_get_item(node, 1)
        grad_w, grad_v = out_grad[0], out_grad[1]
        inner = diag_embed(grad_w)
        if not _is_zero(grad_v):
            inner = inner + _gap_inverse("eigh", w) * mm(v, grad_v, ta=True)
        return (sym(mm(v, mm(inner, v, tb=True))),)

    def jvp(self, tangents, node):
        w, v = tuple_get_item(node, 0), tuple_get_item(node, 1)
        projected = mm(v, mm(sym(tangents[0]), v), ta=True)  # Vᵀ Ȧ V
        return make_tuple(matrix_diagonal(projected), mm(v, _gap_inverse("eigh", w) * projected))


class SVD(TensorTupleOp):
    """(U, S, Vh): the reduced SVD A = U diag(S) Vh, A (..., m, n), k = min(m, n), S descending.

    Rules for distinct nonzero singular values (Townsend 2016; Giles 2008 for the square case):
    with F_ij = 1/(s_j² − s_i²), J = F ∘ (Uᵀ Ū − Ūᵀ U), K = F ∘ (Vᵀ V̄ − V̄ᵀ V),
    Ā = U (J S + diag(S̄) + S K) Vᵀ + (I − U Uᵀ) Ū S⁻¹ Vᵀ + U S⁻¹ V̄ᵀ (I − V Vᵀ).
    Uses of S alone (the nuclear norm) need no gaps; a use of U or Vh with repeated values raises.
    """

    def compute(self, a):
        if a.ndim < 2:
            raise ValueError(f"svd: expected matrices (..., m, n), got shape {a.shape}")
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        return u, s, vh

    def gradient(self, out_grad, node):
        (a,) = node.inputs
        u, s, vh = (tuple_get_item(node, i) for i in range(3))
        grad_u, grad_s, grad_vh = out_grad[0], out_grad[1], out_grad[2]
        core = diag_embed(grad_s)
        m, n = a.shape[-2], a.shape[-1]
        s_col = reshape(s, s.shape + (1,))  # S as a column: S X = s_col * X
        s_row = reshape(s, s.shape[:-1] + (1,) + s.shape[-1:])  # X S = X * s_row
        extra = None
        if not (_is_zero(grad_u) and _is_zero(grad_vh)):
            f = _gap_inverse("svd", s, squared=True)
        if not _is_zero(grad_u):
            ut_gu = mm(u, grad_u, ta=True)
            core = core + (f * (ut_gu - mT(ut_gu))) * s_row
            if m > s.shape[-1]:  # (I − U Uᵀ) Ū S⁻¹ Vᵀ
                outside = grad_u - mm(u, ut_gu)
                extra = mm(outside / s_row, vh)
        if not _is_zero(grad_vh):
            grad_v = mT(grad_vh)
            vt_gv = mm(vh, grad_v)  # Vᵀ V̄
            core = core + s_col * (f * (vt_gv - mT(vt_gv)))
            if n > s.shape[-1]:  # U S⁻¹ V̄ᵀ (I − V Vᵀ)
                outside = grad_vh - mm(vt_gv, vh, ta=True)
                term = mm(u, outside / s_col)
                extra = term if extra is None else extra + term
        grad_a = mm(u, mm(core, vh))
        return (grad_a if extra is None else grad_a + extra,)

    def jvp(self, tangents, node):
        (a,) = node.inputs
        (da,) = tangents
        u, s, vh = (tuple_get_item(node, i) for i in range(3))
        m, n = a.shape[-2], a.shape[-1]
        k = s.shape[-1]
        s_col = reshape(s, s.shape + (1,))
        s_row = reshape(s, s.shape[:-1] + (1,) + s.shape[-1:])
        p = mm(u, mm(da, vh, tb=True), ta=True)  # Uᵀ Ȧ V
        f = _gap_inverse("svd", s, squared=True)
        ds = matrix_diagonal(p)
        du = mm(u, f * (p * s_row + s_col * mT(p)))
        dv = mm(vh, f * (s_col * p + mT(p) * s_row), ta=True)
        if m > k:
            du = du + mm(da, mT(vh)) / s_row - mm(u, p / s_row)
        if n > k:
            dv = dv + mm(da, u, ta=True) / s_row - mm(vh, mT(p) / s_row, ta=True)
        return make_tuple(du, ds, mT(dv))


class QR(TensorTupleOp):
    """(Q, R): the reduced QR factorization A = Q R of A (..., m, n) with m ≥ n and full column rank.

    With M = R R̄ᵀ − Q̄ᵀ Q and copyltu(M) = the symmetric matrix with M's lower triangle,
    Ā = (Q̄ + Q copyltu(M)) R⁻ᵀ; for Ȧ, X = Qᵀ Ȧ R⁻¹, Ω = X's strict lower triangle minus its
    transpose, Ṙ = (X − Ω) R, Q̇ = Ȧ R⁻¹ − Q (X − Ω).
    """

    def compute(self, a):
        if a.ndim < 2 or a.shape[-2] < a.shape[-1]:
            raise ValueError(f"qr: expected matrices (..., m, n) with m >= n, got shape {a.shape}")
        q, r = np.linalg.qr(a, mode="reduced")
        if np.any(np.abs(np.diagonal(r, 0, -2, -1)) <= np.finfo(a.dtype).eps * np.max(np.abs(r), initial=0)):
            raise LinAlgError(f"qr: {a.shape} matrix: not of full column rank (the rules divide by R's diagonal)")
        return q, r

    def gradient(self, out_grad, node):
        q, r = tuple_get_item(node, 0), tuple_get_item(node, 1)
        grad_q, grad_r = out_grad[0], out_grad[1]
        n = r.shape[-1]
        m_ = None
        if not _is_zero(grad_r):
            m_ = mm(r, grad_r, tb=True)
        if not _is_zero(grad_q):
            term = mm(grad_q, q, ta=True)
            m_ = -term if m_ is None else m_ - term
        total = None if _is_zero(grad_q) else grad_q
        if m_ is not None:
            lower = m_ * _mask(n, r.dtype)
            strict = m_ * _mask(n, r.dtype, diagonal_weight=0.0)
            copied = mm(q, lower + mT(strict))
            total = copied if total is None else total + copied
        # (·) R⁻ᵀ = (R⁻¹ (·)ᵀ)ᵀ
        return (mT(TriangularSolve(upper=True)(r, mT(total))),)

    def jvp(self, tangents, node):
        q, r = tuple_get_item(node, 0), tuple_get_item(node, 1)
        (da,) = tangents
        n = r.shape[-1]
        da_rinv = mT(TriangularSolve(upper=False)(mT(r), mT(da)))  # Ȧ R⁻¹ = (R⁻ᵀ Ȧᵀ)ᵀ
        x = mm(q, da_rinv, ta=True)
        strict = x * _mask(n, x.dtype, diagonal_weight=0.0)
        upper_part = x - (strict - mT(strict))  # X − Ω
        return make_tuple(da_rinv - mm(q, upper_part), mm(upper_part, r))
