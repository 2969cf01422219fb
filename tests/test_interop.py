"""tg.interop.to_torch / from_torch: every layer with a twin, exact round trips both ways,
equal outputs and gradients in float64, modes and flags kept, clear errors otherwise."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn

f64 = np.float64


def mlp_model():
    return nn.Sequential(
        nn.Linear(5, 6, dtype=f64),
        nn.BatchNorm1d(6, momentum=None, dtype=f64),
        nn.ReLU(),
        nn.Dropout(0.25),
        nn.Linear(6, 6, bias=False, dtype=f64),
        nn.LayerNorm(6, dtype=f64),
        nn.LeakyReLU(0.2),
        nn.Sequential(nn.Identity(), nn.Sigmoid(), nn.Tanh()),
        nn.GELU(approximate="tanh"),
        nn.ELU(alpha=0.7),
        nn.SiLU(),
        nn.Softplus(beta=2.0, threshold=5.0),
        nn.SELU(),
        nn.GELU(),
        nn.Linear(6, 3, dtype=f64),
        nn.Softmax(axis=-1),
    )


def embedding_model():
    return nn.Sequential(
        nn.Embedding(7, 4, padding_idx=0, dtype=f64),
        nn.LayerNorm((3, 4), bias=False, dtype=f64),
        nn.Flatten(),
        nn.Linear(12, 2, dtype=f64),
        nn.LogSoftmax(axis=1),
    )


def cnn_model():
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1, padding_mode="reflect", dtype=f64),
        nn.BatchNorm2d(4, dtype=f64),
        nn.ReLU(),
        nn.MaxPool2d(2, stride=1, padding=1, dilation=2),
        nn.Conv2d(4, 4, 2, stride=2, groups=2, bias=False, dtype=f64),
        nn.AvgPool2d(2, padding=1, count_include_pad=False),
        nn.Flatten(),
        nn.Linear(16, 3, dtype=f64),
    )


def conv1d_model():
    return nn.Sequential(
        nn.Conv1d(3, 2, 3, padding="same", dilation=2, dtype=f64),
        nn.BatchNorm1d(2, dtype=f64),
        nn.Tanh(),
        nn.Flatten(),
        nn.Linear(14, 2, dtype=f64),
    )


def inputs(kind, rng):
    if kind == "embedding":
        return rng.integers(0, 7, (5, 3))
    if kind == "cnn":
        return rng.normal(size=(3, 2, 7, 7))
    if kind == "conv1d":
        return rng.normal(size=(4, 3, 7))
    return rng.normal(size=(8, 5))


MODELS = {"mlp": mlp_model, "embedding": embedding_model, "cnn": cnn_model, "conv1d": conv1d_model}


def _randomise(model, rng):
    for p in model.parameters():
        p.data[...] = rng.normal(size=p.shape)


def test_without_torch_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match="pip install torch"):
        tg.interop.to_torch(nn.ReLU())
    with pytest.raises(ImportError, match="tinygrad-np\\[torch\\]"):
        tg.interop.from_torch(object())


torch = pytest.importorskip("torch")


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_round_trip_through_torch_is_exact(kind):
    rng = np.random.default_rng(0)
    model = MODELS[kind]()
    _randomise(model, rng)
    model.train()
    if kind == "mlp":
        model[1](tg.Tensor(rng.normal(size=(4, 6))))  # running statistics off their defaults
        model[3].eval()  # modes are per module
        model[-2].weight.requires_grad = False  # and so are the flags
    back = tg.interop.from_torch(tg.interop.to_torch(model))
    assert repr(back) == repr(model)
    assert [type(m) for m in back.modules()] == [type(m) for m in model.modules()]
    assert [m.training for m in back.modules()] == [m.training for m in model.modules()]
    assert [p.requires_grad for p in back.parameters()] == [
        p.requires_grad for p in model.parameters()
    ]
    ours, theirs = model.state_dict(), back.state_dict()
    assert list(ours) == list(theirs)
    for name, value in ours.items():
        assert theirs[name].dtype == value.dtype and theirs[name].shape == value.shape, name
        np.testing.assert_array_equal(theirs[name], value, err_msg=name)


@pytest.mark.parametrize("kind", sorted(MODELS))
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_the_twin_gives_the_same_outputs_and_gradients_in_float64(kind, mode):
    rng = np.random.default_rng(1)
    model = MODELS[kind]()
    _randomise(model, rng)
    if kind == "mlp":
        model[3].p = 0.0 if mode == "train" else 0.25  # no random masks to compare
    getattr(model, mode)()
    twin = tg.interop.to_torch(model)
    assert twin.training == (mode == "train")
    x = inputs(kind, rng)
    out = model(tg.Tensor(x))
    expected = twin(torch.from_numpy(x))
    assert expected.dtype == torch.float64
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    upstream = rng.normal(size=out.shape)
    out.backward(upstream)
    expected.backward(torch.from_numpy(upstream))
    for path, layer in model.named_modules():
        for name, p in layer._parameters.items():
            g = twin.get_submodule(path).get_parameter(name).grad.numpy()
            g = g.T if isinstance(layer, nn.Linear) and name == "weight" else g  # (out, in)
            np.testing.assert_allclose(p.grad.data, g.reshape(p.shape), rtol=1e-9, atol=1e-12)
    buffers = dict(twin.named_buffers())
    for name, b in model.named_buffers():  # training moved both sides' statistics alike
        np.testing.assert_allclose(b.data, buffers[name].numpy(), rtol=1e-12, err_msg=name)


def test_a_torch_model_comes_over_and_back_exactly():
    torch.manual_seed(0)
    twin = torch.nn.Sequential(
        torch.nn.Linear(4, 3),
        torch.nn.BatchNorm1d(3, affine=False),
        torch.nn.ReLU(inplace=True),
        torch.nn.Linear(3, 2, bias=False),
        torch.nn.LogSoftmax(dim=-1),
    ).eval()
    model = tg.interop.from_torch(twin)
    assert model[0].weight.shape == (4, 3) and model[0].bias.shape == (1, 3)
    assert model[0].weight.dtype == np.float32 and not model.training
    again = tg.interop.to_torch(model)
    expected = twin.state_dict()
    assert list(again.state_dict()) == list(expected)
    for name, value in again.state_dict().items():
        assert torch.equal(value, expected[name]), name
    x = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    np.testing.assert_allclose(
        model(tg.Tensor(x)).data, twin(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )


def test_layers_without_a_twin_are_named():
    class Net(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="to_torch: Net has no PyTorch twin.*Linear"):
        tg.interop.to_torch(nn.Sequential(nn.Linear(2, 2), Net()))
    with pytest.raises(TypeError, match="to_torch: CrossEntropyLoss has no PyTorch twin"):
        tg.interop.to_torch(nn.CrossEntropyLoss())
    with pytest.raises(TypeError, match="torch.nn.modules.conv.Conv3d has no tinygrad_np twin"):
        tg.interop.from_torch(torch.nn.Conv3d(1, 1, 1))

    class MyLinear(torch.nn.Linear):  # a subclass may compute something else
        pass

    with pytest.raises(TypeError, match="MyLinear has no tinygrad_np twin"):
        tg.interop.from_torch(MyLinear(2, 2))


@pytest.mark.parametrize(
    ("module", "message"),
    [
        (lambda: torch.nn.Softmax(), "has no dim"),
        (lambda: torch.nn.Flatten(0), "flattens axes 0..-1"),
        (lambda: torch.nn.Embedding(3, 2, max_norm=1.0), "sets max_norm=1.0"),
        (lambda: torch.nn.Embedding(3, 2, sparse=True), "sets sparse=True"),
        (lambda: torch.nn.MaxPool2d(2, ceil_mode=True), "ceil_mode=True is not supported"),
        (lambda: torch.nn.AvgPool2d(2, divisor_override=2), "divisor_override=2 is not suppor"),
    ],
)
def test_torch_settings_we_lack_are_refused(module, message):
    with pytest.raises(ValueError, match=message):
        tg.interop.from_torch(module())


def test_a_book_penalty_is_not_dropped_silently():
    with pytest.raises(ValueError, match="weight_regularizer_l2=0.0005.*PyTorch layers carry no"):
        tg.interop.to_torch(nn.Linear(2, 2, weight_regularizer_l2=5e-4))
