"""needle-train's command line: the options, their checks, and errors as one line with exit code 2."""
import argparse
import math
from pathlib import Path

from .cifar import CIFAR10_MIRROR
from .download import DEFAULT_MIRROR
from .language_settings import LANGUAGE_DATASETS, LANGUAGE_DEFAULTS, LANGUAGE_MODELS, MAX_LAYERS, MAX_SEQ_LEN
from .models import MODELS
from .optimizers import OPTIMIZERS
from .settings import DATASETS, DEFAULTS, MAX_HIDDEN, MAX_SEED

__all__ = ["PROG", "build_parser"]

PROG = "needle-train"


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
hidden_width = _number(int, lambda value: 0 < value <= MAX_HIDDEN, f"must be in 1..{MAX_HIDDEN}")
seed_value = _number(int, lambda value: 0 <= value <= MAX_SEED, f"must be in 0..{MAX_SEED}")
positive_float = _number(float, lambda value: 0 < value < math.inf, "must be a finite number > 0")
non_negative_float = _number(float, lambda value: 0 <= value < math.inf, "must be zero or positive")
decay_factor = _number(float, lambda value: 0 < value <= 1, "must be in (0, 1]")
layer_count = _number(int, lambda value: 0 < value <= MAX_LAYERS, f"must be in 1..{MAX_LAYERS}")
sequence_length = _number(int, lambda value: 0 < value <= MAX_SEQ_LEN, f"must be in 1..{MAX_SEQ_LEN}")


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
    lines += [
        "language models (--dataset pydoc or ptb):",
        "  dataset model       epochs batch lr      decay optimizer hidden embedding layers seq-len clip",
    ]
    for (dataset, model), row in LANGUAGE_DEFAULTS.items():
        lines.append(
            f"  {dataset:<7} {model:<11} {row['epochs']:>6} {row['batch_size']:>5} {row['lr']:<7g} "
            f"{row['lr_decay']:<5g} {row['optimizer']:<9} {row['hidden']:>6} {row['embedding']:>9} "
            f"{row['layers']:>6} {row['seq_len']:>7} {row['clip']:g}"
        )
    return "\n".join(lines)


def build_parser():
    """The argparse parser of needle-train; an option left out is None (the defaults fill it)."""
    parser = _Parser(
        prog=PROG,
        description="Train a classifier or a language model with needle and save its checkpoint and learning curves.",
        epilog=_defaults_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", choices=MODELS + LANGUAGE_MODELS, help="default: mlp (lstm for text)")
    parser.add_argument(
        "--dataset", choices=DATASETS + LANGUAGE_DATASETS,
        help="default: spiral (generated, no files); pydoc is the Python language reference, as characters",
    )
    parser.add_argument(
        "--data-dir", type=Path,
        help="folder of the four MNIST .gz files (default: needle.data.default_mnist_dir(): "
        "$NEEDLE_MNIST_DIR, else the user data folder, else ./data); for --dataset ptb, the folder holding "
        "train.txt and test.txt",
    )
    parser.add_argument(
        "--download", action="store_true",
        help="fetch missing MNIST files, or the CIFAR-10 archive (unpacked to cifar-10-batches-py), into --data-dir",
    )
    parser.add_argument(
        "--mirror",
        help=f"base URL for --download (default: {DEFAULT_MIRROR} for MNIST, {CIFAR10_MIRROR} for CIFAR-10)",
    )
    parser.add_argument("--epochs", type=positive_int, help="train until this many epochs are done")
    parser.add_argument("--batch-size", type=positive_int)
    parser.add_argument("--lr", type=positive_float, help="learning rate of the first epoch")
    parser.add_argument(
        "--lr-decay", type=decay_factor, help="factor applied to the learning rate after each epoch"
    )
    parser.add_argument("--optimizer", choices=OPTIMIZERS)
    parser.add_argument("--weight-decay", type=non_negative_float)
    parser.add_argument("--hidden", type=hidden_width, help="hidden width (mlp, resnet)")
    parser.add_argument("--embedding", type=hidden_width, help="embedding width (language models)")
    parser.add_argument("--layers", type=layer_count, help="recurrent or transformer layers (language models)")
    parser.add_argument("--seq-len", type=sequence_length, help="steps per chunk of backpropagation through time")
    parser.add_argument("--clip", type=non_negative_float, help="largest global gradient norm (0: no clipping)")
    parser.add_argument("--seed", type=seed_value, help="seed of NumPy's global RNG (default: 0)")
    parser.add_argument("--out", type=Path, help="output folder (default: runs/DATASET-MODEL)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz")
    parser.add_argument(
        "--compile", action="store_true",
        help="run each training step as one ndl.compile'd NumPy program and print the speed-up measured "
        "against eager steps (classifiers only, not with --distributed)",
    )
    parser.add_argument(
        "--distributed", action="store_true",
        help="data-parallel over the ranks of mpiexec (mpiexec -n 4 needle-train ... --distributed): the batch "
        "is split across ranks, rank 0 prints and writes",
    )
    return parser
