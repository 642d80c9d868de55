"""Data-parallel training over MPI: the world of ranks, collectives on Tensors, and DataParallel.

    mpiexec -n 2 python train.py      # every rank runs the same script

    import needle as ndl
    dist = ndl.distributed
    dist.init()                                          # a world of one outside mpiexec
    model = dist.DataParallel(model)                     # rank 0's weights on every rank
    loader = ndl.data.DataLoader(train, batch // dist.world_size(), shuffle=True, distributed=True)
    ...; loss.backward(); model.average_gradients(); opt.step()

mpi4py is imported only under an MPI launcher (the `distributed` extra). `DataParallel` is
`needle.nn.parallel.DistributedDataParallel`.
"""
from . import functional, world  # noqa: F401 (ndl.distributed.world holds the state)
from .world import abort, all_gather, all_reduce, barrier, broadcast, init, is_initialized, launched, rank, world_size

__all__ = [
    "init", "is_initialized", "rank", "world_size", "barrier", "abort", "all_reduce", "broadcast", "all_gather",
    "launched", "DataParallel", "DistributedDataParallel", "functional",
]


def __getattr__(name):
    # Imported on first use: needle.nn.parallel itself imports this package.
    if name in ("DataParallel", "DistributedDataParallel"):
        from ..nn.parallel import DistributedDataParallel

        return DistributedDataParallel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
