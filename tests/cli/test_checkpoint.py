"""needle-train --resume on forged checkpoints: every field is checked before use, one line each."""
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

import needle as ndl
from needle.cli.train import main

FIRST_WEIGHT = "modules.0.weight"
NORM_BUFFER = "modules.2.modules.0.fn.modules.1.running_var"


@pytest.fixture(scope="module")
def genuine(tmp_path_factory):
    """{optimizer: the path of a genuine checkpoint}: one MLP-ResNet epoch on the spiral with Adam,
    one with heavy-ball momentum (whose hyperparameters include the bool `unbiased`)."""
    folder = tmp_path_factory.mktemp("genuine")
    paths = {}
    for optimizer in ("adam", "momentum"):
        out = folder / optimizer
        argv = ["--model", "resnet", "--hidden", "8", "--epochs", "1", "--optimizer", optimizer, "--out", str(out)]
        assert main(argv) == 0
        paths[optimizer] = out / "checkpoint.npz"
    return paths


def _keys(path):
    """A dotted path as keys; a tuple is taken as it is (model names hold dots, state indices are ints)."""
    return path if isinstance(path, tuple) else tuple(path.split("."))


def _parent(checkpoint, path):
    """(the dict holding the entry at `path`, the entry's key)."""
    *parents, last = _keys(path)
    for key in parents:
        checkpoint = checkpoint[key]
    return checkpoint, last


def _set(path, value):
    """A forgery that sets the dict entry at `path` to `value`."""

    def forge(checkpoint):
        holder, key = _parent(checkpoint, path)
        holder[key] = value

    return forge


def _drop(path):
    """A forgery that removes the dict entry at `path`."""

    def forge(checkpoint):
        holder, key = _parent(checkpoint, path)
        del holder[key]

    return forge


def _rng(position, value):
    """A forgery that replaces item `position` of the RNG state tuple."""

    def forge(checkpoint):
        state = list(checkpoint["rng"])
        state[position] = value
        checkpoint["rng"] = tuple(state)

    return forge


def _model_array(name, change):
    def forge(checkpoint):
        checkpoint["model"][name] = change(checkpoint["model"][name].numpy())

    return forge


def _with_inf(array):
    array = array.copy()
    array.flat[0] = np.inf
    return array


# (test id, optimizer of the genuine run, forgery, field named in the error)
FORGERIES = [
    ("not-a-dict", "adam", None, "checkpoint"),
    ("format-missing", "adam", _drop("format"), "format"),
    ("format-foreign", "adam", _set("format", "pytorch-lightning"), "format"),
    ("version-old", "adam", _set("version", 1), "version"),
    ("version-a-string", "adam", _set("version", "2"), "version"),
    ("unknown-top-field", "adam", _set("payload", "rm -rf /"), "payload"),
    ("history-missing", "adam", _drop("history"), "history"),
    ("settings-a-list", "adam", _set("settings", [1, 2]), "settings"),
    ("lr-infinite", "adam", _set("settings.lr", math.inf), "settings.lr"),
    ("lr-nan", "adam", _set("settings.lr", math.nan), "settings.lr"),
    ("lr-negative", "adam", _set("settings.lr", -0.1), "settings.lr"),
    ("lr-a-string", "adam", _set("settings.lr", "fast"), "settings.lr"),
    ("optimizer-unknown", "adam", _set("settings.optimizer", "lion"), "settings.optimizer"),
    ("model-unknown", "adam", _set("settings.model", "vgg"), "settings.model"),
    ("model-for-images-on-points", "adam", _set("settings.model", "cnn"), "settings.model"),
    ("hidden-for-a-cnn", "adam",
     lambda c: (_set("settings.model", "resnet9")(c), _set("settings.dataset", "cifar10")(c)), "settings.hidden"),
    ("dataset-a-number", "adam", _set("settings.dataset", 3), "settings.dataset"),
    ("epochs-zero", "adam", _set("settings.epochs", 0), "settings.epochs"),
    ("epochs-a-bool", "adam", _set("settings.epochs", True), "settings.epochs"),
    ("batch-size-fractional", "adam", _set("settings.batch_size", 2.5), "settings.batch_size"),
    ("lr-decay-above-one", "adam", _set("settings.lr_decay", 1.5), "settings.lr_decay"),
    ("weight-decay-negative", "adam", _set("settings.weight_decay", -1.0), "settings.weight_decay"),
    ("hidden-huge", "adam", _set("settings.hidden", 10**9), "settings.hidden"),
    ("hidden-too-narrow-for-resnet", "adam", _set("settings.hidden", 1), "settings.hidden"),
    ("seed-negative", "adam", _set("settings.seed", -1), "settings.seed"),
    ("seed-missing", "adam", _drop("settings.seed"), "settings.seed"),
    ("settings-unknown-key", "adam", _set("settings.colour", "red"), "settings.colour"),
    ("epoch-negative", "adam", _set("epoch", -5), "epoch"),
    ("epoch-beyond-settings", "adam", _set("epoch", 10**6), "epoch"),
    ("epoch-fractional", "adam", _set("epoch", 0.5), "epoch"),
    ("history-too-long", "adam", _set("history.train_loss", [0.5, 0.4]), "history.train_loss"),
    ("history-not-a-list", "adam", _set("history.test_loss", "0.5"), "history.test_loss"),
    ("history-nan", "adam", _set("history.test_acc", [math.nan]), "history.test_acc.0"),
    ("history-accuracy-above-one", "adam", _set("history.train_acc", [1.5]), "history.train_acc.0"),
    ("history-loss-negative", "adam", _set("history.train_loss", [-1.0]), "history.train_loss.0"),
    ("history-key-missing", "adam", _drop("history.test_loss"), "history.test_loss"),
    ("model-key-missing", "adam", _drop(("model", FIRST_WEIGHT)), f"model.{FIRST_WEIGHT}"),
    ("model-key-unknown", "adam", _set("model.backdoor", np.zeros(3, np.float32)), "model.backdoor"),
    ("model-shape", "adam", _model_array(FIRST_WEIGHT, lambda a: a[:1]), f"model.{FIRST_WEIGHT}"),
    ("model-dtype", "adam", _model_array(FIRST_WEIGHT, lambda a: a.astype(np.float64)), f"model.{FIRST_WEIGHT}"),
    ("model-infinite", "adam", _model_array(NORM_BUFFER, _with_inf), f"model.{NORM_BUFFER}"),
    ("model-a-string", "adam", _set(("model", FIRST_WEIGHT), "weights"), f"model.{FIRST_WEIGHT}"),
    ("optimizer-t-missing", "adam", _drop("optimizer.t"), "optimizer.t"),
    ("optimizer-t-negative", "adam", _set("optimizer.t", -1), "optimizer.t"),
    ("optimizer-lr-infinite", "adam", _set(("optimizer", "param_groups", 0, "lr"), math.inf), "optimizer.param_groups.0.lr"),
    ("optimizer-lr-not-scheduled", "adam", _set(("optimizer", "param_groups", 0, "lr"), 5.0), "optimizer.param_groups.0.lr"),
    ("optimizer-beta-changed", "adam", _set(("optimizer", "param_groups", 0, "beta1"), 0.5), "optimizer.param_groups.0.beta1"),
    ("optimizer-eps-missing", "adam", _drop(("optimizer", "param_groups", 0, "eps")), "optimizer.param_groups.0.eps"),
    ("optimizer-unbiased-not-bool", "momentum", _set(("optimizer", "param_groups", 0, "unbiased"), 1),
     "optimizer.param_groups.0.unbiased"),
    ("optimizer-params-changed", "adam", _set(("optimizer", "param_groups", 0, "params"), [0]),
     "optimizer.param_groups.0.params"),
    ("optimizer-state-a-list", "adam", _set("optimizer.state", [1]), "optimizer.state"),
    ("optimizer-index-out-of-range", "adam", _set(("optimizer", "state", 99), {}), "optimizer.state.99"),
    ("optimizer-state-unknown", "adam", _set(("optimizer", "state", 0, "u"), np.zeros((2, 8), np.float32)),
     "optimizer.state.0.u"),
    ("optimizer-state-shape", "adam", _set(("optimizer", "state", 0, "m"), np.zeros(3, np.float32)), "optimizer.state.0.m"),
    ("optimizer-second-moment-negative", "adam", _set(("optimizer", "state", 0, "v"), -np.ones((2, 8), np.float32)),
     "optimizer.state.0.v"),
    ("rng-old-dict-form", "adam", _set("rng", {"kind": "MT19937"}), "rng"),
    ("rng-kind", "adam", _rng(0, "PCG64"), "rng.kind"),
    ("rng-keys-short", "adam", _rng(1, np.ones(10, np.uint32)), "rng.keys"),
    ("rng-keys-dtype", "adam", _rng(1, np.ones(624, np.int64)), "rng.keys"),
    ("rng-keys-all-zero", "adam", _rng(1, np.zeros(624, np.uint32)), "rng.keys"),
    ("rng-position", "adam", _rng(2, 700), "rng.position"),
    ("rng-has-gauss", "adam", _rng(3, 2), "rng.has_gauss"),
    ("rng-cached-gaussian-nan", "adam", _rng(4, math.nan), "rng.cached_gaussian"),
]


@pytest.mark.parametrize("optimizer, forge, field", [c[1:] for c in FORGERIES], ids=[c[0] for c in FORGERIES])
def test_a_forged_checkpoint_is_refused_in_one_line_naming_the_field(
    genuine, optimizer, forge, field, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    checkpoint = ndl.load(genuine[optimizer])
    if forge is None:
        checkpoint = [checkpoint]
    else:
        forge(checkpoint)
    Path("run").mkdir()
    ndl.save(checkpoint, "run/checkpoint.npz")
    forged = Path("run/checkpoint.npz").read_bytes()
    assert main(["--resume", "--out", "run", "--epochs", "2"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"needle-train: error: checkpoint run/checkpoint.npz: field '{field}' "), lines[0]
    assert "Traceback" not in captured.err and "epoch" not in captured.out
    assert Path("run/checkpoint.npz").read_bytes() == forged


def test_the_forgeries_cover_every_field_of_the_schema():
    named = {field for *_, field in FORGERIES}
    for prefix in ("format", "version", "epoch", "history", "model", "optimizer", "rng", "settings"):
        assert any(field.startswith(prefix) for field in named), prefix
    for name in ("model", "dataset", "seed", "epochs", "batch_size", "lr", "lr_decay", "optimizer",
                 "weight_decay", "hidden"):
        assert f"settings.{name}" in named, name
    for name in ("kind", "keys", "position", "has_gauss", "cached_gaussian"):
        assert f"rng.{name}" in named, name


def test_the_genuine_checkpoints_resume(genuine, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for optimizer, path in genuine.items():
        shutil.copy(path, tmp_path / "checkpoint.npz")
        assert main(["--resume", "--out", ".", "--epochs", "2"]) == 0, capsys.readouterr().err
        assert ndl.load("checkpoint.npz")["epoch"] == 2


def test_a_checkpoint_saved_before_parameter_groups_resumes(genuine, tmp_path, monkeypatch, capsys):
    """Until parameter groups, the optimizer's state held its hyperparameters as one dict."""
    monkeypatch.chdir(tmp_path)
    checkpoint = ndl.load(genuine["adam"])
    optimizer = checkpoint["optimizer"]
    (group,) = optimizer.pop("param_groups")
    optimizer["hyperparameters"] = {name: value for name, value in group.items() if name != "params"}
    ndl.save(checkpoint, "checkpoint.npz")
    assert main(["--resume", "--out", ".", "--epochs", "2"]) == 0, capsys.readouterr().err
    assert ndl.load("checkpoint.npz")["epoch"] == 2
