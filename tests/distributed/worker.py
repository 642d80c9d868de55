"""Run under `mpiexec -n 2 python -m tests.distributed.worker SCENARIO`; each scenario asserts, and an
assertion on any rank aborts the job (the exception hook of needle.distributed), so the caller checks
the exit code and the closing line of rank 0.

    checks   collectives, sampler, 2 ranks x B/2 vs 1 process x B (SGD, Adam, and plain SGD with the
             parameters kept once per machine; float32, float64), digests equal on every rank after
             wrapping and each step, SyncBatchNorm vs BatchNorm, shared parameters' guards
    raise    rank 1 raises while rank 0 waits in a collective
    kill     rank 1 kills itself (SIGKILL) while rank 0 waits in a collective
"""
import os
import signal
import sys
import time
import zlib

import numpy as np

import needle as ndl
import needle.nn as nn
from needle import distributed as dist

STEPS, BATCH, FEATURES, CLASSES = 20, 16, 10, 4
# Tolerances of 2 ranks vs 1 process after 20 steps: the only difference is the order of the sums
# (two half-batch gradients averaged vs one full-batch gradient), so rounding error, no more.
TOLERANCE = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-10, atol=1e-12)}


def digest(model, buffers=True):
    """CRC of every parameter's (and buffer's) bytes, in order."""
    crc = 0
    for _, t in model.named_parameters() + (model.named_buffers() if buffers else []):
        crc = zlib.crc32(np.ascontiguousarray(t.numpy()).tobytes(), crc)
    return np.array([crc], dtype=np.int64)


def assert_same_on_every_rank(model, when, buffers=True):
    every = [int(d.numpy()[0]) for d in dist.all_gather(digest(model, buffers))]
    assert len(set(every)) == 1, f"rank {dist.rank()}: parameters differ across ranks {when}: {every}"


def data(dtype):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((STEPS * BATCH, FEATURES)).astype(dtype)
    y = rng.integers(0, CLASSES, STEPS * BATCH)
    return ndl.data.NDArrayDataset(X, y)


def mlp(dtype, norm=None):
    # Before a norm, no bias: its true gradient is 0, and Adam would amplify the rounding noise in it.
    layers = [nn.Linear(FEATURES, 32, bias=norm is None, dtype=dtype)]
    if norm is not None:
        layers.append(norm(32, dtype=dtype))
    layers += [nn.ReLU(), nn.Linear(32, CLASSES, dtype=dtype)]
    return nn.Sequential(*layers)


def optimizer(name, params):
    if name == "sgd":
        return ndl.optim.SGD(params, lr=0.1, momentum=0.9)
    if name == "plain-sgd":  # no per-parameter state: the parameters may be kept once per machine
        return ndl.optim.SGD(params, lr=0.1)
    return ndl.optim.Adam(params, lr=0.01)


def train(model, opt, loader, each_step=None):
    loss_fn = nn.SoftmaxLoss()
    steps = 0
    for X, y in loader:
        opt.reset_grad()
        loss_fn(model(X), y).backward()
        opt.step()
        steps += 1
        if each_step is not None:
            each_step(steps)
    assert steps == STEPS, f"{steps} steps, expected {STEPS}"
    return model


def one_process(dtype, opt_name, norm=None):
    """The reference: one process, batch B, the same initial weights and order."""
    np.random.seed(0)
    model = mlp(dtype, norm)
    np.random.seed(7)
    loader = ndl.data.DataLoader(data(dtype), BATCH, shuffle=True)
    return train(model, optimizer(opt_name, model.parameters()), loader)


def two_ranks(dtype, opt_name, norm=None, shared_parameters=False):
    """Each rank with batch B/2; rank 1 starts from other weights, which wrapping must replace.

    With per-rank BatchNorm the running statistics differ after a step (each rank saw its shard) until
    the next forward copies rank 0's, so only the parameters are compared then."""
    buffers = norm is not nn.BatchNorm1d
    np.random.seed(0 if dist.rank() == 0 else 100)
    inner = mlp(dtype, norm)
    model = nn.parallel.DistributedDataParallel(inner)
    assert_same_on_every_rank(model, "after wrapping")
    opt = model.attach(optimizer(opt_name, model.parameters()), shared_parameters=shared_parameters)
    np.random.seed(7)
    loader = ndl.data.DataLoader(data(dtype), BATCH // dist.world_size(), shuffle=True, distributed=True)
    train(model, opt, loader, lambda step: assert_same_on_every_rank(model, f"after step {step}", buffers))
    return inner


def compare(name, got, want, dtype):
    worst = 0.0
    for (key, a), (_, b) in zip(got.state_dict().items(), want.state_dict().items()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), err_msg=f"{name}: {key}", **TOLERANCE[dtype])
        worst = max(worst, float(np.abs(a.numpy() - b.numpy()).max()))
    if dist.rank() == 0:
        print(f"{name}: largest difference to one process {worst:.2e}", flush=True)


def check_collectives():
    r, size = dist.rank(), dist.world_size()
    t = ndl.Tensor(np.array([1.0, 2.0], dtype=np.float32) * (r + 1))
    assert dist.all_reduce(t) is t and np.allclose(t.numpy(), [3.0, 6.0]) and t.dtype == np.float32
    t = ndl.Tensor(np.array([r + 1.0]))
    assert np.allclose(dist.all_reduce(t, op="mean").numpy(), [1.5])
    assert dist.all_reduce(np.array([r, -r]), op="max").tolist() == [size - 1, 0]
    b = dist.broadcast(np.full(3, r, dtype=np.int32), root=1)
    assert b.tolist() == [1, 1, 1]
    gathered = dist.all_gather(ndl.Tensor(np.full((2, 2), float(r))))
    assert [float(g.numpy()[0, 0]) for g in gathered] == [0.0, 1.0]
    try:
        dist.all_reduce(np.zeros(2 + r))
    except ValueError as error:
        assert "ranks disagree" in str(error), error
    else:
        raise AssertionError("all_reduce of different shapes was not refused")
    dist.barrier()


def check_sampler():
    n = 11
    shards = dist.all_gather(np.array(list(ndl.data.DistributedSampler(n, seed=5))))
    both = np.concatenate([s.numpy() for s in shards])
    assert len(both) == 12 and set(both.tolist()) == set(range(n)), both  # padded by one, every index seen
    assert not set(shards[0].numpy().tolist()) & set(shards[1].numpy()[:-1].tolist()) or n % 2
    kept = dist.all_gather(np.array(list(ndl.data.DistributedSampler(n, seed=5, drop_last=True))))
    both = np.concatenate([s.numpy() for s in kept])
    assert len(both) == 10 and len(set(both.tolist())) == 10


def check_buckets():
    """Default buckets: one sum for the MLP; tiny buckets: more sums, the same average. Summed in shared
    memory (both ranks run here) and by Allreduce (shared_memory=False), to the same bits."""
    calls = []
    reduce = dist.world.bucket_all_reduce_sum

    def counted(bucket):
        calls.append((bucket.count, bucket.shared))
        return reduce(bucket)

    dist.world.bucket_all_reduce_sum = counted
    try:
        averages = []
        for shared_memory in (None, False):
            np.random.seed(0)
            model = nn.parallel.DistributedDataParallel(mlp("float32"), shared_memory=shared_memory)
            for cap in (nn.parallel.DEFAULT_BUCKET_MB, 0.001):
                model.bucket_cap_mb = cap
                for _ in range(2):  # the second call reuses the buckets' buffers
                    for p in model.parameters():
                        p.grad = ndl.Tensor(np.full(p.shape, dist.rank() + 1.0, dtype=np.float32))
                    model.average_gradients()
                averages.append(np.concatenate([p.grad.numpy().ravel() for p in model.parameters()]))
            if shared_memory is None:
                grad = model.parameters()[0].grad.numpy()
                assert not grad.flags.writeable, "an average in shared memory must be read-only"
    finally:
        dist.world.bucket_all_reduce_sum = reduce
    total = sum(int(np.prod(p.shape)) for p in model.parameters())
    assert calls[0] == (total, True) and len(calls) > 6, calls
    assert {shared for _, shared in calls[: len(calls) // 2]} == {True}, calls
    assert {shared for _, shared in calls[len(calls) // 2:]} == {False}, calls
    assert calls[len(calls) // 2] == (total, False), calls
    assert np.allclose(averages[0], 1.5) and all(np.array_equal(averages[0], a) for a in averages), averages


def check_shared_parameters():
    """attach(shared_parameters=True): one copy of the weights on the machine (a write by rank 0 is
    seen by rank 1), data given later is adopted into it, stateful optimizers are refused."""
    model = nn.parallel.DistributedDataParallel(mlp("float32"))
    opt = model.attach(optimizer("plain-sgd", model.parameters()), shared_parameters=True)
    first = model.parameters()[0]
    dist.barrier()
    if dist.rank() == 0:
        first.cached_data[0, 0] = 42.0
    dist.barrier()
    assert first.numpy()[0, 0] == 42.0, f"rank {dist.rank()}: the parameters are not one copy"
    dist.barrier()
    for p in model.parameters():  # as load_state_dict does, the same data on every rank
        p.data = ndl.Tensor(np.full(p.shape, 0.5, dtype=np.float32))
    X, y = data("float32")[0:BATCH // 2]
    opt.reset_grad()
    nn.SoftmaxLoss()(model(ndl.Tensor(X)), ndl.Tensor(y)).backward()
    opt.step()
    assert not first.cached_data.flags.owndata, "a replaced parameter was not put back in shared memory"
    assert_same_on_every_rank(model, "after adopting replaced data")
    shape = first.shape
    first.data = ndl.Tensor(np.zeros(shape[1:], dtype=np.float32))  # would broadcast: refused
    refused(ValueError, "kept in shared memory as", opt.step, "data of another shape in a shared parameter")
    first.data = ndl.Tensor(np.full(shape, 0.5, dtype=np.float32))
    stateful = nn.parallel.DistributedDataParallel(mlp("float32"))
    refused(ValueError, "without per-parameter state",
            lambda: stateful.attach(optimizer("adam", stateful.parameters()), shared_parameters=True),
            "Adam attached with shared parameters")
    opt.param_groups[0]["momentum"] = 0.9
    opt.reset_grad()
    nn.SoftmaxLoss()(model(ndl.Tensor(X)), ndl.Tensor(y)).backward()
    refused(RuntimeError, "now keeps per-parameter state", opt.step, "momentum turned on after attach")


def refused(kind, text, call, what):
    """Assert that `call()` raises `kind` with `text` in its message; `what` names the case."""
    try:
        call()
    except kind as error:
        assert text in str(error), error
    else:
        raise AssertionError(f"not refused: {what}")


def check_different_models_are_refused():
    refused(ValueError, "the ranks' models differ",
            lambda: nn.parallel.DistributedDataParallel(nn.Linear(3, 2 + dist.rank())), "models of different shapes")


def checks():
    assert dist.world_size() == 2, dist.world_size()
    check_collectives()
    check_different_models_are_refused()
    check_sampler()
    check_buckets()
    check_shared_parameters()
    for dtype in ("float32", "float64"):
        for opt_name in ("sgd", "adam"):
            compare(f"mlp {opt_name} {dtype}", two_ranks(dtype, opt_name), one_process(dtype, opt_name), dtype)
        compare(
            f"mlp plain-sgd shared {dtype}", two_ranks(dtype, "plain-sgd", shared_parameters=True),
            one_process(dtype, "plain-sgd"), dtype,
        )
        compare(
            f"SyncBatchNorm adam {dtype}", two_ranks(dtype, "adam", nn.SyncBatchNorm),
            one_process(dtype, "adam", nn.BatchNorm1d), dtype,
        )
    two_ranks("float32", "sgd", nn.BatchNorm1d)  # per-rank statistics; buffers still agree (digests)
    if dist.rank() == 0:
        print("rank 0: all checks passed", flush=True)


def fail(how):
    dist.init()
    if dist.rank() == 1:
        time.sleep(0.3)
        if how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        raise RuntimeError("deliberate failure on rank 1")
    dist.barrier()  # rank 0 waits here for a rank that never comes
    print("rank 0 left the barrier", flush=True)


if __name__ == "__main__":
    scenario = sys.argv[1]
    if scenario == "checks":
        checks()
    else:
        fail(scenario)
