"""needle-train's settings: their names, limits and per-run defaults, and how options resolve them."""
from pathlib import Path

__all__ = [
    "UsageError", "DATASETS", "SHAPES", "SETTINGS", "DEFAULTS", "FIXED_ON_RESUME", "MAX_HIDDEN",
    "MIN_HIDDEN", "MAX_SEED", "resolve_settings", "describe", "default_out",
]

DATASETS = ("spiral", "mnist")
# (input features, classes) per dataset: the spiral's points are 2-D; MNIST's images 28 x 28.
SHAPES = {"spiral": (2, 3), "mnist": (784, 10)}

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
    }.items()
}
# What a resumed run keeps from its checkpoint (the epoch target may grow).
FIXED_ON_RESUME = ("model", "dataset", "seed") + SETTINGS[1:]
# The narrowest hidden layer per model: resnet's blocks are half as wide, and need a width >= 1.
MIN_HIDDEN = {"softmax": 0, "mlp": 1, "resnet": 2}
# The widest hidden layer: an MLP-ResNet of this width holds about 50 M parameters (200 MB).
MAX_HIDDEN = 4096
MAX_SEED = 2**32 - 1  # NumPy's legacy seeding takes 0 .. 2^32 − 1


class UsageError(Exception):
    """Something the user can fix (arguments, files, a checkpoint); reported as one line."""


def resolve_settings(args, saved=None):
    """The run's settings: explicit options, else the defaults for the dataset and model.

    A resumed run keeps the checkpoint's settings (`saved`, already checked): only --epochs may
    change, and any other option given must match.
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
    if settings["model"] == "resnet" and args.hidden is not None and args.hidden < MIN_HIDDEN["resnet"]:
        raise UsageError(f"--hidden {args.hidden}: resnet's blocks are half as wide, so it must be >= 2")
    if settings["dataset"] == "spiral" and (args.data_dir or args.download):
        raise UsageError("--data-dir and --download apply to --dataset mnist; the spiral set is generated")
    defaults = DEFAULTS[settings["dataset"], settings["model"]]
    for name in SETTINGS:
        explicit = getattr(args, name)
        settings[name] = defaults[name] if explicit is None else explicit
    settings["seed"] = 0 if args.seed is None else args.seed
    return settings


def describe(settings, source, num_train, num_test):
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


def default_out(dataset, model):
    """runs/DATASET-MODEL, relative to the working directory."""
    return Path("runs") / f"{dataset}-{model}"
