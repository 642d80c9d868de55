"""Datasets: the abstract `Dataset` with its transform pipeline, `NDArrayDataset` over arrays and
`TensorDataset` over Tensors."""
import numpy as np

from ..autograd import Tensor

__all__ = ["Dataset", "NDArrayDataset", "TensorDataset"]


class Dataset:
    """An indexable collection of examples; `transforms` is a list of callables applied in order.

    A `DataLoader` reads a dataset in one of two ways, chosen by the class attribute `batched`:

    - `batched = False` (the default, PyTorch's style): `__getitem__` takes one int and returns one
      example, e.g. a tuple or dict of arrays, Tensors and numbers. The loader asks `dataset[i]`
      for each index of a batch and stacks the examples with `default_collate`.
    - `batched = True` (the course's datasets: `NDArrayDataset`, `TensorDataset`, `MNISTDataset`):
      `__getitem__` also takes an integer index array and returns the whole batch, arrays whose
      first axis is the batch. The loader asks `dataset[index_array]` once per batch.

    Objects that are not Datasets (a list of examples) are read one example at a time, and so is
    every dataset when the loader has a `collate_fn`. A `Subset` is read as its dataset is.

    >>> class Squares(Dataset):
    ...     def __len__(self):
    ...         return 4
    ...     def __getitem__(self, i):
    ...         return float(i), i * i
    >>> x, y = next(iter(DataLoader(Squares(), batch_size=4)))
    >>> y.numpy()
    array([0, 1, 4, 9])
    """

    batched = False
    transforms = None  # a subclass that skips `super().__init__()` still has no transforms

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

    batched = True

    def __init__(self, *arrays):
        super().__init__()
        self.arrays = _same_length(type(self).__name__, [np.asarray(a) for a in arrays])

    def __len__(self):
        return self.arrays[0].shape[0]

    def __getitem__(self, index):
        if _counts_up_by_one(index, len(self)):  # an unshuffled batch: a view, as a slice gives
            index = slice(int(index[0]), int(index[-1]) + 1)
        return tuple(a[index] for a in self.arrays)


class TensorDataset(NDArrayDataset):
    """Tensors (or arrays) sharing their first axis: item i is (t[i] for t in tensors), as Tensors.

    `i` may be an int, a slice or an integer index array. The items are constant Tensors over the
    stored data (no copy, no graph), as a dataset holds data rather than a computation.
    """

    def __init__(self, *tensors):
        arrays = [t.numpy() if isinstance(t, Tensor) else t for t in tensors]
        super().__init__(*arrays)

    def __getitem__(self, index):
        return tuple(Tensor.from_numpy(part) for part in super().__getitem__(index))


def _same_length(name, arrays):
    """`arrays` as a tuple, after checking there is one at least and all share their first axis."""
    if not arrays:
        raise ValueError(f"{name}: needs at least one array")
    if any(a.ndim == 0 for a in arrays):
        raise ValueError(f"{name}: every array needs a first axis, got a 0-d array")
    if len({a.shape[0] for a in arrays}) > 1:
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ValueError(f"{name}: arrays {shapes} differ in length along axis 0")
    return tuple(arrays)


def _counts_up_by_one(index, length):
    """Whether `index` is an integer array k, k+1, …, m within [0, length): a slice in disguise.

    Integers that strictly increase and span exactly size − 1 are consecutive.
    """
    return (
        type(index) is np.ndarray and index.ndim == 1 and index.size > 1
        and index.dtype.kind in "iu" and 0 <= index[0] and index[-1] < length
        and index[-1] - index[0] == index.size - 1 and bool((index[1:] > index[:-1]).all())
    )
