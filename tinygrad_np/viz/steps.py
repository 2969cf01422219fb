"""``backward_steps``: the backward pass as a sequence of pictures, one per op.

Frame k shows the graph with the k-th op backward visits highlighted (orange), every gradient
sent so far written on its edge (red; the edges of this step drawn bold), and, on each node,
its gradient once it is complete, that is once every op that uses the node has sent its
share. A node used by two ops gets two red edges and, on the node, their sum.

All frames share one layout: text that is not known yet is already there, drawn in a
transparent colour, so nothing moves from one picture to the next. Rendering needs the
``graphviz`` package and Graphviz's ``dot`` program (the ``viz`` extra); the DOT text does not.
"""

from __future__ import annotations

import io
import os
from html import escape
from pathlib import Path
from typing import Any

from tinygrad_np import autograd
from tinygrad_np.tensor import Tensor
from tinygrad_np.viz.graph import _STYLE, Drawing, build
from tinygrad_np.viz.nodes import NORM_NOTE, GraphIndex, summarize_grad
from tinygrad_np.viz.trace import BackwardTrace, trace

_NOW = 'shape=box, style="rounded,filled,bold", fillcolor="#fdba74", color="#c2410c", penwidth=3'
# Text not known yet is drawn in a colour with zero alpha: invisible in PNGs; Graphviz's SVG
# writer drops the alpha, so SVGs get fill="none" for that colour instead (_svg).
_KNOWN, _HIDDEN = "#b91c1c", "#fe01fe00"
KEY = f"orange: the op backward is at; red: gradients known so far (norm = {NORM_NOTE})"


def _html_label(lines: list[tuple[str, str | None]]) -> str:
    """A Graphviz HTML-like label: (text, colour or None for the default) per line."""
    parts = []
    for text, colour in lines:
        text = escape(text, quote=True)
        parts.append(f'<FONT COLOR="{colour}">{text}</FONT>' if colour else text)
    return "<" + "<BR/>".join(parts) + ">"


def _rule(ctx: Any) -> str:
    """The op's math in one line: the first line of its class docstring, if it has one."""
    doc = (type(ctx).__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


class BackwardFrame:
    """One picture of the step-through: ``source`` (DOT), ``caption`` (lines of text)."""

    def __init__(self, number: int, total: int, source: str, caption: list[str]) -> None:
        self.number, self.total = number, total
        self.source = source  # without the caption, so every frame has the same layout
        self.caption = caption
        self._svg: str | None = None

    def dot(self, caption: bool = True) -> str:
        """The DOT text; with ``caption`` the caption is written under the graph."""
        if not caption:
            return self.source
        label = "\\l".join(_escape(line) for line in [*self.caption, KEY]) + "\\l"
        return self.source.replace(
            "\tgraph [", f'\tgraph [labelloc=t, labeljust=l, label="{label}", ', 1
        )

    def svg(self, caption: bool = False) -> str:
        """The frame rendered as SVG text (needs Graphviz)."""
        if caption:
            return _svg(self.dot(caption=True))
        if self._svg is None:
            self._svg = _svg(self.source)
        return self._svg

    def png(self, caption: bool = False, dpi: int = 96) -> bytes:
        """The frame rendered as PNG bytes (needs Graphviz)."""
        source = self.dot(caption=True) if caption else self.source
        return _render(source.replace("\tgraph [", f"\tgraph [dpi={dpi}, ", 1), "png")

    def html(self) -> str:
        """The caption as HTML, then the picture."""
        head, *rest = self.caption
        lines = "".join(f"<br>{escape(line)}" for line in rest)
        return f"<div><p><b>{escape(head)}</b>{lines}</p>{self.svg()}</div>"

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:
        return f"BackwardFrame({self.number}/{self.total}: {self.caption[0]})"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _svg(source: str) -> str:
    text = _render(source, "svg").decode("utf-8")
    return text.replace(f'fill="{_HIDDEN[:7]}"', 'fill="none"')


def _caption_png(lines: list[str]) -> bytes:
    """The caption alone, in Graphviz's font, to go under a frame of the GIF."""
    text = "\\l".join(_escape(line) for line in [*lines, KEY]) + "\\l"
    source = (
        "digraph caption {\n\tgraph [dpi=96, margin=0.1, bgcolor=white]\n"
        f'\tc [shape=plaintext, fontname=Helvetica, fontsize=10, label="{text}"]\n}}\n'
    )
    return _render(source, "png")


def _render(source: str, fmt: str) -> bytes:
    try:
        import graphviz
    except ImportError as e:
        raise ImportError(
            "backward_steps: rendering needs the graphviz Python package: "
            "pip install tinygrad-np[viz] (each frame's .dot() text needs nothing)"
        ) from e
    try:
        return graphviz.Source(source).pipe(format=fmt)
    except graphviz.ExecutableNotFound as e:
        raise RuntimeError(
            "backward_steps: rendering needs Graphviz's `dot` program "
            "(apt-get install graphviz, brew install graphviz or conda install graphviz)"
        ) from e


class BackwardSteps:
    """The frames of one backward pass, in the order backward visits the ops.

    ``len(steps)``, ``steps[k]`` (a ``BackwardFrame``), iteration; ``steps.trace`` is the
    ``BackwardTrace`` of the same pass. In Jupyter the object shows itself: a slider (and a
    play button) when ipywidgets is installed, else every frame, one under the other.
    ``save_gif(path)`` and ``save_svgs(folder)`` export it.
    """

    def __init__(self, frames: list[BackwardFrame], tr: BackwardTrace) -> None:
        self.frames = frames
        self.trace = tr

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, k: int) -> BackwardFrame:
        return self.frames[k]

    def __iter__(self):
        return iter(self.frames)

    def __repr__(self) -> str:
        ops = ", ".join(step.node for step in self.trace.steps)
        return f"BackwardSteps({len(self)} frames: {ops})"

    def html(self) -> str:
        """Every frame, one under the other, as one HTML fragment (what shows without widgets)."""
        return "<div>" + "<hr>".join(frame.html() for frame in self.frames) + "</div>"

    def _repr_html_(self) -> str:
        return self.html()

    def widget(self) -> Any:
        """An ipywidgets box: a play button and a slider over the frames, and the frame.

        The slider, the play button and the frames are linked in the browser (``jslink``),
        so the controls also work on a page saved with its widget state, without a kernel.
        """
        import ipywidgets as widgets

        pictures = [widgets.HTML(frame.html()) for frame in self.frames]  # rendered once
        stack = widgets.Stack(pictures, selected_index=0)
        labels = [(f"{f.number} of {f.total}", f.number - 1) for f in self.frames]
        slider = widgets.SelectionSlider(options=labels, value=0, description="step")
        play = widgets.Play(value=0, min=0, max=len(self) - 1, interval=1500)
        box = widgets.VBox([widgets.HBox([play, slider]), stack])
        box.links = [  # kept so they can be inspected; the browser does the work
            widgets.jslink((play, "value"), (slider, "index")),
            widgets.jslink((slider, "index"), (stack, "selected_index")),
        ]
        return box

    def show(self, widget: bool | None = None) -> None:
        """Display in Jupyter: a slider (``widget=True``, the default when ipywidgets is
        installed) or every frame in sequence (``widget=False``)."""
        from IPython.display import HTML, display

        if widget is None:
            try:
                import ipywidgets
            except ImportError:
                widget = False
            else:
                widget = hasattr(ipywidgets, "Stack")  # ipywidgets 8 or later
        if not widget:
            display(HTML(self.html()))
            return
        bundle = dict(self.widget()._repr_mimebundle_())
        bundle["text/html"] = self.html()  # for viewers that cannot show widgets
        display(bundle, raw=True)

    def _ipython_display_(self) -> None:
        self.show()

    def save_gif(self, path: str | os.PathLike, seconds_per_frame: float = 1.5) -> Path:
        """Write an animated GIF, one frame per step, its caption under the graph (needs
        Pillow and Graphviz). Returns the path."""
        try:
            from PIL import Image
        except ImportError as e:
            raise ImportError("save_gif needs Pillow: pip install tinygrad-np[viz]") from e

        def opaque(png: bytes) -> Any:  # Graphviz leaves the margins transparent
            image = Image.open(io.BytesIO(png)).convert("RGBA")
            return Image.alpha_composite(Image.new("RGBA", image.size, "white"), image)

        graphs = [opaque(f.png()).convert("RGB") for f in self]
        captions = [opaque(_caption_png(f.caption)).convert("RGB") for f in self]
        width = max(im.width for im in graphs + captions)
        height = max(im.height for im in graphs) + max(im.height for im in captions)
        frames = []
        for graph, caption in zip(graphs, captions):  # same layout: only colours change
            canvas = Image.new("RGB", (width, height), "white")
            canvas.paste(graph, ((width - graph.width) // 2, 0))
            canvas.paste(caption, (0, graph.height))
            frames.append(canvas.quantize(colors=255))
        path = Path(path)
        frames[0].save(
            path,
            save_all=True,
            append_images=frames[1:],
            duration=int(seconds_per_frame * 1000),
            loop=0,
        )
        return path

    def save_svgs(self, folder: str | os.PathLike) -> list[Path]:
        """Write ``step_01.svg``, ``step_02.svg``... (each with its caption) into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        width = len(str(len(self)))
        paths = []
        for frame in self:
            path = folder / f"step_{frame.number:0{max(2, width)}d}.svg"
            path.write_text(frame.svg(caption=True), encoding="utf-8")
            paths.append(path)
        return paths


def _consumers(drawing: Drawing, step_of: dict[str, int]) -> dict[str, list[tuple[int, str]]]:
    """For each node: (step, consumer node) of every op that sends it a gradient."""
    found: dict[str, list[tuple[int, str]]] = {}
    for e in drawing.edges:
        if not e.constant:
            found.setdefault(e.src, []).append((step_of[e.dst], e.dst))
    return found


def backward_steps(
    tensor: Tensor,
    gradient: Any = None,
    names: Any = None,
    retain_graph: bool = False,
    show_data: bool = True,
    rankdir: str = "TB",
) -> BackwardSteps:
    """Run ``tensor.backward(gradient)`` and return one frame per op, in backward order.

    Leaves' ``.grad`` end up exactly as after ``backward()``. ``names`` and ``rankdir`` work
    as in ``to_dot``. Each frame's caption says which op backward is at, its rule (the math
    line of the op's docstring), the gradient that reached it and what it sends to each input.

    >>> import tinygrad_np as tg
    >>> x = tg.tensor([1.0, 2.0], requires_grad=True); x.name = "x"
    >>> steps = backward_steps((x * x).sum())
    >>> len(steps), steps[0].caption[0], x.grad.tolist()
    (2, 'step 1 of 2: backward is at sum#2', [2.0, 4.0])
    >>> print(steps[1].caption[-1])
    x: 2 gradients arrive (from mul#1 input 0, from mul#1 input 1); they add up to grad: [2, 4]
    """
    autograd._seeds("backward_steps", [tensor], [gradient], False)  # backward's own checks
    if tensor._ctx is None:
        raise ValueError(
            "backward_steps: the tensor is a leaf (no op made it), so backward has no steps; "
            "call it on the result of some ops, such as a loss"
        )
    tr = trace(tensor, gradient, retain_graph=retain_graph, names=names)
    index = GraphIndex(tensor, names)
    drawing = build(
        tensor, show_data=show_data, show_grad=False, rankdir=rankdir, legend=False, index=index
    )
    ids = {id(t): node for node, _, _, t in drawing.nodes if t is not None}
    step_of = {ids[id(t)]: k + 1 for k, t in enumerate(tr._nodes)}
    root = ids[id(tensor)]
    step_of.setdefault(root, 0)
    consumers = _consumers(drawing, step_of)
    # a node's gradient is complete once its last consumer has run (the output's: from the start)
    complete_at = {node: max((s for s, _ in c), default=0) for node, c in consumers.items()}
    complete_at[root] = 0
    grads = {ids[id(t)]: g for t, g in tr.grads.items() if id(t) in ids}
    edge_grad = {(e.src, e.dst, e.position): tr._sent.get((id(e.child), e.position))
                 for e in drawing.edges if not e.constant}  # fmt: skip

    total = len(tr.steps)
    frames = []
    for k, step in enumerate(tr.steps, start=1):
        current = ids[id(tr._nodes[k - 1])]
        lines = [f"\tgraph [rankdir={rankdir}, fontname=Helvetica, fontsize=10]\n",
                 "\tnode [fontname=Helvetica, fontsize=10]\n",
                 "\tedge [fontname=Helvetica, fontsize=9]\n"]  # fmt: skip
        for node, kind, text, _ in drawing.nodes:
            rows = [(line, None) for line in text]
            if node in grads:
                known = complete_at.get(node, total + 1) <= k
                rows.append((summarize_grad(grads[node]), _KNOWN if known else _HIDDEN))
            style = _NOW if node == current else _STYLE[kind]
            lines.append(f"\t{node} [label={_html_label(rows)}, {style}]\n")
        for e in drawing.edges:
            if e.constant:
                lines.append(f'\t{e.src} -> {e.dst} [style=dashed, color="#9ca3af"]\n')
                continue
            sent = edge_grad[(e.src, e.dst, e.position)]
            done = step_of[e.dst] <= k
            colour = _KNOWN if done else _HIDDEN
            rows = [(summarize_grad(sent), colour)] if sent is not None else []
            if e.note:
                rows.append((e.note, "#b45309" if done else _HIDDEN))
            label = f", label={_html_label(rows)}" if rows else ""
            width = 2.5 if e.dst == current else 1.0
            edge_colour = _KNOWN if done else "#9ca3af"
            attrs = f'color="{edge_colour}", penwidth={width}{label}'
            lines.append(f"\t{e.src} -> {e.dst} [{attrs}]\n")
        source = "digraph backward {\n" + "".join(lines) + "}\n"
        frames.append(
            BackwardFrame(
                k,
                total,
                source,
                _caption(k, total, step, tr, consumers, complete_at, grads, drawing),
            )
        )
    return BackwardSteps(frames, tr)


def _caption(k, total, step, tr, consumers, complete_at, grads, drawing) -> list[str]:
    node_tensor = tr._nodes[k - 1]
    lines = [f"step {k} of {total}: backward is at {step.node}"]
    rule = _rule(node_tensor._ctx)
    if rule:
        lines.append(f"rule: {rule}")
    lines.append(f"gradient arriving at its output: {summarize_grad(tr.grads[node_tensor])}")
    for sent in step.sent:
        if sent.norm is None:
            lines.append(f"  to input {sent.position} ({sent.to}): nothing (a constant)")
            continue
        g = tr._sent[(id(node_tensor), sent.position)]
        note = f", {sent.note}" if sent.note else ""
        lines.append(f"  to input {sent.position} ({sent.to}): {summarize_grad(g)}{note}")
    label_of = {node: text[0] for node, _, text, _ in drawing.nodes}
    for node, uses in consumers.items():
        if len(uses) > 1 and complete_at[node] == k and node in grads:
            where = ", ".join(
                f"from {label_of[dst]} input {e.position}"
                for e in drawing.edges
                if e.src == node and not e.constant
                for dst in [e.dst]
            )
            lines.append(
                f"{label_of[node]}: {len(uses)} gradients arrive ({where}); "
                f"they add up to {summarize_grad(grads[node])}"
            )
    return lines
