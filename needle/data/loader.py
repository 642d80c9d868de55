"""`DataLoader`: minibatches of a dataset as constant Tensors, in order or shuffled."""
import collections.abc
import operator

import numpy as np

from ..autograd import Tensor
from .collate import default_collate
from .distributed import DistributedSampler, check_same_order

__all__ = ["DataLoader"]


class DataLoader:
    """Batches of `batch_size` examples of `dataset`, consecutive or shuffled, as constant Tensors.

    A batch of indices is read one of three ways (the `Dataset` docstring says which datasets are
    `batched`):
    - with `collate_fn`: `collate_fn([dataset[i] for i in indices])`, as in PyTorch;
    - from a `batched` dataset (the course's): `dataset[index_array]`, its arrays as a tuple of
      Tensors (a bare array as a tuple of one), each checked to hold the batch along axis 0;
    - otherwise `default_collate([dataset[i] for i in indices])`: tuples, lists and dicts of stacked
      Tensors in the examples' structure, or one Tensor when each example is one array.

    The last batch may be short; `drop_last` drops it. needle: with shuffle, each iteration draws
    exactly one `np.random.permutation(len(dataset))` from NumPy's global RNG, when `iter()` is
    called; the loader draws nothing else.

    `sampler` (an iterable of indices with a length, such as `DistributedSampler`) replaces that
    order, and excludes `shuffle`. `distributed=True` gives each MPI rank its shard of the order
    above (`DistributedSampler.shard`: disjoint, padded to equal length), `batch_size` being the
    per-rank batch; the ranks must seed NumPy's global RNG alike, which each iteration checks.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None, sampler=None,
                 distributed=False):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"DataLoader: batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be positive, got {batch_size}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got {type(collate_fn).__name__}")
        self.dataset = dataset
        self.batch_size = operator.index(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        if sampler is not None and (shuffle or distributed):
            raise ValueError("DataLoader: sampler cannot be combined with shuffle or distributed (the sampler orders)")
        self.sampler = sampler
        self.distributed = bool(distributed)
        self._shards = DistributedSampler(len(dataset), shuffle=False) if distributed else None

    def __len__(self):
        """The number of batches one iteration yields."""
        if self.sampler is not None or self._shards is not None:
            count = len(self.sampler if self.sampler is not None else self._shards)
        else:
            count = len(self.dataset)
        full, rest = divmod(count, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self):
        if self.sampler is not None:
            return self._batches(np.fromiter(iter(self.sampler), dtype=np.int64, count=len(self.sampler)))
        size = len(self.dataset)
        order = np.random.permutation(size) if self.shuffle else np.arange(size)
        if self._shards is not None:
            check_same_order(order)
            order = self._shards.shard(order)
        return self._batches(order)

    def _batches(self, order):
        stop, size = len(self) * self.batch_size, self.batch_size
        batched = self.collate_fn is None and getattr(self.dataset, "batched", False)
        read = self._read_batched if batched else self._read_examples
        for start in range(0, stop, size):
            yield read(order[start:start + size])

    def _read_examples(self, indices):
        examples = [self.dataset[i] for i in indices.tolist()]
        return (self.collate_fn or default_collate)(examples)

    def _read_batched(self, indices):
        try:
            items = self.dataset[indices]
        except Exception as error:
            if hasattr(error, "add_note"):  # Python 3.11+
                name = type(self.dataset).__name__
                error.add_note(f"DataLoader read {name}[index array]: {_batched_hint(name)}")
            raise
        if isinstance(items, (np.ndarray, Tensor)):  # a dataset of one array may return it bare
            items = (items,)
        return _batch_tensors(items, len(indices), self.dataset)


def _batched_hint(name):
    return f"{name}.batched is True, so its __getitem__ must take an index array and return the batch"


def _batch_tensors(value, size, dataset):
    """`value`'s arrays as constant Tensors over the same data, in its structure (tuples, dicts);
    `dataset` returned it for an index array of `size`.

    Batches are inputs, not parameters: constant leaves over the indexed arrays, no copy. A plain
    array is tested first and an abstract class (Mapping) last: each check costs (workload 1).
    """
    if type(value) is np.ndarray and value.shape[:1] == (size,):
        return Tensor.make_const(value)
    if isinstance(value, (tuple, list)):
        return tuple([_batch_tensors(part, size, dataset) for part in value])
    is_array = isinstance(value, (np.ndarray, Tensor))
    if is_array and value.shape[:1] == (size,):
        return Tensor.from_numpy(value.numpy() if isinstance(value, Tensor) else value)
    if isinstance(value, collections.abc.Mapping):
        return {key: _batch_tensors(part, size, dataset) for key, part in value.items()}
    got = f"shape {value.shape}" if is_array else f"a value of type {type(value).__name__}"
    name = type(dataset).__name__
    raise ValueError(
        f"DataLoader: {name}[index array of {size}] returned {got}, not a batch of {size} along axis 0; "
        f"{_batched_hint(name)}"
    )
