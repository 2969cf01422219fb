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

    One element: ``0.6931``; up to four: ``[1, 2, 3]``; more: ``mean 0.1 in [-1, 2]``.

    >>> summarize(np.array([1.0, 2.0])), summarize(np.arange(10.0))
    ('[1, 2]', 'mean 4.5 in [0, 9]')
    """
    if isinstance(array, Freed):  # backward(retain_graph=True) keeps the values
        return "freed by backward"
    a = np.asarray(array)
    if a.size == 0:
        return "empty"
    if a.size == 1:
        return fmt(a.reshape(()).item())
    if a.size <= 4:
        return "[" + ", ".join(fmt(v) for v in a.ravel().tolist()) + "]"
    return f"mean {fmt(a.mean())} in [{fmt(a.min())}, {fmt(a.max())}]"


def summarize_grad(array: Any) -> str:
    """Like ``summarize``, but the norm instead of the mean: ``|grad| 0.106 in [-0.01, 0.02]``."""
    a = np.asarray(array)
    if a.size <= 4:
        return "grad: " + summarize(a)
    return f"|grad| {fmt(norm(a))} in [{fmt(a.min())}, {fmt(a.max())}]"


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
    return {id(t): np.asarray(getattr(g, "data", g)) for t, g in grads.items()}


class GraphIndex:
    """The graph below ``root``: its nodes in traversal order, numbered, named and labelled.

    ``order`` holds the tensors that take part in backward (the root, every op output, every
    leaf that requires grad). Inputs that do not require grad (data, labels, raw constants)
    are "constants": numbered separately, in the order the ops that use them appear.
    """

    def __init__(self, root: Tensor, names: Any = None) -> None:
        if not isinstance(root, Tensor):
            raise TypeError(f"expected a Tensor, got {type(root).__name__}")
        self.order: list[Tensor] = autograd.toposort([root])
        self.number = {id(t): k for k, t in enumerate(self.order)}
        self.names = name_map(names)
        self.constant_number: dict[int, int] = {}
        for t in self.order:
            ctx = t._ctx
            if ctx is None:
                continue
            for parent, needed in zip(ctx.parents, ctx.needs_input_grad):
                if not needed and id(parent) not in self.constant_number:
                    self.constant_number[id(parent)] = len(self.constant_number)

    def name(self, t: Any) -> str | None:
        """A name given in ``names``, else the tensor's own ``.name``."""
        return self.names.get(id(t)) or getattr(t, "name", None)

    def label(self, t: Any) -> str:
        """What the trace calls a node: its name, or ``matmul#5``, ``leaf#0``, ``const#1``."""
        name = self.name(t)
        if name:
            return name
        if id(t) in self.number:
            k = self.number[id(t)]
            return f"{t._ctx.name}#{k}" if t._ctx is not None else f"leaf#{k}"
        return f"const#{self.constant_number[id(t)]}"

    def title(self, t: Tensor) -> str:
        """A drawing's first line: ``relu#4``, ``h = relu#4``, ``sum#2(axis=1)``, ``W1``."""
        if t._ctx is None:
            return self.label(t)
        op = f"{t._ctx.name}#{self.number[id(t)]}"
        detail = op_detail(t._ctx)
        if detail != t._ctx.name:
            op += detail[len(t._ctx.name) :]
        name = self.name(t)
        return f"{name} = {op}" if name else op
