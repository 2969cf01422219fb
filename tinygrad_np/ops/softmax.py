"""Softmax, log-softmax and the fused, stable softmax cross-entropy."""

from __future__ import annotations

from typing import Any

from tinygrad_np import sampling
from tinygrad_np._checks import check_class_targets, check_reduction
from tinygrad_np.backend import array_module
from tinygrad_np.function import Function
from tinygrad_np.ops import tnp
from tinygrad_np.ops.common import as_tensor
from tinygrad_np.tensor import Tensor

# ================================ softmax and cross-entropy ==================================


class Softmax(Function):
    """s = exp(x) / sum(exp(x));  dx = s * (g - sum(g * s))"""

    sample = staticmethod(sampling.along_an_axis)
    torch = "softmax"

    @staticmethod
    def forward(ctx, x, axis=-1):
        shifted = array_module(x).exp(x - x.max(axis=axis, keepdims=True))
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

    sample = staticmethod(sampling.along_an_axis)
    torch = "log_softmax"

    @staticmethod
    def forward(ctx, x, axis=-1):
        xp = array_module(x)
        shifted = x - x.max(axis=axis, keepdims=True)  # exp never overflows
        z = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.axis = axis
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g - tnp.exp(z) * g.sum(axis=ctx.axis, keepdims=True)


class CrossEntropy(Function):
    """Fused, stable softmax + negative log-likelihood over the last axis.

    loss_i = -sum_c t_ic log softmax(x_i)_c  with t integer labels or one-hot/probabilities;
    d loss_i / d x_i = softmax(x_i) - t_i.  Fusing saves the softmax Jacobian entirely.
    """

    name = "cross_entropy"
    constant_inputs = (1,)  # one-hot targets are floats, but labels all the same

    @staticmethod
    def sample(draw):
        n, c = draw.integer(1, 5), draw.integer(1, 5)
        labels = draw.labels(n, c)
        target = draw.choice([labels, (labels[:, None] == range(c)).astype(float)])
        return [draw.array((n, c)), target], {"reduction": draw.choice(["mean", "sum", "none"])}

    torch = staticmethod(lambda torch, x, t, **kw: torch.nn.functional.cross_entropy(x, t, **kw))

    @staticmethod
    def forward(ctx, logits, target, reduction="mean"):
        xp = array_module(logits)
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
        ctx.reduction = reduction
        ctx.save_for_backward(logits, e / total, target, rows)
        if reduction == "mean":
            return losses.sum() / n
        if reduction == "sum":
            return losses.sum()
        return losses

    @staticmethod
    def recompute(ctx, k, logits, target):
        return logits.softmax(-1)  # saved value 1, the probabilities

    @staticmethod
    def backward(ctx, g):
        logits, probs, target, rows = ctx.saved_tensors
        n = logits.shape[0]
        if ctx.reduction == "none":
            scale = g.reshape((-1, 1))
        else:
            scale = g / n if ctx.reduction == "mean" else g
        grad = probs * scale  # (softmax - onehot) * scale, with one allocation for labels
        if rows is None:
            return grad - target * scale, None
        at = scale if scale.ndim == 0 else scale[:, 0]
        return tnp.subtract_at(grad, (rows, target), at), None


def cross_entropy(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy from logits (N, C) and labels: class indices (N,) or one-hot (N, C).

    >>> import tinygrad_np as tg
    >>> logits = tg.tensor([[1e4, 0.0, -1e4]], requires_grad=True)
    >>> float(cross_entropy(logits, [2]).item())  # finite, unlike log(softmax) in float32
    20000.0
    """
    check_reduction("cross_entropy", reduction)
    logits = as_tensor(logits)
    t = check_class_targets("cross_entropy", logits, target)
    return CrossEntropy.apply(logits, t, reduction=reduction)
