"""Jobs of two MPI ranks launched with `mpiexec -n 2` (tests/distributed/worker.py), each under a timeout.

Skipped, with the reason, when mpi4py or mpiexec is missing (`pip install 'needle[distributed]'`).
Launches are slow (about 1-2 s each), so one job runs every correctness check.
"""
import importlib.util
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.processes import ROOT

MPIEXEC = shutil.which("mpiexec")
pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("mpi4py") is None, reason="mpi4py is not installed (the distributed extra)"
    ),
    pytest.mark.skipif(MPIEXEC is None, reason="mpiexec is not on PATH (the distributed extra brings MPICH's)"),
]


def mpirun(ranks, *args, timeout=120, cwd=None):
    """`mpiexec -n ranks python *args` with this checkout importable and one BLAS thread per rank."""
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
    )
    started = time.monotonic()
    done = subprocess.run(
        [MPIEXEC, "-n", str(ranks), sys.executable, *args], cwd=cwd or ROOT, capture_output=True, text=True,
        env=env, timeout=timeout,
    )
    return done, time.monotonic() - started


def test_two_ranks_with_half_batches_step_as_one_process_with_the_whole_batch():
    # Inside: collectives, different models refused, sampler shards, one Allreduce per bucket, identical parameters on every rank
    # after wrapping and after each step (all_gather of a CRC), 20 steps of SGD and Adam, and of plain
    # SGD with the parameters kept once per machine, in float32 and float64 against one process
    # (rtol 1e-4 / 1e-10), SyncBatchNorm against BatchNorm1d, shared parameters' guards.
    done, _ = mpirun(2, "-m", "tests.distributed.worker", "checks")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rank 0: all checks passed" in done.stdout
    assert done.stdout.count("largest difference to one process") == 8


def test_an_exception_on_one_rank_ends_every_rank_naming_the_rank_and_the_error():
    done, seconds = mpirun(2, "-m", "tests.distributed.worker", "raise", timeout=60)
    assert done.returncode != 0
    assert "rank 1 of 2 failed: RuntimeError: deliberate failure on rank 1" in done.stderr
    assert "rank 0 left the barrier" not in done.stdout
    assert seconds < 30


def test_a_killed_rank_ends_the_job_instead_of_leaving_the_others_waiting():
    done, seconds = mpirun(2, "-m", "tests.distributed.worker", "kill", timeout=60)
    assert done.returncode != 0
    assert "rank 0 left the barrier" not in done.stdout
    assert seconds < 30


def test_needle_train_resumes_under_mpiexec_with_another_rank_count_and_only_rank_0_writes(tmp_path, capsys):
    from needle.cli.checkpoint import read_checkpoint
    from needle.cli.train import main

    common = ["--dataset", "spiral", "--model", "mlp", "--hidden", "16"]
    assert main(common + ["--epochs", "2", "--out", str(tmp_path / "one")]) == 0
    assert main(common + ["--epochs", "1", "--out", str(tmp_path / "two")]) == 0
    capsys.readouterr()
    done, _ = mpirun(
        2, "-m", "needle.cli.train", "--resume", "--epochs", "2", "--out", str(tmp_path / "two"), "--distributed",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("epoch   2/2") == 1 and done.stdout.count("resuming") == 1  # rank 0 alone prints
    assert sorted(p.name for p in (tmp_path / "two").iterdir() if p.suffix == ".npz") == ["checkpoint.npz"]
    resumed = read_checkpoint(tmp_path / "two" / "checkpoint.npz")
    uninterrupted = read_checkpoint(tmp_path / "one" / "checkpoint.npz")
    assert resumed["epoch"] == 2
    # 2 ranks with batch 16 each step as 1 process with batch 32: the same history to rounding.
    for name, values in uninterrupted["history"].items():
        np.testing.assert_allclose(resumed["history"][name], values, rtol=1e-4, err_msg=name)
    # And back to one process: a checkpoint of rank 0 resumes without mpiexec.
    assert main(["--resume", "--epochs", "3", "--out", str(tmp_path / "two")]) == 0
    assert read_checkpoint(tmp_path / "two" / "checkpoint.npz")["epoch"] == 3
