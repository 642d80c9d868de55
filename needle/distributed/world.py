"""The world of MPI ranks: init, rank, world_size, barrier and the collectives on Tensors and arrays.

Outside an MPI launcher (`mpiexec`) every function behaves as a world of one: rank 0 of 1, the
collectives return their input's values, and mpi4py is never imported, so the same script runs
anywhere. Under a launcher, mpi4py is imported on first use (the `distributed` extra:
`pip install 'needle[distributed]'`).

Faults: under a launcher with more than one rank, `init` installs an exception hook that prints the
error with the failing rank and calls `MPI.COMM_WORLD.Abort(1)`, which ends every rank within a
second instead of leaving the others waiting in a collective forever. A rank killed by a signal is
ended the same way by the launcher. A rank that leaves on purpose with a non-zero code while others
may still wait should call `abort(code)`, not `sys.exit(code)`: MPI cannot tell a finished rank from
one that gave up.

Gradient buckets (`BucketSum`, used by DistributedDataParallel) are summed in an MPI shared-memory
window when every rank runs on one machine, and by Allreduce otherwise.
"""
import os
import sys
import threading
import zlib

import numpy as np

from ..autograd import Tensor

__all__ = [
    "init", "is_initialized", "rank", "world_size", "barrier", "abort", "all_reduce", "broadcast", "all_gather",
    "launched",
]

_OPS = ("sum", "mean", "max")
# Variables that MPI launchers set in every rank: MPICH's and Intel's Hydra (PMI_SIZE), Open MPI,
# MVAPICH, and PMIx-based launchers (srun, prterun).
_LAUNCHER_SIZES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")
_LAUNCHER_MARKS = ("PMIX_RANK",)


class _World:
    """The process's place in the world; `comm` is None in a world of one without MPI."""

    def __init__(self):
        self.comm = None
        self.mpi = None
        self.rank = 0
        self.size = 1
        self.initialized = False
        self.node_comm = None  # the ranks on this machine (see _node_comm), found on first use
        self.lock = threading.Lock()


_world = _World()


def launched():
    """Whether this process was started by an MPI launcher (mpiexec, srun, ...), read from its environment."""
    if any(name in os.environ for name in _LAUNCHER_MARKS):
        return True
    for name in _LAUNCHER_SIZES:
        value = os.environ.get(name, "")
        if value.strip().isdigit():
            return True
    return False


def _import_mpi():
    try:
        from mpi4py import MPI
    except ImportError as error:
        sizes = ", ".join(f"{name}={os.environ[name]}" for name in _LAUNCHER_SIZES if name in os.environ)
        raise ImportError(
            f"needle.distributed: started by an MPI launcher ({sizes or 'PMIx'}) but mpi4py cannot be "
            f"imported ({error}); install the distributed extra: pip install 'needle[distributed]'"
        ) from error
    return MPI


def init():
    """Join the world (idempotent); returns the world size.

    Under an MPI launcher this imports mpi4py, takes COMM_WORLD and, with more than one rank,
    installs the exception hooks that abort every rank when one fails (the module docstring says
    why). Elsewhere it sets up a world of one.
    """
    with _world.lock:
        if _world.initialized:
            return _world.size
        if launched():
            mpi = _import_mpi()
            _world.mpi, _world.comm = mpi, mpi.COMM_WORLD
            _world.rank, _world.size = _world.comm.Get_rank(), _world.comm.Get_size()
            if _world.size > 1:
                _install_fault_hooks()
        _world.initialized = True
        return _world.size


def is_initialized():
    """Whether `init` has run (every other function here runs it first when needed)."""
    return _world.initialized


def rank():
    """This process's rank, 0 ≤ rank < world_size(); 0 outside a launcher."""
    init()
    return _world.rank


def world_size():
    """The number of ranks; 1 outside a launcher."""
    init()
    return _world.size


def _comm():
    """COMM_WORLD, or None in a world of one (where every collective is the identity)."""
    init()
    return _world.comm if _world.size > 1 else None


def barrier():
    """Wait until every rank has called barrier()."""
    comm = _comm()
    if comm is not None:
        comm.Barrier()


def abort(code=1):
    """End every rank now with exit code `code` (MPI_Abort); in a world of one, exit this process."""
    comm = _comm()
    sys.stdout.flush()
    sys.stderr.flush()
    if comm is None:
        raise SystemExit(code)
    comm.Abort(code)


def _install_fault_hooks():
    previous = sys.excepthook

    def abort_on_error(kind, value, tb):
        what = "was interrupted" if issubclass(kind, KeyboardInterrupt) else f"failed: {kind.__name__}: {value}"
        print(f"needle.distributed: rank {_world.rank} of {_world.size} {what}", file=sys.stderr, flush=True)
        previous(kind, value, tb)
        print(f"needle.distributed: rank {_world.rank} aborts every rank", file=sys.stderr, flush=True)
        _world.comm.Abort(1)

    def abort_on_thread_error(args):
        abort_on_error(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = abort_on_error
    threading.excepthook = abort_on_thread_error


# ---- collectives ---------------------------------------------------------------------------------


def _array_of(name, value):
    """The NumPy array behind a Tensor or an array (C-contiguous), refusing anything else."""
    if isinstance(value, Tensor):
        array = value.cached_data
    elif isinstance(value, np.ndarray):
        array = value
    else:
        raise TypeError(f"{name}: expected a Tensor or a NumPy array, got {type(value).__name__}")
    if not isinstance(array, np.ndarray):
        array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name}: dtype {array.dtype} is not a number type MPI can reduce")
    return array


def _write(target, result):
    """Put `result` into the Tensor or array `target` in place and return `target`."""
    if isinstance(target, Tensor):
        data = target.cached_data
        if isinstance(data, np.ndarray) and data.flags.writeable and data.flags.c_contiguous:
            if data is not result:
                np.copyto(data, result)
        else:
            target.cached_data = np.array(result)
        target.bump_version()
    elif target is not result:
        np.copyto(target, result)
    return target


def _signature(array):
    """[dtype code, ndim, size, CRC of the shape]: what every rank must agree on before a collective."""
    shape = np.asarray(array.shape, dtype=np.int64).tobytes()
    return np.array([array.dtype.num, array.ndim, array.size, zlib.crc32(shape)], dtype=np.int64)


def _check_agreement(comm, name, array):
    """Refuse a collective whose ranks hold different shapes or dtypes (MPI would hang or mix bytes)."""
    mine = _signature(array)
    every = np.empty((comm.Get_size(), mine.size), dtype=np.int64)
    comm.Allgather(mine, every)
    if (every != mine).any():
        sizes = ", ".join(f"rank {r}: {int(row[2])} elements, ndim {int(row[1])}" for r, row in enumerate(every))
        raise ValueError(
            f"{name}: ranks disagree on shape or dtype (rank {_world.rank} holds {array.shape} {array.dtype}; "
            f"{sizes})"
        )


def all_reduce(tensor, op="sum"):
    """Reduce `tensor` (a Tensor or NumPy array) over every rank with op "sum", "mean" or "max", in place.

    Every rank passes the same shape and dtype and gets the result; returns `tensor`. The write is
    not recorded in the graph (as an optimizer's step): use `needle.distributed.functional.all_reduce`
    to differentiate through a sum over ranks. "mean" of an integer tensor is refused.
    """
    if op not in _OPS:
        raise ValueError(f"all_reduce: op must be one of {', '.join(_OPS)}, got {op!r}")
    array = _array_of("all_reduce", tensor)
    if op == "mean" and array.dtype.kind != "f":
        raise TypeError(f"all_reduce: op 'mean' needs a floating dtype, got {array.dtype}")
    comm = _comm()
    if comm is None:
        return tensor
    _check_agreement(comm, "all_reduce", array)
    result = np.ascontiguousarray(array).copy()
    comm.Allreduce(_world.mpi.IN_PLACE, result, op=_world.mpi.MAX if op == "max" else _world.mpi.SUM)
    if op == "mean":
        result /= _world.size
    return _write(tensor, result)


def broadcast(tensor, root=0):
    """Copy `tensor` (a Tensor or NumPy array) of rank `root` into every rank's `tensor`, in place; returns it."""
    size = world_size()
    if isinstance(root, bool) or not isinstance(root, (int, np.integer)) or not 0 <= root < size:
        raise ValueError(f"broadcast: root must be a rank in 0..{size - 1}, got {root!r}")
    array = _array_of("broadcast", tensor)
    comm = _comm()
    if comm is None:
        return tensor
    _check_agreement(comm, "broadcast", array)
    result = np.ascontiguousarray(array).copy()
    comm.Bcast(result, root=int(root))
    return _write(tensor, result)


def all_gather(tensor):
    """Every rank's `tensor` (same shape and dtype on each), as a list of constant Tensors in rank order."""
    array = np.ascontiguousarray(_array_of("all_gather", tensor))
    comm = _comm()
    if comm is None:
        return [Tensor.make_const(array.copy())]
    _check_agreement(comm, "all_gather", array)
    every = np.empty((_world.size,) + array.shape, dtype=array.dtype)
    comm.Allgather(array, every)
    return [Tensor.make_const(part) for part in every]


def flat_all_reduce_sum(buffer):
    """Sum a flat contiguous float buffer over the ranks in place, without the shape check (the callers
    built the same buckets on every rank). The one Allreduce per bucket of DistributedDataParallel."""
    comm = _comm()
    if comm is not None:
        comm.Allreduce(_world.mpi.IN_PLACE, buffer, op=_world.mpi.SUM)
    return buffer


def flat_broadcast(buffer, root=0):
    """Broadcast a flat contiguous buffer from `root` in place, without the shape check (see above)."""
    comm = _comm()
    if comm is not None:
        comm.Bcast(buffer, root=root)
    return buffer


def _node_comm():
    """The ranks on this machine as a communicator (collective on first use, then kept), or None when
    not every rank of the world is on this machine."""
    if _world.node_comm is None:
        node = _world.comm.Split_type(_world.mpi.COMM_TYPE_SHARED)
        _world.node_comm = node if node.Get_size() == _world.size else False
    return _world.node_comm or None


def node_comm():
    """The ranks on this machine as a communicator when every rank of the world is on it, else None
    (also in a world of one). Collective on first use."""
    return _node_comm() if _comm() is not None else None


def shared_on_node(count, dtype, node):
    """(window, array): one flat array of `count` numbers of `dtype` in an MPI shared-memory window
    that every rank of `node` (`node_comm()`) maps; held by the node's rank 0. Collective over `node`;
    `window.Free()` releases it."""
    item = np.dtype(dtype).itemsize
    window = _world.mpi.Win.Allocate_shared(max(count, 1) * item if node.Get_rank() == 0 else 0, item, comm=node)
    return window, np.frombuffer(window.Shared_query(0)[0], dtype, count=count)


class BucketSum:
    """The sum over the ranks of one flat bucket of `count` numbers of `dtype`, reused step after step.

    Write this rank's part into `input` (a flat array), then `world.bucket_all_reduce_sum(self)`
    returns the sum as a flat array that every rank reads. When every rank runs on this machine (and
    `shared_memory` is not False) `input` is this rank's slot of an MPI shared-memory window and each
    rank adds up its 1/R slice of all slots (rank 0's + rank 1's + ..., the same order for every
    element) into a result every rank sees: one pass over the data, against about three for the
    copies in and out of an Allreduce. The result is then read-only and shared by the ranks; it is
    overwritten by the next sum, which no rank starts before every rank has called the next sum
    too (so before each has finished its step). Across machines `input` is a private buffer summed
    with one Allreduce in place. Creating one and `free()` are collective: every rank calls them
    with the same count and dtype, in the same order.
    """

    def __init__(self, count, dtype, shared_memory=None):
        self.count, self.dtype = int(count), np.dtype(dtype)
        self.windows = ()
        node = node_comm() if shared_memory is not False else None
        if node is None:
            self.input = np.empty(self.count, self.dtype)
            self.result = None
            return
        mpi, item = _world.mpi, self.dtype.itemsize
        slots = mpi.Win.Allocate_shared(max(self.count, 1) * item, item, comm=node)
        total, self.result = shared_on_node(self.count, self.dtype, node)
        self.windows = (slots, total)
        self.slots = [np.frombuffer(slots.Shared_query(q)[0], self.dtype, count=self.count) for q in range(node.Get_size())]
        self.input = self.slots[node.Get_rank()]
        bounds = [self.count * q // len(self.slots) for q in range(len(self.slots) + 1)]
        self.slice = slice(bounds[node.Get_rank()], bounds[node.Get_rank() + 1])

    @property
    def shared(self):
        """Whether the sum goes through shared memory (else through Allreduce)."""
        return bool(self.windows)

    def _sum(self):
        if not self.windows:
            return flat_all_reduce_sum(self.input)
        slots, total = self.windows
        slots.Fence()  # every rank's input is written and visible
        mine = self.result[self.slice]
        np.add(self.slots[0][self.slice], self.slots[1][self.slice], out=mine)
        for slot in self.slots[2:]:
            mine += slot[self.slice]
        total.Fence()  # every slice is summed
        view = self.result.view()
        view.setflags(write=False)
        return view

    def free(self):
        """Release the shared-memory windows (collective); the object is unusable afterwards."""
        for window in self.windows:
            window.Free()
        self.windows = ()
        self.input = self.result = None


def bucket_all_reduce_sum(bucket):
    """The sum over the ranks of `bucket.input` (a `BucketSum`), as a flat array (see BucketSum)."""
    if _comm() is None:
        return bucket.input
    return bucket._sum()
