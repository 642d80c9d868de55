"""Special functions: erf, the Gauss error function (the exact GELU is x·(1 + erf(x/√2))/2).

The values come from SciPy, imported when the op first runs; `pip install "needle[special]"` adds it.
"""
import math

from .elementwise import ElementwiseFunction, exp

__all__ = ["Erf", "erf"]

_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _scipy_erf():
    try:
        from scipy.special import erf as scipy_erf
    except ImportError as error:
        raise ImportError('erf: needs SciPy; install it with pip install "needle[special]"') from error
    return scipy_erf


class Erf(ElementwiseFunction):
    """erf a = 2/√π ∫₀^a e^(−t²) dt, elementwise; shape and dtype are kept. d/da = 2/√π·e^(−a²)."""

    def compute(self, a):
        return _scipy_erf()(a)

    def scale_by_derivative(self, v, node):
        a = node.inputs[0]
        return v * exp(-(a * a)) * _TWO_OVER_SQRT_PI


def erf(a):
    return Erf()(a)
