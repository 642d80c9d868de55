"""MNIST's four gzipped IDX files: their names, fetching them over HTTP(S), and checking them.

A download is checked before it is kept: the SHA-256 of the decompressed IDX bytes must match
where it is known (the two t10k files), and every pair must parse as IDX with the standard image
count. Checksums are taken over the decompressed bytes so that a mirror which re-compressed the
files still verifies. Files land in place atomically (a temporary file, then `os.replace`).
"""
import gzip
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path

from needle.data import MNISTFormatError, read_idx

__all__ = [
    "DEFAULT_MIRROR", "TRAIN_FILES", "TEST_FILES", "EXPECTED_COUNT", "MAX_DOWNLOAD_BYTES", "DownloadError",
    "has_files", "content_sha256", "download_mnist",
]

DEFAULT_MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"

TRAIN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
EXPECTED_COUNT = {TRAIN_FILES: 60_000, TEST_FILES: 10_000}

# SHA-256 of the decompressed IDX bytes. Only the t10k files have a value we measured ourselves;
# the train files are validated by parsing (magic numbers, sizes, 60,000 images and labels).
CONTENT_SHA256 = {
    "t10k-images-idx3-ubyte.gz": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte.gz": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

# The largest standard file (train images) is 9.9 MB compressed; refuse anything far beyond it.
MAX_DOWNLOAD_BYTES = 32 * 2**20
_CHUNK_BYTES = 2**16


class DownloadError(Exception):
    """A file could not be fetched, or what was fetched failed verification; nothing was kept."""


def has_files(data_dir, names):
    """True when every file in `names` exists in `data_dir`."""
    return all((Path(data_dir) / name).is_file() for name in names)


def content_sha256(gz_path):
    """Hex SHA-256 of the decompressed bytes of the gzip file at `gz_path`."""
    digest = hashlib.sha256()
    try:
        with gzip.open(gz_path, "rb") as stream:
            for chunk in iter(lambda: stream.read(_CHUNK_BYTES), b""):
                digest.update(chunk)
    except (OSError, EOFError, zlib.error) as error:
        raise DownloadError(f"{gz_path}: not a gzip file: {error}") from None
    return digest.hexdigest()


def download_mnist(data_dir, mirror=DEFAULT_MIRROR, *, timeout=30.0, log=print):
    """Fetch the MNIST files missing from `data_dir` from `mirror` (a base URL); returns their names.

    The t10k pair comes first. A pair is verified as a whole (checksums where known, then IDX
    parsing and the image count) and moved into place only when both files pass, so an error
    leaves `data_dir` as it was for that pair. Raises DownloadError with a one-line reason.
    """
    data_dir = Path(data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DownloadError(f"cannot create {data_dir}: {error.strerror or error}") from None
    base = mirror if mirror.endswith("/") else mirror + "/"
    fetched = []
    for pair in (TEST_FILES, TRAIN_FILES):
        missing = [name for name in pair if not (data_dir / name).is_file()]
        if not missing:
            continue
        staged = {}
        try:
            for name in missing:
                log(f"downloading {base + name}")
                staged[name] = _fetch(base + name, data_dir, timeout)
                _verify_checksum(base + name, name, staged[name])
            paths = [staged.get(name, data_dir / name) for name in pair]
            _verify_pair(base, pair, paths)
            for name, temporary in staged.items():
                os.replace(temporary, data_dir / name)
            fetched.extend(missing)
        finally:
            for temporary in staged.values():
                temporary.unlink(missing_ok=True)
    return fetched


def _fetch(url, data_dir, timeout):
    """Stream `url` into a new temporary file in `data_dir` (mode 644); returns its path."""
    try:
        handle, temporary = tempfile.mkstemp(dir=data_dir, prefix=".download-", suffix=".part")
    except OSError as error:
        raise DownloadError(f"cannot write to {data_dir}: {error.strerror or error}") from None
    temporary = Path(temporary)
    try:
        with os.fdopen(handle, "wb") as out:
            copy_body(url, out, timeout, max_bytes=MAX_DOWNLOAD_BYTES, what="an MNIST file",
                      by_hand=f"copy the files into {data_dir} by hand")
        os.chmod(temporary, 0o644)  # mkstemp makes it private to its owner
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def copy_body(url, out, timeout, *, max_bytes, what, by_hand, digest=None):
    """Write the body of `url` to the open file `out` (and into `digest`, a hashlib object, when given),
    refusing more than `max_bytes`: a longer body is not `what`. `by_hand` says what to do offline."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            size = 0
            for chunk in iter(lambda: response.read(_CHUNK_BYTES), b""):
                size += len(chunk)
                if size > max_bytes:
                    raise DownloadError(f"{url}: more than {max_bytes} bytes; not {what}")
                if digest is not None:
                    digest.update(chunk)
                out.write(chunk)
    except urllib.error.HTTPError as error:
        raise DownloadError(f"cannot fetch {url}: HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        raise DownloadError(f"cannot fetch {url}: {error.reason} (offline? {by_hand})") from None
    except OSError as error:
        raise DownloadError(f"cannot fetch {url}: {error.strerror or error}") from None


def _verify_checksum(url, name, path):
    expected = CONTENT_SHA256.get(name)
    if expected is None:
        return
    found = content_sha256(path)
    if found != expected:
        raise DownloadError(
            f"{url}: SHA-256 of the decompressed file is {found}, expected {expected}; not saved"
        )


def _verify_pair(base, pair, paths):
    """Both files parse as IDX and hold the standard number of examples."""
    try:
        images, labels = read_idx(*paths)  # streamed: pixels stay uint8, no float copy
    except MNISTFormatError as error:
        raise DownloadError(f"{base}: {pair[0]} and {pair[1]} are not valid MNIST: {error}") from None
    expected = EXPECTED_COUNT[pair]
    if len(labels) != expected:
        raise DownloadError(f"{base}: {pair[0]} holds {len(labels)} images, expected {expected}")
    if labels.max() > 9:
        raise DownloadError(f"{base}: {pair[1]} holds label {labels.max()}; MNIST labels are 0-9")
