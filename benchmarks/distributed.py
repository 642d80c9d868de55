"""Workload 11: data-parallel scaling over MPI, and the cost of one gradient Allreduce.

    python -m benchmarks.distributed [--ranks 1,2] [--epochs 3] [--rounds 3]
    python -m benchmarks.run --only distributed

An MLP 784-1024-1024-10 (ReLU, softmax loss, SGD) trains on the MNIST test set (10,000 images; random
images of its shape when the files are absent) at a global batch of 256, split over 1 and 2 ranks of
`mpiexec`, each rank on one BLAS thread, the parameters kept once per machine (`shared_parameters`).
An epoch's time is the slowest rank's, after one warm-up epoch; throughput is images per second, efficiency the speed-up divided by the ranks. The 2-rank job
also times one sum over the ranks of the ResNet9's 431,946 float32 gradients, by MPI Allreduce and by
the shared-memory bucket sum DistributedDataParallel uses on one machine, against a memcpy of the same
1.7 MB, the floor for moving those bytes once.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SIZES = (784, 1024, 1024, 10)
GLOBAL_BATCH = 256
RESNET9_PARAMETERS = 431_946
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
ROOT = Path(__file__).resolve().parents[1]


def _data():
    from .common import load_mnist_test

    data = load_mnist_test()
    if data is not None:
        return data[0], data[1].astype(np.int64), "MNIST t10k"
    rng = np.random.default_rng(0)
    return rng.random((10_000, 784), dtype=np.float32), rng.integers(0, 10, 10_000), "random images"


def _model(nn):
    layers = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def _slowest(seconds, dist):
    """The largest of every rank's `seconds`: an epoch ends when its slowest rank does."""
    return float(dist.all_reduce(np.array([seconds]), op="max")[0])


def _time_epochs(epochs):
    import needle as ndl
    from needle import distributed as dist

    X, y, source = _data()
    np.random.seed(0)
    model = ndl.nn.parallel.DistributedDataParallel(_model(ndl.nn))
    opt = model.attach(ndl.optim.SGD(model.parameters(), lr=0.05), shared_parameters=True)
    loader = ndl.data.DataLoader(
        ndl.data.NDArrayDataset(X, y), GLOBAL_BATCH // dist.world_size(), shuffle=True, distributed=True
    )
    loss_fn = ndl.nn.SoftmaxLoss()

    def epoch():
        dist.barrier()
        started = time.perf_counter()
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.reset_grad()
            loss.backward()
            opt.step()
        return _slowest(time.perf_counter() - started, dist), float(loss.numpy())

    epoch()  # warm-up: first-touch allocations, BLAS start-up
    runs = [epoch() for _ in range(epochs)]
    seconds = statistics.median(s for s, _ in runs)
    images = len(loader) * loader.batch_size * dist.world_size()
    return {"source": source, "epoch_s": seconds, "images": images, "loss": runs[-1][1]}


def _time_allreduce(repeats=50):
    """Median times of one sum over the ranks of the ResNet9's gradients: by MPI Allreduce, and by the
    shared-memory bucket sum that DistributedDataParallel uses when every rank is on one machine."""
    from needle import distributed as dist

    grads = np.random.default_rng(dist.rank()).standard_normal(RESNET9_PARAMETERS).astype(np.float32)
    bucket = dist.world.BucketSum(RESNET9_PARAMETERS, np.float32)
    copy = np.empty_like(grads)
    times = {"allreduce_ms": [], "bucket_sum_ms": [], "memcpy_ms": []}
    for index in range(repeats + 5):
        dist.barrier()
        started = time.perf_counter()
        dist.world.flat_all_reduce_sum(grads)
        reduce_s = _slowest(time.perf_counter() - started, dist)
        np.copyto(bucket.input, grads)
        dist.barrier()
        started = time.perf_counter()
        dist.world.bucket_all_reduce_sum(bucket)
        bucket_s = _slowest(time.perf_counter() - started, dist)
        started = time.perf_counter()
        np.copyto(copy, grads)
        copy_s = time.perf_counter() - started
        if index >= 5:
            for key, seconds in zip(times, (reduce_s, bucket_s, copy_s)):
                times[key].append(seconds * 1e3)
    result = {key: statistics.median(values) for key, values in times.items()}
    result["bucket_sum_shared"] = bucket.shared
    bucket.free()
    return result


def worker(epochs):
    """The body of every rank; rank 0 prints one JSON line."""
    from needle import distributed as dist

    result = _time_epochs(epochs)
    if dist.world_size() > 1:
        result.update(_time_allreduce())
    result["ranks"] = dist.world_size()
    if dist.rank() == 0:
        print("RESULT " + json.dumps(result), flush=True)


def launch(ranks, epochs, timeout=900):
    """Run the worker under `mpiexec -n ranks`; its result dict."""
    mpiexec = shutil.which("mpiexec")
    if mpiexec is None:
        raise RuntimeError("benchmarks.distributed: mpiexec is not on PATH; pip install 'needle[distributed]'")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), **ONE_THREAD)
    command = [mpiexec, "-n", str(ranks), sys.executable, "-m", "benchmarks.distributed", "--worker"]
    done = subprocess.run(
        command + ["--epochs", str(epochs)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(
            f"benchmarks.distributed: {ranks} rank(s) failed ({done.returncode}):\n{done.stderr[-2000:]}"
        )
    return json.loads(lines[-1][len("RESULT "):])


def rows(ranks=(1, 2), epochs=3, rounds=2):
    """One row per rank count (throughput, speed-up, efficiency) and one for the Allreduce.

    Each rank count is launched `rounds` times, round-robin, so drift on a shared machine hits all
    alike; a row holds the median over its launches."""
    launches = {r: [] for r in ranks}
    for _ in range(rounds):
        for r in ranks:
            launches[r].append(launch(r, epochs))
    results = []
    for r in ranks:
        middle = sorted(launches[r], key=lambda result: result["epoch_s"])[(len(launches[r]) - 1) // 2]
        for key in ("allreduce_ms", "bucket_sum_ms", "memcpy_ms"):
            if key in middle:
                middle[key] = statistics.median(result[key] for result in launches[r])
        results.append(middle)
    base = results[0]["images"] / results[0]["epoch_s"] / results[0]["ranks"]
    table = []
    for result in results:
        throughput = result["images"] / result["epoch_s"]
        table.append({
            "impl": f"{result['ranks']} rank(s)", "epoch_s": result["epoch_s"], "images_per_s": throughput,
            "speedup": throughput / base, "efficiency": throughput / base / result["ranks"],
            "data": result["source"],
        })
    for result in results:
        if "allreduce_ms" in result:
            how = "shared memory" if result.get("bucket_sum_shared") else "Allreduce"
            for name, key in (("Allreduce", "allreduce_ms"), (f"DDP bucket sum ({how})", "bucket_sum_ms")):
                table.append({
                    "impl": f"{name} {RESNET9_PARAMETERS} float32, {result['ranks']} ranks",
                    "epoch_s": None, "images_per_s": None, "speedup": None,
                    "efficiency": result["memcpy_ms"] / result[key],
                    "data": f"{result[key]:.3f} ms vs memcpy {result['memcpy_ms']:.3f} ms",
                })
    return table


def run_workload(repeats, _data):
    """benchmarks.run's entry: `repeats` timed epochs per rank count."""
    return rows(epochs=max(1, repeats), rounds=2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", default="1,2", help="rank counts to run, comma separated (default: 1,2)")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per launch (median)")
    parser.add_argument("--rounds", type=int, default=3, help="launches per rank count, interleaved (median)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.epochs)
        return 0
    for row in rows(tuple(int(r) for r in args.ranks.split(",")), args.epochs, args.rounds):
        print("  ".join(f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}"
                        for key, value in row.items() if value is not None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
