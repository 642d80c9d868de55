"""`DataLoader`: minibatches of a dataset as tuples of constant Tensors, in order or shuffled."""
import operator

import numpy as np

from ..autograd import Tensor

__all__ = ["DataLoader"]


class DataLoader:
    """Batches `dataset[index_array]` of `batch_size` indices each, as tuples of Tensors.

    Without shuffle the batches are consecutive and the last may be short (dropped when `drop_last`).
    needle: with shuffle, each iteration draws exactly one `np.random.permutation(len(dataset))` from
    NumPy's global RNG, when `iter()` is called; nothing else draws.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"DataLoader: batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be positive, got {batch_size}")
        self.dataset = dataset
        self.batch_size = operator.index(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last

    def __len__(self):
        """The number of batches one iteration yields."""
        full, rest = divmod(len(self.dataset), self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self):
        size = len(self.dataset)
        order = np.random.permutation(size) if self.shuffle else np.arange(size)
        return self._batches(order)

    def _batches(self, order):
        stop = len(self) * self.batch_size
        for start in range(0, stop, self.batch_size):
            yield self._batch(order[start:start + self.batch_size])

    def _batch(self, indices):
        items = self.dataset[indices]
        if isinstance(items, np.ndarray):  # a dataset of one array may return it bare
            items = (items,)
        # Batches are inputs, not parameters: constant leaves over the indexed arrays, no copy.
        return tuple(Tensor.from_numpy(item) for item in items)
