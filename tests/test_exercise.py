"""exercise(): a learner's backward swapped into a built-in op, checked, and always removed."""

from __future__ import annotations

import re
import threading

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import ops
from tinygrad_np.compare import ExerciseError, exercise
from tinygrad_np.function import Function
from tinygrad_np.tensor import Tensor

BUILTIN_OPS = [op for op in ops.registry() if op.__module__.startswith("tinygrad_np.")]


def exp_backward(ctx, grad_output):
    (z,) = ctx.saved_tensors
    return grad_output * z


def exp_backward_no_chain_rule(ctx, grad_output):
    (z,) = ctx.saved_tensors
    return z


def log_backward_halved(ctx, grad_output):
    (x,) = ctx.saved_tensors
    return grad_output / (2 * x)


@pytest.mark.parametrize("op", BUILTIN_OPS, ids=lambda op: op.name)
def test_every_builtin_backward_passes_its_own_exercise(op):
    original = op.backward
    with exercise(op, original, verbose=False) as ex:
        pass
    assert ex.report.ok, str(ex.report)
    assert len(ex.report.checks) == 5


def test_a_right_backward_passes_and_says_so(capsys):
    with exercise(ops.Exp, exp_backward) as ex:
        pass
    assert ex.report.ok
    out = capsys.readouterr().out
    assert out.startswith("your backward for exp matches finite differences")
    assert "on 5 random inputs" in out


def test_a_wrong_backward_raises_on_exit_with_where_and_a_hint():
    with pytest.raises(ExerciseError) as info:
        with exercise(ops.Log, log_backward_halved):
            pass
    text = str(info.value)
    assert text.startswith("your backward for log differs on random input 1 of 5")
    assert "at element (0, 0) of input 0" in text and "yours" in text and "expected" in text
    assert "1/2 x" in text and "factor 2" in text
    check = next(c for c in _report_of(ops.Log, log_backward_halved).checks if not c.ok)
    assert check.analytic == pytest.approx(check.numeric / 2, rel=1e-6)


def _report_of(op, backward):
    with exercise(op, backward, raise_on_failure=False, verbose=False) as ex:
        pass
    return ex.report


def test_forgetting_grad_output_gets_the_chain_rule_hint():
    assert "chain rule" in str(_report_of(ops.Exp, exp_backward_no_chain_rule))


@pytest.mark.parametrize(
    "op, backward, pattern",
    [
        (ops.Relu, lambda ctx, g: g * (g > 0), "mask"),
        (ops.Matmul, lambda ctx, g: (g @ ctx.saved_tensors[1], None), "backward raised"),
        (ops.Sum, lambda ctx, g: g, r"returned a gradient of shape \(\) for input 0"),
        (ops.Mul, lambda ctx, g: g * ctx.saved_tensors[1], "returned 1 gradients for 2 inputs"),
    ],
    ids=["relu-mask", "matmul-no-transpose", "sum-no-expand", "mul-one-gradient"],
)
def test_typical_learner_mistakes_are_reported(op, backward, pattern):
    report = _report_of(op, backward)
    assert not report.ok
    assert re.search(pattern, str(report)), str(report)


def test_inside_the_block_the_op_runs_the_learners_backward_and_afterwards_the_original():
    original = ops.Exp.__dict__["backward"]
    x = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    with exercise(ops.Exp, lambda ctx, g: g * 0 + 7.0, raise_on_failure=False, verbose=False):
        x.exp().sum().backward()
        inside = x.grad.numpy().copy()
    assert ops.Exp.__dict__["backward"] is original
    x.grad = None
    x.exp().sum().backward()
    np.testing.assert_array_equal(inside, [7.0, 7.0])
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.0, 1.0]))


def test_the_original_backward_is_restored_when_the_body_raises():
    original = ops.Exp.__dict__["backward"]
    with pytest.raises(KeyError):  # the body's own error, not an ExerciseError
        with exercise(ops.Exp, exp_backward_no_chain_rule) as ex:
            raise KeyError("boom")
    assert ops.Exp.__dict__["backward"] is original
    assert ex.report is None  # no check after a failed body


def test_the_original_backward_is_restored_after_a_failed_check():
    original = ops.Log.__dict__["backward"]
    with pytest.raises(ExerciseError):
        with exercise(ops.Log, log_backward_halved):
            pass
    assert ops.Log.__dict__["backward"] is original


def test_an_inherited_backward_is_restored_as_inherited():
    assert "backward" not in ops.Min.__dict__  # Min uses Max's backward
    with exercise(ops.Min, ops.Max.backward, verbose=False):
        assert "backward" in ops.Min.__dict__
    assert "backward" not in ops.Min.__dict__
    assert ops.Min.backward is ops.Max.backward


def test_check_can_run_inside_the_block_and_exit_keeps_its_report(capsys):
    with exercise(ops.Exp, exp_backward_no_chain_rule, raise_on_failure=False) as ex:
        report = ex.check()
        assert not report.ok and ex.report is report
    assert ex.report is report  # not checked a second time
    assert "chain rule" in capsys.readouterr().out  # verbose prints the verdict on exit


def test_custom_ops_with_given_inputs():
    class Square(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    with exercise(
        Square, Square.backward, inputs=[np.arange(6.0).reshape(2, 3)], verbose=False
    ) as ex:
        pass
    assert ex.report.ok and len(ex.report.checks) == 1
    wrong = _report_of(Square, lambda ctx, g: ctx.saved_tensors[0] * g)
    assert not wrong.ok and "factor 2" in str(wrong)
    drawn = exercise(Square, Square.backward, inputs=lambda rng: [rng.uniform(1, 2, (4,))])
    assert drawn.check().ok and len(drawn.report.checks) == 5


def test_two_exercises_of_one_op_at_once_are_refused():
    original = ops.Exp.__dict__["backward"]
    with exercise(ops.Exp, exp_backward, verbose=False):
        with pytest.raises(RuntimeError, match="exp is already being exercised"):
            with exercise(ops.Exp, exp_backward_no_chain_rule):
                pass
        assert ops.Exp.backward is not original  # the first swap is still in place
    assert ops.Exp.__dict__["backward"] is original


def test_exercises_in_other_threads_are_refused_while_one_runs():
    errors = []

    def other():
        try:
            with exercise(ops.Exp, exp_backward, verbose=False):
                pass
        except RuntimeError as e:
            errors.append(str(e))

    with exercise(ops.Exp, exp_backward, verbose=False):
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert errors and "already being exercised" in errors[0]


def test_exercise_errors():
    with pytest.raises(TypeError, match="tg.Function subclass"):
        exercise(np.exp, exp_backward)
    with pytest.raises(TypeError, match="tg.Function subclass"):
        exercise(Function, exp_backward)
    with pytest.raises(TypeError, match="backward must be a function"):
        exercise(ops.Exp, 3)
