"""Module: registration, traversal, state dicts, modes, zero_grad, repr."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 4)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Tied(nn.Module):
    """Two paths to one layer and one parameter assigned twice."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(2, 2)
        self.b = self.a
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
        self.scale_again = self.scale

    def forward(self, x):
        return self.b(self.a(x)) * self.scale


# --- registration and traversal -------------------------------------------------------------


def test_parameters_in_registration_order():
    net = Net()
    expected = [net.fc1.weight, net.fc1.bias, net.fc2.weight, net.fc2.bias]
    got = list(net.parameters())
    assert len(got) == len(expected)
    assert all(g is e for g, e in zip(got, expected))
    names = [n for n, _ in net.named_parameters()]
    assert names == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]


def test_sequential_names_and_nesting():
    inner = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1, bias=False))
    outer = nn.Sequential(nn.Identity(), inner)
    assert [n for n, _ in outer.named_parameters()] == ["1.0.weight", "1.0.bias", "1.2.weight"]
    assert [n for n, _ in outer.named_modules()] == ["", "0", "1", "1.0", "1.1", "1.2"]
    assert [type(m).__name__ for m in outer.children()] == ["Identity", "Sequential"]
    assert len(list(outer.modules())) == 6


def test_shared_parameters_and_modules_come_once():
    tied = Tied()
    params = list(tied.parameters())
    assert len(params) == 3
    assert len({id(p) for p in params}) == 3
    # a module's own parameters first, then each sub-module's (PyTorch's order)
    assert [n for n, _ in tied.named_parameters()] == ["scale", "a.weight", "a.bias"]
    assert [n for n, _ in tied.named_children()] == ["a"]
    # the state dict keeps every path, so its keys do not depend on traversal order
    assert list(tied.state_dict()) == [
        "scale",
        "scale_again",
        "a.weight",
        "a.bias",
        "b.weight",
        "b.bias",
    ]


def test_parameter_needs_grad_and_plain_tensors_are_not_registered():
    class Keeps(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter([[1.0, 2.0]])

        def forward(self, x):
            self.inputs = x  # NNFS style: cached activations must not become parameters
            self.output = x @ self.w.T
            return self.output

    m = Keeps()
    m(tg.tensor([[1.0, 1.0]], requires_grad=True))
    assert [n for n, _ in m.named_parameters()] == ["w"]
    assert m.w.requires_grad and m.w.dtype == np.float32
    assert "Parameter containing" in repr(m.w)


def test_reassign_and_delete_update_registration():
    net = Net()
    net.fc2 = nn.Identity()
    assert [n for n, _ in net.named_parameters()] == ["fc1.weight", "fc1.bias"]
    del net.fc1
    assert list(net.parameters()) == []
    net.fc1 = None
    assert "fc1" not in dict(net.named_children())


def test_assigning_a_plain_tensor_over_a_parameter_is_an_error():
    layer = nn.Linear(2, 3)
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'weight'"):
        layer.weight = tg.zeros(2, 3)
    layer.bias = None  # allowed, as for PyTorch
    assert [n for n, _ in layer.named_parameters()] == ["weight"]


def test_register_helpers_check_types():
    m = nn.Module()
    with pytest.raises(TypeError, match="register_parameter: 'w' must be a Parameter"):
        m.register_parameter("w", tg.zeros(2))
    with pytest.raises(TypeError, match="add_module: 'sub' must be a Module"):
        m.add_module("sub", tg.zeros(2))
    with pytest.raises(TypeError, match="must be a Module"):
        nn.Sequential().append(lambda x: x)


def test_assignment_before_init_is_a_clear_error():
    class Forgot(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\)"):
        Forgot()


def test_tensor_names_are_qualified_paths():
    net = Net()
    assert net.fc1.weight.name == "fc1.weight"
    assert net.fc2.bias.name == "fc2.bias"
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    assert [p.name for p in model.parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert nn.Linear(1, 1).weight.name == "weight"


def test_forward_is_required_and_call_dispatches():
    with pytest.raises(NotImplementedError, match="Module must define forward"):
        nn.Module()(tg.zeros(1))
    x = tg.randn(5, 2)
    net = Net()
    expected = np.maximum(x.data @ net.fc1.weight.data + net.fc1.bias.data, 0)
    expected = expected @ net.fc2.weight.data + net.fc2.bias.data
    np.testing.assert_allclose(net(x).data, expected, rtol=1e-6)


# --- modes and gradients --------------------------------------------------------------------


def test_train_eval_reach_every_submodule_as_instance_attributes():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5)))
    other = nn.Dropout(0.5)
    assert model.eval() is model
    assert all(m.training is False for m in model.modules())
    assert other.training is True  # no shared class-level switch
    assert "training" in vars(model[1][0])
    model.train()
    assert all(m.training is True for m in model.modules())
    model.train(False)
    assert not any(m.training for m in model.modules())


def test_zero_grad_clears_every_gradient():
    net = Net()
    net(tg.randn(4, 2)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


# --- state dicts ----------------------------------------------------------------------------


def test_state_dict_round_trip_copies_into_existing_arrays():
    src, dst = Net(), Net()
    state = src.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    assert state["fc1.weight"] is not src.fc1.weight.data  # a copy, not a view
    arrays_before = [p.data for p in dst.parameters()]
    assert dst.load_state_dict(state) == nn.IncompatibleKeys([], [])
    for (name, p), before in zip(dst.named_parameters(), arrays_before):
        assert p.data is before  # an optimizer holding the array keeps working
        np.testing.assert_array_equal(p.data, state[name])
    x = tg.randn(3, 2)
    np.testing.assert_array_equal(src(x).data, dst(x).data)
    state["fc1.weight"][...] = 123.0  # later edits of the dict do not reach the model
    assert not (dst.fc1.weight.data == 123.0).any()


def test_state_dict_survives_a_file_round_trip(tmp_path):
    src, dst = Net(), Net()
    tg.save(src.state_dict(), tmp_path / "net.npz")
    dst.load_state_dict(tg.load(tmp_path / "net.npz"))
    for (name, a), b in zip(src.named_parameters(), dst.parameters()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)


def test_load_casts_to_the_parameter_dtype_and_accepts_tensors():
    layer = nn.Linear(2, 3)
    state = {k: v.astype(np.float64) + 1 for k, v in layer.state_dict().items()}
    state["bias"] = tg.tensor(state["bias"])
    layer.load_state_dict(state)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    np.testing.assert_allclose(layer.weight.data, state["weight"], rtol=1e-6)
    np.testing.assert_allclose(layer.bias.data, 1.0)


def _assert_untouched(model, before):
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_load_missing_keys_is_an_error_naming_them():
    net = Net()
    before = net.state_dict()
    state = Net().state_dict()
    del state["fc2.bias"]
    with pytest.raises(RuntimeError, match=r"load_state_dict for Net: missing keys \['fc2.bias'\]"):
        net.load_state_dict(state)
    _assert_untouched(net, before)  # nothing half-loaded


def test_load_unexpected_keys_is_an_error_naming_them():
    net = Net()
    state = Net().state_dict()
    state["fc3.weight"] = np.zeros((3, 3), dtype=np.float32)
    with pytest.raises(RuntimeError, match=r"unexpected keys \['fc3.weight'\]"):
        net.load_state_dict(state)


def test_load_shape_mismatch_names_key_and_both_shapes():
    net = Net()
    before = net.state_dict()
    state = Net().state_dict()
    state["fc1.weight"] = np.zeros((4, 2), dtype=np.float32)
    with pytest.raises(
        RuntimeError,
        match=r"shape mismatch for 'fc1.weight': the state dict has \(4, 2\), "
        r"the model's parameter has \(2, 4\)",
    ):
        net.load_state_dict(state)
    _assert_untouched(net, before)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        net.load_state_dict(state, strict=False)  # shapes are checked even when not strict


def test_load_non_numeric_value_is_an_error():
    layer = nn.Linear(1, 1)
    with pytest.raises(RuntimeError, match="'bias' holds dtype <U3, not numbers"):
        layer.load_state_dict({"weight": np.ones((1, 1)), "bias": np.array(["abc"])})


def test_load_not_strict_reports_what_it_skipped():
    net = Net()
    state = {"fc1.bias": np.full((1, 4), 7.0), "extra": np.zeros(2)}
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["fc1.weight", "fc2.weight", "fc2.bias"]
    assert result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(net.fc1.bias.data, 7.0)


# --- printing -------------------------------------------------------------------------------


def test_repr_lists_layers_like_pytorch():
    model = nn.Sequential(
        nn.Linear(2, 64, weight_regularizer_l2=5e-4),
        nn.ReLU(),
        nn.Dropout(0.1),
        nn.Sequential(nn.Linear(64, 3, bias=False)),
    )
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=64, bias=True, "
        "weight_regularizer_l2=0.0005)\n"
        "  (1): ReLU()\n"
        "  (2): Dropout(p=0.1)\n"
        "  (3): Sequential(\n"
        "    (0): Linear(in_features=64, out_features=3, bias=False)\n"
        "  )\n"
        ")"
    )
    assert repr(nn.CrossEntropyLoss(reduction="sum")) == "CrossEntropyLoss(reduction='sum')"
