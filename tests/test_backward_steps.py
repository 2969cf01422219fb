"""The step-through of backward: one frame per op, gradients appear as they become known,
one layout for every frame, and it displays with and without ipywidgets."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import viz

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot program is not installed")
VISIBLE = re.compile(r'<FONT COLOR="#b91c1c">([^<]*)</FONT>')  # text known in that frame


def readme_example():
    """relu(x @ w + b) summed: one unit is on, one is off, b is broadcast over two rows."""
    x = tg.tensor([[1.0, 2.0], [3.0, -1.0]])
    w = tg.tensor([[0.5, -1.0], [1.0, 0.25]], requires_grad=True)
    b = tg.tensor([0.1, -0.2], requires_grad=True)
    x.name, w.name, b.name = "x", "w", "b"
    return (x @ w + b).relu().sum(), w, b


def node_line(source: str, name: str) -> str:
    return next(line for line in source.splitlines() if f"<{name}<BR/>" in line)


def test_one_frame_per_op_in_backward_order_and_the_same_grads_as_backward():
    loss, w, b = readme_example()
    steps = viz.backward_steps(loss)
    assert len(steps) == 4
    assert [f.caption[0] for f in steps] == [
        "step 1 of 4: backward is at sum#4",
        "step 2 of 4: backward is at relu#3",
        "step 3 of 4: backward is at add#2",
        "step 4 of 4: backward is at matmul#1",
    ]
    assert [s.op for s in steps.trace.steps] == ["sum", "relu", "add", "matmul"]
    assert w.grad.tolist() == [[4.0, 0.0], [1.0, 0.0]]  # the second unit is off: no gradient
    assert b.grad.tolist() == [2.0, 0.0]  # summed over the two rows
    assert "rule: z = max(x, 0);  dz/dx = 1 where x > 0, else 0" in steps[1].caption
    assert any("sum over axis 0 (broadcast)" in line for line in steps[2].caption)


def test_gradients_become_visible_exactly_when_they_are_known():
    loss, _, _ = readme_example()
    steps = viz.backward_steps(loss)
    known = [VISIBLE.findall(f.source) for f in steps]
    # frame 1: the output's own gradient (1), and what sum sent to relu (on its edge and,
    # relu's only consumer being done, on relu's node)
    assert sorted(known[0]) == ["grad: 1", "grad: [[1, 1], [1, 1]]", "grad: [[1, 1], [1, 1]]"]
    assert all(len(a) < len(b) for a, b in zip(known, known[1:]))  # only ever more
    assert "grad: [[4, 0], [1, 0]]" not in " ".join(known[2])  # w: not before matmul ran
    assert known[3].count("grad: [[4, 0], [1, 0]]") == 2  # on w's edge and on w itself
    assert "grad: [2, 0]" in node_line(steps[2].source, "b")  # b is done once add ran
    assert "#fe01fe00" in node_line(steps[1].source, "b")  # drawn, invisible


def test_the_op_being_processed_is_highlighted_and_only_it():
    loss, _, _ = readme_example()
    for frame in viz.backward_steps(loss):
        highlighted = [line for line in frame.source.splitlines() if "penwidth=3" in line]
        assert len(highlighted) == 1
        assert frame.caption[0].split("at ")[1] in highlighted[0]


def test_a_reused_node_shows_each_share_and_their_sum():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    x.name = "x"
    loss = (x * x + x).sum()  # d/dx = 2x + 1: the shares 2x... from mul and 1 from add
    steps = viz.backward_steps(loss)
    assert x.grad.tolist() == [3.0, 5.0]
    notes = [line for f in steps for line in f.caption if line.startswith("x: ")]
    assert len(notes) == 1
    assert "3 gradients arrive" in notes[0] and "add up to grad: [3, 5]" in notes[0]
    last = steps[-1].source
    x_id = node_line(last, "x").split()[0]
    edges = [line for line in last.splitlines() if line.startswith(f"\t{x_id} -> ")]
    shares = sorted(VISIBLE.findall(line)[0] for line in edges)
    assert shares == ["grad: [1, 1]", "grad: [1, 2]", "grad: [1, 2]"]  # from add; mul twice
    assert "grad: [3, 5]" in node_line(last, "x")


def test_leaves_get_the_same_grad_as_backward_on_a_random_mlp():
    rng = np.random.default_rng(0)
    X = tg.Tensor(rng.normal(size=(6, 2)))
    W1 = tg.Tensor(rng.normal(size=(2, 5)), requires_grad=True)
    W2 = tg.Tensor(rng.normal(size=(5, 3)), requires_grad=True)
    y = rng.integers(0, 3, size=6)

    def loss():
        return tg.cross_entropy((X @ W1).tanh() @ W2, y)

    loss().backward()
    expected = [W1.grad.numpy().copy(), W2.grad.numpy().copy()]
    W1.zero_grad(), W2.zero_grad()
    steps = viz.backward_steps(loss())
    np.testing.assert_array_equal(W1.grad.numpy(), expected[0])
    np.testing.assert_array_equal(W2.grad.numpy(), expected[1])
    assert len(steps) == 4 and "norm" in steps[0].source  # big gradients: norm and range


@needs_dot
def test_every_frame_has_the_same_layout():
    loss, _, _ = readme_example()
    steps = viz.backward_steps(loss)

    def positions(source: str) -> list[str]:
        plain = subprocess.run(["dot", "-Tplain"], input=source, capture_output=True, text=True)
        assert plain.returncode == 0, plain.stderr
        return [" ".join(line.split()[:6]) for line in plain.stdout.splitlines()]

    first = positions(steps[0].source)
    assert len(first) > 8
    assert all(positions(f.source) == first for f in steps)


@needs_dot
def test_gif_and_svg_exports(tmp_path):
    pytest.importorskip("PIL")
    from PIL import Image

    loss, _, _ = readme_example()
    steps = viz.backward_steps(loss)
    gif = steps.save_gif(tmp_path / "steps.gif")
    with Image.open(gif) as image:
        assert image.n_frames == 4 and image.width > 300
    first = steps[0].svg()
    hidden = [line for line in first.splitlines() if "<text" in line and "[[4, 0], [1, 0]]" in line]
    assert hidden and all('fill="none"' in line for line in hidden)  # w's grad: not yet
    svgs = steps.save_svgs(tmp_path / "frames")
    assert [p.name for p in svgs] == [f"step_0{k}.svg" for k in range(1, 5)]
    text = svgs[2].read_text()
    assert text.lstrip().startswith(("<?xml", "<svg", "<!--")) and "step 3 of 4" in text


def captured_displays(monkeypatch) -> list:
    shown = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: shown.append((a, k)))
    return shown


@needs_dot
def test_without_ipywidgets_the_frames_show_one_under_the_other(monkeypatch):
    pytest.importorskip("IPython")
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets fails
    shown = captured_displays(monkeypatch)
    loss, _, _ = readme_example()
    viz.backward_steps(loss)._ipython_display_()
    ((args, _),) = shown
    html = args[0].data
    assert html.count("<svg") == 4 and "step 4 of 4" in html


@needs_dot
def test_with_ipywidgets_a_slider_moves_through_the_frames(monkeypatch):
    widgets = pytest.importorskip("ipywidgets")
    shown = captured_displays(monkeypatch)
    loss, _, _ = readme_example()
    steps = viz.backward_steps(loss)
    steps.show()
    ((args, kwargs),) = shown
    bundle = args[0]
    assert kwargs == {"raw": True}
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"].count("<svg") == 4  # for pages without a live kernel
    box = steps.widget()
    (controls, stack) = box.children
    play, slider = controls.children
    assert isinstance(slider, widgets.SelectionSlider) and isinstance(stack, widgets.Stack)
    assert [label for label, _ in slider.options] == [f"{k} of 4" for k in range(1, 5)]
    assert ["step 2 of 4" in page.value for page in stack.children] == [0, 1, 0, 0]
    assert (play.min, play.max, stack.selected_index) == (0, 3, 0)
    linked = {
        (link.source[0], link.source[1], link.target[0], link.target[1]) for link in box.links
    }
    assert linked == {(play, "value", slider, "index"), (slider, "index", stack, "selected_index")}


def test_the_dot_text_needs_no_graphviz_and_rendering_says_what_is_missing(monkeypatch):
    loss, _, _ = readme_example()
    steps = viz.backward_steps(loss)
    monkeypatch.setitem(sys.modules, "graphviz", None)
    assert steps[0].dot().startswith("digraph backward {")
    assert "step 1 of 4" in steps[0].dot(caption=True)
    with pytest.raises(ImportError, match=r"pip install tinygrad-np\[viz\]"):
        steps[0].svg()


def test_backward_steps_refuses_what_backward_refuses():
    with pytest.raises(RuntimeError):
        viz.backward_steps(tg.tensor([1.0, 2.0]).sum())  # nothing requires grad
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar|gradient"):
        viz.backward_steps(x * 2)  # non-scalar without a gradient
    with pytest.raises(ValueError, match="backward_steps: the tensor is a leaf"):
        viz.backward_steps(tg.tensor(1.0, requires_grad=True))
