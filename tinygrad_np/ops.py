"""Every differentiable op, forward and backward side by side.

Each ``backward`` returns gradients of the output's shape (or the input's); the engine sums
them back over broadcast axes (``autograd.unbroadcast``). Backward bodies use only operators
and methods that arrays and Tensors share, or go through ``dispatch``, so the same code runs
on plain arrays (fast path) and on Tensors when ``create_graph=True`` asks for a graph of the
gradient. Arrays come from ``array_module`` so another NumPy-like engine can stand in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_np.backend import array_module
from tinygrad_np.function import Function, dispatch
from tinygrad_np.tensor import Tensor

xp = array_module()


def _exp(a: Any) -> Any:
    return a.exp() if isinstance(a, Tensor) else xp.exp(a)


def _log(a: Any) -> Any:
    return a.log() if isinstance(a, Tensor) else xp.log(a)


def _data(a: Any) -> Any:
    return a.data if isinstance(a, Tensor) else a


def normalize_axis(axis: Any) -> int | tuple[int, ...] | None:
    """Axis arguments as NumPy takes them, hashable (lists become tuples)."""
    if axis is None or isinstance(axis, int | np.integer):
        return axis if axis is None else int(axis)
    return tuple(int(a) for a in axis)


def normalize_index(index: Any) -> Any:
    """Tensors and lists inside an index become arrays (lists of ints gather, as in NumPy)."""
    if isinstance(index, tuple):
        return tuple(normalize_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return xp.asarray(index)
    return index


def _keepdims_shape(shape: tuple[int, ...], axis: Any) -> tuple[int, ...]:
    """The shape a reduction over ``axis`` has with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    axes = (axis,) if isinstance(axis, int) else axis
    axes = {a % len(shape) for a in axes}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _reduced_shape(shape: tuple[int, ...], axis: Any) -> tuple[int, ...]:
    """The shape a reduction over ``axis`` has without keepdims."""
    kept = _keepdims_shape(shape, axis)
    if axis is None:
        return ()
    axes = {a % len(shape) for a in ((axis,) if isinstance(axis, int) else axis)}
    return tuple(n for i, n in enumerate(kept) if i not in axes)


# ================================ unary ======================================================


class Neg(Function):
    """z = -x;  dz/dx = -1"""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return -g


class Exp(Function):
    """z = exp(x);  dz/dx = z"""

    @staticmethod
    def forward(ctx, x):
        z = xp.exp(x)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g * z


class Log(Function):
    """z = log(x);  dz/dx = 1/x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.log(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / x


class Sqrt(Function):
    """z = sqrt(x);  dz/dx = 1 / (2 z)"""

    @staticmethod
    def forward(ctx, x):
        z = xp.sqrt(x)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g / (2 * z)


class Abs(Function):
    """z = |x|;  dz/dx = sign(x)  (0 at x = 0)"""

    @staticmethod
    def forward(ctx, x):
        ctx.sign = xp.sign(x)
        return xp.abs(x)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.sign


class Relu(Function):
    """z = max(x, 0);  dz/dx = 1 where x > 0, else 0"""

    @staticmethod
    def forward(ctx, x):
        z = xp.maximum(x, 0)
        ctx.save_for_backward(z)  # the mask is built in backward: inference never pays for it
        return z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g * (_data(z) > 0)


class Sigmoid(Function):
    """z = 1 / (1 + exp(-x));  dz/dx = z (1 - z)"""

    @staticmethod
    def forward(ctx, x):
        # exp of a non-positive number only: no overflow warning for large |x|
        e = xp.exp(-xp.abs(x))
        z = xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g * z * (1 - z)


class Tanh(Function):
    """z = tanh(x);  dz/dx = 1 - z^2"""

    @staticmethod
    def forward(ctx, x):
        z = xp.tanh(x)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g * (1 - z * z)


class Clip(Function):
    """z = min(max(x, lo), hi);  dz/dx = 1 strictly inside [lo, hi], else 0"""

    @staticmethod
    def forward(ctx, x, min=None, max=None):
        ctx.mask = xp.ones(x.shape, dtype=bool)
        if min is not None:
            ctx.mask &= x > min
        if max is not None:
            ctx.mask &= x < max
        return xp.clip(x, min, max)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.mask


class Cast(Function):
    """z = x as another dtype;  dz/dx = 1, cast back to x's dtype"""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.dtype)


# ================================ binary =====================================================


class Add(Function):
    """z = x + y;  dz/dx = 1,  dz/dy = 1"""

    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    """z = x - y;  dz/dx = 1,  dz/dy = -1"""

    @staticmethod
    def forward(ctx, x, y):
        return x - y

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = x * y;  dz/dx = y,  dz/dy = x"""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        return (g * y if need_x else None), (g * x if need_y else None)


class Div(Function):
    """z = x / y;  dz/dx = 1/y,  dz/dy = -x/y^2"""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x / y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        gx = g / y if need_x else None
        gy = -g * x / (y * y) if need_y else None
        return gx, gy


class Pow(Function):
    """z = x ** y;  dz/dx = y x^(y-1),  dz/dy = z log(x)"""

    @staticmethod
    def forward(ctx, x, y):
        z = x**y
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, g):
        x, y, z = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        gx = g * y * x ** (y - 1) if need_x else None
        gy = g * z * _log(x) if need_y else None
        return gx, gy


class Maximum(Function):
    """z = max(x, y);  the gradient goes to the larger input (split evenly on ties)"""

    @staticmethod
    def forward(ctx, x, y):
        ctx.x_wins = (x > y) + 0.5 * (x == y)
        return xp.maximum(x, y)

    @staticmethod
    def backward(ctx, g):
        w = ctx.x_wins.astype(_data(g).dtype, copy=False)
        return g * w, g * (1 - w)


class Minimum(Function):
    """z = min(x, y);  the gradient goes to the smaller input (split evenly on ties)"""

    @staticmethod
    def forward(ctx, x, y):
        ctx.x_wins = (x < y) + 0.5 * (x == y)
        return xp.minimum(x, y)

    @staticmethod
    def backward(ctx, g):
        w = ctx.x_wins.astype(_data(g).dtype, copy=False)
        return g * w, g * (1 - w)


class Where(Function):
    """z = x where cond else y;  dz/dx = cond,  dz/dy = not cond  (no gradient for cond)"""

    @staticmethod
    def forward(ctx, cond, x, y):
        ctx.cond = xp.asarray(cond, dtype=bool)
        return xp.where(ctx.cond, x, y)

    @staticmethod
    def backward(ctx, g):
        return None, g * ctx.cond, g * ~ctx.cond


# ================================ reductions =================================================


class Expand(Function):
    """z = broadcast_to(x, shape);  dz/dx = 1, summed over the new axes (by the engine)"""

    @staticmethod
    def forward(ctx, x, shape):
        return xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return g


class Sum(Function):
    """z = sum(x, axis);  dz/dx = 1, spread over the summed axes"""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axis = x.shape, axis
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        g = g.reshape(_keepdims_shape(ctx.shape, ctx.axis))
        return dispatch(Expand, g, shape=ctx.shape)


class Mean(Function):
    """z = mean(x, axis);  dz/dx = 1/n, spread over the averaged axes"""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        z = x.mean(axis=axis, keepdims=keepdims)
        ctx.shape, ctx.axis = x.shape, axis
        ctx.scale = np.asarray(z.size / x.size, dtype=x.dtype) if x.size else 0.0
        return z

    @staticmethod
    def backward(ctx, g):
        g = g.reshape(_keepdims_shape(ctx.shape, ctx.axis)) * ctx.scale
        return dispatch(Expand, g, shape=ctx.shape)


class Max(Function):
    """z = max(x, axis);  dz/dx = 1 at the maximum (split evenly between ties)"""

    pick = staticmethod(np.max)

    @classmethod
    def forward(cls, ctx, x, axis=None, keepdims=False):
        if x.size == 0:
            raise ValueError(f"{cls.name}: reduction of an empty tensor of shape {x.shape}")
        z = cls.pick(x, axis=axis, keepdims=True)
        mask = x == z
        ctx.weights = mask / mask.sum(axis=axis, keepdims=True)
        ctx.shape, ctx.axis = x.shape, axis
        return z if keepdims else z.reshape(_reduced_shape(x.shape, axis))

    @staticmethod
    def backward(ctx, g):
        g = g.reshape(_keepdims_shape(ctx.shape, ctx.axis))
        return g * ctx.weights.astype(_data(g).dtype, copy=False)


class Min(Max):
    """z = min(x, axis);  dz/dx = 1 at the minimum (split evenly between ties)"""

    pick = staticmethod(np.min)


# ================================ movement ===================================================


class Reshape(Function):
    """z = reshape(x, shape);  dz/dx = reshape(g, x.shape)"""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape)


class Transpose(Function):
    """z = transpose(x, axes);  dz/dx = transpose(g, inverse(axes))"""

    @staticmethod
    def forward(ctx, x, axes=None):
        ctx.inverse = None if axes is None else tuple(np.argsort(axes))
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, g):
        return g.transpose(ctx.inverse)


class Getitem(Function):
    """z = x[index];  dz/dx = g scattered back (summed where an index repeats)"""

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        return x[index]

    @staticmethod
    def backward(ctx, g):
        return dispatch(ScatterAdd, g, shape=ctx.shape, index=ctx.index)


def _is_advanced(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(hasattr(i, "shape") and getattr(i, "ndim", 0) > 0 for i in items)


class ScatterAdd(Function):
    """z = zeros(shape) with g added at index;  dz/dg = z[index]  (getitem's adjoint)"""

    @staticmethod
    def forward(ctx, g, shape, index):
        ctx.index = index
        out = xp.zeros(shape, dtype=g.dtype)
        if _is_advanced(index):
            xp.add.at(out, index, g)  # repeated indices must add up, which out[i] += g won't
        else:
            out[index] = g  # basic indexing never repeats an element
        return out

    @staticmethod
    def backward(ctx, g):
        return g[ctx.index]


class Concatenate(Function):
    """z = concatenate(xs, axis);  dz/dx_i = the slice of g that came from x_i"""

    @staticmethod
    def forward(ctx, *xs, axis=0):
        ctx.axis = axis
        ctx.bounds = np.cumsum([0] + [x.shape[axis] for x in xs])
        return xp.concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, g):
        lead = (slice(None),) * (ctx.axis % g.ndim)
        b = ctx.bounds
        return tuple(g[lead + (slice(b[i], b[i + 1]),)] for i in range(len(b) - 1))


class Stack(Function):
    """z = stack(xs, axis);  dz/dx_i = g[..., i, ...] along the new axis"""

    @staticmethod
    def forward(ctx, *xs, axis=0):
        ctx.axis, ctx.n = axis, len(xs)
        return xp.stack(xs, axis=axis)

    @staticmethod
    def backward(ctx, g):
        lead = (slice(None),) * (ctx.axis % g.ndim)
        return tuple(g[lead + (i,)] for i in range(ctx.n))


# ================================ matmul =====================================================


class Matmul(Function):
    """z = x @ y;  dz/dx = g @ y^T,  dz/dy = x^T @ g  (batched; 1-D operands promoted)"""

    @staticmethod
    def forward(ctx, x, y):
        if x.ndim == 0 or y.ndim == 0:
            raise ValueError(f"matmul: operands must be at least 1-D, got {x.shape} @ {y.shape}")
        if x.shape[-1] != y.shape[-2 if y.ndim > 1 else 0]:
            raise ValueError(
                f"matmul: shapes {x.shape} and {y.shape} do not align: "
                f"{x.shape[-1]} (last axis of x) != {y.shape[-2 if y.ndim > 1 else 0]} "
                "(second-to-last axis of y)"
            )
        ctx.save_for_backward(x, y)
        return xp.matmul(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        # promote 1-D operands to matrices so one formula covers every case
        if x.ndim == 1:
            x = x.reshape((1, -1))
            g = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:]) if y.ndim > 1 else g.reshape((1,))
        if y.ndim == 1:
            y = y.reshape((-1, 1))
            g = g.reshape(g.shape + (1,))
        gx = g @ y.swapaxes(-1, -2) if need_x else None
        gy = x.swapaxes(-1, -2) @ g if need_y else None
        if gx is not None and ctx.parents[0].ndim == 1:
            gx = gx.reshape(gx.shape[:-2] + gx.shape[-1:])
        if gy is not None and ctx.parents[1].ndim == 1:
            gy = gy.reshape(gy.shape[:-1])
        return gx, gy


class Linear(Function):
    """z = x @ w + b  (x: (..., in), w: (in, out), b: (out,) or (1, out));
    dz/dx = g @ w^T,  dz/dw = x^T @ g,  dz/db = g summed over the batch.

    One node instead of matmul + add: dense layers are most of a small net's graph.
    """

    @staticmethod
    def forward(ctx, x, w, b=None):
        if x.ndim == 0 or x.shape[-1] != w.shape[0] or w.ndim != 2:
            raise ValueError(
                f"linear: input of shape {x.shape} does not fit weight of shape {w.shape} "
                "(expected input (..., in) and weight (in, out))"
            )
        z = x @ w
        if b is not None:
            if b.ndim <= z.ndim:
                z += b  # z is a fresh array: add the bias in place
            else:  # a (1, out) bias on a single sample broadcasts the result up
                z = z + b
        ctx.save_for_backward(x, w)
        ctx.bias_shape = None if b is None else b.shape
        return z

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w, *need_b = ctx.needs_input_grad
        gx = g @ w.T if need_x else None  # w is 2-D, so .T is the matrix transpose
        gw = gb = None
        if need_w or (need_b and need_b[0]):
            g2 = g.reshape((-1, g.shape[-1])) if g.ndim != 2 else g
            if need_w:
                x2 = x.reshape((-1, x.shape[-1])) if x.ndim != 2 else x
                gw = x2.T @ g2
            if need_b and need_b[0]:
                # add.reduce skips ndarray.sum's Python wrapper: this runs once per layer
                gb = g2.sum(axis=0) if isinstance(g2, Tensor) else xp.add.reduce(g2, axis=0)
                if gb.shape != ctx.bias_shape:
                    gb = gb.reshape(ctx.bias_shape)
        return (gx, gw, gb) if need_b else (gx, gw)


def linear(x: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """The dense layer of the NNFS book, ``x @ weight + bias``, as one fused op.

    >>> import tinygrad_np as tg
    >>> linear(tg.ones(2, 3), tg.ones(3, 4), tg.zeros(4)).shape
    (2, 4)
    """
    x = x if isinstance(x, Tensor) else Tensor(x)
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)


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
        # a wrong label must not wrap around; ufunc reductions skip ndarray.min's wrapper
        if n and (xp.minimum.reduce(t) < 0 or xp.maximum.reduce(t) >= c):
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
    if not isinstance(logits, Tensor):
        logits = Tensor(logits)
    t = check_class_targets("cross_entropy", logits, target)
    return CrossEntropy.apply(logits, t, reduction=reduction)


# ================================ functions over several tensors =============================


def _as_tensor(x: Any, like: Tensor | None = None) -> Any:
    if isinstance(x, Tensor):
        return x
    if like is not None:
        return like._coerce(x)
    return Tensor(x)


def maximum(x: Any, y: Any) -> Tensor:
    """Elementwise maximum; the gradient goes to the larger input (halved on ties)."""
    x = _as_tensor(x)
    return Maximum.apply(x, _as_tensor(y, x))


def minimum(x: Any, y: Any) -> Tensor:
    """Elementwise minimum; the gradient goes to the smaller input (halved on ties)."""
    x = _as_tensor(x)
    return Minimum.apply(x, _as_tensor(y, x))


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """``x`` where ``condition`` holds, else ``y`` (gradients flow to x and y only).

    >>> import tinygrad_np as tg
    >>> tg.where(tg.tensor([True, False]), tg.tensor([1.0, 2.0]), 0.0)
    Tensor([1., 0.], dtype=float32)
    """
    ref = x if isinstance(x, Tensor) else y if isinstance(y, Tensor) else None
    x = _as_tensor(x, ref)
    y = _as_tensor(y, ref)
    return Where.apply(_data(condition), x, y)


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    return Concatenate.apply(*[_as_tensor(t) for t in tensors], axis=axis)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along a new axis."""
    return Stack.apply(*[_as_tensor(t) for t in tensors], axis=axis)
