"""SyncBatchNorm: batch normalisation whose training statistics run over the global batch of every rank."""
import numpy as np

from .. import ops
from ..distributed import functional as dist_fn
from ..distributed import world
from .normalization import BatchNorm1d

__all__ = ["SyncBatchNorm"]


class SyncBatchNorm(BatchNorm1d):
    """BatchNorm over (N, C, *) input whose training μ, σ² are taken over every rank's batch together.

    Training: μ = Σ_r Σ x / M and σ² = Σ_r Σ (x − μ)² / M over the M rows of all ranks together (N
    and the trailing axes, per channel C), two passes for stability, each summed over the ranks by a
    differentiable Allreduce, so the gradient also flows through the other ranks' batches. R ranks with
    equal shards then normalise, step and update the running statistics (needle: biased variance, as
    BatchNorm1d) as one process with their union does. Eval uses the running statistics. In a world
    of one it is BatchNorm1d/2d over the channel axis. Every rank must call it in the same order.
    """

    def forward(self, x):
        if x.ndim < 2 or x.shape[1] != self.dim:
            raise ValueError(f"SyncBatchNorm: expected input of shape (N, {self.dim}, ...), got {x.shape}")
        axes = (0,) + tuple(range(2, x.ndim)) + (1,)
        moved = x.permute(axes) if x.ndim > 2 else x
        rows = moved.reshape((-1, self.dim))
        out = self._synced(rows) if self.training else self._normalize(rows)
        if x.ndim == 2:
            return out
        back = [0] * x.ndim
        for position, axis in enumerate(axes):
            back[axis] = position
        return out.reshape(moved.shape).permute(tuple(back))

    def _synced(self, rows):
        count = world.all_reduce(np.array([rows.shape[0]], dtype=np.int64))
        total = int(count[0])
        if total < 2:
            raise ValueError(f"SyncBatchNorm: training needs more than one value per channel, got {total} in all")
        mean = dist_fn.all_reduce(rows.sum(axes=(0,))) / total
        centered = rows - mean
        var = dist_fn.all_reduce((centered * centered).sum(axes=(0,))) / total
        normed = centered / ops.sqrt(var + self.eps)
        for running, observed in ((self.running_mean, mean), (self.running_var, var)):
            stats = running.cached_data
            if type(stats) is not np.ndarray or not stats.flags.writeable:
                stats = running.cached_data = np.array(stats)
            stats *= 1.0 - self.momentum
            stats += self.momentum * observed.numpy().astype(stats.dtype, copy=False)
            running.bump_version()
        return self.weight * normed + self.bias

    @classmethod
    def convert_sync_batchnorm(cls, module):
        """`module` with every BatchNorm1d/BatchNorm2d inside replaced by a SyncBatchNorm holding the same
        parameters and buffers (the module itself when it is one); other modules are changed in place."""
        if isinstance(module, BatchNorm1d) and not isinstance(module, cls):
            sync = cls(module.dim, eps=module.eps, momentum=module.momentum, dtype=module.weight.dtype)
            sync.weight, sync.bias = module.weight, module.bias
            sync.running_mean, sync.running_var = module.running_mean, module.running_var
            sync.training = module.training
            return sync
        for holder in module.modules():
            _replace_children(holder, cls)
        return module


def _replace_children(holder, cls):
    """Swap the batch norms held directly by `holder` (attributes, lists, dicts) for SyncBatchNorms."""
    def swap(value):
        if isinstance(value, BatchNorm1d) and not isinstance(value, cls):
            return cls.convert_sync_batchnorm(value)
        if isinstance(value, list):
            value[:] = [swap(item) for item in value]
        elif isinstance(value, dict):
            for key in list(value):
                value[key] = swap(value[key])
        elif isinstance(value, tuple):
            return tuple(swap(item) for item in value)
        return value

    contents = holder._contents()
    if contents is vars(holder):
        for name in list(contents):
            new = swap(contents[name])
            if new is not contents[name]:
                setattr(holder, name, new)
    else:
        swap(contents)
