"""The backward trace: exact steps on a known graph, the same gradients as backward()."""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_np as tg
from tinygrad_np import viz


def named(values, name: str, requires_grad: bool = True) -> tg.Tensor:
    t = tg.Tensor(np.array(values, dtype=np.float64), requires_grad=requires_grad)
    t.name = name
    return t


def test_sum_of_a_product_by_hand():
    x, w = named([1.0, 2.0], "x"), named([3.0, 4.0], "w")
    tr = viz.trace((x * w).sum())
    # loss = sum(x * w): d loss/d(x*w) = [1, 1]; d loss/dx = w; d loss/dw = x
    assert [s.op for s in tr.steps] == ["sum", "mul"]
    first, second = tr.steps
    assert first.grad_norm == 1.0 and first.shape == ()
    (to_mul,) = first.sent
    assert to_mul.to == second.node and to_mul.shape == (2,)
    assert to_mul.norm == pytest.approx(math.sqrt(1**2 + 1**2))
    to_x, to_w = second.sent
    assert (to_x.to, to_w.to) == ("x", "w")
    assert to_x.norm == pytest.approx(math.hypot(3.0, 4.0))  # |w|
    assert to_w.norm == pytest.approx(math.hypot(1.0, 2.0))  # |x|
    assert (to_x.values, to_w.values) == ("[3, 4]", "[1, 2]")
    assert x.grad.tolist() == [3.0, 4.0] and w.grad.tolist() == [1.0, 2.0]

    lines = str(tr).splitlines()
    step1 = next(i for i, line in enumerate(lines) if line.lstrip().startswith("1  sum#"))
    step2 = next(i for i, line in enumerate(lines) if line.lstrip().startswith("2  mul#"))
    assert step1 < step2
    assert "[0] x" in lines[step2] and "[3, 4]" in lines[step2]
    assert "[1] w" in lines[step2 + 1] and f"{math.sqrt(5):.4g}" in lines[step2 + 1]
    assert lines[step2 + 1].index("[1] w") == lines[step2].index("[0] x")  # aligned


def test_the_table_is_aligned_column_by_column():
    x, w = named([1.0, 2.0], "x"), named([3.0, 4.0], "w")
    text = str(viz.trace((x * w).sum()))
    lines = text.splitlines()
    assert len({line.index("->") for line in lines if "->" in line}) == 1
    starts = [m.start() for line in lines if (m := re.search(r"\[\d\] [xwm]", line))]
    assert len(starts) == 3 and len(set(starts)) == 1  # to mul, then to x and to w
    header = next(line for line in lines if line.startswith("step"))
    assert header.index("to input") == starts[0]


def mlp(seed: int, n: int = 6):
    rng = np.random.default_rng(seed)
    X = named(rng.normal(size=(n, 2)), "X", requires_grad=False)
    y = rng.integers(0, 3, size=n)
    shapes = {"W1": (2, 4), "b1": (4,), "W2": (4, 3), "b2": (3,)}
    params = {k: named(rng.normal(size=s), k) for k, s in shapes.items()}
    hidden = (X @ params["W1"] + params["b1"]).relu()
    logits = hidden @ params["W2"] + params["b2"]
    return tg.cross_entropy(logits, y), params, hidden


@given(st.integers(0, 2**16), st.booleans())
def test_trace_leaves_the_same_grad_as_backward(seed, accumulate):
    traced, p1, _ = mlp(seed)
    plain, p2, _ = mlp(seed)
    if accumulate:  # gradients already there are added to, as backward() does
        for a, b in zip(p1.values(), p2.values()):
            a.grad = tg.Tensor(np.full(a.shape, 0.5))
            b.grad = tg.Tensor(np.full(b.shape, 0.5))
    tr = viz.trace(traced)
    plain.backward()
    for name in p1:
        np.testing.assert_array_equal(p1[name].grad.numpy(), p2[name].grad.numpy())
        assert p1[name].grad.dtype == p2[name].grad.dtype
    # the trace's own record is this pass's gradient, without what was there before
    for name, label in zip(p1, [leaf[0] for leaf in tr.leaves]):
        assert label == name
    np.testing.assert_allclose(tr.grads[p1["W1"]], p2["W1"].grad.numpy() - 0.5 * accumulate)


def test_intermediate_gradients_match_autograd_grad():
    loss, _, hidden = mlp(1)
    (expected,) = tg.autograd.grad(loss, hidden, retain_graph=True)
    tr = viz.trace(loss)
    np.testing.assert_allclose(tr.grads[hidden], expected.numpy())
    assert tr.grads[loss].tolist() == 1.0


def test_bias_gradients_are_marked_as_summed_over_the_batch_and_labels_get_none():
    loss, _, _ = mlp(0)
    tr = viz.trace(loss)
    notes = {sent.to: sent.note for step in tr.steps for sent in step.sent}
    assert notes["b1"] == notes["b2"] == "sum over axis 0 (broadcast)"
    assert notes["W1"] == notes["W2"] == ""
    constants = [sent for step in tr.steps for sent in step.sent if sent.norm is None]
    assert sorted(sent.to for sent in constants) == ["X", "constant#1"]  # numbered from 1
    text = str(tr)
    assert text.count("sum over axis 0 (broadcast)") == 2
    assert text.count("no gradient") == 2
    assert [s.op for s in tr.steps] == ["cross_entropy", "add", "matmul", "relu", "add", "matmul"]


def test_a_given_gradient_seeds_a_non_scalar_output():
    x = named([1.0, -2.0, 3.0], "x")
    tr = viz.trace(x.relu(), gradient=np.array([10.0, 20.0, 30.0]))
    assert x.grad.tolist() == [10.0, 0.0, 30.0]
    assert tr.steps[0].grad_norm == pytest.approx(math.sqrt(100 + 400 + 900))
    with pytest.raises(RuntimeError, match="trace: gradient can be implicit only"):
        viz.trace(named([1.0, 2.0], "y") * 2)


def test_trace_of_a_tensor_without_a_graph_is_refused():
    with pytest.raises(RuntimeError, match="trace: tensor of shape \\(2,\\) does not require grad"):
        viz.trace(tg.tensor([1.0, 2.0]))


def test_retain_graph_as_in_backward():
    x = named([1.0, 2.0], "x")
    out = (x * x).sum()
    viz.trace(out, retain_graph=True)
    viz.trace(out)
    assert x.grad.tolist() == [4.0, 8.0]
    with pytest.raises(RuntimeError, match="a second time"):
        viz.trace(out)


def test_tracing_a_leaf_gives_it_the_seed():
    x = named([2.0], "x")
    tr = viz.trace(x)
    assert tr.steps == [] and tr.leaves[0][0] == "x" and x.grad.tolist() == [1.0]


def test_text_goes_to_a_stream_or_a_file(tmp_path):
    stream = io.StringIO()
    loss, _, _ = mlp(2)
    tr = viz.trace(loss, file=stream)
    assert stream.getvalue() == str(tr) == repr(tr)
    loss, _, _ = mlp(2)
    viz.trace(loss, file=tmp_path / "trace.txt")
    assert (tmp_path / "trace.txt").read_text(encoding="utf-8") == str(tr)  # deterministic


def test_drawing_with_a_trace_shows_intermediate_gradients():
    loss, _, hidden = mlp(3)
    tr = viz.trace(loss)
    dot = viz.to_dot(loss, grads=tr)
    assert dot.count("grad: ") >= len(tg.autograd.toposort([loss]))


def test_a_long_chain_traces_without_recursion():
    x = named([0.5], "x")
    y = x
    for _ in range(5_000):
        y = y * 1.0
    tr = viz.trace(y.sum())
    assert len(tr.steps) == 5_001 and x.grad.tolist() == [1.0]
