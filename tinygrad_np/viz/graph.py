"""Draw the computation graph behind a tensor as Graphviz DOT text (or a ``graphviz.Digraph``).

Data flows along the arrows, from inputs to the output. Blue boxes are ops, yellow ovals the
parameters that receive ``.grad``, grey dashed ovals the constants (data, labels) that do not,
and the red box is the tensor you asked about (usually the loss). An edge labelled
``sum over axis 0 (broadcast)`` is one where backward summed the gradient down to the
parent's shape because the forward broadcast it (a bias added to every row).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tinygrad_np.tensor import Tensor
from tinygrad_np.viz.modules import ModuleCall, record_modules
from tinygrad_np.viz.nodes import (
    NORM_NOTE,
    GraphIndex,
    broadcast_note,
    fmt,
    grad_map,
    norm,
    shape_text,
    summarize,
    summarize_grad,
)

_STYLE = {
    "op": 'shape=box, style="rounded,filled", fillcolor="#dbeafe", color="#1d4ed8"',
    "output": 'shape=box, style="rounded,filled,bold", fillcolor="#fecaca", color="#b91c1c"',
    "param": 'shape=box, style=filled, fillcolor="#fde68a", color="#b45309"',
    "const": (
        'shape=box, style="dashed,filled", fillcolor="#f3f4f6", color="#9ca3af", '
        'fontcolor="#4b5563"'
    ),
    "module": 'shape=box3d, style=filled, fillcolor="#e9d5ff", color="#7e22ce"',
}
_LEGEND = {
    "op": "blue: ops",
    "output": "red: the output",
    "module": "purple: a layer drawn as one box",
    "param": "yellow: parameters (they get .grad)",
    "const": "grey dashed: constants (no grad)",
}


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _label(lines: list[str]) -> str:
    return '"' + "\\n".join(_escape(line) for line in lines) + '"'


def _grad_of(t: Tensor, grads: dict[int, Any] | None) -> Any:
    """The gradient to show: from a recorded backward if given, else a leaf's ``.grad``."""
    if grads is not None and id(t) in grads:
        return grads[id(t)]
    if t._ctx is None and t.grad is not None:
        return t.grad.data
    return None


def _tensor_lines(
    t: Tensor, index: GraphIndex, show_data: bool, show_grad: bool, grads: Any
) -> list[str]:
    lines = [index.title(t), f"{shape_text(t.shape)} {t.dtype}"]
    if show_data:
        lines.append("value: " + summarize(t.data))
    g = _grad_of(t, grads) if show_grad else None
    if g is not None:
        lines.append(summarize_grad(g))
    return lines


def _constant_lines(value: Any, index: GraphIndex, show_data: bool) -> list[str]:
    lines = [index.label(value)]
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        lines.append(f"{shape_text(value.shape)} {value.dtype}")
        if show_data:
            lines.append("value: " + summarize(value.data if isinstance(value, Tensor) else value))
    else:
        lines.append(type(value).__name__)
    return lines


def _module_lines(
    call: ModuleCall, index: GraphIndex, show_data: bool, show_grad: bool, grads: Any
) -> list[str]:
    ins = ", ".join(shape_text(t.shape) for t in call.inputs) or "()"
    outs = ", ".join(shape_text(t.shape) for t in call.outputs)
    lines = [f"{call.name}: {call.kind}", f"in {ins} → out {outs}"]
    if call.params:
        lines.append("params: " + ", ".join(f"{n} {shape_text(p.shape)}" for n, p in call.params))
    param_grads = [(n, p.grad.data) for n, p in call.params if p.grad is not None]
    if show_grad and param_grads:
        lines.append("grad norm: " + ", ".join(f"{n} {fmt(norm(g))}" for n, g in param_grads))
    if show_data and len(call.outputs) == 1:
        lines.append("value: " + summarize(call.outputs[0].data))
    if show_grad and len(call.outputs) == 1:
        g = _grad_of(call.outputs[0], grads)
        if g is not None:
            lines.append(summarize_grad(g))
    return lines


@dataclass
class Drawing:
    """What a drawing holds before it is written as DOT: nodes and edges in drawing order.

    ``nodes``: ``(node id, kind, label lines, tensor or None)``; ``edges``: ``Edge``s. The
    step-through (``backward_steps``) writes the same structure with its own colours.
    """

    nodes: list[tuple[str, str, list[str], Any]]
    edges: list[Edge]
    kinds: set[str]
    rankdir: str
    legend: bool


@dataclass
class Edge:
    src: str
    dst: str
    note: str  # "sum over axis 0 (broadcast)" or ""
    constant: bool  # from an input that needs no gradient
    child: Any = None  # the tensor whose op takes src as input ``position``
    position: int = 0


def build(
    tensor: Tensor,
    show_data: bool = True,
    show_grad: bool = True,
    collapse: record_modules | None = None,
    names: Any = None,
    grads: Any = None,
    show_constants: bool = True,
    rankdir: str = "TB",
    legend: bool = True,
    index: GraphIndex | None = None,
) -> Drawing:
    """The nodes and edges ``to_dot`` draws (see there for the arguments)."""
    if collapse is not None and not isinstance(collapse, record_modules):
        raise TypeError(
            "to_dot: collapse= takes the recorder from `with tg.viz.record_modules(model) as "
            f"rec:` around the forward pass, not {type(collapse).__name__}"
        )
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"to_dot: rankdir must be 'TB', 'LR', 'BT' or 'RL', got {rankdir!r}")
    index = GraphIndex(tensor, names) if index is None else index
    grads = grad_map(grads)

    # which collapsed box (if any) each node is drawn inside
    calls: list[ModuleCall] = []
    group_of: dict[int, int] = {}
    group_inputs: list[set[int]] = []
    for call in collapse.calls if collapse is not None else []:
        if not any(m in index.number and index.order[index.number[m]]._ctx for m in call.members):
            continue  # this call built no op of the graph being drawn
        for m in call.members:
            if m in index.number:
                group_of.setdefault(m, len(calls))
        group_inputs.append({id(t) for t in call.inputs})
        calls.append(call)

    def node_id(t: Any) -> str:
        g = group_of.get(id(t))
        return f"m{g}" if g is not None else f"n{index.number[id(t)]}"

    drawing = Drawing([], [], set(), rankdir, legend)
    drawn: set[str] = set()
    seen_edges: set[tuple[str, str]] = set()

    def add_node(node: str, kind: str, lines: list[str], t: Any) -> None:
        if node not in drawn:
            drawn.add(node)
            drawing.kinds.add(kind)
            drawing.nodes.append((node, kind, lines, t))

    for t in index.order:
        dst = node_id(t)
        if dst.startswith("m"):
            call = calls[int(dst[1:])]
            lines = _module_lines(call, index, show_data, show_grad, grads)
            add_node(dst, "module", lines, None)
        else:
            kind = "output" if t is tensor and t._ctx is not None else "op"
            if t._ctx is None:
                kind = "param" if t.requires_grad else "const"
            add_node(dst, kind, _tensor_lines(t, index, show_data, show_grad, grads), t)
        ctx = t._ctx
        if ctx is None:
            continue
        for i, (parent, needed) in enumerate(zip(ctx.parents, ctx.needs_input_grad)):
            note = ""
            if needed:
                src = node_id(parent)
                if not dst.startswith("m"):
                    note = broadcast_note(ctx, i, parent.shape, t.shape)
            else:
                in_group = dst.startswith("m") and id(parent) not in group_inputs[int(dst[1:])]
                if not show_constants or in_group:
                    continue  # constants inside a collapsed module stay inside it
                src = f"c{index.constant_number[id(parent)]}"
                add_node(src, "const", _constant_lines(parent, index, show_data), parent)
            if src == dst:
                continue
            if src.startswith("m") or dst.startswith("m"):
                if (src, dst) in seen_edges:
                    continue
                seen_edges.add((src, dst))
            drawing.edges.append(Edge(src, dst, note, not needed, t, i))
    return drawing


def graph_head(drawing: Drawing, caption: list[str] | None = None) -> list[str]:
    """The graph, node and edge defaults; the legend (and a caption) under the drawing."""
    graph_attrs = f"rankdir={drawing.rankdir}, fontname=Helvetica, fontsize=10"
    lines = list(caption or [])
    if drawing.legend:  # name only the kinds of node this drawing has
        lines.append("    ".join(v for k, v in _LEGEND.items() if k in drawing.kinds))
    norms = ("grad: norm", "grad norm")
    if any(line.startswith(norms) for _, _, node_lines, _ in drawing.nodes for line in node_lines):
        lines.append(f"grad: norm = {NORM_NOTE}; in [lowest, highest element]")
    if lines:
        graph_attrs += f", labelloc=b, label={_label(lines)}"
    return [
        f"\tgraph [{graph_attrs}]\n",
        "\tnode [fontname=Helvetica, fontsize=10]\n",
        '\tedge [fontname=Helvetica, fontsize=9, color="#4b5563"]\n',
    ]


def _body(tensor: Tensor, **kwargs: Any) -> list[str]:
    """The DOT statements, one per line, each ending in a newline (as graphviz stores them)."""
    drawing = build(tensor, **kwargs)
    nodes = [
        f'\t{node} [label={_label(lines)}, class="{kind}", {_STYLE[kind]}]\n'
        for node, kind, lines, _ in drawing.nodes
    ]
    edges = []
    for e in drawing.edges:
        attrs = ""
        if e.constant:
            attrs = ' [style=dashed, color="#9ca3af"]'
        elif e.note:
            attrs = f' [label={_label([e.note])}, fontcolor="#b45309"]'
        edges.append(f"\t{e.src} -> {e.dst}{attrs}\n")
    return graph_head(drawing) + nodes + edges


def to_dot(
    tensor: Tensor,
    show_data: bool = True,
    show_grad: bool = True,
    collapse: record_modules | None = None,
    names: Any = None,
    grads: Any = None,
    show_constants: bool = True,
    rankdir: str = "TB",
    legend: bool = True,
) -> str:
    """The computation graph behind ``tensor`` as Graphviz DOT text.

    Each op box shows its name and number (``matmul#5``, the same number the trace uses), the
    output's shape and dtype, a value summary, and, when known, the gradient. Leaves show
    ``.grad`` after ``backward()``; intermediate results show gradients only when you pass
    ``grads=`` (what ``trace()`` returned, or a ``{tensor: gradient}`` mapping).

    ``names``: a ``{tensor: name}`` mapping or a module (its ``named_parameters()``); otherwise
    a tensor's ``.name`` is used. ``collapse``: a ``record_modules`` recorder; each recorded
    layer is drawn as one box. ``show_constants=False`` leaves out inputs that need no grad.
    ``rankdir``: "TB" draws top to bottom (inputs at the top, the loss at the bottom; fits a
    page), "LR" left to right. A gradient with more than four elements is summarised by its
    norm (the square root of the sum of its squared elements) and its range; smaller ones are
    written out. The text is deterministic: the same graph gives the same text, run after run.

    >>> import tinygrad_np as tg
    >>> w = tg.tensor([3.0, 4.0], requires_grad=True); w.name = "w"
    >>> dot = to_dot((w * w).sum())
    >>> dot.startswith("digraph computation {"), "mul#1" in dot, "sum#2" in dot
    (True, True, True)
    """
    body = _body(
        tensor,
        show_data=show_data,
        show_grad=show_grad,
        collapse=collapse,
        names=names,
        grads=grads,
        show_constants=show_constants,
        rankdir=rankdir,
        legend=legend,
    )
    return "digraph computation {\n" + "".join(body) + "}\n"


def draw_graph(tensor: Tensor, **kwargs: Any) -> Any:
    """The graph as a ``graphviz.Digraph`` (shows inline in Jupyter; ``.render()`` writes files).

    Takes the same keyword arguments as ``to_dot``, and its ``.source`` is ``to_dot``'s text.
    Needs the ``graphviz`` Python package (``pip install tinygrad-np[viz]``), and the Graphviz
    ``dot`` program to render.

    >>> import tinygrad_np as tg
    >>> x = tg.tensor([1.0, 2.0], requires_grad=True)
    >>> draw_graph(x.relu().sum()).source == to_dot(x.relu().sum())
    True
    """
    try:
        import graphviz
    except ImportError as e:
        raise ImportError(
            "draw_graph needs the graphviz Python package: pip install tinygrad-np[viz] "
            "(or use to_dot(), which needs nothing)"
        ) from e
    return graphviz.Digraph(name="computation", body=_body(tensor, **kwargs))
