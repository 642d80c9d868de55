"""needle-train's checkpoint, OUT/checkpoint.npz: written after every epoch, checked whole on --resume.

It holds the settings, the finished epochs, the history, the model's and the optimizer's state dicts
and NumPy's global RNG state (`np.random.get_state()`, which `ndl.save` keeps as it is), so that a
resumed run continues exactly as an uninterrupted one would. Reading it checks every field against
`schema` before anything is used; a field that breaks it is a UsageError naming the field.
"""
import numpy as np

import needle as ndl

from . import schema
from .optimizers import build_optimizer, build_scheduler
from .settings import UsageError

__all__ = ["CHECKPOINT_NAME", "save_checkpoint", "read_checkpoint", "restore", "start_or_resume"]

CHECKPOINT_NAME = "checkpoint.npz"


def save_checkpoint(path, settings, epoch, history, model, opt, vocabulary=None):
    """Write everything a resumed run needs to `path`; `ndl.save` replaces the file atomically.

    A language model's checkpoint also holds `vocabulary`, the token of each id."""
    state = {
        "format": schema.FORMAT,
        "version": schema.VERSION,
        "settings": settings,
        "epoch": epoch,
        "history": history,
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "rng": np.random.get_state(),
    }
    if vocabulary is not None:
        state["vocabulary"] = list(vocabulary)
    path.parent.mkdir(parents=True, exist_ok=True)
    ndl.save(state, path)


def read_checkpoint(path, option="--resume"):
    """The checkpoint at `path` with its settings, epoch, history, RNG state (and vocabulary) checked.

    `option` names the command-line option that asked for it in errors.

    The model and optimizer states need the model built from those settings: `restore` checks them.
    """
    if not path.is_file():
        where = "; train without --resume first, or pass --out" if option == "--resume" else ""
        raise UsageError(f"{option}: no checkpoint at {path}{where}")
    try:
        saved = ndl.load(path)
    except (OSError, ValueError) as error:
        raise UsageError(f"{option}: cannot read {path}: {error}") from None
    try:
        schema.check_header(saved)
        settings = schema.check_settings(saved["settings"])
        epoch = schema.check_epoch(saved["epoch"], settings)
        if "vocabulary" in saved:
            saved = dict(saved, vocabulary=schema.check_vocabulary(saved["vocabulary"], settings))
        return dict(
            saved,
            settings=settings,
            epoch=epoch,
            history=schema.check_history(saved["history"], epoch),
            rng=schema.check_rng(saved["rng"]),
        )
    except schema.CheckpointError as error:
        raise UsageError(f"checkpoint {path}: {error}") from None


def restore(saved, path, model, opt):
    """Check the model and optimizer states of `saved` against `model` and `opt`, then load them and
    the RNG state. `opt`'s rate must already be the one of epoch `saved["epoch"]`."""
    try:
        schema.check_model_state(saved["model"], model)
        schema.check_optimizer_state(saved["optimizer"], opt)
    except schema.CheckpointError as error:
        raise UsageError(f"checkpoint {path}: {error}") from None
    model.load_state_dict(saved["model"])
    opt.load_state_dict(saved["optimizer"])
    np.random.set_state(saved["rng"])


def start_or_resume(settings, model, saved, out, done):
    """(optimizer, scheduler, history) for training `model` with `settings` from epoch `done`; with a
    checkpoint `saved` (read from `out`), the model, optimizer, RNG state and history come from it."""
    opt = build_optimizer(settings["optimizer"], model.parameters(), settings["lr"], settings["weight_decay"])
    scheduler = build_scheduler(opt, settings["lr_decay"], done)
    history = {name: list(saved["history"][name]) if saved else [] for name in schema.HISTORY}
    if saved:
        restore(saved, out / CHECKPOINT_NAME, model, opt)
        print(f"resuming {out / CHECKPOINT_NAME} after epoch {done}")
    return opt, scheduler, history
