"""`save` and `load`: checkpoints as .npz files whose structure is a JSON manifest, never a pickle.

A checkpoint holds nested dicts, lists and tuples of arrays, Tensors, NumPy scalars, ints, floats,
bools, strings and None, e.g. {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}.
Each array is one .npy entry of the archive; the entry `__manifest__` holds UTF-8 JSON describing
the tree. Arrays come back bit for bit, with their dtype. Files are untrusted when loaded: every
manifest node is type-checked and no entry allocates more than the archive declares (see npz.py).
"""
import json
import os
import re
import secrets
import shutil
import time

import numpy as np

from .autograd import Tensor
from .npz import LOADABLE_KINDS, read_npz

__all__ = ["save", "load"]

_FORMAT = "needle-checkpoint"
_VERSION = 1
_MANIFEST = "__manifest__"
_ZIP_MAGIC = b"PK\x03\x04"
DEFAULT_MAX_BYTES = 2**30
_MAX_DEPTH = 100  # nesting of dicts, lists and tuples; a state dict needs a handful
_TENSOR_KINDS = frozenset("biufcmM")  # bools, numbers, dates and durations; never strings or bytes
_NODE_KEYS = {
    "value": {"type", "value"},
    "dict": {"type", "items"},
    "list": {"type", "items"},
    "tuple": {"type", "items"},
    "array": {"type", "entry"},
    "scalar": {"type", "entry"},
    "tensor": {"type", "entry", "requires_grad"},
}
_STALE_SECONDS = 3600  # a temporary file untouched this long has no live writer


def save(obj, path):
    """Write `obj` to the file `path` (that exact name), atomically.

    An object with a `state_dict()` method (a Module, an Optimizer) is saved as its state dict,
    also when nested. The file is written to `.<name>.<pid>.<random>.tmp` in the same directory and
    moved over `path` with os.replace, so `path` is either the old file or the complete new one; a
    temporary left by a killed save is removed by the next save or load of `path`.
    """
    path = os.fspath(path)
    arrays = {}
    manifest = {"format": _FORMAT, "version": _VERSION, "root": _encode(obj, arrays, "obj", 0)}
    arrays[_MANIFEST] = np.frombuffer(json.dumps(manifest).encode("utf-8"), dtype=np.uint8)
    _remove_stale_temporaries(path)
    directory, name = os.path.split(os.path.abspath(path))
    temporary = os.path.join(directory, f".{name}.{os.getpid()}.{secrets.token_hex(8)}.tmp")
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


def load(path, *, max_bytes=DEFAULT_MAX_BYTES):
    """Read a checkpoint written by `save`; arrays, Tensors and scalars come back with their dtypes.

    Never unpickles and never allocates more than the archive declares, at most `max_bytes` in all
    (1 GiB unless raised). A truncated, corrupt, oversized or foreign file raises ValueError naming it.
    """
    path = os.fspath(path)
    _remove_stale_temporaries(path)
    with open(path, "rb") as file:
        magic = file.read(len(_ZIP_MAGIC))
    if magic != _ZIP_MAGIC:
        raise ValueError(f"load: {path!r} is not a needle checkpoint: {_describe(magic)}")
    arrays = read_npz(path, max_bytes)
    if _MANIFEST not in arrays:
        raise ValueError(f"load: {path!r} is not a needle checkpoint: it has no {_MANIFEST} entry")
    try:
        manifest = _parse_manifest(arrays.pop(_MANIFEST))
        return _decode(manifest["root"], arrays, 0)
    except ValueError as error:
        raise ValueError(f"load: {path!r} has a corrupt or foreign manifest: {error}") from error


def _parse_manifest(entry):
    """The manifest dict from its uint8 entry, its format and version checked."""
    if entry.dtype != np.uint8 or entry.ndim != 1:
        raise ValueError(f"the manifest entry is {entry.dtype} of shape {entry.shape}, not UTF-8 bytes")
    try:
        manifest = json.loads(entry.tobytes().decode("utf-8"))
    except RecursionError:
        raise ValueError(f"it nests deeper than {_MAX_DEPTH} levels") from None
    if not isinstance(manifest, dict) or set(manifest) != {"format", "version", "root"}:
        raise ValueError("it is not a needle manifest")
    if manifest["format"] != _FORMAT or manifest["version"] != _VERSION:
        raise ValueError(f"format {manifest['format']!r} version {manifest['version']!r}")
    return manifest


def _remove_stale_temporaries(path):
    """Delete `.<name>.<pid>.<hex>.tmp` files beside `path` whose writer is gone.

    A writer is gone when its process no longer exists or its file has been untouched for an hour;
    a live writer's file (this process's included) is left alone. Failures to delete are ignored.
    """
    directory, name = os.path.split(os.path.abspath(path))
    pattern = re.compile(rf"\.{re.escape(name)}\.(?:(\d+)\.)?[0-9a-f]{{16}}\.tmp")
    try:
        candidates = os.listdir(directory)
    except OSError:
        return
    for candidate in candidates:
        match = pattern.fullmatch(candidate)
        if match is None:
            continue
        full = os.path.join(directory, candidate)
        try:
            idle = time.time() - os.stat(full).st_mtime
            if idle > _STALE_SECONDS or (match[1] is not None and not _process_exists(int(match[1]))):
                os.unlink(full)
        except OSError:
            continue


def _process_exists(pid):
    """Whether a process with this id exists (assumed so where the OS cannot say without harm)."""
    if os.name != "posix":
        return True  # os.kill(pid, 0) would terminate the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _describe(magic):
    """Why a file starting with `magic` is not an .npz archive."""
    if not magic:
        return "the file is empty"
    if magic.startswith(b"\x93NUM"):
        return "it is a single .npy array, not an .npz archive"
    if magic.startswith(b"\x80"):
        return "it looks like a pickle, which needle never loads"
    return "it is not an .npz (zip) archive"


def _encode(value, arrays, where, depth):
    """The manifest node for `value`; arrays go into `arrays` under fresh entry names."""
    if depth > _MAX_DEPTH:
        raise ValueError(f"save: {where[:60]}... nests deeper than {_MAX_DEPTH} levels, more than load reads")
    if hasattr(value, "state_dict") and callable(value.state_dict):
        value = value.state_dict()
    if isinstance(value, Tensor):
        if value.numpy().dtype.kind not in _TENSOR_KINDS:
            raise TypeError(f"save: {where} is a Tensor of {value.numpy().dtype}; Tensors hold numbers")
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
            items.append([key, _encode(item, arrays, f"{where}[{key!r}]", depth + 1)])
        return {"type": "dict", "items": items}
    if isinstance(value, (list, tuple)):
        items = [_encode(item, arrays, f"{where}[{i}]", depth + 1) for i, item in enumerate(value)]
        return {"type": type(value).__name__, "items": items}
    raise TypeError(
        f"save: {where} is a {type(value).__name__}; expected arrays, Tensors, numbers, strings, "
        f"None, or dicts, lists and tuples of them"
    )


def _store(array, arrays, where):
    """Put `array` into `arrays` under a fresh entry name and return the name."""
    if array.dtype.hasobject:
        raise TypeError(
            f"save: {where} is an array of Python objects (dtype {array.dtype}), which needs pickle"
        )
    if array.dtype.kind not in LOADABLE_KINDS or array.dtype.itemsize == 0:
        raise TypeError(
            f"save: {where} has dtype {array.dtype}; checkpoints hold bools, numbers, dates and strings"
        )
    entry = f"a{len(arrays)}"
    arrays[entry] = array
    return entry


def _decode(node, arrays, depth):
    """The value a manifest node describes, every node's type and fields checked."""
    if depth > _MAX_DEPTH:
        raise ValueError(f"it nests deeper than {_MAX_DEPTH} levels")
    kind = node.get("type") if isinstance(node, dict) else None
    if not isinstance(kind, str) or _NODE_KEYS.get(kind) != set(node):
        raise ValueError(f"a node is not one of {sorted(_NODE_KEYS)}: {_preview(node)}")
    if kind == "value":
        return _checked(node["value"], (type(None), bool, int, float, str), "a value")
    if kind == "dict":
        result = {}
        for pair in _checked(node["items"], list, "dict items"):
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValueError(f"a dict item is not a [key, node] pair: {_preview(pair)}")
            key = _checked(pair[0], (str, int), "a dict key")
            result[key] = _decode(pair[1], arrays, depth + 1)
        return result
    if kind in ("list", "tuple"):
        items = [_decode(item, arrays, depth + 1) for item in _checked(node["items"], list, "items")]
        return items if kind == "list" else tuple(items)
    entry = _checked(node["entry"], str, "an entry name")
    if entry not in arrays:
        raise ValueError(f"entry {entry!r} is missing")
    array = arrays[entry]
    if kind == "array":
        return array
    if kind == "scalar":
        if array.ndim != 0:
            raise ValueError(f"scalar entry {entry!r} has shape {array.shape}")
        return array[()]
    if array.dtype.kind not in _TENSOR_KINDS:
        raise ValueError(f"tensor entry {entry!r} has dtype {array.dtype}; Tensors hold numbers")
    requires_grad = _checked(node["requires_grad"], bool, "requires_grad")
    if requires_grad and array.dtype.kind not in "fc":
        raise ValueError(f"tensor entry {entry!r} has dtype {array.dtype}, which cannot require grad")
    return Tensor.make_const(array, requires_grad=requires_grad)


def _checked(value, types, what):
    """`value` when it is one of `types` (a bool is never an int here), else ValueError."""
    bool_wanted = types is bool or (isinstance(types, tuple) and bool in types)
    if not isinstance(value, types) or (isinstance(value, bool) and not bool_wanted):
        raise ValueError(f"{what} is {_preview(value)}")
    return value


def _preview(value):
    """repr(value), cut to 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
