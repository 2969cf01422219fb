"""Activations, dropout and losses as plain functions (``import tinygrad_np.nn.functional as F``).

Each function applies an op or is written with Tensor ops, so its gradient comes from the
engine. The modules in ``activations.py``, ``layers.py`` and ``losses.py`` call these: one
place per idea (a Tensor method such as ``x.relu()`` applies the same op). Convolution,
pooling, padding and the smooth activations (GELU, ELU, SELU, SiLU, softplus) are defined
beside their ops (``tinygrad_np.ops.conv``, ``ops.pool``, ``ops.pad``, ``ops.activations``)
and offered here under PyTorch's names; ``batch_norm``, ``layer_norm`` and ``embedding`` live
beside their layers (``normalization.py``, ``embedding.py``) and are re-exported here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_np import ops
from tinygrad_np._arrays import to_numpy
from tinygrad_np._checks import check_numeric
from tinygrad_np.backend import is_array
from tinygrad_np.nn.embedding import embedding as embedding
from tinygrad_np.nn.normalization import batch_norm as batch_norm
from tinygrad_np.nn.normalization import layer_norm as layer_norm
from tinygrad_np.ops import check_class_targets, check_reduction
from tinygrad_np.ops.activations import elu, gelu, selu, silu, softplus  # noqa: F401
from tinygrad_np.ops.conv import conv1d, conv2d  # noqa: F401
from tinygrad_np.ops.pad import pad  # noqa: F401
from tinygrad_np.ops.pool import avg_pool2d, max_pool2d  # noqa: F401
from tinygrad_np.rng import get_rng
from tinygrad_np.tensor import Tensor

# Probabilities are kept this far from 0 and 1 so log() stays finite (the NNFS book's choice).
PROBABILITY_CLIP = 1e-7


# ================================ activations ================================================


def relu(x: Tensor) -> Tensor:
    """max(x, 0) elementwise.

    >>> import tinygrad_np as tg
    >>> relu(tg.tensor([-1.0, 2.0]))
    Tensor([0., 2.], dtype=float32)
    """
    return ops.Relu.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else ``negative_slope * x``.

    >>> import tinygrad_np as tg
    >>> leaky_relu(tg.tensor([-1.0, 2.0]), 0.1)
    Tensor([-0.1,  2. ], dtype=float32)
    """
    return ops.where(x.data > 0, x, x * negative_slope)


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + exp(-x)), computed without overflow for large |x|."""
    return ops.Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return ops.Tanh.apply(x)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``, shifted by the max so exp never overflows.

    >>> import tinygrad_np as tg
    >>> softmax(tg.tensor([[0.0, 0.0]]))
    Tensor([[0.5, 0.5]], dtype=float32)
    """
    return ops.Softmax.apply(x, axis=axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """log(softmax(x)) by log-sum-exp: finite even where softmax underflows to 0."""
    return ops.LogSoftmax.apply(x, axis=axis)


# ================================ layers =====================================================


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight + bias, with ``weight`` of shape (in, out) as in the NNFS book, as one fused
    op (``tinygrad_np.ops.linear``).

    (PyTorch's ``F.linear`` takes its weight as (out, in); pass ``weight.T`` to compare.)

    >>> import tinygrad_np as tg
    >>> linear(tg.ones(2, 3), tg.ones(3, 4), tg.zeros(1, 4)).shape
    (2, 4)
    """
    return ops.linear(x, weight, bias)


def check_dropout_probability(p: float, name: str = "dropout") -> float:
    """``p`` as a float, or ValueError if it is not a fraction in [0, 1)."""
    p = float(p)
    if not 0.0 <= p < 1.0:
        raise ValueError(
            f"{name}: p is the fraction of units dropped and must be in [0, 1), got {p}"
        )
    return p


def dropout(
    x: Tensor, p: float = 0.5, training: bool = True, generator: np.random.Generator | None = None
) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (inverted
    dropout: the expected value is unchanged, so evaluation needs no rescaling).

    The mask comes from ``generator`` or the library's (``tg.manual_seed``). Identity when
    not ``training`` or when ``p`` is 0.

    >>> import tinygrad_np as tg
    >>> _ = tg.manual_seed(0)
    >>> y = dropout(tg.ones(1000), p=0.2)
    >>> sorted({round(v, 4) for v in y.tolist()})
    [0.0, 1.25]
    """
    p = check_dropout_probability(p)
    if not training or p == 0.0:
        return x
    rng = get_rng() if generator is None else generator
    keep = rng.random(x.shape) >= p
    mask = keep.astype(x.dtype) / np.asarray(1.0 - p, dtype=x.dtype)
    return x * mask


# ================================ losses =====================================================


def _reduce(losses: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def _as_input(name: str, x: Any) -> Tensor:
    x = x if isinstance(x, Tensor) else Tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: predictions must be floating point, got dtype {x.dtype}")
    return x


def _same_shape_target(name: str, x: Tensor, target: Any) -> Any:
    """Targets of exactly the predictions' shape, in their dtype (int targets would promote
    float32 to float64); a (n,) target against (n, 1) would silently broadcast to (n, n)."""
    # a Tensor's or another array library's array as it is (a recorded step's stand-in too)
    t = target.data if isinstance(target, Tensor) else target if is_array(target) else (
        to_numpy(target))  # fmt: skip
    check_numeric(name, "target", t)
    if t.shape != x.shape:
        raise ValueError(
            f"{name}: target shape {t.shape} does not match input shape {x.shape} "
            "(reshape the target, e.g. y.reshape(-1, 1))"
        )
    if isinstance(target, Tensor) and target.dtype == x.dtype:
        return target  # keeps its graph if it requires grad
    return t.astype(x.dtype, copy=False)


def _check_probabilities(name: str, x: Tensor) -> None:
    if x.size and (x.data.min() < 0 or x.data.max() > 1):
        raise ValueError(
            f"{name}: input must be probabilities in [0, 1], got values from "
            f"{x.data.min():.4g} to {x.data.max():.4g} (for raw scores use the loss that "
            "takes logits)"
        )


def cross_entropy(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy from logits (N, C); targets are labels (N,) or one-hot (N, C).

    The fused, stable op: finite loss and gradient even for logits of ±1e4.

    >>> import tinygrad_np as tg
    >>> float(cross_entropy(tg.tensor([[1e4, 0.0, -1e4]]), [2]).item())
    20000.0
    """
    return ops.cross_entropy(_as_input("cross_entropy", input), target, reduction=reduction)


def nll_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: ``-input[i, target[i]]`` for log-probabilities (N, C) and
    integer labels (N,), e.g. after ``log_softmax``.

    >>> import tinygrad_np as tg
    >>> float(nll_loss(tg.tensor([[-0.5, -2.0]]), [1]).item())
    2.0
    """
    check_reduction("nll_loss", reduction)
    x = _as_input("nll_loss", input)
    t = check_class_targets("nll_loss", x, target)
    if t.ndim != 1:
        raise ValueError(f"nll_loss: targets must be integer labels of shape ({x.shape[0]},)")
    return _reduce(-x[np.arange(x.shape[0]), t], reduction)


def categorical_crossentropy(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """The NNFS book's categorical cross-entropy: -log of the (clipped) probability of the
    true class, for probabilities (N, C) and labels (N,) or one-hot (N, C).

    Probabilities are clipped to [1e-7, 1 - 1e-7], so one sample's loss never exceeds
    -log(1e-7) ≈ 16.1; ``cross_entropy`` on logits has no such ceiling.

    >>> import tinygrad_np as tg
    >>> p = tg.tensor([[0.7, 0.1, 0.2]])
    >>> round(float(categorical_crossentropy(p, [0]).item()), 4)
    0.3567
    """
    check_reduction("categorical_crossentropy", reduction)
    x = _as_input("categorical_crossentropy", input)
    t = check_class_targets("categorical_crossentropy", x, target)
    _check_probabilities("categorical_crossentropy", x)
    clipped = x.clip(PROBABILITY_CLIP, 1 - PROBABILITY_CLIP)
    if t.ndim == 1:
        confidence = clipped[np.arange(x.shape[0]), t]
    else:
        confidence = (clipped * t).sum(axis=-1)
    return _reduce(-confidence.log(), reduction)


def binary_cross_entropy(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """-(y log p + (1-y) log(1-p)) elementwise, for probabilities ``p`` clipped to
    [1e-7, 1 - 1e-7] as in the NNFS book; targets have the input's shape.

    >>> import tinygrad_np as tg
    >>> round(float(binary_cross_entropy(tg.tensor([0.8]), [1.0]).item()), 4)
    0.2231
    """
    check_reduction("binary_cross_entropy", reduction)
    x = _as_input("binary_cross_entropy", input)
    t = _same_shape_target("binary_cross_entropy", x, target)
    _check_probabilities("binary_cross_entropy", x)
    p = x.clip(PROBABILITY_CLIP, 1 - PROBABILITY_CLIP)
    return _reduce(-(t * p.log() + (1 - t) * (1 - p).log()), reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of sigmoid(x), computed stably from the logits ``x``:
    max(x, 0) - x*y + log(1 + exp(-|x|)), which never exponentiates a positive number.

    >>> import tinygrad_np as tg
    >>> float(binary_cross_entropy_with_logits(tg.tensor([1e4]), [0.0]).item())
    10000.0
    """
    check_reduction("binary_cross_entropy_with_logits", reduction)
    x = _as_input("binary_cross_entropy_with_logits", input)
    t = _same_shape_target("binary_cross_entropy_with_logits", x, target)
    # maximum splits its gradient at a tie, so at x = 0 it gives the exact sigmoid(0) - y
    losses = x.maximum(0.0) - x * t + (1 + (-x.abs()).exp()).log()
    return _reduce(losses, reduction)


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error (x - y)^2; targets have the input's shape.

    >>> import tinygrad_np as tg
    >>> float(mse_loss(tg.tensor([1.0, 3.0]), [0.0, 0.0]).item())
    5.0
    """
    check_reduction("mse_loss", reduction)
    x = _as_input("mse_loss", input)
    diff = x - _same_shape_target("mse_loss", x, target)
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error |x - y|; targets have the input's shape.

    >>> import tinygrad_np as tg
    >>> float(l1_loss(tg.tensor([1.0, -3.0]), [0.0, 0.0]).item())
    2.0
    """
    check_reduction("l1_loss", reduction)
    x = _as_input("l1_loss", input)
    return _reduce((x - _same_shape_target("l1_loss", x, target)).abs(), reduction)
