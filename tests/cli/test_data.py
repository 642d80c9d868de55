"""needle-train's data checks: MNIST files that parse but cannot train give one line and exit code 2."""
import numpy as np
import pytest

import needle as ndl
from needle.cli.download import TEST_FILES, TRAIN_FILES
from needle.cli.train import main
from tests.cli.idx_files import write_mnist, write_pair

DIGITS = np.arange(20) % 10


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def _run(folder, capsys, *options):
    """(exit code, the one stderr line) of a one-epoch softmax run on the MNIST files in `folder`."""
    code = main(["--dataset", "mnist", "--model", "softmax", "--epochs", "1", "--data-dir", str(folder), *options])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) <= 1 and "Traceback" not in captured.err, captured.err
    return code, lines[0] if lines else ""


def test_small_but_valid_train_and_test_files_train(tmp_path, capsys):
    code, error = _run(write_mnist(tmp_path / "mnist", DIGITS, DIGITS), capsys)
    assert (code, error) == (0, "")


def test_a_label_above_9_is_refused_naming_the_label_file(tmp_path, capsys):
    folder = write_mnist(tmp_path / "mnist", np.where(DIGITS == 3, 12, DIGITS), DIGITS)
    code, error = _run(folder, capsys)
    assert code == 2 and error.startswith("needle-train: error: ")
    assert str(folder / TRAIN_FILES[1]) in error and "12" in error


def test_files_with_no_images_are_refused(tmp_path, capsys):
    folder = write_mnist(tmp_path / "mnist", DIGITS, DIGITS[:0])
    code, error = _run(folder, capsys)
    assert code == 2 and str(folder / TEST_FILES[0]) in error


def test_a_t10k_set_too_small_for_the_8000_2000_split_is_refused(tmp_path, capsys):
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_pair(folder, TEST_FILES, np.arange(50) % 10)
    code, error = _run(folder, capsys)
    assert code == 2
    assert error.endswith(f"{folder / TEST_FILES[0]} holds 50 images; with only the t10k files, "
                          "the 8000/2000 split needs at least 10000")


def test_images_that_are_not_28_by_28_are_refused(tmp_path, capsys):
    folder = write_mnist(tmp_path / "mnist", DIGITS, DIGITS, side=10)
    code, error = _run(folder, capsys)
    assert code == 2 and str(folder / TRAIN_FILES[0]) in error


def test_without_data_dir_a_missing_default_folder_is_one_line(monkeypatch, capsys):
    def nowhere():
        raise FileNotFoundError("no MNIST files in a, b, c")

    monkeypatch.setattr(ndl.data, "default_mnist_dir", nowhere)
    assert main(["--dataset", "mnist"]) == 2
    assert capsys.readouterr().err == "needle-train: error: no MNIST files in a, b, c\n"
    assert main(["--dataset", "mnist", "--download"]) == 2
    assert capsys.readouterr().err == (
        "needle-train: error: no MNIST files in a, b, c; pass --data-dir to choose where --download puts the files\n"
    )
