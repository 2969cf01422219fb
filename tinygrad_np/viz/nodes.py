"""What the drawing and the trace share: one numbering of the graph, names, short summaries.

Both walk the graph in ``autograd.toposort`` order (parents first, in input order), so node
``#5`` in a drawing is ``#5`` in the trace, and two runs give identical text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from tinygrad_np import autograd
from tinygrad_np.backend import Freed
from tinygrad_np.tensor import Tensor


def fmt(value: Any) -> str:
    """A number in at most four significant digits: 0.1235, 1.5e-05, 1234."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        value += 0.0  # -0.0 -> 0.0: a bias of zeros should not read "-0"
    return format(value, ".4g")


def summarize(array: Any) -> str:
    """A short, one-line account of an array's values.

    One element: ``0.6931``; up to four: ``[1, 2, 3]`` (``[[1, 0], [2, 0]]`` keeps the rows);
    more: ``mean 0.1 in [-1, 2]``.

    >>> summarize(np.array([1.0, 2.0])), summarize(np.eye(2)), summarize(np.arange(10.0))
    ('[1, 2]', '[[1, 0], [0, 1]]', 'mean 4.5 in [0, 9]')
    """
    if isinstance(array, Freed):  # backward(retain_graph=True) keeps the values
        return "freed by backward"
    a = np.asarray(array)
    if a.size == 0:
        return "empty"
    if a.size == 1:
        return fmt(a.reshape(()).item())
    if a.size <= 4:
        return _nested(a.tolist())
    return f"mean {fmt(a.mean())} in [{fmt(a.min())}, {fmt(a.max())}]"


def _nested(values: Any) -> str:
    if isinstance(values, list):
        return "[" + ", ".join(_nested(v) for v in values) + "]"
    return fmt(values)


def summarize_grad(array: Any) -> str:
    """A gradient in one line: in full up to four elements, else its norm and range.

    >>> summarize_grad(np.array([0.5, -1.0])), summarize_grad(np.array([3.0, 0, 0, 0, 4.0]))
    ('grad: [0.5, -1]', 'grad: norm 5, in [0, 4]')
    """
    a = np.asarray(array)
    if a.size <= 4:
        return "grad: " + summarize(a)
    return f"grad: norm {fmt(norm(a))}, in [{fmt(a.min())}, {fmt(a.max())}]"


NORM_NOTE = "the square root of the sum of the squared elements"


def norm(array: Any) -> float:
    """The Euclidean norm of all elements: how much gradient flows along an edge."""
    return float(np.linalg.norm(np.ravel(np.asarray(array))))


def shape_text(shape: tuple[int, ...]) -> str:
    return str(tuple(shape))


def broadcast_note(
    ctx: Any, position: int, parent_shape: tuple[int, ...], out_shape: tuple[int, ...]
) -> str:
    """``'sum over axis 0 (broadcast)'`` when a parent's gradient was summed to fit its shape.

    That happens exactly when an elementwise op broadcast the parent (input ``position``) up
    to the output's shape, or for the bias of the fused ``linear`` op; the axes named are the
    output's axes that were summed away. Empty string otherwise.
    """
    broadcasts = ctx.broadcasts  # the op says which inputs the engine sums back (see Function)
    if not (broadcasts is True or position in (broadcasts or ())) or len(out_shape) < len(
        parent_shape
    ):
        return ""
    axes = autograd.broadcast_axes(tuple(out_shape), tuple(parent_shape))
    if not axes:
        return ""
    word = "axis" if len(axes) == 1 else "axes"
    return f"sum over {word} {', '.join(str(a) for a in axes)} (broadcast)"


def op_detail(ctx: Any) -> str:
    """The op's name plus the one argument that changes its meaning most (axis, reduction)."""
    extras = []
    axis = getattr(ctx, "axis", None)
    if axis is not None:
        extras.append(f"axis={axis}")
    reduction = getattr(ctx, "reduction", None)
    if isinstance(reduction, str) and reduction != "mean":
        extras.append(f"reduction={reduction}")
    return f"{ctx.name}({', '.join(extras)})" if extras else ctx.name


def name_map(names: Any) -> dict[int, str]:
    """Names by tensor identity, from a ``{tensor: name}`` mapping or a module's parameters."""
    if names is None:
        return {}
    if hasattr(names, "named_parameters"):
        return {id(p): n for n, p in names.named_parameters()}
    if isinstance(names, Mapping):
        return {id(t): str(n) for t, n in names.items()}
    raise TypeError(
        "names must be a {tensor: name} mapping or a module with named_parameters(), "
        f"not {type(names).__name__}"
    )


def grad_map(grads: Any) -> dict[int, np.ndarray] | None:
    """Gradients by tensor identity, from a ``BackwardTrace`` or a ``{tensor: gradient}``."""
    if grads is None:
        return None
    if hasattr(grads, "grads") and isinstance(grads.grads, Mapping):  # a BackwardTrace
        grads = grads.grads
    if not isinstance(grads, Mapping):
        raise TypeError(
            "grads must be what trace() returned or a {tensor: gradient} mapping, "
            f"not {type(grads).__name__}"
        )
    return {id(t): np.asarray(g.data if isinstance(g, Tensor) else g) for t, g in grads.items()}


class GraphIndex:
    """The graph below ``root``: its nodes in traversal order, numbered, named and labelled.

    ``order`` holds the tensors that take part in backward (the root, every op output, every
    leaf that requires grad). Inputs that do not require grad (data, labels, raw constants)
    are "constants". Ops are numbered 1, 2, 3... in the order they ran; unnamed parameters
    and unnamed constants have numbers of their own (``param#1``, ``constant#1``), so no
    sequence skips.
    """

    def __init__(self, root: Tensor, names: Any = None) -> None:
        if not isinstance(root, Tensor):
            raise TypeError(f"expected a Tensor, got {type(root).__name__}")
        self.order: list[Tensor] = autograd.toposort([root])
        self.number = {id(t): k for k, t in enumerate(self.order)}  # drawing ids
        self.names = name_map(names)
        self.constant_number: dict[int, int] = {}  # drawing ids of constants
        self._short: dict[int, str] = {}  # the label of each unnamed node
        counts = {"op": 0, "param": 0, "constant": 0}

        def count(kind: str) -> int:
            counts[kind] += 1
            return counts[kind]

        for t in self.order:
            ctx = t._ctx
            if ctx is None:
                if not self.name(t):
                    self._short[id(t)] = f"param#{count('param')}" if t.requires_grad else "leaf"
                continue
            for parent, needed in zip(ctx.parents, ctx.needs_input_grad):
                if not needed and id(parent) not in self.constant_number:
                    self.constant_number[id(parent)] = len(self.constant_number)
                    if not self.name(parent):
                        self._short[id(parent)] = _constant_label(parent, count)
            self._short[id(t)] = f"{ctx.name}#{count('op')}"

    def name(self, t: Any) -> str | None:
        """A name given in ``names``, else the tensor's own ``.name``."""
        return self.names.get(id(t)) or getattr(t, "name", None)

    def label(self, t: Any) -> str:
        """What the trace calls a node: its name, or ``matmul#5``, ``param#1``, ``constant#1``."""
        return self.name(t) or self._short[id(t)]

    def title(self, t: Tensor) -> str:
        """A drawing's first line: ``relu#4``, ``h = relu#4``, ``sum#2(axis=1)``, ``W1``."""
        if t._ctx is None:
            return self.label(t)
        op = self._short[id(t)]
        detail = op_detail(t._ctx)
        if detail != t._ctx.name:
            op += detail[len(t._ctx.name) :]
        name = self.name(t)
        return f"{name} = {op}" if name else op


def _constant_label(value: Any, count: Any) -> str:
    """A 0-d constant is shown as its value (``2``); others as ``constant#1``, ``#2``..."""
    array = value.data if isinstance(value, Tensor) else value
    if isinstance(array, Freed):  # a large constant that backward freed
        return f"constant#{count('constant')}"
    array = np.asarray(array)
    if array.ndim == 0 and array.dtype.kind in "biuf":
        return fmt(array.item())
    return f"constant#{count('constant')}"
