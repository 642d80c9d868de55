"""ndl.load's archive reading: hostile zip and .npy entries are refused with a ValueError naming the
file, before anything large is allocated, and decompression never runs past an entry's declared size."""
import io
import json
import struct
import tracemalloc
import zlib

import numpy as np
import pytest

import needle as ndl

GiB = 2**30


def npy(array):
    """The .npy bytes of `array`, as np.save writes them."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=True)
    return buffer.getvalue()


def npy_with_header(header, data=b"", version=(1, 0)):
    """.npy bytes with a hand-written header text (padded with spaces to `header` as given)."""
    length = struct.pack("<H" if version == (1, 0) else "<I", len(header))
    return b"\x93NUMPY" + bytes(version) + length + header + data


def manifest(root):
    """The __manifest__ entry for `root`: its JSON as a uint8 .npy array."""
    text = json.dumps({"format": "needle-checkpoint", "version": 1, "root": root}).encode()
    return npy(np.frombuffer(text, dtype=np.uint8))


def entry(name, data, *, method=0, stream=None, size=None, crc=None, flags=0):
    """One zip entry: `data` uncompressed (its size and CRC unless given) stored, or `stream` as sent."""
    return {
        "name": name, "stream": data if stream is None else stream, "method": method, "flags": flags,
        "size": len(data) if size is None else size, "crc": zlib.crc32(data) if crc is None else crc,
    }


def raw_zip(entries):
    """Zip bytes built field by field, so every header value can be whatever a test needs."""
    local, central = b"", b""
    for item in entries:
        name = item["name"].encode()
        fields = struct.pack(
            "<HHHHHIIIHH", 20, item["flags"], item["method"], 0, 0x21, item["crc"], len(item["stream"]),
            item["size"], len(name), 0,
        )
        central += b"PK\x01\x02" + struct.pack("<H", 20) + fields + struct.pack("<HHHII", 0, 0, 0, 0, len(local))
        central += name
        local += b"PK\x03\x04" + fields + name + item["stream"]
    end = struct.pack("<HHHHIIH", 0, 0, len(entries), len(entries), len(central), len(local), 0)
    return local + central + b"PK\x05\x06" + end


def deflated(data):
    """Raw deflate bytes of `data`, as a zip entry holds them."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def deflate_bomb(prefix, zero_bytes):
    """Raw deflate bytes of `prefix` then `zero_bytes` zeros: about 1 MB per GiB.

    After a full flush the compressor keeps no history, so one compressed 64 MiB block repeats.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = 2**26
    first = compressor.compress(prefix + bytes(block)) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeat = compressor.compress(bytes(block)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return first + repeat * (zero_bytes // block - 1) + compressor.flush()


ARRAY = npy(np.arange(10.0))
GOOD_MANIFEST = manifest({"type": "array", "entry": "a0"})


def checkpoint(*entries):
    """A checkpoint zip with the good manifest and the given entries."""
    return raw_zip([entry("__manifest__.npy", GOOD_MANIFEST), *entries])


def test_a_hand_built_checkpoint_loads(tmp_path):
    path = tmp_path / "c.npz"
    path.write_bytes(checkpoint(entry("a0.npy", ARRAY)))
    np.testing.assert_array_equal(ndl.load(path), np.arange(10.0))
    path.write_bytes(checkpoint(entry("a0.npy", ARRAY, method=8, stream=deflated(ARRAY))))
    np.testing.assert_array_equal(ndl.load(path), np.arange(10.0))


HUGE_HEADER = b"{'descr': '<f8', 'fortran_order': False, 'shape': (10,), }" + b" " * 2**20 + b"\n"
HOSTILE = [
    ("encrypted", checkpoint(entry("a0.npy", ARRAY, flags=0x1)), "entry 'a0.npy' is encrypted"),
    ("method-99", checkpoint(entry("a0.npy", ARRAY, method=99)), "uses compression method 99"),
    ("bzip2", checkpoint(entry("a0.npy", ARRAY, method=12)), "uses compression method 12"),
    ("declared-10^12-elements",
     checkpoint(entry("a0.npy", npy_with_header(b"{'descr': '<f8', 'fortran_order': False, 'shape': (10**12,), }"))),
     "malformed .npy header"),
    ("declared-10^12-elements-as-int",
     checkpoint(entry("a0.npy", npy_with_header(
         b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }", bytes(8)))),
     r"declares shape \(1000000000000,\) of float64 \(8000000000000 bytes\) but the zip entry holds 8"),
    ("declared-4-GiB-entry", checkpoint(entry("a0.npy", ARRAY, size=2**32 - 1)),
     "declares more than 1073741824 bytes of arrays"),
    ("1-MiB-npy-header", checkpoint(entry("a0.npy", npy_with_header(HUGE_HEADER, bytes(80), (2, 0)))),
     "has a 1048635-byte .npy header; at most 10000 are read"),
    ("npy-version-3", checkpoint(entry("a0.npy", ARRAY[:6] + b"\x03\x00" + ARRAY[8:])), "format version 3.0"),
    ("garbage-npy-header", checkpoint(entry("a0.npy", npy_with_header(b"{'descr': ((((", bytes(8)))),
     "malformed .npy header"),
    ("negative-shape",
     checkpoint(entry("a0.npy", npy_with_header(b"{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }"))),
     "negative size"),
    ("void-dtype", checkpoint(entry("a0.npy", npy(np.zeros(2, dtype="V8")))), "has dtype |V8, which a checkpoint"),
    ("structured-dtype", checkpoint(entry("a0.npy", npy(np.zeros(2, dtype=[("a", "<f4")])))), "has dtype"),
    ("object-dtype", checkpoint(entry("a0.npy", npy(np.array([1, "x"], dtype=object)))),
     "holds pickled objects, which needle never loads"),
    ("not-npy-member", checkpoint(entry("a0.npy", ARRAY), entry("run.pkl", b"\x80\x04.")), "is not an .npy array"),
    ("duplicate-entry", checkpoint(entry("a0.npy", ARRAY), entry("a0.npy", ARRAY)), "appears twice"),
    ("crc-mismatch", checkpoint(entry("a0.npy", ARRAY, crc=1)), "its CRC-32 does not match"),
    ("deflate-longer-than-declared",
     checkpoint(entry("a0.npy", ARRAY, method=8, stream=deflated(ARRAY + bytes(100)), crc=zlib.crc32(ARRAY))),
     "inflates past its declared 208 bytes"),
    ("deflate-shorter-than-declared", checkpoint(entry("a0.npy", ARRAY, method=8, stream=deflated(ARRAY[:-8]))),
     "is truncated or corrupt"),
    ("deflate-cut-off", checkpoint(entry("a0.npy", ARRAY, method=8, stream=deflated(ARRAY)[:-3])),
     "is truncated or corrupt"),
    ("data-after-deflate-stream", checkpoint(entry("a0.npy", ARRAY, method=8, stream=deflated(ARRAY) + b"junk")),
     "holds data after its deflate stream"),
    ("invalid-deflate", checkpoint(entry("a0.npy", ARRAY, method=8, stream=b"\xff" * 50)), "is truncated or corrupt"),
]


@pytest.mark.parametrize("data, message", [case[1:] for case in HOSTILE], ids=[case[0] for case in HOSTILE])
def test_hostile_archives_raise_a_value_error_naming_the_file(tmp_path, data, message):
    path = tmp_path / "hostile.npz"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=message) as raised:
        ndl.load(path)
    assert str(path) in str(raised.value)


def test_max_bytes_limits_the_declared_total_and_can_be_raised(tmp_path):
    path = tmp_path / "big.npz"
    ndl.save({"w": np.zeros(2**18)}, path)  # 2 MiB of float64
    with pytest.raises(ValueError, match="declares more than 1000000 bytes of arrays .*pass a larger max_bytes"):
        ndl.load(path, max_bytes=1_000_000)
    assert ndl.load(path, max_bytes=4 * 2**20)["w"].shape == (2**18,)


def traced_peak(function):
    """(exception raised by function(), peak traced bytes while it ran)."""
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as raised:
            function()
        return raised.value, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_deflate_bomb_declaring_its_2_gib_is_refused_before_inflating(tmp_path):
    header = npy(np.zeros(0, dtype=np.uint8))[:-1]  # any small header; the size check comes first
    stream = deflate_bomb(header, 2 * GiB)
    path = tmp_path / "bomb.npz"
    path.write_bytes(checkpoint(entry("a0.npy", b"", method=8, stream=stream, size=2 * GiB, crc=0)))
    assert path.stat().st_size < 3 * 2**20
    error, peak = traced_peak(lambda: ndl.load(path))
    assert "declares more than 1073741824 bytes" in str(error)
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.1f} MiB"


def test_a_deflate_bomb_declaring_a_small_entry_stops_one_chunk_past_it(tmp_path):
    stream = deflate_bomb(ARRAY, 2 * GiB)
    path = tmp_path / "bomb.npz"
    path.write_bytes(checkpoint(entry("a0.npy", ARRAY, method=8, stream=stream)))
    assert path.stat().st_size < 3 * 2**20
    error, peak = traced_peak(lambda: ndl.load(path))
    assert "inflates past its declared 208 bytes" in str(error)
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.1f} MiB"
