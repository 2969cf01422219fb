"""Conv1d, Conv2d, MaxPool2d and AvgPool2d as layers (no PyTorch needed): shapes, settings,
gradients by finite differences, initialisation, and bad input named by the layer (the new
activation modules' settings too).
(tests/test_nn_layers_torch.py compares them with PyTorch.)"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn
from tinygrad_np.nn import functional as F


def f64(*shape, seed=0):
    return tg.Tensor(np.random.default_rng(seed).normal(size=shape), requires_grad=True)


def test_shapes_and_settings():
    conv = nn.Conv2d(3, 8, (3, 5), stride=2, padding=(1, 2), dilation=1, groups=1, bias=False)
    assert conv.weight.shape == (8, 3, 3, 5) and conv.bias is None
    assert (conv.kernel_size, conv.stride, conv.padding) == ((3, 5), (2, 2), (1, 2))
    assert conv(tg.randn(2, 3, 9, 9)).shape == (2, 8, 5, 5)
    assert conv(tg.randn(3, 9, 9)).shape == (8, 5, 5)  # unbatched, as in PyTorch
    assert nn.Conv2d(4, 6, 3, groups=2).weight.shape == (6, 2, 3, 3)
    assert nn.Conv1d(2, 3, 3, padding="same")(tg.randn(1, 2, 7)).shape == (1, 3, 7)
    assert nn.MaxPool2d(2)(tg.randn(1, 2, 5, 5)).shape == (1, 2, 2, 2)
    assert nn.AvgPool2d(3, stride=1, padding=1)(tg.randn(1, 2, 5, 5)).shape == (1, 2, 5, 5)
    assert repr(nn.Conv1d(2, 3, 3, padding="same", padding_mode="reflect", bias=False)) == (
        "Conv1d(2, 3, kernel_size=(3,), stride=(1,), padding=same, bias=False, "
        "padding_mode=reflect)"
    )
    assert nn.MaxPool2d(3).stride == 3 and nn.AvgPool2d((2, 3)).stride == (2, 3)
    assert [n for n, _ in nn.Conv2d(1, 2, 3).named_parameters()] == ["weight", "bias"]


@pytest.mark.parametrize(
    "layer",
    [
        lambda: nn.Conv2d(2, 2, 2, padding=1, groups=2, dtype=np.float64),
        lambda: nn.Conv2d(2, 2, 3, padding=1, padding_mode="circular", dtype=np.float64),
        lambda: nn.Conv1d(2, 1, 2, stride=2, dilation=2, dtype=np.float64),
        lambda: nn.AvgPool2d(2, padding=1, count_include_pad=False),
        lambda: nn.MaxPool2d(2, stride=1),
    ],
)
def test_gradients_of_input_weight_and_bias_by_finite_differences(layer):
    layer = layer()
    x = f64(2, 2, 4, 4) if not isinstance(layer, nn.Conv1d) else f64(2, 2, 7)
    if isinstance(layer, nn.MaxPool2d):  # keep values apart: max has a kink at ties
        x.data[...] = np.random.default_rng(1).permutation(x.size).reshape(x.shape) / 7
    if isinstance(layer, nn.Conv1d | nn.Conv2d):
        w, b = layer.weight, layer.bias

        def fn(x, w, b):
            layer.weight, layer.bias = w, b
            return layer(x)

        assert tg.gradcheck(fn, [x, nn.Parameter(w.data), nn.Parameter(b.data)])
    else:
        assert tg.gradcheck(layer, [x])


def test_a_small_cnn_learns():
    tg.manual_seed(0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 1, 6, 6)).astype(np.float32)
    y = (X[:, 0, :3].sum(axis=(1, 2)) > X[:, 0, 3:].sum(axis=(1, 2))).astype(np.int64)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(36, 2),
    )  # fmt: skip
    optimizer = tg.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(60):
        optimizer.zero_grad()
        loss = nn.CrossEntropyLoss()(model(tg.Tensor(X)), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.25 * losses[0]
    assert all(p.grad is not None for p in model.parameters())


def test_reset_parameters_draws_from_the_library_generator():
    tg.manual_seed(1)
    a = nn.Conv2d(3, 4, 3).state_dict()
    tg.manual_seed(1)
    b = nn.Conv2d(3, 4, 3).state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    bound = 1 / np.sqrt(27)
    assert np.abs(a["weight"]).max() <= bound and np.abs(a["bias"]).max() <= bound


BAD = [
    (lambda: nn.Conv2d(3, 8, 3)(tg.randn(2, 4, 5, 5)),
     r"Conv2d\(3, 8, kernel_size=\(3, 3\), stride=\(1, 1\)\): expected input of shape "
     r"\(N, 3, H, W\) or \(3, H, W\), got \(2, 4, 5, 5\)"),
    (lambda: F.conv2d(tg.randn(2, 4, 5, 5), tg.randn(8, 3, 3, 3)), "expects input with 3 channels"),
    (lambda: nn.Conv2d(1, 1, 5)(tg.randn(1, 1, 3, 3)),
     r"conv2d: kernel \(5, 5\) .* larger than the padded input \(3, 3\)"),
    (lambda: nn.Conv1d(1, 1, 3, dilation=3)(tg.randn(1, 1, 6)), r"spans \(7,\)"),
    (lambda: nn.Conv2d(3, 8, 3)(tg.randn(2, 3, 5)), r"\(3, H, W\), got \(2, 3, 5\)"),
    (lambda: nn.Conv1d(3, 8, 3)(tg.randn(1, 2, 3, 5)), r"\(N, 3, L\) or \(3, L\), got \(1, 2"),
    (lambda: nn.Conv2d(3, 4, 3, groups=2), "groups=2 must divide in_channels=3"),
    (lambda: nn.Conv2d(4, 3, 3, groups=2), "out_channels=3"),
    (lambda: nn.Conv2d(1, 1, 3, stride=0), "stride must be an int >= 1"),
    (lambda: nn.Conv2d(1, 1, 3, padding=-1), "padding must be an int >= 0"),
    (lambda: nn.Conv2d(1, 1, 3, dilation=(1, 0)), "dilation must be an int >= 1"),
    (lambda: nn.Conv2d(1, 1, 0), "kernel_size must be an int >= 1"),
    (lambda: nn.Conv2d(1, 1, 3, padding="full"), "padding must be an int, a tuple, 'valid'"),
    (lambda: nn.Conv2d(1, 1, 3, stride=2, padding="same"), "padding='same' needs stride 1"),
    (lambda: nn.Conv2d(1, 1, 3, padding_mode="mirror"), "padding_mode must be one of"),
    (lambda: nn.Conv2d(0, 1, 3), "in_channels must be an int >= 1"),
    (lambda: nn.MaxPool2d(2, padding=2)(tg.randn(1, 1, 6, 6)),
     r"MaxPool2d\(kernel_size=2.*\): max_pool2d: padding \(2, 2\) must be at most half"),
    (lambda: nn.AvgPool2d(4)(tg.randn(1, 1, 3, 3)), r"AvgPool2d.*avg_pool2d: kernel \(4, 4\)"),
    (lambda: nn.MaxPool2d(2)(tg.randn(4, 4)), r"input must have shape \(N, C, H, W\)"),
    (lambda: nn.MaxPool2d(0), "kernel_size must be an int >= 1"),
    (lambda: nn.MaxPool2d(2, ceil_mode=True), "ceil_mode=True is not supported"),
    (lambda: nn.MaxPool2d(2, return_indices=True), "return_indices=True is not supported"),
    (lambda: nn.AvgPool2d(2, divisor_override=3), "divisor_override=3 is not supported"),
    (lambda: nn.GELU(approximate="fast"), "GELU: approximate must be 'none' or 'tanh'"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "message"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_input_is_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
