"""Find the wrong op, not just a wrong model: check every node of a recorded graph.

``tg.gradcheck`` says *that* a function's gradient is wrong. ``find_wrong_op`` says *which op*:
it walks the graph in order (parents first) and checks each node's backward against finite
differences of that node's own forward, re-run on the node's input arrays with the keyword
arguments it was applied with (``ctx.forward_kwargs``). A user's ``tg.Function`` with a
hand-derived backward is checked exactly like a built-in op.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_np import autograd
from tinygrad_np.compare.opcheck import OpCheck, check_op
from tinygrad_np.compare.report import ComparisonError, table
from tinygrad_np.tensor import Tensor


@dataclass
class GraphReport:
    """One ``OpCheck`` per node, in graph order; ``first_wrong`` is the earliest wrong one."""

    checks: list[OpCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def wrong(self) -> list[OpCheck]:
        return [c for c in self.checks if c.status == "wrong"]

    @property
    def first_wrong(self) -> OpCheck | None:
        wrong = self.wrong
        return wrong[0] if wrong else None

    def raise_if_failed(self) -> None:
        """Raise ``ComparisonError`` with the report when some op's backward is wrong."""
        if not self.ok:
            raise ComparisonError(str(self))

    def __str__(self) -> str:
        rows = []
        for c in self.checks:
            detail = c.message.split("\n")[0]
            detail = detail if len(detail) <= 72 else detail[:69] + "..."
            if c.status == "wrong" and c.element is not None:
                detail = f"input {c.input_index} at {c.element}"
            status = c.status.upper() if c.status == "wrong" else c.status
            rows.append([str(c.node), c.op, status, detail])
        skipped = sum(c.status == "skipped" for c in self.checks)
        lines = [
            f"find_wrong_op: {len(self.checks)} ops checked in graph order (inputs first); "
            f"{len(self.wrong)} wrong" + (f", {skipped} skipped" if skipped else ""),
            table(["node", "op", "backward", "detail"], rows),
        ]
        if self.ok:
            lines.append("every backward matches finite differences of its own forward")
        for n, check in enumerate(self.wrong):
            defined = f" ({check.function.__qualname__})" if check.function else ""
            which = "first wrong op" if n == 0 else "also wrong"
            lines.append(f"{which}: '{check.op}'{defined}, node {check.node}")
            lines.append("  " + check.describe("backward gives", "finite differences give"))
        return "\n".join(lines)

    def __repr__(self) -> str:
        first = self.first_wrong
        state = "ok" if first is None else f"first wrong op '{first.op}' (node {first.node})"
        return f"<GraphReport {state}: {len(self.checks)} ops>"


def _roots(target: Any, inputs: Sequence[Any] | None) -> list[Tensor]:
    if isinstance(target, Tensor):
        return [target]
    if not callable(target):
        raise TypeError(
            "find_wrong_op: expected a Tensor or a function of Tensors, got "
            f"{type(target).__name__}"
        )
    if inputs is None:
        raise TypeError("find_wrong_op: give the inputs to call the function with")
    tensors = []
    for x in inputs:
        if isinstance(x, Tensor):
            tensors.append(x)
        else:
            array = np.array(x, dtype=np.float64, copy=True)
            tensors.append(Tensor(array, requires_grad=True))
    with autograd.enable_grad():
        out = target(*tensors)
    return list(out) if isinstance(out, tuple | list) else [out]


def find_wrong_op(
    target: Tensor | Callable[..., Any],
    inputs: Sequence[Any] | None = None,
    eps: float = 1e-6,
    rtol: float = 1e-4,
    atol: float = 1e-8,
    seed: int = 0,
) -> GraphReport:
    """Check every op in the graph of ``target`` and name the first whose backward is wrong.

    ``target`` is a Tensor that has a graph (a loss, before backward frees it and before any
    optimizer step changes the parameters it was computed from) or a function, called on
    ``inputs`` (arrays become float64 Tensors that require grad). Each node's backward is
    compared with central differences of its own forward on its own inputs: op name, input
    index, element, and the two values are reported for the first wrong one. Ops whose
    forward is random, or that return no float output, are skipped and listed.

    >>> import numpy as np, tinygrad_np as tg
    >>> class Square(tg.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     def backward(ctx, grad_output):
    ...         (x,) = ctx.saved_tensors
    ...         return grad_output * x          # forgot the 2
    >>> x = np.array([1.0, 2.0, 3.0])
    >>> report = find_wrong_op(lambda t: Square.apply(t.exp()).sum(), [x])
    >>> report.first_wrong.op, report.first_wrong.input_index, report.first_wrong.element
    ('square', 0, (0,))
    """
    roots = _roots(target, inputs)
    for r in roots:
        if not isinstance(r, Tensor) or r._ctx is None:
            raise ValueError(
                "find_wrong_op: the output has no recorded graph; compute it from Tensors that "
                "require grad, with grad mode on"
            )
    report = GraphReport()
    nodes = [n for n in autograd.toposort(roots) if n._ctx is not None]
    if any(n._ctx.freed for n in nodes):
        raise ValueError(
            "find_wrong_op: backward() already freed this graph's values; call find_wrong_op "
            "before backward, pass retain_graph=True to backward, or give the function and "
            "its inputs instead of the loss"
        )
    for position, node in enumerate(nodes):
        ctx = node._ctx
        fn = type(ctx)
        arrays = [p.data if isinstance(p, Tensor) else p for p in ctx.parents]
        check = check_op(
            fn, arrays, ctx.forward_kwargs, ctx.needs_input_grad, eps=eps, rtol=rtol, atol=atol,
            seed=seed + position,
        )  # fmt: skip
        check.node, check.function = position, fn
        report.checks.append(check)
    return report
