"""Timing and data helpers shared by the workloads: interleaved repeats, medians, peak memory."""
import gc
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from needle.data import default_mnist_dir, parse_mnist

# The benchmarks read the MNIST test set from the shared data folder beside the checkout unless
# $NEEDLE_MNIST_DIR names another; the library itself never looks beside the checkout.
os.environ.setdefault("NEEDLE_MNIST_DIR", str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"))


def load_mnist_test():
    """(X float32 (10000, 784) in [0, 1], y uint8) from the t10k files, or None when absent."""
    try:
        folder = default_mnist_dir()
    except FileNotFoundError:
        return None
    return parse_mnist(folder / "t10k-images-idx3-ubyte.gz", folder / "t10k-labels-idx1-ubyte.gz")


def optional_import(name):
    """The module `name`, or None when it is not installed."""
    try:
        return __import__(name)
    except ImportError:
        return None


def interleaved_medians(runners, repeats):
    """Time each runner `repeats` times, round-robin; {name: (median seconds, last result)}.

    Every round runs each implementation once, so drift on a shared machine hits all alike.
    """
    times = {name: [] for name in runners}
    results = {}
    for _ in range(repeats):
        for name, run in runners.items():
            seconds, results[name] = _timed(run)
            times[name].append(seconds)
    return {name: (statistics.median(times[name]), results[name]) for name in runners}


def _timed(run):
    """(seconds, result) of one call; a runner marked `times_itself` reports its own time."""
    if getattr(run, "times_itself", False):
        return run()
    gc.collect()
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def built_then_timed(build, *args):
    """A runner that builds `epoch = build(*args)` untimed, then times `epoch()` alone."""

    def run():
        return _timed(build(*args))

    run.times_itself = True
    return run


def in_fresh_process(module, function, args, warmup_args):
    """A runner that calls `benchmarks.<module>.<function>(*args)` in a new interpreter.

    The child first makes one small call (`warmup_args`, untimed: lazy initialisation, caches), then
    times the real one; the runner returns (seconds, result) as measured there, imports excluded.
    A graph of a million nodes is dominated by the cycle collector, whose cost grows with everything
    else alive in the process (another library's import, an earlier run's leftovers); a new process
    per run keeps each implementation's heap its own.
    """
    code = (
        "import json, time\n"
        f"from benchmarks.{module} import {function} as run\n"
        f"run(*{list(warmup_args)!r})\n"
        "start = time.perf_counter()\n"
        f"result = run(*{list(args)!r})\n"
        "print(json.dumps([time.perf_counter() - start, result]))\n"
    )
    root = Path(__file__).resolve().parent.parent

    def run():
        done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"benchmarks.{module}.{function} failed in its own process:\n{done.stderr}")
        seconds, result = json.loads(done.stdout.splitlines()[-1])
        return seconds, result

    run.times_itself = True
    return run


def peak_memory_mb(run):
    """Peak traced allocation (Python objects and NumPy buffers) of one call, in MiB."""
    gc.collect()
    tracemalloc.start()
    try:
        run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def seeded_weights(shapes, seed=0):
    """Float32 weights shared by every implementation so they compute the same thing."""
    rng = np.random.default_rng(seed)
    weights = []
    for fan_in, fan_out in shapes:
        bound = np.sqrt(6.0 / fan_in)
        weights.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32))
        weights.append(np.zeros(fan_out, dtype=np.float32))
    return weights


def needle_training_step(loss_of, opt):
    """A needle training step as a closure: `loss_of()` (forward pass and loss), backward without
    recording the adjoints, `opt.step()`; it returns the loss as a float."""

    def step():
        loss = loss_of()
        opt.reset_grad()
        loss.backward(create_graph=False)
        opt.step()
        return float(loss.numpy())

    return step
