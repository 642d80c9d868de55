"""`save` and `load`: checkpoints as .npz files whose structure is a JSON manifest, never a pickle.

A checkpoint holds nested dicts, lists and tuples of arrays, Tensors, NumPy scalars, ints, floats,
bools, strings and None, e.g. {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}.
Each array is one .npy entry of the archive; the entry `__manifest__` holds UTF-8 JSON describing
the tree. Arrays come back bit for bit, with their dtype.
"""
import json
import os
import secrets
import shutil
import zipfile
import zlib

import numpy as np

from .autograd import Tensor

__all__ = ["save", "load"]

_FORMAT = "needle-checkpoint"
_VERSION = 1
_MANIFEST = "__manifest__"
_ZIP_MAGIC = b"PK\x03\x04"


def save(obj, path):
    """Write `obj` to the file `path` (that exact name), atomically.

    An object with a `state_dict()` method (a Module, an Optimizer) is saved as its state dict,
    also when nested. The file is written to a temporary file in the same directory and moved over
    `path` with os.replace, so `path` is either the old file or the complete new one.
    """
    path = os.fspath(path)
    arrays = {}
    manifest = {"format": _FORMAT, "version": _VERSION, "root": _encode(obj, arrays, "obj")}
    arrays[_MANIFEST] = np.frombuffer(json.dumps(manifest).encode("utf-8"), dtype=np.uint8)
    directory, name = os.path.split(os.path.abspath(path))
    temporary = os.path.join(directory, f".{name}.{secrets.token_hex(8)}.tmp")
    # O_EXCL: never reuse an existing file; mode 0o666 less the umask, like any new file.
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        if os.path.exists(path):
            shutil.copymode(path, temporary)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def load(path):
    """Read a checkpoint written by `save`; arrays, Tensors and scalars come back with their dtypes.

    Never unpickles (allow_pickle=False). A truncated, corrupt or foreign file, or one holding
    pickled objects, raises ValueError naming the file.
    """
    path = os.fspath(path)
    with open(path, "rb") as file:
        magic = file.read(len(_ZIP_MAGIC))
    if magic != _ZIP_MAGIC:
        raise ValueError(f"load: {path!r} is not a needle checkpoint: {_describe(magic)}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (ValueError, EOFError, OSError, zipfile.BadZipFile, zlib.error) as error:
        if "allow_pickle" in str(error):  # NumPy refusing an object array
            raise ValueError(f"load: {path!r} holds pickled objects, which needle never loads") from error
        raise ValueError(f"load: {path!r} is truncated or corrupt: {error}") from error
    if _MANIFEST not in arrays:
        raise ValueError(f"load: {path!r} is not a needle checkpoint: it has no {_MANIFEST} entry")
    try:
        manifest = json.loads(arrays.pop(_MANIFEST).tobytes().decode("utf-8"))
        if manifest.get("format") != _FORMAT or manifest.get("version") != _VERSION:
            raise ValueError(f"format {manifest.get('format')!r} version {manifest.get('version')!r}")
        return _decode(manifest["root"], arrays)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"load: {path!r} has a corrupt or foreign manifest: {error!r}") from error


def _describe(magic):
    """Why a file starting with `magic` is not an .npz archive."""
    if not magic:
        return "the file is empty"
    if magic.startswith(b"\x93NUM"):
        return "it is a single .npy array, not an .npz archive"
    if magic.startswith(b"\x80"):
        return "it looks like a pickle, which needle never loads"
    return "it is not an .npz (zip) archive"


def _encode(value, arrays, where):
    """The manifest node for `value`; arrays go into `arrays` under fresh entry names."""
    if hasattr(value, "state_dict") and callable(value.state_dict):
        value = value.state_dict()
    if isinstance(value, Tensor):
        entry = _store(value.numpy(), arrays, where)
        return {"type": "tensor", "entry": entry, "requires_grad": bool(value.requires_grad)}
    if isinstance(value, np.ndarray):
        return {"type": "array", "entry": _store(value, arrays, where)}
    if isinstance(value, np.generic):
        return {"type": "scalar", "entry": _store(np.asarray(value), arrays, where)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"type": "value", "value": value}
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"save: {where} has a key {key!r}; keys must be strings or ints")
            items.append([key, _encode(item, arrays, f"{where}[{key!r}]")])
        return {"type": "dict", "items": items}
    if isinstance(value, (list, tuple)):
        items = [_encode(item, arrays, f"{where}[{i}]") for i, item in enumerate(value)]
        return {"type": type(value).__name__, "items": items}
    raise TypeError(
        f"save: {where} is a {type(value).__name__}; expected arrays, Tensors, numbers, strings, "
        f"None, or dicts, lists and tuples of them"
    )


def _store(array, arrays, where):
    if array.dtype.hasobject:
        raise TypeError(
            f"save: {where} is an array of Python objects (dtype {array.dtype}), which needs pickle"
        )
    entry = f"a{len(arrays)}"
    arrays[entry] = array
    return entry


def _decode(node, arrays):
    kind = node["type"]
    if kind == "value":
        return node["value"]
    if kind == "dict":
        return {key: _decode(item, arrays) for key, item in node["items"]}
    if kind in ("list", "tuple"):
        items = [_decode(item, arrays) for item in node["items"]]
        return items if kind == "list" else tuple(items)
    array = arrays[node["entry"]]
    if kind == "array":
        return array
    if kind == "scalar":
        return array[()]
    if kind == "tensor":
        return Tensor.make_const(array, requires_grad=bool(node["requires_grad"]))
    raise ValueError(f"unknown node type {kind!r}")
