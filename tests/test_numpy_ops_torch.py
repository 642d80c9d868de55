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


def _with_zeros(rng):
    a = rng.uniform(-2, 2, size=(3, 4))
    a[0, 1] = a[1, 0] = a[1, 2] = 0
    return [a]


def _wide_range(rng):
    a = rng.uniform(-2, 2, size=(3, 4))
    a[:, 0] = [-100.0, -80.0, -300.0]
    return [a]


INDEX = np.array([[2, 0, 1, 1], [0, 1, 2, 0]])  # distinct per column, so PyTorch's scatter is defined
REPEATED = np.array([[2, 0, 1, 1], [2, 1, 1, 0]])  # repeats add up in scatter_add
TAKE = np.array([[0, 2, 1, 2], [1, 1, 0, 0], [3, 2, 1, 0]])

ROWS += [
    ("cumprod", lambda a: ndl.cumprod(a, 1), lambda t: torch.cumprod(t, 1), uniform(-2, 2, (3, 4)), False),
    ("cumprod_zeros", lambda a: ndl.cumprod(a, 1), lambda t: torch.cumprod(t, 1), _with_zeros, False),
    ("logcumsumexp", lambda a: ndl.logcumsumexp(a, 1), lambda t: torch.logcumsumexp(t, 1),
     uniform(-3, 3, (3, 4)), False),
    ("logcumsumexp_wide_range", lambda a: ndl.logcumsumexp(a, 1), lambda t: torch.logcumsumexp(t, 1),
     _wide_range, False),
    ("sort", lambda a: ndl.sort(a, 0, descending=True).values, lambda t: torch.sort(t, 0, descending=True).values,
     uniform(-2, 2, (3, 4)), False),
    ("topk", lambda a: ndl.topk(a, 2).values, lambda t: torch.topk(t, 2).values, uniform(-2, 2, (3, 4)), False),
    ("take_along_dim", lambda a: ndl.take_along_dim(a, TAKE, 1),
     lambda t: torch.take_along_dim(t, torch.tensor(TAKE), 1), uniform(-2, 2, (3, 4)), False),
    ("take", lambda a: ndl.take(a, TAKE), lambda t: torch.take(t, torch.tensor(TAKE)),
     uniform(-2, 2, (3, 4)), False),
    ("scatter", lambda a, src: ndl.scatter(a, 0, INDEX, src),
     lambda t, src: torch.scatter(t, 0, torch.tensor(INDEX), src),
     uniform(-2, 2, (3, 4), (2, 4)), False),  # PyTorch's double backward needs src shaped like index
    ("scatter_add", lambda a, src: ndl.scatter(a, 0, REPEATED, src, reduce="add"),
     lambda t, src: torch.scatter_add(t, 0, torch.tensor(REPEATED), src), uniform(-2, 2, (3, 4), (2, 4)), False),
    ("roll", lambda a: ndl.roll(a, (1, -1), (0, 1)), lambda t: torch.roll(t, (1, -1), (0, 1)),
     uniform(-2, 2, (3, 4)), False),
    ("tile", lambda a: ndl.tile(a, (2, 1, 2)), lambda t: torch.tile(t, (2, 1, 2)), uniform(-2, 2, (3, 4)), False),
    ("repeat", lambda a: ndl.repeat(a, 2, 1), lambda t: t.repeat(2, 1), uniform(-2, 2, (3, 4)), False),
    ("repeat_interleave", lambda a: ndl.repeat_interleave(a, 2, dim=1),
     lambda t: torch.repeat_interleave(t, 2, dim=1), uniform(-2, 2, (3, 4)), False),
    ("movedim", lambda a: ndl.movedim(a, 0, -1), lambda t: torch.movedim(t, 0, -1), uniform(-2, 2, (2, 3, 4)), False),
    ("swapaxes", lambda a: ndl.swapaxes(a, 0, 2), lambda t: torch.swapaxes(t, 0, 2), uniform(-2, 2, (2, 3, 4)), False),
    ("tril", lambda a: ndl.tril(a, -1), lambda t: torch.tril(t, -1), uniform(-2, 2, (3, 4)), False),
    ("triu", lambda a: ndl.triu(a, 1), lambda t: torch.triu(t, 1), uniform(-2, 2, (2, 3, 3)), False),
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


def test_tensor_methods_call_the_ops_of_their_names():
    """x.log1p(), x.cumprod(1), x.sort(), ...: PyTorch's Tensor methods, each the op of its name."""
    x = ndl.Tensor(np.float32([[0.3, 0.1, 0.6], [0.2, 0.5, 0.4]]))
    unary = ["log1p", "expm1", "log2", "log10", "exp2", "square", "reciprocal", "rsqrt", "sign", "tan", "asin",
             "acos", "atan", "sinh", "cosh", "asinh", "atanh", "sinc"]
    for name in unary:
        np.testing.assert_array_equal(getattr(x, name)().numpy(), getattr(ndl, name)(x).numpy(), err_msg=name)
    np.testing.assert_array_equal((x + 1).acosh().numpy(), ndl.acosh(x + 1).numpy())
    np.testing.assert_array_equal(x.atan2(x + 1).numpy(), ndl.atan2(x, x + 1).numpy())
    np.testing.assert_array_equal(x.xlogy(x).numpy(), ndl.xlogy(x, x).numpy())
    np.testing.assert_array_equal(x.cumprod(1).numpy(), np.cumprod(x.numpy(), 1))
    np.testing.assert_array_equal(x.sort(dim=1).indices.numpy(), np.argsort(x.numpy(), 1))
    np.testing.assert_array_equal(x.topk(1, dim=0).values.numpy(), x.numpy().max(0, keepdims=True))
    np.testing.assert_array_equal(x.roll(1, 1).numpy(), np.roll(x.numpy(), 1, 1))
    np.testing.assert_array_equal(x.movedim(0, 1).numpy(), x.numpy().T)
    np.testing.assert_array_equal(x.triu().numpy(), np.triu(x.numpy()))
    np.testing.assert_array_equal(x.take(np.array([5])).numpy(), np.float32([0.4]))
    assert x.moveaxis is not None and ndl.Tensor.arcsin is ndl.Tensor.asin
