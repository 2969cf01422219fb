"""tg.save/tg.load of "*.safetensors": the real format (other loaders read it), exact round
trips, atomic writes, and clear errors; skipped when the safetensors package is missing."""

from __future__ import annotations

import json
import os
import struct
import sys

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn

safetensors_numpy = pytest.importorskip("safetensors.numpy")


def model_state():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2, dtype=np.float64))
    model(tg.randn(6, 3))  # moves the running statistics and counts a batch
    return model.state_dict()


def test_round_trip_is_exact_with_dtypes_and_shapes(tmp_path):
    state = dict(model_state())
    state["mask"] = np.array([True, False])
    state["strided"] = np.arange(12.0).reshape(3, 4)[:, ::2]  # not contiguous
    state["big_endian"] = np.arange(3, dtype=">i4")
    path = tmp_path / "model.safetensors"
    tg.save(state, path)
    loaded = tg.load(path)
    assert set(loaded) == set(state)
    for name, value in state.items():
        assert loaded[name].shape == value.shape, name
        assert loaded[name].dtype == value.dtype.newbyteorder("="), name
        np.testing.assert_array_equal(loaded[name], value, err_msg=name)
        assert loaded[name].flags.writeable
    assert loaded["1.num_batches_tracked"].dtype == np.int64
    assert loaded["1.num_batches_tracked"].shape == () and int(loaded["1.num_batches_tracked"]) == 1


def test_the_file_is_safetensors_that_its_own_loader_reads(tmp_path):
    path = str(tmp_path / "model.safetensors")
    state = model_state()
    tg.save(state, path)
    with open(path, "rb") as file:
        (size,) = struct.unpack("<Q", file.read(8))  # the format: header length, JSON header
        header = json.loads(file.read(size))
    assert header["0.weight"]["dtype"] == "F32" and header["0.weight"]["shape"] == [3, 4]
    assert header["1.num_batches_tracked"] == {**header["1.num_batches_tracked"], "dtype": "I64"}
    for name, value in safetensors_numpy.load_file(path).items():
        np.testing.assert_array_equal(value, state[name])


def test_pytorch_loads_the_file(tmp_path):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    path = str(tmp_path / "model.safetensors")
    state = model_state()
    tg.save(state, path)
    loaded = safetensors_torch.load_file(path)
    assert loaded["1.num_batches_tracked"].dtype == torch.int64
    for name, value in state.items():
        np.testing.assert_array_equal(loaded[name].numpy(), value)
    # and a file PyTorch writes loads here
    other = str(tmp_path / "torch.safetensors")
    safetensors_torch.save_file({"w": torch.arange(6.0).reshape(2, 3)}, other)
    assert tg.load(other)["w"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_the_suffix_chooses_the_format_whatever_its_case(tmp_path):
    path = str(tmp_path / "MODEL.SafeTensors")
    tg.save({"w": np.ones(2)}, path)
    assert safetensors_numpy.load_file(path)["w"].tolist() == [1.0, 1.0]
    tg.save({"w": np.ones(2)}, str(tmp_path / "model.npz"))
    with pytest.raises(Exception):  # noqa: B017 - an .npz is not a safetensors file
        safetensors_numpy.load_file(str(tmp_path / "model.npz"))


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"opt": {"lr": np.ones(1)}}, "holds a flat dict of named arrays"),
        ({"step": 3}, "is a Python int, not an array"),
        ({1: np.ones(1)}, "entry names must be str"),
        ({"names": np.array(["a", "b"])}, "cannot write .* as .safetensors"),
        ([np.ones(1)], "holds a dict of named arrays, got a list"),
    ],
)
def test_what_the_format_cannot_hold_is_a_type_error_and_the_old_file_survives(
    tmp_path, state, message
):
    path = tmp_path / "model.safetensors"
    tg.save({"w": np.arange(3.0)}, path)
    with pytest.raises(TypeError, match=message):
        tg.save(state, path)
    assert tg.load(path)["w"].tolist() == [0.0, 1.0, 2.0]
    assert os.listdir(tmp_path) == ["model.safetensors"]  # no temporary file left


def test_a_failure_while_writing_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    tg.save({"w": np.arange(3.0)}, path)

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        tg.save({"w": np.zeros(3)}, path)
    monkeypatch.undo()
    assert tg.load(path)["w"].tolist() == [0.0, 1.0, 2.0]
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_a_damaged_or_missing_file_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with pytest.raises(ValueError, match="broken.safetensors is damaged or not a .safetensors"):
        tg.load(path)
    with pytest.raises(FileNotFoundError):
        tg.load(tmp_path / "missing.safetensors")


def test_without_the_package_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r"pip install tinygrad-np\[safetensors\]"):
        tg.save({"w": np.ones(1)}, tmp_path / "model.safetensors")
    with pytest.raises(ImportError, match="safetensors package"):
        tg.load(tmp_path / "model.safetensors")


def test_saving_over_a_file_keeps_its_permissions_and_a_link_its_target(tmp_path):
    target = tmp_path / "real.safetensors"
    tg.save({"w": np.zeros(2)}, target)
    os.chmod(target, 0o600)
    link = tmp_path / "link.safetensors"
    link.symlink_to(target)
    tg.save({"w": np.ones(2)}, link)
    assert link.is_symlink() and tg.load(target)["w"].tolist() == [1.0, 1.0]
    assert os.stat(target).st_mode & 0o777 == 0o600
