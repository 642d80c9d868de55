"""The schema of a needle-train checkpoint: every field's type, range and shape, checked before use.

A checkpoint, as `ndl.load` returns it, is {"format": "needle-train", "version": 2, "settings",
"epoch", "history", "model" (state dict), "optimizer" (state dict), "rng" (np.random.get_state())}.
Each check raises CheckpointError naming the field by its dotted path, e.g. 'settings.lr'.
"""
import math
import numbers

import numpy as np

import needle as ndl

from .models import MODELS
from .optimizers import OPTIMIZERS
from .language_settings import (
    CHARACTER_DATASETS, LANGUAGE_DATASETS, LANGUAGE_MODELS, LANGUAGE_SETTINGS, MAX_LAYERS, MAX_SEQ_LEN, MAX_VOCABULARY,
)
from .settings import CONVOLUTIONAL, DATASETS, MAX_HIDDEN, MAX_SEED, MIN_HIDDEN, SETTINGS

__all__ = [
    "FORMAT", "VERSION", "FIELDS", "HISTORY", "CheckpointError", "check_header", "check_settings",
    "check_epoch", "check_history", "check_rng", "check_model_state", "check_optimizer_state",
    "LANGUAGE_FIELDS", "check_language_settings", "check_vocabulary",
]

FORMAT = "needle-train"
VERSION = 2  # 1: no format fields, and the RNG state as a dict
FIELDS = ("format", "version", "settings", "epoch", "history", "model", "optimizer", "rng")
# A language model's checkpoint also holds its vocabulary (the token of each id), so that
# needle-generate rebuilds the model and reads prompts from the checkpoint alone.
LANGUAGE_FIELDS = FIELDS + ("vocabulary",)
HISTORY = ("train_loss", "train_acc", "test_loss", "test_acc")
SETTING_FIELDS = ("model", "dataset", "seed") + SETTINGS
RNG_FIELDS = ("kind", "keys", "position", "has_gauss", "cached_gaussian")
MT19937_WORDS = 624
NON_NEGATIVE_STATES = ("v",)  # Adam's second moment: its square root is taken


class CheckpointError(ValueError):
    """A checkpoint field breaks the schema: `field` is its dotted path."""

    def __init__(self, field, problem):
        self.field = field
        super().__init__(f"field '{field}' {problem}")


def _fail(field, rule, value):
    raise CheckpointError(field, f"{rule}, got {_show(value)}")


def _show(value, limit=80):
    """A short description of `value` for an error message."""
    if isinstance(value, ndl.Tensor):
        value = value.numpy()
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, dict):
        text = f"a dict with keys {', '.join(map(str, value))}"
    elif isinstance(value, (list, tuple)):
        text = f"a {type(value).__name__} of {len(value)} item{'s' if len(value) != 1 else ''}"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _join(field, key):
    return f"{field}.{key}" if field else str(key)


def _record(value, field, keys):
    """`value` is a dict holding exactly `keys`; each missing or unknown key is named."""
    if not isinstance(value, dict):
        _fail(field or "checkpoint", f"must be a dict with keys {', '.join(keys)}", value)
    for key in keys:
        if key not in value:
            raise CheckpointError(_join(field, key), "is missing")
    expected = ", ".join(keys) if len(keys) <= 10 else f"the {len(keys)} names this model has"
    for key in value:
        if key not in keys:
            raise CheckpointError(_join(field, key), f"is unknown; expected only {expected}")


def _integer(value, field, low, high=None):
    """`value` is an integer (not a bool) in low..high; returned as an int."""
    rule = f"must be an integer >= {low}" if high is None else f"must be an integer in {low}..{high}"
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)):
        _fail(field, rule, value)
    if value < low or (high is not None and value > high):
        _fail(field, rule, value)
    return int(value)


def _real(value, field, rule, holds):
    """`value` is a finite real number (not a bool) for which `holds` is true; returned as a float."""
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        _fail(field, rule, value)
    if not math.isfinite(value) or not holds(value):
        _fail(field, rule, value)
    return float(value)


def _choice(value, field, options):
    if not isinstance(value, str) or value not in options:
        _fail(field, f"must be one of {', '.join(options)}", value)
    return value


def _array(value, field, shape, dtype):
    """`value` is a Tensor or array of `shape` and `dtype` with finite entries; returned as an array."""
    rule = f"must be an array of shape {shape} and dtype {np.dtype(dtype)}"
    array = value.numpy() if isinstance(value, ndl.Tensor) else value
    if not isinstance(array, np.ndarray) or array.shape != shape or array.dtype != dtype:
        _fail(field, rule, value)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise CheckpointError(field, "must hold finite numbers, got NaN or infinity")
    return array


def check_header(checkpoint):
    """The top level holds exactly FIELDS, and its format and version are this program's."""
    if not isinstance(checkpoint, dict):
        _fail("checkpoint", f"must be a dict with keys {', '.join(FIELDS)}", checkpoint)
    for key in ("format", "version"):
        if key not in checkpoint:
            raise CheckpointError(key, f"is missing: a needle file, but not a {FORMAT} checkpoint of version {VERSION}")
    if not isinstance(checkpoint["format"], str) or checkpoint["format"] != FORMAT:
        _fail("format", f"must be {FORMAT!r}", checkpoint["format"])
    if type(checkpoint["version"]) is not int or checkpoint["version"] != VERSION:
        _fail("version", f"must be {VERSION} (this needle-train's checkpoint format)", checkpoint["version"])
    _record(checkpoint, "", LANGUAGE_FIELDS if _is_language(checkpoint.get("settings")) else FIELDS)


def _is_language(settings):
    return isinstance(settings, dict) and isinstance(settings.get("dataset"), str) and (
        settings["dataset"] in LANGUAGE_DATASETS
    )


def check_settings(settings):
    """The run's settings, each of its type and in its range; returned with plain ints and floats."""
    if _is_language(settings):
        return check_language_settings(settings)
    _record(settings, "settings", SETTING_FIELDS)
    model = _choice(settings["model"], "settings.model", MODELS)
    dataset = _choice(settings["dataset"], "settings.dataset", DATASETS)
    if model in CONVOLUTIONAL and dataset not in CONVOLUTIONAL[model]:
        readable = " or ".join(CONVOLUTIONAL[model])
        raise CheckpointError("settings.model", f"{model} reads images of {readable}, not {dataset}")
    low = MIN_HIDDEN[model]
    high = 0 if model == "softmax" or model in CONVOLUTIONAL else MAX_HIDDEN
    return {
        "model": model,
        "dataset": dataset,
        "seed": _integer(settings["seed"], "settings.seed", 0, MAX_SEED),
        "epochs": _integer(settings["epochs"], "settings.epochs", 1),
        "batch_size": _integer(settings["batch_size"], "settings.batch_size", 1),
        "lr": _real(settings["lr"], "settings.lr", "must be a finite number > 0", lambda x: x > 0),
        "lr_decay": _real(
            settings["lr_decay"], "settings.lr_decay", "must be a number in (0, 1]", lambda x: 0 < x <= 1
        ),
        "optimizer": _choice(settings["optimizer"], "settings.optimizer", OPTIMIZERS),
        "weight_decay": _real(
            settings["weight_decay"], "settings.weight_decay", "must be a finite number >= 0", lambda x: x >= 0
        ),
        "hidden": _integer(settings["hidden"], "settings.hidden", low, high),
    }


def check_language_settings(settings):
    """A language model's settings (language_settings.LANGUAGE_SETTINGS with model, dataset, seed)."""
    _record(settings, "settings", ("model", "dataset", "seed") + LANGUAGE_SETTINGS)
    positive = ("must be a finite number > 0", lambda x: x > 0)
    non_negative = ("must be a finite number >= 0", lambda x: x >= 0)
    return {
        "model": _choice(settings["model"], "settings.model", LANGUAGE_MODELS),
        "dataset": _choice(settings["dataset"], "settings.dataset", LANGUAGE_DATASETS),
        "seed": _integer(settings["seed"], "settings.seed", 0, MAX_SEED),
        "epochs": _integer(settings["epochs"], "settings.epochs", 1),
        "batch_size": _integer(settings["batch_size"], "settings.batch_size", 1),
        "lr": _real(settings["lr"], "settings.lr", *positive),
        "lr_decay": _real(
            settings["lr_decay"], "settings.lr_decay", "must be a number in (0, 1]", lambda x: 0 < x <= 1
        ),
        "optimizer": _choice(settings["optimizer"], "settings.optimizer", OPTIMIZERS),
        "weight_decay": _real(settings["weight_decay"], "settings.weight_decay", *non_negative),
        "hidden": _integer(settings["hidden"], "settings.hidden", 1, MAX_HIDDEN),
        "embedding": _integer(settings["embedding"], "settings.embedding", 1, MAX_HIDDEN),
        "layers": _integer(settings["layers"], "settings.layers", 1, MAX_LAYERS),
        "seq_len": _integer(settings["seq_len"], "settings.seq_len", 1, MAX_SEQ_LEN),
        "clip": _real(settings["clip"], "settings.clip", *non_negative),
    }


def check_vocabulary(vocabulary, settings):
    """The token of each id: a list of distinct non-empty strings, single characters for character data."""
    rule = f"must be a list of 1..{MAX_VOCABULARY} distinct strings"
    if not isinstance(vocabulary, list) or not 0 < len(vocabulary) <= MAX_VOCABULARY:
        _fail("vocabulary", rule, vocabulary)
    characters = settings["dataset"] in CHARACTER_DATASETS
    for i, token in enumerate(vocabulary):
        if not isinstance(token, str) or not token or (characters and len(token) != 1):
            _fail(f"vocabulary.{i}", "must be one character" if characters else "must be a non-empty string", token)
    if len(set(vocabulary)) != len(vocabulary):
        _fail("vocabulary", rule, vocabulary)
    return vocabulary


def check_epoch(epoch, settings):
    """The number of finished epochs: 0..settings.epochs."""
    return _integer(epoch, "epoch", 0, settings["epochs"])


def check_history(history, epoch):
    """One value per finished epoch in each curve: losses finite and >= 0, accuracies in [0, 1]."""
    _record(history, "history", HISTORY)
    checked = {}
    for name in HISTORY:
        field = f"history.{name}"
        values = history[name]
        if not isinstance(values, (list, tuple)) or len(values) != epoch:
            _fail(field, f"must be a list of {epoch} numbers (one per finished epoch)", values)
        if name.endswith("acc"):
            rule, holds = "must be a number in [0, 1]", lambda x: 0 <= x <= 1
        else:
            rule, holds = "must be a finite number >= 0", lambda x: x >= 0
        checked[name] = [_real(value, f"{field}.{i}", rule, holds) for i, value in enumerate(values)]
    return checked


def check_rng(rng):
    """NumPy's legacy RNG state: ("MT19937", 624 uint32 keys not all zero, position, has_gauss, cached)."""
    rule = f"must be NumPy's RNG state, a tuple ({', '.join(RNG_FIELDS)})"
    if not isinstance(rng, (list, tuple)) or len(rng) != len(RNG_FIELDS):
        _fail("rng", rule, rng)
    kind, keys, position, has_gauss, cached_gaussian = rng
    if not isinstance(kind, str) or kind != "MT19937":
        _fail("rng.kind", "must be 'MT19937'", kind)
    keys = _array(keys, "rng.keys", (MT19937_WORDS,), np.uint32)
    if not keys.any():
        raise CheckpointError("rng.keys", "must not be all zero (the generator would only give zeros)")
    return (
        kind,
        keys,
        _integer(position, "rng.position", 0, MT19937_WORDS),
        _integer(has_gauss, "rng.has_gauss", 0, 1),
        _real(cached_gaussian, "rng.cached_gaussian", "must be a finite number", lambda x: True),
    )


def check_model_state(state, model):
    """The model's state dict: the names, shapes and dtypes of `model`'s, with finite values."""
    expected = model.state_dict()
    _record(state, "model", tuple(expected))
    for name, tensor in expected.items():
        _array(state[name], f"model.{name}", tensor.shape, tensor.dtype)


def check_optimizer_state(state, opt):
    """`opt`'s state dict: its groups' hyperparameters (as this run sets them), step count and state
    arrays. A state dict from before parameter groups holds one group's as "hyperparameters"."""
    expected = opt.state_dict()
    (group,) = expected["param_groups"]  # needle-train makes one group of every parameter
    kind = type(opt).__name__
    if isinstance(state, dict) and "hyperparameters" in state:
        _record(state, "optimizer", ("hyperparameters", "t", "state"))
        _check_hyperparameters(state["hyperparameters"], group, "optimizer.hyperparameters", opt)
    else:
        _record(state, "optimizer", tuple(expected))
        groups = state["param_groups"]
        if not isinstance(groups, list) or len(groups) != 1:
            _fail("optimizer.param_groups", "must be a list of one group", groups)
        _record(groups[0], "optimizer.param_groups.0", tuple(group))
        params = groups[0]["params"]
        if not isinstance(params, list) or any(type(i) is not int for i in params) or params != group["params"]:
            _fail("optimizer.param_groups.0.params", f"must be the indices 0..{len(opt.params) - 1}", params)
        _check_hyperparameters(groups[0], group, "optimizer.param_groups.0", opt)
    _integer(state["t"], "optimizer.t", 0)
    entries = state["state"]
    if not isinstance(entries, dict):
        _fail("optimizer.state", "must be a dict {parameter index: {state name: array}}", entries)
    names = type(opt).state_names
    for index, entry in entries.items():
        field = f"optimizer.state.{index}"
        if not isinstance(index, numbers.Integral) or isinstance(index, bool) or not 0 <= index < len(opt.params):
            raise CheckpointError(field, f"is not a parameter index: the model has {len(opt.params)} parameters")
        if not isinstance(entry, dict):
            _fail(field, f"must be a dict of {kind}'s state ({', '.join(names)})", entry)
        param = opt.params[index]
        for name, value in entry.items():
            if name not in names:
                raise CheckpointError(f"{field}.{name}", f"is not a state of {kind} ({', '.join(names) or 'none'})")
            array = _array(value, f"{field}.{name}", param.shape, param.dtype)
            if name in NON_NEGATIVE_STATES and (array < 0).any():
                raise CheckpointError(f"{field}.{name}", "must be >= 0 (a mean of squared gradients)")


def _check_hyperparameters(found, group, field, opt):
    """`found` holds this run's hyperparameters `group` (params aside, checked by the caller)."""
    _record({name: value for name, value in found.items() if name != "params"}, field, type(opt).hyperparameter_names)
    kind = type(opt).__name__
    for name in type(opt).hyperparameter_names:
        value, where = group[name], f"{field}.{name}"
        if isinstance(value, bool):
            if found[name] is not value:
                _fail(where, f"must be {value} for {kind}", found[name])
            continue
        number = _real(found[name], where, "must be a finite number", lambda x: True)
        if not math.isclose(number, value, rel_tol=1e-9, abs_tol=0.0):
            origin = "settings.lr · settings.lr_decay^epoch" if name == "lr" else f"as this run's {kind} sets it"
            _fail(where, f"must be {value:g} ({origin})", number)
