"""In-place changes and stale graphs: version counters catch a tensor changed after an op
saved it (PyTorch's rule), so a gradient is never computed from values forward did not see."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn


def _pair():
    x = tg.Tensor(np.array([1.0, 2.0, 3.0]))
    w = tg.Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    return x, w


def test_setitem_on_a_saved_input_after_forward_is_caught():
    x, w = _pair()
    loss = (w * x).sum()
    x[0] = 100.0
    with pytest.raises(RuntimeError) as info:
        loss.backward()
    message = str(info.value)
    assert "backward through 'mul'" in message and "input 1" in message
    assert "modified in place after it was saved" in message and x._version == 1


def test_augmented_assignment_without_grad_is_in_place_and_counted():
    x, w = _pair()
    alias = x
    loss = (w * x).sum()
    x += 1.0
    assert x is alias and x._version == 1 and x.data.tolist() == [2.0, 3.0, 4.0]
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_a_change_to_the_saved_output_is_caught():
    w = tg.Tensor(np.array([0.5, 1.0]), requires_grad=True)
    y = w.exp()  # exp saves its output
    loss = y.sum()
    with tg.no_grad():
        y *= 2.0
    with pytest.raises(RuntimeError, match="'exp': its output .* modified in place"):
        loss.backward()


def test_an_optimizer_step_between_forward_and_backward_is_caught():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 3))
    opt = tg.optim.SGD(model.parameters(), lr=0.1)
    x = tg.Tensor(np.random.default_rng(0).standard_normal((5, 2)))
    loss = nn.CrossEntropyLoss()(model(x), [0, 1, 2, 0, 1])
    loss.backward(retain_graph=True)
    opt.step()  # the weights change in place
    with pytest.raises(RuntimeError, match="'linear': input 1 '.*weight'.*modified in place"):
        loss.backward()


def test_the_ordinary_loop_and_a_retained_graph_without_changes_still_work():
    x, w = _pair()
    loss = (w * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_array_equal(w.grad.data, 2 * x.data)


def test_detach_and_tensor_of_a_tensor_share_the_counter_as_they_share_memory():
    x, w = _pair()
    loss = (w * x).sum()
    d = x.detach()
    d[1] = 7.0  # the same memory as x
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()
    x2, w2 = _pair()
    loss2 = (w2 * x2).sum()
    view = tg.Tensor(x2)
    view += 1.0
    with pytest.raises(RuntimeError, match="modified in place"):
        loss2.backward()


def test_writes_through_data_bypass_the_counter_as_documented():
    x, w = _pair()
    loss = (w * x).sum()
    x.data[0] = 100.0  # not counted, as in PyTorch
    loss.backward()
    assert w.grad.data[0] == 100.0


def test_in_place_on_a_leaf_that_requires_grad_is_refused_outside_no_grad():
    w = tg.Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor of shape \\(3,\\) that requires grad"):
        w += 1.0
    with tg.no_grad():
        w -= 0.5  # the manual SGD step: in place, the same tensor
    assert w.requires_grad and w.data.tolist() == [0.5, 0.5, 0.5] and w._version == 1


def test_augmented_assignment_on_a_non_leaf_records_a_new_node():
    w = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = w * 3.0
    h += w  # h = h + w, recorded
    h.sum().backward()
    np.testing.assert_array_equal(w.grad.data, [4.0, 4.0])


def test_setitem_that_would_lose_a_gradient_is_refused():
    x = tg.zeros(3, dtype=np.float64)
    w = tg.Tensor(np.ones(1), requires_grad=True)
    with pytest.raises(RuntimeError, match="setitem: .* would lose a gradient"):
        x[0:1] = w
    with pytest.raises(RuntimeError, match="setitem"):
        w[0] = 2.0


def test_requires_grad_false_on_a_non_leaf_raises():
    w = tg.Tensor(np.ones(2), requires_grad=True)
    h = w * 2.0
    with pytest.raises(RuntimeError, match="only leaf tensors .* made by 'mul'"):
        h.requires_grad_(False)
    assert h.requires_grad_(True) is h
    assert not w.detach().requires_grad_(False).requires_grad
