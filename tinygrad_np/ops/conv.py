"""Convolution by im2col: unfold the input's windows, then one matrix product per group.

``Unfold`` is a view of every window a kernel sees, ``x[..., p*s + i*d, q*s + j*d]`` at
``[..., p, q, i, j]`` (no copy); ``Fold`` adds such windows back into an image, summing where
windows overlap (col2im). Each is the other's adjoint, so each one's backward is the other,
and both loop over kernel positions, never over pixels. A convolution copies the unfolded
windows once into a matrix of columns (one column per output pixel, one row per weight) and
multiplies it by the weights: its backward is two matrix products and a fold.
``docs/convolution.md`` draws the picture.
"""

from __future__ import annotations

import itertools
from math import prod
from typing import Any

from tinygrad_np.backend import array_module
from tinygrad_np.function import Function
from tinygrad_np.ops import tnp
from tinygrad_np.ops.common import as_tensor
from tinygrad_np.tensor import Tensor

Pairs = tuple[tuple[int, int], ...]

# ================================ arguments ==================================================


def _is_int(v: Any) -> bool:
    return hasattr(v, "__index__") and not isinstance(v, bool)


def ntuple(op: str, name: str, value: Any, n: int, minimum: int) -> tuple[int, ...]:
    """``value`` (an int, or a sequence of ``n`` ints) as an ``n``-tuple of ints >= minimum.

    >>> ntuple("conv2d", "stride", 2, 2, 1), ntuple("conv2d", "stride", (1, 3), 2, 1)
    ((2, 2), (1, 3))
    """
    items = (value,) * n if _is_int(value) else value
    if (
        isinstance(items, tuple | list)
        and len(items) == n
        and all(_is_int(v) and v >= minimum for v in items)
    ):
        return tuple(int(v) for v in items)
    raise ValueError(
        f"{op}: {name} must be an int >= {minimum} or a tuple of {n} such ints, got {value!r}"
    )


def output_size(
    op: str, shape: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...],
    pads: Pairs, dilation: tuple[int, ...],
) -> tuple[int, ...]:  # fmt: skip
    """The sizes of the output's last ``len(kernel)`` axes, or a ValueError when the kernel
    (spread by its dilation) does not fit the padded input."""
    size = shape[len(shape) - len(kernel) :]
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(size, pads))
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(s > n for s, n in zip(span, padded)):
        raise ValueError(
            f"{op}: kernel {kernel} with dilation {dilation} spans {span}, larger than the "
            f"padded input {padded} (input shape {tuple(shape)}, padding {pads})"
        )
    return tuple((n - s) // st + 1 for n, s, st in zip(padded, span, stride))


def conv_padding(
    op: str, padding: Any, kernel: tuple[int, ...], stride: tuple[int, ...],
    dilation: tuple[int, ...],
) -> Pairs:  # fmt: skip
    """PyTorch's ``padding`` (an int, one per axis, 'valid' or 'same') as (before, after) pairs.
    'same' puts the odd pixel after, as PyTorch does."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
            total = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return tuple((t // 2, t - t // 2) for t in total)
        raise ValueError(
            f"{op}: padding must be an int, a tuple, 'valid' or 'same', not {padding!r}"
        )
    return tuple((p, p) for p in ntuple(op, "padding", padding, n, 0))


def flat_pad(pads: Pairs) -> tuple[int, ...]:
    """(before, after) pairs of the last axes in ``tnp.pad``'s order: last axis first."""
    return tuple(w for pair in reversed(pads) for w in pair)


def crop(x: Any, pads: Pairs) -> Any:
    """``x`` without the padding ``pads`` on its last axes (a view; arrays and Tensors)."""
    if not any(lo or hi for lo, hi in pads):
        return x
    lead = (slice(None),) * (x.ndim - len(pads))
    return x[lead + tuple(slice(lo, n - hi) for (lo, hi), n in zip(pads, x.shape[-len(pads) :]))]


# ================================ unfold and fold ============================================


class Unfold(Function):
    """z[..., p, q, i, j] = x[..., p*sh + i*dh, q*sw + j*dw] (a view of every window);
    dz/dx = fold(g): each window's gradient added back where it was read"""

    @staticmethod
    def sample(draw):
        n = draw.choice([2, 1])
        kernel = tuple(draw.integer(1, 3) for _ in range(n))
        stride = tuple(draw.integer(1, 2) for _ in range(n))
        dilation = tuple(draw.integer(1, 2) for _ in range(n))
        size = tuple(d * (k - 1) + 1 + draw.integer(0, 3) for k, d in zip(kernel, dilation))
        x = draw.array((draw.integer(1, 2), draw.integer(1, 2)) + size)
        return [x], {"kernel_size": kernel, "stride": stride, "dilation": dilation}

    @staticmethod
    def torch(torch, x, kernel_size, stride, dilation):
        n = len(kernel_size)
        for axis, k, s, d in zip(range(x.ndim - n, x.ndim), kernel_size, stride, dilation):
            x = x.unfold(axis, d * (k - 1) + 1, s)  # the window becomes the last axis
        return x[(Ellipsis,) + tuple(slice(None, None, d) for d in dilation)]

    @staticmethod
    def forward(ctx, x, kernel_size, stride, dilation):
        n = len(kernel_size)
        output_size("unfold", x.shape, kernel_size, stride, ((0, 0),) * n, dilation)
        ctx.size, ctx.args = x.shape[x.ndim - n :], (kernel_size, stride, dilation)
        span = tuple(d * (k - 1) + 1 for k, d in zip(kernel_size, dilation))
        axes = tuple(range(x.ndim - n, x.ndim))
        windows = array_module(x).lib.stride_tricks.sliding_window_view(x, span, axis=axes)
        steps = tuple(slice(None, None, s) for s in stride + dilation)
        return windows[(Ellipsis,) + steps]

    @staticmethod
    def backward(ctx, g):
        return tnp.fold(g, ctx.size, *ctx.args)


class Fold(Function):
    """z = zeros(size) with each window of g added where unfold read it (col2im);
    dz/dg = unfold(g)"""

    @staticmethod
    def sample(draw):
        (x,), kwargs = Unfold.sample(draw)
        cols = Unfold.forward(Unfold(), x, **kwargs)
        return [draw.array(cols.shape)], {"size": x.shape[2:], **kwargs}

    @staticmethod
    def torch(torch, cols, size, kernel_size, stride, dilation):
        n = len(kernel_size)
        if n == 1:  # torch's fold is 2-D only: give the image a height of 1
            cols, size = cols[..., None, :, None, :], (1, *size)
            kernel_size, stride, dilation = (1, *kernel_size), (1, *stride), (1, *dilation)
        lead, windows = cols.shape[:2], cols.shape[2:4]
        flat = cols.permute(0, 1, 4, 5, 2, 3).reshape(lead[0], -1, prod(windows))
        z = torch.nn.functional.fold(flat, size, kernel_size, dilation=dilation, stride=stride)
        return z[:, :, 0] if n == 1 else z

    @staticmethod
    def forward(ctx, cols, size, kernel_size, stride, dilation):
        n = len(kernel_size)
        lead, windows = cols.shape[: cols.ndim - 2 * n], cols.shape[cols.ndim - 2 * n : -n]
        expected = output_size("fold", size, kernel_size, stride, ((0, 0),) * n, dilation)
        if windows != expected or cols.shape[-n:] != tuple(kernel_size):
            raise ValueError(
                f"fold: columns of shape {cols.shape} do not fit an image of size {tuple(size)} "
                f"(kernel {kernel_size}, stride {stride}, dilation {dilation} give windows "
                f"{expected} and expect shape (..., *{expected}, *{tuple(kernel_size)}))"
            )
        ctx.args = (kernel_size, stride, dilation)
        # Windows that never overlap (pooling) are written, not added; if they also cover
        # every pixel, the image needs no zeros first.
        apart = all(d == 1 and s >= k for k, s, d in zip(kernel_size, stride, dilation))
        cover = apart and all(side == w * k == w * s for side, w, k, s in
                              zip(size, windows, kernel_size, stride))  # fmt: skip
        xp = array_module(cols)
        z = (xp.empty if cover else xp.zeros)(lead + tuple(size), dtype=cols.dtype)
        # One strided add per kernel position (25 for a 5x5 kernel), each over every window
        # at once: the kernel element at `pos` read every stride-th pixel from pos * dilation.
        for pos in itertools.product(*(range(k) for k in kernel_size)):
            target = (Ellipsis,) + tuple(
                slice(p * d, p * d + s * (w - 1) + 1, s)
                for p, d, s, w in zip(pos, dilation, stride, windows)
            )
            if apart:
                z[target] = cols[(Ellipsis,) + pos]
            else:
                z[target] += cols[(Ellipsis,) + pos]
        return z

    @staticmethod
    def backward(ctx, g):
        return tnp.unfold(g, *ctx.args)


# ================================ convolution ================================================


def _check_conv(op: str, n: int, x: Any, weight: Any, bias: Any, groups: Any) -> None:
    axes = ("L",) if n == 1 else ("H", "W")
    if x.ndim != n + 2:
        raise ValueError(f"{op}: input must have shape (N, C, {', '.join(axes)}), got {x.shape}")
    if weight.ndim != n + 2:
        kernel = ", ".join(f"k{a}" for a in axes)
        raise ValueError(
            f"{op}: weight must have shape (out_channels, in_channels / groups, {kernel}), "
            f"got {weight.shape}"
        )
    if not _is_int(groups) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    c, o = x.shape[1], weight.shape[0]
    if c % groups or o % groups:
        raise ValueError(
            f"{op}: groups={groups} must divide both in_channels={c} and out_channels={o} "
            f"(input {x.shape}, weight {weight.shape})"
        )
    if weight.shape[1] * groups != c:
        raise ValueError(
            f"{op}: weight {weight.shape} with groups={groups} expects input with "
            f"{weight.shape[1] * groups} channels, got input of shape {x.shape}"
        )
    if bias is not None and bias.shape != (o,):
        raise ValueError(f"{op}: bias of shape {bias.shape} does not fit weight {weight.shape} "
                         f"(expected ({o},))")  # fmt: skip
    dtypes = {a.dtype for a in (x, weight, bias) if a is not None}
    if len(dtypes) > 1:
        names = ", ".join(f"{a.dtype}" for a in (x, weight, bias) if a is not None)
        raise TypeError(f"{op}: input, weight and bias must have one dtype, got {names}")


def im2col(x: Any, kernel: tuple, stride: tuple, pads: Pairs, dilation: tuple, groups: int):
    """(N, C, *size) -> columns (groups, C/groups * prod(kernel), N * prod(out)), a copy laid
    out for one matrix product per group (rows: channel then kernel position; columns: batch
    then output pixel). Arrays and Tensors alike."""
    n = len(kernel)
    if any(lo or hi for lo, hi in pads):
        x = tnp.pad(x, flat_pad(pads))
    windows = tnp.unfold(x, kernel, stride, dilation)  # (N, C, *out, *kernel), a view
    order = (1, *range(2 + n, 2 + 2 * n), 0, *range(2, 2 + n))  # (C, *kernel, N, *out)
    cols = windows.transpose(order)
    rows = cols.shape[0] // groups * prod(kernel)  # named, not -1: an empty batch is fine
    return cols.reshape((groups, rows, prod(cols.shape[n + 1 :])))


class Conv2d(Function):
    """z[n, o] = b[o] + sum over c, i, j of w[o, c, i, j] x[n, c, p*s + i*d, q*s + j*d]
    (x padded; channels split in groups): columns = im2col(x), z = w @ columns;
    dz/dw = g @ columns^T,  dz/dx = fold(w^T @ g),  dz/db = g summed over batch and pixels"""

    name = "conv2d"
    spatial = 2  # axes after (N, C) the kernel slides over
    torch = "conv2d"

    @classmethod
    def sample(cls, draw):
        n = cls.spatial
        groups = draw.choice([1, 2])
        c, o = groups * draw.integer(1, 2), groups * draw.integer(1, 2)
        kernel = tuple(draw.integer(1, 3) for _ in range(n))
        stride = draw.choice([1, tuple(draw.integer(1, 2) for _ in range(n))])
        dilation = draw.choice([1, tuple(draw.integer(1, 2) for _ in range(n))])
        padding = draw.choice([0, tuple(draw.integer(0, 2) for _ in range(n)), "same"])
        if padding == "same":
            stride = 1
        d = (dilation,) * n if isinstance(dilation, int) else dilation
        size = tuple(di * (k - 1) + 1 + draw.integer(0, 3) for k, di in zip(kernel, d))
        x = draw.array((draw.integer(1, 2), c) + size)
        w = draw.array((o, c // groups) + kernel)
        arrays = [x, w] + draw.choice([[draw.array((o,))], []])
        kwargs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
        return arrays, kwargs

    @classmethod
    def forward(cls, ctx, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        op, n = cls.name, cls.spatial
        _check_conv(op, n, x, weight, bias, groups)
        kernel = weight.shape[2:]
        stride = ntuple(op, "stride", stride, n, 1)
        dilation = ntuple(op, "dilation", dilation, n, 1)
        pads = conv_padding(op, padding, kernel, stride, dilation)
        out = output_size(op, x.shape, kernel, stride, pads, dilation)
        ctx.geometry, ctx.x_shape = (kernel, stride, pads, dilation, groups), x.shape
        cols = im2col(x, kernel, stride, pads, dilation, groups)
        o = weight.shape[0]
        z = (weight.reshape((groups, o // groups, cols.shape[1])) @ cols).reshape(
            (o, x.shape[0]) + out
        )
        if bias is not None:
            z += bias.reshape((o,) + (1,) * (n + 1))  # z is fresh: add in place
        ctx.save_for_backward(weight, cols)
        return z.swapaxes(0, 1)  # (N, O, *out): a view, as the product gave (O, N, *out)

    @staticmethod
    def recompute(ctx, k, x, weight, bias=None):
        return im2col(x, *ctx.geometry)  # saved value 1, the columns

    @staticmethod
    def backward(ctx, g):
        weight, cols = ctx.saved_tensors
        kernel, stride, pads, dilation, groups = ctx.geometry
        needs, n, o = ctx.needs_input_grad, len(kernel), weight.shape[0]
        gk = g.swapaxes(0, 1).reshape((groups, o // groups, cols.shape[2]))  # (G, O/G, N*L)
        gw = (gk @ cols.swapaxes(-1, -2)).reshape(weight.shape) if needs[1] else None
        gx = None
        if needs[0]:
            gcols = weight.reshape((groups, o // groups, cols.shape[1])).swapaxes(-1, -2) @ gk
            batch, c = ctx.x_shape[:2]
            gcols = gcols.reshape((c, *kernel, batch, *g.shape[2:]))  # as im2col laid it out
            windows = gcols.transpose((n + 1, 0, *range(n + 2, 2 * n + 2), *range(1, n + 1)))
            size = tuple(s + lo + hi for s, (lo, hi) in zip(ctx.x_shape[2:], pads))
            gx = crop(tnp.fold(windows, size, kernel, stride, dilation), pads)
        if len(needs) == 2:
            return gx, gw
        gb = g.sum(axis=(0, *range(2, n + 2))) if needs[2] else None
        return gx, gw, gb


class Conv1d(Conv2d):
    """z[n, o, p] = b[o] + sum over c, i of w[o, c, i] x[n, c, p*s + i*d] (x padded, grouped):
    columns = im2col(x), z = w @ columns;  dz/dw = g @ columns^T,  dz/dx = fold(w^T @ g)"""

    name = "conv1d"
    spatial = 1
    torch = "conv1d"
    sample = classmethod(Conv2d.sample.__func__)  # the same draws, in one spatial axis


# ================================ the functions ==============================================


def _one(x: Tensor, fn: Any) -> Tensor:
    """``fn`` of an unbatched input (C, *size), run as a batch of one, as PyTorch does."""
    z = fn(x.reshape((1, *x.shape)))
    return z.reshape(z.shape[1:])


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (PyTorch's cross-correlation) of ``input`` (N, C, H, W) or (C, H, W)
    with ``weight`` (out_channels, C / groups, kH, kW), plus ``bias`` (out_channels,).

    ``padding`` is zeros on both sides (an int, a pair, 'valid' or 'same').

    >>> import tinygrad_np as tg
    >>> x = tg.ones(1, 1, 4, 4)
    >>> conv2d(x, tg.ones(2, 1, 3, 3), padding=1).shape
    (1, 2, 4, 4)
    >>> conv2d(x, tg.ones(1, 1, 3, 3))[0, 0].tolist()
    [[9.0, 9.0], [9.0, 9.0]]
    """
    return _conv(Conv2d, input, weight, bias, stride, padding, dilation, groups)


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] | str = 0,
    dilation: int | tuple[int] = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution of ``input`` (N, C, L) or (C, L) with ``weight`` (out_channels,
    C / groups, k), plus ``bias`` (out_channels,); arguments as in ``conv2d``.

    >>> import tinygrad_np as tg
    >>> conv1d(tg.ones(1, 1, 5), tg.ones(1, 1, 3), stride=2).tolist()
    [[[3.0, 3.0]]]
    """
    return _conv(Conv1d, input, weight, bias, stride, padding, dilation, groups)


def _conv(op, input, weight, bias, stride, padding, dilation, groups) -> Tensor:
    x, weight = as_tensor(input), as_tensor(weight)
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    args = (weight,) if bias is None else (weight, as_tensor(bias))
    if x.ndim == op.spatial + 1:  # unbatched
        return _one(x, lambda xb: op.apply(xb, *args, **kwargs))
    return op.apply(x, *args, **kwargs)
