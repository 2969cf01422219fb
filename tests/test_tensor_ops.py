"""The Tensor methods PyTorch users reach for, with PyTorch's semantics where NumPy's differ
(repeat tiles, expand keeps -1, squeeze skips non-1 axes), their edge cases and errors. The op
registry checks their gradients on random inputs; this file pins down the conventions."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_np as tg

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(0)


def _pair(a: np.ndarray):
    a = np.asarray(a, dtype=np.float64)
    return tg.Tensor(a.copy(), requires_grad=True), torch.tensor(a, requires_grad=True)


def _same(ours, theirs, x, xt, seed=0):
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    u = np.random.default_rng(seed).standard_normal(ours.shape)
    ours.backward(u)
    theirs.backward(torch.tensor(u))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_the_new_methods_of_the_contract_are_reachable():
    names = (
        "permute unsqueeze squeeze expand flip repeat cumsum logsumexp var std log1p expm1 sin "
        "cos erf gather"
    ).split()
    for name in names:
        assert callable(getattr(tg.Tensor, name)), name
    for name in "conv1d conv2d max_pool2d avg_pool2d pad gelu elu selu silu softplus".split():
        assert callable(getattr(tg.nn.functional, name)), name


SAME_AS_TORCH = [
    lambda t: t.permute(2, 0, 1),
    lambda t: t.permute((1, 2, 0)),
    lambda t: t.unsqueeze(-1),
    lambda t: t.unsqueeze(0).unsqueeze(2),
    lambda t: t.expand(2, -1, 3, -1),
    lambda t: t.flip(0),
    lambda t: t.flip((0, 2)),
    lambda t: t.repeat(2, 1, 3),
    lambda t: t.repeat(2, 2, 1, 1),
    lambda t: t.cumsum(1),
    lambda t: t.cumsum(-1),
    lambda t: t.log1p(),
    lambda t: t.expm1(),
    lambda t: t.sin(),
    lambda t: t.cos(),
    lambda t: t.erf(),
]


@pytest.mark.parametrize("call", SAME_AS_TORCH)
def test_against_pytorch(call):
    x, xt = _pair(RNG.random((2, 1, 3)) + 0.1)
    _same(call(x), call(xt), x, xt)


@pytest.mark.parametrize("axis, keepdims", [(None, False), ((0, 2), True), (-1, False)])
def test_logsumexp_against_pytorch(axis, keepdims):
    x, xt = _pair(RNG.standard_normal((2, 1, 3)))
    dim = tuple(range(3)) if axis is None else axis  # PyTorch needs the axes named
    _same(x.logsumexp(axis, keepdims), xt.logsumexp(dim, keepdim=keepdims), x, xt)


def test_squeeze_drops_only_size_one_axes_and_leaves_others_alone():
    x = tg.zeros(1, 3, 1, 2)
    assert x.squeeze().shape == (3, 2)
    assert x.squeeze(0).shape == (3, 1, 2)
    assert x.squeeze(1).shape == (1, 3, 1, 2)  # not of size 1: unchanged, as in PyTorch
    assert x.squeeze((0, -2)).shape == (3, 2)
    assert tg.zeros(()).squeeze().shape == ()


def test_repeat_tiles_like_pytorch_not_like_numpy_repeat():
    x = tg.tensor([[1.0, 2.0]])
    assert x.repeat(2, 2).tolist() == [[1.0, 2.0, 1.0, 2.0], [1.0, 2.0, 1.0, 2.0]]
    xt, t = _pair([[1.0, 2.0], [3.0, 4.0]])
    _same(xt.repeat(3, 1, 2), t.repeat(3, 1, 2), xt, t)


def test_gather_picks_along_dim_and_repeated_indices_add_up():
    x, xt = _pair(RNG.standard_normal((3, 4)))
    index = np.array([[0, 0, 3], [2, 2, 2]])
    _same(x.gather(1, index), xt.gather(1, torch.tensor(index)), x, xt)
    y, yt = _pair(RNG.standard_normal((3, 4)))
    index = np.array([[2, 0, 2, 1], [2, 2, 0, 0]])
    _same(y.gather(0, tg.Tensor(index)), yt.gather(0, torch.tensor(index)), y, yt)


@pytest.mark.parametrize(
    "index, error, message",
    [
        (np.array([0, 1]), ValueError, r"integer array with the input's 2 axes"),
        (np.array([[0.5]]), ValueError, "must be an integer array"),
        (np.array([[4]]), IndexError, r"index out of range \[0, 4\) for axis 1"),
        (np.array([[-1]]), IndexError, r"index out of range \[0, 4\)"),
        (np.zeros((4, 1), dtype=int), ValueError, "larger than the input"),
    ],
)
def test_gather_errors(index, error, message):
    with pytest.raises(error, match=f"gather: .*{message}"):
        tg.zeros(3, 4).gather(1, index)


def test_movement_errors_name_the_op():
    x = tg.zeros(2, 3)
    with pytest.raises(ValueError, match=r"expand: cannot expand shape \(2, 3\) to \(-1, 2, 3\)"):
        x.expand(-1, 2, 3)
    with pytest.raises(ValueError, match=r"expand: .*\(inputs: \(2, 3\)"):
        x.expand(4, 3)
    with pytest.raises(ValueError, match="repeat: sizes .* at least"):
        x.repeat(2)
    with pytest.raises(IndexError, match="unsqueeze: axis 3 is out of range"):
        x.unsqueeze(3)
    with pytest.raises(IndexError, match="flip: axis 2 is out of range"):
        x.flip(2)
    with pytest.raises(ValueError, match="transpose: axes"):
        x.permute(0, 0)


@pytest.mark.parametrize("correction", [0, 1, 2])
@pytest.mark.parametrize("axis, keepdims", [(None, False), (1, True), ((0, 2), False)])
def test_var_and_std_against_pytorch(correction, axis, keepdims):
    data = RNG.standard_normal((3, 4, 2))
    for name in ("var", "std"):
        x, xt = _pair(data)
        ours = getattr(x, name)(axis, keepdims=keepdims, correction=correction)
        theirs = getattr(xt, name)(axis, keepdim=keepdims, correction=correction)
        _same(ours, theirs, x, xt)


def test_std_gradient_at_no_spread_is_zero_as_in_pytorch():
    x, xt = _pair(np.ones((2, 3)))
    _same(x.std(1), xt.std(1), x, xt)
    assert np.all(x.grad.numpy() == 0)


def test_no_degrees_of_freedom_warn_and_give_what_pytorch_gives():
    x, xt = _pair([2.0])
    with pytest.warns(RuntimeWarning, match="var: 1 elements with correction 1 leave 0"):
        ours = x.var()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = xt.var()
    assert np.isnan(ours.item()) and np.isnan(theirs.item())


def test_logsumexp_is_stable_and_handles_infinite_rows():
    x = tg.tensor(np.array([[1e4, 1e4], [-np.inf, -np.inf], [np.inf, 0.0]]))
    out = x.logsumexp(1).numpy()
    assert out[0] == pytest.approx(1e4 + np.log(2)) and out[1] == -np.inf and out[2] == np.inf
    y, yt = _pair([[1e4, 1e4 - 1.0]])
    _same(y.logsumexp(1), yt.logsumexp(1), y, yt)


def test_log1p_and_expm1_keep_tiny_values_exact():
    tiny = tg.tensor(np.array([1e-20]))
    assert tiny.log1p().item() == 1e-20 and tiny.expm1().item() == 1e-20
