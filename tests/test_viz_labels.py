"""Drawings a teacher can put on a page: top to bottom, ops numbered 1, 2, 3 without gaps,
constants named by what they are, gradient norms explained."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import viz

TITLE = re.compile(r'^\t[nc]\d+ \[label="([^"\\]*)')


def titles(dot: str) -> list[str]:
    return [m[1] for line in dot.splitlines() if (m := TITLE.match(line))]


def two_layer_loss(batch: int = 60):
    rng = np.random.default_rng(0)
    X = tg.Tensor(rng.normal(size=(batch, 2)).astype(np.float32))
    W1 = tg.Tensor(rng.normal(size=(2, 4)).astype(np.float32), requires_grad=True)
    b1 = tg.zeros(4, requires_grad=True)
    W2 = tg.Tensor(rng.normal(size=(4, 3)).astype(np.float32), requires_grad=True)
    b2 = tg.zeros(3, requires_grad=True)
    y = rng.integers(0, 3, size=batch)
    return tg.cross_entropy((X @ W1 + b1).relu() @ W2 + b2, y)


def test_ops_params_and_constants_are_numbered_from_one_without_gaps():
    dot = viz.to_dot(two_layer_loss())
    names = titles(dot)
    ops = [int(n.split("#")[1].split("(")[0]) for n in names if n.split("#")[0] in
           ("matmul", "add", "relu", "cross_entropy")]  # fmt: skip
    assert sorted(ops) == [1, 2, 3, 4, 5, 6]
    params = sorted(n for n in names if n.startswith("param#"))
    assert params == ["param#1", "param#2", "param#3", "param#4"]
    constants = sorted(n for n in names if n.startswith("constant#"))
    assert constants == ["constant#1", "constant#2"]  # the data and the labels
    tr = viz.trace(two_layer_loss())
    assert [s.node for s in tr.steps][-1] == "matmul#1" and tr.steps[0].node.startswith(
        "cross_entropy#6"
    )


def test_a_scalar_constant_is_drawn_as_its_value_and_named_ones_keep_their_name():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    data = tg.tensor([3.0, 4.0])
    data.name = "data"
    dot = viz.to_dot((x * 2.0 + data).sum())
    names = titles(dot)
    assert "2" in names and "data" in names
    assert not any(n.startswith("constant#") for n in names)


def test_drawings_go_top_to_bottom_and_explain_the_norm():
    loss = two_layer_loss()
    loss.backward(retain_graph=True)
    dot = viz.to_dot(loss)
    assert "rankdir=TB" in dot
    assert "grad: norm" in dot  # the (2, 4) weight's gradient is summarised
    assert "norm = the square root of the sum of the squared elements" in dot
    assert "rankdir=LR" in viz.to_dot(loss, rankdir="LR")
    with pytest.raises(ValueError, match="rankdir must be"):
        viz.to_dot(loss, rankdir="sideways")


def test_small_gradients_are_written_out_with_their_shape():
    w = tg.tensor([[0.5, -1.0], [1.0, 0.25]], requires_grad=True)
    x = tg.tensor([[1.0, 2.0], [3.0, -1.0]])
    (x @ w).relu().sum().backward()
    line = next(line for line in viz.to_dot(w.relu().sum()).splitlines() if "grad:" in line)
    assert "grad: [[4, 0], [1, 0]]" in line  # rows kept; nothing to explain: no norm legend


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_the_walkthrough_graph_fits_a_page():
    loss = two_layer_loss()
    dot = viz.to_dot(loss, grads=viz.trace(loss, retain_graph=True))
    done = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True)
    width = float(re.search(r'<svg width="([0-9.]+)pt"', done.stdout)[1])
    assert width * 96 / 72 < 1300  # pixels at 96 dpi; left to right it was about 2,500
