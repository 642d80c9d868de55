"""`Subset`, a dataset seen through a list of indices, and `random_split` into disjoint Subsets."""
import math
import numbers
import operator
import warnings

import numpy as np

from .dataset import Dataset

__all__ = ["Subset", "random_split"]


class Subset(Dataset):
    """The examples of `dataset` at `indices`, in that order: subset[k] is dataset[indices[k]].

    Read the way its dataset is read: with index arrays when the dataset is `batched`, one int at a
    time otherwise. Indices may be negative, counting from the end, and are stored non-negative.
    """

    def __init__(self, dataset, indices):
        super().__init__()
        size = len(dataset)
        indices = np.asarray(indices)
        if indices.size == 0:
            indices = indices.astype(np.int64)
        if indices.ndim != 1 or indices.dtype.kind not in "iu":
            raise TypeError(f"Subset: indices must be a 1-D list of ints, got dtype {indices.dtype} "
                            f"and shape {indices.shape}")
        outside = (indices < -size) | (indices >= size)
        if outside.any():
            raise IndexError(f"Subset: index {indices[outside][0]} is out of range for a dataset of {size}")
        self.dataset = dataset
        self.indices = np.where(indices < 0, indices + size, indices).astype(np.int64)

    @property
    def batched(self):
        return getattr(self.dataset, "batched", False)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)):
            return self.dataset[int(self.indices[index])]
        return self.dataset[self.indices[index]]


def random_split(dataset, lengths, generator=None, *, seed=None):
    """Disjoint Subsets of `dataset` with the given lengths, over one random permutation of it.

    `lengths` are ints that sum to len(dataset), or floats (fractions) that sum to 1: each split
    gets floor(fraction * N) examples and the remainder goes one each to the first splits, as in
    PyTorch. The permutation is one `permutation(N)` from `generator` (a NumPy Generator or
    RandomState), from `np.random.default_rng(seed)` when `seed` is given, else from NumPy's global RNG.
    """
    if generator is not None and seed is not None:
        raise TypeError("random_split: give a generator or a seed, not both")
    if generator is not None and not isinstance(generator, (np.random.Generator, np.random.RandomState)):
        raise TypeError(f"random_split: generator must be a NumPy Generator or RandomState, "
                        f"got {type(generator).__name__}")
    size = len(dataset)
    lengths = _split_lengths(list(lengths), size)
    if seed is not None:
        generator = np.random.default_rng(seed)
    order = (generator or np.random).permutation(size)
    bounds = np.cumsum([0] + lengths)
    return [Subset(dataset, order[start:stop]) for start, stop in zip(bounds[:-1], bounds[1:])]


def _split_lengths(lengths, size):
    """The split sizes as ints summing to `size`, from ints or from fractions summing to 1."""
    if not lengths:
        raise ValueError("random_split: lengths is empty")
    if any(isinstance(n, bool) or not isinstance(n, numbers.Real) for n in lengths):
        raise TypeError(f"random_split: lengths must be ints or fractions, got {lengths}")
    if all(isinstance(n, numbers.Integral) for n in lengths):
        counts = [operator.index(n) for n in lengths]
        if min(counts) < 0 or sum(counts) != size:
            raise ValueError(f"random_split: lengths {counts} must be >= 0 and sum to the dataset's "
                             f"length {size}")
        return counts
    if min(lengths) < 0 or max(lengths) > 1 or not math.isclose(sum(lengths), 1.0):
        raise ValueError(f"random_split: fractions {lengths} must lie in [0, 1] and sum to 1")
    counts = [int(np.floor(size * fraction)) for fraction in lengths]
    for k in range(size - sum(counts)):
        counts[k % len(counts)] += 1
    for k, count in enumerate(counts):
        if count == 0:
            warnings.warn(f"random_split: split {k} of fractions {lengths} holds no examples", stacklevel=3)
    return counts
