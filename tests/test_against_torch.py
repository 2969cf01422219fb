"""Values and gradients against PyTorch, when it is installed (the suite never needs it)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_np as tg
from tinygrad_np.testing import arrays, broadcastable_shapes, matmul_shapes

torch = pytest.importorskip("torch")

UNARY = {
    "exp": (lambda t: t.exp(), lambda t: t.exp()),
    "tanh": (lambda t: t.tanh(), lambda t: t.tanh()),
    "sigmoid": (lambda t: t.sigmoid(), lambda t: t.sigmoid()),
    "relu": (lambda t: t.relu(), lambda t: t.relu()),
    "softmax": (lambda t: t.softmax(-1), lambda t: t.softmax(-1)),
    "log_softmax": (lambda t: t.log_softmax(-1), lambda t: t.log_softmax(-1)),
    "abs": (lambda t: t.abs(), lambda t: t.abs()),
    "mean0": (lambda t: t.mean(axis=0), lambda t: t.mean(dim=0)),
    "max_all": (lambda t: t.max(), lambda t: t.amax()),
}

BINARY = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "sub": lambda a, b: a - b,
    "div": lambda a, b: a / (b * b + 1),
}


def _compare(ours, theirs, xs, atol=1e-10):
    tg_in = [tg.Tensor(x.copy(), requires_grad=True) for x in xs]
    th_in = [torch.tensor(x, requires_grad=True) for x in xs]
    a, b = ours(*tg_in), theirs(*th_in)
    np.testing.assert_allclose(a.numpy(), b.detach().numpy(), atol=atol, rtol=1e-9)
    seed = np.random.default_rng(0).standard_normal(a.shape)
    a.backward(gradient=seed)
    b.backward(torch.tensor(seed))
    for t_ours, t_theirs in zip(tg_in, th_in):
        np.testing.assert_allclose(t_ours.grad.numpy(), t_theirs.grad.numpy(), atol=atol, rtol=1e-9)


@pytest.mark.parametrize("name", sorted(UNARY))
@given(x=arrays(st.sampled_from([(3,), (2, 4), (2, 3, 2)]), away_from=(0.0,)))
def test_unary_ops_match_torch(name, x):
    ours, theirs = UNARY[name]
    _compare(ours, theirs, [x])


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_broadcasting_binary_ops_match_torch(name, data):
    sa, sb = data.draw(broadcastable_shapes(2))
    xs = [data.draw(arrays(sa)), data.draw(arrays(sb))]
    _compare(BINARY[name], BINARY[name], xs)


@given(data=st.data())
def test_matmul_matches_torch(data):
    sa, sb = data.draw(matmul_shapes())
    xs = [data.draw(arrays(sa)), data.draw(arrays(sb))]
    _compare(lambda a, b: a @ b, lambda a, b: a @ b, xs)


@pytest.mark.parametrize("one_hot", [False, True])
def test_cross_entropy_matches_torch(one_hot):
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((6, 4)) * 3
    labels = rng.integers(0, 4, 6)
    target = np.eye(4)[labels] if one_hot else labels
    ours = lambda t: tg.cross_entropy(t, target)  # noqa: E731
    theirs = lambda t: torch.nn.functional.cross_entropy(t, torch.tensor(target))  # noqa: E731
    _compare(ours, theirs, [logits])
