"""MNIST downloads from a local mirror: checksums, IDX validation, atomic writes and offline errors."""
import gzip
import shutil
import stat

import numpy as np
import pytest

from needle.cli import download
from needle.cli.download import (
    CONTENT_SHA256, TEST_FILES, TRAIN_FILES, DownloadError, content_sha256, download_mnist, has_files,
)
from tests.cli.idx_files import write_pair


def _quiet(message):
    """A log function that drops the progress lines."""


def _fake_train_pair(folder, count):
    write_pair(folder, TRAIN_FILES, np.arange(count) % 10)


@pytest.fixture
def mirror(tmp_path, mnist_dir):
    """A mirror folder holding copies of the real t10k files."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    for name in TEST_FILES:
        shutil.copy(mnist_dir / name, folder / name)
    return folder


def _leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_the_known_checksums_match_the_real_t10k_files(mnist_dir):
    for name in TEST_FILES:
        assert content_sha256(mnist_dir / name) == CONTENT_SHA256[name]


def test_download_fetches_all_four_files_and_then_nothing(tmp_path, mirror, serve):
    _fake_train_pair(mirror, 60_000)
    target = tmp_path / "data"
    fetched = download_mnist(target, serve(mirror), timeout=10, log=_quiet)
    assert fetched == list(TEST_FILES + TRAIN_FILES)
    for name in TEST_FILES + TRAIN_FILES:
        assert (target / name).read_bytes() == (mirror / name).read_bytes()
        assert stat.S_IMODE((target / name).stat().st_mode) == 0o644
    assert _leftovers(target) == []
    assert download_mnist(target, serve(mirror), timeout=10, log=_quiet) == []


def test_download_keeps_the_t10k_pair_when_the_train_pair_is_missing(tmp_path, mirror, serve):
    target = tmp_path / "data"
    with pytest.raises(DownloadError, match=r"cannot fetch http://127\.0\.0\.1:\d+/train-images.*HTTP 404"):
        download_mnist(target, serve(mirror), timeout=10, log=_quiet)
    assert has_files(target, TEST_FILES) and not has_files(target, TRAIN_FILES[:1])
    assert _leftovers(target) == []


def test_download_rejects_a_wrong_checksum_and_saves_neither_file_of_the_pair(tmp_path, mirror, serve):
    labels = bytearray(gzip.decompress((mirror / TEST_FILES[1]).read_bytes()))
    labels[-1] = (labels[-1] + 1) % 10  # still a valid IDX file, but not MNIST's
    (mirror / TEST_FILES[1]).write_bytes(gzip.compress(bytes(labels)))
    target = tmp_path / "data"
    with pytest.raises(DownloadError, match="SHA-256 of the decompressed file is [0-9a-f]{64}, expected"):
        download_mnist(target, serve(mirror), timeout=10, log=_quiet)
    assert list(target.iterdir()) == []


def test_download_validates_train_files_by_parsing_them(tmp_path, mirror, serve):
    _fake_train_pair(mirror, 100)
    target = tmp_path / "data"
    with pytest.raises(DownloadError, match="holds 100 images, expected 60000"):
        download_mnist(target, serve(mirror), timeout=10, log=_quiet)
    assert has_files(target, TEST_FILES) and not any((target / name).exists() for name in TRAIN_FILES)
    (mirror / TRAIN_FILES[0]).write_bytes(b"not gzip at all")
    with pytest.raises(DownloadError, match="are not valid MNIST"):
        download_mnist(target, serve(mirror), timeout=10, log=_quiet)


def test_download_refuses_a_body_larger_than_any_mnist_file(tmp_path, mirror, serve, monkeypatch):
    monkeypatch.setattr(download, "MAX_DOWNLOAD_BYTES", 1000)
    with pytest.raises(DownloadError, match="t10k-images-idx3-ubyte.gz: more than 1000 bytes; not an MNIST file"):
        download_mnist(tmp_path / "data", serve(mirror), timeout=10, log=_quiet)
    assert list((tmp_path / "data").iterdir()) == []


def test_download_offline_says_so_in_one_line(tmp_path, unreachable_url):
    with pytest.raises(DownloadError) as caught:
        download_mnist(tmp_path / "data", unreachable_url, timeout=5, log=_quiet)
    message = str(caught.value)
    assert message.startswith(f"cannot fetch {unreachable_url}/t10k-images-idx3-ubyte.gz")
    assert "offline?" in message and "\n" not in message
    assert list((tmp_path / "data").iterdir()) == []
