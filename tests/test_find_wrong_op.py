"""find_wrong_op: every node of a graph checked against its own forward; the first wrong
backward named with its input, element and values; built-in ops and kinks never flagged."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_np as tg
from tinygrad_np.compare import ComparisonError, find_wrong_op
from tinygrad_np.compare.opcheck import check_op
from tinygrad_np.tensor import Tensor

rng = np.random.default_rng(0)


class Dense(tg.Function):
    """z = x @ w + b; ``bug`` plants a mistake in one of the three gradients."""

    bug = None

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return x @ w + b

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        dx = g @ w if Dense.bug == "transpose" else g @ w.T
        dw = x.T @ g
        db = g.sum(axis=0, keepdims=True) * (2 if Dense.bug == "bias" else 1)
        return dx, dw, db


class Relu(tg.Function):
    """z = max(x, 0); ``mask_from_gradient`` plants the wrong-tensor mask."""

    mask_from_gradient = False

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ((g if Relu.mask_from_gradient else x) > 0)


class SoftmaxCE(tg.Function):
    """z = mean -log softmax(x)[y]; ``no_mean`` forgets the / n_samples."""

    no_mean = False

    @staticmethod
    def forward(ctx, logits, y):
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        ctx.p, ctx.y = e / e.sum(axis=1, keepdims=True), y
        return -np.log(ctx.p[np.arange(len(y)), y]).mean()

    @staticmethod
    def backward(ctx, g):
        d = ctx.p.copy()
        d[np.arange(len(ctx.y)), ctx.y] -= 1
        return g * (d if SoftmaxCE.no_mean else d / len(ctx.y)), None


@pytest.fixture(autouse=True)
def no_planted_bugs():
    yield
    Dense.bug, Relu.mask_from_gradient, SoftmaxCE.no_mean = None, False, False


X = rng.standard_normal((12, 2))
Y = rng.integers(0, 3, 12)
PARAMS = [rng.standard_normal(s) for s in ((2, 5), (1, 5), (5, 5), (1, 5), (5, 3), (1, 3))]


def network(w1, b1, w2, b2, w3, b3):
    a = Relu.apply(Dense.apply(Tensor(X), w1, b1))
    a = Relu.apply(Dense.apply(a, w2, b2))
    return SoftmaxCE.apply(Dense.apply(a, w3, b3), Y)


NAMES = ["dense", "relu", "dense", "relu", "dense", "softmaxce"]


def test_a_network_of_right_custom_ops_passes_and_lists_every_node():
    report = find_wrong_op(network, PARAMS)
    assert report.ok and report.first_wrong is None
    assert [c.op for c in report.checks] == NAMES
    assert [c.node for c in report.checks] == list(range(6))
    assert "every backward matches" in str(report)
    report.raise_if_failed()


@pytest.mark.parametrize(
    "plant, op, node, input_index",
    [
        (lambda: setattr(SoftmaxCE, "no_mean", True), "softmaxce", 5, 0),
        # the first dense layer (2 -> 5) is not square: its backward crashes, as it would in
        # a real backward pass; the first square one (node 2) computes wrong numbers
        (lambda: setattr(Dense, "bug", "transpose"), "dense", 0, 0),
        (lambda: setattr(Dense, "bug", "bias"), "dense", 0, 2),
        (lambda: setattr(Relu, "mask_from_gradient", True), "relu", 1, 0),
    ],
    ids=["missing-mean", "transposed-matmul", "bias-doubled", "relu-mask"],
)
def test_each_planted_mistake_is_named_with_its_input_and_element(plant, op, node, input_index):
    plant()
    report = find_wrong_op(network, PARAMS)
    first = report.first_wrong
    assert not report.ok and first.op == op and first.node == node
    if first.element is not None:  # a wrong value, not a backward that crashed
        assert first.input_index == input_index
        assert first.numeric != pytest.approx(first.analytic, rel=1e-3, abs=1e-6)
        assert f"input {input_index} at {first.element}" in str(report)
    assert f"first wrong op: '{op}'" in str(report)
    with pytest.raises(ComparisonError, match=op):
        report.raise_if_failed()


def test_the_reported_values_are_the_true_derivative_and_the_backward_result():
    class Cube(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x  # should be 3 x^2

    x = np.array([0.5, -1.5, 2.0])
    report = find_wrong_op(lambda t: Cube.apply(t).sum(), [x])
    first = report.first_wrong
    k = first.element[0]
    u = first.grad_output[k]  # the check's own grad_output, kept in the report
    assert first.numeric == pytest.approx(3 * x[k] ** 2 * u, rel=1e-6)
    assert first.analytic == pytest.approx(3 * x[k] * u, rel=1e-12)
    assert "grad_output: a fixed random array" in str(report)
    assert first.function is Cube


def test_a_transposed_matmul_crashes_where_not_square_and_is_wrong_where_square():
    Dense.bug = "transpose"
    report = find_wrong_op(network, PARAMS)
    crashed, square, last = report.wrong
    assert crashed.node == 0 and crashed.element is None and "raised ValueError" in crashed.message
    assert "inputs of shapes (12, 2), (2, 5), (1, 5); grad_output of shape (12, 5)" in str(report)
    assert square.node == 2 and square.input_index == 0 and square.element is not None
    assert last.node == 4 and last.element is None


def test_a_missing_division_by_the_batch_size_gets_a_hint():
    SoftmaxCE.no_mean = True
    text = str(find_wrong_op(network, PARAMS))
    assert "batch size (12)" in text and "n_samples" in text


def test_two_wrong_ops_the_first_in_graph_order_is_named_first():
    Relu.mask_from_gradient, SoftmaxCE.no_mean = True, True
    report = find_wrong_op(network, PARAMS)
    assert [c.op for c in report.wrong] == ["relu", "relu", "softmaxce"]
    assert report.first_wrong.node == 1 and "also wrong: 'softmaxce'" in str(report)


def test_a_loss_tensor_can_be_given_directly_before_backward_frees_it():
    params = [Tensor(p.copy(), requires_grad=True) for p in PARAMS]
    loss = network(*params)
    assert find_wrong_op(loss).ok
    loss.backward(retain_graph=True)  # the check re-runs each forward itself
    assert find_wrong_op(loss).ok
    loss.backward()  # frees the graph's values: the check says so rather than skip them
    with pytest.raises(ValueError, match="backward\\(\\) already freed"):
        find_wrong_op(loss)
    Dense.bug = "bias"
    assert find_wrong_op(network(*params)).first_wrong.input_index == 2


def test_builtin_ops_pass_even_with_inputs_exactly_on_relu_kinks():
    x = np.array([[0.0, 1.0], [-1.0, 0.0], [2.0, 0.0]])  # zeros: relu's kink
    w = rng.standard_normal((2, 3))

    def f(w):
        h = (Tensor(x) @ Tensor(np.eye(2))).relu()  # relu of exact zeros
        return tg.cross_entropy(h @ w, np.array([0, 1, 2]))

    report = find_wrong_op(lambda w: (Tensor(x, requires_grad=True).relu() @ w).sum(), [w])
    assert report.ok, str(report)
    assert "kink" in report.checks[0].message and report.checks[0].n_kinks == 3
    assert find_wrong_op(f, [w]).ok


def graph_of_many_ops(a, b):
    c = (a * b + a / (b.abs() + 1) - b.exp().log()).sigmoid().tanh()
    c = tg.linear(c, b.T, a[0:1, 0:3]) @ b + tg.linear(a, b.T) @ b  # fused dense, two forms
    d = tg.concatenate([c, a.sqrt()], axis=1).reshape(3, 8).T @ b
    e = tg.maximum(d, d * 0.5).mean(axis=0) + d.max(axis=1).sum()
    return e.softmax().log_softmax().sum() + a[np.array([0, 0, 2])].sum() + tg.stack([a, b]).min()


@given(st.integers(0, 2**32 - 1))
def test_every_builtin_op_in_a_varied_graph_passes(seed):
    r = np.random.default_rng(seed)
    a, b = r.uniform(0.5, 2, (3, 4)), r.uniform(-2, 2, (3, 4))
    report = find_wrong_op(graph_of_many_ops, [a, b])
    assert report.ok, str(report)
    assert len(report.checks) > 15


def test_float32_graphs_are_checked_in_float64():
    x = rng.standard_normal((4, 3)).astype(np.float32)
    report = find_wrong_op(lambda t: (t * t).exp().sum(), [Tensor(x, requires_grad=True)])
    assert report.ok and all(c.status == "ok" for c in report.checks)


def test_a_cast_to_float32_is_skipped_and_the_rest_checked():
    x = rng.standard_normal((2, 3))
    report = find_wrong_op(lambda t: (t.astype(np.float32) * 2.0).sum(), [x])
    statuses = {c.op: c.status for c in report.checks}
    assert statuses == {"cast": "skipped", "mul": "ok", "sum": "ok"}
    assert "float32" in report.checks[0].message


def test_a_random_forward_is_skipped_not_blamed():
    class Noisy(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return x + np.random.default_rng().standard_normal(x.shape)

        @staticmethod
        def backward(ctx, g):
            return g

    report = find_wrong_op(lambda t: Noisy.apply(t).sum(), [np.ones(3)])
    assert report.ok and report.checks[0].status == "skipped"
    assert "random" in report.checks[0].message and "1 skipped" in str(report)


@pytest.mark.parametrize(
    "backward, message",
    [
        (lambda ctx, g: (g, g), "returned 2 gradients for 1 inputs"),
        (lambda ctx, g: g.sum(axis=0), r"returned a gradient of shape \(4,\) for input 0"),
        (lambda ctx, g: g[10], "backward raised IndexError"),
    ],
)
def test_backwards_that_cannot_even_be_compared_are_wrong_with_a_reason(backward, message):
    class Op(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    Op.backward = staticmethod(backward)
    report = find_wrong_op(lambda t: Op.apply(t).sum(), [np.ones((3, 4))])
    assert report.first_wrong.op == "op"
    assert report.first_wrong.element is None
    with pytest.raises(ComparisonError, match=message):
        report.raise_if_failed()


def test_a_backward_that_ignores_grad_output_gets_the_chain_rule_hint():
    class Exp(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(np.exp(x))
            return np.exp(x)

        @staticmethod
        def backward(ctx, g):
            (z,) = ctx.saved_tensors
            return z

    report = find_wrong_op(lambda t: (Exp.apply(t) * 3.0).sum(), [rng.standard_normal(4)])
    assert "chain rule" in str(report)


def test_apply_records_the_keyword_arguments_forward_got():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    y = x.sum(axis=1, keepdims=True)
    assert y._ctx.forward_kwargs == {"axis": 1, "keepdims": True}
    assert (x * 2)._ctx.forward_kwargs == {}
    assert find_wrong_op(y).ok


def test_find_wrong_op_errors():
    with pytest.raises(ValueError, match="no recorded graph"):
        find_wrong_op(Tensor(np.ones(3)))
    with pytest.raises(TypeError, match="expected a Tensor or a function"):
        find_wrong_op(3.0)
    with pytest.raises(TypeError, match="give the inputs"):
        find_wrong_op(lambda t: t)


def test_check_op_checks_one_op_directly():
    assert check_op(tg.ops.Sum, [rng.standard_normal((3, 4))], {"axis": 0}).status == "ok"
    wrong = check_op(tg.ops.Exp, [np.ones(3)], backward=lambda ctx, g: 2 * g)
    assert wrong.status == "wrong" and wrong.element == (0,)
    u = wrong.grad_output[0]
    assert wrong.numeric == pytest.approx(np.e * u, rel=1e-6) and wrong.analytic == 2.0 * u


def test_check_op_leaves_an_ops_constant_inputs_alone_by_default():
    logits = rng.standard_normal((4, 3))
    one_hot = np.eye(3)[[0, 2, 1, 1]]
    check = check_op(tg.ops.CrossEntropy, [logits, one_hot], {"reduction": "mean"})
    assert check.status == "ok", str(check)
