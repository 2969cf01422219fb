"""Graph drawing: DOT structure, styling, names, broadcast labels, collapse, rendering."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_np as tg
from tinygrad_np import viz
from tinygrad_np.viz.nodes import broadcast_note

NODE = re.compile(
    r'^\t(?P<id>[ncm]\d+) \[label="(?P<label>(?:[^"\\]|\\.)*)", class="(?P<kind>\w+)"'
)
EDGE = re.compile(r"^\t(?P<src>[ncm]\d+) -> (?P<dst>[ncm]\d+)(?P<attrs>.*)$")


def parse(dot: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str, str]]]:
    """{node id: (kind, label)} and [(src, dst, attrs)] from to_dot's text."""
    nodes, edges = {}, []
    for line in dot.splitlines():
        if m := NODE.match(line):
            nodes[m["id"]] = (m["kind"], m["label"])
        elif m := EDGE.match(line):
            edges.append((m["src"], m["dst"], m["attrs"]))
    return nodes, edges


def mlp(seed: int = 0, n: int = 5):
    """Linear 2->4, ReLU, Linear 4->3, cross-entropy, written with raw named tensors."""
    rng = np.random.default_rng(seed)
    X = tg.Tensor(rng.normal(size=(n, 2)))
    X.name = "X"
    y = rng.integers(0, 3, size=n)
    params = {}
    for name, shape in {"W1": (2, 4), "b1": (4,), "W2": (4, 3), "b2": (3,)}.items():
        params[name] = tg.Tensor(rng.normal(size=shape), requires_grad=True)
        params[name].name = name
    hidden = (X @ params["W1"] + params["b1"]).relu()
    loss = tg.cross_entropy(hidden @ params["W2"] + params["b2"], y)
    return loss, params


def test_mlp_graph_has_every_tensor_op_and_edge():
    loss, params = mlp()
    nodes, edges = parse(viz.to_dot(loss))
    kinds = [kind for kind, _ in nodes.values()]
    # 4 parameters; matmul, add, relu, matmul, add, cross_entropy; constants X and the labels
    assert kinds.count("param") == 4
    assert kinds.count("op") + kinds.count("output") == 6
    assert kinds.count("const") == 2
    # every op has two inputs except relu: 5 * 2 + 1
    assert len(edges) == 11
    labels = " ".join(label for _, label in nodes.values())
    for op in ("matmul", "add", "relu", "cross_entropy", "W1", "b1", "W2", "b2", "X"):
        assert op in labels
    (output,) = [label for kind, label in nodes.values() if kind == "output"]
    assert output.startswith("cross_entropy#")


def test_leaves_params_and_ops_look_different():
    loss, _ = mlp()
    dot = viz.to_dot(loss)
    style = {}
    for line in dot.splitlines():
        if m := NODE.match(line):
            style.setdefault(m["kind"], set()).add(line.split(f'class="{m["kind"]}", ', 1)[1])
    assert all(len(s) == 1 for s in style.values())  # one look per kind
    looks = {kind: s.pop() for kind, s in style.items()}
    assert len(set(looks.values())) == len(looks)  # and the kinds differ
    assert "rounded" in looks["op"] and "rounded" not in looks["param"]
    assert "dashed" in looks["const"]


def test_show_constants_false_draws_only_the_tensors_backward_visits():
    loss, _ = mlp()
    nodes, edges = parse(viz.to_dot(loss, show_constants=False))
    assert len(nodes) == len(tg.autograd.toposort([loss]))
    assert all(kind != "const" for kind, _ in nodes.values())
    assert len(edges) == 9  # 11 minus the edges from X and from the labels


def test_gradients_appear_after_backward_and_intermediates_with_a_trace():
    loss, params = mlp()
    nodes, _ = parse(viz.to_dot(loss))
    assert not any("grad" in label for _, label in nodes.values())
    loss.backward(retain_graph=True)
    nodes, _ = parse(viz.to_dot(loss))
    graded = [label for kind, label in nodes.values() if "grad" in label]
    assert sorted(label.split("\\n")[0] for label in graded) == ["W1", "W2", "b1", "b2"]
    b2_grad = params["b2"].grad.numpy()
    b2_label = next(label for _, label in nodes.values() if label.startswith("b2"))
    assert "grad: [" + ", ".join(f"{v:.4g}" for v in b2_grad) + "]" in b2_label

    for p in params.values():
        p.zero_grad()
    tr = viz.trace(loss)
    nodes, _ = parse(viz.to_dot(loss, grads=tr))
    ops = [label for kind, label in nodes.values() if kind in ("op", "output")]
    assert all("grad" in label for label in ops)
    assert any(label.endswith("grad: 1") for label in ops)  # d loss / d loss


def test_bias_add_edge_says_the_gradient_was_summed_over_the_batch():
    loss, _ = mlp()
    nodes, edges = parse(viz.to_dot(loss))
    by_name = {label.split("\\n")[0]: node for node, (_, label) in nodes.items()}
    labelled = {src: attrs for src, _, attrs in edges if "broadcast" in attrs}
    assert set(labelled) == {by_name["b1"], by_name["b2"]}
    assert all('label="sum over axis 0 (broadcast)"' in a for a in labelled.values())


@given(st.data())
def test_broadcast_note_names_the_axes_that_sum_the_gradient_back(data):
    out_shape, parent_shape = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=1, min_dims=0, max_dims=3, max_side=3).map(
            lambda s: (s.result_shape, s.input_shapes[0])
        )
    )
    grad = np.random.default_rng(0).normal(size=out_shape)
    expected = tg.autograd.unbroadcast(grad, parent_shape)  # what the engine does
    note = broadcast_note(tg.ops.Add(), 1, parent_shape, out_shape)
    if expected.size == grad.size:
        assert note == ""
        return
    axes = tuple(int(a) for a in re.findall(r"\d+", note.removesuffix(" (broadcast)")))
    assert note.startswith("sum over ax") and axes
    np.testing.assert_allclose(grad.sum(axis=axes, keepdims=True).reshape(parent_shape), expected)


def test_no_broadcast_label_where_shapes_change_for_other_reasons():
    x = tg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    w = tg.tensor(np.ones((4, 1), dtype=np.float32), requires_grad=True)
    out = (x.reshape(1, 4) @ w).sum()
    assert "broadcast" not in viz.to_dot(out)


def test_two_builds_of_the_same_graph_give_identical_text():
    a, _ = mlp(seed=3)
    b, _ = mlp(seed=3)
    assert viz.to_dot(a) == viz.to_dot(b)
    assert viz.to_dot(a) == viz.to_dot(a)


OPS = [
    lambda a, b: a + b,
    lambda a, b: a * b,
    lambda a, b: (a - b).relu(),
    lambda a, b: a.tanh() * 2.0,
    lambda a, b: a + b.sum(axis=0),
]


def build(recipe: list[tuple[int, int, int]], seed: int):
    rng = np.random.default_rng(seed)
    nodes = [tg.Tensor(rng.normal(size=s), requires_grad=True) for s in [(3, 4), (4,), (3, 4)]]
    for op, i, j in recipe:
        nodes.append(OPS[op % len(OPS)](nodes[i % len(nodes)], nodes[j % len(nodes)]))
    return nodes[-1].sum()


@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 20), st.integers(0, 20)), max_size=8),
    st.integers(0, 3),
)
def test_random_graphs_draw_every_node_and_edge_deterministically(recipe, seed):
    out = build(recipe, seed)
    dot = viz.to_dot(out)
    assert dot == viz.to_dot(build(recipe, seed))
    nodes, edges = parse(dot)
    # the graph itself, walked with a plain set: every tensor that needs grad, every input
    seen, constants, n_edges, stack = set(), set(), 0, [out]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if t._ctx is not None:
            n_edges += len(t._ctx.parents)
            for p in t._ctx.parents:
                (stack.append(p) if getattr(p, "requires_grad", False) else constants.add(id(p)))
    assert len(nodes) == len(seen) + len(constants)
    assert len(edges) == n_edges
    assert all(src in nodes and dst in nodes for src, dst, _ in edges)


def test_a_chain_of_ten_thousand_ops_draws_without_recursion():
    x = tg.tensor([1.0, -1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y.relu()
    nodes, edges = parse(viz.to_dot(y))
    assert len(nodes) == 10_001 and len(edges) == 10_000
    assert sys.getrecursionlimit() < 10_000  # so a recursive walk would have failed


def test_names_from_a_mapping_win_over_tensor_names():
    loss, params = mlp()
    dot = viz.to_dot(loss, names={params["W1"]: "first weights"})
    assert "first weights" in dot and '"W1\\n' not in dot


def test_names_with_quotes_and_backslashes_are_escaped():
    w = tg.tensor([1.0], requires_grad=True)
    w.name = 'w"1\\'
    dot = viz.to_dot((w * 2.0).sum())
    assert 'label="w\\"1\\\\\\n' in dot
    nodes, _ = parse(dot)
    assert len(nodes) == 4  # the quote did not end the label early


def test_a_tensor_without_a_graph_is_one_node():
    nodes, edges = parse(viz.to_dot(tg.tensor([1.0, 2.0])))
    assert list(nodes.values())[0][0] == "const" and len(nodes) == 1 and not edges


def test_bad_arguments_say_what_was_expected():
    with pytest.raises(TypeError, match="expected a Tensor, got list"):
        viz.to_dot([1.0])
    x = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="names must be"):
        viz.to_dot(x * 2, names=["x"])
    with pytest.raises(TypeError, match="collapse= takes the recorder"):
        viz.to_dot(x * 2, collapse=True)
    with pytest.raises(TypeError, match="grads must be"):
        viz.to_dot(x * 2, grads=[1.0])


# --- collapsing modules ----------------------------------------------------------------------


class Module:
    """The smallest module the recorder needs: forward, named_parameters, __call__."""

    def named_parameters(self, prefix: str = ""):
        found = []
        for key, value in vars(self).items():
            if isinstance(value, tg.Tensor) and value.requires_grad:
                found.append((prefix + key, value))
            elif isinstance(value, Module):
                found += value.named_parameters(prefix + key + ".")
        return found

    def __call__(self, *args):
        return self.forward(*args)


class Linear(Module):
    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator) -> None:
        self.in_features, self.out_features = n_in, n_out
        self.weight = tg.Tensor(rng.normal(size=(n_in, n_out)), requires_grad=True)
        self.bias = tg.zeros(n_out, requires_grad=True)

    def forward(self, x):
        return x @ self.weight + self.bias


class ReLU(Module):
    def forward(self, x):
        return x.relu()


class Net(Module):
    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self.fc1, self.act, self.fc2 = Linear(2, 4, rng), ReLU(), Linear(4, 3, rng)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def test_collapse_draws_each_layer_as_one_box():
    net = Net()
    X = tg.Tensor(np.ones((5, 2)))
    with viz.record_modules(net) as rec:
        loss = tg.cross_entropy(net(X), np.zeros(5, dtype=np.int64))
    assert [c.name for c in rec.calls] == ["fc1", "act", "fc2"]
    nodes, edges = parse(viz.to_dot(loss, collapse=rec))
    modules = {label.split("\\n")[0]: n for n, (kind, label) in nodes.items() if kind == "module"}
    assert list(modules) == ["fc1: Linear(2→4)", "act: ReLU", "fc2: Linear(4→3)"]
    assert [kind for kind, _ in nodes.values()].count("param") == 0  # inside the boxes
    pairs = {(s, d) for s, d, _ in edges}
    fc1, act, fc2 = modules.values()
    assert (fc1, act) in pairs and (act, fc2) in pairs
    assert len(edges) == len(pairs) == 5  # X -> fc1 -> act -> fc2 -> loss <- labels
    assert "in (5, 2) → out (5, 4)" in nodes[fc1][1]
    assert "params: weight (2, 4), bias (4,)" in nodes[fc1][1]


def test_record_modules_restores_forward_and_skips_calls_without_a_graph():
    net = Net()
    with viz.record_modules(net) as rec, tg.no_grad():
        net(tg.Tensor(np.ones((1, 2))))
    assert rec.calls == []
    assert all("forward" not in vars(m) for m in (net.fc1, net.act, net.fc2))
    single = ReLU()
    x = tg.tensor([1.0, -1.0], requires_grad=True)
    with viz.record_modules(single) as rec:
        single(x)
        out = single(x).sum()
    assert [c.name for c in rec.calls] == ["ReLU", "ReLU (call 2)"]
    nodes, _ = parse(viz.to_dot(out, collapse=rec))
    assert [label.split("\\n")[0] for k, label in nodes.values() if k == "module"] == [
        "ReLU (call 2): ReLU"
    ]


class Scale(Module):
    def extra_repr(self) -> str:
        return "factor=2"

    def forward(self, x):
        return x * 2.0


def test_a_layer_is_named_by_its_features_or_its_extra_repr():
    layers = [Linear(2, 3, np.random.default_rng(0)), Scale(), ReLU()]
    assert [viz.modules.module_kind(m) for m in layers] == [
        "Linear(2→3)",
        "Scale(factor=2)",
        "ReLU",
    ]


def test_record_modules_wants_a_module():
    with pytest.raises(TypeError, match="record_modules: expected a module"):
        viz.record_modules(lambda x: x)


# --- graphviz ----------------------------------------------------------------------------------


def test_draw_graph_is_a_digraph_with_the_same_text():
    graphviz = pytest.importorskip("graphviz")
    loss, _ = mlp()
    g = viz.draw_graph(loss, show_data=False)
    assert isinstance(g, graphviz.Digraph)
    assert g.source == viz.to_dot(loss, show_data=False)


def test_draw_graph_without_graphviz_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # makes `import graphviz` fail
    with pytest.raises(ImportError, match=r"pip install tinygrad-np\[viz\]"):
        viz.draw_graph(tg.tensor([1.0]))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_dot_renders_the_text_to_svg_without_warnings():
    loss, _ = mlp()
    loss.backward(retain_graph=True)
    net = Net()
    with viz.record_modules(net) as rec:
        collapsed = tg.cross_entropy(net(tg.Tensor(np.ones((5, 2)))), np.zeros(5, dtype=int))
    for text in (viz.to_dot(loss), viz.to_dot(collapsed, collapse=rec)):
        done = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True)
        assert done.returncode == 0 and done.stderr == ""
        assert "<svg" in done.stdout and "cross_entropy" in done.stdout


def test_the_bias_of_the_fused_linear_op_is_labelled_too():
    X = tg.Tensor(np.ones((5, 2)))
    w = tg.tensor(np.ones((2, 3)), requires_grad=True)
    b = tg.tensor(np.zeros(3), requires_grad=True)
    w.name, b.name = "w", "b"
    nodes, edges = parse(viz.to_dot(tg.ops.linear(X, w, b).sum()))
    name = {n: label.split("\\n")[0] for n, (_, label) in nodes.items()}
    labelled = [(name[src], name[dst], attrs) for src, dst, attrs in edges if "broadcast" in attrs]
    assert len(labelled) == 1
    src, dst, attrs = labelled[0]
    assert src == "b" and dst.startswith("linear#")
    assert 'label="sum over axis 0 (broadcast)"' in attrs
