"""Workload: the gradient of a Gaussian-process log marginal likelihood in its three kernel
hyper-parameters (RBF lengthscale, signal scale, noise), n = 500 points, float64.

Every implementation returns (log p(y), [∂/∂ℓ, ∂/∂s, ∂/∂σ]) for the same data:
- `numpy`: the hand-derived gradient, ½ tr((ααᵀ − K⁻¹) ∂K/∂θ) with α = K⁻¹y (one inverse), and
  log det K from the Cholesky factor;
- `needle`: log p written with `ndl.linalg.solve` and `ndl.linalg.logdet`, differentiated by reverse mode;
- `needle_inv_quad_logdet`: the same with `ndl.linalg.inv_quad_logdet`, one op for yᵀK⁻¹y and log det K
  whose rules reuse its inverse. K is symmetric positive definite, so the op's forward pass factors it
  once by Cholesky and forms K⁻¹ = L⁻ᵀL⁻¹ from the factor in matrix products (about n³ multiply-adds,
  against the 8n³/3 of `np.linalg.inv`'s LU route that the `numpy` row takes); log det K comes from the
  same factor. The same trick written by hand would speed up the `numpy` row as well;
- `needle_cholesky`: the same through `cholesky` and `solve_triangular`, as in hw_notes/gaussian_process.md;
- `torch`: the Cholesky form in PyTorch, differentiated by its autograd.
"""
import numpy as np

import needle as ndl

from .common import optional_import

N = 500
HYPER = (0.7, 1.2, 0.3)  # lengthscale, signal scale, noise


def data(n=N, seed=0):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-5, 5, n))
    y = np.sin(x) + 0.3 * rng.standard_normal(n)
    return x, y


def numpy_gradient(x, y, hyper=HYPER):
    """log p and its gradient by the hand formula: one Cholesky (log det) and one inverse."""
    ell, s, sigma = hyper
    sq = (x[:, None] - x[None, :]) ** 2
    rbf = s * s * np.exp(sq * (-0.5 / (ell * ell)))
    k = rbf + sigma * sigma * np.eye(len(x))
    k_inv = np.linalg.inv(k)
    alpha = k_inv @ y
    logdet = 2 * np.sum(np.log(np.diagonal(np.linalg.cholesky(k))))
    value = -0.5 * y @ alpha - 0.5 * logdet - 0.5 * len(x) * np.log(2 * np.pi)
    inner = np.outer(alpha, alpha) - k_inv
    weighted = inner * rbf
    grads = [
        0.5 * np.sum(weighted * sq) / ell ** 3,  # ∂K/∂ℓ = K_rbf ∘ d² / ℓ³
        np.sum(weighted) / s,  # ∂K/∂s = 2 K_rbf / s
        sigma * np.trace(inner),  # ∂K/∂σ = 2σ I
    ]
    return float(value), [float(g) for g in grads]


def _needle_kernel(x, ell, s, sigma):
    """K = s² exp(d² · (−½/ℓ²)) + σ² I: the scalar factors are formed first (0-d), as the NumPy row does."""
    sq = ndl.Tensor.from_numpy((x[:, None] - x[None, :]) ** 2)
    eye = ndl.Tensor.from_numpy(np.eye(len(x)))
    return (s * s) * ndl.exp(sq * (-0.5 / (ell * ell))) + (sigma * sigma) * eye


def needle_gradient(x, y, hyper=HYPER):
    """log p = −½ yᵀ solve(K, y) − ½ logdet K − (n/2) log 2π, reverse mode."""
    leaves = [ndl.Tensor(h, dtype="float64") for h in hyper]
    k = _needle_kernel(x, *leaves)
    targets = ndl.Tensor(y, requires_grad=False)
    value = -0.5 * (targets * ndl.linalg.solve(k, targets)).sum() - 0.5 * ndl.linalg.logdet(k) \
        - 0.5 * len(x) * np.log(2 * np.pi)
    grads = ndl.autograd.grad(value, leaves)
    return float(value.numpy()), [float(g.numpy()) for g in grads]


def needle_inv_quad_logdet_gradient(x, y, hyper=HYPER):
    """log p = −½ inv_quad − ½ logdet from one `inv_quad_logdet` op."""
    leaves = [ndl.Tensor(h, dtype="float64") for h in hyper]
    quad, logdet = ndl.linalg.inv_quad_logdet(_needle_kernel(x, *leaves), ndl.Tensor(y, requires_grad=False))
    value = -0.5 * quad - 0.5 * logdet - 0.5 * len(x) * np.log(2 * np.pi)
    grads = ndl.autograd.grad(value, leaves)
    return float(value.numpy()), [float(g.numpy()) for g in grads]


def needle_cholesky_gradient(x, y, hyper=HYPER):
    """The same through K = L Lᵀ: z = L⁻¹y, log det K = 2 Σ log L_ii."""
    leaves = [ndl.Tensor(h, dtype="float64") for h in hyper]
    chol = ndl.linalg.cholesky(_needle_kernel(x, *leaves))
    z = ndl.linalg.solve_triangular(chol, ndl.Tensor(y.reshape(-1, 1), requires_grad=False), upper=False)
    value = -0.5 * (z * z).sum() - ndl.log(ndl.diagonal(chol)).sum() - 0.5 * len(x) * np.log(2 * np.pi)
    grads = ndl.autograd.grad(value, leaves)
    return float(value.numpy()), [float(g.numpy()) for g in grads]


def torch_gradient(x, y, hyper=HYPER):
    torch = optional_import("torch")
    leaves = [torch.tensor(h, dtype=torch.float64, requires_grad=True) for h in hyper]
    ell, s, sigma = leaves
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    sq = (xt[:, None] - xt[None, :]) ** 2
    k = (s * s) * torch.exp(sq * (-0.5 / (ell * ell))) + (sigma * sigma) * torch.eye(len(x), dtype=torch.float64)
    chol = torch.linalg.cholesky(k)
    z = torch.linalg.solve_triangular(chol, yt[:, None], upper=False)
    value = -0.5 * (z * z).sum() - torch.log(torch.diagonal(chol)).sum() - 0.5 * len(x) * np.log(2 * np.pi)
    grads = torch.autograd.grad(value, leaves)
    return float(value.detach()), [float(g) for g in grads]


GRADIENT = {
    "numpy": numpy_gradient,
    "needle": needle_gradient,
    "needle_inv_quad_logdet": needle_inv_quad_logdet_gradient,
    "needle_cholesky": needle_cholesky_gradient,
    "torch": torch_gradient,
}
