"""save/load: exact round trips, atomic writes, and no pickle in either direction."""

from __future__ import annotations

import json
import math
import os
import pathlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_np import io
from tinygrad_np.io import load, save
from tinygrad_np.tensor import Tensor


def assert_same(expected, got, where="obj"):
    """Equal in type, structure and bits (NaNs included), not merely ==."""
    if isinstance(expected, np.ndarray):
        assert isinstance(got, np.ndarray), where
        assert got.dtype == expected.dtype and got.shape == expected.shape, where
        assert got.tobytes() == expected.tobytes(), where
        return
    assert type(got) is type(expected), f"{where}: {type(got)} != {type(expected)}"
    if isinstance(expected, np.generic):
        assert got.dtype == expected.dtype and got.tobytes() == expected.tobytes(), where
    elif isinstance(expected, float):
        assert repr(got) == repr(expected), where  # tells -0.0 from 0.0; nan equals nan
    elif isinstance(expected, dict):
        assert list(got) == list(expected), where
        for key in expected:
            assert_same(expected[key], got[key], f"{where}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert len(got) == len(expected), where
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            assert_same(e, g, f"{where}[{i}]")
    else:
        assert got == expected, where


dtypes = st.one_of(
    hnp.boolean_dtypes(),
    hnp.integer_dtypes(endianness="?"),
    hnp.unsigned_integer_dtypes(endianness="?"),
    hnp.floating_dtypes(endianness="?"),
    hnp.complex_number_dtypes(endianness="?"),
    hnp.datetime64_dtypes(endianness="?"),
    hnp.timedelta64_dtypes(endianness="?"),
    hnp.array_dtypes(hnp.scalar_dtypes(), max_size=3),  # structured records
    hnp.unicode_string_dtypes(max_len=4),
    hnp.byte_string_dtypes(max_len=4),
)
arrays = dtypes.flatmap(
    lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0))
)
leaves = st.one_of(
    arrays,
    arrays.filter(lambda a: a.ndim == 0).map(lambda a: a[()]),  # NumPy scalars
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**200), max_value=2**200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
keys = st.one_of(st.text(max_size=6), st.integers(-(2**70), 2**70))
state_dicts = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(keys, children, max_size=4),
    ),
    max_leaves=12,
)


@given(obj=state_dicts)
def test_round_trip_is_exact(obj, tmp_path_factory):
    path = tmp_path_factory.mktemp("rt") / "state.npz"
    save(obj, path)
    assert_same(obj, load(path))


def test_rng_states_with_huge_ints_round_trip(tmp_path):
    generator = np.random.default_rng(2024)
    generator.normal(size=3)
    twister = np.random.Generator(np.random.MT19937(7))  # its state holds a uint32 key array
    state = {
        "pcg": generator.bit_generator.state,
        "mt": twister.bit_generator.state,
        "legacy": np.random.RandomState(3).get_state(),
    }
    assert state["pcg"]["state"]["state"] > 2**64
    save(state, tmp_path / "rng.npz")
    loaded = load(tmp_path / "rng.npz")
    assert_same(state, loaded)
    resumed = np.random.default_rng()
    resumed.bit_generator.state = loaded["pcg"]
    assert np.array_equal(resumed.normal(size=5), generator.normal(size=5))


def test_tensors_are_stored_as_arrays(tmp_path):
    weight = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    save({"weight": weight}, tmp_path / "model.npz")
    loaded = load(tmp_path / "model.npz")["weight"]
    assert isinstance(loaded, np.ndarray) and loaded.dtype == np.float64
    assert np.array_equal(loaded, weight.numpy())


def test_objects_with_a_numpy_method_are_stored_as_arrays(tmp_path):
    class HasNumpy:
        def numpy(self):
            return np.arange(3, dtype=np.int16)

    save([HasNumpy()], tmp_path / "x.npz")
    assert_same([np.arange(3, dtype=np.int16)], load(tmp_path / "x.npz"))


def test_saves_exactly_at_the_given_path(tmp_path):
    save({"a": np.ones(2)}, str(tmp_path / "checkpoint.bin"))
    save({"b": 1}, pathlib.Path(tmp_path / "plain"))
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.bin", "plain"]
    assert load(tmp_path / "plain") == {"b": 1}


def test_overwrites_and_keeps_the_umask_permissions(tmp_path):
    path = tmp_path / "model.npz"
    save({"v": 1}, path)
    save({"v": 2}, path)
    assert load(path) == {"v": 2}
    (tmp_path / "reference").write_bytes(b"")
    assert os.stat(path).st_mode == os.stat(tmp_path / "reference").st_mode


def test_plain_npz_loads_as_a_dict(tmp_path):
    np.savez(tmp_path / "plain.npz", w=np.eye(2), b=np.zeros(2, np.float32))
    loaded = load(tmp_path / "plain.npz")
    assert sorted(loaded) == ["b", "w"] and loaded["b"].dtype == np.float32


# ---------------------------------------------------------------- refusing what cannot be read


@pytest.mark.parametrize(
    "obj, message",
    [
        (
            {"opt": {"state": [np.array([1, "a"], dtype=object)]}},
            r"obj\['opt'\]\['state'\]\[0\] is an array of dtype object",
        ),
        ({"m": {"w": {1, 2}}}, r"obj\['m'\]\['w'\] has unsupported type set"),
        ({"blob": b"bytes"}, r"obj\['blob'\] has unsupported type bytes"),
        ({(1, 2): 3}, r"key \(1, 2\) of type tuple; dict keys must be str or int"),
        ({"rec": np.zeros(2, dtype=[("x", "f4"), ("o", "O")])}, r"obj\['rec'\] .* holds Python"),
    ],
)
def test_unsupported_values_raise_and_leave_the_old_file(tmp_path, obj, message):
    path = tmp_path / "model.npz"
    save({"good": np.arange(3)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match=message):
        save(obj, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]


def test_circular_structures_are_refused(tmp_path):
    loop: list = [1]
    loop.append({"again": loop})
    with pytest.raises(ValueError, match=r"obj\[1\]\['again'\] contains itself"):
        save(loop, tmp_path / "x.npz")
    shared = [np.zeros(1)]
    save({"a": shared, "b": shared}, tmp_path / "x.npz")  # shared, not circular: fine


class _DiskFull(OSError):
    pass


def _fail_in_savez(file, **arrays):
    file.write(b"PK partial archive")
    raise _DiskFull("no space left on device")


def _fail_in_replace(src, dst):
    raise _DiskFull("rename failed")


@pytest.mark.parametrize(
    "target, failing", [("savez", _fail_in_savez), ("replace", _fail_in_replace)]
)
def test_failed_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch, target, failing):
    path = tmp_path / "model.npz"
    save({"w": np.arange(4.0)}, path)
    before = path.read_bytes()
    owner = io.np if target == "savez" else io.os
    monkeypatch.setattr(owner, target, failing)
    with pytest.raises(_DiskFull):
        save({"w": np.zeros(4)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]
    assert_same({"w": np.arange(4.0)}, load(path))


# ---------------------------------------------------------------- never unpickling

_unpickled = []


def _record_unpickling():
    _unpickled.append(True)
    return "payload"


class _Payload:
    def __reduce__(self):
        return (_record_unpickling, ())


def test_pickled_entries_raise_instead_of_unpickling(tmp_path):
    path = tmp_path / "evil.npz"
    payload = np.empty(1, dtype=object)
    payload[0] = _Payload()
    np.savez(path, weights=np.ones(2), payload=payload, allow_pickle=True)
    with pytest.raises(ValueError, match="'payload' .* holds pickled Python objects"):
        load(path)
    assert _unpickled == []


def _write_meta(path, meta, **arrays):
    raw = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(path, **{io._META: raw}, **arrays)


@pytest.mark.parametrize(
    "meta, message",
    [
        ({"format": "other"}, r"damaged or not a tinygrad_np file \(its metadata is not"),
        ({"format": io._FORMAT, "version": 99, "root": None}, "format version 99"),
        ({"format": io._FORMAT, "version": 1, "root": {"t": "array", "key": "a7"}}, "'a7'"),
        ({"format": io._FORMAT, "version": 1, "root": {"t": "eval"}}, "unknown node type"),
        ({"format": io._FORMAT, "version": 1, "root": {"t": "int", "v": "x"}}, "damaged or not"),
        ({"format": io._FORMAT, "version": 1}, r"malformed metadata: KeyError 'root'"),
    ],
)
def test_damaged_metadata_raises_value_error(tmp_path, meta, message):
    _write_meta(tmp_path / "bad.npz", meta)
    with pytest.raises(ValueError, match=message):
        load(tmp_path / "bad.npz")


def test_non_archives_raise_value_error(tmp_path):
    np.save(tmp_path / "single.npy", np.arange(3))
    with pytest.raises(ValueError, match="single .npy array, not an .npz archive"):
        load(tmp_path / "single.npy")
    np.savez(tmp_path / "garbled.npz", **{io._META: np.array([0xFF, 0xFE], np.uint8)})
    with pytest.raises(ValueError, match="unreadable metadata"):
        load(tmp_path / "garbled.npz")


def test_python_scalars_keep_their_exact_values(tmp_path):
    values = [2**64 + 1, -(2**130), 0.1, -0.0, math.inf, 1e-310, True, 0, "π≈3.14", None]
    save(values, tmp_path / "v.npz")
    assert_same(values, load(tmp_path / "v.npz"))
