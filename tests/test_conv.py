"""Convolution, pooling and padding beyond what the op registry draws: PyTorch's conventions
(unbatched inputs, 'same' padding, the first-max rule, count_include_pad, every padding mode),
the adjoint pair behind them, the errors, and the promise of no np.add.at on the hot path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_array_seam import LOG, Recorded

import tinygrad_np as tg
from tinygrad_np.ops import tnp
from tinygrad_np.testing import arrays

F = tg.nn.functional
torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _t(a: np.ndarray) -> tg.Tensor:
    return tg.Tensor(np.array(a, dtype=np.float64), requires_grad=True)


def _both(fn_ours, fn_torch, *arrays_, seed=0):
    """Values and gradients of all inputs, ours against PyTorch's, in float64."""
    ours = [_t(a) for a in arrays_]
    theirs = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays_]
    out, expected = fn_ours(*ours), fn_torch(*theirs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    u = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(u)
    expected.backward(torch.tensor(u))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)


RNG = np.random.default_rng(0)


# ================================ convolution ================================================


def test_unbatched_inputs_are_a_batch_of_one_as_in_pytorch():
    x, w, b = RNG.standard_normal((3, 6, 5)), RNG.standard_normal((4, 3, 3, 2)), RNG.random(4)
    _both(lambda *t: F.conv2d(*t, stride=(2, 1)), lambda *t: TF.conv2d(*t, stride=(2, 1)), x, w, b)
    x1, w1 = RNG.standard_normal((2, 7)), RNG.standard_normal((3, 2, 3))
    _both(lambda *t: F.conv1d(*t, padding=1), lambda *t: TF.conv1d(*t, padding=1), x1, w1)


@pytest.mark.parametrize("kernel", [(2, 4), (3, 3), (1, 2)])
def test_same_padding_keeps_the_size_and_puts_the_odd_pixel_after(kernel):
    x, w = RNG.standard_normal((1, 2, 5, 6)), RNG.standard_normal((3, 2, *kernel))
    out = F.conv2d(tg.Tensor(x), tg.Tensor(w), padding="same", dilation=(2, 1))
    assert out.shape == (1, 3, 5, 6)
    same = {"padding": "same", "dilation": (2, 1)}
    _both(lambda *t: F.conv2d(*t, **same), lambda *t: TF.conv2d(*t, **same), x, w)


@given(data=st.data())
def test_strides_paddings_dilations_and_groups_against_pytorch(data):
    groups = data.draw(st.sampled_from([1, 2, 3]))
    c, o = groups * data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 2))
    k = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    kw = {
        "stride": (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))),
        "padding": (data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))),
        "dilation": (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))),
        "groups": groups,
    }
    size = [d * (n - 1) + 1 + data.draw(st.integers(0, 3)) for n, d in zip(k, kw["dilation"])]
    x = data.draw(arrays((data.draw(st.integers(1, 2)), c, *size)))
    w, b = data.draw(arrays((o, c // groups, *k))), data.draw(arrays((o,)))
    _both(lambda *t: F.conv2d(*t, **kw), lambda *t: TF.conv2d(*t, **kw), x, w, b)


def test_float32_stays_float32_and_the_input_needs_no_gradient():
    x = tg.Tensor(RNG.standard_normal((2, 1, 6, 6)).astype(np.float32))
    w = tg.Tensor(RNG.standard_normal((3, 1, 3, 3)).astype(np.float32), requires_grad=True)
    out = F.conv2d(x, w, padding=1)
    assert out.dtype == np.float32
    out.sum().backward()
    assert w.grad.dtype == np.float32 and x.grad is None


def test_an_empty_batch_gives_an_empty_output_and_zero_weight_gradients():
    x = tg.Tensor(np.zeros((0, 2, 5, 5)), requires_grad=True)
    w = tg.Tensor(RNG.standard_normal((4, 1, 3, 3)), requires_grad=True)
    out = F.conv2d(x, w, padding=1, groups=2)
    assert out.shape == tuple(TF.conv2d(torch.zeros(0, 2, 5, 5), torch.zeros(4, 1, 3, 3),
                                        padding=1, groups=2).shape)  # fmt: skip
    out.sum().backward()
    assert x.grad.shape == (0, 2, 5, 5) and not w.grad.numpy().any()


def test_the_conv_step_never_scatters_with_add_at():
    """col2im is one strided sum per kernel position: np.add.at would be slower by far."""
    wrap = lambda a: tg.Tensor._wrap(Recorded(np.asarray(a, dtype=np.float64)), True)  # noqa: E731
    x, w, b = wrap(RNG.random((2, 3, 7, 7))), wrap(RNG.random((4, 3, 3, 3))), wrap(RNG.random(4))
    LOG.clear()
    h = F.conv2d(x, w, b, padding=1, stride=2)
    h = F.avg_pool2d(F.max_pool2d(h, 2, stride=1), 2, stride=1, padding=1)
    h.backward(Recorded(np.ones(h.shape)))
    assert x.grad is not None and LOG and not [c for c in LOG if c.endswith(".at")]


def test_every_backward_of_a_small_cnn_matches_finite_differences_in_its_graph():
    """find_wrong_op checks each node with the arrays it really saw (conv2d's output is a
    transposed view, which the next op must handle)."""
    x, w, b = RNG.standard_normal((2, 1, 6, 6)), RNG.standard_normal((3, 1, 3, 3)), RNG.random(3)

    def net(x, w, b):
        h = F.max_pool2d(F.gelu(F.conv2d(x, w, b, padding=1)), 2)
        h = F.avg_pool2d(F.pad(F.silu(h), (1, 1, 0, 1), mode="reflect"), 2, 1)
        return F.softplus(h).logsumexp()

    report = tg.find_wrong_op(net, [x, w, b])
    assert report.ok, str(report)
    assert {"conv2d", "gelu", "max_pool2d", "avg_pool2d", "logsumexp"} <= {
        c.op for c in report.checks
    }

    class Halved(tg.Function):
        """z = 2 x;  dz/dx = 2 (but backward says 1)"""

        @staticmethod
        def forward(ctx, x):
            return 2 * x

        @staticmethod
        def backward(ctx, g):
            return g

    report = tg.find_wrong_op(lambda x, w: Halved.apply(F.conv2d(x, w)).sum(), [x, w])
    assert not report.ok and report.first_wrong.op == "halved"  # named, on a transposed input


@given(data=st.data())
def test_unfold_and_fold_are_adjoint(data):
    """<unfold(x), y> = <x, fold(y)>: fold is unfold's transpose, so each is the other's
    backward."""
    k = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    s = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    d = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
    size = tuple(di * (ki - 1) + 1 + data.draw(st.integers(0, 4)) for ki, di in zip(k, d))
    x = data.draw(arrays((2, *size)))
    cols = tnp.unfold(x, k, s, d)
    y = data.draw(arrays(cols.shape))
    folded = tnp.fold(y, size, k, s, d)
    np.testing.assert_allclose((cols * y).sum(), (x * folded).sum(), rtol=1e-12, atol=1e-12)


CONV_ERRORS = [
    ((2, 3, 5, 5), (4, 2, 3, 3), {}, "expects input with 2 channels, got input of shape"),
    ((2, 4, 5, 5), (3, 2, 3, 3), {"groups": 2}, "groups=2 must divide both in_channels=4 and"),
    ((2, 3, 5, 5), (4, 1, 3, 3), {"groups": 2}, "groups=2 must divide both in_channels=3"),
    ((1, 1, 4, 4), (1, 1, 5, 5), {}, r"kernel \(5, 5\) .* larger than the padded input \(4, 4\)"),
    ((1, 1, 4, 4), (1, 1, 3, 3), {"dilation": 2}, r"spans \(5, 5\), larger than the padded"),
    ((1, 1, 4, 4), (1, 1, 3, 3), {"stride": 0}, "stride must be an int >= 1"),
    ((1, 1, 4, 4), (1, 1, 3, 3), {"stride": (1, 2, 3)}, r"a tuple of 2 such ints, got \(1, 2, 3\)"),
    ((1, 1, 4, 4), (1, 1, 3, 3), {"padding": -1}, "padding must be an int >= 0"),
    ((1, 1, 4, 4), (1, 1, 3, 3), {"padding": "full"}, "padding must be an int, a tuple, 'valid'"),
    ((1, 1, 4, 4), (1, 1, 3, 3), {"padding": "same", "stride": 2}, "'same' needs stride 1"),
    ((1, 1, 4, 4), (1, 1, 3, 3), {"dilation": 0.5}, "dilation must be an int >= 1"),
    ((1, 1, 4, 4), (1, 1, 3, 3), {"groups": 0}, "groups must be a positive int"),
    ((1, 4, 4), (1, 1, 3, 3), {}, None),  # unbatched: fine
    ((1, 1, 1, 4, 4), (1, 1, 3, 3), {}, r"input must have shape \(N, C, H, W\)"),
    ((1, 1, 4, 4), (1, 3, 3), {}, r"weight must have shape \(out_channels, in_channels / groups"),
]


@pytest.mark.parametrize("x_shape, w_shape, kwargs, message", CONV_ERRORS)
def test_bad_convolutions_name_the_op_and_the_shapes(x_shape, w_shape, kwargs, message):
    x, w = tg.zeros(*x_shape), tg.zeros(*w_shape)
    if message is None:
        assert F.conv2d(x, w, **kwargs).shape == (1, 2, 2)
        return
    with pytest.raises(ValueError, match=f"conv2d: .*{message}"):
        F.conv2d(x, w, **kwargs)


def test_bias_and_dtype_errors():
    x, w = tg.zeros(1, 2, 4, 4), tg.zeros(3, 2, 3, 3)
    with pytest.raises(ValueError, match=r"conv2d: bias of shape \(2,\) does not fit weight"):
        F.conv2d(x, w, tg.zeros(2))
    with pytest.raises(TypeError, match="conv2d: input, weight and bias must have one dtype"):
        F.conv2d(x, w.astype(np.float64))
    with pytest.raises(ValueError, match=r"conv1d: input must have shape \(N, C, L\)"):
        F.conv1d(tg.zeros(1, 2, 3, 4), tg.zeros(3, 2, 2))


# ================================ pooling ====================================================


def test_max_pool_gives_a_tie_to_the_first_max_as_pytorch_does():
    x = np.array([[[[1.0, 3.0, 3.0], [3.0, 0.0, 2.0], [3.0, 1.0, 3.0]]]])
    _both(lambda t: F.max_pool2d(t, 2, stride=1), lambda t: TF.max_pool2d(t, 2, stride=1), x)
    ours = _t(x)
    F.max_pool2d(ours, 2, stride=1).sum().backward()
    # windows: [1 3 / 3 0], [3 3 / 0 2], [3 0 / 3 1], [0 2 / 1 3]: the first 3 wins each
    assert ours.grad.numpy()[0, 0].tolist() == [[0.0, 2.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]


def test_max_pool_propagates_nan_and_pads_with_minus_infinity():
    x = np.array([[[[1.0, np.nan], [-5.0, -6.0]]]])
    out = F.max_pool2d(tg.Tensor(x), 2)
    assert np.isnan(out.item())
    nans = np.array([[[[np.nan, 1.0, np.nan, 2.0], [0.0, np.nan, 3.0, 4.0]]]])
    for k, s in ((2, 2), (2, 1)):  # the gradient goes to the last NaN, as PyTorch's scan does
        _both(
            lambda t, k=k, s=s: F.max_pool2d(t, k, s),
            lambda t, k=k, s=s: TF.max_pool2d(t, k, s),
            nans,
        )
    neg = -np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    _both(lambda t: F.max_pool2d(t, 3, 1, padding=1), lambda t: TF.max_pool2d(t, 3, 1, 1), neg)


@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool_counts_the_padding_as_pytorch_does(count_include_pad):
    x = RNG.standard_normal((2, 3, 5, 4))
    kw = {"stride": (2, 1), "padding": (1, 1), "count_include_pad": count_include_pad}
    _both(lambda t: F.avg_pool2d(t, 3, **kw), lambda t: TF.avg_pool2d(t, 3, **kw), x)


def test_unbatched_and_overlapping_pooling_against_pytorch():
    x = RNG.standard_normal((3, 7, 6))
    _both(lambda t: F.max_pool2d(t, (3, 2), (1, 2), dilation=(2, 1)),
          lambda t: TF.max_pool2d(t, (3, 2), (1, 2), dilation=(2, 1)), x)  # fmt: skip
    _both(lambda t: F.avg_pool2d(t, 2, 1), lambda t: TF.avg_pool2d(t, 2, 1), x)


POOL_ERRORS = [
    ((1, 1, 4, 4), (2,), {"padding": 2}, r"padding \(2, 2\) must be at most half the kernel"),
    ((1, 1, 3, 3), (4,), {}, r"kernel \(4, 4\) .* larger than the padded input \(3, 3\)"),
    ((1, 1, 4, 4), (0,), {}, "kernel_size must be an int >= 1"),
    ((1, 1, 4, 4), (2,), {"stride": -1}, "stride must be an int >= 1"),
    ((4, 4), (2,), {}, r"input must have shape \(N, C, H, W\) or \(C, H, W\), got \(4, 4\)"),
]


@pytest.mark.parametrize("fn", [F.max_pool2d, F.avg_pool2d], ids=["max", "avg"])
@pytest.mark.parametrize("shape, args, kwargs, message", POOL_ERRORS)
def test_bad_pooling_names_the_op(fn, shape, args, kwargs, message):
    with pytest.raises(ValueError, match=f"{fn.__name__}: {message}"):
        fn(tg.zeros(*shape), *args, **kwargs)


def test_pooling_refuses_integers_and_count_include_pad_is_keyword_only():
    with pytest.raises(TypeError, match="max_pool2d: input must be floating point"):
        F.max_pool2d(tg.Tensor(np.zeros((1, 1, 2, 2), dtype=np.int64)), 2)
    with pytest.raises(TypeError):
        F.avg_pool2d(tg.zeros(1, 1, 2, 2), 2, 2, 0, False)  # PyTorch's 5th is ceil_mode


# ================================ padding ====================================================


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape, pad", [((2, 5), (2, 1)), ((1, 2, 4, 5), (1, 3, 2, 0)),
                                        ((2, 3, 4), (0, 2, 1, 1))])  # fmt: skip
def test_every_padding_mode_against_pytorch(mode, shape, pad):
    x = RNG.standard_normal(shape)
    _both(lambda t: F.pad(t, pad, mode=mode), lambda t: TF.pad(t, pad, mode=mode), x)


def test_constant_padding_crops_with_negative_widths_and_takes_a_value():
    x = RNG.standard_normal((2, 3, 4))
    pad = (-1, 2, 1, -2, 1, 0)
    _both(lambda t: F.pad(t, pad, value=0.5), lambda t: TF.pad(t, pad, value=0.5), x)


PAD_ERRORS = [
    ((2, 3), (1,), {}, ValueError, "pad must have an even length"),
    ((2, 3), (1, 1, 1, 1, 1, 1), {}, ValueError, r"3 \(before, after\) pairs for an input of"),
    ((2, 3), (-2, -2), {}, ValueError, "leaves axis 1 of input shape"),
    ((2, 3), (3, 0), {"mode": "reflect"}, ValueError, "reflect widths"),
    ((2, 3), (4, 0), {"mode": "circular"}, ValueError, "wrap around axis 1 of size 3 at most once"),
    ((2, 3), (-1, 0), {"mode": "replicate"}, ValueError, "crop only in mode 'constant'"),
    ((2, 3), (1, 1), {"mode": "reflect", "value": 1.0}, ValueError, "takes no value"),
    ((2, 3), (1, 1), {"mode": "mirror"}, ValueError, "mode must be one of"),
    ((3,), (1, 1), {"mode": "reflect"}, ValueError, "pads 1 axes of an input with 2 or 3 axes"),
    ((2, 3), (1.5, 1), {}, TypeError, "pad must be a sequence of ints"),
]


@pytest.mark.parametrize("shape, pad, kwargs, error, message", PAD_ERRORS)
def test_bad_padding_names_the_op(shape, pad, kwargs, error, message):
    with pytest.raises(error, match=f"pad: .*{message}"):
        F.pad(tg.zeros(*shape), pad, **kwargs)
