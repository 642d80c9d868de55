"""Datasets: the abstract `Dataset` with its transform pipeline, and `NDArrayDataset` over arrays."""
import numpy as np

__all__ = ["Dataset", "NDArrayDataset"]


class Dataset:
    """An indexable collection of examples; `transforms` is a list of callables applied in order."""

    def __init__(self, transforms=None):
        self.transforms = transforms

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__}.__getitem__ is not defined")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__}.__len__ is not defined")

    def apply_transforms(self, x):
        """x passed through each transform in list order: t_k(...t_1(x)); x itself when there are none."""
        if self.transforms is not None:
            for transform in self.transforms:
                x = transform(x)
        return x


class NDArrayDataset(Dataset):
    """Examples stored as arrays sharing their first axis: item i is (a[i] for a in arrays).

    `i` may be an int, a slice or an integer index array; every array is indexed by it alike.
    An index array that counts up by one (a DataLoader's unshuffled batch) reads a view, like the
    slice it equals; any other index array copies, as NumPy does.
    """

    def __init__(self, *arrays):
        super().__init__()
        if not arrays:
            raise ValueError("NDArrayDataset: needs at least one array")
        self.arrays = tuple(np.asarray(a) for a in arrays)
        lengths = [a.shape[0] if a.ndim else None for a in self.arrays]
        if None in lengths:
            raise ValueError("NDArrayDataset: every array needs a first axis, got a 0-d array")
        if len(set(lengths)) > 1:
            shapes = ", ".join(str(a.shape) for a in self.arrays)
            raise ValueError(f"NDArrayDataset: arrays {shapes} differ in length along axis 0")

    def __len__(self):
        return self.arrays[0].shape[0]

    def __getitem__(self, index):
        if _counts_up_by_one(index, len(self)):  # an unshuffled batch: a view, as a slice gives
            index = slice(int(index[0]), int(index[-1]) + 1)
        return tuple(a[index] for a in self.arrays)


def _counts_up_by_one(index, length):
    """Whether `index` is an integer array k, k+1, …, m within [0, length): a slice in disguise.

    Integers that strictly increase and span exactly size − 1 are consecutive.
    """
    return (
        type(index) is np.ndarray and index.ndim == 1 and index.size > 1
        and index.dtype.kind in "iu" and 0 <= index[0] and index[-1] < length
        and index[-1] - index[0] == index.size - 1 and bool((index[1:] > index[:-1]).all())
    )
