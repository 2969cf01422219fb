"""Tensor construction, dtype rules, attributes, and the errors the core promises."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np.tensor import Tensor


def test_dtype_rules():
    assert Tensor([1.0, 2.0]).dtype == np.float32  # lists become float32
    assert Tensor(1.5).dtype == np.float32
    assert Tensor(np.zeros(2)).dtype == np.float64  # arrays keep theirs
    assert Tensor(np.float64(2.0)).dtype == np.float64  # so do NumPy scalars
    assert Tensor([1, 2]).dtype == np.int64
    assert Tensor([1.0], dtype=np.float64).dtype == np.float64
    t64, t32 = Tensor(np.ones(2)), Tensor(np.ones(2, dtype=np.float32))
    assert (t64 * 2.0).dtype == np.float64 and (2.0 * t32).dtype == np.float32
    assert (t32 + 1).dtype == np.float32 and (t32 / 3).dtype == np.float32
    assert t64.sum().dtype == np.float64 and t64.sum().data.ndim == 0


def test_tensor_shares_and_tensor_function_copies():
    a = np.zeros(3)
    assert Tensor(a).data is a
    b = tg.tensor(a)
    b.data[0] = 1
    assert a[0] == 0


def test_attributes_and_conversions():
    t = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert t.shape == (2, 2) and t.ndim == 2 and t.T.shape == (2, 2)
    assert t.sum().item() == 10.0 and isinstance(t.sum().item(), float)
    assert t.numpy() is t.data
    d = t.detach()
    assert not d.requires_grad and d.data is t.data and d.is_leaf
    assert t.is_leaf and (t * 1).grad_fn.name == "mul"
    (t * t).sum().backward()
    t.zero_grad()
    assert t.grad is None
    assert tg.tensor([1.0]).requires_grad_().requires_grad


def test_repr_is_readable():
    t = tg.tensor([1.0, 2.0], requires_grad=True)
    assert repr(t) == "Tensor([1., 2.], dtype=float32, requires_grad=True)"
    assert repr(t * 2) == "Tensor([2., 4.], dtype=float32, grad_fn=<mul>)"


def test_factories():
    tg.manual_seed(3)
    a = tg.randn(2, 3)
    tg.manual_seed(3)
    assert np.array_equal(a.numpy(), tg.randn((2, 3)).numpy())
    assert a.dtype == np.float32
    assert tg.zeros(2, 3).shape == (2, 3) and tg.ones((4,)).numpy().sum() == 4
    assert tg.arange(5).dtype == np.int64 and tg.arange(0.0, 1.0, 0.25).dtype == np.float32
    assert tg.zeros_like(a).shape == a.shape and tg.ones_like(a).dtype == a.dtype


def test_comparisons_give_bool_tensors_without_grad():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == bool and not m.requires_grad
    assert (x == x).numpy().all() and not (x != x).numpy().any()
    assert (x <= 2).numpy().tolist() == [True, True, False]


def test_setitem_outside_the_graph_and_refused_inside():
    t = tg.zeros(3)
    t[1] = 5.0
    assert t.numpy().tolist() == [0.0, 5.0, 0.0]
    w = tg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="setitem"):
        w[0] = 1.0
    with tg.no_grad():
        w[0] = 1.0


def test_argmax_and_flatten():
    t = tg.tensor([[1.0, 5.0], [7.0, 2.0]])
    assert t.argmax(axis=1).numpy().tolist() == [1, 0]
    assert t.flatten().shape == (4,)
    assert tg.zeros(2, 3, 4).flatten(1).shape == (2, 12)


# ---- errors the core promises ---------------------------------------------------------------


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="int64"):
        Tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="int64"):
        Tensor([1, 2]).requires_grad_()


def test_matmul_shape_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\)"):
        tg.zeros(2, 3) @ tg.zeros(4, 5)


def test_broadcast_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: .*\(2, 3\).*\(4,\)"):
        tg.zeros(2, 3) + tg.zeros(4)
    with pytest.raises(ValueError, match=r"mul: .*\(2, 3\).*\(2,\)"):
        tg.zeros(2, 3) * tg.zeros(2)


def test_reshape_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"reshape: .*size 6 into shape \(4,\).*\(2, 3\)"):
        tg.zeros(2, 3).reshape(4)


def test_non_scalar_backward_without_gradient():
    with pytest.raises(RuntimeError, match=r"shape \(3,\)"):
        (tg.ones(3, requires_grad=True) * 2).backward()


def test_backward_gradient_of_wrong_shape():
    with pytest.raises(ValueError, match=r"gradient of shape \(2,\) does not match output shape"):
        (tg.ones(3, requires_grad=True) * 2).backward(gradient=np.ones(2))


def test_backward_on_tensor_without_graph():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.ones(3).sum().backward()


def test_index_out_of_range_names_index_and_size():
    with pytest.raises(IndexError, match=r"index 5 is out of bounds for axis 0 with size 3"):
        tg.zeros(3)[5]
    with pytest.raises(IndexError, match="index 9"):
        tg.zeros(3, 2)[np.array([0, 9])]


def test_item_on_many_elements():
    with pytest.raises(ValueError, match="item"):
        tg.zeros(3).item()


def test_cross_entropy_rejects_bad_targets():
    logits = tg.zeros(2, 3)
    with pytest.raises(ValueError, match="label 3 is out of range for 3 classes"):
        tg.cross_entropy(logits, np.array([0, 3]))
    with pytest.raises(ValueError, match="label -1"):
        tg.cross_entropy(logits, np.array([0, -1]))
    with pytest.raises(ValueError, match="3 labels for 2 rows"):
        tg.cross_entropy(logits, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"one-hot targets of shape \(2, 4\)"):
        tg.cross_entropy(logits, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="reduction"):
        tg.cross_entropy(logits, np.array([0, 1]), reduction="avg")


def test_cross_entropy_is_finite_for_huge_logits():
    logits = tg.tensor(np.array([[1e4, 0.0, -1e4]]), requires_grad=True)
    loss = tg.cross_entropy(logits, np.array([2]))
    assert loss.item() == pytest.approx(2e4)
    loss.backward()
    assert np.isfinite(logits.grad.numpy()).all()
    np.testing.assert_allclose(logits.grad.numpy(), [[1.0, 0.0, -1.0]], atol=1e-12)
    soft = tg.tensor(np.array([[1e4, 0.0, -1e4]]), requires_grad=True).log_softmax(-1)
    assert np.isfinite(soft.numpy()).all()


def test_gradcheck_requires_float64_and_something_to_check():
    with pytest.raises(TypeError, match="float64"):
        tg.gradcheck(lambda t: t.sum(), [tg.tensor([1.0], requires_grad=True)])
    with pytest.raises(ValueError, match="no input requires grad"):
        tg.gradcheck(lambda t: t.sum(), [tg.tensor(np.ones(2))])
