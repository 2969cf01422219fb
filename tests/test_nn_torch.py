"""Every loss, activation and Linear against PyTorch (value and gradient), when torch is here."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_np as tg
from tinygrad_np import nn
from tinygrad_np.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
torch.set_num_threads(1)  # tiny tensors: threads only contend with other work on the machine

REDUCTIONS = ["mean", "sum", "none"]
shapes = st.tuples(st.integers(1, 6), st.integers(2, 6))


def _grads(ours, theirs, x, xt):
    """Backpropagate the same random weights through both outputs; return both gradients."""
    u = np.random.default_rng(1).standard_normal(np.shape(ours.data))
    ours.backward(u if ours.ndim else None)
    theirs.backward(torch.from_numpy(u) if theirs.ndim else None)
    return x.grad.data, xt.grad.numpy()


def _compare(our_fn, torch_fn, x, *targets):
    xt = torch.tensor(x, requires_grad=True)
    ours_x = tg.Tensor(x.copy(), requires_grad=True)
    ours = our_fn(ours_x, *targets)
    theirs = torch_fn(xt, *[torch.from_numpy(np.asarray(t)) for t in targets])
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    g, gt = _grads(ours, theirs, ours_x, xt)
    np.testing.assert_allclose(g, gt, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1), one_hot=st.booleans())
def test_cross_entropy(reduction, shape, seed, one_hot):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 3, shape)
    y = rng.integers(0, shape[1], shape[0])
    target = np.eye(shape[1])[y] if one_hot else y
    _compare(
        lambda a, t: nn.CrossEntropyLoss(reduction=reduction)(a, t),
        lambda a, t: TF.cross_entropy(a, t, reduction=reduction),
        x,
        target,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_nll_loss(reduction, shape, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, shape[1], shape[0])
    _compare(
        lambda a, t: nn.NLLLoss(reduction=reduction)(a.log_softmax(), t),
        lambda a, t: TF.nll_loss(TF.log_softmax(a, dim=-1), t, reduction=reduction),
        rng.normal(0, 3, shape),
        y,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_categorical_crossentropy_is_nll_of_log_probabilities(reduction, shape, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, shape[1], shape[0])
    _compare(
        lambda a, t: nn.CategoricalCrossentropy(reduction=reduction)(a.softmax(), t),
        lambda a, t: TF.nll_loss(torch.log(TF.softmax(a, dim=-1)), t, reduction=reduction),
        rng.normal(0, 2, shape),
        y,
    )


# (our module, torch function, draw input, draw target)
SAME_SHAPE = [
    (nn.BCELoss, TF.binary_cross_entropy, lambda r, s: r.uniform(0.01, 0.99, s), "unit"),
    (
        nn.BCEWithLogitsLoss,
        TF.binary_cross_entropy_with_logits,
        lambda r, s: r.normal(0, 4, s),
        "unit",
    ),
    (nn.MSELoss, TF.mse_loss, lambda r, s: r.normal(0, 2, s), "normal"),
    (nn.L1Loss, TF.l1_loss, lambda r, s: r.normal(0, 2, s), "normal"),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("module", "torch_fn", "draw", "target"), SAME_SHAPE, ids=[c[0].__name__ for c in SAME_SHAPE]
)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_same_shape_losses(module, torch_fn, draw, target, reduction, shape, seed):
    rng = np.random.default_rng(seed)
    x = draw(rng, shape)
    y = rng.uniform(0, 1, shape) if target == "unit" else rng.normal(0, 2, shape)
    _compare(
        lambda a, t: module(reduction=reduction)(a, t),
        lambda a, t: torch_fn(a, t, reduction=reduction),
        x,
        y,
    )


ACTIVATIONS = [
    (F.relu, TF.relu),
    (lambda a: F.leaky_relu(a, 0.1), lambda a: TF.leaky_relu(a, 0.1)),
    (F.sigmoid, torch.sigmoid),
    (F.tanh, torch.tanh),
    (F.softmax, lambda a: TF.softmax(a, dim=-1)),
    (lambda a: F.softmax(a, axis=0), lambda a: TF.softmax(a, dim=0)),
    (F.log_softmax, lambda a: TF.log_softmax(a, dim=-1)),
]


@pytest.mark.parametrize(("ours", "theirs"), ACTIVATIONS)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_activations(ours, theirs, shape, seed):
    _compare(ours, theirs, np.random.default_rng(seed).normal(0, 3, shape))


@given(n=st.integers(1, 5), fan_in=st.integers(1, 5), fan_out=st.integers(1, 5))
def test_linear_is_torchs_with_the_weight_transposed(n, fan_in, fan_out):
    layer = nn.Linear(fan_in, fan_out, dtype=np.float64)
    x = np.random.default_rng(n).normal(size=(n, fan_in))
    w = torch.tensor(layer.weight.data.T.copy(), requires_grad=True)
    b = torch.tensor(layer.bias.data.ravel().copy(), requires_grad=True)
    _compare(layer, lambda a: TF.linear(a, w, b), x)
    layer.zero_grad()
    w.grad = b.grad = None
    layer(tg.Tensor(x)).sum().backward()
    TF.linear(torch.from_numpy(x), w, b).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.data, w.grad.numpy().T, rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad.data.ravel(), b.grad.numpy(), rtol=1e-12)
