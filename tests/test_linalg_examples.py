"""The worked examples of hw_notes/gaussian_process.md, recomputed with needle: the gradient of a
Gaussian-process log marginal likelihood with respect to its kernel hyper-parameters (Cholesky,
triangular solves, log-determinant) against finite differences and the hand-derived formula, and
Newton steps for a small logistic regression with `ndl.func.hessian` against the hand-derived step.

The tables are registered with `worked_example` (tests/test_hw_notes.py), so each figure printed in
the notes is required to its digits."""
import numpy as np

import needle as ndl
from tests.test_hw_notes import assert_stated, by_key, worked_example

L = ndl.linalg

# ---- the Gaussian process ------------------------------------------------------------------------

X = np.array([-2.0, -1.2, -0.4, 0.5, 1.1, 2.0])
Y = np.array([-0.9, -0.95, -0.35, 0.45, 0.9, 0.85])
HYPER = {"lengthscale": 0.8, "signal": 1.0, "noise": 0.2}


def rbf_kernel(x, lengthscale, signal, noise):
    """K = s² exp(−(x_i − x_j)² / 2ℓ²) + σ² I, as a needle graph of the three hyper-parameters."""
    sq_dist = ndl.Tensor((x[:, None] - x[None, :]) ** 2, requires_grad=False)
    eye = ndl.Tensor(np.eye(len(x)), requires_grad=False)
    return signal * signal * ndl.exp(sq_dist / (-2 * lengthscale * lengthscale)) + noise * noise * eye


def log_marginal_likelihood(lengthscale, signal, noise, x=X, y=Y):
    """log p(y | x, θ) = −½ yᵀ K⁻¹ y − ½ log det K − (n/2) log 2π, through the Cholesky factor."""
    k = rbf_kernel(x, lengthscale, signal, noise)
    chol = L.cholesky(k)
    targets = ndl.Tensor(y.reshape(-1, 1), requires_grad=False)
    z = L.solve_triangular(chol, targets, upper=False)  # L z = y, so yᵀ K⁻¹ y = zᵀ z
    logdet = 2 * ndl.log(ndl.diagonal(chol)).sum()
    return -0.5 * (z * z).sum() - 0.5 * logdet - 0.5 * len(x) * np.log(2 * np.pi)


def gp_gradient():
    """(log p, {name: ∂ log p / ∂ name}) by reverse mode, in float64."""
    leaves = {name: ndl.Tensor(value, dtype="float64") for name, value in HYPER.items()}
    value = log_marginal_likelihood(**leaves)
    grads = ndl.autograd.grad(value, list(leaves.values()))
    return float(value.numpy()), {name: float(g.numpy()) for name, g in zip(leaves, grads)}


def gp_finite_differences(h=1e-6):
    def at(**changes):
        params = {name: ndl.Tensor(value, dtype="float64", requires_grad=False) for name, value in
                  {**HYPER, **changes}.items()}
        return float(log_marginal_likelihood(**params).numpy())

    return {name: (at(**{name: HYPER[name] + h}) - at(**{name: HYPER[name] - h})) / (2 * h) for name in HYPER}


def gp_hand_derived():
    """∂ log p/∂θ = ½ tr((α αᵀ − K⁻¹) ∂K/∂θ), α = K⁻¹ y, in NumPy."""
    ell, s, sigma = HYPER["lengthscale"], HYPER["signal"], HYPER["noise"]
    sq = (X[:, None] - X[None, :]) ** 2
    rbf = s * s * np.exp(-sq / (2 * ell * ell))
    k = rbf + sigma * sigma * np.eye(len(X))
    k_inv = np.linalg.inv(k)
    alpha = k_inv @ Y
    inner = np.outer(alpha, alpha) - k_inv
    derivatives = {"lengthscale": rbf * sq / ell ** 3, "signal": 2 * rbf / s, "noise": 2 * sigma * np.eye(len(X))}
    return {name: 0.5 * np.sum(inner * dk) for name, dk in derivatives.items()}


@worked_example("gp_log_likelihood_gradient")
def test_gp_log_likelihood_gradient_matches_finite_differences_and_the_hand_formula(rows):
    """The table's reverse-mode and finite-difference columns, and agreement with ½ tr((ααᵀ − K⁻¹) ∂K/∂θ)."""
    value, grads = gp_gradient()
    numeric = gp_finite_differences()
    hand = gp_hand_derived()
    keyed = by_key(rows, "quantity", ["log p(y)"] + [f"∂/∂{name}" for name in HYPER], "gp_log_likelihood_gradient")
    assert_stated(value, keyed["log p(y)"]["needle"], "log p(y)")
    for name in HYPER:
        row = keyed[f"∂/∂{name}"]
        assert_stated(grads[name], row["needle"], f"∂/∂{name}, needle")
        assert_stated(numeric[name], row["finite difference"], f"∂/∂{name}, finite differences")
        assert abs(grads[name] - numeric[name]) < 1e-7 * max(1, abs(grads[name]))
        assert abs(grads[name] - hand[name]) < 1e-12 * max(1, abs(hand[name]))


def test_gp_gradient_is_the_same_through_solve_and_logdet_and_through_inv_quad_logdet():
    """The same likelihood written with ndl.linalg.solve and logdet (LU), or with the fused
    inv_quad_logdet, has the same gradient."""
    leaves = [ndl.Tensor(HYPER[name], dtype="float64") for name in HYPER]
    k = rbf_kernel(X, *leaves)
    y = ndl.Tensor(Y, requires_grad=False)
    value = -0.5 * (y * L.solve(k, y)).sum() - 0.5 * L.logdet(k) - 0.5 * len(X) * np.log(2 * np.pi)
    quad, logdet = L.inv_quad_logdet(k, y)
    fused = -0.5 * quad - 0.5 * logdet - 0.5 * len(X) * np.log(2 * np.pi)
    _, expected = gp_gradient()
    for result in (value, fused):
        for name, g in zip(HYPER, ndl.autograd.grad(result, leaves)):
            assert abs(float(g.numpy()) - expected[name]) < 1e-12


def test_gp_hessian_of_the_likelihood_is_symmetric_and_matches_finite_differences_of_the_gradient():
    """Second order through cholesky and the triangular solves: the Hessian in the three hyper-parameters."""
    theta = np.array([HYPER[name] for name in HYPER])

    def f(t):
        return log_marginal_likelihood(t[0], t[1], t[2])

    hessian = ndl.func.hessian(f)(theta).numpy()
    grad = ndl.func.grad(f)
    h = 1e-5
    numeric = np.stack([
        (grad(theta + h * e).numpy() - grad(theta - h * e).numpy()) / (2 * h) for e in np.eye(3)
    ])
    np.testing.assert_allclose(hessian, hessian.T, atol=1e-10)
    np.testing.assert_allclose(hessian, numeric, rtol=1e-6, atol=1e-7)


# ---- Newton's method on a small logistic regression ----------------------------------------------

FEATURES = np.array([[1, 0.5], [1, -1.5], [1, 2.0], [1, -0.3], [1, 1.2], [1, -2.2]])
LABELS = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
RIDGE = 0.1


def logistic_loss(w):
    """mean softplus(−(2t − 1) x·w) + (λ/2)|w|²: the negative log-likelihood with an L2 penalty."""
    margins = ndl.matmul(ndl.Tensor(FEATURES, requires_grad=False), w) * ndl.Tensor(2 * LABELS - 1, requires_grad=False)
    # log(1 + e^−m) = log(1 + e^m) − m, stable for the margins here
    return ndl.log(1 + ndl.exp(-margins)).mean() + 0.5 * RIDGE * (w * w).sum()


def newton_step(w):
    """w − H⁻¹ g with g and H = ndl.func.hessian from needle."""
    g = ndl.func.grad(logistic_loss)(w).numpy()
    h = ndl.func.hessian(logistic_loss)(w).numpy()
    return w - np.linalg.solve(h, g)


def hand_newton_step(w):
    """g = Xᵀ(p − t)/m + λw, H = Xᵀ diag(p(1 − p)) X/m + λI, p = σ(Xw)."""
    m = len(LABELS)
    p = 1 / (1 + np.exp(-FEATURES @ w))
    g = FEATURES.T @ (p - LABELS) / m + RIDGE * w
    h = FEATURES.T @ (FEATURES * (p * (1 - p))[:, None]) / m + RIDGE * np.eye(2)
    return w - np.linalg.solve(h, g)


@worked_example("newton_logistic_regression")
def test_newton_steps_match_the_hand_derived_step_and_decrease_the_loss(rows):
    keyed = by_key(rows, "step", ["0", "1", "2", "3"], "newton_logistic_regression")
    w = np.zeros(2)
    losses = []
    for step in range(4):
        row = keyed[str(step)]
        loss = float(logistic_loss(ndl.Tensor(w, requires_grad=False)).numpy())
        losses.append(loss)
        assert_stated(w[0], row["w₀"], f"step {step}, w₀")
        assert_stated(w[1], row["w₁"], f"step {step}, w₁")
        assert_stated(loss, row["loss"], f"step {step}, loss")
        following = newton_step(w)
        np.testing.assert_allclose(following, hand_newton_step(w), rtol=1e-12, atol=1e-14)
        w = following
    assert all(later < earlier for earlier, later in zip(losses, losses[1:]))
