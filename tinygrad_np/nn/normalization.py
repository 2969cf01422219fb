"""Normalisation: ``batch_norm`` and ``layer_norm`` and the layers ``BatchNorm1d``,
``BatchNorm2d`` and ``LayerNorm`` (PyTorch's arguments, defaults and train/eval behaviour).

Both functions are composites of Tensor ops (mean, subtract, multiply, sqrt, divide), so their
gradients - with respect to the input, the weight and the bias - come from the engine. The
running statistics are buffers, updated in place outside the graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_np.backend import array_module
from tinygrad_np.nn import init as nn_init
from tinygrad_np.nn.module import Module, Parameter
from tinygrad_np.ops.common import as_tensor
from tinygrad_np.tensor import DTypeLike, Tensor

# ================================ functions ==================================================


def _float_input(name: str, x: Any) -> Tensor:
    x = as_tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: input must be floating point, got dtype {x.dtype}")
    return x


def _check_per_channel(name: str, what: str, t: Any, x: Tensor, channels: int) -> None:
    if t is not None and tuple(t.shape) != (channels,):
        raise ValueError(
            f"{name}: {what} of shape {tuple(t.shape)} does not fit input of shape {x.shape} "
            f"(expected ({channels},), one value per channel of axis 1)"
        )


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel (axis 1) of ``input`` (N, C, ...) to zero mean and unit variance,
    then scale by ``weight`` and shift by ``bias`` (each (C,), optional).

    ``training``: normalise with the batch's statistics (the biased variance, over every axis
    but 1), and, when running statistics are given, update them in place:
    ``running = (1 - momentum) * running + momentum * batch`` with the *unbiased* batch
    variance, as PyTorch does. Otherwise normalise with ``running_mean``/``running_var``.

    >>> import numpy as np, tinygrad_np as tg
    >>> x = tg.tensor([[1.0, 10.0], [3.0, 30.0]])
    >>> mean, var = tg.zeros(2), tg.ones(2)
    >>> batch_norm(x, mean, var, training=True, eps=0.0)
    Tensor([[-1., -1.],
            [ 1.,  1.]], dtype=float32)
    >>> mean.numpy().round(4), var.numpy().round(4)  # 0.9 old + 0.1 batch (unbiased var)
    (array([0.2, 2. ], dtype=float32), array([ 1.1, 20.9], dtype=float32))
    """
    name = "batch_norm"
    x = _float_input(name, input)
    if x.ndim < 2:
        raise ValueError(f"{name}: input must have shape (N, C, ...), got {x.shape}")
    channels = x.shape[1]
    for what, t in (("running_mean", running_mean), ("running_var", running_var)):
        _check_per_channel(name, what, t, x, channels)
    _check_per_channel(name, "weight", weight, x, channels)
    _check_per_channel(name, "bias", bias, x, channels)
    shape = (1, channels) + (1,) * (x.ndim - 2)  # per-channel values broadcast along axis 1
    xp = array_module(x.data)
    if training:
        count = x.size // max(channels, 1)
        if count <= 1:
            raise ValueError(
                f"{name}: expected more than 1 value per channel when training, got input of "
                f"shape {x.shape} (a batch of one has no variance; use eval() or a bigger batch)"
            )
        axes = (0, *range(2, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        var = (centered * centered).mean(axis=axes, keepdims=True)
        x_hat = centered / (var + eps).sqrt()
        _update_running(running_mean, mean.data, momentum)
        _update_running(running_var, var.data * (count / (count - 1)), momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                f"{name}: running_mean and running_var are needed when not training "
                "(pass training=True to normalise with the batch's statistics)"
            )
        mean = xp.asarray(running_mean.data, dtype=x.dtype).reshape(shape)
        inv_std = 1 / xp.sqrt(xp.asarray(running_var.data, dtype=x.dtype) + eps)
        x_hat = (x - mean) * inv_std.reshape(shape)  # running statistics are constants here
    if weight is not None:
        x_hat = x_hat * as_tensor(weight).reshape(shape)
    if bias is not None:
        x_hat = x_hat + as_tensor(bias).reshape(shape)
    return x_hat


def _update_running(buffer: Tensor | None, batch: Any, momentum: float) -> None:
    if buffer is not None:  # in place: the buffer's array stays the one state_dict saw
        flat = batch.reshape(-1)
        buffer.data[...] = (1 - momentum) * buffer.data + momentum * flat.astype(buffer.dtype)


def layer_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` axes of each sample (biased variance),
    then scale by ``weight`` and shift by ``bias`` (each of ``normalized_shape``, optional).

    >>> import tinygrad_np as tg
    >>> layer_norm(tg.tensor([[1.0, 3.0], [0.0, 10.0]]), 2, eps=0.0)
    Tensor([[-1.,  1.],
            [-1.,  1.]], dtype=float32)
    """
    name = "layer_norm"
    x = _float_input(name, input)
    normalized = _shape_tuple(name, normalized_shape)
    k = len(normalized)
    if x.shape[x.ndim - k :] != normalized or x.ndim < k:
        raise ValueError(
            f"{name}: input of shape {x.shape} does not end in normalized_shape {normalized}"
        )
    for what, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != normalized:
            raise ValueError(
                f"{name}: {what} of shape {tuple(t.shape)} does not match normalized_shape "
                f"{normalized}"
            )
    axes = tuple(range(x.ndim - k, x.ndim))
    centered = x - x.mean(axis=axes, keepdims=True)
    var = (centered * centered).mean(axis=axes, keepdims=True)
    out = centered / (var + eps).sqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def _shape_tuple(name: str, shape: int | Sequence[int]) -> tuple[int, ...]:
    items = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
    if not items or any(isinstance(n, bool) or int(n) != n or n < 1 for n in items):
        raise ValueError(
            f"{name}: normalized_shape must be a positive int or a non-empty sequence of them, "
            f"got {shape!r}"
        )
    return tuple(int(n) for n in items)


# ================================ layers =====================================================


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; they differ in the input ranks they accept."""

    _ranks: tuple[int, ...] = ()
    _layout = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        kind = type(self).__name__
        if isinstance(num_features, bool) or int(num_features) != num_features or num_features < 1:
            raise ValueError(f"{kind}: num_features must be a positive int, got {num_features!r}")
        if eps <= 0:
            raise ValueError(f"{kind}: eps must be > 0, got {eps}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{kind}: momentum must be in [0, 1] or None, got {momentum}")
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        if affine:
            self.weight = nn_init.ones_(Parameter(np.empty(num_features, dtype=dtype)))
            self.bias = nn_init.zeros_(Parameter(np.empty(num_features, dtype=dtype)))
        else:
            self.weight = self.bias = None
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            for buffer in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(buffer, None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def forward(self, x: Tensor) -> Tensor:
        kind = type(self).__name__
        x = as_tensor(x)
        if x.ndim not in self._ranks:
            raise ValueError(f"{kind}: expected input of shape {self._layout}, got {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{kind}: input of shape {x.shape} has {x.shape[1]} channels (axis 1), but the "
                f"layer was built with num_features={self.num_features}"
            )
        if self.training and x.size // self.num_features <= 1:  # checked before counting it
            raise ValueError(
                f"{kind}: expected more than 1 value per channel when training, got input of "
                f"shape {x.shape} (a batch of one has no variance; use eval() or a bigger batch)"
            )
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data[...] += 1
            if self.momentum is None:  # a cumulative average of every batch seen
                factor = 1.0 / float(self.num_batches_tracked.data)
        # Batch statistics while training, or always when no running statistics are kept.
        use_batch = self.training or self.running_mean is None
        keep = not self.training or self.track_running_stats
        return batch_norm(
            x,
            self.running_mean if keep else None,
            self.running_var if keep else None,
            self.weight,
            self.bias,
            use_batch,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs over the batch (and length) axes.

    ``weight`` starts at 1 and ``bias`` at 0; the buffers ``running_mean`` (0),
    ``running_var`` (1) and ``num_batches_tracked`` (int64) are saved in ``state_dict``.
    Training mode normalises with the batch's biased variance and updates the running
    statistics with the unbiased one (``momentum=None``: a cumulative average); eval mode
    normalises with the running statistics. As in PyTorch.

    >>> import tinygrad_np as tg
    >>> bn = tg.nn.BatchNorm1d(3)
    >>> bn(tg.randn(8, 3)).shape, [name for name, _ in bn.named_buffers()]
    ((8, 3), ['running_mean', 'running_var', 'num_batches_tracked'])
    """

    _ranks = (2, 3)
    _layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs over the batch and both spatial axes
    (``BatchNorm1d`` says how training and eval differ).

    >>> import tinygrad_np as tg
    >>> tg.nn.BatchNorm2d(4)(tg.randn(2, 4, 5, 5)).shape
    (2, 4, 5, 5)
    """

    _ranks = (4,)
    _layout = "(N, C, H, W)"


class LayerNorm(Module):
    """Normalise each sample over its last axes (``normalized_shape``), then apply an
    elementwise ``weight`` (ones) and ``bias`` (zeros) of that shape; the same in train and
    eval mode.

    >>> import tinygrad_np as tg
    >>> norm = tg.nn.LayerNorm(4)
    >>> norm(tg.randn(2, 3, 4)).shape, norm.weight.shape
    ((2, 3, 4), (4,))
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        self.normalized_shape = _shape_tuple("LayerNorm", normalized_shape)
        if eps <= 0:
            raise ValueError(f"LayerNorm: eps must be > 0, got {eps}")
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        self.weight = self.bias = None
        if elementwise_affine:
            self.weight = nn_init.ones_(Parameter(np.empty(self.normalized_shape, dtype=dtype)))
            if bias:
                self.bias = nn_init.zeros_(Parameter(np.empty(self.normalized_shape, dtype=dtype)))

    def forward(self, x: Tensor) -> Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )
