"""needle-train's settings: their names, limits and per-run defaults, and how options resolve them."""
from pathlib import Path

__all__ = [
    "UsageError", "DATASETS", "SHAPES", "IMAGE_SHAPES", "CONVOLUTIONAL", "SHIFTS", "SETTINGS", "DEFAULTS",
    "FIXED_ON_RESUME", "MAX_HIDDEN", "MIN_HIDDEN", "MAX_SEED", "resolve_settings", "input_shape", "describe",
    "default_out",
]

DATASETS = ("spiral", "mnist", "cifar10")
# (input features, classes) per dataset: the spiral's points are 2-D; MNIST's images 28 x 28;
# CIFAR-10's 3 x 32 x 32.
SHAPES = {"spiral": (2, 3), "mnist": (784, 10), "cifar10": (3072, 10)}
# The (channels, height, width) a convolutional model sees; the other models see flat features.
IMAGE_SHAPES = {"mnist": (1, 28, 28), "cifar10": (3, 32, 32)}
# The models that take images and have no --hidden width, and the datasets each can read.
CONVOLUTIONAL = {"cnn": ("mnist", "cifar10"), "resnet9": ("cifar10",)}
# Training images of these models are shifted at random by up to this many pixels each way (zero
# fill), a fresh draw per batch. Measured on the 8,000/2,000 MNIST split, 6 epochs of cnn reach
# 98.3 % with the shifts and at most 97.7 % without.
SHIFTS = {"cnn": 2}

SETTINGS = ("epochs", "batch_size", "lr", "lr_decay", "optimizer", "weight_decay", "hidden")
# Per (dataset, model), the SETTINGS that reach the README's targets in seconds (spiral) or a
# minute or two (MNIST) on two cores; command-line options override them. The learning rate of
# epoch i (from 0) is lr · lr_decay^i. softmax has no hidden layer: its width is 0.
DEFAULTS = {
    key: dict(zip(SETTINGS, row))
    for key, row in {
        ("spiral", "softmax"): (20, 32, 0.05, 1.0, "adam", 0.0, 0),
        ("spiral", "mlp"): (30, 32, 0.02, 1.0, "adam", 0.0, 64),
        ("spiral", "resnet"): (20, 32, 0.01, 1.0, "adam", 0.0, 64),
        ("mnist", "softmax"): (10, 100, 0.2, 1.0, "sgd", 0.0, 0),
        ("mnist", "mlp"): (10, 100, 0.002, 0.8, "adam", 0.0, 256),
        ("mnist", "resnet"): (10, 100, 0.002, 0.8, "adam", 0.001, 200),
        ("mnist", "cnn"): (8, 64, 0.002, 0.8, "adam", 0.0, 0),
        ("cifar10", "softmax"): (10, 100, 0.001, 1.0, "adam", 0.0, 0),
        ("cifar10", "mlp"): (10, 100, 0.001, 0.8, "adam", 0.0, 256),
        ("cifar10", "resnet"): (10, 100, 0.001, 0.8, "adam", 0.001, 256),
        ("cifar10", "cnn"): (10, 64, 0.002, 0.8, "adam", 0.0, 0),
        ("cifar10", "resnet9"): (10, 128, 0.001, 1.0, "adam", 0.001, 0),  # the course's train_cifar10
    }.items()
}
# What a resumed run keeps from its checkpoint (the epoch target may grow).
FIXED_ON_RESUME = ("model", "dataset", "seed") + SETTINGS[1:]
# The narrowest hidden layer per model: resnet's blocks are half as wide, and need a width >= 1.
MIN_HIDDEN = {"softmax": 0, "mlp": 1, "resnet": 2, "cnn": 0, "resnet9": 0}
# The widest hidden layer: an MLP-ResNet of this width holds about 50 M parameters (200 MB).
MAX_HIDDEN = 4096
MAX_SEED = 2**32 - 1  # NumPy's legacy seeding takes 0 .. 2^32 − 1


class UsageError(Exception):
    """Something the user can fix (arguments, files, a checkpoint); reported as one line."""


def resumed_settings(args, saved, fixed):
    """A resumed run's settings: the checkpoint's (`saved`), with --epochs the only one that may
    change; any option in `fixed` that is given must match the checkpoint."""
    for name in fixed:
        explicit = getattr(args, name)
        if explicit is not None and explicit != saved[name]:
            raise UsageError(
                f"--{name.replace('_', '-')} {explicit} differs from the checkpoint's "
                f"{saved[name]}; a resumed run keeps its settings"
            )
    return dict(saved, epochs=args.epochs or saved["epochs"])


def epochs_done(out, settings, saved):
    """The epochs the checkpoint `saved` (or None) has done, after checking that `out` can be a folder
    and that --epochs does not ask for fewer than that."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is a file, not a folder; checkpoints and curves go in a folder")
    done = saved["epoch"] if saved else 0
    if settings["epochs"] < done:
        raise UsageError(f"--epochs {settings['epochs']}: the checkpoint already has {done} epochs")
    return done


def resolve_settings(args, saved=None):
    """The run's settings: explicit options, else the defaults for the dataset and model.

    A resumed run keeps the checkpoint's settings (`saved`, already checked): only --epochs may
    change, and any other option given must match.
    """
    if saved is not None:
        return resumed_settings(args, saved, FIXED_ON_RESUME)
    settings = {"model": args.model or "mlp", "dataset": args.dataset or "spiral"}
    if settings["model"] == "softmax" and args.hidden is not None:
        raise UsageError("--hidden applies to --model mlp and resnet; softmax has no hidden layer")
    _check_convolutional(settings["model"], settings["dataset"], args.hidden)
    if settings["model"] == "resnet" and args.hidden is not None and args.hidden < MIN_HIDDEN["resnet"]:
        raise UsageError(f"--hidden {args.hidden}: resnet's blocks are half as wide, so it must be >= 2")
    if settings["dataset"] == "spiral" and (args.data_dir or args.download):
        raise UsageError("--data-dir and --download apply to --dataset mnist and cifar10; the spiral set is generated")
    defaults = DEFAULTS[settings["dataset"], settings["model"]]
    for name in SETTINGS:
        explicit = getattr(args, name)
        settings[name] = defaults[name] if explicit is None else explicit
    settings["seed"] = 0 if args.seed is None else args.seed
    return settings


def _check_convolutional(model, dataset, hidden):
    """cnn and resnet9 read images of the datasets CONVOLUTIONAL lists, and take no --hidden."""
    if model not in CONVOLUTIONAL:
        return
    if dataset not in CONVOLUTIONAL[model]:
        raise UsageError(
            f"--model {model} reads images of {' or '.join(CONVOLUTIONAL[model])}; --dataset {dataset} has none"
        )
    if hidden is not None:
        raise UsageError(f"--hidden applies to --model mlp and resnet; {model}'s widths are fixed")


def input_shape(settings):
    """What one example looks like to the model: (C, H, W) for cnn and resnet9, else (features,)."""
    if settings["model"] in CONVOLUTIONAL:
        return IMAGE_SHAPES[settings["dataset"]]
    return SHAPES[settings["dataset"]][:1]


def describe(settings, source, num_train, num_test):
    """One line: the model, the data and the training settings."""
    parts = [
        f"{settings['optimizer']} lr {settings['lr']:g}"
        + (f" x {settings['lr_decay']:g} per epoch" if settings["lr_decay"] != 1 else ""),
        f"batch {settings['batch_size']}",
        f"weight decay {settings['weight_decay']:g}",
    ]
    if settings["model"] != "softmax" and settings["model"] not in CONVOLUTIONAL:
        parts.append(f"hidden {settings['hidden']}")
    if settings["model"] in SHIFTS:
        parts.append(f"training images shifted up to {SHIFTS[settings['model']]} px")
    parts.append(f"seed {settings['seed']}")
    return f"{settings['model']} on {source}: {num_train} train / {num_test} test; " + ", ".join(parts)


def default_out(dataset, model):
    """runs/DATASET-MODEL, relative to the working directory."""
    return Path("runs") / f"{dataset}-{model}"
