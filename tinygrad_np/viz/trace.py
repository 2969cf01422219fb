"""``trace``: run backward and keep a readable account of every chain-rule step.

For each op, in the order backward visits them (reverse topological order), the trace lists
the gradient arriving at the op's output and what the op sends to each of its inputs: shape,
norm, the values themselves when there are at most four, and whether the gradient was summed
over broadcast axes. Leaves receive exactly what ``backward()`` would give them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from tinygrad_np import autograd
from tinygrad_np.tensor import Tensor
from tinygrad_np.viz.nodes import (
    NORM_NOTE,
    GraphIndex,
    broadcast_note,
    fmt,
    norm,
    shape_text,
    summarize,
)


@dataclass(frozen=True)
class GradientSent:
    """What one op sends to one of its inputs during backward."""

    position: int  # which input of the op (0 = first)
    to: str  # the input's label: its name, or "matmul#5", "param#1", "constant#1"
    shape: tuple[int, ...] | None
    norm: float | None  # None: no gradient (a constant, such as the data or the labels)
    values: str  # the gradient itself when it has at most four elements, else ""
    note: str  # "sum over axis 0 (broadcast)" or ""


@dataclass(frozen=True)
class BackwardStep:
    """One op visited by backward: the gradient that reached it and what it passed on."""

    number: int  # 1 for the op that made the output, then onwards towards the inputs
    node: str  # the op as drawn: "relu#4", "sum#2(axis=1)", "loss = cross_entropy#9"
    op: str  # the op's name, e.g. "relu"
    shape: tuple[int, ...]
    grad_norm: float
    grad_values: str
    sent: tuple[GradientSent, ...]


def _values(array: Any) -> str:
    return summarize(array) if np.size(array) <= 4 else ""


class BackwardTrace:
    """The record of one traced backward pass; ``str()`` (and the REPL) shows it as a table.

    ``steps``: the ``BackwardStep`` of each op, in visiting order. ``grads``: the gradient of
    the output with respect to every node of the graph, leaves and intermediates
    (``{tensor: ndarray}``; pass the trace to ``to_dot(..., grads=trace)`` to draw them).
    ``leaves``: ``(label, shape, norm, values)`` for each leaf that received a gradient.
    """

    def __init__(self, header: str) -> None:
        self.header = header
        self.steps: list[BackwardStep] = []
        self.grads: dict[Tensor, np.ndarray] = {}
        self.leaves: list[tuple[str, tuple[int, ...], float, str]] = []
        # for backward_steps: the tensor of each step, and each gradient sent, by
        # (id of the op's output, input position)
        self._nodes: list[Tensor] = []
        self._sent: dict[tuple[int, int], np.ndarray] = {}

    def __str__(self) -> str:
        return _format(self)

    def __repr__(self) -> str:
        return _format(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython
        printer.text(_format(self))

    def _repr_html_(self) -> str:  # Jupyter: the same table, as HTML
        from tinygrad_np.viz.html import trace_html

        return trace_html(self)


TABLE_HEAD = ("step", "op", "out shape", "grad out: norm", "values", "", "to input", "shape")
TABLE_HEAD += ("grad sent: norm", "values", "")


def _format(tr: BackwardTrace) -> str:
    """Align the steps as a table so the chain rule reads top to bottom."""
    head = TABLE_HEAD
    rows: list[tuple[str, ...]] = []
    for s in tr.steps:
        left = (str(s.number), s.node, shape_text(s.shape), fmt(s.grad_norm), s.grad_values, "->")
        for sent in s.sent:
            shape = shape_text(sent.shape) if sent.shape is not None else ""
            if sent.norm is None:
                note = sent.note or "(constant)"
                right = (f"[{sent.position}] {sent.to}", shape, "-", "no gradient", note)
            else:
                grad = (fmt(sent.norm), sent.values)
                right = (f"[{sent.position}] {sent.to}", shape, *grad, sent.note)
            rows.append(left + right)
            left = ("",) * len(left)
        if not s.sent:
            rows.append(left + ("",) * 5)
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(cells: tuple[str, ...]) -> str:
        parts = [
            c.rjust(w) if i == 0 else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ]
        return "  ".join(parts).rstrip()

    out = [tr.header, "", line(head), *(line(r) for r in rows)]
    if tr.leaves:
        out += ["", "gradients added to the leaves' .grad:"]
        cells = [
            ("", label, shape_text(shape), fmt(n), values) for label, shape, n, values in tr.leaves
        ]
        lw = [max(len(c[i]) for c in cells) for i in range(5)]
        out += ["  ".join(c.ljust(w) for c, w in zip(row, lw)).rstrip() for row in cells]
    return "\n".join(out) + "\n"


def trace(
    tensor: Tensor,
    gradient: Any = None,
    retain_graph: bool = False,
    names: Any = None,
    file: str | os.PathLike | IO[str] | None = None,
) -> BackwardTrace:
    """Run ``tensor.backward(gradient)`` and return a step-by-step account of it.

    Leaves' ``.grad`` end up exactly as after ``backward()``. ``names`` works as in ``to_dot``
    (a ``{tensor: name}`` mapping or a module). ``file``: a path or an open text stream to
    write the table to as well. Print the result (or show it in a REPL) to read it.

    >>> import tinygrad_np as tg
    >>> x = tg.tensor([1.0, 2.0], requires_grad=True); x.name = "x"
    >>> w = tg.tensor([3.0, 4.0], requires_grad=True); w.name = "w"
    >>> tr = trace((x * w).sum())
    >>> [step.op for step in tr.steps], x.grad.tolist()
    (['sum', 'mul'], [3.0, 4.0])
    """
    (root,), (seed,) = autograd._seeds("trace", [tensor], [gradient], False)
    index = GraphIndex(root, names)
    seed_text = "1" if gradient is None else f"the given one, norm {fmt(norm(seed))}"
    header = (
        f"backward from {index.title(root)} (shape {shape_text(root.shape)}, value "
        f"{summarize(root.data)}); starting gradient {seed_text}\n"
        "each step: the gradient arriving at an op's output, and what its backward sends to "
        f"each input\n(norm: {NORM_NOTE}; values are shown when there are at most 4)"
    )
    tr = BackwardTrace(header)
    leaf_grads: dict[int, Any] = {}

    def hook(node: Tensor, grad_output: Any, sent: tuple) -> None:
        ctx = node._ctx
        tr.grads[node] = np.array(grad_output)  # a copy: later steps must not change it
        records = []
        for i, (parent, pg, needed) in enumerate(zip(ctx.parents, sent, ctx.needs_input_grad)):
            if pg is None:
                shape = tuple(parent.shape) if hasattr(parent, "shape") else None
                note = "" if not needed else "(its backward returned None)"
                records.append(GradientSent(i, index.label(parent), shape, None, "", note))
                continue
            if parent._ctx is None:
                key = id(parent)
                leaf_grads[key] = leaf_grads[key] + pg if key in leaf_grads else pg
            note = broadcast_note(ctx, i, parent.shape, node.shape)
            tr._sent[(id(node), i)] = np.array(pg)
            records.append(
                GradientSent(i, index.label(parent), tuple(pg.shape), norm(pg), _values(pg), note)
            )
        tr._nodes.append(node)
        tr.steps.append(
            BackwardStep(
                len(tr.steps) + 1,
                index.title(node),
                ctx.name,
                tuple(node.shape),
                norm(grad_output),
                _values(grad_output),
                tuple(records),
            )
        )

    autograd.run_backward([root], [seed], retain_graph, False, hook=hook)
    for t in index.order:
        if t._ctx is None and id(t) in leaf_grads:
            g = np.array(leaf_grads[id(t)], dtype=t.dtype)  # as backward() stores it
            tr.grads[t] = g
            tr.leaves.append((index.label(t), tuple(t.shape), norm(g), _values(g)))
        elif t._ctx is None and t is root:  # backward of a leaf itself: its grad is the seed
            tr.grads[t] = np.array(seed)
            tr.leaves.append((index.label(t), tuple(t.shape), norm(seed), _values(seed)))
    _write(str(tr), file)
    return tr


def _write(text: str, file: Any) -> None:
    if file is None:
        return
    if hasattr(file, "write"):
        file.write(text)
        return
    with open(file, "w", encoding="utf-8") as f:
        f.write(text)
