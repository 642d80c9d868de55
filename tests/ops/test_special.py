"""Special functions (erf, erfc, erfinv, lgamma, digamma, polygamma): the case table, values against
hand-computed ones and PyTorch, and the error that names the SciPy extra. The table is empty without
SciPy, and its checks are skipped."""
import math
import sys

import numpy as np
import pytest

import needle as ndl
from tests.ops.case import Case
from tests.strategies import shapes

try:
    from scipy import special as scipy_special
    from scipy.special import erf as scipy_erf
except ImportError:
    scipy_erf = scipy_special = None

needs_scipy = pytest.mark.skipif(scipy_erf is None, reason='erf needs SciPy: pip install "needle[special]"')

CASES = [] if scipy_erf is None else [
    Case(ndl.erf, shapes=[(3, 4)], numpy=scipy_erf, drawn_shapes=shapes(max_side=3).map(lambda s: [s])),
    Case(ndl.erf, shapes=[(2, 5)], numpy=scipy_erf, low=-4.0, high=4.0),  # the flat tails
    Case(ndl.erfc, shapes=[(3, 4)], numpy=scipy_special.erfc, low=-3.0, high=3.0),
    Case(ndl.erfinv, shapes=[(3, 4)], numpy=scipy_special.erfinv, low=-0.9, high=0.9),
    Case(ndl.lgamma, shapes=[(3, 4)], numpy=scipy_special.gammaln, low=0.5, high=4.0),
    Case(ndl.digamma, shapes=[(3, 4)], numpy=scipy_special.psi, low=0.5, high=4.0),
    Case(lambda a: ndl.polygamma(1, a), shapes=[(3, 4)], numpy=lambda a: scipy_special.polygamma(1, a),
         low=0.5, high=3.0, name="polygamma_1"),
    Case(lambda a: ndl.polygamma(0, a), shapes=[(2, 3)], numpy=scipy_special.psi, low=0.5, high=3.0,
         name="polygamma_0"),
]


@needs_scipy
def test_erf_matches_hand_computed_values():
    x = ndl.Tensor(np.array([0.0, 0.5, 1.0, -2.0, np.inf, -np.inf], dtype=np.float32))
    # erf(a) = 2/√π Σ (−1)^n a^(2n+1) / (n!(2n+1)), summed to 40 terms for the finite points
    series = [
        2 / math.sqrt(math.pi) * sum((-1) ** n * a ** (2 * n + 1) / (math.factorial(n) * (2 * n + 1))
                                     for n in range(40))
        for a in (0.0, 0.5, 1.0, -2.0)
    ]
    np.testing.assert_allclose(ndl.erf(x).numpy(), series + [1.0, -1.0], rtol=1e-6, atol=1e-7)
    assert ndl.erf(x).dtype == np.float32


@needs_scipy
def test_erf_gradient_is_two_over_root_pi_times_gaussian():
    x = ndl.Tensor(np.array([-1.5, 0.0, 0.3, 1e4], dtype=np.float64))
    ndl.erf(x).sum().backward()
    expected = 2 / math.sqrt(math.pi) * np.exp(-x.numpy() ** 2)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)
    assert np.isfinite(x.grad.numpy()).all()


@needs_scipy
def test_erf_matches_pytorch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).uniform(-3, 3, size=(4, 5))
    x = ndl.Tensor(a)
    ndl.erf(x).sum().backward()
    t = torch.tensor(a, requires_grad=True)
    torch.erf(t).sum().backward()
    np.testing.assert_allclose(ndl.erf(ndl.Tensor(a)).numpy(), torch.erf(t).detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


SPECIAL_FUNCTIONS = [ndl.erf, ndl.erfc, ndl.erfinv, ndl.lgamma, ndl.digamma, lambda a: ndl.polygamma(2, a)]


@pytest.mark.parametrize("fn", SPECIAL_FUNCTIONS, ids=["erf", "erfc", "erfinv", "lgamma", "digamma", "polygamma"])
def test_special_functions_without_scipy_raise_import_error_naming_the_extra(monkeypatch, fn):
    monkeypatch.setitem(sys.modules, "scipy.special", None)  # makes the import fail
    name = "polygamma" if fn is SPECIAL_FUNCTIONS[-1] else fn.__name__
    with pytest.raises(ImportError, match=rf'^{name}: needs SciPy; install it with pip install "needle\[special\]"'):
        fn(ndl.Tensor(np.full(2, 0.5, dtype=np.float32)))


@needs_scipy
def test_special_functions_keep_float32():
    x = ndl.Tensor(np.float32([0.25, 0.5]))
    for fn in SPECIAL_FUNCTIONS:
        y = fn(x)
        (g,) = ndl.autograd.grad(y.sum(), [x])
        assert y.dtype == np.float32 and g.dtype == np.float32


@needs_scipy
def test_lgamma_digamma_polygamma_chain_matches_known_values():
    """lgamma(1) = 0, ψ(1) = −γ, ψ⁽¹⁾(1) = π²/6, ψ⁽²⁾(1) = −2ζ(3): each the derivative of the one
    before."""
    x = ndl.Tensor(np.array([1.0]))
    (d1,) = ndl.autograd.grad(ndl.lgamma(x), [x], create_graph=True)
    (d2,) = ndl.autograd.grad(d1, [x], create_graph=True)
    (d3,) = ndl.autograd.grad(d2, [x])
    np.testing.assert_allclose([ndl.lgamma(x).numpy()[0], d1.numpy()[0], d2.numpy()[0], d3.numpy()[0]],
                               [0.0, -0.5772156649015329, np.pi ** 2 / 6, -2 * 1.2020569031595942],
                               rtol=1e-12, atol=1e-15)


@needs_scipy
def test_erfinv_inverts_erf_and_erfc_keeps_the_right_tail():
    a = np.array([-0.99, -0.3, 0.0, 0.5, 0.999])
    np.testing.assert_allclose(ndl.erf(ndl.erfinv(ndl.Tensor(a))).numpy(), a, rtol=1e-12, atol=1e-15)
    assert ndl.erfc(ndl.Tensor(np.array([10.0]))).numpy()[0] == pytest.approx(2.088487583762545e-45, rel=1e-12)


def test_polygamma_rejects_a_bad_order():
    with pytest.raises(ValueError, match="^polygamma: n must be an integer >= 0, got -1"):
        ndl.polygamma(-1, ndl.Tensor(np.ones(2)))
