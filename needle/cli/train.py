"""needle-train: train a softmax, MLP, MLP-ResNet or CNN classifier on the spiral set, MNIST or CIFAR-10.

    needle-train                                    # an MLP on the generated spiral set, seconds
    needle-train --dataset mnist --model resnet     # MNIST from --data-dir (fetch with --download)
    needle-train --dataset mnist --model cnn        # a small CNN on MNIST's images (1 x 28 x 28)
    needle-train --dataset cifar10 --model resnet9 --data-dir DIR --download   # the course's ResNet9
    needle-train --resume --epochs 40               # continue the run saved in --out

Each epoch prints the train and test loss and accuracy and saves a checkpoint (model, optimizer,
epoch, history and NumPy's RNG state) to OUT/checkpoint.npz, so a resumed run continues exactly
as an uninterrupted one would. The curves go to OUT/curves.png when matplotlib is installed.
Errors a user can fix (bad arguments, missing files, a bad checkpoint) print one line to stderr
and exit with 2.
"""
import sys
import time

import numpy as np

from .arguments import PROG, build_parser
from .augment import RandomShifts
from .checkpoint import CHECKPOINT_NAME, read_checkpoint, save_checkpoint, start_or_resume
from .cifar import cifar10_folder, load_cifar10
from .data import load_mnist, load_spiral, mnist_folder
from .distributed import Ranks, exit_code, refuse_for_language
from .compiled import CompiledTraining
from .epoch import run_epoch
from .language import train_language
from .language_settings import is_language_run, refuse_language_options
from .models import build_model
from .plot import plot_curves
from .schema import HISTORY
from .settings import (
    IMAGE_SHAPES, SHAPES, SHIFTS, UsageError, default_out, describe, epochs_done, input_shape, resolve_settings,
)

__all__ = ["main", "train"]

CURVES_NAME = "curves.png"
TEST_BATCH = 1000


def main(argv=None):
    """Entry point of `needle-train` and `python -m needle.cli.train`; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        train(args)
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return exit_code(2)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; --resume continues from the last finished epoch", file=sys.stderr)
        return exit_code(130)
    return 0


def train(args):
    """Run the CLI: resolve settings, build the model, load data, train to --epochs, checkpoint and
    plot each epoch; returns the history {name: [one value per epoch]}."""
    if getattr(args, "compile", False) and (is_language_run(args) or getattr(args, "distributed", False)):
        raise UsageError("--compile: trains the classifiers (spiral, mnist, cifar10) on one process only")
    if is_language_run(args):
        return _train_language(args)
    out = args.out
    saved = None
    if args.resume:
        out = out or default_out(args.dataset or "spiral", args.model or "mlp")
        saved = read_checkpoint(out / CHECKPOINT_NAME)
        if "vocabulary" in saved:  # a language model's checkpoint, named by --out alone
            return _train_language(args, out, saved)
        refuse_language_options(args)
    settings = resolve_settings(args, saved["settings"] if saved else None)
    out = out or default_out(settings["dataset"], settings["model"])
    done = epochs_done(out, settings, saved)

    ranks = Ranks(getattr(args, "distributed", False))
    np.random.seed(settings["seed"])
    in_features, num_classes = SHAPES[settings["dataset"]]
    image_shape = IMAGE_SHAPES.get(settings["dataset"])
    model = build_model(settings["model"], in_features, num_classes, settings["hidden"], image_shape)
    opt, scheduler, history = start_or_resume(settings, model, saved, out, done)

    if settings["dataset"] == "spiral":
        train_set, test_set, source = load_spiral()
    elif settings["dataset"] == "cifar10":
        data_dir = cifar10_folder(args.data_dir, args.download)
        train_set, test_set, source = load_cifar10(data_dir, args.download, args.mirror)
    else:
        data_dir = mnist_folder(args.data_dir, args.download)
        train_set, test_set, source = load_mnist(data_dir, args.download, args.mirror)
    print(describe(settings, source, len(train_set), len(test_set)))
    if settings["model"] in SHIFTS:
        train_set = RandomShifts(train_set, input_shape(settings), SHIFTS[settings["model"]])
    train_loader = ranks.loader(train_set, settings["batch_size"], shuffle=True)
    test_loader = ranks.loader(test_set, TEST_BATCH * ranks.size)
    net = ranks.wrap(model, opt)
    compiled = CompiledTraining(net) if getattr(args, "compile", False) else None
    epochs = settings["epochs"]
    for index in range(done, epochs):
        started = time.perf_counter()
        shape = input_shape(settings)
        train_result = run_epoch(train_loader, net, opt, f"epoch {index + 1}/{epochs}", shape, compiled=compiled)
        train_error, train_loss = ranks.average(train_result)
        test_error, test_loss = ranks.average(run_epoch(test_loader, net, input_shape=shape))
        scheduler.step()
        for name, value in zip(HISTORY, (train_loss, 1.0 - train_error, test_loss, 1.0 - test_error)):
            history[name].append(value)
        print(
            f"epoch {index + 1:>3}/{epochs}  train loss {train_loss:.4f} acc {100 * (1 - train_error):6.2f}%  "
            f"test loss {test_loss:.4f} acc {100 * (1 - test_error):6.2f}%  "
            f"({time.perf_counter() - started:.1f} s)"
        )
        if ranks.is_main:
            save_checkpoint(out / CHECKPOINT_NAME, settings, index + 1, history, model, opt)
    if compiled is not None:
        print(compiled.summary())
    print(f"checkpoint: {out / CHECKPOINT_NAME}")
    title = f"{settings['model']} on {source}: {len(train_set)} train / {len(test_set)} test"
    if ranks.is_main:
        _write_curves(history, out / CURVES_NAME, title)
    return history


def _train_language(args, out=None, saved=None):
    """A language model's run (needle.cli.language), with its curves."""
    refuse_for_language(args)
    history, title, out = train_language(args, out, saved)
    _write_curves(history, out / CURVES_NAME, title)
    return history


def _write_curves(history, path, title):
    try:
        plot_curves(history, path, title)
    except ImportError:
        print("matplotlib is not installed, so no plot was drawn (pip install 'needle[plot]')")
        return
    print(f"curves: {path}")


if __name__ == "__main__":
    sys.exit(main())
