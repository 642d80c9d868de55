"""Case table and properties for the scans (cumsum)."""
import numpy as np
import pytest
from hypothesis import given

import needle as ndl
from tests.ops.case import Case
from tests.strategies import float32_arrays, shapes

CASES = [
    Case(ndl.cumsum, shapes=[(3, 4)], numpy=lambda a, dim: np.cumsum(a, dim), kwargs={"dim": 1}),
    Case(ndl.cumsum, shapes=[(2, 3, 4)], numpy=lambda a, axes: np.cumsum(a, axes), kwargs={"axes": 0}),
    Case(ndl.cumsum, shapes=[(5,)], numpy=lambda a, axis: np.cumsum(a, axis), kwargs={"axis": -1}),
    Case(ndl.cumsum, shapes=[()], numpy=lambda a, dim: a.copy(), kwargs={"dim": 0}),
    Case(lambda a: ndl.cumsum(a * a, 1), shapes=[(2, 3)], numpy=lambda a: np.cumsum(a * a, 1),
         name="cumsum_of_square"),
]


@given(x=float32_arrays(shapes(min_dims=1, max_dims=3), -5.0, 5.0))
def test_cumsum_adjoint_is_the_reversed_running_sum(x):
    axis = x.ndim - 1
    leaf = ndl.Tensor(x)
    seed = np.arange(x.size, dtype=np.float32).reshape(x.shape)
    (g,) = ndl.autograd.grad(ndl.cumsum(leaf, axis), [leaf], out_grad=ndl.Tensor(seed))
    expected = np.flip(np.cumsum(np.flip(seed, axis), axis), axis)
    np.testing.assert_allclose(g.numpy(), expected, rtol=1e-6)


def test_cumsum_needs_its_axis_and_names_a_bad_one():
    x = ndl.Tensor(np.ones((2, 3), dtype=np.float32))
    with pytest.raises(TypeError, match="^cumsum: the axis is missing"):
        ndl.cumsum(x)
    with pytest.raises(ValueError, match="^cumsum: axis 2 is out of range for 2 dimensions"):
        ndl.cumsum(x, 2)


def test_cumsum_of_integers_stays_integer():
    out = ndl.cumsum(ndl.Tensor(np.array([1, 2, 3])), 0)
    assert out.dtype == np.int64 and out.numpy().tolist() == [1, 3, 6] and not out.requires_grad
