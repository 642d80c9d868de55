"""The needle-train CLI: the no-argument run, checkpoints and --resume, MNIST, and one-line errors."""
import gzip
import importlib.util
import io
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import needle as ndl
from needle.cli.download import TEST_FILES, TRAIN_FILES
from needle.cli.train import main
from tests.processes import run_python

HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
EPOCH_LINE = re.compile(
    r"epoch +(\d+)/(\d+)  train loss (\S+) acc +(\S+)%  test loss (\S+) acc +(\S+)%  \(\d+\.\d s\)"
)


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """Each test runs in its own folder, so the default runs/ output lands there."""
    monkeypatch.chdir(tmp_path)


def _epochs(output):
    """[(epoch, total, train loss, train acc %, test loss, test acc %)] from the per-epoch lines."""
    return [
        (int(m[1]), int(m[2]), *(float(v) for v in m.groups()[2:]))
        for m in map(EPOCH_LINE.fullmatch, output.splitlines())
        if m
    ]


def _error_line(capsys):
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("needle-train: error: ")
    return lines[0]


def test_no_argument_run_trains_an_mlp_on_the_spiral_to_95_percent(capsys):
    assert main([]) == 0
    output = capsys.readouterr().out
    epochs = _epochs(output)
    assert [e[0] for e in epochs] == list(range(1, epochs[0][1] + 1))
    assert epochs[-1][5] >= 95.0 and epochs[-1][4] < epochs[0][4]
    assert output.startswith("mlp on the 3-arm spiral: 900 train / 300 test")
    checkpoint = ndl.load(Path("runs/spiral-mlp/checkpoint.npz"))
    assert checkpoint["epoch"] == len(epochs)
    assert checkpoint["history"]["test_acc"][-1] == pytest.approx(epochs[-1][5] / 100, abs=1e-4)
    assert Path("runs/spiral-mlp/curves.png").is_file() == HAS_MATPLOTLIB


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_terminal_gets_a_progress_bar_per_epoch_and_a_log_does_not(monkeypatch, capsys):
    assert main(["--model", "softmax", "--epochs", "1", "--out", "log"]) == 0
    assert capsys.readouterr().err == ""
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["--model", "softmax", "--epochs", "2", "--out", "tty"]) == 0
    bars = terminal.getvalue()
    assert "epoch 1/2:   0%" in bars and "epoch 2/2:   0%" in bars and "/29 [" in bars and "batch/s" in bars


def _checkpoint_arrays(path):
    """The checkpoint flattened to {dotted key: array or value}."""
    flat = {}

    def walk(value, key):
        if isinstance(value, dict):
            for name, item in value.items():
                walk(item, f"{key}.{name}")
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                walk(item, f"{key}.{index}")
        else:
            flat[key] = value.numpy() if isinstance(value, ndl.Tensor) else value

    walk(ndl.load(path), "")
    return flat


def test_resume_continues_exactly_as_an_uninterrupted_run(capsys):
    settings = ["--model", "resnet", "--hidden", "16", "--batch-size", "64", "--optimizer", "momentum"]
    assert main(settings + ["--epochs", "2", "--out", "split"]) == 0
    assert main(["--out", "split", "--resume", "--epochs", "4"]) == 0
    assert "resuming split/checkpoint.npz after epoch 2" in capsys.readouterr().out
    assert main(settings + ["--epochs", "4", "--out", "whole"]) == 0
    split, whole = _checkpoint_arrays("split/checkpoint.npz"), _checkpoint_arrays("whole/checkpoint.npz")
    assert split.keys() == whole.keys() and any(".running_var" in key for key in split)
    for key in split:
        np.testing.assert_array_equal(split[key], whole[key], err_msg=key)


def test_resume_keeps_the_checkpoint_settings_and_needs_a_checkpoint(capsys):
    assert main(["--resume", "--out", "nothing"]) == 2
    assert "--resume: no checkpoint at nothing/checkpoint.npz" in _error_line(capsys)
    assert main(["--model", "softmax", "--epochs", "2", "--out", "run"]) == 0
    capsys.readouterr()
    assert main(["--resume", "--out", "run", "--lr", "0.5"]) == 2
    assert "--lr 0.5 differs from the checkpoint's 0.05" in _error_line(capsys)
    assert main(["--resume", "--out", "run", "--epochs", "1"]) == 2
    assert "--epochs 1: the checkpoint already has 2 epochs" in _error_line(capsys)
    ndl.save({"weights": np.zeros(3)}, "run/checkpoint.npz")
    assert main(["--resume", "--out", "run"]) == 2
    assert "checkpoint run/checkpoint.npz: field 'format' is missing: a needle file, but not" in _error_line(capsys)
    Path("run/checkpoint.npz").write_bytes(b"truncated")
    assert main(["--resume", "--out", "run"]) == 2
    assert "--resume: cannot read run/checkpoint.npz" in _error_line(capsys)


@pytest.mark.parametrize(
    "argv, complaint",
    [
        (["--model", "softmax", "--hidden", "10"], "--hidden applies to --model mlp and resnet"),
        (["--data-dir", "somewhere"], "--data-dir and --download apply to --dataset mnist"),
        (["--model", "resnet", "--hidden", "1"], "--hidden 1: resnet's blocks are half as wide, so it must be >= 2"),
    ],
)
def test_options_that_do_not_fit_together_give_one_line(argv, complaint, capsys):
    assert main(argv) == 2
    assert complaint in _error_line(capsys)


@pytest.mark.parametrize(
    "argv, complaint",
    [
        (["--epochs", "0"], "argument --epochs: 0 must be positive"),
        (["--lr", "fast"], "argument --lr: 'fast' is not a number"),
        (["--batch-size", "-3"], "argument --batch-size: -3 must be positive"),
        (["--weight-decay", "-1"], "argument --weight-decay: -1 must be zero or positive"),
        (["--lr", "inf"], "argument --lr: inf must be a finite number > 0"),
        (["--hidden", "5000"], "argument --hidden: 5000 must be in 1..4096"),
        (["--seed", "-1"], "argument --seed: -1 must be in 0..4294967295"),
        (["--model", "vgg"], "argument --model: invalid choice: 'vgg'"),
        (["--colour", "red"], "unrecognized arguments: --colour red"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_code_2(argv, complaint, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert complaint in _error_line(capsys)


def test_an_out_path_that_is_a_file_gives_one_line_before_training(tmp_path, capsys):
    taken = tmp_path / "a_file"
    taken.write_text("not a folder")
    assert main(["--epochs", "1", "--out", str(taken)]) == 2
    assert "is a file, not a folder" in _error_line(capsys)
    assert taken.read_text() == "not a folder"


def test_missing_and_corrupt_mnist_files_give_one_line(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["--dataset", "mnist", "--data-dir", str(empty)]) == 2
    assert f"no MNIST files in {empty}" in _error_line(capsys)
    for name in TEST_FILES:
        (empty / name).write_bytes(gzip.compress(b"\x00\x00\x08\x03 not an image file"))
    assert main(["--dataset", "mnist", "--data-dir", str(empty)]) == 2
    assert TEST_FILES[0] in _error_line(capsys)


def test_mnist_with_only_the_test_set_splits_it_8000_2000(mnist_dir, capsys):
    argv = ["--dataset", "mnist", "--model", "softmax", "--epochs", "1", "--data-dir", str(mnist_dir)]
    assert main(argv) == 0
    output = capsys.readouterr().out
    assert "training on 8000 of its 10000 images and testing on the other 2000 (a fixed split)" in output
    assert "8000 train / 2000 test" in output
    (epoch,) = _epochs(output)
    assert epoch[5] > 85.0


def test_download_fetches_into_data_dir_and_reports_what_it_cannot_fetch(tmp_path, mnist_dir, serve, capsys):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name in TEST_FILES:
        shutil.copy(mnist_dir / name, mirror / name)
    target = tmp_path / "data"
    argv = ["--dataset", "mnist", "--data-dir", str(target), "--download", "--mirror", serve(mirror)]
    assert main(argv) == 2
    missing_train = r"cannot fetch http://127\.0\.0\.1:\d+/train-images-idx3-ubyte\.gz: HTTP 404"
    assert re.search(missing_train, _error_line(capsys))
    for name in TEST_FILES:
        assert (target / name).read_bytes() == (mnist_dir / name).read_bytes()
    assert not any((target / name).exists() for name in TRAIN_FILES)


def test_without_matplotlib_the_plot_is_skipped_with_a_note(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # makes the import fail
    assert main(["--model", "softmax", "--epochs", "1"]) == 0
    assert "matplotlib is not installed, so no plot was drawn" in capsys.readouterr().out
    assert not Path("runs/spiral-softmax/curves.png").exists()


def test_python_dash_m_needle_cli_train_runs(tmp_path):
    result = run_python("-m", "needle.cli.train", "--model", "softmax", "--epochs", "1", "--out", "m")
    assert result.returncode == 0, result.stderr
    assert len(_epochs(result.stdout)) == 1 and (tmp_path / "m" / "checkpoint.npz").is_file()
