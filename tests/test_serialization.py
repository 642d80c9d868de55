"""ndl.save / ndl.load: bit-exact round trips, atomic writes, stale temporaries, and clear errors for
bad files and ill-typed manifests."""
import os
import pickle
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import needle as ndl
from needle import nn, optim


def files_in(directory):
    return sorted(os.listdir(directory))


def assert_same_bits(actual, expected):
    assert type(actual) is type(expected)
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    assert np.asarray(actual).tobytes() == np.asarray(expected).tobytes()


ARRAYS = {
    "float32": np.random.randn(3, 4).astype(np.float32),
    "float64_specials": np.array([np.nan, -0.0, np.inf, -np.inf, 5e-324, np.finfo(np.float64).max]),
    "float16": np.arange(5, dtype=np.float16) / 3,
    "int8": np.array([-128, 0, 127], dtype=np.int8),
    "uint64": np.array([0, 2**64 - 1], dtype=np.uint64),
    "bool": np.array([[True, False]]),
    "complex64": np.array([1 + 2j, -3.5j], dtype=np.complex64),
    "zero_d": np.array(2.5, dtype=np.float32),
    "empty": np.zeros((0, 3), dtype=np.int32),
    "fortran": np.asfortranarray(np.arange(12, dtype=np.float64).reshape(3, 4)),
    "unicode": np.array(["ab", "ünï"]),
}


@pytest.mark.parametrize("name", list(ARRAYS))
def test_arrays_round_trip_bit_for_bit(name, tmp_path):
    ndl.save({"x": ARRAYS[name]}, tmp_path / "a.npz")
    assert_same_bits(ndl.load(tmp_path / "a.npz")["x"], ARRAYS[name])


@given(array=hnp.arrays(hnp.scalar_dtypes(), hnp.array_shapes(min_dims=0, max_dims=3, min_side=0)),
       as_tensor=st.booleans())
def test_any_plain_array_round_trips_bit_for_bit(array, as_tensor, tmp_path_factory):
    path = tmp_path_factory.mktemp("hypothesis") / "a.npz"
    as_tensor = as_tensor and array.dtype.kind in "biufc"  # Tensors hold numbers and bools
    ndl.save([ndl.Tensor(array) if as_tensor else array], path)
    (loaded,) = ndl.load(path)
    assert_same_bits(loaded.numpy() if as_tensor else loaded, array)


def test_nested_structures_round_trip(tmp_path):
    tensor = ndl.Tensor(np.random.randn(2, 2).astype(np.float32))
    obj = {
        "tensor": tensor,
        "scalars": {"int": 3, "float": 0.1, "big": 2**70, "bool": True, "none": None, "text": "héllo",
                    "inf": float("inf"), "f32": np.float32(1.5), "i64": np.int64(-7)},
        "sequence": [1, (2.5, "x"), [np.arange(3)]],
        7: "an int key",
        "empty": {},
    }
    ndl.save(obj, tmp_path / "nested.npz")
    loaded = ndl.load(tmp_path / "nested.npz")
    assert list(loaded) == ["tensor", "scalars", "sequence", 7, "empty"]
    assert isinstance(loaded["tensor"], ndl.Tensor) and loaded["tensor"].requires_grad
    assert_same_bits(loaded["tensor"].numpy(), tensor.numpy())
    scalars = loaded["scalars"]
    for key in ["int", "float", "big", "bool", "none", "text", "inf"]:
        assert scalars[key] == obj["scalars"][key] and type(scalars[key]) is type(obj["scalars"][key])
    assert type(scalars["f32"]) is np.float32 and scalars["f32"] == 1.5
    assert type(scalars["i64"]) is np.int64 and scalars["i64"] == -7
    assert loaded["sequence"][:2] == [1, (2.5, "x")]
    np.testing.assert_array_equal(loaded["sequence"][2][0], np.arange(3))
    assert loaded[7] == "an int key" and loaded["empty"] == {}


def test_saving_a_module_saves_its_state_dict(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    model(ndl.init.randn(5, 3))
    ndl.save(model, tmp_path / "model.npz")
    loaded = ndl.load(tmp_path / "model.npz")
    assert list(loaded) == list(model.state_dict())
    for name, value in model.state_dict().items():
        assert_same_bits(loaded[name].numpy(), value.numpy())
    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    fresh.load_state_dict(loaded)
    x = ndl.init.randn(2, 3)
    np.testing.assert_array_equal(fresh.eval()(x).numpy(), model.eval()(x).numpy())


def test_a_checkpoint_with_model_optimizer_and_epoch(tmp_path):
    model = nn.Linear(2, 2)
    opt = optim.Adam(model.parameters())
    model(ndl.init.randn(3, 2)).sum().backward()
    opt.step()
    ndl.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, tmp_path / "c.npz")
    checkpoint = ndl.load(tmp_path / "c.npz")
    assert checkpoint["epoch"] == 3
    assert checkpoint["optimizer"]["t"] == 1 and list(checkpoint["optimizer"]["state"]) == [0, 1]
    optim.Adam(nn.Linear(2, 2).parameters()).load_state_dict(checkpoint["optimizer"])


def test_save_writes_the_exact_path_and_leaves_no_temporary_file(tmp_path):
    ndl.save({"x": np.ones(2)}, tmp_path / "weights")
    ndl.save({"x": np.zeros(2)}, str(tmp_path / "weights"))  # overwrite, str path
    assert files_in(tmp_path) == ["weights"]
    np.testing.assert_array_equal(ndl.load(tmp_path / "weights")["x"], np.zeros(2))


def test_new_files_get_the_usual_permissions_and_overwrites_keep_the_old_ones(tmp_path):
    with open(tmp_path / "plain", "wb"):
        pass
    ndl.save({}, tmp_path / "new.npz")
    assert os.stat(tmp_path / "new.npz").st_mode == os.stat(tmp_path / "plain").st_mode
    os.chmod(tmp_path / "new.npz", 0o600)
    ndl.save({"x": 1}, tmp_path / "new.npz")
    assert os.stat(tmp_path / "new.npz").st_mode & 0o777 == 0o600


@pytest.mark.parametrize("failing", ["savez", "replace"])
def test_a_failed_write_keeps_the_old_file_and_cleans_up(failing, tmp_path, monkeypatch):
    path = tmp_path / "keep.npz"
    ndl.save({"x": np.arange(4)}, path)

    def savez_then_fail(file, **arrays):
        file.write(b"PK\x03\x04 partial")
        raise OSError("disk full")

    def fail(*args):
        raise OSError("disk full")

    if failing == "savez":
        monkeypatch.setattr(np, "savez", savez_then_fail)
    else:
        monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        ndl.save({"x": np.zeros(4)}, path)
    monkeypatch.undo()
    assert files_in(tmp_path) == ["keep.npz"]
    np.testing.assert_array_equal(ndl.load(path)["x"], np.arange(4))


@pytest.mark.parametrize(
    "obj, message",
    [
        ({"x": {1, 2}}, r"save: obj\['x'\] is a set"),
        ({(1, 2): 3}, r"save: obj has a key \(1, 2\); keys must be strings or ints"),
        ({"x": np.array([object()])}, r"save: obj\['x'\] is an array of Python objects"),
        ([1, lambda: 0], r"save: obj\[1\] is a function"),
        ({"x": np.zeros(2, dtype="V4")}, r"save: obj\['x'\] has dtype \|V4; checkpoints hold"),
        ({"t": ndl.Tensor.make_const(np.array(["a"]))}, r"save: obj\['t'\] is a Tensor of <U1; Tensors hold numbers"),
    ],
)
def test_unsupported_values_raise_before_any_file_is_made(obj, message, tmp_path):
    with pytest.raises(TypeError, match=message):
        ndl.save(obj, tmp_path / "bad.npz")
    assert files_in(tmp_path) == []


def good_checkpoint(path):
    ndl.save({"model": nn.Linear(4, 3), "epoch": 1}, path)
    return path.read_bytes()


def write_truncated(path):
    path.write_bytes(good_checkpoint(path)[:-40])


def write_corrupted(path):
    data = bytearray(good_checkpoint(path))
    middle = len(data) // 2
    data[middle:middle + 16] = bytes(16)
    path.write_bytes(bytes(data))


def write_text(path):
    path.write_text("just some text\n")


def write_empty(path):
    path.write_bytes(b"")


def write_npy(path):
    with open(path, "wb") as file:
        np.save(file, np.arange(3))


def write_npz_without_manifest(path):
    with open(path, "wb") as file:
        np.savez(file, weights=np.ones(3))


def write_bad_manifest(path):
    with open(path, "wb") as file:
        np.savez(file, __manifest__=np.frombuffer(b'{"format": "other"}', dtype=np.uint8))


def write_manifest_with_missing_entry(path):
    manifest = b'{"format": "needle-checkpoint", "version": 1, "root": {"type": "array", "entry": "a9"}}'
    with open(path, "wb") as file:
        np.savez(file, __manifest__=np.frombuffer(manifest, dtype=np.uint8))


@pytest.mark.parametrize(
    "write, message",
    [
        (write_truncated, "is truncated or corrupt"),
        (write_corrupted, "is truncated or corrupt"),
        (write_text, r"is not a needle checkpoint: it is not an .npz \(zip\) archive"),
        (write_empty, "is not a needle checkpoint: the file is empty"),
        (write_npy, "is not a needle checkpoint: it is a single .npy array"),
        (write_npz_without_manifest, "has no __manifest__ entry"),
        (write_bad_manifest, "has a corrupt or foreign manifest"),
        (write_manifest_with_missing_entry, "has a corrupt or foreign manifest"),
    ],
)
def test_bad_files_raise_a_clear_error_naming_the_file(write, message, tmp_path):
    path = tmp_path / "checkpoint.npz"
    write(path)
    with pytest.raises(ValueError, match=message) as error:
        ndl.load(path)
    assert str(path) in str(error.value)


UNPICKLED = []


class Trap:
    """Unpickling one of these records it; load must never get that far."""

    def __reduce__(self):
        return UNPICKLED.append, ("unpickled",)


def test_a_pickle_bearing_npz_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "pickled.npz"
    with zipfile.ZipFile(path, "w") as archive:
        with archive.open("__manifest__.npy", "w") as member:
            np.lib.format.write_array(member, np.frombuffer(b"{}", dtype=np.uint8))
        with archive.open("a0.npy", "w") as member:
            np.lib.format.write_array(member, np.array([Trap()], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="holds pickled objects, which needle never loads"):
        ndl.load(path)
    assert UNPICKLED == []


def test_a_plain_pickle_file_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "plain.pkl"
    path.write_bytes(pickle.dumps(Trap()))
    with pytest.raises(ValueError, match="it looks like a pickle, which needle never loads"):
        ndl.load(path)
    assert UNPICKLED == []


def test_a_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        ndl.load(tmp_path / "absent.npz")


def write_manifest(path, root_json, **arrays):
    """An .npz whose manifest has the root node `root_json` (JSON text), beside the given arrays."""
    text = '{"format": "needle-checkpoint", "version": 1, "root": %s}' % root_json
    with open(path, "wb") as file:
        np.savez(file, __manifest__=np.frombuffer(text.encode(), dtype=np.uint8), **arrays)


def nested_lists(depth):
    """JSON for a list node holding a list node ... `depth` levels deep."""
    return '{"type": "list", "items": [' * depth + "]}" * depth


TENSOR = '{"type": "tensor", "entry": "a0", "requires_grad": %s}'
ILL_TYPED = [
    ("5000-deep", nested_lists(5000), {}, "nests deeper than 100 levels"),
    ("150-deep", nested_lists(150), {}, "nests deeper than 100 levels"),
    ("tensor-over-bytes", TENSOR % "false", {"a0": np.array([b"abc"])}, "tensor entry 'a0' has dtype |S3"),
    ("tensor-over-strings", TENSOR % "false", {"a0": np.array(["abc"])}, "tensor entry 'a0' has dtype <U3"),
    ("requires-grad-no", TENSOR % '"no"', {"a0": np.ones(2)}, "requires_grad is 'no'"),
    ("requires-grad-1", TENSOR % "1", {"a0": np.ones(2)}, "requires_grad is 1"),
    ("integer-requires-grad", TENSOR % "true", {"a0": np.arange(3)}, "has dtype int64, which cannot require grad"),
    ("value-list", '{"type": "value", "value": [1, 2]}', {}, r"a value is \[1, 2\]"),
    ("value-object", '{"type": "value", "value": {"type": "value"}}', {}, "a value is"),
    ("items-not-list", '{"type": "list", "items": "abc"}', {}, "items is 'abc'"),
    ("dict-item-not-pair", '{"type": "dict", "items": [["k"]]}', {}, "a dict item is not a"),
    ("dict-key-bool", '{"type": "dict", "items": [[true, {"type": "value", "value": 1}]]}', {}, "a dict key is True"),
    ("dict-key-float", '{"type": "dict", "items": [[1.5, {"type": "value", "value": 1}]]}', {}, "a dict key is 1.5"),
    ("unknown-type", '{"type": "pickle", "data": "x"}', {}, "a node is not one of"),
    ("extra-field", '{"type": "value", "value": 1, "exec": "x"}', {}, "a node is not one of"),
    ("node-is-text", '"tensor"', {}, "a node is not one of"),
    ("type-is-list", '{"type": ["value"], "value": 1}', {}, "a node is not one of"),
    ("entry-not-text", '{"type": "array", "entry": 0}', {"a0": np.ones(2)}, "an entry name is 0"),
    ("missing-entry", '{"type": "array", "entry": "a7"}', {"a0": np.ones(2)}, "entry 'a7' is missing"),
    ("scalar-of-shape-2", '{"type": "scalar", "entry": "a0"}', {"a0": np.ones(2)}, r"has shape \(2,\)"),
]


@pytest.mark.parametrize("root, arrays, message", [c[1:] for c in ILL_TYPED], ids=[c[0] for c in ILL_TYPED])
def test_ill_typed_manifests_raise_a_value_error_naming_the_file(tmp_path, root, arrays, message):
    path = tmp_path / "ill.npz"
    write_manifest(path, root, **arrays)
    with pytest.raises(ValueError, match=f"has a corrupt or foreign manifest: .*{message}") as raised:
        ndl.load(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize(
    "manifest, message",
    [
        (np.frombuffer(b"[1, 2]", dtype=np.uint8), "it is not a needle manifest"),
        (np.frombuffer(b"\xff\xfe", dtype=np.uint8), "codec can't decode"),
        (np.zeros(3), "the manifest entry is float64 of shape"),
        (np.frombuffer(b'{"format": "needle-checkpoint", "version": 1}', dtype=np.uint8), "not a needle manifest"),
    ],
)
def test_a_manifest_that_is_not_a_json_object_of_bytes_is_refused(tmp_path, manifest, message):
    path = tmp_path / "m.npz"
    with open(path, "wb") as file:
        np.savez(file, __manifest__=manifest)
    with pytest.raises(ValueError, match=message):
        ndl.load(path)


def test_save_refuses_what_load_would_refuse_as_too_deep(tmp_path):
    deep = []
    for _ in range(150):
        deep = [deep]
    with pytest.raises(ValueError, match="nests deeper than 100 levels"):
        ndl.save(deep, tmp_path / "deep.npz")
    looped = []
    looped.append(looped)
    with pytest.raises(ValueError, match="nests deeper than 100 levels"):
        ndl.save(looped, tmp_path / "loop.npz")
    assert files_in(tmp_path) == []


# ---- temporaries left by killed saves ------------------------------------------------------

def dead_pid():
    """The id of a process that has exited (a fresh one is not reused this soon)."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(child.stdout)


KILLED_SAVE = """
import os, signal, sys
import numpy as np
import needle as ndl

def write_then_die(file, **arrays):
    file.write(b"PK\\x03\\x04 half a checkpoint")
    file.flush()
    os.kill(os.getpid(), signal.SIGKILL)

np.savez = write_then_die
ndl.save({"x": np.ones(3)}, sys.argv[1])
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL and process ids as POSIX has them")
@pytest.mark.parametrize("then", ["save", "load"])
def test_a_killed_saves_temporary_is_removed_by_the_next_save_or_load(tmp_path, then):
    path = tmp_path / "run.npz"
    ndl.save({"x": np.zeros(3)}, path)
    killed = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(path)], capture_output=True)
    assert killed.returncode == -9
    orphans = [name for name in files_in(tmp_path) if name != "run.npz"]
    assert len(orphans) == 1 and orphans[0].startswith(".run.npz.") and orphans[0].endswith(".tmp")
    if then == "save":
        ndl.save({"x": np.ones(3)}, path)
    np.testing.assert_array_equal(ndl.load(path)["x"], np.ones(3) if then == "save" else np.zeros(3))
    assert files_in(tmp_path) == ["run.npz"]


def test_only_stale_temporaries_of_that_path_are_removed(tmp_path):
    path = tmp_path / "run.npz"
    live = f".run.npz.{os.getpid()}.{'a' * 16}.tmp"  # a concurrent writer in this very process
    dead = f".run.npz.{dead_pid()}.{'b' * 16}.tmp"
    idle = f".run.npz.{os.getpid()}.{'c' * 16}.tmp"  # alive, but untouched for two hours
    legacy = f".run.npz.{'d' * 16}.tmp"  # the old naming without a pid, untouched for two hours
    others = [f".other.npz.{dead_pid()}.{'e' * 16}.tmp", "run.npz.bak", f".run.npz.{dead_pid()}.notes.tmp"]
    for name in [live, dead, idle, legacy, *others]:
        (tmp_path / name).write_bytes(b"partial")
    two_hours_ago = time.time() - 7200
    for name in (idle, legacy):
        os.utime(tmp_path / name, (two_hours_ago, two_hours_ago))
    ndl.save({"x": 1}, path)
    assert files_in(tmp_path) == sorted([live, *others, "run.npz"])
