"""`ndl.compile` on workloads 1 and 2: the compiled MLP epoch and the compiled 1000-op chain,
against the hand-written NumPy of `mlp.numpy_epoch` and `overhead.numpy_chain`, with the one-off
cost of tracing and generating code, and how it grows with graph size.

    python -m benchmarks.run --only compiled
"""
import time

import numpy as np

import needle as ndl

from . import lstm, mlp, overhead
from .common import built_then_timed, interleaved_medians, optional_import

TRACE_SIZES = (1_000, 10_000, 100_000)  # nodes of the scalar-op chains whose compile time is measured


def compiled_mlp_epoch(X, y, lr, batch):
    """The needle MLP's whole SGD step (forward, backward, update) compiled, run over the epoch.

    The step is traced on its first two calls of each batch size before the timed epoch; the
    parameters are put back afterwards, so the epoch trains from the same start as the other columns
    and ends on the same loss.
    """
    model = mlp.needle_model()
    params = model.parameters()
    loss_fn = ndl.nn.SoftmaxLoss()

    def sgd_step(xb, yb):
        loss = loss_fn(model(xb), yb)
        for p, g in zip(params, ndl.autograd.grad(loss, params)):
            p.data = p + g * -lr  # two passes over W, as the hand-written `param -= lr * grad`
        return loss

    step = ndl.compile(sgd_step)
    batches = [
        (ndl.Tensor.from_numpy(X[start:start + batch]), ndl.Tensor.from_numpy(y[start:start + batch]))
        for start in range(0, len(X), batch)
    ]
    start = [p.numpy().copy() for p in params]
    for xb, yb in (batches[0], batches[0], batches[-1], batches[-1]):
        step(xb, yb)
    for p, array in zip(params, start):
        p.data = ndl.Tensor(array)

    def epoch():
        for xb, yb in batches:
            loss = step(xb, yb)
        return float(loss.numpy())

    epoch.step = step
    return epoch


def compiled_chain_function():
    """The chain of `overhead.needle_chain` as a function of x, with its gradient: compiled."""

    def chain(x):
        y = x
        for _ in range(overhead.CHAIN_OPS // 3):
            y = ndl.relu(y * 1.001 + 0.01)
        return y.sum()

    return ndl.compile(ndl.func.value_and_grad(chain))


def compiled_chain_runner():
    step = compiled_chain_function()
    x = ndl.Tensor(overhead._start(), requires_grad=False)
    step(x)
    step(x)

    def run():
        total, grad = step(x)
        return float(total.numpy()), grad.numpy()

    return run


def compiled_lm_step():
    """Workload 8's LSTM language-model step with its forward, loss and gradients compiled (clipping
    and Adam stay eager), from the same weights and batches as `lstm.needle_step`."""
    batches, vocabulary = lstm._batches()
    model = lstm.needle_model(vocabulary).train()
    params = model.parameters()
    opt = ndl.optim.Adam(params, lr=lstm.LR)
    loss_fn = ndl.nn.SoftmaxLoss()

    def forward(data, target, h, c):
        logits, (h_next, c_next) = model(data, (h, c))
        return loss_fn(logits, target), h_next, c_next

    compiled = ndl.compile(forward, wrt=params)
    zeros = np.zeros((lstm.LAYERS, lstm.BATCH, lstm.HIDDEN), dtype=np.float32)
    state = {"h": ndl.Tensor(zeros, requires_grad=False), "c": ndl.Tensor(zeros, requires_grad=False), "i": 0}

    def step():
        data, target = ndl.data.get_batch(batches, state["i"], lstm.TIME)
        (loss, h, c), grads = compiled(data, target, state["h"], state["c"])
        opt.reset_grad()
        for p, g in zip(params, grads):
            p.grad = g
        ndl.optim.clip_grad_norm(params, lstm.CLIP)
        opt.step()
        state["h"], state["c"], state["i"] = h, c, state["i"] + lstm.TIME
        return float(loss.numpy())

    for _ in range(3):  # two traced steps, then the first replay
        step()
    step.compiled = compiled
    return step


def trace_seconds(nodes):
    """Seconds to trace, check and generate a chain of `nodes` scalar ops (two traced calls)."""

    def chain(x):
        for _ in range(nodes // 2):
            x = x * 1.0001 + 0.001
        return x

    step = ndl.compile(chain)
    x = ndl.Tensor(np.ones(4, dtype=np.float32), requires_grad=False)
    start = time.perf_counter()
    step(x)
    first = time.perf_counter() - start
    start = time.perf_counter()
    step(x)
    return first, time.perf_counter() - start


def run_workload(repeats, data):
    rows = []
    if data is not None:
        X, y = data
        runners = {
            "numpy": built_then_timed(mlp.numpy_epoch, X, y, 0.1, 128),
            "needle": built_then_timed(mlp.needle_epoch, X, y, 0.1, 128),
            "compiled": built_then_timed(compiled_mlp_epoch, X, y, 0.1, 128),
        }
        start = time.perf_counter()
        compiled_mlp_epoch(X, y, 0.1, 128)
        build = time.perf_counter() - start
        medians = interleaved_medians(runners, repeats * 3)
        base = medians["numpy"][0]
        for name, (seconds, loss) in medians.items():
            rows.append({"workload": "1. MLP epoch", "impl": name, "seconds": seconds, "ratio_to_numpy": seconds / base,
                         "final_loss": loss, "trace_s": build if name == "compiled" else None})
    runners = {"numpy": overhead.numpy_chain, "needle": overhead.needle_chain, "compiled": compiled_chain_runner()}
    start = time.perf_counter()
    compiled_chain_runner()
    build = time.perf_counter() - start
    medians = interleaved_medians(runners, repeats * 5)
    base = medians["numpy"][0]
    for name, (seconds, result) in medians.items():
        rows.append({"workload": "2. 1000-op chain", "impl": name, "seconds": seconds,
                     "ratio_to_numpy": seconds / base, "final_loss": result[0],
                     "trace_s": build if name == "compiled" else None})
    runners = {"needle": built_then_timed(lstm.needle_step), "compiled": built_then_timed(compiled_lm_step)}
    if optional_import("torch") is not None:
        runners["torch"] = built_then_timed(lstm.torch_step)
    medians = interleaved_medians(runners, repeats)
    base = medians["torch" if "torch" in runners else "needle"][0]
    for name, (seconds, loss) in medians.items():
        rows.append({"workload": "8. LSTM LM step", "impl": name, "seconds": seconds,
                     "ratio_to_numpy": None, "ratio_to_torch": seconds / base if "torch" in runners else None,
                     "final_loss": loss, "trace_s": None})
    for nodes in TRACE_SIZES:
        first, second = trace_seconds(nodes)
        rows.append({"workload": f"trace+codegen, {nodes} nodes", "impl": "compiled", "seconds": first,
                     "ratio_to_numpy": None, "final_loss": None, "trace_s": second})
    return rows
