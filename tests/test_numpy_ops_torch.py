"""The NumPy-style ops (elementary, special, scans, sorting, indexing, shape) against PyTorch in float64:
values, gradients and a Hessian-vector product of f(x) = Σ w·y + Σ y²/2 with y = op(x), for every op
with a PyTorch counterpart. Skipped without PyTorch; the special functions also need SciPy."""
import numpy as np
import pytest

import needle as ndl

torch = pytest.importorskip("torch")
F = torch.nn.functional

try:
    import scipy.special  # noqa: F401
    HAS_SCIPY = True
except ImportError:
    HAS_SCIPY = False


def uniform(low, high, *shapes):
    """An input maker: float64 arrays of `shapes` uniform in [low, high)."""
    return lambda rng: [rng.uniform(low, high, size=shape) for shape in shapes]


# (id, needle function, PyTorch function, input maker, needs SciPy)
ROWS = [
    ("log1p", ndl.log1p, torch.log1p, uniform(-0.5, 2, (3, 4)), False),
    ("expm1", ndl.expm1, torch.expm1, uniform(-2, 2, (3, 4)), False),
    ("log2", ndl.log2, torch.log2, uniform(0.5, 3, (3, 4)), False),
    ("log10", ndl.log10, torch.log10, uniform(0.5, 3, (3, 4)), False),
    ("exp2", ndl.exp2, torch.exp2, uniform(-2, 2, (3, 4)), False),
    ("square", ndl.square, torch.square, uniform(-2, 2, (3, 4)), False),
    ("reciprocal", ndl.reciprocal, torch.reciprocal, uniform(0.5, 2, (3, 4)), False),
    ("rsqrt", ndl.rsqrt, torch.rsqrt, uniform(0.5, 3, (3, 4)), False),
    ("sign", ndl.sign, torch.sign, uniform(-2, 2, (3, 4)), False),
    ("tan", ndl.tan, torch.tan, uniform(-1.2, 1.2, (3, 4)), False),
    ("asin", ndl.asin, torch.asin, uniform(-0.9, 0.9, (3, 4)), False),
    ("acos", ndl.acos, torch.acos, uniform(-0.9, 0.9, (3, 4)), False),
    ("atan", ndl.atan, torch.atan, uniform(-3, 3, (3, 4)), False),
    ("atan2", ndl.atan2, torch.atan2, uniform(-2, 2, (3, 4), (4,)), False),
    ("sinh", ndl.sinh, torch.sinh, uniform(-2, 2, (3, 4)), False),
    ("cosh", ndl.cosh, torch.cosh, uniform(-2, 2, (3, 4)), False),
    ("asinh", ndl.asinh, torch.asinh, uniform(-3, 3, (3, 4)), False),
    ("acosh", ndl.acosh, torch.acosh, uniform(1.2, 3, (3, 4)), False),
    ("atanh", ndl.atanh, torch.atanh, uniform(-0.9, 0.9, (3, 4)), False),
    ("softplus", ndl.softplus, F.softplus, uniform(-6, 6, (3, 4)), False),
    ("softplus_beta", lambda a: ndl.softplus(a, beta=2.5), lambda t: F.softplus(t, beta=2.5),
     uniform(-3, 3, (3, 4)), False),
    ("logsigmoid", ndl.logsigmoid, F.logsigmoid, uniform(-6, 6, (3, 4)), False),
    ("logaddexp", ndl.logaddexp, torch.logaddexp, uniform(-3, 3, (3, 4), (3, 1)), False),
    ("hypot", ndl.hypot, torch.hypot, uniform(-2, 2, (3, 4), (4,)), False),
    ("xlogy", ndl.xlogy, torch.xlogy, uniform(0.5, 2, (3, 4), (3, 4)), False),
    # PyTorch's second derivative of sinc is nan at 0 (needle's is −π²/3, tests/ops/test_elementary.py)
    ("sinc", ndl.sinc, torch.sinc, lambda rng: [np.r_[1e-3, -0.1, rng.uniform(-2, 2, 5)]], False),
    ("erf", ndl.erf, torch.erf, uniform(-3, 3, (3, 4)), True),
    ("erfc", ndl.erfc, torch.erfc, uniform(-3, 3, (3, 4)), True),
    ("erfinv", ndl.erfinv, torch.erfinv, uniform(-0.9, 0.9, (3, 4)), True),
    ("lgamma", ndl.lgamma, torch.lgamma, uniform(0.5, 4, (3, 4)), True),
    ("digamma", ndl.digamma, torch.digamma, uniform(0.5, 4, (3, 4)), True),
    ("polygamma", lambda a: ndl.polygamma(2, a), lambda t: torch.polygamma(2, t), uniform(0.5, 3, (3, 4)),
     True),
]


def _objective(op, weight, power):
    """x ↦ Σ w·y + Σ y²/2 for y = op(*x), in whichever library `power` squares."""
    def f(*xs):
        y = op(*xs)
        return (y * weight).sum() + power(y).sum() * 0.5

    return f


@pytest.mark.parametrize("name, ours, theirs, make, scipy_only", ROWS, ids=[row[0] for row in ROWS])
def test_value_gradient_and_hessian_vector_product_match_pytorch(name, ours, theirs, make, scipy_only):
    if scipy_only and not HAS_SCIPY:
        pytest.skip('needs SciPy: pip install "needle[special]"')
    rng = np.random.default_rng(0)
    arrays = make(rng)
    out_shape = tuple(theirs(*[torch.tensor(a) for a in arrays]).shape)
    weight = rng.standard_normal(out_shape)
    directions = [rng.standard_normal(a.shape) for a in arrays]

    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    expected_value = theirs(*ts)
    f_torch = _objective(theirs, torch.tensor(weight), lambda y: y * y)
    grads = torch.autograd.grad(f_torch(*ts), ts, create_graph=True)
    inner = sum((g * torch.tensor(v)).sum() for g, v in zip(grads, directions))
    if inner.requires_grad:
        expected_hvp = torch.autograd.grad(inner, ts, allow_unused=True, materialize_grads=True)
    else:  # a piecewise-constant op (sign): the gradient is a constant
        expected_hvp = [torch.zeros_like(t) for t in ts]

    value = ours(*[ndl.Tensor(a) for a in arrays])
    f_ours = _objective(ours, ndl.Tensor(weight, requires_grad=False), lambda y: y * y)
    argnums = tuple(range(len(arrays)))
    ours_grads = ndl.func.grad(f_ours, argnums)(*arrays)
    ours_hvp = ndl.func.hvp(f_ours, tuple(arrays), tuple(directions))

    assert value.dtype == np.float64
    np.testing.assert_allclose(value.numpy(), expected_value.detach().numpy(), rtol=1e-10, atol=1e-12)
    for i in argnums:
        np.testing.assert_allclose(ours_grads[i].numpy(), grads[i].detach().numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=f"{name}: gradient of input {i}")
        np.testing.assert_allclose(ours_hvp[i].numpy(), expected_hvp[i].numpy(), rtol=1e-8, atol=1e-10,
                                   err_msg=f"{name}: Hessian-vector product, input {i}")
