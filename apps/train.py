"""needle-train: train a softmax, MLP or MLP-ResNet classifier on the spiral set or on MNIST.

    needle-train                                    # an MLP on the generated spiral set, seconds
    needle-train --dataset mnist --model resnet     # MNIST from --data-dir (fetch with --download)
    needle-train --resume --epochs 40               # continue the run saved in --out

Each epoch prints the train and test loss and accuracy and saves a checkpoint (model, optimizer,
epoch, history and NumPy's RNG state) to OUT/checkpoint.npz, so a resumed run continues exactly
as an uninterrupted one would. The curves go to OUT/curves.png when matplotlib is installed.
Errors a user can fix (bad arguments, missing files) print one line to stderr and exit with 2.
"""
import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

import needle as ndl
import needle.nn as nn
from apps.download import DEFAULT_MIRROR, TEST_FILES, TRAIN_FILES, DownloadError, download_mnist, has_files
from apps.mlp_resnet import MLPResNet
from apps.plot import plot_curves

PROG = "needle-train"
CHECKPOINT_NAME = "checkpoint.npz"
CHECKPOINT_KEYS = {"settings", "epoch", "history", "model", "optimizer", "rng"}
CURVES_NAME = "curves.png"
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw")

SETTINGS = ("epochs", "batch_size", "lr", "lr_decay", "optimizer", "weight_decay", "hidden")
# Per (dataset, model), the SETTINGS that reach the README's targets in seconds (spiral) or a
# minute or two (MNIST) on two cores; command-line options override them. The learning rate of
# epoch i (from 0) is lr · lr_decay^i.
DEFAULTS = {
    key: dict(zip(SETTINGS, row))
    for key, row in {
        ("spiral", "softmax"): (20, 32, 0.05, 1.0, "adam", 0.0, 0),
        ("spiral", "mlp"): (30, 32, 0.02, 1.0, "adam", 0.0, 64),
        ("spiral", "resnet"): (20, 32, 0.01, 1.0, "adam", 0.0, 64),
        ("mnist", "softmax"): (10, 100, 0.2, 1.0, "sgd", 0.0, 0),
        ("mnist", "mlp"): (10, 100, 0.002, 0.8, "adam", 0.0, 256),
        ("mnist", "resnet"): (10, 100, 0.002, 0.8, "adam", 0.001, 200),
    }.items()
}
# What a resumed run keeps from its checkpoint (the epoch target may grow).
FIXED_ON_RESUME = ("model", "dataset", "seed") + SETTINGS[1:]

# The spiral set: three arms of 400 points, a quarter held out.
SPIRAL_POINTS_PER_CLASS = 400
SPIRAL_TEST_FRACTION = 0.25
# With only the t10k files, this many of its images train and the rest are held out.
MNIST_SPLIT_TRAIN = 8000


class UsageError(Exception):
    """Something the user can fix (arguments, files, a checkpoint); reported as one line."""


class _Parser(argparse.ArgumentParser):
    """argparse with errors as one line, `needle-train: error: ...`, and exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _number(kind, holds, rule):
    """An argparse type: `kind(text)`, refused with "TEXT RULE" unless `holds(value)`."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not holds(value):
            raise argparse.ArgumentTypeError(f"{text} {rule}")
        return value

    return parse


positive_int = _number(int, lambda value: value > 0, "must be positive")
positive_float = _number(float, lambda value: value > 0, "must be positive")
non_negative_float = _number(float, lambda value: value >= 0, "must be zero or positive")
decay_factor = _number(float, lambda value: 0 < value <= 1, "must be in (0, 1]")


def _defaults_table():
    """The DEFAULTS as a table for --help."""
    lines = [
        "defaults (options override them):",
        "  dataset model   epochs batch lr      decay optimizer weight-decay hidden",
    ]
    for (dataset, model), row in DEFAULTS.items():
        lines.append(
            f"  {dataset:<7} {model:<7} {row['epochs']:>6} {row['batch_size']:>5} {row['lr']:<7g} "
            f"{row['lr_decay']:<5g} {row['optimizer']:<9} {row['weight_decay']:<12g} {row['hidden'] or '-'}"
        )
    return "\n".join(lines)


def build_parser():
    parser = _Parser(
        prog=PROG,
        description="Train a classifier with needle and save its checkpoint and learning curves.",
        epilog=_defaults_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", choices=("softmax", "mlp", "resnet"), help="default: mlp")
    parser.add_argument(
        "--dataset", choices=("spiral", "mnist"), help="default: spiral (generated, no files)"
    )
    parser.add_argument(
        "--data-dir", type=Path,
        help="folder of the four MNIST .gz files (default: $NEEDLE_MNIST_DIR, else shared/data/mnist "
        "beside the checkout, else ./data)",
    )
    parser.add_argument("--download", action="store_true", help="fetch missing MNIST files into --data-dir")
    parser.add_argument(
        "--mirror", default=DEFAULT_MIRROR, help="base URL for --download (default: %(default)s)"
    )
    parser.add_argument("--epochs", type=positive_int, help="train until this many epochs are done")
    parser.add_argument("--batch-size", type=positive_int)
    parser.add_argument("--lr", type=positive_float, help="learning rate of the first epoch")
    parser.add_argument(
        "--lr-decay", type=decay_factor, help="factor applied to the learning rate after each epoch"
    )
    parser.add_argument("--optimizer", choices=OPTIMIZERS)
    parser.add_argument("--weight-decay", type=non_negative_float)
    parser.add_argument("--hidden", type=positive_int, help="hidden width (mlp, resnet)")
    parser.add_argument("--seed", type=int, help="seed of NumPy's global RNG (default: 0)")
    parser.add_argument("--out", type=Path, help="output folder (default: runs/DATASET-MODEL)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz")
    return parser


def main(argv=None):
    """Entry point of `needle-train` and `python -m apps.train`; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        train(args)
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; --resume continues from the last finished epoch", file=sys.stderr)
        return 130
    return 0


# ---- settings --------------------------------------------------------------------------------


def resolve_settings(args, saved=None):
    """The run's settings: explicit options, else the defaults for the dataset and model.

    A resumed run keeps the checkpoint's settings (`saved`): only --epochs may change, and any
    other option given must match.
    """
    if saved is not None:
        for name in FIXED_ON_RESUME:
            explicit = getattr(args, name)
            if explicit is not None and explicit != saved[name]:
                raise UsageError(
                    f"--{name.replace('_', '-')} {explicit} differs from the checkpoint's "
                    f"{saved[name]}; a resumed run keeps its settings"
                )
        return dict(saved, epochs=args.epochs or saved["epochs"])
    settings = {"model": args.model or "mlp", "dataset": args.dataset or "spiral"}
    if settings["model"] == "softmax" and args.hidden is not None:
        raise UsageError("--hidden applies to --model mlp and resnet; softmax has no hidden layer")
    if settings["dataset"] == "spiral" and (args.data_dir or args.download):
        raise UsageError("--data-dir and --download apply to --dataset mnist; the spiral set is generated")
    defaults = DEFAULTS[settings["dataset"], settings["model"]]
    for name in SETTINGS:
        explicit = getattr(args, name)
        settings[name] = defaults[name] if explicit is None else explicit
    settings["seed"] = 0 if args.seed is None else args.seed
    return settings


def default_data_dir():
    """$NEEDLE_MNIST_DIR, else shared/data/mnist beside the checkout when it exists, else ./data."""
    found = ndl.data.default_mnist_dir()
    if "NEEDLE_MNIST_DIR" in os.environ or found.is_dir():
        return found
    return Path("data")


# ---- data, model, optimizer ------------------------------------------------------------------


def load_spiral():
    """(train, test, description) of the three-arm spiral, fixed by its own seed."""
    X, y = ndl.data.make_spiral(SPIRAL_POINTS_PER_CLASS, num_classes=3, seed=0)
    train_set, _, test_set = ndl.data.train_val_test_split(
        X, y, val_fraction=0.0, test_fraction=SPIRAL_TEST_FRACTION, seed=0
    )
    return train_set, test_set, "the 3-arm spiral"


def load_mnist(data_dir, download, mirror):
    """(train, test, description) from the MNIST files in `data_dir`, fetching them if asked.

    With the train files the split is the standard 60,000/10,000; with only t10k, a fixed
    permutation of its 10,000 images gives 8,000 for training and 2,000 held out.
    """
    if download:
        try:
            download_mnist(data_dir, mirror)
        except DownloadError as error:
            raise UsageError(str(error)) from None
    try:
        if has_files(data_dir, TRAIN_FILES + TEST_FILES):
            train_set = ndl.data.MNISTDataset(*(data_dir / name for name in TRAIN_FILES))
            test_set = ndl.data.MNISTDataset(*(data_dir / name for name in TEST_FILES))
            return train_set, test_set, "MNIST"
        if has_files(data_dir, TEST_FILES):
            X, y = ndl.data.parse_mnist(*(data_dir / name for name in TEST_FILES))
            held_out = 1.0 - MNIST_SPLIT_TRAIN / len(y)
            train_set, _, test_set = ndl.data.train_val_test_split(
                X, y, val_fraction=0.0, test_fraction=held_out, seed=0
            )
            print(
                f"only the t10k files are in {data_dir}: training on {len(train_set)} of its "
                f"{len(y)} images and testing on the other {len(test_set)} (a fixed split)"
            )
            return train_set, test_set, "MNIST (t10k split)"
    except ndl.data.MNISTFormatError as error:
        raise UsageError(str(error)) from None
    raise UsageError(
        f"no MNIST files in {data_dir}: expected {TEST_FILES[0]} and {TEST_FILES[1]} (and the "
        f"train pair); pass --download to fetch them, or --data-dir"
    )


def build_model(name, in_features, num_classes, hidden):
    """softmax: one Linear layer; mlp: Linear, ReLU, Linear; resnet: MLPResNet with 3 blocks."""
    if name == "softmax":
        return nn.Linear(in_features, num_classes)
    if name == "mlp":
        return nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))
    return MLPResNet(in_features, hidden_dim=hidden, num_classes=num_classes)


def build_optimizer(name, params, lr, weight_decay):
    """sgd; heavy-ball or Nesterov momentum with β = 0.9; Adam (coupled L2) or AdamW (decoupled)."""
    if name == "sgd":
        return ndl.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name == "momentum":
        return ndl.optim.Momentum(params, lr=lr, beta=0.9, weight_decay=weight_decay)
    if name == "nesterov":
        return ndl.optim.Nesterov(params, lr=lr, beta=0.9, weight_decay=weight_decay)
    if name == "adam":
        return ndl.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    return ndl.optim.AdamW(params, lr=lr, weight_decay=weight_decay)


# ---- training --------------------------------------------------------------------------------


def run_epoch(model, loader, opt=None, description=None):
    """One pass over `loader`, training when `opt` is given; returns (mean loss, accuracy).

    The loss is averaged over samples. Training shows a progress bar on a terminal.
    """
    training = opt is not None
    model.train() if training else model.eval()
    loss_fn = nn.SoftmaxLoss()
    total_loss, correct, count = 0.0, 0, 0
    # disable=None: the bar shows on a terminal only, so logs and pipes get the epoch lines alone.
    batches = tqdm(loader, desc=description, leave=False, unit="batch", disable=None) if training else loader
    for X, y in batches:
        if training:
            logits = model(X)
            loss = loss_fn(logits, y)
            opt.reset_grad()
            loss.backward(create_graph=False)
            opt.step()
        else:
            with ndl.no_grad():
                logits = model(X)
                loss = loss_fn(logits, y)
        total_loss += float(loss.numpy()) * X.shape[0]
        correct += int(np.sum(logits.numpy().argmax(axis=1) == y.numpy()))
        count += X.shape[0]
        if training:
            batches.set_postfix(loss=f"{total_loss / count:.4f}", refresh=False)
    return total_loss / count, correct / count


def train(args):
    """Run the CLI: resolve settings, load data, train to --epochs, checkpoint and plot each epoch."""
    saved = None
    out = args.out
    if args.resume:
        out = out or _default_out(args.dataset or "spiral", args.model or "mlp")
        saved = _load_checkpoint(out / CHECKPOINT_NAME)
    settings = resolve_settings(args, saved["settings"] if saved else None)
    out = out or _default_out(settings["dataset"], settings["model"])

    if settings["dataset"] == "spiral":
        train_set, test_set, source = load_spiral()
    else:
        data_dir = args.data_dir or default_data_dir()
        train_set, test_set, source = load_mnist(data_dir, args.download, args.mirror)
    in_features = train_set[0][0].size
    num_classes = 3 if settings["dataset"] == "spiral" else 10

    np.random.seed(settings["seed"])
    model = build_model(settings["model"], in_features, num_classes, settings["hidden"])
    opt = build_optimizer(settings["optimizer"], model.parameters(), settings["lr"], settings["weight_decay"])
    history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": []}
    done = 0
    if saved:
        done = _restore(saved, model, opt, history)
        if settings["epochs"] < done:
            raise UsageError(f"--epochs {settings['epochs']}: the checkpoint already has {done} epochs")
        print(f"resuming {out / CHECKPOINT_NAME} after epoch {done}")
    print(_describe(settings, source, len(train_set), len(test_set)))
    train_loader = ndl.data.DataLoader(train_set, settings["batch_size"], shuffle=True)
    test_loader = ndl.data.DataLoader(test_set, 1000)
    epochs = settings["epochs"]
    for index in range(done, epochs):
        started = time.perf_counter()
        opt.lr = settings["lr"] * settings["lr_decay"] ** index  # a function of the epoch: resumable
        train_loss, train_acc = run_epoch(model, train_loader, opt, f"epoch {index + 1}/{epochs}")
        test_loss, test_acc = run_epoch(model, test_loader)
        for name, value in zip(history, (train_loss, train_acc, test_loss, test_acc)):
            history[name].append(value)
        print(
            f"epoch {index + 1:>3}/{epochs}  train loss {train_loss:.4f} acc {100 * train_acc:6.2f}%  "
            f"test loss {test_loss:.4f} acc {100 * test_acc:6.2f}%  ({time.perf_counter() - started:.1f} s)"
        )
        _save_checkpoint(out / CHECKPOINT_NAME, settings, index + 1, history, model, opt)
    print(f"checkpoint: {out / CHECKPOINT_NAME}")
    title = f"{settings['model']} on {source}: {len(train_set)} train / {len(test_set)} test"
    _write_curves(history, out / CURVES_NAME, title)
    return history


def _describe(settings, source, num_train, num_test):
    """One line: the model, the data and the training settings."""
    parts = [
        f"{settings['optimizer']} lr {settings['lr']:g}"
        + (f" x {settings['lr_decay']:g} per epoch" if settings["lr_decay"] != 1 else ""),
        f"batch {settings['batch_size']}",
        f"weight decay {settings['weight_decay']:g}",
    ]
    if settings["model"] != "softmax":
        parts.append(f"hidden {settings['hidden']}")
    parts.append(f"seed {settings['seed']}")
    return f"{settings['model']} on {source}: {num_train} train / {num_test} test; " + ", ".join(parts)


def _default_out(dataset, model):
    return Path("runs") / f"{dataset}-{model}"


def _write_curves(history, path, title):
    try:
        plot_curves(history, path, title)
    except ImportError:
        print("matplotlib is not installed, so no plot was drawn (pip install 'needle[plot]')")
        return
    print(f"curves: {path}")


# ---- checkpoints -----------------------------------------------------------------------------


def _save_checkpoint(path, settings, epoch, history, model, opt):
    """Everything a resumed run needs; `ndl.save` replaces the file atomically."""
    state = {
        "settings": settings,
        "epoch": epoch,
        "history": history,
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "rng": _rng_state(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    ndl.save(state, path)


def _load_checkpoint(path):
    if not path.is_file():
        raise UsageError(f"--resume: no checkpoint at {path}; train without --resume first, or pass --out")
    try:
        saved = ndl.load(path)
    except (OSError, ValueError) as error:
        raise UsageError(f"--resume: cannot read {path}: {error}") from None
    if not isinstance(saved, dict) or set(saved) != CHECKPOINT_KEYS:
        raise UsageError(f"--resume: {path} is a needle file but not a {PROG} checkpoint")
    return saved


def _restore(saved, model, opt, history):
    """Load the model, optimizer, history and RNG state from `saved`; returns its epoch count."""
    try:
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
    except (ValueError, KeyError) as error:
        raise UsageError(f"--resume: the checkpoint does not fit this model: {error}") from None
    for name in history:
        history[name].extend(float(value) for value in saved["history"][name])
    np.random.set_state(_rng_tuple(saved["rng"]))
    return int(saved["epoch"])


def _rng_state():
    """NumPy's global (legacy) RNG state as a dict of plain values."""
    kind, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    return {
        "kind": kind, "keys": keys, "position": int(position),
        "has_gauss": int(has_gauss), "cached_gaussian": float(cached_gaussian),
    }


def _rng_tuple(state):
    return (
        state["kind"], np.asarray(state["keys"], dtype=np.uint32), int(state["position"]),
        int(state["has_gauss"]), float(state["cached_gaussian"]),
    )


if __name__ == "__main__":
    sys.exit(main())
