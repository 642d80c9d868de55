"""Run every workload, print a table of medians and ratios, write results/latest.{json,md}.

    python -m benchmarks.run [--repeats N] [--only mlp,chain,hvp,scalar,resnet,distributed] [--quick]

Implementations are interleaved within each repeat and compared only within this one run.
"""
import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from . import compiled, conv, distributed, gp, lstm, mlp, overhead, resnet, resnet9, transformer
from .common import (
    built_then_timed,
    in_fresh_process,
    interleaved_medians,
    load_mnist_test,
    optional_import,
    peak_memory_mb,
)

RESULTS = Path(__file__).resolve().parent / "results"


def available(implementations):
    """Drop the peers whose package is not installed (the `bench` extra brings them)."""
    return {
        name: fn for name, fn in implementations.items()
        if name not in ("torch", "autograd") or optional_import(name) is not None
    }


def mlp_epoch(repeats, data):
    X, y = data
    impls = available(mlp.EPOCH)
    runners = {name: built_then_timed(build, X, y, 0.1, 128) for name, build in impls.items()}
    # An epoch is short (~0.05 s): three rounds per repeat keep a burst of noise out of the median.
    medians = interleaved_medians(runners, repeats * 3)
    rows = []
    for name, (seconds, final_loss) in medians.items():
        # Peak memory of the epoch as Python's tracer sees it: NumPy buffers and Python objects.
        # PyTorch allocates outside that tracer, so it gets no figure rather than a wrong one.
        peak = None if name == "torch" else peak_memory_mb(impls[name](X, y, 0.1, 128))
        rows.append({"impl": name, "seconds": seconds, "final_loss": final_loss, "peak_mb": peak})
    return _with_ratios(rows, "seconds", "numpy")


def mlp_hvp(repeats, data):
    X, y = data
    xb, yb = X[:128], y[:128]
    V = np.random.default_rng(1).standard_normal((784, mlp.HIDDEN)).astype(np.float32)
    impls = available(mlp.HVP)
    runners = {name: (lambda fn=fn: fn(xb, yb, V)) for name, fn in impls.items()}
    medians = interleaved_medians(runners, repeats * 5)
    reference = medians["numpy"][1]
    rows = []
    for name, (seconds, hv) in medians.items():
        error = float(np.abs(np.asarray(hv) - reference).max() / np.abs(reference).max())
        rows.append({"impl": name, "ms": seconds * 1e3, "max_rel_diff_vs_numpy": error})
    return _with_ratios(rows, "ms", "torch" if "torch" in impls else "numpy")


def small_op_chain(repeats, _data):
    impls = available(overhead.CHAIN)
    medians = interleaved_medians(impls, repeats * 5)
    rows = [
        {"impl": name, "us_per_op": seconds / overhead.CHAIN_OPS * 1e6, "sum": result[0]}
        for name, (seconds, result) in medians.items()
    ]
    return _with_ratios(rows, "us_per_op", "numpy")


def scalar_chain(repeats, _data, nodes=overhead.SCALAR_NODES):
    impls = available(overhead.SCALAR_CHAIN)
    counts = {name: (nodes if name != "torch" else nodes // 10) for name in impls}
    runners = {
        name: in_fresh_process("overhead", fn.__name__, [counts[name]], warmup_args=[1000])
        for name, fn in impls.items()
    }
    medians = interleaved_medians(runners, max(1, repeats // 2))
    rows = [
        {"impl": name, "nodes": counts[name], "us_per_node": seconds / counts[name] * 1e6,
         "grad": result[1]}
        for name, (seconds, result) in medians.items()
    ]
    return _with_ratios(rows, "us_per_node", "floats")


def resnet_epoch(repeats, data):
    X, y = data
    impls = available(resnet.RESNET)
    runners = {name: built_then_timed(build, X, y) for name, build in impls.items()}
    medians = interleaved_medians(runners, repeats)
    rows = [
        {"impl": name, "seconds": seconds, "mean_loss": loss}
        for name, (seconds, loss) in medians.items()
    ]
    return _with_ratios(rows, "seconds", "torch" if "torch" in impls else "needle")


def lstm_step(repeats, _data):
    impls = available(lstm.STEP)
    runners = {name: built_then_timed(build) for name, build in impls.items()}
    medians = interleaved_medians(runners, repeats)
    rows = [{"impl": name, "ms": seconds * 1e3, "loss": loss} for name, (seconds, loss) in medians.items()]
    return _with_ratios(rows, "ms", "torch" if "torch" in impls else "needle")


def conv_step(repeats, _data):
    impls = available(conv.CONV)
    x, kernel, out_grad = conv.operands()
    runners = {name: built_then_timed(build, x, kernel, out_grad) for name, build in impls.items()}
    # A step is short (~20-50 ms): three rounds per repeat keep a burst of noise out of the median.
    medians = interleaved_medians(runners, repeats * 3)
    reference = conv.as_nhwc("numpy", medians["numpy"][1])
    rows = []
    for name, (seconds, result) in medians.items():
        error = max(float(np.abs(ours - theirs).max() / np.abs(theirs).max())
                    for ours, theirs in zip(conv.as_nhwc(name, result), reference))
        peak = None if name == "torch" else peak_memory_mb(impls[name](x, kernel, out_grad))
        rows.append({"impl": name, "ms": seconds * 1e3, "peak_mb": peak, "max_rel_diff_vs_numpy": error})
    return _with_ratios(rows, "ms", "numpy")


def gp_gradient(repeats, _data):
    impls = available(gp.GRADIENT)
    x, y = gp.data()
    runners = {name: (lambda fn=fn: fn(x, y)) for name, fn in impls.items()}
    # A gradient takes ~40-150 ms: three rounds per repeat keep a burst of noise out of the median.
    medians = interleaved_medians(runners, repeats * 3)
    reference = medians["numpy"][1][1]
    rows = []
    for name, (seconds, (value, grads)) in medians.items():
        error = max(abs(g - r) / max(abs(r), 1.0) for g, r in zip(grads, reference))
        rows.append({"impl": name, "ms": seconds * 1e3, "log_p": value, "max_rel_grad_diff_vs_numpy": error})
    return _with_ratios(rows, "ms", "numpy")


def _with_ratios(rows, key, baseline):
    base = next(row[key] for row in rows if row["impl"] == baseline)
    for row in rows:
        row[f"ratio_to_{baseline}"] = row[key] / base
    return rows


def transformer_step(repeats, _data):
    impls = available(transformer.STEP)
    runners = {name: built_then_timed(build) for name, build in impls.items()}
    medians = interleaved_medians(runners, repeats * 2)
    rows = []
    for name, (seconds, loss) in medians.items():
        # A later step's peak beyond the model and optimizer state, as Python's tracer sees it (NumPy
        # buffers and Python objects); PyTorch allocates outside that tracer, so it gets no figure.
        peak = None if name == "torch" else peak_memory_mb(_second_step(impls[name]))
        rows.append({"impl": name, "ms": seconds * 1e3, "loss": loss, "peak_mb": peak})
    return _with_ratios(rows, "ms", "torch" if "torch" in impls else "needle")


def _second_step(build):
    """The step function after one untimed step, which made the optimizer's state."""
    step = build()
    step()
    return step


WORKLOADS = {
    "mlp": ("1. MLP 784-256-10 epoch, SGD, batch 128, MNIST 10k", mlp_epoch, True),
    "chain": ("2. 1000-op elementwise chain on 16 floats, fwd+bwd", small_op_chain, False),
    "hvp": ("3. Hessian-vector product of the MLP loss w.r.t. W1, batch 128", mlp_hvp, True),
    "scalar": ("4. scalar chain of 10^6 nodes, fwd+bwd", scalar_chain, False),
    "resnet": ("5. MLP-ResNet epoch (needle-train's), Adam, batch 100, MNIST 10k", resnet_epoch, True),
    "conv": ("6. conv forward + backward, batch 32, 32 x 32, C 16 -> 32, K 3", conv_step, False),
    "resnet9": ("7. ResNet9 training step, Adam, batch 32, 3 x 32 x 32", resnet9.run_workload, False),
    "lstm": ("8. LSTM language model step (2 x 256, batch 32 x 64 characters), Adam", lstm_step, False),
    "transformer": ("9. Transformer training step (2 layers, d 128, 4 x 32 heads, T 64, batch 32), Adam",
                    transformer_step, False),
    "gp": ("10. Gaussian-process log-likelihood gradient in 3 kernel hyper-parameters, n = 500, float64",
           gp_gradient, False),
    "compiled": ("12. ndl.compile: workloads 1 and 2 compiled against hand-written NumPy; trace+codegen time",
                 compiled.run_workload, False),
    "distributed": ("11. MLP 784-1024-1024-10 epoch at global batch 256 on 1 and 2 MPI ranks, one BLAS thread each; "
                    "Allreduce of 431,946 floats", distributed.run_workload, False),
}


def machine():
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": getattr(optional_import("torch"), "__version__", None),
        "autograd": _version("autograd"),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
    }


def _version(name):
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:
        return None


def to_markdown(report):
    lines = [f"Machine: {json.dumps(report['machine'])}", ""]
    for title, rows in report["workloads"].items():
        lines += [f"### {title}", ""]
        keys = list(rows[0].keys())
        lines.append("| " + " | ".join(keys) + " |")
        lines.append("|" + "---|" * len(keys))
        for row in rows:
            lines.append("| " + " | ".join(_cell(row[k]) for k in keys) + " |")
        lines.append("")
    return "\n".join(lines)


def _cell(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", default=",".join(WORKLOADS))
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",")]
    unknown = [name for name in chosen if name not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {list(WORKLOADS)}")
    if optional_import("torch") is not None:
        import torch

        torch.set_num_threads(os.cpu_count() or 1)
    data = load_mnist_test()
    report = {"machine": machine(), "workloads": {}}
    for name in chosen:
        title, run, needs_mnist = WORKLOADS[name]
        if needs_mnist and data is None:
            print(f"skipping {title}: MNIST t10k files not found (set NEEDLE_MNIST_DIR)")
            continue
        start = time.perf_counter()
        rows = run(args.repeats, data)
        report["workloads"][title] = rows
        print(f"\n{title}  ({time.perf_counter() - start:.0f} s)")
        for row in rows:
            print("  " + "  ".join(f"{k}={_cell(v)}" for k, v in row.items()))
    RESULTS.mkdir(exist_ok=True)
    _write_atomic(RESULTS / "latest.json", json.dumps(report, indent=2, default=float))
    _write_atomic(RESULTS / "latest.md", to_markdown(report))
    print(f"\nwrote {RESULTS / 'latest.json'} and latest.md")
    return 0


def _write_atomic(path, text):
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
