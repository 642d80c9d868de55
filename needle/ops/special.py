"""Special functions, elementwise: erf and erfc (the exact GELU is x·(1 + erf(x/√2))/2), erfinv,
lgamma, digamma and polygamma.

The values come from SciPy (`scipy.special`), imported when such an op first runs; without SciPy
they raise an ImportError naming the extra, `pip install "needle[special]"`. The derivatives are
needle ops: lgamma' = digamma, digamma' = polygamma(1, ·), polygamma(n, ·)' = polygamma(n + 1, ·).
"""
import importlib
import math

import numpy as np

from .elementwise import ElementwiseFunction, exp

__all__ = [
    "Erf", "erf", "Erfc", "erfc", "Erfinv", "erfinv", "Lgamma", "lgamma", "gammaln",
    "Digamma", "digamma", "psi", "Polygamma", "polygamma",
]

_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _scipy_special(op_name, name):
    """`scipy.special.<name>`, imported on first use; an ImportError naming the extra without SciPy."""
    try:
        module = importlib.import_module("scipy.special")
    except ImportError as error:
        raise ImportError(f'{op_name}: needs SciPy; install it with pip install "needle[special]"') from error
    return getattr(module, name)


def _scipy_erf():
    return _scipy_special("erf", "erf")


def _same_dtype(out, a):
    """SciPy's result in the input's floating dtype (float32 stays float32)."""
    out = np.asarray(out)
    if a.dtype.kind == "f" and out.dtype != a.dtype:
        return out.astype(a.dtype)
    return out


class Erf(ElementwiseFunction):
    """erf a = 2/√π ∫₀^a e^(−t²) dt, elementwise; shape and dtype are kept. d/da = 2/√π·e^(−a²)."""

    def compute(self, a):
        return _scipy_erf()(a)

    def scale_by_derivative(self, v, node):
        a = node.inputs[0]
        return v * exp(-(a * a)) * _TWO_OVER_SQRT_PI


def erf(a):
    return Erf()(a)


class Erfc(ElementwiseFunction):
    """erfc a = 1 − erf a, exact in the right tail (erfc 10 ≈ 2e−45). d/da = −2/√π·e^(−a²)."""

    def compute(self, a):
        return _same_dtype(_scipy_special("erfc", "erfc")(a), a)

    def scale_by_derivative(self, v, node):
        a = node.inputs[0]
        return v * exp(-(a * a)) * -_TWO_OVER_SQRT_PI


def erfc(a):
    return Erfc()(a)


class Erfinv(ElementwiseFunction):
    """The inverse of erf on (−1, 1) (±inf at ±1). d/da = √π/2·e^(y²), from the output y."""

    def compute(self, a):
        return _same_dtype(_scipy_special("erfinv", "erfinv")(a), a)

    def scale_by_derivative(self, v, node):
        return v * exp(node * node) * (1 / _TWO_OVER_SQRT_PI)


def erfinv(a):
    return Erfinv()(a)


class Lgamma(ElementwiseFunction):
    """ln|Γ(a)| (SciPy's gammaln, PyTorch's lgamma). d/da = ψ(a), the digamma function."""

    def compute(self, a):
        return _same_dtype(_scipy_special("lgamma", "gammaln")(a), a)

    def scale_by_derivative(self, v, node):
        return v * digamma(node.inputs[0])


def lgamma(a):
    return Lgamma()(a)


class Digamma(ElementwiseFunction):
    """ψ(a) = Γ'(a)/Γ(a) (SciPy's psi). d/da = ψ⁽¹⁾(a) = polygamma(1, a)."""

    def compute(self, a):
        return _same_dtype(_scipy_special("digamma", "psi")(a), a)

    def scale_by_derivative(self, v, node):
        return v * polygamma(1, node.inputs[0])


def digamma(a):
    return Digamma()(a)


class Polygamma(ElementwiseFunction):
    """ψ⁽ⁿ⁾(a), the n-th derivative of the digamma function, for an integer n ≥ 0 (n = 0: digamma).
    d/da = ψ⁽ⁿ⁺¹⁾(a), so it is differentiable to any order."""

    def __init__(self, n):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"polygamma: n must be an integer >= 0, got {n!r}")
        self.n = int(n)

    def compute(self, a):
        if self.n == 0:
            return _same_dtype(_scipy_special("polygamma", "psi")(a), a)
        return _same_dtype(_scipy_special("polygamma", "polygamma")(self.n, a), a)

    def scale_by_derivative(self, v, node):
        return v * polygamma(self.n + 1, node.inputs[0])


def polygamma(n, a):
    """ψ⁽ⁿ⁾(a), PyTorch's argument order (n first)."""
    return Polygamma(n)(a)


# SciPy's names.
gammaln, psi = lgamma, digamma
