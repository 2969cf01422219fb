"""Pooling over the windows ``Unfold`` gives: the largest value, or the mean, of each window.

Backward hands each window's gradient to the elements it came from and ``Fold`` adds the
windows back into an image, so overlapping windows (stride below the kernel) add up.
"""

from __future__ import annotations

import itertools
from typing import Any

from tinygrad_np.backend import array_module
from tinygrad_np.function import Function
from tinygrad_np.ops import tnp
from tinygrad_np.ops.common import as_tensor
from tinygrad_np.ops.conv import Unfold, crop, ntuple, output_size
from tinygrad_np.ops.pad import pad_array
from tinygrad_np.tensor import Tensor


def _geometry(op: str, x: Any, kernel_size: Any, stride: Any, padding: Any, dilation: Any):
    """Checked (kernel, stride, pads, dilation, out) of a 2-D pooling of ``x``."""
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: input must have shape (N, C, H, W) or (C, H, W), got {x.shape}")
    kernel = ntuple(op, "kernel_size", kernel_size, 2, 1)
    empty = stride is None or (isinstance(stride, tuple | list) and not stride)
    stride = kernel if empty else ntuple(op, "stride", stride, 2, 1)
    dilation = ntuple(op, "dilation", dilation, 2, 1)
    pad = ntuple(op, "padding", padding, 2, 0)
    # PyTorch's rule, which keeps any window from lying entirely in the padding
    limit = tuple(k // 2 for k in kernel)
    if any(p > h for p, h in zip(pad, limit)):
        raise ValueError(
            f"{op}: padding {pad} must be at most half the kernel {kernel}, that is at most {limit}"
        )
    pads = tuple((p, p) for p in pad)
    out = output_size(op, x.shape, kernel, stride, pads, dilation)
    return kernel, stride, pads, dilation, out


def _windows(x: Any, value: float, kernel, stride, pads, dilation) -> Any:
    """(..., H, W) -> (..., out_h, out_w, kh, kw): the windows of ``x`` padded with ``value``."""
    if any(lo for lo, _ in pads):
        x = pad_array(x, ((0, 0),) * (x.ndim - 2) + pads, value)
    return Unfold.forward(Unfold(), x, kernel, stride, dilation)


def _sample(draw, dilation: int = 1):
    kernel = (draw.integer(1, 3), draw.integer(1, 3))
    stride = draw.choice([None, (draw.integer(1, 3), draw.integer(1, 2))])
    span = tuple(dilation * (k - 1) + 1 for k in kernel)
    padding = tuple(draw.integer(0, k // 2) for k in kernel)
    size = tuple(s + draw.integer(0, 3) for s in span)
    shape = draw.choice([(draw.integer(1, 2), draw.integer(1, 2)), (2,)]) + size
    kwargs = {"kernel_size": kernel, "stride": stride, "padding": draw.choice([0, padding])}
    return [draw.array(shape, distinct=True)], kwargs


class MaxPool2d(Function):
    """z = the largest value of each window (padding counts as -inf);
    dz/dx = g at the window's first largest element (PyTorch's rule for ties), 0 elsewhere"""

    name = "max_pool2d"
    torch = staticmethod(lambda torch, x, **kw: torch.nn.functional.max_pool2d(x, **kw))

    @staticmethod
    def sample(draw):
        dilation = draw.choice([1, 2])
        arrays, kwargs = _sample(draw, dilation)
        return arrays, {**kwargs, "dilation": dilation}

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0, dilation=1):
        if x.dtype.kind != "f":
            raise TypeError(f"max_pool2d: input must be floating point, got {x.dtype}")
        geometry = _geometry("max_pool2d", x, kernel_size, stride, padding, dilation)
        kernel, stride, pads, dilation, out = geometry
        windows = _windows(x, float("-inf"), kernel, stride, pads, dilation)
        xp = array_module(x)
        positions = list(itertools.product(*map(range, kernel)))
        seen = [windows[(Ellipsis,) + pos] for pos in positions]  # each kernel element's view
        z = seen[0].copy()
        for candidate in seen[1:]:  # one maximum per kernel position over every window
            xp.maximum(z, candidate, out=z)  # NaN propagates, as in PyTorch
        # Which element takes each window's gradient: the first largest (PyTorch's rule).
        chosen = xp.empty(kernel + z.shape, dtype=bool)
        taken = xp.zeros(z.shape, dtype=bool)
        for pos, candidate in zip(positions, seen):
            hit = candidate == z
            xp.greater(hit, taken, out=chosen[pos])  # hit and not taken before
            taken |= hit
        if not taken.all().item():  # a window nothing equals: its maximum is NaN, and
            for pos, candidate in reversed(list(zip(positions, seen))):  # PyTorch's scan
                last = xp.isnan(candidate) & ~taken  # ends on the last NaN it meets
                chosen[pos] |= last
                taken |= last
        ctx.geometry, ctx.shape = geometry, x.shape
        ctx.save_for_backward(chosen)  # a constant mask, freed after backward
        return z

    @staticmethod
    def backward(ctx, g):
        kernel, stride, pads, dilation, out = ctx.geometry
        (chosen,) = ctx.saved_tensors
        n = chosen.ndim - 2
        cols = (g * chosen).transpose((*range(2, n + 2), 0, 1))  # (..., out, kh, kw)
        size = tuple(n + lo + hi for n, (lo, hi) in zip(ctx.shape[-2:], pads))
        return crop(tnp.fold(cols, size, kernel, stride, dilation), pads)


class AvgPool2d(Function):
    """z = the mean of each window (padding counts as zeros when count_include_pad, as in
    PyTorch; else the mean of the input's elements only);  dz/dx = g / count, spread over
    each window"""

    name = "avg_pool2d"
    torch = staticmethod(lambda torch, x, **kw: torch.nn.functional.avg_pool2d(x, **kw))

    @staticmethod
    def sample(draw):
        arrays, kwargs = _sample(draw)
        return arrays, {**kwargs, "count_include_pad": draw.choice([True, False])}

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0, count_include_pad=True):
        if x.dtype.kind != "f":
            raise TypeError(f"avg_pool2d: input must be floating point, got {x.dtype}")
        kernel, stride, pads, dilation, out = _geometry(
            "avg_pool2d", x, kernel_size, stride, padding, 1
        )
        total = _windows(x, 0.0, kernel, stride, pads, dilation).sum(axis=(-2, -1))
        if count_include_pad or not any(lo for lo, _ in pads):
            scale = 1.0 / (kernel[0] * kernel[1])  # a Python float keeps g's dtype
        else:  # how many of each window's elements are the input's: a window of ones
            ones = array_module(x).ones(x.shape[-2:], dtype=x.dtype)
            scale = 1 / _windows(ones, 0.0, kernel, stride, pads, dilation).sum(axis=(-2, -1))
        ctx.geometry, ctx.shape = (kernel, stride, pads, dilation), x.shape
        ctx.save_for_backward(scale)  # 1 / count: a constant (it depends on shapes only)
        return total * scale

    @staticmethod
    def recompute(ctx, k, x):
        return ctx.saved[k]  # 1 / count depends on shapes only: a constant of the graph

    @staticmethod
    def backward(ctx, g):
        kernel, stride, pads, dilation = ctx.geometry
        (scale,) = ctx.saved_tensors
        size = tuple(n + lo + hi for n, (lo, hi) in zip(ctx.shape[-2:], pads))
        share = (g * scale).reshape(g.shape + (1, 1))
        cols = tnp.broadcast_to(share, g.shape + kernel)
        return crop(tnp.fold(cols, size, kernel, stride, dilation), pads)


def max_pool2d(
    input: Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> Tensor:
    """The largest value of each ``kernel_size`` window of ``input`` (N, C, H, W) or (C, H, W),
    windows ``stride`` apart (default: the kernel size); ``padding`` counts as -inf.

    >>> import tinygrad_np as tg
    >>> max_pool2d(tg.arange(16.0).reshape(1, 1, 4, 4), 2)[0, 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    """
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation}
    return MaxPool2d.apply(as_tensor(input), kernel_size=kernel_size, **kwargs)


def avg_pool2d(
    input: Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    *,
    count_include_pad: bool = True,
) -> Tensor:
    """The mean of each ``kernel_size`` window of ``input`` (N, C, H, W) or (C, H, W), windows
    ``stride`` apart (default: the kernel size); zero ``padding`` counts in the mean unless
    ``count_include_pad=False``.

    >>> import tinygrad_np as tg
    >>> avg_pool2d(tg.arange(16.0).reshape(1, 1, 4, 4), 2)[0, 0].tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """
    kwargs = {"stride": stride, "padding": padding, "count_include_pad": count_include_pad}
    return AvgPool2d.apply(as_tensor(input), kernel_size=kernel_size, **kwargs)
