"""Hypothesis strategies: array shapes, broadcastable shape pairs, reduction axes, float32 arrays, seeds."""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    """Array shapes with `min_dims`..`max_dims` axes of `min_side`..`max_side` entries (0-d included)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4):
    """Tuples of `num_shapes` shapes that broadcast together (size-1 axes, missing leading axes)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side
    ).map(lambda drawn: drawn.input_shapes)


def reduction_axes(ndim):
    """`axes` for an `ndim`-d input: None, one axis, or a tuple of distinct axes; negative ones too."""
    if ndim == 0:
        return st.sampled_from([None, ()])
    axis = st.integers(min_value=-ndim, max_value=ndim - 1)
    distinct = st.lists(axis, min_size=1, max_size=ndim, unique_by=lambda a: a % ndim).map(tuple)
    return st.one_of(st.none(), axis, distinct)


def float32_arrays(shape, low=-2.0, high=2.0):
    """float32 arrays of `shape` (a tuple or a shapes strategy) with entries in [low, high)."""
    elements = st.floats(float(np.float32(low)), float(np.float32(high)), width=32, exclude_max=True)
    return hnp.arrays(np.float32, shape, elements=elements)


def generator_seeds():
    """Seeds for `np.random.default_rng`: one drawn integer stands for a whole set of uniform inputs."""
    return st.integers(min_value=0, max_value=2**32 - 1)
