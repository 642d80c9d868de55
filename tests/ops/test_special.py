"""Special functions (erf): the case table, values against hand-computed ones and PyTorch, and the
error that names the SciPy extra. The table is empty without SciPy, and its checks are skipped."""
import math
import sys

import numpy as np
import pytest

import needle as ndl
from tests.ops.case import Case
from tests.strategies import shapes

try:
    from scipy.special import erf as scipy_erf
except ImportError:
    scipy_erf = None

needs_scipy = pytest.mark.skipif(scipy_erf is None, reason='erf needs SciPy: pip install "needle[special]"')

CASES = [] if scipy_erf is None else [
    Case(ndl.erf, shapes=[(3, 4)], numpy=scipy_erf, drawn_shapes=shapes(max_side=3).map(lambda s: [s])),
    Case(ndl.erf, shapes=[(2, 5)], numpy=scipy_erf, low=-4.0, high=4.0),  # the flat tails
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


def test_erf_without_scipy_raises_import_error_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.special", None)  # makes the import fail
    with pytest.raises(ImportError, match=r'pip install "needle\[special\]"'):
        ndl.erf(ndl.Tensor(np.ones(2, dtype=np.float32)))
