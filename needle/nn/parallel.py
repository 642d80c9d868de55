"""DistributedDataParallel: one model replica per MPI rank, gradients averaged in a few large Allreduces."""
import zlib

import numpy as np

from ..autograd import Tensor
from ..distributed import world
from .module import Module

__all__ = ["DistributedDataParallel", "SharedParameters"]

DEFAULT_BUCKET_MB = 25.0  # PyTorch's bucket_cap_mb: large enough that a call's latency is paid rarely


def _buckets(tensors, cap_bytes):
    """`tensors` in order, grouped by dtype into runs of at most `cap_bytes` (a larger tensor alone)."""
    open_buckets, used, done = {}, {}, []
    for t in tensors:
        size = int(np.prod(t.shape)) * t.dtype.itemsize
        bucket = open_buckets.setdefault(t.dtype, [])
        if bucket and used[t.dtype] + size > cap_bytes:
            done.append(bucket)
            bucket = open_buckets[t.dtype] = []
        used[t.dtype] = (used[t.dtype] if bucket else 0) + size
        bucket.append(t)
    return done + [bucket for bucket in open_buckets.values() if bucket]


def _pack(arrays, dtype, scale=None, out=None):
    """One flat contiguous array holding `arrays` (times `scale`, when given) one after another.

    An entry None stands for zeros of the size given instead as its shape: `arrays` may mix arrays and
    `(None, shape)` pairs. With `out` (a flat array of the total size and `dtype`), that array is filled
    and returned, so a caller that packs every step reuses one buffer instead of faulting in fresh pages.
    """
    shapes = [a[1] if isinstance(a, tuple) else a.shape for a in arrays]
    if out is not None:  # views of the buffer being written (an average not yet replaced): read them all first
        arrays = [np.array(a) if not isinstance(a, tuple) and np.may_share_memory(a, out) else a for a in arrays]
    total = sum(int(np.prod(shape)) for shape in shapes)
    flat = np.empty(total, dtype=dtype) if out is None else out
    start = 0
    for a, shape in zip(arrays, shapes):
        size = int(np.prod(shape))
        part = flat[start:start + size].reshape(shape)
        if isinstance(a, tuple):
            part.fill(0)
        else:
            if scale is None:
                np.copyto(part, a, casting="unsafe")
            else:  # the mean's division rides on the copy: one pass over the gradients, not two
                np.multiply(a, scale, out=part, casting="unsafe")
        start += size
    return flat


class DistributedDataParallel(Module):
    """Data parallelism over MPI: `module` replicated on every rank, each rank training on its shard.

        model = nn.parallel.DistributedDataParallel(model)   # broadcasts rank 0's weights
        loss = loss_fn(model(x_shard), y_shard); loss.backward()
        model.average_gradients(); opt.step()                # or model.attach(opt) once

    When wrapped, rank 0's parameters and buffers are broadcast to every rank. `average_gradients()`
    packs every gradient divided by the world size into flat contiguous buckets of at most
    `bucket_cap_mb` megabytes (per dtype, in parameter order), sums each bucket over the ranks in one
    Allreduce and hands each parameter a view of the result: a few large calls, not one per tensor.
    The bucket buffers are kept and reused by every call (as PyTorch's `gradient_as_bucket_view`):
    fresh multi-megabyte buffers each step would cost page faults that, with two ranks on two
    cores, took a fifth of the step. When every rank runs on one machine, the buckets are summed in
    an MPI shared-memory window instead of by Allreduce (`world.BucketSum`; `shared_memory=False`
    forces Allreduce): each rank adds its share of the bucket once, with no copies in and out. So an
    averaged `p.grad` is a read-only view that the next `average_gradients()` overwrites; copy it
    (`p.grad.numpy().copy()`) to keep it longer.
    With equal shards, R ranks with batch B/R then step as one process with batch B, up to rounding.

    BatchNorm: each rank normalises with the statistics of its own shard (as PyTorch's DDP), so
    results depend on the per-rank batch; with `broadcast_buffers` (the default) rank 0's buffers
    (running statistics) are copied to every rank before each training forward, so every rank
    starts each step from rank 0's (a checkpoint of rank 0 holds them). For statistics over the
    global batch, use `nn.SyncBatchNorm`
    (`nn.SyncBatchNorm.convert_sync_batchnorm(model)`).

    Parameters with `requires_grad` False are left alone. A parameter that has no gradient on a rank
    contributes zeros, and after averaging every trainable parameter holds a gradient on every rank.
    Outside a launcher (a world of one) wrapping and averaging leave everything unchanged.
    """

    def __init__(self, module, bucket_cap_mb=DEFAULT_BUCKET_MB, broadcast_buffers=True, shared_memory=None):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a Module, got {type(module).__name__}")
        if not (isinstance(bucket_cap_mb, (int, float)) and 0 < bucket_cap_mb < float("inf")):
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be a positive number, got {bucket_cap_mb!r}")
        self.module = module
        self.bucket_cap_mb = bucket_cap_mb
        self.broadcast_buffers = broadcast_buffers
        self.shared_memory = shared_memory
        self._sums = {}  # bucket index -> its world.BucketSum, reused while size and dtype hold
        self.training = module.training
        world.init()
        self.sync_parameters()

    def forward(self, *args, **kwargs):
        if self.broadcast_buffers and self.training:
            self._broadcast(self._buffers())
        return self.module(*args, **kwargs)

    def _trainable(self):
        return [p for p in self.module.parameters() if p.requires_grad]

    def _buffers(self):
        return [b for _, b in self.module.named_buffers() if np.dtype(b.dtype).kind in "biuf"]

    def _cap_bytes(self):
        return int(self.bucket_cap_mb * 2**20)

    def buckets(self):
        """The trainable parameters grouped as `average_gradients` sends them: one list per Allreduce."""
        return _buckets(self._trainable(), self._cap_bytes())

    def sync_parameters(self):
        """Copy rank 0's parameters and buffers to every rank (done when wrapped); ranks whose models
        differ in the shapes or dtypes of these are refused first (MPI would mix their bytes)."""
        tensors = self.module.parameters() + self._buffers()
        if world.world_size() > 1:
            self._check_same_layout(tensors)
        self._broadcast(tensors)

    def _check_same_layout(self, tensors):
        layout = repr([(tuple(t.shape), str(t.dtype)) for t in tensors]).encode()
        mine = np.array([len(tensors), sum(int(np.prod(t.shape)) for t in tensors), zlib.crc32(layout)], np.int64)
        every = [g.numpy() for g in world.all_gather(mine)]
        if any(not np.array_equal(other, mine) for other in every):
            counts = "; ".join(f"rank {r}: {int(g[0])} tensors, {int(g[1])} numbers" for r, g in enumerate(every))
            raise ValueError(
                f"DistributedDataParallel: the ranks' models differ in their parameters and buffers ({counts}); "
                "build the same model on every rank"
            )

    def _broadcast(self, tensors):
        if world.world_size() == 1 or not tensors:
            return
        for bucket in _buckets(tensors, self._cap_bytes()):
            flat = world.flat_broadcast(_pack([t.cached_data for t in bucket], bucket[0].dtype))
            start = 0
            for t in bucket:
                size = int(np.prod(t.shape))
                t.data = Tensor.make_const(flat[start:start + size].reshape(t.shape).copy())
                start += size

    def average_gradients(self):
        """Replace every trainable parameter's gradient by its mean over the ranks (call after backward)."""
        size = world.world_size()
        if size == 1:
            return
        for index, bucket in enumerate(self.buckets()):
            dtype = bucket[0].dtype
            grads = [(None, p.shape) if p.grad is None else p.grad.cached_data for p in bucket]
            summer = self._bucket_sum(index, bucket, dtype)
            _pack(grads, dtype, scale=dtype.type(1.0 / size), out=summer.input)
            flat = world.bucket_all_reduce_sum(summer)
            start = 0
            for p in bucket:
                count = int(np.prod(p.shape))
                p.grad = Tensor.make_const(flat[start:start + count].reshape(p.shape))
                start += count

    def _bucket_sum(self, index, bucket, dtype):
        """Bucket `index`'s kept `world.BucketSum`, made again (collectively) when its size or dtype changed."""
        count = sum(int(np.prod(p.shape)) for p in bucket)
        summer = self._sums.get(index)
        if summer is None or summer.count != count or summer.dtype != dtype:
            if summer is not None:
                summer.free()
            summer = self._sums[index] = world.BucketSum(count, dtype, self.shared_memory)
        return summer

    def attach(self, optimizer, shared_parameters=False):
        """Make `optimizer.step()` average the gradients first; returns the optimizer.

        With `shared_parameters`, when every rank runs on this machine, the parameters `optimizer`
        steps are kept once per machine in shared memory (`SharedParameters`) and each rank updates
        only its share of them: no rank repeats another's update. This needs an optimizer without
        per-parameter state (SGD without momentum), which alone writes these parameters; in a world of
        one, across machines or with `shared_memory=False` it changes nothing.
        """
        if getattr(optimizer, "_averaged_by", None) is not None:
            raise ValueError(f"DistributedDataParallel.attach: {type(optimizer).__name__} is attached already")
        shared = None
        if (shared_parameters and world.world_size() > 1 and self.shared_memory is not False
                and world.node_comm() is not None):
            if optimizer.keeps_state():
                raise ValueError(
                    f"DistributedDataParallel.attach: shared_parameters needs an optimizer without per-parameter "
                    f"state, but {type(optimizer).__name__} keeps some with these settings (momentum, moment "
                    "estimates); attach it without shared_parameters"
                )
            shared = SharedParameters([p for p in optimizer.params if p.requires_grad])
        step = optimizer.step

        def averaged_step(*args, **kwargs):
            if shared is None:
                self.average_gradients()
                return step(*args, **kwargs)
            shared.adopt_replaced()  # before the average's synchronisation, which publishes the copies
            self.average_gradients()
            return shared.step(optimizer, step, args, kwargs)

        optimizer._averaged_by = self
        optimizer.step = averaged_step
        return optimizer

    def extra_repr(self):
        return f"world_size={world.world_size()}, bucket_cap_mb={self.bucket_cap_mb}"


class SharedParameters:
    """`params` kept once per machine: each one's data is a view of an MPI shared-memory window that
    every rank maps, and each rank updates only the parameters it owns (by size, about 1/R of the
    numbers each). So R ranks make one update per parameter, not R identical ones, and read one
    copy of the weights (workload 11: 2 ranks 1.63-1.72x the throughput of one over nine runs,
    against 1.55-1.64x with a copy per rank).

    Made collectively by `DistributedDataParallel.attach(optimizer, shared_parameters=True)` from
    every rank's same parameters (rank 0's values, as wrapping broadcast them). The parameters'
    owners step them; a barrier then ends the step on every rank, so no rank reads a parameter
    while another writes it, and every rank stamps the parameters it does not own as written.
    Data a parameter is given later (`p.data = ...`, `load_state_dict`) is copied into its view at
    the next step; ranks that give a parameter different data are out of step as with a copy each.
    """

    def __init__(self, params):
        node = world.node_comm()
        self.params = list(params)
        self.windows, self.views = [], {}
        for dtype in sorted({p.dtype for p in self.params}, key=str):
            group = [p for p in self.params if p.dtype == dtype]
            window, flat = world.shared_on_node(sum(int(np.prod(p.shape)) for p in group), dtype, node)
            self.windows.append(window)
            start = 0
            for p in group:
                size = int(np.prod(p.shape))
                self.views[p] = flat[start:start + size].reshape(p.shape)
                start += size
            if node.Get_rank() == 0:
                for p in group:
                    self.views[p][...] = p.cached_data
            window.Fence()
        for p in self.params:
            p.cached_data = self.views[p]
        self.owned = _owned(self.params, world.rank(), world.world_size())

    def adopt_replaced(self):
        """Copy data a parameter was given since the last step into its view, and point it back there."""
        for index, (p, view) in enumerate(self.views.items()):
            if p.cached_data is not view:
                data = p.cached_data
                if np.shape(data) != view.shape or np.result_type(data) != view.dtype:
                    raise ValueError(
                        f"SharedParameters: parameter {index} was given data of shape {np.shape(data)} and dtype "
                        f"{np.result_type(data)}, but it is kept in shared memory as {view.shape} {view.dtype}"
                    )
                view[...] = data
                p.cached_data = view

    def step(self, optimizer, step, args, kwargs):
        """`step(*args, **kwargs)` over the owned parameters only, then a barrier on every rank."""
        if optimizer.keeps_state():
            raise RuntimeError(
                f"SharedParameters: {type(optimizer).__name__} now keeps per-parameter state (its settings "
                "changed after attach), which only the rank owning each parameter would hold"
            )
        others = [(p, p.grad) for p in self.params if p not in self.owned]
        for p, _ in others:
            p.grad = None
        try:
            result = step(*args, **kwargs)
        finally:
            for p, grad in others:
                p.grad = grad
        world.barrier()  # every owner's writes are done before any rank reads them
        for p, _ in others:
            p.bump_version()
        return result


def _owned(params, rank, size):
    """The parameters `rank` of `size` updates: each to the rank with the fewest numbers so far,
    largest first (the same on every rank)."""
    loads = [0] * size
    owned = set()
    for index in sorted(range(len(params)), key=lambda i: (-int(np.prod(params[i].shape)), i)):
        owner = loads.index(min(loads))
        loads[owner] += int(np.prod(params[index].shape))
        if owner == rank:
            owned.add(params[index])
    return owned
