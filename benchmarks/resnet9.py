"""Workload 7: one training step of the course's ResNet9 (batch 32, 3 x 32 x 32, Adam), needle vs PyTorch.

Each `*_resnet9_step(X, y)` builds the model and optimizer and returns `step()`, which runs one
forward pass, backward pass and Adam update on the batch and returns the loss; only `step()` is
timed. PyTorch's model gets needle's initial weights (its kernels permuted to (C_out, C_in, K, K)),
so the first losses agree. Peak memory is measured in a fresh process for each library: the peak
growth of the resident set over the first two steps of the built model, which counts what PyTorch
allocates outside Python too; needle's peak as Python's allocation tracer sees it is reported beside it.

    python -m benchmarks.resnet9 --profile      # where needle's step spends its time (cProfile)
"""
import argparse
import cProfile
import gc
import json
import pstats
import subprocess
import sys
from pathlib import Path

import numpy as np

import needle as ndl
from needle.cli.cnn_models import ResNet9

from .common import interleaved_medians, needle_training_step, optional_import, peak_memory_mb

BATCH = 32
LR = 0.001
WEIGHT_DECAY = 0.001


def batch(seed=0):
    """A fixed batch: X float32 (32, 3, 32, 32) in [0, 1), labels (32,) in 0..9."""
    rng = np.random.default_rng(seed)
    return rng.random((BATCH, 3, 32, 32), dtype=np.float32), rng.integers(0, 10, BATCH).astype(np.uint8)


def needle_model(seed=0):
    np.random.seed(seed)
    return ResNet9()


def needle_resnet9_step(X, y, model=None):
    model = model or needle_model()
    model.train()
    opt = ndl.optim.Adam(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    loss_fn = ndl.nn.SoftmaxLoss()
    inputs, labels = ndl.Tensor(X, requires_grad=False), ndl.Tensor(y, requires_grad=False)

    return needle_training_step(lambda: loss_fn(model(inputs), labels), opt)


def torch_model(source=None):
    """PyTorch's ResNet9, the same layers in the same order, with `source`'s (a needle ResNet9) weights."""
    torch = optional_import("torch")
    nn = torch.nn

    def conv_bn(a, b, k, s):
        return nn.Sequential(nn.Conv2d(a, b, k, stride=s, padding=k // 2), nn.BatchNorm2d(b), nn.ReLU())

    class Residual(nn.Module):
        def __init__(self, *layers):
            super().__init__()
            self.fn = nn.Sequential(*layers)

        def forward(self, x):
            return self.fn(x) + x

    model = nn.Sequential(
        conv_bn(3, 16, 7, 4), conv_bn(16, 32, 3, 2), Residual(conv_bn(32, 32, 3, 1), conv_bn(32, 32, 3, 1)),
        conv_bn(32, 64, 3, 2), conv_bn(64, 128, 3, 2), Residual(conv_bn(128, 128, 3, 1), conv_bn(128, 128, 3, 1)),
        nn.Flatten(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10),
    )
    source = source or needle_model()
    ours = [p.numpy() for p in source.parameters()]
    theirs = list(model.parameters())
    if len(ours) != len(theirs):
        raise RuntimeError(f"resnet9 benchmark: needle has {len(ours)} parameter tensors, PyTorch {len(theirs)}")
    with torch.no_grad():
        for mine, param in zip(ours, theirs):
            if mine.ndim == 4:  # needle's (K, K, C_in, C_out) kernel
                mine = mine.transpose(3, 2, 0, 1)
            elif param.ndim == 2:  # needle's Linear weight is (in, out)
                mine = mine.T
            param.copy_(torch.from_numpy(np.ascontiguousarray(mine).reshape(param.shape)))
    return model


def torch_resnet9_step(X, y, model=None):
    torch = optional_import("torch")
    model = model or torch_model()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    loss_fn = torch.nn.CrossEntropyLoss()
    inputs, labels = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))

    def step():
        loss = loss_fn(model(inputs), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


STEP = {"needle": needle_resnet9_step, "torch": torch_resnet9_step}


def _status_kib(field):
    """A field of /proc/self/status in KiB (VmRSS, VmHWM), or None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def step_peak_rss_mb(name, steps=2):
    """Peak growth of the resident set over the first `steps` steps of a built model (run in this
    process): activations, gradients, optimizer state and whatever the allocators keep."""
    if name == "torch":
        optional_import("torch").set_num_threads(2)
    step = STEP[name](*batch())
    gc.collect()
    try:  # "5" resets the high-water mark VmHWM to the current resident set (Linux 4.0+)
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return None
    before = _status_kib("VmRSS")
    for _ in range(steps):
        step()
    peak = _status_kib("VmHWM")
    return None if before is None or peak is None else (peak - before) / 1024


def _peak_rss_in_fresh_process(name):
    code = (
        "import json\nfrom benchmarks.resnet9 import step_peak_rss_mb\n"
        f"print(json.dumps(step_peak_rss_mb({name!r})))"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"benchmarks.resnet9: the memory run of {name} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def run_workload(repeats, _data=None):
    """Rows of median step time, ratio to PyTorch, first loss and peak memory per implementation."""
    X, y = batch()
    impls = {name: build for name, build in STEP.items() if name != "torch" or optional_import("torch")}
    runners = {name: build(X, y) for name, build in impls.items()}
    first = {name: run() for name, run in runners.items()}  # warm-up, and the losses of one model
    medians = interleaved_medians(runners, repeats * 2)
    rows = []
    for name, (seconds, _) in medians.items():
        traced = peak_memory_mb(impls[name](X, y)) if name == "needle" else None
        rows.append({
            "impl": name, "ms_per_step": seconds * 1e3, "first_loss": first[name],
            "peak_rss_mb": _peak_rss_in_fresh_process(name), "traced_peak_mb": traced,
        })
    base = next((row["ms_per_step"] for row in rows if row["impl"] == "torch"), None)
    for row in rows:
        row["ratio_to_torch"] = None if base is None else row["ms_per_step"] / base
    return rows


def profile(steps=5, top=25):
    """cProfile of `steps` needle steps after a warm-up, sorted by own time."""
    step = needle_resnet9_step(*batch())
    step()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        step()
    profiler.disable()
    stats = pstats.Stats(profiler).sort_stats("tottime")
    stats.print_stats(top)
    return stats


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="workload 7: a ResNet9 training step")
    parser.add_argument("--profile", action="store_true", help="profile needle's step instead of timing it")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if args.profile:
        profile()
    else:
        if optional_import("torch") is not None:
            optional_import("torch").set_num_threads(2)
        for row in run_workload(args.repeats):
            print("  ".join(f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}"
                            for key, value in row.items()))
