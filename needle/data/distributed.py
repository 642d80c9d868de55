"""DistributedSampler: each MPI rank's disjoint shard of a dataset's indices, the same order on every rank."""
import operator
import zlib

import numpy as np

from ..distributed import world

__all__ = ["DistributedSampler", "check_same_order"]


def _count(name, value, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"DistributedSampler: {name} must be an int >= {low}, got {value!r}")
    return operator.index(value)


class DistributedSampler:
    """The indices of rank `rank`'s shard of `dataset` (or of `range(dataset)` for an int), one epoch at a time.

    Each epoch every rank takes the same order of all indices, a permutation drawn from
    `np.random.default_rng((seed, epoch))` with shuffle (call `set_epoch` before each epoch for a
    new one), else 0..n−1, and keeps positions rank, rank + R, rank + 2R, … (R ranks): the shards are
    disjoint and of equal length. When R does not divide n the order is padded by repeating its
    first indices (every example is seen, a few twice), or with `drop_last` cut to a multiple of R.
    With consecutive batches of B/R, the union of the ranks' k-th batches is then the k-th batch of
    B of the whole order. `num_replicas` and `rank` default to the world's.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        self.size = _count("the dataset length", dataset if isinstance(dataset, (int, np.integer)) else len(dataset), 0)
        self.num_replicas = world.world_size() if num_replicas is None else _count("num_replicas", num_replicas, 1)
        self.rank = world.rank() if rank is None else _count("rank", rank, 0)
        if self.rank >= self.num_replicas:
            raise ValueError(f"DistributedSampler: rank {self.rank} is not below num_replicas {self.num_replicas}")
        self.shuffle = bool(shuffle)
        self.seed = _count("seed", seed, 0)
        self.drop_last = bool(drop_last)
        self.epoch = 0
        if self.drop_last:
            self.num_samples = self.size // self.num_replicas
        else:
            self.num_samples = -(-self.size // self.num_replicas)
        if self.num_samples == 0 and self.size:
            raise ValueError(
                f"DistributedSampler: {self.size} examples cannot give each of {self.num_replicas} ranks one "
                "with drop_last"
            )

    def set_epoch(self, epoch):
        """Use the permutation of epoch `epoch` next (the same on every rank that sets the same epoch)."""
        self.epoch = _count("epoch", epoch, 0)

    def order(self):
        """The whole order of this epoch, before sharding: a permutation of 0..n−1 (or 0..n−1 itself)."""
        if self.shuffle:
            return np.random.default_rng((self.seed, self.epoch)).permutation(self.size)
        return np.arange(self.size)

    def shard(self, order):
        """This rank's positions of `order` (any index array of the dataset's length), padded or cut evenly."""
        order = np.asarray(order)
        if order.shape != (self.size,):
            raise ValueError(f"DistributedSampler.shard: expected {self.size} indices, got shape {order.shape}")
        total = self.num_samples * self.num_replicas
        if total > self.size:  # pad by repeating the start (more than once when n < R)
            order = np.resize(order, total)
        return order[self.rank:total:self.num_replicas]

    def __iter__(self):
        return iter(self.shard(self.order()).tolist())

    def __len__(self):
        return self.num_samples


def check_same_order(order):
    """Refuse an epoch whose order differs between ranks (their NumPy RNGs were seeded differently)."""
    if world.world_size() == 1:
        return
    digest = np.array([zlib.crc32(np.ascontiguousarray(order, dtype=np.int64).tobytes())], dtype=np.int64)
    every = world.all_gather(digest)
    digests = [int(d.numpy()[0]) for d in every]
    if len(set(digests)) > 1:
        raise RuntimeError(
            f"DataLoader(distributed=True): the ranks drew different orders (digests by rank: {digests}); seed "
            "NumPy's global RNG with the same value on every rank (np.random.seed) before building models and loaders"
        )
