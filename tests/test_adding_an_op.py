"""A new op is one class: defined here and nowhere else, it is checked against finite
differences and PyTorch, drawn by ``tg.compare``, exercised, checked by ``find_wrong_op`` and
labelled in graph drawings, all from what the class itself says."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_np as tg
from tinygrad_np import ops, viz
from tinygrad_np.backend import array_module
from tinygrad_np.compare.domains import draw
from tinygrad_np.ops import tnp
from tinygrad_np.testing import HypothesisDraw, check_against_torch, check_gradients


class Softplus(tg.Function):
    """z = log(1 + exp(x));  dz/dx = 1 / (1 + exp(-x))"""

    domain = (-4.0, 4.0)
    torch = staticmethod(lambda torch, x: torch.nn.functional.softplus(x))

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return array_module(x).logaddexp(0, x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (1 + tnp.exp(-x))


class Hypot(tg.Function):
    """z = sqrt(x^2 + y^2);  dz/dx = x / z,  dz/dy = y / z"""

    broadcasts = True
    torch = "hypot"

    @staticmethod
    def sample(draw):
        shapes = draw.broadcastable(2)
        return [draw.array(s, away_from=(0.0,), margin=0.2) for s in shapes], {}

    @staticmethod
    def forward(ctx, x, y):
        z = array_module(x, y).hypot(x, y)
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, g):
        x, y, z = ctx.saved_tensors
        return g * x / z, g * y / z


NEW_OPS = [Softplus, Hypot]


def test_the_registry_lists_them_after_the_built_in_ops():
    registry = ops.registry()
    assert registry.index(ops.Linear) < registry.index(Softplus) < registry.index(Hypot)


@pytest.mark.parametrize("op", NEW_OPS, ids=lambda op: op.__name__)
@given(data=st.data())
def test_the_op_table_checks_them(op, data):
    check_gradients(op, HypothesisDraw(data, op))


@pytest.mark.parametrize("op", NEW_OPS, ids=lambda op: op.__name__)
@given(data=st.data())
def test_the_pytorch_comparison_checks_them(op, data):
    torch = pytest.importorskip("torch")
    check_against_torch(op, HypothesisDraw(data, op), torch)


def test_compare_draws_them_in_their_domain_and_exercises_them():
    for trial in range(4):
        (x,), kwargs = draw(Softplus, np.random.default_rng(trial), trial)
        assert kwargs == {} and x.min() >= -4.0 and x.max() <= 4.0
        (a, b), _ = draw(Hypot, np.random.default_rng(trial), trial)
        assert np.abs(a).min() >= 0.2 and np.abs(b).min() >= 0.2
    with tg.compare.exercise(Hypot, Hypot.backward, verbose=False) as ex:
        pass
    assert ex.report.ok

    def swapped(ctx, g):
        x, y, z = ctx.saved_tensors
        return g * y / z, g * x / z

    with tg.compare.exercise(Hypot, swapped, raise_on_failure=False, verbose=False) as ex:
        pass
    assert not ex.report.ok


def test_find_wrong_op_checks_them():
    x = np.array([[0.5, -1.0], [2.0, 0.3]])
    report = tg.find_wrong_op(lambda t: Hypot.apply(Softplus.apply(t), t).sum(), [x])
    assert report.ok and {c.op for c in report.checks} >= {"softplus", "hypot"}


def test_drawings_label_their_broadcasting():
    x = tg.Tensor(np.ones((3, 2)), requires_grad=True)
    b = tg.Tensor(np.ones(2), requires_grad=True)
    loss = Hypot.apply(x, b).sum()
    loss.backward(retain_graph=True)
    assert "sum over axis 0 (broadcast)" in viz.to_dot(loss, show_grad=True)
