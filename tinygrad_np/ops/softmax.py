"""Softmax, log-softmax and the fused, stable softmax cross-entropy."""

from __future__ import annotations

from typing import Any

from tinygrad_np._checks import check_numeric
from tinygrad_np.function import Function
from tinygrad_np.ops.common import _as_tensor, _data, _exp, xp
from tinygrad_np.tensor import Tensor

# ================================ softmax and cross-entropy ==================================


def _log_softmax(x: Any, axis: int) -> Any:
    """log(softmax(x)) the stable way: shift by the max so exp never overflows."""
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


class Softmax(Function):
    """s = exp(x) / sum(exp(x));  dx = s * (g - sum(g * s))"""

    @staticmethod
    def forward(ctx, x, axis=-1):
        shifted = xp.exp(x - x.max(axis=axis, keepdims=True))
        s = shifted / shifted.sum(axis=axis, keepdims=True)
        ctx.axis = axis
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        return s * (g - (g * s).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    """l = x - logsumexp(x);  dx = g - softmax(x) * sum(g)"""

    @staticmethod
    def forward(ctx, x, axis=-1):
        z = _log_softmax(x, axis)
        ctx.axis = axis
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g - _exp(z) * g.sum(axis=ctx.axis, keepdims=True)


class CrossEntropy(Function):
    """Fused, stable softmax + negative log-likelihood over the last axis.

    loss_i = -sum_c t_ic log softmax(x_i)_c  with t integer labels or one-hot/probabilities;
    d loss_i / d x_i = softmax(x_i) - t_i.  Fusing saves the softmax Jacobian entirely.
    """

    name = "cross_entropy"

    @staticmethod
    def forward(ctx, logits, target, reduction="mean"):
        shifted = logits - logits.max(axis=-1, keepdims=True)
        e = xp.exp(shifted)
        total = e.sum(axis=-1, keepdims=True)
        n = logits.shape[0]
        # -log softmax(x)_y = log(sum exp(shifted)) - shifted_y: gather n values, not n*C
        if target.ndim == 1:
            rows = xp.arange(n)
            losses = xp.log(total[:, 0]) - shifted[rows, target]
        else:
            rows = None
            losses = -(target * (shifted - xp.log(total))).sum(axis=-1)
        ctx.reduction, ctx.target, ctx.rows = reduction, target, rows
        ctx.save_for_backward(logits, e / total)
        if reduction == "mean":
            return losses.sum() / n
        if reduction == "sum":
            return losses.sum()
        return losses

    @staticmethod
    def backward(ctx, g):
        logits, probs = ctx.saved_tensors
        target, rows = ctx.target, ctx.rows
        n = logits.shape[0]
        if isinstance(g, Tensor):  # create_graph: softmax must stay a function of the logits
            grad = Softmax.apply(logits, axis=-1) - _one_hot(target, logits.shape, logits.dtype)
            scale = g / n if ctx.reduction == "mean" else g
            return grad * (scale.reshape((-1, 1)) if ctx.reduction == "none" else scale), None
        if ctx.reduction == "none":
            scale = g.reshape((-1, 1))
        else:
            scale = g / n if ctx.reduction == "mean" else g
        grad = probs * scale  # (softmax - onehot) * scale, with one allocation
        if rows is None:
            grad -= target * scale
        else:
            grad[rows, target] -= scale if scale.ndim == 0 else scale[:, 0]
        return grad, None


def _one_hot(target: Any, shape: tuple[int, ...], dtype: Any) -> Any:
    if target.ndim > 1:
        return target
    out = xp.zeros(shape, dtype=dtype)
    out[xp.arange(shape[0]), target] = 1
    return out


def check_reduction(name: str, reduction: str) -> str:
    """A loss's ``reduction`` argument, or a ValueError naming the loss."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', not {reduction!r}")
    return reduction


def check_class_targets(name: str, x: Tensor, target: Any) -> Any:
    """Integer labels (N,) in [0, C) or one-hot (N, C), checked against predictions (N, C).

    Every classification loss calls this, so a bad label gets the same clear error anywhere.
    """
    t = xp.asarray(_data(target))
    check_numeric(name, "target", t)  # before any cast: one-hot strings would parse as floats
    if x.ndim != 2:
        raise ValueError(f"{name}: input must have shape (N, C), got {x.shape}")
    n, c = x.shape
    if t.ndim == 1:
        if t.dtype.kind not in "iu":
            raise ValueError(
                f"{name}: class labels must be integers, got dtype {t.dtype} "
                "(convert with y.astype(int), or pass one-hot targets of shape (N, C))"
            )
        if t.shape[0] != n:
            raise ValueError(f"{name}: {t.shape[0]} labels for {n} rows of input {x.shape}")
        # A wrong label must not wrap around. Viewed as unsigned, a negative label is huge, so
        # one reduction checks both ends (ufunc reduce skips ndarray.max's Python wrapper).
        unsigned = t.view(t.dtype.str.replace("i", "u")) if t.dtype.kind == "i" else t
        if n and xp.maximum.reduce(unsigned) >= c:
            bad = t[(t < 0) | (t >= c)][0]
            raise ValueError(
                f"{name}: label {bad} is out of range for {c} classes (labels must be in "
                f"[0, {c - 1}])"
            )
        return t
    if t.shape != x.shape:
        raise ValueError(
            f"{name}: one-hot targets of shape {t.shape} do not match input {x.shape} "
            "(integer labels must be 1-D)"
        )
    return t.astype(x.dtype, copy=False)


def cross_entropy(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy from logits (N, C) and labels: class indices (N,) or one-hot (N, C).

    >>> import tinygrad_np as tg
    >>> logits = tg.tensor([[1e4, 0.0, -1e4]], requires_grad=True)
    >>> float(cross_entropy(logits, [2]).item())  # finite, unlike log(softmax) in float32
    20000.0
    """
    check_reduction("cross_entropy", reduction)
    logits = _as_tensor(logits)
    t = check_class_targets("cross_entropy", logits, target)
    return CrossEntropy.apply(logits, t, reduction=reduction)
