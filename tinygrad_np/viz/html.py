"""HTML for Jupyter's rich display: tensors, backward traces and training histories as tables.

Jupyter calls an object's ``_repr_html_`` to show it; ``Tensor``, ``BackwardTrace`` and
``History`` hand that to the functions here. Nothing here needs more than NumPy.
"""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np

from tinygrad_np.viz.nodes import fmt, shape_text

_TABLE = 'style="border-collapse: collapse; font-family: monospace; font-size: 12px"'
_CELL = 'style="border: 1px solid #d1d5db; padding: 2px 6px; text-align: {align}"'
_HEAD = 'style="border: 1px solid #d1d5db; padding: 2px 6px; background: #f3f4f6"'
MAX_ROWS, MAX_COLS = 8, 8  # a table shows at most this many rows and columns of a tensor


def _cells(values: list[str], tag: str = "td", align: str = "right") -> str:
    style = _HEAD if tag == "th" else _CELL.format(align=align)
    return "<tr>" + "".join(f"<{tag} {style}>{escape(v)}</{tag}>" for v in values) + "</tr>"


def _table(head: list[str], rows: list[list[str]], align: str = "right") -> str:
    body = "".join(_cells(r, align=align) for r in rows)
    return f"<table {_TABLE}>{_cells(head, 'th') if head else ''}{body}</table>"


def _picks(n: int, limit: int) -> list[int | None]:
    """Indices to show along an axis of length n: all, or the first and last few (None: ...)."""
    if n <= limit:
        return list(range(n))
    half = limit // 2
    return [*range(half), None, *range(n - half, n)]


def _matrix(a: np.ndarray) -> str:
    """A 1-d or 2-d array as a table with row and column indices, cut to MAX_ROWS x MAX_COLS."""
    m = a.reshape(1, -1) if a.ndim == 1 else a
    cols = _picks(m.shape[1], MAX_COLS)
    head = [""] + ["…" if c is None else str(c) for c in cols]
    rows = []
    for r in _picks(m.shape[0], MAX_ROWS):
        if r is None:
            rows.append(["…"] + ["⋮"] * len(cols))
            continue
        label = "" if a.ndim == 1 else str(r)
        rows.append([label] + ["…" if c is None else fmt(m[r, c].item()) for c in cols])
    return _table(head, rows)


def tensor_html(t: Any) -> str:
    """A tensor for Jupyter: shape, dtype, where it came from, and its values.

    >>> import tinygrad_np as tg
    >>> html = tensor_html(tg.tensor([[1.0, 2.0]], requires_grad=True) * 3)
    >>> "shape (1, 2)" in html, "grad_fn=&lt;mul&gt;" in html, "<td" in html
    (True, True, True)
    """
    a = np.asarray(t.data)
    facts = [f"shape {shape_text(a.shape)}", f"dtype {a.dtype}"]
    if t._ctx is not None:
        facts.append(f"grad_fn=<{t._ctx.name}>")
    elif t.requires_grad:
        facts.append("requires_grad=True (a leaf: backward fills its .grad)")
    if t.grad is not None:
        facts.append(f"grad: {shape_text(t.grad.shape)} (see .grad)")
    name = getattr(t, "name", None)
    title = f"<b>Tensor{' ' + escape(name) if name else ''}</b>: " + escape(", ".join(facts))
    if a.ndim == 0:
        body = f"<code>{escape(fmt(a.item()))}</code>"
    elif a.ndim <= 2 and a.dtype.kind in "biuf":
        body = _matrix(a)
    else:
        text = np.array2string(a, separator=", ", threshold=200, edgeitems=3)
        body = f"<pre>{escape(text)}</pre>"
    return f"<div>{title}<br>{body}</div>"


def trace_html(tr: Any) -> str:
    """A ``BackwardTrace`` as an HTML table: one row per gradient an op sends to an input."""
    from tinygrad_np.viz.trace import TABLE_HEAD

    first, *rest = tr.header.splitlines()
    rows = []
    for s in tr.steps:
        left = [str(s.number), s.node, shape_text(s.shape), fmt(s.grad_norm), s.grad_values, "→"]
        for sent in s.sent or [None]:
            if sent is None:
                right = [""] * 5
            elif sent.norm is None:
                shape = shape_text(sent.shape) if sent.shape is not None else ""
                right = [f"[{sent.position}] {sent.to}", shape, "–", "no gradient"]
                right.append(sent.note or "(constant)")
            else:
                right = [f"[{sent.position}] {sent.to}", shape_text(sent.shape)]
                right += [fmt(sent.norm), sent.values, sent.note]
            rows.append(left + right)
            left = [""] * len(left)
    parts = [f"<p><b>{escape(first)}</b><br>{'<br>'.join(escape(x) for x in rest)}</p>"]
    parts.append(_table(list(TABLE_HEAD), rows, align="left"))
    if tr.leaves:
        leaves = [[label, shape_text(shape), fmt(n), v] for label, shape, n, v in tr.leaves]
        parts.append("<p>gradients added to the leaves' <code>.grad</code>:</p>")
        parts.append(_table(["leaf", "shape", "norm", "values"], leaves, align="left"))
    return "<div>" + "".join(parts) + "</div>"


def _best(key: str, values: list[float]) -> tuple[float, int]:
    """The best value and its position: lowest for losses, highest for anything else."""
    array = np.array(values, dtype=float)
    k = int(np.nanargmin(array) if "loss" in key else np.nanargmax(array))
    return float(array[k]), k


def history_html(history: Any) -> str:
    """A ``History`` for Jupyter: per metric, the first, last and best value, and when.

    >>> from tinygrad_np.history import History
    >>> html = history_html(History({"epoch": [1, 2, 3], "loss": [1.0, 0.4, 0.5]}))
    >>> "3 epochs" in html, ">0.4</td>" in html  # the lowest loss
    (True, True)
    """
    records = history.history
    epochs = records.get("epoch", [])
    if not epochs:
        return "<div><b>History</b>: no epochs</div>"
    rows = []
    for key, values in records.items():
        numbers = [v for v in values if isinstance(v, (int, float, np.floating))]
        if key == "epoch" or not numbers or len(numbers) != len(values):
            continue
        best, when = "–", "–"  # no "best" learning rate
        if key not in ("lr", "learning_rate"):
            value, k = _best(key, numbers)
            best, when = fmt(value), str(epochs[k] if len(epochs) == len(values) else k + 1)
        rows.append([key, fmt(values[0]), fmt(values[-1]), best, when])
    head = ["metric", f"epoch {epochs[0]}", f"epoch {epochs[-1]}", "best", "at epoch"]
    title = f"<b>History</b>: {len(epochs)} epochs (<code>.plot()</code> draws the curves)"
    return f"<div>{title}<br>{_table(head, rows)}</div>"
