"""Initialisation helpers (tg.nn.init) and the book's L1/L2 regularization loss."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_np as tg
from tinygrad_np import nn
from tinygrad_np.nn import init

# --- init -----------------------------------------------------------------------------------

# (helper, kwargs, expected std of the samples for a (fan_in, fan_out) = (600, 200) weight)
RANDOM_INITS = [
    (init.normal_, {"mean": 0.0, "std": 0.5}, 0.5),
    (init.uniform_, {"a": -1.0, "b": 1.0}, np.sqrt(1 / 3)),
    (init.kaiming_normal_, {}, np.sqrt(2 / 600)),
    (init.kaiming_normal_, {"mode": "fan_out"}, np.sqrt(2 / 200)),
    (init.kaiming_uniform_, {}, np.sqrt(2 / 600)),
    (init.xavier_normal_, {}, np.sqrt(2 / 800)),
    (init.xavier_uniform_, {"gain": 2.0}, 2 * np.sqrt(2 / 800)),
]
init_params = pytest.mark.parametrize(
    ("helper", "kwargs", "std"), RANDOM_INITS, ids=lambda v: getattr(v, "__name__", "")
)


@init_params
def test_random_inits_fill_in_place_with_the_right_spread(helper, kwargs, std):
    w = nn.Parameter(np.zeros((600, 200), dtype=np.float32))
    array = w.data
    assert helper(w, generator=np.random.default_rng(0), **kwargs) is w
    assert w.data is array and w.dtype == np.float32
    assert w.is_leaf and w.grad is None  # no graph recorded
    # 120,000 samples: the sample std is within 0.5% of the truth; 3% cannot flake
    assert abs(w.data.std() / std - 1) < 0.03


@init_params
def test_random_inits_use_the_given_or_the_library_generator(helper, kwargs, std):
    a = helper(tg.zeros(30, 20), generator=np.random.default_rng(5), **kwargs).data
    b = helper(tg.zeros(30, 20), generator=np.random.default_rng(5), **kwargs).data
    np.testing.assert_array_equal(a, b)
    tg.manual_seed(5)
    c = helper(tg.zeros(30, 20), **kwargs).data
    tg.manual_seed(5)
    np.testing.assert_array_equal(c, helper(tg.zeros(30, 20), **kwargs).data)


def test_uniform_inits_stay_inside_their_bounds():
    w = init.kaiming_uniform_(tg.zeros(50, 40), generator=np.random.default_rng(1))
    assert np.abs(w.data).max() <= np.sqrt(6 / 50)
    w = init.xavier_uniform_(tg.zeros(50, 40), generator=np.random.default_rng(1))
    assert np.abs(w.data).max() <= np.sqrt(6 / 90)


def test_constant_inits():
    w = tg.randn(3, 4)
    np.testing.assert_array_equal(init.zeros_(w).data, np.zeros((3, 4)))
    np.testing.assert_array_equal(init.ones_(w).data, np.ones((3, 4)))


def test_nnfs_init_draws_from_numpys_global_state():
    state = np.random.get_state()
    try:
        np.random.seed(7)
        w = init.nnfs_(tg.zeros(3, 5, dtype=np.float64))
        np.random.seed(7)
        expected = 0.01 * np.random.randn(3, 5)
    finally:
        np.random.set_state(state)
    np.testing.assert_array_equal(w.data, expected)


@pytest.mark.parametrize(
    "helper", [init.kaiming_normal_, init.kaiming_uniform_, init.xavier_normal_]
)
def test_fan_based_inits_need_two_dimensions(helper):
    with pytest.raises(ValueError, match=rf"{helper.__name__}: .* got shape \(5,\)"):
        helper(tg.zeros(5))


def test_kaiming_mode_must_be_a_fan():
    with pytest.raises(ValueError, match="kaiming_normal_: mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_normal_(tg.zeros(2, 2), mode="fan_avg")


# --- regularization_loss ----------------------------------------------------------------------


def _model(dtype=np.float64):
    return nn.Sequential(
        nn.Linear(3, 4, dtype=dtype, weight_regularizer_l1=0.1, bias_regularizer_l2=0.2),
        nn.ReLU(),
        nn.Linear(4, 2, dtype=dtype),  # does not regularise
        nn.Linear(2, 2, dtype=dtype, weight_regularizer_l2=0.3, bias_regularizer_l1=0.4),
    )


def _randomise(model, seed):
    rng = np.random.default_rng(seed)
    for p in model.parameters():
        p.data[...] = rng.uniform(0.1, 1.0, p.shape) * rng.choice([-1, 1], p.shape)


def test_regularization_value_is_the_books_formula():
    model = _model()
    _randomise(model, 0)
    a, c = model[0], model[3]
    expected = (
        0.1 * np.abs(a.weight.data).sum()
        + 0.2 * (a.bias.data**2).sum()
        + 0.3 * (c.weight.data**2).sum()
        + 0.4 * np.abs(c.bias.data).sum()
    )
    loss = nn.regularization_loss(model)
    assert loss.shape == () and loss.dtype == np.float64
    assert loss.item() == pytest.approx(expected, rel=1e-12)


def test_regularization_gradient_is_two_lambda_w_and_lambda_sign_w():
    model = _model()
    _randomise(model, 1)
    nn.regularization_loss(model).backward()
    a, b, c = model[0], model[2], model[3]
    np.testing.assert_allclose(a.weight.grad.data, 0.1 * np.sign(a.weight.data))
    np.testing.assert_allclose(a.bias.grad.data, 2 * 0.2 * a.bias.data)
    np.testing.assert_allclose(c.weight.grad.data, 2 * 0.3 * c.weight.data)
    np.testing.assert_allclose(c.bias.grad.data, 0.4 * np.sign(c.bias.data))
    assert b.weight.grad is None and b.bias.grad is None


@given(seed=st.integers(0, 2**32 - 1))
def test_regularization_gradient_matches_finite_differences(seed):
    model = _model()
    _randomise(model, seed)  # entries at least 0.1 from 0, where |w| bends
    assert tg.gradcheck(lambda *ps: nn.regularization_loss(model), list(model.parameters()))


@given(data=st.data())
def test_regularization_adds_to_the_data_gradient(data):
    layer = nn.Linear(3, 2, dtype=np.float64, weight_regularizer_l2=0.5)
    x = data.draw(hnp.arrays(np.float64, (4, 3), elements=st.floats(-2, 2)))
    layer(tg.Tensor(x)).sum().backward()
    data_grad = layer.weight.grad.data.copy()
    layer.zero_grad()
    (layer(tg.Tensor(x)).sum() + nn.regularization_loss(layer)).backward()
    np.testing.assert_allclose(layer.weight.grad.data, data_grad + layer.weight.data, atol=1e-12)


def test_a_shared_layer_is_penalised_once():
    layer = nn.Linear(2, 2, weight_regularizer_l1=1.0)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    assert nn.regularization_loss(model).item() == pytest.approx(
        np.abs(layer.weight.data).sum(), rel=1e-6
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_regularization_without_regularisers_is_a_zero_scalar(dtype):
    loss = nn.regularization_loss(nn.Sequential(nn.Linear(2, 2, dtype=dtype), nn.ReLU()))
    assert loss.shape == () and loss.item() == 0.0 and loss.dtype == dtype
    assert nn.regularization_loss(nn.ReLU()).dtype == np.float32
