"""Layers and activation modules: values against NumPy, gradients against finite differences."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_np as tg
from tinygrad_np import nn
from tinygrad_np.nn import functional as F

sizes = st.integers(1, 5)


def arrays64(shape, low=-3.0, high=3.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(low, high))


def off_kink(shape):
    """float64 values at least 0.1 away from 0, where relu-like functions bend."""
    magnitude = st.floats(0.1, 3.0)
    return hnp.arrays(np.float64, shape, elements=st.one_of(magnitude, magnitude.map(lambda v: -v)))


# --- Linear ---------------------------------------------------------------------------------


@given(data=st.data(), n=sizes, fan_in=sizes, fan_out=sizes, bias=st.booleans())
def test_linear_gradients_match_finite_differences(data, n, fan_in, fan_out, bias):
    layer = nn.Linear(fan_in, fan_out, bias=bias, dtype=np.float64)
    x = tg.Tensor(data.draw(arrays64((n, fan_in))), requires_grad=True)
    assert tg.gradcheck(lambda x, *params: layer(x), [x, *layer.parameters()])


def test_linear_forward_and_gradients_are_the_books_formulas():
    layer = nn.Dense(3, 2, dtype=np.float64)
    assert nn.Dense is nn.Linear
    x = np.random.default_rng(0).standard_normal((4, 3))
    layer.bias.data[...] = [[0.5, -1.0]]
    out = layer(tg.Tensor(x))
    np.testing.assert_allclose(out.data, x @ layer.weight.data + layer.bias.data)
    dvalues = np.arange(8.0).reshape(4, 2)
    out.backward(dvalues)
    np.testing.assert_allclose(layer.weight.grad.data, x.T @ dvalues)  # dweights
    np.testing.assert_allclose(layer.bias.grad.data, dvalues.sum(axis=0, keepdims=True))


def test_linear_shapes_dtype_and_bias_start():
    layer = nn.Linear(5, 7)
    assert layer.weight.shape == (5, 7) and layer.bias.shape == (1, 7)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    assert (layer.bias.data == 0).all()
    assert nn.Linear(5, 7, bias=False).bias is None
    assert nn.Linear(2, 2, dtype=np.float64).weight.dtype == np.float64


def test_linear_default_init_is_kaiming_from_the_library_generator():
    tg.manual_seed(3)
    a = nn.Linear(400, 300).weight.data
    tg.manual_seed(3)
    b = nn.Linear(400, 300).weight.data
    np.testing.assert_array_equal(a, b)
    # 120,000 samples: the sample std lies within 0.3% of the truth; 3% cannot flake
    assert abs(a.std() / np.sqrt(2 / 400) - 1) < 0.03
    assert abs(a.mean()) < 0.05 * np.sqrt(2 / 400)  # the mean's standard error: 0.003 std


def test_linear_xavier_init():
    tg.manual_seed(4)
    w = nn.Linear(300, 500, init="xavier").weight.data
    assert abs(w.std() / np.sqrt(2 / 800) - 1) < 0.03


def test_linear_nnfs_init_draws_from_numpys_global_state():
    state = np.random.get_state()
    try:
        np.random.seed(0)
        layer = nn.Linear(2, 3, init="nnfs", dtype=np.float64)
        np.random.seed(0)
        expected = 0.01 * np.random.randn(2, 3)
    finally:
        np.random.set_state(state)
    np.testing.assert_array_equal(layer.weight.data, expected)
    np.testing.assert_array_equal(layer.bias.data, np.zeros((1, 3)))


def test_linear_nnfs_init_reproduces_the_books_first_layer_output():
    # nnfs.init() patches NumPy process-wide, so it runs in a child process
    script = (
        "import nnfs, numpy as np; nnfs.init()\n"
        "from nnfs.datasets import spiral_data\n"
        "import tinygrad_np as tg, tinygrad_np.nn\n"
        "X, y = spiral_data(samples=100, classes=3)\n"
        "out = tg.nn.Dense(2, 3, init='nnfs')(tg.Tensor(X))\n"
        "np.save(__import__('sys').stdout.buffer, out.numpy()[:5])\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, cwd=root)
    assert done.returncode == 0, done.stderr.decode()
    got = np.load(io.BytesIO(done.stdout))
    book = np.array(  # printed in NNFS chapter 3 after dense1.forward(X)
        [
            [0.0000000e00, 0.0000000e00, 0.0000000e00],
            [-1.0475188e-04, 1.1395361e-04, -4.7983500e-05],
            [-2.7414842e-04, 3.1729150e-04, -8.6921798e-05],
            [-4.2188365e-04, 5.2666257e-04, -5.5912682e-05],
            [-5.7707680e-04, 7.1401405e-04, -8.9430439e-05],
        ]
    )
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, book, rtol=1e-6, atol=1e-12)


def test_linear_rejects_bad_arguments():
    with pytest.raises(ValueError, match="Linear: init must be one of"):
        nn.Linear(2, 2, init="he")
    with pytest.raises(ValueError, match="Linear: weight_regularizer_l2 must be >= 0"):
        nn.Linear(2, 2, weight_regularizer_l2=-1)
    with pytest.raises(ValueError, match=r"must be positive, got \(0, 2\)"):
        nn.Linear(0, 2)
    with pytest.raises(ValueError, match=r"linear: input of shape \(4, 3\) does not fit weight"):
        nn.Linear(2, 5)(tg.zeros(4, 3))


# --- Dropout --------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_probability_outside_unit_interval_is_an_error(p):
    with pytest.raises(ValueError, match=r"Dropout: p is the fraction .* \[0, 1\)"):
        nn.Dropout(p)
    with pytest.raises(ValueError, match=r"dropout: p is the fraction"):
        F.dropout(tg.ones(3), p)


def test_dropout_is_the_identity_in_eval_mode_and_for_p_zero():
    x = tg.randn(10, 10)
    drop = nn.Dropout(0.5)
    assert drop.eval()(x) is x
    assert nn.Dropout(0.0)(x) is x
    y = drop.train()(x)
    assert (y.data == 0).any()


@given(p=st.floats(0.0, 0.9), seed=st.integers(0, 2**32 - 1))
def test_dropout_preserves_the_mean(p, seed):
    x = tg.ones(500, 500)
    y = F.dropout(x, p, generator=np.random.default_rng(seed)).data
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-6)
    # the kept fraction has std sqrt(p(1-p)/250000) <= 0.001; 8+ standard deviations of slack
    assert abs(kept.mean() - (1 - p)) < 0.008
    # the output's mean has std sqrt(p/(1-p)/250000) <= 0.006 for p <= 0.9
    assert abs(y.mean() - 1.0) < 0.05


def test_dropout_masks_come_from_the_library_generator():
    drop = nn.Dropout(0.3)
    x = tg.ones(200)
    tg.manual_seed(11)
    a = drop(x).data
    tg.manual_seed(11)
    b = drop(x).data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, drop(x).data)


@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
def test_dropout_gradient_is_the_scaled_mask(data, shape):
    x = tg.Tensor(data.draw(arrays64(shape)), requires_grad=True)
    # a fresh generator per call: every finite-difference evaluation sees the same mask
    assert tg.gradcheck(lambda x: F.dropout(x, 0.4, generator=np.random.default_rng(1)), [x])
    F.dropout(x, 0.4, generator=np.random.default_rng(1)).sum().backward()
    mask = F.dropout(tg.Tensor(np.ones(shape)), 0.4, generator=np.random.default_rng(1)).data
    np.testing.assert_allclose(x.grad.data, mask)


# --- Flatten, Identity, Sequential ----------------------------------------------------------


@given(data=st.data(), shape=hnp.array_shapes(min_dims=2, max_dims=4, max_side=3))
def test_flatten_keeps_the_batch_axis(data, shape):
    x = tg.Tensor(data.draw(arrays64(shape)), requires_grad=True)
    out = nn.Flatten()(x)
    assert out.shape == (shape[0], int(np.prod(shape[1:])))
    np.testing.assert_array_equal(out.data, x.data.reshape(shape[0], -1))
    assert tg.gradcheck(nn.Flatten(), [x])


def test_identity_returns_its_input():
    x = tg.randn(2, 2)
    assert nn.Identity()(x) is x


def test_sequential_container_behaviour():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    model = nn.Sequential(*layers)
    assert len(model) == 3
    assert list(model) == layers
    assert model[0] is layers[0] and model[-1] is layers[2]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2]
    with pytest.raises(IndexError, match="Sequential: index 3 is out of range for 3 modules"):
        model[3]
    tail = nn.Sigmoid()
    assert model.append(tail) is model
    assert model[3] is tail and [n for n, _ in model.named_children()][-1] == "3"
    x = tg.randn(4, 2)
    expected = tail(layers[2](layers[1](layers[0](x))))
    np.testing.assert_array_equal(model(x).data, expected.data)


# --- activation modules ---------------------------------------------------------------------

ACTIVATIONS = [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(), lambda x: np.where(x > 0, x, 0.01 * x)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.Softmax(), lambda x: np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)),
    (nn.Softmax(axis=0), lambda x: np.exp(x) / np.exp(x).sum(axis=0, keepdims=True)),
    (nn.LogSoftmax(), lambda x: x - np.log(np.exp(x).sum(axis=-1, keepdims=True))),
]


@pytest.mark.parametrize(("module", "reference"), ACTIVATIONS, ids=repr)
@given(data=st.data(), shape=st.tuples(sizes, sizes))
def test_activation_values_and_gradients(module, reference, data, shape):
    x = tg.Tensor(data.draw(off_kink(shape)), requires_grad=True)
    np.testing.assert_allclose(module(x).data, reference(x.data), rtol=1e-12, atol=1e-15)
    assert tg.gradcheck(module, [x])


def test_activations_keep_float32():
    x = tg.randn(3, 4)
    for module, _ in ACTIVATIONS:
        assert module(x).dtype == np.float32
