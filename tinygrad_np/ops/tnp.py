"""Array functions that take Tensors too: the math namespace of backward bodies.

An ordinary backward gets plain arrays; under ``create_graph=True`` it gets Tensors, so the
gradient it returns is a graph of its own (second derivatives, Hessian-vector products). A
backward written with operators, methods that arrays and Tensors share, and the functions
below serves both: on arrays each is the array library's own function (through the array
seam), on Tensors it records the op. (HIPS autograd's ``autograd.numpy`` has the same idea.)

>>> import numpy as np, tinygrad_np as tg
>>> from tinygrad_np.ops import tnp
>>> tnp.exp(np.zeros(2)), tnp.exp(tg.zeros(2, dtype=np.float64))
(array([1., 1.]), Tensor([1., 1.], dtype=float64))
"""

from __future__ import annotations

from typing import Any

from tinygrad_np.backend import array_module
from tinygrad_np.ops import conv, elementwise, movement, special
from tinygrad_np.ops import pad as _pad
from tinygrad_np.ops import softmax as _softmax
from tinygrad_np.tensor import Tensor


def _graph(*args: Any) -> bool:
    return any(isinstance(a, Tensor) for a in args)


def _call(op: type, *args: Any, **kwargs: Any) -> Any:
    """An op without an array-library twin: its forward on arrays, recorded on Tensors."""
    return op.apply(*args, **kwargs) if _graph(*args) else op.forward(op(), *args, **kwargs)


def exp(x: Any) -> Any:
    return x.exp() if isinstance(x, Tensor) else array_module(x).exp(x)


def log(x: Any) -> Any:
    return x.log() if isinstance(x, Tensor) else array_module(x).log(x)


def sign(x: Any) -> Any:
    """-1, 0 or 1; a constant of the graph (its derivative is 0 wherever it has one)."""
    data = x.data if isinstance(x, Tensor) else x
    s = array_module(data).sign(data)
    return Tensor._wrap(s, False) if isinstance(x, Tensor) else s


def sin(x: Any) -> Any:
    return x.sin() if isinstance(x, Tensor) else array_module(x).sin(x)


def cos(x: Any) -> Any:
    return x.cos() if isinstance(x, Tensor) else array_module(x).cos(x)


def tanh(x: Any) -> Any:
    return x.tanh() if isinstance(x, Tensor) else array_module(x).tanh(x)


def sigmoid(x: Any) -> Any:
    """1 / (1 + exp(-x)), without overflow for large |x|."""
    return _call(elementwise.Sigmoid, x)


def erf(x: Any) -> Any:
    return x.erf() if isinstance(x, Tensor) else special.erf(x)


def where(condition: Any, x: Any, y: Any) -> Any:
    """``x`` where ``condition`` holds, else ``y`` (``condition`` is never differentiated)."""
    if _graph(x, y):
        return elementwise.where(condition, x, y)
    condition = condition.data if isinstance(condition, Tensor) else condition
    return array_module(x, y).where(condition, x, y)


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    if isinstance(x, Tensor):
        return x.broadcast_to(shape)
    return array_module(x).broadcast_to(x, shape)


def scatter_add(g: Any, shape: tuple[int, ...], index: Any) -> Any:
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeated indices add up)."""
    return _call(movement.ScatterAdd, g, shape=shape, index=index)


def subtract_at(x: Any, index: Any, value: Any) -> Any:
    """``x`` with ``value`` subtracted at ``index`` (no repeated positions). An array ``x``
    must be fresh (the caller's own): it is changed in place, the cheapest way."""
    if _graph(x, value):
        return x - scatter_add(value, x.shape, index)
    x[index] -= value
    return x


def softmax(x: Any, axis: int = -1) -> Any:
    return _call(_softmax.Softmax, x, axis=axis)


def pad(x: Any, pad: tuple[int, ...], value: float = 0.0) -> Any:
    """``x`` padded with ``value``, widths in PyTorch's order (last axis first; negative crops)."""
    return _call(_pad.Pad, x, pad=pad, value=value)


def unfold(x: Any, kernel_size: tuple, stride: tuple, dilation: tuple) -> Any:
    """The windows of ``x``'s last axes, ``(..., *out, *kernel)``: a view (see ``ops.conv``)."""
    return _call(conv.Unfold, x, kernel_size=kernel_size, stride=stride, dilation=dilation)


def fold(cols: Any, size: tuple, kernel_size: tuple, stride: tuple, dilation: tuple) -> Any:
    """Windows ``(..., *out, *kernel)`` summed back into an image of ``size`` (unfold's adjoint)."""
    args = {"kernel_size": kernel_size, "stride": stride, "dilation": dilation}
    return _call(conv.Fold, cols, size=size, **args)
