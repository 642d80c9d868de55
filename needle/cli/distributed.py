"""needle-train --distributed: data-parallel training over the ranks of `mpiexec`.

    mpiexec -n 4 needle-train --dataset mnist --model mlp --distributed

Every rank runs the same command. The global --batch-size is split evenly across the ranks (each
reads its own shard of every epoch, `DataLoader(distributed=True)`), the model is wrapped in
`DistributedDataParallel` (rank 0's weights, averaged gradients), and the epoch's losses and
accuracies are averaged over the ranks. Only rank 0 prints, writes the checkpoint (atomically, as
without MPI) and the curves. --resume reads the same checkpoint on every rank, so a run may resume
under another number of ranks (or none). Without --distributed, or outside mpiexec, this is a
world of one and nothing changes.
"""
import os
import sys

import numpy as np

import needle as ndl

from .settings import UsageError

__all__ = ["Ranks", "exit_code", "refuse_for_language"]


class Ranks:
    """needle-train's view of the world: one rank of one unless --distributed under mpiexec."""

    def __init__(self, enabled):
        self.enabled = bool(enabled)
        self.rank, self.size = 0, 1
        if self.enabled:
            ndl.distributed.init()
            self.rank, self.size = ndl.distributed.rank(), ndl.distributed.world_size()
        if self.size > 1 and self.rank != 0:
            # Only rank 0 reports; errors (stderr) still come from every rank.
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (kept open for the process's life)

    @property
    def is_main(self):
        """Whether this rank prints and writes files (rank 0)."""
        return self.rank == 0

    def loader(self, dataset, batch_size, shuffle=False):
        """A DataLoader over this rank's shard with this rank's part of the global `batch_size`."""
        if self.size == 1:
            return ndl.data.DataLoader(dataset, batch_size, shuffle=shuffle)
        if batch_size % self.size:
            raise UsageError(
                f"--batch-size {batch_size}: --distributed splits it across {self.size} ranks, so it must be a "
                "multiple of the number of ranks"
            )
        return ndl.data.DataLoader(dataset, batch_size // self.size, shuffle=shuffle, distributed=True)

    def wrap(self, model, opt):
        """The model to train: `model` in DistributedDataParallel, with `opt` averaging before each step."""
        if self.size == 1:
            return model
        wrapped = ndl.nn.parallel.DistributedDataParallel(model)
        wrapped.attach(opt, shared_parameters=not opt.keeps_state())  # one copy per machine where it can
        return wrapped

    def average(self, result):
        """run_epoch's (error rate, mean loss) averaged over the ranks (their shards are of equal size)."""
        if self.size == 1:
            return result
        values = ndl.distributed.all_reduce(np.array(result, dtype=np.float64), op="mean")
        return float(values[0]), float(values[1])


def exit_code(code):
    """`code`, or under mpiexec with more than one rank, a non-zero code ends every rank (MPI_Abort):
    a rank that left alone would leave the others waiting in a collective."""
    if code and ndl.distributed.is_initialized() and ndl.distributed.world_size() > 1:
        ndl.distributed.abort(code)
    return code


def refuse_for_language(args):
    """--distributed is built for the classifiers; a language model's run refuses it by name."""
    if getattr(args, "distributed", False):
        raise UsageError("--distributed: only the classifiers (spiral, mnist, cifar10) train data-parallel so far")
