"""``Tensor``: an array plus what autograd needs (grad, requires_grad, the op that made it).

Every method here is one line that hands its work to an op in ``tinygrad_np.ops``, where the op's
forward and backward sit side by side.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_np import autograd
from tinygrad_np.backend import (
    Freed,
    array_module,
    as_array,
    check_can_require_grad,
    is_array,
    to_array,
)

DTypeLike = Any
Axis = Any  # None, an int or a sequence of ints


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _requires_grad(x: Any) -> bool:
    return isinstance(x, Tensor) and x.requires_grad


class Tensor:
    """An n-dimensional array that records the ops applied to it, for ``backward()``.

    ``Tensor(ndarray)`` shares the array's memory (as ``torch.from_numpy``); ``tg.tensor``
    copies. Float arrays keep their dtype; Python floats and lists become float32.

    >>> import tinygrad_np as tg
    >>> x = tg.Tensor([[1.0, 2.0]], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    Tensor([[2., 4.]], dtype=float32)
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "name", "_vc", "__weakref__")
    # Make `ndarray <op> Tensor` call Tensor's reflected operator instead of looping in NumPy.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False, dtype: DTypeLike = None) -> None:
        self.data = to_array(data.data if isinstance(data, Tensor) else data, dtype)
        if requires_grad:
            check_can_require_grad(self.data)
        self.grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self._ctx = None
        self.name: str | None = None
        # a Tensor of a Tensor shares its memory, so it shares its version counter too
        self._vc = (
            data._shared_counter() if isinstance(data, Tensor) and data.data is self.data else None
        )

    @classmethod
    def _wrap(cls, array: Any, requires_grad: bool) -> Tensor:
        """Fast constructor for op outputs: no conversion beyond NumPy scalar -> 0-d array."""
        t = object.__new__(cls)
        t.data = as_array(array)
        t.grad = None
        t.requires_grad = requires_grad
        t._ctx = None
        t.name = None
        t._vc = None
        return t

    # --- the version counter: in-place changes after an op saved this tensor are caught ---
    # _vc is [number of in-place changes, clock stamp of the last], shared by tensors that
    # share memory (detach), made on first use: most tensors never change in place.
    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's values have seen (``t[i] = v``, ``+=``,
        optimizer steps). Writes through ``.data`` / ``.numpy()`` are not counted."""
        return self._vc[0] if self._vc is not None else 0

    def _changed_at(self) -> int:
        return self._vc[1] if self._vc is not None else 0

    def _bump_version(self) -> None:
        cell = self._shared_counter()
        cell[0] += 1
        cell[1] = autograd.last_change = next(autograd.clock)

    def _shared_counter(self) -> list[int]:
        """The counter, made now if needed, for a tensor that shares this one's memory."""
        if self._vc is None:
            self._vc = [0, 0]
        return self._vc

    # --- plain attributes ----------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        """True for tensors not made by a recorded op (inputs and parameters)."""
        return self._ctx is None

    @property
    def grad_fn(self) -> Any:
        """The op (a ``Function`` instance) that made this tensor, or None for a leaf."""
        return self._ctx

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        body = repr(self.data) if isinstance(self.data, Freed) else None
        body = body or np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = f", dtype={self.dtype}"
        if self._ctx is not None:
            extra += f", grad_fn=<{self._ctx.name}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"Tensor({body}{extra})"

    def _repr_html_(self) -> str:
        """Jupyter's rich display: shape, dtype, grad_fn and the values as a table."""
        from tinygrad_np.viz.html import tensor_html

        return tensor_html(self)

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.data)

    def __int__(self) -> int:
        return int(self.data)

    __hash__ = object.__hash__  # == is elementwise, so hash by identity

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied; writes to it are not version-counted)."""
        return self.data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """``np.asarray(tensor)``: the values, without the graph."""
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors, got shape {self.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def detach(self) -> Tensor:
        """The same data (and version counter), cut off from the graph."""
        t = Tensor._wrap(self.data, False)
        t._vc = self._shared_counter()
        return t

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` of a leaf in place (floating-point tensors only); returns self."""
        if self._ctx is not None and not requires_grad:
            raise RuntimeError(
                f"requires_grad_: only leaf tensors can change requires_grad; this one was made "
                f"by '{self._ctx.name}'. Use .detach() for a tensor without the graph"
            )
        if requires_grad:
            check_can_require_grad(self.data)
        self.requires_grad = bool(requires_grad)
        return self

    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    def backward(
        self, gradient: Any = None, retain_graph: bool = False, create_graph: bool = False
    ) -> None:
        """Accumulate the gradient of this tensor into every leaf that requires grad.

        ``gradient`` is needed unless this tensor has one element. The graph's saved values
        are freed afterwards unless ``retain_graph`` (or ``create_graph``) is set.
        """
        autograd.backward(self, gradient, retain_graph, create_graph)

    # --- operators -----------------------------------------------------------------------
    def _coerce(self, other: Any) -> Any:
        """A Python scalar takes this tensor's float dtype (``t64 * 2.0`` stays float64)."""
        if is_array(other):
            return other
        if isinstance(other, int | float | bool) and self.data.dtype.kind == "f":
            return array_module(self.data).asarray(other, dtype=self.data.dtype)
        return to_array(other)

    def __add__(self, other: Any) -> Tensor:
        return _ops.Add.apply(self, self._coerce(other))

    def __radd__(self, other: Any) -> Tensor:
        return _ops.Add.apply(self._coerce(other), self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.Sub.apply(self, self._coerce(other))

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.Sub.apply(self._coerce(other), self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.Mul.apply(self, self._coerce(other))

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.Mul.apply(self._coerce(other), self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.Div.apply(self, self._coerce(other))

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.Div.apply(self._coerce(other), self)

    def __pow__(self, other: Any) -> Tensor:
        return _ops.Pow.apply(self, self._coerce(other))

    def __rpow__(self, other: Any) -> Tensor:
        return _ops.Pow.apply(self._coerce(other), self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.Matmul.apply(self, self._coerce(other))

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.Matmul.apply(self._coerce(other), self)

    def __neg__(self) -> Tensor:
        return _ops.Neg.apply(self)

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.Getitem.apply(self, index=_ops.normalize_index(index))

    def __setitem__(self, index: Any, value: Any) -> None:
        if autograd.is_grad_enabled() and (self.requires_grad or _requires_grad(value)):
            raise RuntimeError(
                f"setitem: in-place assignment into a tensor of shape {self.shape} would lose "
                "a gradient (one of the two requires grad); build the tensor with tg.where or "
                "tg.concatenate, or assign under tg.no_grad()"
            )
        self.data[_ops.normalize_index(index)] = _raw(value)
        self._bump_version()

    # in place when no gradient is involved (counted by the version counter); otherwise
    # x += y records x + y as a new tensor, as the gradient needs
    def _inplace(self, other: Any, op: Any, out_of_place: Any) -> Tensor:
        if autograd.is_grad_enabled() and (self.requires_grad or _requires_grad(other)):
            if self._ctx is None and self.requires_grad:
                raise RuntimeError(
                    f"a leaf tensor of shape {self.shape} that requires grad cannot be changed "
                    "in place; do it under tg.no_grad() (as an optimizer does)"
                )
            return out_of_place(self, other)
        op(self.data, _raw(self._coerce(other)))
        self._bump_version()
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace(other, operator.iadd, Tensor.__add__)

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace(other, operator.isub, Tensor.__sub__)

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace(other, operator.imul, Tensor.__mul__)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._inplace(other, operator.itruediv, Tensor.__truediv__)

    # comparisons give boolean tensors and never carry gradient
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._wrap(self.data == _raw(other), False)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._wrap(self.data != _raw(other), False)

    def __lt__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data < _raw(other), False)

    def __le__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data <= _raw(other), False)

    def __gt__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data > _raw(other), False)

    def __ge__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data >= _raw(other), False)

    # logic on boolean (mask) tensors, which carry no gradient either
    def __and__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data & _raw(other), False)

    def __or__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data | _raw(other), False)

    def __invert__(self) -> Tensor:
        return Tensor._wrap(~self.data, False)

    # --- elementwise -----------------------------------------------------------------------
    def exp(self) -> Tensor:
        return _ops.Exp.apply(self)

    def log(self) -> Tensor:
        return _ops.Log.apply(self)

    def sqrt(self) -> Tensor:
        return _ops.Sqrt.apply(self)

    def abs(self) -> Tensor:
        return _ops.Abs.apply(self)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:
        return _ops.Clip.apply(self, min=min, max=max)

    def relu(self) -> Tensor:
        return _ops.Relu.apply(self)

    def sigmoid(self) -> Tensor:
        return _ops.Sigmoid.apply(self)

    def tanh(self) -> Tensor:
        return _ops.Tanh.apply(self)

    def log1p(self) -> Tensor:
        return _ops.Log1p.apply(self)

    def expm1(self) -> Tensor:
        return _ops.Expm1.apply(self)

    def sin(self) -> Tensor:
        return _ops.Sin.apply(self)

    def cos(self) -> Tensor:
        return _ops.Cos.apply(self)

    def erf(self) -> Tensor:
        return _ops.Erf.apply(self)

    def softmax(self, axis: int = -1) -> Tensor:
        return _ops.Softmax.apply(self, axis=axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return _ops.LogSoftmax.apply(self, axis=axis)

    def maximum(self, other: Any) -> Tensor:
        return _ops.Maximum.apply(self, self._coerce(other))

    def minimum(self, other: Any) -> Tensor:
        return _ops.Minimum.apply(self, self._coerce(other))

    def astype(self, dtype: DTypeLike) -> Tensor:
        """A copy in another dtype; the gradient flows back in this tensor's dtype."""
        return _ops.Cast.apply(self, dtype=np.dtype(dtype))

    # --- reductions --------------------------------------------------------------------------
    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.Sum.apply(self, axis=_ops.normalize_axis(axis), keepdims=keepdims)

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.Mean.apply(self, axis=_ops.normalize_axis(axis), keepdims=keepdims)

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.Max.apply(self, axis=_ops.normalize_axis(axis), keepdims=keepdims)

    def min(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.Min.apply(self, axis=_ops.normalize_axis(axis), keepdims=keepdims)

    def logsumexp(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.LogSumExp.apply(self, axis=_ops.normalize_axis(axis), keepdims=keepdims)

    def var(self, axis: Axis = None, keepdims: bool = False, correction: int = 1) -> Tensor:
        """Variance over ``axis``, dividing by n - correction (1: the unbiased estimate)."""
        axis = _ops.normalize_axis(axis)
        return _ops.Var.apply(self, axis=axis, keepdims=keepdims, correction=correction)

    def std(self, axis: Axis = None, keepdims: bool = False, correction: int = 1) -> Tensor:
        """Standard deviation over ``axis``: the square root of ``var``."""
        axis = _ops.normalize_axis(axis)
        return _ops.Std.apply(self, axis=axis, keepdims=keepdims, correction=correction)

    def cumsum(self, axis: int) -> Tensor:
        return _ops.Cumsum.apply(self, axis=int(axis))

    def argmax(self, axis: int | None = None) -> Tensor:
        """Indices of the maxima (an integer tensor, no gradient)."""
        return Tensor._wrap(self.data.argmax(axis=axis), False)

    def argmin(self, axis: int | None = None) -> Tensor:
        """Indices of the minima (an integer tensor, no gradient)."""
        return Tensor._wrap(self.data.argmin(axis=axis), False)

    # --- movement ----------------------------------------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], Sequence | np.ndarray):
            shape = tuple(shape[0])
        return _ops.Reshape.apply(self, shape=tuple(int(s) for s in shape))

    def flatten(self, start_dim: int = 0) -> Tensor:
        """Collapse the axes from ``start_dim`` on into one (``flatten(1)`` keeps the batch)."""
        start = start_dim % max(self.ndim, 1)
        return self.reshape(self.shape[:start] + (-1,))

    def transpose(self, *axes: Any) -> Tensor:
        """Permute axes (NumPy's meaning): no argument reverses them."""
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], Sequence)):
            axes = axes[0]  # transpose(None) or transpose((1, 0)), as NumPy allows
        return _ops.Transpose.apply(self, axes=tuple(axes) if axes else None)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        axes = list(range(self.ndim))
        axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
        return _ops.Transpose.apply(self, axes=tuple(axes))

    @property
    def T(self) -> Tensor:
        return _ops.Transpose.apply(self, axes=None)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        return _ops.Expand.apply(self, shape=tuple(shape))

    def expand(self, *shape: Any) -> Tensor:
        """Broadcast to ``shape`` without copying; -1 keeps an axis's size (PyTorch's expand)."""
        return _ops.Expand.apply(self, shape=_ops.sizes(shape))

    def permute(self, *dims: Any) -> Tensor:
        """Reorder the axes: ``permute(2, 0, 1)`` (PyTorch's name for transpose with axes)."""
        return _ops.Transpose.apply(self, axes=_ops.sizes(dims))

    def unsqueeze(self, dim: int) -> Tensor:
        return _ops.Unsqueeze.apply(self, dim=int(dim))

    def squeeze(self, dim: int | Sequence[int] | None = None) -> Tensor:
        return _ops.Squeeze.apply(self, dim=_ops.normalize_axis(dim))

    def flip(self, dims: int | Sequence[int]) -> Tensor:
        return _ops.Flip.apply(self, dims=_ops.normalize_axis(dims))

    def repeat(self, *sizes: Any) -> Tensor:
        """Tile: ``repeat(2, 3)`` stacks 2 copies along axis 0 and 3 along axis 1 (PyTorch's
        repeat; NumPy calls it tile)."""
        return _ops.Repeat.apply(self, sizes=_ops.sizes(sizes))

    def gather(self, dim: int, index: Any) -> Tensor:
        """``out[i][j] = self[index[i][j]][j]`` for dim 0 (PyTorch's gather)."""
        return _ops.Gather.apply(self, dim=int(dim), index=_ops.normalize_index(index))


from tinygrad_np import ops as _ops  # noqa: E402  (ops needs Tensor defined first)
