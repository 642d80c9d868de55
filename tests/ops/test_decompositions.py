"""Case table and properties for ndl.linalg: inv, solve, det, slogdet, logdet, cholesky, triangular
solves, eigh, svd, qr, pinv, matrix_power and the norms.

Each row's input maker keeps ill-conditioned inputs out of the draw: well-conditioned matrices for
inv/solve/det, SPD ones for cholesky, separated eigenvalues for eigh, separated singular values for svd.
Rows that read eigenvectors or singular vectors differentiate functions that do not depend on the
vectors' signs (squares of their entries, or a reconstruction)."""
import numpy as np
import pytest

import needle as ndl
from tests.ops.case import Case

L = ndl.linalg


# ---- input makers: float32 arrays, drawn from the row's generator --------------------------------

def well_conditioned(rng, shape):
    """Entries uniform in [-1, 1) plus n on the diagonal: diagonally dominant, condition number small."""
    n = shape[-1]
    return (rng.uniform(-1, 1, size=shape) + n * np.eye(n)).astype(np.float32)


def spd(rng, shape):
    """X Xᵀ + n I: symmetric positive definite, eigenvalues at least n."""
    x = rng.uniform(-1, 1, size=shape)
    a = x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])
    return ((a + np.swapaxes(a, -1, -2)) / 2).astype(np.float32)


def orthogonal(rng, n, batch=()):
    q, r = np.linalg.qr(rng.standard_normal(batch + (n, n)))
    return q * np.sign(np.diagonal(r, 0, -2, -1))[..., None, :]


def separated_symmetric(rng, shape):
    """Q diag(w) Qᵀ with eigenvalues 1.5 apart or more (random signs and order)."""
    n = shape[-1]
    w = np.cumsum(1.5 + rng.uniform(0, 1, size=shape[:-1]), axis=-1) - n
    q = orthogonal(rng, n, shape[:-2])
    a = (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)
    return ((a + np.swapaxes(a, -1, -2)) / 2).astype(np.float32)


def separated_singular(rng, shape):
    """U diag(s) Vᵀ with singular values 1, 2, 3, ... plus up to 0.5 each (distinct, none near 0)."""
    m, n = shape[-2:]
    k = min(m, n)
    s = np.arange(k, 0, -1) + rng.uniform(0, 0.5, size=k)
    u = orthogonal(rng, m)[:, :k]
    v = orthogonal(rng, n)[:, :k]
    return ((u * s) @ v.T).astype(np.float32)


def maker(*makers):
    """make_inputs from (function, shape) pairs, or plain shapes for uniform [-1, 1) draws."""
    def make(rng):
        out = []
        for item in makers:
            if isinstance(item, tuple) and callable(item[0]):
                out.append(item[0](rng, item[1]))
            else:
                out.append(rng.uniform(-1, 1, size=item).astype(np.float32))
        return out
    return make


def np_solve(a, b):
    if b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1]):
        return np.linalg.solve(a, b[..., None])[..., 0]
    return np.linalg.solve(a, b)


def np_inv_quad_logdet(a, b):
    columns = b[..., None] if b.ndim == 1 else b
    quad = np.sum(columns * np.linalg.solve(a, columns), axis=(-2, -1))
    quad, logabsdet = np.broadcast_arrays(quad, np.linalg.slogdet(a)[1])
    return np.stack([quad, logabsdet], -1)


def np_solve_triangular(a, b, upper, left=True, unitriangular=False):
    t = np.triu(a) if upper else np.tril(a)
    if unitriangular:
        t = t - np.diag(np.diag(t)) + np.eye(t.shape[-1], dtype=t.dtype)
    if left:
        return np.linalg.solve(t, b)
    return np.swapaxes(np.linalg.solve(np.swapaxes(t, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)


def np_matrix_function(a):
    w, v = np.linalg.eigh(a)
    return (v * np.exp(w / 4)) @ v.T


def np_reconstruction(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return (u * s ** 2) @ vh


def reconstruction(a):
    u, s, vh = L.svd(a)
    return ndl.matmul(u * s.reshape(1, -1) ** 2, vh)


def matrix_function(a):
    w, v = L.eigh(a)
    return ndl.matmul(v * ndl.exp(w / 4).reshape(1, -1), v.T)


def row(fn, make_inputs, numpy, name, shapes=None, **extra):
    return Case(fn, shapes=shapes or [], make_inputs=make_inputs, numpy=numpy, name=name, **extra)


CASES = [
    row(L.inv, maker((well_conditioned, (3, 3))), np.linalg.inv, "inv"),
    row(L.inv, maker((well_conditioned, (2, 2, 2))), np.linalg.inv, "inv_batch"),
    row(L.inv, maker((spd, (3, 3))), np.linalg.inv, "inv_spd"),  # the Cholesky route at the point
    row(L.solve, maker((well_conditioned, (3, 3)), (3, 2)), np_solve, "solve"),
    row(L.solve, maker((well_conditioned, (2, 3, 3)), (2, 3)), np_solve, "solve_vector_batch"),
    row(L.solve, maker((well_conditioned, (3, 3)), (2, 3, 1)), np_solve, "solve_broadcast_batch"),
    row(L.det, maker((well_conditioned, (2, 3, 3))), np.linalg.det, "det"),
    row(lambda a: L.slogdet(a)[1], maker((3, 3)), lambda a: np.linalg.slogdet(a)[1], "slogdet"),
    row(L.logdet, maker((spd, (3, 3))), lambda a: np.linalg.slogdet(a)[1], "logdet"),
    row(lambda a, b: ndl.stack(list(L.inv_quad_logdet(a, b)), -1), maker((well_conditioned, (3, 3)), (3,)),
        np_inv_quad_logdet, "inv_quad_logdet_vector"),
    row(lambda a, b: ndl.stack(list(L.inv_quad_logdet(a, b)), -1), maker((well_conditioned, (2, 3, 3)), (3, 2)),
        np_inv_quad_logdet, "inv_quad_logdet_broadcast_batch"),
    row(lambda a, b: ndl.stack(list(L.inv_quad_logdet(a, b)), -1), maker((spd, (2, 3, 3)), (3,)),
        np_inv_quad_logdet, "inv_quad_logdet_spd"),
    row(L.cholesky, maker((spd, (3, 3))), np.linalg.cholesky, "cholesky"),
    row(L.cholesky, maker((spd, (2, 2, 2))), lambda a, upper: np.swapaxes(np.linalg.cholesky(a), -1, -2),
        "cholesky_upper_batch", kwargs={"upper": True}),
    row(L.solve_triangular, maker((well_conditioned, (3, 3)), (3, 2)), np_solve_triangular,
        "solve_triangular_upper", kwargs={"upper": True}),
    row(L.solve_triangular, maker((well_conditioned, (2, 3, 3)), (2, 2, 3)), np_solve_triangular,
        "solve_triangular_lower_right", kwargs={"upper": False, "left": False}),
    row(L.triangular_solve, maker((well_conditioned, (3, 3)), (3,)),
        lambda a, b, **k: np_solve_triangular(a, b[:, None], **k)[:, 0], "solve_triangular_unit_vector",
        kwargs={"upper": False, "unitriangular": True}),
    row(lambda b, a: L.cholesky_solve(b, L.cholesky(a)), maker((3, 2), (spd, (3, 3))),
        lambda b, a: np.linalg.solve(a, b), "cholesky_solve"),
    row(L.eigvalsh, maker((separated_symmetric, (3, 3))), np.linalg.eigvalsh, "eigvalsh"),
    row(lambda a: L.eigh(a)[1] ** 2, maker((separated_symmetric, (2, 3, 3))),
        lambda a: np.linalg.eigh(a)[1] ** 2, "eigh_vectors_squared"),
    row(matrix_function, maker((separated_symmetric, (3, 3))), np_matrix_function, "eigh_matrix_function"),
    row(L.svdvals, maker((separated_singular, (4, 3))), lambda a: np.linalg.svd(a, compute_uv=False), "svdvals"),
    row(lambda a: L.svd(a)[0] ** 2, maker((separated_singular, (4, 3))),
        lambda a: np.linalg.svd(a, full_matrices=False)[0] ** 2, "svd_u_squared_tall"),
    row(lambda a: L.svd(a)[2] ** 2, maker((separated_singular, (2, 4))),
        lambda a: np.linalg.svd(a, full_matrices=False)[2] ** 2, "svd_vh_squared_wide"),
    row(reconstruction, maker((separated_singular, (3, 4))), np_reconstruction, "svd_reconstruction_wide"),
    row(reconstruction, maker((separated_singular, (4, 2))), np_reconstruction, "svd_reconstruction_tall"),
    row(lambda a: L.qr(a)[0], maker((separated_singular, (4, 3))), lambda a: np.linalg.qr(a)[0], "qr_q"),
    row(lambda a: L.qr(a)[1], maker((separated_singular, (3, 3))), lambda a: np.linalg.qr(a)[1], "qr_r"),
    row(L.pinv, maker((separated_singular, (4, 3))), np.linalg.pinv, "pinv_tall"),
    row(L.pinv, maker((separated_singular, (2, 3))), np.linalg.pinv, "pinv_wide"),
    row(L.matrix_power, maker((well_conditioned, (3, 3))), np.linalg.matrix_power, "matrix_power",
        kwargs={"n": 3}, low=-1, high=1),
    row(L.matrix_power, maker((well_conditioned, (2, 2))), np.linalg.matrix_power, "matrix_power_negative",
        kwargs={"n": -2}),
    row(L.matrix_power, maker((3, 3)), np.linalg.matrix_power, "matrix_power_zero", kwargs={"n": 0}, order=0),
    row(L.norm, maker((3, 4)), np.linalg.norm, "norm_frobenius"),
    row(L.norm, maker((separated_singular, (3, 4))), np.linalg.norm, "norm_nuclear", kwargs={"ord": "nuc"}),
    row(L.norm, maker((separated_singular, (4, 3))), np.linalg.norm, "norm_spectral", kwargs={"ord": 2}),
    row(L.norm, maker((separated_singular, (3, 3))), np.linalg.norm, "norm_smallest_singular", kwargs={"ord": -2}),
    row(L.matrix_norm, maker((2, 3, 4)), lambda a, ord: np.linalg.norm(a, ord, axis=(-2, -1)),
        "matrix_norm_one_batch", kwargs={"ord": 1}),
    row(L.norm, maker((3, 4)), lambda a, **k: np.linalg.norm(a, np.inf, axis=(1, 0), keepdims=True),
        "norm_inf_keepdim", kwargs={"ord": float("inf"), "dim": (1, 0), "keepdim": True}),
    row(L.vector_norm, maker((3, 4)), lambda a, **k: np.linalg.norm(a, -np.inf, axis=1), "vector_norm_minus_inf",
        kwargs={"ord": -float("inf"), "dim": 1}),
    row(L.norm, maker((3, 4)), lambda a, **k: np.linalg.norm(a, 3, axis=-1), "norm_vector_p3",
        kwargs={"ord": 3, "dim": -1}),
]


# ---- bad input ------------------------------------------------------------------------------------

SINGULAR = np.float32([[1, 2], [2, 4]])


@pytest.mark.parametrize("call, name", [
    (lambda a: L.inv(a), "inv"),
    (lambda a: L.solve(a, np.ones(2, np.float32)), "solve"),
    (lambda a: L.solve_triangular(a - np.tril(a), np.ones((2, 1), np.float32), upper=False), "solve_triangular"),
    (lambda a: L.inv_quad_logdet(a, np.ones(2, np.float32)), "inv_quad_logdet"),
])
def test_singular_matrix_raises_linalg_error_naming_the_op(call, name):
    with pytest.raises(np.linalg.LinAlgError, match=rf"^{name}: \(2, 2\) matrix: singular"):
        call(ndl.Tensor(SINGULAR))


@pytest.mark.parametrize("call, name", [
    (L.inv, "inv"), (L.det, "det"), (L.cholesky, "cholesky"), (L.eigh, "eigh"),
    (lambda a: L.slogdet(a), "slogdet"), (lambda a: L.solve(a, np.ones(2, np.float32)), "solve"),
    (lambda a: L.matrix_power(a, 2), "matrix_power"),
    (lambda a: L.inv_quad_logdet(a, np.ones(2, np.float32)), "inv_quad_logdet"),
])
def test_non_square_matrix_raises_value_error_naming_op_and_shape(call, name):
    with pytest.raises(ValueError, match=rf"^{name}: expected square matrices \(\.\.\., n, n\), got shape \(2, 3\)"):
        call(ndl.Tensor(np.ones((2, 3), np.float32)))


@pytest.mark.parametrize("fn", [L.cholesky, L.eigh])
def test_non_symmetric_matrix_raises_value_error(fn):
    a = np.float32([[2, 1], [0, 2]])
    with pytest.raises(ValueError, match=r"expected symmetric matrices, got shape \(2, 2\) with max \|a - aᵀ\| = 1"):
        fn(ndl.Tensor(a))


def test_cholesky_of_an_indefinite_matrix_raises_linalg_error():
    with pytest.raises(np.linalg.LinAlgError, match=r"^cholesky: \(2, 2\) matrix: not positive definite"):
        L.cholesky(ndl.Tensor(np.float32([[1, 2], [2, 1]])))


def test_solve_rejects_right_hand_sides_of_the_wrong_size():
    with pytest.raises(ValueError, match=r"^solve: A \(3, 3\) and B \(2, 1\): B must be \(\.\.\., 3, k\)"):
        L.solve(ndl.Tensor(np.eye(3, dtype=np.float32)), ndl.Tensor(np.ones((2, 1), np.float32)))


def test_qr_of_a_rank_deficient_or_wide_matrix_raises():
    with pytest.raises(np.linalg.LinAlgError, match=r"^qr: \(3, 2\) matrix: not of full column rank"):
        L.qr(ndl.Tensor(np.float32([[1, 2], [2, 4], [3, 6]])))
    with pytest.raises(ValueError, match=r"^qr: expected matrices \(\.\.\., m, n\) with m >= n"):
        L.qr(ndl.Tensor(np.ones((2, 3), np.float32)))


# ---- degenerate spectra: stated behaviour --------------------------------------------------------

def test_eigh_with_repeated_eigenvalues_differentiates_eigenvalues_but_refuses_eigenvectors():
    a = ndl.Tensor(np.diag([1.0, 1.0, 3.0]))
    w, v = L.eigh(a)
    (g,) = ndl.autograd.grad(w.sum() * 2 + w[2], [a])
    np.testing.assert_allclose(g.numpy(), 2 * np.eye(3) + np.diag([0, 0, 1.0]))
    with pytest.raises(np.linalg.LinAlgError, match=r"^eigh: repeated eigenvalues: the gradient of the vectors"):
        ndl.autograd.grad((v ** 3).sum(), [a])


def test_nuclear_norm_gradient_is_u_vh_even_with_repeated_singular_values():
    a = ndl.Tensor(np.diag([2.0, 2.0]) @ np.float64([[0, 1], [1, 0]]))
    (g,) = ndl.autograd.grad(L.norm(a, "nuc"), [a])
    u, _, vh = np.linalg.svd(a.numpy())
    np.testing.assert_allclose(g.numpy(), u @ vh, atol=1e-12)


# ---- properties ----------------------------------------------------------------------------------

def test_float32_stays_float32_through_every_function_and_its_gradient():
    rng = np.random.default_rng(0)
    a = ndl.Tensor(spd(rng, (3, 3)))
    outs = [L.inv(a), L.det(a), L.logdet(a), L.cholesky(a), L.eigh(a)[0], L.svd(a)[1], L.qr(a)[1], L.pinv(a),
            L.solve(a, a), L.slogdet(a)[0], L.slogdet(a)[1]]
    for out in outs:
        assert out.dtype == np.float32
    (g,) = ndl.autograd.grad(sum(o.sum() for o in outs), [a])
    assert g.dtype == np.float32


def test_slogdet_sign_is_a_constant_and_logdet_is_nan_for_a_negative_determinant():
    a = ndl.Tensor(np.float64([[0, 1], [1, 0]]))
    sign, logabsdet = L.slogdet(a)
    assert sign.numpy() == -1 and not sign.requires_grad and logabsdet.numpy() == 0
    assert np.isnan(L.logdet(a).numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_determinants_take_the_cholesky_route_only_for_symmetric_positive_definite_matrices(dtype):
    """slogdet and inv_quad_logdet factor an exactly symmetric positive definite matrix by Cholesky
    and anything else by LU; both routes give slogdet's sign and value, batches included."""
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (4, 4))
    pd = x @ x.T + np.eye(4)
    mixed = np.stack([pd, np.diag([2.0, -1.0, 3.0, 1.0])])  # one indefinite matrix sends the batch to LU
    singular = np.outer(x[0], x[0])  # symmetric, semidefinite: Cholesky fails, LU gives -inf
    for a in (pd, pd + np.triu(np.full((4, 4), 1e-3), 1), -pd, mixed, singular):
        a = a.astype(dtype)
        sign, value = L.slogdet(ndl.Tensor(a))
        want_sign, want = np.linalg.slogdet(a)
        np.testing.assert_array_equal(sign.numpy(), want_sign)
        np.testing.assert_allclose(value.numpy(), want, rtol=1e-5 if dtype == np.float32 else 1e-12)
        assert value.dtype == dtype
    b = np.ones(4, dtype)
    for a in (pd, pd + np.triu(np.full((4, 4), 1e-3), 1)):
        quad, logdet = L.inv_quad_logdet(ndl.Tensor(a.astype(dtype)), b)
        np.testing.assert_allclose(logdet.numpy(), np.linalg.slogdet(a)[1], rtol=1e-5)
        np.testing.assert_allclose(quad.numpy(), b @ np.linalg.solve(a, b), rtol=1e-5)


@pytest.mark.parametrize("n", [1, 64, 65, 150])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inverse_of_a_symmetric_positive_definite_matrix_by_cholesky_blocks_matches_lu(n, dtype):
    """inv and inv_quad_logdet invert an exactly symmetric positive definite matrix as L⁻ᵀ L⁻¹ by
    halves (sizes above 64 recurse, odd ones split unevenly); the result is symmetric and agrees
    with LU's inverse; a symmetric indefinite matrix still takes the LU route."""
    rng = np.random.default_rng(n)
    x = rng.uniform(-1, 1, (2, n, n))
    pd = x @ np.swapaxes(x, -1, -2) / n + 0.5 * np.eye(n)
    pd = ((pd + np.swapaxes(pd, -1, -2)) / 2).astype(dtype)
    tolerance = 1e-4 if dtype == np.float32 else 1e-11
    got = L.inv(ndl.Tensor(pd)).numpy()
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, np.swapaxes(got, -1, -2))
    want = np.linalg.inv(pd.astype(np.float64))
    np.testing.assert_allclose(got, want, atol=tolerance * np.abs(want).max())
    b = rng.uniform(-1, 1, (n, 2)).astype(dtype)
    quad, logdet = L.inv_quad_logdet(ndl.Tensor(pd), b)
    np.testing.assert_allclose(quad.numpy(), np.sum(b * np.linalg.solve(pd.astype(np.float64), b), (-2, -1)),
                               rtol=tolerance * 10)
    np.testing.assert_allclose(logdet.numpy(), np.linalg.slogdet(pd.astype(np.float64))[1],
                               rtol=tolerance, atol=tolerance * n)
    indefinite = pd - np.eye(n, dtype=dtype) * np.float32(0.5 + np.linalg.eigvalsh(pd[0]).max())
    np.testing.assert_allclose(L.inv(ndl.Tensor(indefinite)).numpy(), np.linalg.inv(indefinite), rtol=tolerance * 10,
                               atol=tolerance * np.abs(np.linalg.inv(indefinite)).max())


def test_solve_broadcasts_batches_and_sums_the_gradient_back():
    rng = np.random.default_rng(1)
    a = ndl.Tensor(well_conditioned(rng, (3, 3)).astype(np.float64))
    b = ndl.Tensor(rng.standard_normal((4, 3, 2)))
    x = L.solve(a, b)
    assert x.shape == (4, 3, 2)
    ga, gb = ndl.autograd.grad(x.sum(), [a, b])
    expected_gb = np.linalg.solve(a.numpy().T, np.ones((4, 3, 2)))
    np.testing.assert_allclose(gb.numpy(), expected_gb, rtol=1e-10)
    np.testing.assert_allclose(ga.numpy(), -np.einsum("bik,bjk->ij", expected_gb, x.numpy()), rtol=1e-10)


def test_cholesky_gradient_is_symmetric():
    rng = np.random.default_rng(2)
    a = ndl.Tensor(spd(rng, (4, 4)).astype(np.float64))
    (g,) = ndl.autograd.grad((L.cholesky(a) ** 3).sum(), [a])
    np.testing.assert_allclose(g.numpy(), g.numpy().T, atol=1e-12)
