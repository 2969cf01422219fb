"""Optimizer checkpoints: state_dict() is plain data, and resuming continues bit for bit."""

from __future__ import annotations

import io

import numpy as np
import pytest
from optim_cases import CONFIGS, IDS, make_problem, param, run

import tinygrad_np as tg
from tinygrad_np.optim import SGD, Adam


def through_npz(tree):
    """Save a nested dict with np.savez and read it back, with pickle refused both ways.

    Keys come back as strings and every value as an array, as from a file."""
    flat = {}

    def walk(node, prefix):
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}{key}/")
        elif isinstance(node, list) and node and isinstance(node[0], dict):
            for key, value in enumerate(node):
                walk(value, f"{prefix}{key}/")
        else:
            flat[prefix.rstrip("/")] = np.asarray(node)

    walk(tree, "")
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **flat)
    buffer.seek(0)
    loaded = np.load(buffer, allow_pickle=False)
    out: dict = {}
    for path in loaded.files:
        *parents, leaf = path.split("/")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = loaded[path]
    # lists of groups come back as dicts keyed "0", "1", ...
    out["param_groups"] = [out["param_groups"][k] for k in sorted(out["param_groups"], key=int)]
    out.setdefault("state", {})
    return out


def is_plain(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, (int, str)) and is_plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(is_plain(v) for v in value)
    return isinstance(value, (bool, int, float, str, np.ndarray))


@pytest.mark.parametrize("via", ["dict", "npz", "tg.save"])
@pytest.mark.parametrize("cls, kwargs", CONFIGS, ids=IDS)
def test_resume_from_state_dict_continues_bit_for_bit(cls, kwargs, via, tmp_path):
    w0, grads = make_problem(seed=2, steps=10)
    whole = [param(w) for w in w0]
    run(cls(whole, **kwargs, decay=0.05), whole, grads)

    first = [param(w) for w in w0]
    opt = cls(first, **kwargs, decay=0.05)
    run(opt, first, grads[:5])
    saved = opt.state_dict()
    assert is_plain(saved)
    if via == "npz":
        saved = through_npz(saved)
    elif via == "tg.save":
        tg.save(saved, tmp_path / "optimizer.npz")
        saved = tg.load(tmp_path / "optimizer.npz")
    resumed = [param(p.data.copy()) for p in first]
    opt2 = cls(resumed, **kwargs, decay=0.05)
    opt2.load_state_dict(saved)
    assert opt2.iterations == 5
    run(opt2, resumed, grads[5:])
    for a, b in zip(whole, resumed, strict=True):
        np.testing.assert_array_equal(a.data, b.data)


def test_state_dict_layout_and_copies():
    a, b = param([1.0, 2.0]), param([3.0])
    opt = Adam([{"params": [a]}, {"params": [b], "lr": 0.1}], lr=0.01, betas=(0.8, 0.9))
    run(opt, [a, b], [[[1.0, 1.0], [1.0]]] * 2)
    saved = opt.state_dict()
    assert saved["step"] == 2
    assert saved["param_groups"] == [
        dict(lr=0.01, betas=(0.8, 0.9), eps=1e-8, weight_decay=0.0, amsgrad=False, decay=0.0,
             params=[0]),
        dict(lr=0.1, betas=(0.8, 0.9), eps=1e-8, weight_decay=0.0, amsgrad=False, decay=0.0,
             params=[1]),
    ]  # fmt: skip
    assert sorted(saved["state"]) == [0, 1]
    assert sorted(saved["state"][0]) == ["exp_avg", "exp_avg_sq", "step"]
    m = saved["state"][0]["exp_avg"].copy()
    run(opt, [a, b], [[[1.0, 1.0], [1.0]]])
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"], m)  # a snapshot, not a view


def test_load_restores_hyper_parameters_and_copies_arrays():
    a = param([1.0, 2.0])
    opt = SGD([a], lr=0.1, momentum=0.9)
    run(opt, [a], [[[1.0, 1.0]]])
    saved = opt.state_dict()
    saved["param_groups"][0]["lr"] = np.float64(0.025)
    b = param([1.0, 2.0])
    opt2 = SGD([b], lr=0.1, momentum=0.9)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == 0.025 and type(opt2.param_groups[0]["lr"]) is float
    assert opt2.state[0]["momentum_buffer"] is not saved["state"][0]["momentum_buffer"]


def test_loaded_state_takes_the_parameter_dtype():
    a = param([1.0, 2.0])
    opt = Adam([a])
    run(opt, [a], [[[1.0, 1.0]]])
    b = param([1.0, 2.0], dtype=np.float32)
    opt2 = Adam([b])
    opt2.load_state_dict(opt.state_dict())
    assert opt2.state[0]["exp_avg"].dtype == np.float32
    assert isinstance(opt2.state[0]["step"], int)


def test_load_mismatches_are_named():
    a, b = param([1.0, 2.0]), param([1.0])
    opt = SGD([a, b], lr=0.1, momentum=0.9)
    run(opt, [a, b], [[[1.0, 1.0], [1.0]]])
    saved = opt.state_dict()
    with pytest.raises(ValueError, match="state dict has 1 parameter groups, this optimizer has 2"):
        SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="group 0 has 2 parameters in the state dict but 1 here"):
        SGD([a], lr=0.1).load_state_dict(saved)
    swapped = SGD([b, a], lr=0.1, momentum=0.9)
    with pytest.raises(
        ValueError,
        match=r"state 'momentum_buffer' of parameter 0 has shape \(2,\) .* shape \(1,\)",
    ):
        swapped.load_state_dict(saved)
    assert swapped.state == {}  # nothing half-loaded
    saved["state"][7] = saved["state"].pop(0)
    with pytest.raises(ValueError, match="state for parameter 7, but this optimizer has 2"):
        SGD([a, b], lr=0.1).load_state_dict(saved)
