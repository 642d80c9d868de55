"""`default_collate`: a list of examples stacked into one batch of constant Tensors, as PyTorch's."""
import collections.abc
import numbers

import numpy as np

from ..autograd import Tensor

__all__ = ["default_collate"]


def default_collate(batch):
    """Examples (a list) stacked into a batch with a new first axis, keeping their structure.

    Arrays, Tensors and NumPy scalars stack into one Tensor of their dtype; Python floats become
    float64, ints int64 and bools bool, as in PyTorch. Tuples, lists, named tuples and dicts are
    collated field by field (a tuple stays a tuple); strings are returned as the list they came in.
    """
    if not isinstance(batch, collections.abc.Sequence) or isinstance(batch, (str, bytes)):
        raise TypeError(f"default_collate: needs a list of examples, got {type(batch).__name__}")
    if not batch:
        raise ValueError("default_collate: needs at least one example, got an empty list")
    first = batch[0]
    if isinstance(first, (Tensor, np.ndarray, np.generic)):
        return Tensor.from_numpy(_stack(batch))
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, numbers.Real):
        return Tensor.from_numpy(_numbers(batch))
    if isinstance(first, collections.abc.Mapping):
        return {key: default_collate([example[key] for example in batch]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(example) != len(first) for example in batch):
            lengths = sorted({len(example) for example in batch})
            raise RuntimeError(f"default_collate: examples have different lengths {lengths}; they must agree")
        fields = [default_collate(list(samples)) for samples in zip(*batch)]
        if hasattr(first, "_fields"):  # a named tuple
            return type(first)(*fields)
        return tuple(fields) if isinstance(first, tuple) else fields
    raise TypeError(
        f"default_collate: examples must be arrays, Tensors, numbers, strings, dicts, tuples or "
        f"lists, got {type(first).__name__}"
    )


def _stack(batch):
    """The examples' arrays stacked along a new first axis, each checked to be a numeric array."""
    arrays = [example.numpy() if isinstance(example, Tensor) else np.asarray(example) for example in batch]
    for array in arrays:
        if array.dtype.kind not in "biufc":
            raise TypeError(f"default_collate: arrays of dtype {array.dtype} cannot become Tensors")
    shapes = {array.shape for array in arrays}
    if len(shapes) > 1:
        first, other = arrays[0].shape, next(a.shape for a in arrays if a.shape != arrays[0].shape)
        raise RuntimeError(
            f"default_collate: examples of shapes {first} and {other} cannot be stacked; "
            f"they must share one shape"
        )
    return np.stack(arrays)


def _numbers(batch):
    """Python numbers as one array: bool when all are bools, int64 when all are ints, else float64."""
    for dtype, kind in ((np.bool_, bool), (np.int64, numbers.Integral), (np.float64, numbers.Real)):
        if all(isinstance(number, kind) for number in batch):
            return np.array(batch, dtype=dtype)
    kinds = sorted({type(number).__name__ for number in batch})
    raise TypeError(f"default_collate: examples mix numbers and other things ({', '.join(kinds)})")
