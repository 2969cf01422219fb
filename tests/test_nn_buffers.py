"""Module buffers: registration, traversal, state dicts, files and checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn
from tinygrad_np.checkpoint import load_checkpoint, save_checkpoint


class Counter(nn.Module):
    """A parameter, a float buffer, an int64 counter (like PyTorch's num_batches_tracked) and
    a non-persistent cache."""

    def __init__(self, n: int = 3):
        super().__init__()
        self.weight = nn.Parameter(np.ones(n, dtype=np.float32))
        self.register_buffer("running_mean", tg.zeros(n))
        self.register_buffer("steps", tg.tensor(0, dtype="int64"))
        self.register_buffer("cache", tg.ones(n), persistent=False)

    def forward(self, x):
        if self.training:
            self.running_mean.data[...] = 0.9 * self.running_mean.data + 0.1 * x.data.mean(0)
            self.steps.data[...] += 1
        return (x - self.running_mean) * self.weight


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
        self.norm = Counter(2)
        self.fc = nn.Linear(2, 2)
        self.register_buffer("total", tg.zeros(1))


# --- registration and traversal -------------------------------------------------------------


def test_buffers_are_attributes_listed_apart_from_parameters():
    m = Counter()
    assert m.running_mean is m._buffers["running_mean"]
    assert [n for n, _ in m.named_buffers()] == ["running_mean", "steps", "cache"]
    assert [b is m.steps for b in m.buffers()] == [False, True, False]
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    assert all(not b.requires_grad for b in m.buffers())
    opt = tg.optim.SGD(m.parameters(), lr=0.1)
    assert [p for g in opt.param_groups for p in g["params"]] == [m.weight]


def test_named_buffers_prefix_recurse_and_duplicates():
    net = Net()
    assert [n for n, _ in net.named_buffers()] == [
        "total",
        "norm.running_mean",
        "norm.steps",
        "norm.cache",
    ]
    assert [n for n, _ in net.named_buffers(recurse=False)] == ["total"]
    assert [n for n, _ in net.named_buffers(prefix="model")][:2] == [
        "model.total",
        "model.norm.running_mean",
    ]
    net.again = net.norm  # one module under two names
    assert len(list(net.buffers())) == 4
    names = [n for n, _ in net.named_buffers(remove_duplicate=False)]
    assert names[-3:] == ["again.running_mean", "again.steps", "again.cache"]


def test_buffer_tensors_are_named_by_their_path():
    net = Net()
    assert net.norm.running_mean.name == "norm.running_mean"
    assert net.total.name == "total"


def test_register_buffer_errors_name_the_problem():
    m = Counter()
    with pytest.raises(KeyError, match="must not contain '.'"):
        m.register_buffer("a.b", tg.zeros(1))
    with pytest.raises(KeyError, match="must not be empty"):
        m.register_buffer("", tg.zeros(1))
    with pytest.raises(TypeError, match="buffer name must be a str, got int"):
        m.register_buffer(3, tg.zeros(1))
    with pytest.raises(KeyError, match="'weight' is already a parameter of this module"):
        m.register_buffer("weight", tg.zeros(1))
    net = Net()
    with pytest.raises(KeyError, match="'fc' is already a sub-module"):
        net.register_buffer("fc", tg.zeros(1))
    m.note = "plain"
    for taken in ("note", "forward", "training"):
        with pytest.raises(KeyError, match=f"'{taken}' is already an attribute"):
            m.register_buffer(taken, tg.zeros(1))
    with pytest.raises(TypeError, match="buffer 'b' must be a Tensor or None, got ndarray"):
        m.register_buffer("b", np.zeros(1))
    with pytest.raises(ValueError, match="buffer 'b' requires grad"):
        m.register_buffer("b", tg.zeros(1, requires_grad=True))
    with pytest.raises(ValueError, match="requires grad"):
        m.register_buffer("b", nn.Parameter(np.zeros(1)))
    assert "b" not in m._buffers and not hasattr(m, "b")  # nothing half-registered


def test_register_buffer_before_init_is_a_clear_error():
    class Forgot(nn.Module):
        def __init__(self):
            self.register_buffer("mean", tg.zeros(1))

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\)"):
        Forgot()


def test_assigning_a_tensor_or_none_replaces_the_buffer():
    m = Counter()
    new = tg.ones(3) * 5
    m.running_mean = new
    assert m.running_mean is new and dict(m.named_buffers())["running_mean"] is new
    m.cache = tg.zeros(3)  # stays non-persistent
    assert "cache" not in m.state_dict()
    m.running_mean = None  # still a buffer, with no value: skipped everywhere
    assert m.running_mean is None
    assert [n for n, _ in m.named_buffers()] == ["steps", "cache"]
    assert list(m.state_dict()) == ["weight", "steps"]
    m.running_mean = tg.zeros(3)
    assert list(m.state_dict()) == ["weight", "running_mean", "steps"]  # same place as before
    with pytest.raises(TypeError, match="cannot assign ndarray as buffer 'steps' of Counter"):
        m.steps = np.array(3)
    with pytest.raises(TypeError, match="cannot assign int as buffer 'steps'"):
        m.steps = 3
    with pytest.raises(ValueError, match="buffer 'running_mean' requires grad"):
        m.running_mean = m.running_mean * m.weight  # a graph must not become module state
    assert m.steps.dtype == np.int64 and m.running_mean.data.sum() == 0


def test_delete_and_reassign_as_parameter_or_module_unregister_the_buffer():
    m = Counter()
    del m.running_mean
    assert not hasattr(m, "running_mean")
    assert [n for n, _ in m.named_buffers()] == ["steps", "cache"]
    m.running_mean = tg.zeros(3)  # now a plain attribute, as in PyTorch after del
    assert [n for n, _ in m.named_buffers()] == ["steps", "cache"]
    m.steps = nn.Parameter(np.zeros(1))
    assert "steps" in dict(m.named_parameters()) and "steps" not in dict(m.named_buffers())
    m.cache = nn.Identity()
    assert "cache" not in dict(m.named_buffers()) and "cache" not in m._non_persistent_buffers
    with pytest.raises(KeyError, match="'cache' is already a sub-module"):
        m.register_buffer("cache", tg.zeros(1))


def test_buffers_leave_repr_modes_and_zero_grad_alone():
    class Plain(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

    with_buffer = Plain()
    with_buffer.register_buffer("mean", tg.zeros(2))
    assert repr(with_buffer) == repr(Plain())
    net = Net()
    assert net.eval().norm.training is False and net.train().norm.training is True
    net.norm(tg.randn(4, 2, requires_grad=True)).sum().backward()
    assert net.norm.weight.grad is not None
    assert all(b.grad is None and not b.requires_grad for b in net.buffers())
    net.zero_grad()
    assert net.norm.weight.grad is None


# --- state dicts ----------------------------------------------------------------------------


def test_state_dict_order_is_parameters_then_buffers_per_module():
    assert list(Net().state_dict()) == [
        "scale",
        "total",
        "norm.weight",
        "norm.running_mean",
        "norm.steps",
        "fc.weight",
        "fc.bias",
    ]


def test_state_dict_keys_match_pytorch():
    torch = pytest.importorskip("torch")

    class TorchCounter(torch.nn.Module):
        def __init__(self, n=3):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.ones(n))
            self.register_buffer("running_mean", torch.zeros(n))
            self.register_buffer("steps", torch.tensor(0))
            self.register_buffer("cache", torch.ones(n), persistent=False)

    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(1))
            self.norm = TorchCounter(2)
            self.fc = torch.nn.Linear(2, 2)
            self.register_buffer("total", torch.zeros(1))

    ours, theirs = Net(), TorchNet()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


def test_load_copies_into_the_buffer_arrays_with_their_dtype():
    src, dst = Counter(), Counter()
    src.train()(tg.randn(5, 3))
    state = src.state_dict()
    assert state["steps"].dtype == np.int64 and state["steps"].shape == ()
    assert state["running_mean"] is not src.running_mean.data  # a copy
    arrays = [b.data for b in dst.buffers()]
    state["running_mean"] = state["running_mean"].astype(np.float64)
    state["steps"] = tg.tensor(7.0, dtype="float64")  # integral floats fit an int buffer
    assert dst.load_state_dict(state) == nn.IncompatibleKeys([], [])
    assert all(a is b.data for a, b in zip(arrays, dst.buffers(), strict=True))
    assert dst.running_mean.dtype == np.float32 and dst.steps.dtype == np.int64
    np.testing.assert_allclose(dst.running_mean.data, src.running_mean.data)
    assert int(dst.steps.item()) == 7
    np.testing.assert_array_equal(dst.cache.data, 1.0)  # non-persistent: untouched


def test_load_checks_buffers_before_writing_anything():
    net = Net()
    before = net.state_dict()
    state = Net().state_dict()
    state["scale"][...] = 9.0
    state["norm.running_mean"] = np.zeros(5, dtype=np.float32)
    with pytest.raises(
        RuntimeError,
        match=r"shape mismatch for 'norm.running_mean': the state dict has \(5,\), "
        r"the model's buffer has \(2,\)",
    ):
        net.load_state_dict(state)
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)

    state = Net().state_dict()
    state["norm.steps"] = np.array(2.5)
    with pytest.raises(RuntimeError, match="'norm.steps' holds float64 values that the model's "):
        net.load_state_dict(state)
    state["norm.steps"] = np.array(np.nan)
    with pytest.raises(RuntimeError, match="cannot hold exactly"):
        net.load_state_dict(state)


def test_load_missing_and_unexpected_buffers():
    net = Net()
    state = Net().state_dict()
    del state["norm.steps"]
    state["norm.cache"] = np.zeros(2, dtype=np.float32)  # non-persistent: not expected
    with pytest.raises(
        RuntimeError,
        match=r"missing keys \['norm.steps'\]; unexpected keys \['norm.cache'\]",
    ):
        net.load_state_dict(state)
    result = net.load_state_dict(state, strict=False)
    assert result == nn.IncompatibleKeys(["norm.steps"], ["norm.cache"])
    np.testing.assert_array_equal(net.norm.cache.data, 1.0)


# --- files and checkpoints ------------------------------------------------------------------

BIG = 2**62 + 1  # not a float64: a trip through floats would change it


def test_integer_buffers_survive_tg_save_exactly(tmp_path):
    src = Counter()
    src.steps.data[...] = BIG
    src.running_mean.data[...] = [0.1, 0.2, 0.3]
    tg.save(src.state_dict(), tmp_path / "counter.npz")
    loaded = tg.load(tmp_path / "counter.npz")
    assert loaded["steps"].dtype == np.int64 and loaded["steps"].shape == ()
    dst = Counter()
    dst.load_state_dict(loaded)
    assert int(dst.steps.data) == BIG
    np.testing.assert_array_equal(dst.running_mean.data, src.running_mean.data)


def test_training_checkpoints_hold_buffers(tmp_path):
    def model():
        tg.manual_seed(0)
        return nn.Sequential(Counter(2), nn.Linear(2, 1))

    def train(net, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            net(tg.Tensor(x)).sum().backward()
            opt.step()

    x = np.random.default_rng(0).normal(size=(8, 2)).astype(np.float32)
    whole = model()
    train(whole, tg.optim.Adam(whole.parameters(), lr=0.01), 6)

    first = model()
    opt = tg.optim.Adam(first.parameters(), lr=0.01)
    train(first, opt, 3)
    first[0].steps.data[...] += BIG  # exactness of a large counter
    save_checkpoint(tmp_path / "run.ckpt", first, opt, epoch=3)
    resumed = model()
    opt2 = tg.optim.Adam(resumed.parameters(), lr=0.01)
    assert load_checkpoint(tmp_path / "run.ckpt", resumed, opt2) == 3
    assert int(resumed[0].steps.data) == BIG + 3
    resumed[0].steps.data[...] -= BIG
    train(resumed, opt2, 3)
    for (name, a), b in zip(whole.state_dict().items(), resumed.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)
        assert a.dtype == b.dtype


def test_a_refused_checkpoint_leaves_buffers_as_they_were(tmp_path):
    source = nn.Sequential(Counter(2))
    source[0].running_mean.data[...] = 4.0
    save_checkpoint(tmp_path / "run.ckpt", source, tg.optim.SGD(source.parameters(), lr=0.1), 1)
    target = nn.Sequential(Counter(2))
    extra = nn.Parameter(np.zeros(1))  # the optimizer state will not fit these parameters
    opt = tg.optim.SGD([*target.parameters(), extra], lr=0.1)
    with pytest.raises(ValueError, match="group 0 has 1 parameters in the state dict but 2"):
        load_checkpoint(tmp_path / "run.ckpt", target, opt)
    np.testing.assert_array_equal(target[0].running_mean.data, 0.0)
