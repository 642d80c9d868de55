"""CIFAR-10 downloads from a local mirror (the MD5 checked before the archive is opened, only the
expected members unpacked: no traversal, no links, bounded sizes; offline errors), and needle-train
with --dataset cifar10 and the CNN models."""
import hashlib
import io
import tarfile

import numpy as np
import pytest

import needle as ndl
from needle.cli import cifar
from needle.cli.cifar import ARCHIVE, FOLDER, download_cifar10
from needle.cli.download import DownloadError
from needle.cli.train import main
from needle.data import CIFAR10Dataset
from tests.cli.idx_files import write_mnist
from tests.data.cifar10_files import generated_set, python_batch_bytes, write_set


def _quiet(message):
    """A log function that drops the progress lines."""


def _archive(folder, extra=(), batches=None, drop=()):
    """Write cifar-10-python.tar.gz with the generated set (and `extra` (TarInfo, bytes) members) to
    `folder`; returns its MD5."""
    folder.mkdir(exist_ok=True)
    batches = batches or {
        name: python_batch_bytes(*arrays) for name, arrays in generated_set(per_batch=4, test=6).items()
    }
    with tarfile.open(folder / ARCHIVE, "w:gz") as tar:
        directory = tarfile.TarInfo(FOLDER)
        directory.type = tarfile.DIRTYPE
        tar.addfile(directory)
        members = [(f"{FOLDER}/{name}", data) for name, data in batches.items() if name not in drop]
        members.append((f"{FOLDER}/batches.meta", b"meta"))
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info, data in extra:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return hashlib.md5((folder / ARCHIVE).read_bytes()).hexdigest()


def _leftovers(folder):
    return [path.name for path in folder.iterdir() if path.name.startswith(".")] if folder.exists() else []


def test_download_verifies_unpacks_and_then_fetches_nothing(tmp_path, serve, monkeypatch):
    mirror = tmp_path / "mirror"
    monkeypatch.setattr(cifar, "ARCHIVE_MD5", _archive(mirror))
    target = tmp_path / "data"
    assert download_cifar10(target, serve(mirror), timeout=10, log=_quiet) is True
    assert sorted(path.name for path in (target / FOLDER).iterdir()) == [
        "batches.meta", "data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch",
    ]
    assert _leftovers(target) == []
    assert len(CIFAR10Dataset(target, train=True)) == 20 and len(CIFAR10Dataset(target, train=False)) == 6
    assert download_cifar10(target, serve(mirror), timeout=10, log=_quiet) is False


def test_the_published_md5_is_checked_before_the_archive_is_opened(tmp_path, serve, monkeypatch):
    mirror = tmp_path / "mirror"
    _archive(mirror)
    opened = []
    monkeypatch.setattr(cifar, "_unpack", lambda *args: opened.append(args))
    target = tmp_path / "data"
    refusal = f"{ARCHIVE}: MD5 [0-9a-f]{{32}}, expected {cifar.ARCHIVE_MD5}; the archive was not opened"
    with pytest.raises(DownloadError, match=refusal):
        download_cifar10(target, serve(mirror), timeout=10, log=_quiet)
    assert opened == [] and list(target.iterdir()) == []


def _member(name, kind=tarfile.REGTYPE, data=b"x", linkname=""):
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname = kind, len(data) if kind == tarfile.REGTYPE else 0, linkname
    return info, data if kind == tarfile.REGTYPE else None


@pytest.mark.parametrize("extra, message", [
    ([_member("../escaped")], r"unexpected member '\.\./escaped'"),
    ([_member(f"{FOLDER}/../../escaped")], r"unexpected member 'cifar-10-batches-py/\.\./\.\./escaped'"),
    ([_member("/tmp/absolute")], "unexpected member '/tmp/absolute'"),
    ([_member(f"{FOLDER}/readme.html", tarfile.SYMTYPE, linkname="/etc/passwd")], "is not a regular file"),
    ([_member(f"{FOLDER}/readme.html", data=b"x" * 70_000)], "is 70000 bytes, more than 65536"),
], ids=["parent", "nested parent", "absolute", "symlink", "oversized"])
def test_unexpected_members_are_refused_and_nothing_is_kept(tmp_path, serve, monkeypatch, extra, message):
    mirror = tmp_path / "mirror"
    monkeypatch.setattr(cifar, "ARCHIVE_MD5", _archive(mirror, extra=extra))
    target = tmp_path / "deep" / "data"
    with pytest.raises(DownloadError, match=message):
        download_cifar10(target, serve(mirror), timeout=10, log=_quiet)
    assert list(target.iterdir()) == []
    assert not (tmp_path / "deep" / "escaped").exists() and not (tmp_path / "escaped").exists()


def test_an_archive_whose_batch_does_not_parse_is_not_kept(tmp_path, serve, monkeypatch):
    mirror = tmp_path / "mirror"
    batches = {name: python_batch_bytes(*arrays) for name, arrays in generated_set(per_batch=2, test=2).items()}
    batches["test_batch"] = batches["test_batch"][:-50]
    monkeypatch.setattr(cifar, "ARCHIVE_MD5", _archive(mirror, batches=batches))
    target = tmp_path / "data"
    with pytest.raises(DownloadError, match="cifar-10-batches-py/test_batch is not a CIFAR-10 batch"):
        download_cifar10(target, serve(mirror), timeout=10, log=_quiet)
    assert list(target.iterdir()) == []
    monkeypatch.setattr(cifar, "ARCHIVE_MD5", _archive(mirror, drop=("data_batch_4",)))
    with pytest.raises(DownloadError, match="the archive has no cifar-10-batches-py/data_batch_4"):
        download_cifar10(target, serve(mirror), timeout=10, log=_quiet)


def test_a_body_larger_than_the_archive_is_refused(tmp_path, serve, monkeypatch):
    mirror = tmp_path / "mirror"
    _archive(mirror)
    monkeypatch.setattr(cifar, "MAX_ARCHIVE_BYTES", 1000)
    with pytest.raises(DownloadError, match="more than 1000 bytes; not the CIFAR-10 archive"):
        download_cifar10(tmp_path / "data", serve(mirror), timeout=10, log=_quiet)
    assert list((tmp_path / "data").iterdir()) == []


def test_download_offline_says_so_in_one_line(tmp_path, unreachable_url):
    with pytest.raises(DownloadError) as caught:
        download_cifar10(tmp_path / "data", unreachable_url, timeout=5, log=_quiet)
    message = str(caught.value)
    assert message.startswith(f"cannot fetch {unreachable_url}/{ARCHIVE}")
    assert "offline?" in message and "\n" not in message
    assert list((tmp_path / "data").iterdir()) == []


# ---- needle-train --dataset cifar10, and the CNN models ----------------------------------------------

def _checkpoint_arrays(path):
    saved = ndl.load(path)
    flat = {f"model.{k}": v.numpy() if isinstance(v, ndl.Tensor) else v for k, v in saved["model"].items()}
    flat["history"] = np.array([saved["history"][name] for name in sorted(saved["history"])])
    return flat


def _one_error_line(capsys):
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("needle-train: error: "), lines
    return lines[0]


def test_resnet9_trains_on_cifar10_and_resumes_exactly(tmp_path, capsys):
    write_set(tmp_path / "data" / FOLDER, "python", per_batch=8, test=8)
    data = str(tmp_path / "data")
    settings = ["--dataset", "cifar10", "--model", "resnet9", "--data-dir", data, "--batch-size", "20"]
    assert main(settings + ["--epochs", "1", "--out", str(tmp_path / "split")]) == 0
    output = capsys.readouterr().out
    assert "resnet9 on CIFAR-10: 40 train / 8 test; adam lr 0.001, batch 20, weight decay 0.001, seed 0" in output
    assert main(["--resume", "--out", str(tmp_path / "split"), "--epochs", "2", "--data-dir", data]) == 0
    assert "after epoch 1" in capsys.readouterr().out
    assert main(settings + ["--epochs", "2", "--out", str(tmp_path / "whole")]) == 0
    split = _checkpoint_arrays(tmp_path / "split" / "checkpoint.npz")
    whole = _checkpoint_arrays(tmp_path / "whole" / "checkpoint.npz")
    assert split.keys() == whole.keys() and any("running_var" in key for key in split)
    for key in split:
        np.testing.assert_array_equal(split[key], whole[key], err_msg=key)


def test_cnn_reads_mnist_as_one_channel_images(tmp_path, capsys):
    labels = np.arange(60) % 10
    write_mnist(tmp_path / "mnist", labels, labels[:20])
    argv = ["--dataset", "mnist", "--model", "cnn", "--data-dir", str(tmp_path / "mnist"), "--epochs", "1"]
    assert main(argv + ["--out", str(tmp_path / "run")]) == 0
    assert "cnn on MNIST: 60 train / 20 test; adam" in capsys.readouterr().out
    saved = ndl.load(tmp_path / "run" / "checkpoint.npz")
    assert saved["model"]["model.modules.0.modules.0.weight"].shape == (3, 3, 1, 16)


def test_cifar10_downloads_through_needle_train(tmp_path, serve, monkeypatch, capsys):
    mirror = tmp_path / "mirror"
    monkeypatch.setattr(cifar, "ARCHIVE_MD5", _archive(mirror))
    target = tmp_path / "data"
    argv = ["--dataset", "cifar10", "--model", "softmax", "--epochs", "1", "--data-dir", str(target), "--download",
            "--mirror", serve(mirror), "--out", str(tmp_path / "run")]
    assert main(argv) == 0
    assert "softmax on CIFAR-10: 20 train / 6 test" in capsys.readouterr().out
    monkeypatch.setattr(cifar, "ARCHIVE_MD5", "0" * 32)
    (target / FOLDER / "test_batch").unlink()
    assert main(argv) == 2
    assert f"{ARCHIVE}: MD5" in _one_error_line(capsys)


@pytest.mark.parametrize("argv, complaint", [
    (["--dataset", "mnist", "--model", "resnet9"], "--model resnet9 reads images of cifar10; --dataset mnist has none"),
    (["--model", "cnn"], "--model cnn reads images of mnist or cifar10; --dataset spiral has none"),
    (["--dataset", "mnist", "--model", "cnn", "--hidden", "8"], "--hidden applies to --model mlp and resnet; cnn's"),
    (["--dataset", "cifar10", "--data-dir", "nowhere"], "CIFAR10Dataset: no training batches in nowhere"),
    (["--dataset", "cifar10", "--download"], "--download needs --data-dir"),
])
def test_cnn_and_cifar10_options_that_do_not_fit_give_one_line(tmp_path, monkeypatch, argv, complaint, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert complaint in _one_error_line(capsys)


def test_a_corrupt_cifar10_batch_gives_one_line(tmp_path, capsys):
    write_set(tmp_path, "python", per_batch=2, test=2)
    (tmp_path / "test_batch").write_bytes(b"cos\nsystem\n(S'true'\ntR.")
    assert main(["--dataset", "cifar10", "--model", "softmax", "--data-dir", str(tmp_path)]) == 2
    assert "test_batch: refused to load the global os.system" in _one_error_line(capsys)
