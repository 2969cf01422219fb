"""Convolution and pooling layers: ``Conv1d``, ``Conv2d``, ``MaxPool2d``, ``AvgPool2d``.

PyTorch's arguments, defaults, layouts (NCHW; weight (out_channels, in_channels / groups,
*kernel_size)) and initialisation. The layers hold the settings and parameters; the work is
the functional ops' (``F.conv1d``, ``F.conv2d``, ``F.max_pool2d``, ``F.avg_pool2d``), whose
errors come back prefixed with the layer that raised them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_np.nn import functional as F
from tinygrad_np.nn import init as nn_init
from tinygrad_np.nn.module import Module, Parameter
from tinygrad_np.ops.conv import conv_padding, flat_pad, ntuple
from tinygrad_np.tensor import DTypeLike, Tensor

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _Layer(Module):
    """Re-raises a functional op's ValueError with this layer's repr in front, so an error in
    the middle of a Sequential says which layer it came from."""

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Tensor:
        try:
            return fn(*args, **kwargs)
        except ValueError as error:
            raise ValueError(f"{self!r}: {error}") from error


class _ConvNd(_Layer):
    spatial = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: int | tuple[int, ...] | str = 0,
        dilation: int | tuple[int, ...] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        dtype: DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        name, n = type(self).__name__, self.spatial
        for what, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("groups", groups)):  # fmt: skip
            ntuple(name, what, value, 1, 1)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: groups={groups} must divide in_channels={in_channels} and "
                f"out_channels={out_channels}"
            )
        if padding_mode not in PADDING_MODES:
            raise ValueError(
                f"{name}: padding_mode must be one of {', '.join(map(repr, PADDING_MODES))}, "
                f"got {padding_mode!r}"
            )
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = ntuple(name, "kernel_size", kernel_size, n, 1)
        self.stride = ntuple(name, "stride", stride, n, 1)
        self.dilation = ntuple(name, "dilation", dilation, n, 1)
        self._pads = conv_padding(name, padding, self.kernel_size, self.stride, self.dilation)
        self.padding = padding if isinstance(padding, str) else tuple(lo for lo, _ in self._pads)
        self.groups, self.padding_mode = int(groups), padding_mode
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        self.bias = Parameter(np.empty(out_channels, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: weight and bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), with
        fan_in = in_channels / groups * prod(kernel_size) (its kaiming_uniform_ with a=sqrt(5)),
        drawn from the library's generator."""
        bound = 1.0 / math.sqrt(math.prod(self.weight.shape[1:]))
        nn_init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn_init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        n = self.spatial
        axes = "L" if n == 1 else "H, W"
        shape = getattr(x, "shape", ())
        if len(shape) not in (n + 1, n + 2) or shape[-n - 1] != self.in_channels:
            raise ValueError(
                f"{self!r}: expected input of shape (N, {self.in_channels}, {axes}) or "
                f"({self.in_channels}, {axes}), got {tuple(shape)}"
            )
        conv = F.conv2d if n == 2 else F.conv1d
        padding = self.padding
        if self.padding_mode != "zeros":  # pad first, then convolve without padding
            x = self._call(F.pad, x, flat_pad(self._pads), mode=self.padding_mode)
            padding = 0
        return self._call(conv, x, self.weight, self.bias, self.stride, padding, self.dilation,
                          self.groups)  # fmt: skip

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * self.spatial:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.spatial:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv2d(_ConvNd):
    """2-D convolution of (N, C, H, W) inputs (or unbatched (C, H, W)); ``weight`` has shape
    (out_channels, in_channels / groups, kH, kW) and ``bias`` (out_channels,).

    ``padding``: an int, a pair, 'valid' or 'same'; ``padding_mode``: 'zeros', 'reflect',
    'replicate' or 'circular'. Initialised as PyTorch does (``reset_parameters``).

    >>> import tinygrad_np as tg
    >>> conv = tg.nn.Conv2d(1, 4, 3, padding=1)
    >>> conv, conv.weight.shape, conv(tg.randn(2, 1, 8, 8)).shape
    (Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)), (4, 1, 3, 3), (2, 4, 8, 8))
    """

    spatial = 2


class Conv1d(_ConvNd):
    """1-D convolution of (N, C, L) inputs (or unbatched (C, L)); ``weight`` has shape
    (out_channels, in_channels / groups, k). Arguments as in ``Conv2d``.

    >>> import tinygrad_np as tg
    >>> tg.nn.Conv1d(2, 3, 5, stride=2)(tg.randn(4, 2, 11)).shape
    (4, 3, 4)
    """

    spatial = 1


class _Pool2d(_Layer):
    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None,
        padding: int | tuple[int, int],
        ceil_mode: bool,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        ntuple(name, "kernel_size", kernel_size, 2, 1)
        if stride is not None:
            ntuple(name, "stride", stride, 2, 1)
        ntuple(name, "padding", padding, 2, 0)
        _unsupported(name, "ceil_mode", ceil_mode, False)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride  # PyTorch's default
        self.padding = padding
        self.ceil_mode = False


def _unsupported(name: str, setting: str, value: Any, default: Any) -> None:
    if value != default:
        raise ValueError(f"{name}: {setting}={value!r} is not supported (only {default!r})")


class MaxPool2d(_Pool2d):
    """The maximum of each ``kernel_size`` window, windows ``stride`` apart (default: the
    kernel size); padding counts as -inf. Inputs (N, C, H, W) or (C, H, W).

    >>> import tinygrad_np as tg
    >>> tg.nn.MaxPool2d(2)(tg.arange(16.0).reshape(1, 1, 4, 4))[0, 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        ntuple("MaxPool2d", "dilation", dilation, 2, 1)
        _unsupported("MaxPool2d", "return_indices", return_indices, False)
        self.dilation = dilation
        self.return_indices = False

    def forward(self, x: Tensor) -> Tensor:
        return self._call(F.max_pool2d, x, self.kernel_size, self.stride, self.padding,
                          self.dilation)  # fmt: skip

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(_Pool2d):
    """The mean of each ``kernel_size`` window, windows ``stride`` apart (default: the kernel
    size); zero padding counts in the mean unless ``count_include_pad=False``.

    >>> import tinygrad_np as tg
    >>> tg.nn.AvgPool2d(2)(tg.arange(16.0).reshape(1, 1, 4, 4))[0, 0].tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        _unsupported("AvgPool2d", "divisor_override", divisor_override, None)
        self.count_include_pad = bool(count_include_pad)
        self.divisor_override = None

    def forward(self, x: Tensor) -> Tensor:
        return self._call(F.avg_pool2d, x, self.kernel_size, self.stride, self.padding,
                          count_include_pad=self.count_include_pad)  # fmt: skip

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
