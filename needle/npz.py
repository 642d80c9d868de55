"""The reading half of `ndl.load`: the arrays of an untrusted .npz file, with bounded memory.

Every entry is checked against the zip's central directory before anything is allocated: no
encryption, stored or deflated only, a small .npy header, a plain dtype, and a shape whose bytes
equal the entry's declared size. The declared sizes together must stay within `max_bytes`, and each
entry is inflated here, chunk by chunk, into its preallocated array: data that ends short of the
declared size, runs past it, or fails its CRC-32 is an error, and nothing past it is inflated.
"""
import copy
import io
import math
import struct
import zipfile
import zlib

import numpy as np

__all__ = ["read_npz", "LOADABLE_KINDS"]

# Booleans, numbers, dates, durations and fixed-width strings: all come back without pickle.
LOADABLE_KINDS = frozenset("biufcmMSU")
_NPY_MAGIC = b"\x93NUMPY"
_HEADER_LENGTH_FORMATS = {(1, 0): "<H", (2, 0): "<I"}
_MAX_HEADER_BYTES = 10_000  # NumPy's own default limit for a trusted-by-default header
_CHUNK_BYTES = 2**20
_ENCRYPTED = 0x1  # general purpose flag bit 0
# What zipfile and zlib raise for damaged archives (NotImplementedError: a zip version it lacks).
_ZIP_FAILURES = (
    zipfile.BadZipFile, zlib.error, EOFError, OSError, OverflowError, struct.error, NotImplementedError,
)


def read_npz(path, max_bytes):
    """{entry name: array} from the .npz file `path`; ValueError naming the file for anything wrong."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = _checked_entries(path, archive.infolist(), max_bytes)
            return {name: _read_entry(path, archive, name, info) for name, info in entries.items()}
    except _ZIP_FAILURES as error:
        raise ValueError(f"load: {path!r} is truncated or corrupt: {error}") from error


def _checked_entries(path, infos, max_bytes):
    """{name: ZipInfo} of .npy entries that can be read safely, in archive order."""
    entries = {}
    total = 0
    for info in infos:
        where = f"load: {path!r}: entry {info.filename!r}"
        if info.flag_bits & _ENCRYPTED:
            raise ValueError(f"{where} is encrypted; a checkpoint never is")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ValueError(
                f"{where} uses compression method {info.compress_type}; only stored (0) and "
                f"deflated (8) entries are read"
            )
        name = info.filename.removesuffix(".npy")
        if name == info.filename:
            raise ValueError(f"{where} is not an .npy array; a checkpoint holds nothing else")
        if name in entries:
            raise ValueError(f"{where} appears twice")
        entries[name] = info
        total += info.file_size
        if total > max_bytes:
            raise ValueError(
                f"load: {path!r} declares more than {max_bytes} bytes of arrays (max_bytes); "
                f"pass a larger max_bytes to load it"
            )
    return entries


def _read_entry(path, archive, name, info):
    """The array in one entry, read in chunks into a preallocated array of the declared size."""
    where = f"load: {path!r}: entry {info.filename!r}"
    with io.BufferedReader(_EntryBytes(archive, info, where)) as member:
        header_size, shape, fortran_order, dtype = _read_header(where, member)
        if dtype.hasobject:
            raise ValueError(f"load: {path!r} holds pickled objects, which needle never loads ({name})")
        if dtype.kind not in LOADABLE_KINDS or dtype.itemsize == 0:
            raise ValueError(f"{where} has dtype {dtype}, which a checkpoint never holds")
        if any(size < 0 for size in shape):
            raise ValueError(f"{where} declares shape {shape}, which has a negative size")
        count = math.prod(shape)
        if count * dtype.itemsize != info.file_size - header_size:
            raise ValueError(
                f"{where} is truncated or corrupt: its header declares shape {shape} of {dtype} "
                f"({count * dtype.itemsize} bytes) but the zip entry holds {info.file_size - header_size}"
            )
        array = np.empty(count, dtype=dtype)
        _fill(where, member, memoryview(array.view(np.uint8)))
    if fortran_order:
        return array.reshape(shape[::-1]).transpose()
    return array.reshape(shape)


def _read_header(where, member):
    """(header bytes, shape, fortran_order, dtype) of an .npy stream, its header at most 10,000 bytes."""
    prefix = member.read(len(_NPY_MAGIC) + 2)
    if len(prefix) < len(_NPY_MAGIC) + 2 or not prefix.startswith(_NPY_MAGIC):
        raise ValueError(f"{where} is truncated or corrupt: it is not an .npy array")
    version = tuple(prefix[-2:])
    if version not in _HEADER_LENGTH_FORMATS:
        raise ValueError(f"{where} has .npy format version {version[0]}.{version[1]}; 1.0 and 2.0 are read")
    length_format = _HEADER_LENGTH_FORMATS[version]
    length_bytes = member.read(struct.calcsize(length_format))
    (length,) = struct.unpack(length_format, length_bytes)
    if length > _MAX_HEADER_BYTES:
        raise ValueError(f"{where} has a {length}-byte .npy header; at most {_MAX_HEADER_BYTES} are read")
    header = member.read(length)
    reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    try:
        shape, fortran_order, dtype = reader(io.BytesIO(length_bytes + header))
    except Exception as error:  # NumPy parses the untrusted text with ast; it can fail many ways
        raise ValueError(f"{where} is truncated or corrupt: malformed .npy header: {error!r}") from None
    return len(prefix) + len(length_bytes) + length, shape, fortran_order, dtype


def _fill(where, member, buffer):
    """Read exactly len(buffer) bytes from `member`, then its end (which checks size and CRC)."""
    done = 0
    while done < len(buffer):
        got = member.readinto(buffer[done:done + _CHUNK_BYTES])
        if not got:
            raise ValueError(f"{where} is truncated or corrupt: {done} of {len(buffer)} bytes")
        done += got
    member.read(1)


class _EntryBytes(io.RawIOBase):
    """One entry's uncompressed bytes, inflated here in bounded chunks and checked as they come.

    zipfile would stop quietly at the declared size; this raises ValueError when the data runs past
    it, ends short of it, or fails the CRC-32, and never inflates more than one chunk past it.
    """

    def __init__(self, archive, info, where):
        super().__init__()
        raw = copy.copy(info)  # the stored bytes as they are: zipfile neither inflates nor checks them
        raw.compress_type, raw.file_size, raw.CRC = zipfile.ZIP_STORED, info.compress_size, None
        self._raw = archive.open(raw)
        deflated = info.compress_type == zipfile.ZIP_DEFLATED
        self._inflater = zlib.decompressobj(-zlib.MAX_WBITS) if deflated else None
        self._info, self._where = info, where
        self._pending, self._total, self._crc = memoryview(b""), 0, 0

    def readable(self):
        """Always: io.BufferedReader asks before reading."""
        return True

    def readinto(self, buffer):
        """Fill `buffer` with up to len(buffer) next bytes; 0 at the (checked) end."""
        while not self._pending:
            chunk = self._next_chunk()
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def _next_chunk(self):
        """The next inflated chunk (possibly empty), or None at the end once size and CRC check out."""
        if self._inflater is None or not self._inflater.unconsumed_tail:
            compressed = self._raw.read(_CHUNK_BYTES)
            if not compressed:
                self._check_end()
                return None
        else:
            compressed = self._inflater.unconsumed_tail
        chunk = compressed if self._inflater is None else self._inflater.decompress(compressed, _CHUNK_BYTES)
        self._total += len(chunk)
        if self._total > self._info.file_size:
            raise ValueError(
                f"{self._where} is truncated or corrupt: it inflates past its declared "
                f"{self._info.file_size} bytes"
            )
        if self._inflater is not None and self._inflater.unused_data:
            raise ValueError(f"{self._where} is truncated or corrupt: it holds data after its deflate stream")
        self._crc = zlib.crc32(chunk, self._crc)
        return chunk

    def _check_end(self):
        """The data is complete: the deflate stream ended, the size and the CRC-32 match."""
        problem = None
        if self._inflater is not None and not self._inflater.eof:
            problem = "its deflate stream does not end"
        elif self._total != self._info.file_size:
            problem = f"{self._total} of {self._info.file_size} bytes"
        elif self._crc != self._info.CRC:
            problem = "its CRC-32 does not match"
        if problem:
            raise ValueError(f"{self._where} is truncated or corrupt: {problem}")

    def close(self):
        """Close the raw entry stream too."""
        self._raw.close()
        super().close()
