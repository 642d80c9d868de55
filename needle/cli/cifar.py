"""CIFAR-10 for needle-train: fetching the official archive, checking it, unpacking it, loading it.

The archive (cifar-10-python.tar.gz, 170,498,071 bytes) is streamed to a temporary file with its
MD5 computed on the way, and nothing in it is opened before the digest matches the published one.
It is then unpacked member by member: only the names the archive holds (its folder, the six batches,
batches.meta and readme.html) as regular files of bounded size, each written to a temporary file and
moved into place once every batch has parsed, so a failure leaves the data folder as it was.
"""
import hashlib
import os
import tarfile
import tempfile
from pathlib import Path

import needle as ndl
from needle.data.cifar10 import FOLDERS, MAX_PICKLE_BYTES, TEST_BATCH, TRAIN_BATCHES

from .download import DownloadError, copy_body
from .settings import UsageError

__all__ = [
    "CIFAR10_MIRROR", "ARCHIVE", "ARCHIVE_MD5", "MAX_ARCHIVE_BYTES", "download_cifar10", "cifar10_folder",
    "load_cifar10",
]

CIFAR10_MIRROR = "https://www.cs.toronto.edu/~kriz/"
ARCHIVE = "cifar-10-python.tar.gz"
ARCHIVE_MD5 = "c58f30108f718f92721af3b95e74349a"  # published with the archive
MAX_ARCHIVE_BYTES = 192 * 2**20  # the archive is 162.6 MiB
FOLDER = FOLDERS[0]  # cifar-10-batches-py
BATCHES = TRAIN_BATCHES + (TEST_BATCH,)
MEMBERS = {FOLDER: None, **{f"{FOLDER}/{name}": MAX_PICKLE_BYTES for name in BATCHES},
           f"{FOLDER}/batches.meta": 2**16, f"{FOLDER}/readme.html": 2**16}
_CHUNK_BYTES = 2**20


def _present(folder):
    return all((folder / name).is_file() for name in BATCHES)


def download_cifar10(data_dir, mirror=CIFAR10_MIRROR, *, timeout=60.0, log=print):
    """Fetch, verify and unpack the CIFAR-10 python archive into DATA_DIR/cifar-10-batches-py.

    Nothing is fetched when the six batches are there already; returns whether it fetched. Raises
    DownloadError with a one-line reason, leaving `data_dir` as it was.
    """
    data_dir = Path(data_dir)
    if _present(data_dir / FOLDER):
        return False
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        handle, archive = tempfile.mkstemp(dir=data_dir, prefix=".download-", suffix=".tar.gz")
        os.close(handle)
        archive = Path(archive)
    except OSError as error:
        raise DownloadError(f"cannot write to {data_dir}: {error.strerror or error}") from None
    url = (mirror if mirror.endswith("/") else mirror + "/") + ARCHIVE
    try:
        log(f"downloading {url}")
        digest = _fetch(url, archive, timeout, data_dir)
        if digest != ARCHIVE_MD5:
            raise DownloadError(f"{url}: MD5 {digest}, expected {ARCHIVE_MD5}; the archive was not opened")
        _unpack(archive, data_dir, url)
    finally:
        archive.unlink(missing_ok=True)
    return True


def _fetch(url, path, timeout, data_dir):
    """Stream `url` into `path`, refusing more than MAX_ARCHIVE_BYTES; returns the body's hex MD5."""
    digest = hashlib.md5(usedforsecurity=False)
    try:
        out = open(path, "wb")
    except OSError as error:
        raise DownloadError(f"cannot write to {path}: {error.strerror or error}") from None
    with out:
        copy_body(url, out, timeout, max_bytes=MAX_ARCHIVE_BYTES, what="the CIFAR-10 archive",
                  by_hand=f"unpack {ARCHIVE} into {data_dir} by hand", digest=digest)
    return digest.hexdigest()


def _unpack(archive, data_dir, url):
    """Unpack the expected members into a staging folder, parse the batches, then move them in."""
    staging = Path(tempfile.mkdtemp(dir=data_dir, prefix=".unpack-"))
    try:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                for member in tar:
                    _extract(tar, member, staging, url)
        except (tarfile.TarError, EOFError, OSError) as error:
            raise DownloadError(f"{url}: not a readable tar.gz archive: {error}") from None
        for name in BATCHES:
            path = staging / name
            if not path.is_file():
                raise DownloadError(f"{url}: the archive has no {FOLDER}/{name}")
            try:
                ndl.data.read_cifar10_pickle(path)
            except ValueError as error:
                raise DownloadError(f"{url}: {FOLDER}/{name} is not a CIFAR-10 batch: {error}") from None
        target = data_dir / FOLDER
        target.mkdir(exist_ok=True)
        for path in staging.iterdir():
            os.replace(path, target / path.name)
    finally:
        for path in staging.iterdir():
            path.unlink()
        staging.rmdir()


def _extract(tar, member, staging, url):
    """Write one archive member to `staging` under its base name, if it is one the archive should hold."""
    if member.name not in MEMBERS:
        raise DownloadError(f"{url}: unexpected member {member.name!r}; the CIFAR-10 archive holds only {FOLDER}/...")
    limit = MEMBERS[member.name]
    if limit is None:
        if not member.isdir():
            raise DownloadError(f"{url}: {member.name!r} should be a folder")
        return
    if not member.isfile():
        raise DownloadError(f"{url}: {member.name!r} is not a regular file (a link or a device)")
    if member.size > limit:
        raise DownloadError(f"{url}: {member.name!r} is {member.size} bytes, more than {limit}")
    source = tar.extractfile(member)
    path = staging / Path(member.name).name
    with open(path, "wb") as out:
        remaining = member.size
        while remaining:
            chunk = source.read(min(_CHUNK_BYTES, remaining))
            if not chunk:
                raise DownloadError(f"{url}: {member.name!r} is truncated")
            out.write(chunk)
            remaining -= len(chunk)
    os.chmod(path, 0o644)


def cifar10_folder(data_dir, download):
    """`data_dir` when given, else needle's default CIFAR-10 folder (needle.data.default_cifar10_dir)."""
    if data_dir is not None:
        return Path(data_dir)
    if download:
        raise UsageError("--download needs --data-dir: the folder to put cifar-10-batches-py in")
    try:
        return Path(ndl.data.default_cifar10_dir())
    except (OSError, ValueError) as error:
        raise UsageError(f"{error}; or pass --data-dir (with --download to fetch the archive)") from None


def load_cifar10(data_dir, download, mirror=None):
    """(train, test, description): the 50,000 training and 10,000 test images of CIFAR-10 in `data_dir`
    (or its cifar-10-batches-py subfolder), python or binary batches, fetched first if asked.

    `mirror` is a base URL; None means CIFAR10_MIRROR."""
    if download:
        try:
            download_cifar10(data_dir, mirror or CIFAR10_MIRROR)
        except DownloadError as error:
            raise UsageError(str(error)) from None
    try:
        train_set = ndl.data.CIFAR10Dataset(data_dir, train=True)
        test_set = ndl.data.CIFAR10Dataset(data_dir, train=False)
    except FileNotFoundError as error:
        raise UsageError(f"{error}; pass --download to fetch them, or --data-dir") from None
    except ndl.data.CIFAR10FormatError as error:
        raise UsageError(str(error)) from None
    except OSError as error:
        raise UsageError(f"cannot read {error.filename}: {error.strerror or error}") from None
    return train_set, test_set, "CIFAR-10"
