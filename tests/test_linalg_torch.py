"""einsum, the contractions and ndl.linalg against PyTorch (float64): values, gradients and a
Hessian-vector product for each function. needle's HVP is the gradient of ⟨∇f, v⟩; PyTorch's is its
double backward. Each function is reduced to a scalar by a fixed random weighting of its output;
eigenvectors, singular vectors and QR factors enter through sign-invariant squares, since the two
libraries may choose other signs."""
import numpy as np
import pytest

import needle as ndl

torch = pytest.importorskip("torch")

L = ndl.linalg
TL = torch.linalg


def well_conditioned(rng, n, batch=()):
    return rng.uniform(-1, 1, size=batch + (n, n)) + n * np.eye(n)


def spd(rng, n, batch=()):
    x = rng.uniform(-1, 1, size=batch + (n, n))
    a = x @ np.swapaxes(x, -1, -2) + n * np.eye(n)
    return (a + np.swapaxes(a, -1, -2)) / 2


def separated_symmetric(rng, n):
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    a = (q * (np.arange(n) * 1.5 - 1 + rng.uniform(0, 0.5, n))) @ q.T
    return (a + a.T) / 2


def separated_singular(rng, m, n):
    k = min(m, n)
    u, _ = np.linalg.qr(rng.standard_normal((m, m)))
    v, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (u[:, :k] * (np.arange(k, 0, -1) + rng.uniform(0, 0.5, k))) @ v[:, :k].T


def vectors(rng, *shapes):
    return [rng.uniform(-1, 1, size=s) for s in shapes]


# (id, needle function, PyTorch function, inputs from a generator)
PAIRS = [
    ("einsum", lambda a, b: ndl.einsum("bij,bjk->bik", a, b), lambda a, b: torch.einsum("bij,bjk->bik", a, b),
     lambda r: vectors(r, (2, 3, 4), (2, 4, 2))),
    ("einsum_diagonal", lambda a, b: ndl.einsum("ii,i->i", a, b), lambda a, b: torch.einsum("ii,i->i", a, b),
     lambda r: vectors(r, (3, 3), (3,))),
    ("tensordot", lambda a, b: ndl.tensordot(a, b, 2), lambda a, b: torch.tensordot(a, b, 2),
     lambda r: vectors(r, (2, 3, 4), (3, 4, 2))),
    ("outer", ndl.outer, torch.outer, lambda r: vectors(r, (3,), (4,))),
    ("inner", ndl.inner, torch.inner, lambda r: vectors(r, (2, 3), (4, 3))),
    ("trace", ndl.trace, torch.trace, lambda r: vectors(r, (3, 3))),
    ("diagonal", lambda a: ndl.diagonal(a, 1), lambda a: torch.diagonal(a, 1), lambda r: vectors(r, (3, 4))),
    ("diag", lambda a: ndl.diag(a, -1), lambda a: torch.diag(a, -1), lambda r: vectors(r, (3,))),
    ("kron", ndl.kron, torch.kron, lambda r: vectors(r, (2, 3), (2, 2))),
    ("inv", L.inv, TL.inv, lambda r: [well_conditioned(r, 3, (2,))]),
    ("solve", L.solve, TL.solve, lambda r: [well_conditioned(r, 3), r.uniform(-1, 1, (3, 2))]),
    ("solve_vector", L.solve, TL.solve, lambda r: [well_conditioned(r, 3, (2,)), r.uniform(-1, 1, (2, 3))]),
    ("det", L.det, TL.det, lambda r: [well_conditioned(r, 3)]),
    ("slogdet", lambda a: L.slogdet(a)[1], lambda a: TL.slogdet(a)[1], lambda r: vectors(r, (3, 3))),
    ("logdet", L.logdet, torch.logdet, lambda r: [spd(r, 3)]),
    ("inv_quad_logdet", lambda a, b: ndl.stack(list(L.inv_quad_logdet(a, b)), -1),
     lambda a, b: torch.stack([(b * TL.solve(a, b)).sum((-2, -1)), TL.slogdet(a)[1]], -1),
     lambda r: [well_conditioned(r, 3, (2,)), r.uniform(-1, 1, (2, 3, 2))]),
    ("cholesky", L.cholesky, TL.cholesky, lambda r: [spd(r, 3, (2,))]),
    ("solve_triangular", lambda a, b: L.solve_triangular(a, b, upper=True),
     lambda a, b: TL.solve_triangular(a, b, upper=True), lambda r: [well_conditioned(r, 3), r.uniform(-1, 1, (3, 2))]),
    ("solve_triangular_right_unit", lambda a, b: L.solve_triangular(a, b, upper=False, left=False, unitriangular=True),
     lambda a, b: TL.solve_triangular(a, b, upper=False, left=False, unitriangular=True),
     lambda r: [well_conditioned(r, 3), r.uniform(-1, 1, (2, 3))]),
    ("cholesky_solve", lambda b, a: L.cholesky_solve(b, L.cholesky(a)),
     lambda b, a: torch.cholesky_solve(b, TL.cholesky(a)), lambda r: [r.uniform(-1, 1, (3, 2)), spd(r, 3)]),
    ("eigh_values", lambda a: L.eigh(a)[0], lambda a: TL.eigh(a)[0], lambda r: [separated_symmetric(r, 3)]),
    ("eigh_vectors", lambda a: L.eigh(a)[1] ** 2, lambda a: TL.eigh(a)[1] ** 2, lambda r: [separated_symmetric(r, 3)]),
    ("svd_values", lambda a: L.svd(a)[1], lambda a: TL.svd(a, full_matrices=False)[1],
     lambda r: [separated_singular(r, 4, 3)]),
    ("svd_u", lambda a: L.svd(a)[0] ** 2, lambda a: TL.svd(a, full_matrices=False)[0] ** 2,
     lambda r: [separated_singular(r, 4, 3)]),
    ("svd_vh", lambda a: L.svd(a)[2] ** 2, lambda a: TL.svd(a, full_matrices=False)[2] ** 2,
     lambda r: [separated_singular(r, 2, 4)]),
    ("qr_q", lambda a: L.qr(a)[0] ** 2, lambda a: TL.qr(a)[0] ** 2, lambda r: [separated_singular(r, 4, 3)]),
    ("qr_r", lambda a: L.qr(a)[1] ** 2, lambda a: TL.qr(a)[1] ** 2, lambda r: [separated_singular(r, 4, 3)]),
    ("pinv", L.pinv, TL.pinv, lambda r: [separated_singular(r, 3, 4)]),
    ("matrix_power", lambda a: L.matrix_power(a, -3), lambda a: TL.matrix_power(a, -3),
     lambda r: [well_conditioned(r, 3)]),
    ("norm_nuclear", lambda a: L.norm(a, "nuc"), lambda a: TL.norm(a, "nuc"), lambda r: [separated_singular(r, 3, 4)]),
    ("norm_spectral", lambda a: L.norm(a, 2), lambda a: TL.norm(a, 2), lambda r: [separated_singular(r, 3, 4)]),
    ("norm_frobenius", lambda a: L.norm(a), lambda a: TL.norm(a), lambda r: vectors(r, (3, 4))),
    ("matrix_norm_inf", lambda a: L.matrix_norm(a, float("inf")), lambda a: TL.matrix_norm(a, float("inf")),
     lambda r: vectors(r, (2, 3, 4))),
    ("vector_norm_3", lambda a: L.vector_norm(a, 3, dim=1), lambda a: TL.vector_norm(a, 3, dim=1),
     lambda r: vectors(r, (3, 4))),
]


@pytest.mark.parametrize("fn, torch_fn, make", [p[1:] for p in PAIRS], ids=[p[0] for p in PAIRS])
def test_value_gradient_and_hessian_vector_product_match_pytorch(fn, torch_fn, make):
    rng = np.random.default_rng(0)
    arrays = make(rng)
    out_shape = tuple(torch_fn(*[torch.tensor(a) for a in arrays]).shape)
    weight = rng.standard_normal(out_shape)
    directions = [rng.standard_normal(a.shape) for a in arrays]

    # needle: f = ⟨W, fn(x)⟩, its gradient, and the gradient of ⟨∇f, v⟩
    xs = [ndl.Tensor(a) for a in arrays]
    out = fn(*xs)
    value = (out * ndl.Tensor(weight, requires_grad=False)).sum()
    grads = ndl.autograd.grad(value, xs, create_graph=True)
    along = sum((g * ndl.Tensor(v, requires_grad=False)).sum() for g, v in zip(grads, directions))
    hvps = ndl.autograd.grad(along, xs, allow_unused=True)

    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    t_out = torch_fn(*ts)
    t_value = (t_out * torch.tensor(weight)).sum()
    t_grads = torch.autograd.grad(t_value, ts, create_graph=True)
    t_along = sum((g * torch.tensor(v)).sum() for g, v in zip(t_grads, directions))
    # a linear function's gradient is a constant, which PyTorch records no graph for
    t_hvps = torch.autograd.grad(t_along, ts, allow_unused=True) if t_along.requires_grad else [None] * len(ts)

    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    for i, (g, t_g) in enumerate(zip(grads, t_grads)):
        np.testing.assert_allclose(g.numpy(), t_g.detach().numpy(), rtol=1e-9, atol=1e-11, err_msg=f"gradient {i}")
    for i, (h, t_h) in enumerate(zip(hvps, t_hvps)):
        expected = np.zeros(arrays[i].shape) if t_h is None else t_h.numpy(force=True)  # force: a ZeroTensor
        np.testing.assert_allclose(h.numpy(), expected, rtol=1e-8, atol=1e-10, err_msg=f"Hessian-vector product {i}")


def test_singular_inverse_is_refused_where_pytorch_also_refuses():
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(torch.linalg.LinAlgError):
        TL.inv(torch.tensor(singular))
    with pytest.raises(np.linalg.LinAlgError, match="^inv: "):
        L.inv(ndl.Tensor(singular))
