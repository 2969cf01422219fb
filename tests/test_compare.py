"""compare_layer / compare_loss / compare_training: right derivations pass, planted mistakes
are caught and explained, and trainings part exactly where a planted change starts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_np as tg
from tinygrad_np import reference as ref
from tinygrad_np.compare import (
    ComparisonError,
    Step,
    compare_layer,
    compare_loss,
    compare_training,
    spiral_models,
)
from tinygrad_np.tensor import Tensor


def dense_fn(x, w, b):
    return x @ w + b


class DenseFunction(tg.Function):
    """z = x @ w + b, with a hand-derived backward (a user's custom op)."""

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return x @ w + b

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        return g @ w.T, x.T @ g, g.sum(axis=0, keepdims=True)


class TinyLinear:
    """The shape of a tg.nn module: named_parameters, weight/bias attributes, __call__."""

    def __init__(self, n_in, n_out):
        self.weight = Tensor(np.zeros((n_in, n_out)), requires_grad=True)
        self.bias = Tensor(np.zeros((1, n_out)), requires_grad=True)

    def named_parameters(self):
        return [("weight", self.weight), ("bias", self.bias)]

    def __call__(self, x):
        return x @ self.weight + self.bias


# ---------------------------------------------------------------- planted book-style mistakes
class Dense_NoTranspose(ref.Layer_Dense):
    def backward(self, dvalues):
        super().backward(dvalues)
        self.dinputs = np.dot(dvalues, self.weights)  # should be weights.T


class Dense_SwappedWeightGradient(ref.Layer_Dense):
    def backward(self, dvalues):
        super().backward(dvalues)
        self.dweights = np.dot(dvalues.T, self.inputs)  # (out, in): the transpose


class ReLU_MaskFromGradient(ref.Activation_ReLU):
    def backward(self, dvalues):
        self.dinputs = dvalues.copy()
        self.dinputs[dvalues <= 0] = 0  # must come from self.inputs


class SoftmaxCE_NoMean(ref.Activation_Softmax_Loss_CategoricalCrossentropy):
    def backward(self, dvalues, y_true):
        self.dinputs = dvalues.copy()
        self.dinputs[np.arange(len(dvalues)), y_true] -= 1  # no / n_samples


def data(n=6, n_in=4, seed=0):
    return np.random.default_rng(seed).standard_normal((n, n_in))


# ---------------------------------------------------------------- compare_layer


@pytest.mark.parametrize(
    "autograd",
    [dense_fn, DenseFunction, "module", "closure"],
    ids=["callable", "function", "module", "closure"],
)
def test_a_right_dense_layer_agrees_with_every_kind_of_autograd_counterpart(autograd):
    dense = ref.Layer_Dense(4, 3, rng=np.random.default_rng(1))
    dense.biases[:] = 0.5
    params = None
    if autograd == "module":
        autograd = TinyLinear(4, 3)
    elif autograd == "closure":
        w, b = Tensor(np.zeros((4, 3))), Tensor(np.zeros((1, 3)))
        params = {"weights": w, "biases": b}

        def autograd(x):
            return x @ w + b

    report = compare_layer(dense, autograd, data(), params=params)
    assert report.ok, str(report)
    assert [r.name for r in report.rows] == ["output", "dinputs", "dweights", "dbiases"]
    assert all(r.max_abs <= 1e-12 for r in report.rows)


def test_parameters_are_copied_from_the_hand_layer_into_the_module():
    dense = ref.Layer_Dense(4, 3, rng=np.random.default_rng(2))
    module = TinyLinear(4, 3)
    compare_layer(dense, module, data())
    np.testing.assert_array_equal(module.weight.data, dense.weights)
    np.testing.assert_array_equal(module.bias.data, dense.biases)
    assert not np.shares_memory(module.weight.data, dense.weights)


def test_a_params_mapping_names_the_module_attributes():
    class Renamed:
        def __init__(self):
            self.kernel = Tensor(np.zeros((4, 2)), requires_grad=True)
            self.offset = Tensor(np.zeros((1, 2)), requires_grad=True)

        def named_parameters(self):
            return [("kernel", self.kernel), ("offset", self.offset)]

        def __call__(self, x):
            return x @ self.kernel + self.offset

    dense = ref.Layer_Dense(4, 2, rng=np.random.default_rng(3))
    report = compare_layer(
        dense, Renamed(), data(), params={"weights": "kernel", "biases": "offset"}
    )
    assert report.ok


def test_tg_nn_modules():
    dense = ref.Layer_Dense(4, 3, rng=np.random.default_rng(4))
    report = compare_layer(dense, tg.nn.Linear(4, 3, dtype=np.float64), data())
    assert report.ok and report.rtol == 1e-9
    assert compare_layer(ref.Activation_ReLU(), tg.nn.ReLU(), data()).ok
    assert compare_layer(ReLU_MaskFromGradient(), tg.nn.ReLU(), data(20, 5)).ok is False


def test_regularized_layers_compare_with_the_penalties_added_on_the_autograd_side():
    strengths = dict(
        weight_regularizer_l1=0.01, weight_regularizer_l2=0.05, bias_regularizer_l2=0.1
    )
    dense = ref.Layer_Dense(4, 3, rng=np.random.default_rng(5), **strengths)
    dense.biases[:] = 0.3
    module = tg.nn.Linear(4, 3, dtype=np.float64)  # strengths copied from the hand layer
    report = compare_layer(dense, module, data())
    assert report.ok, str(report)
    assert module.weight_regularizer_l2 == 0.05 and "penalties" in report.title
    plain = compare_layer(dense, dense_fn, data())  # a function knows nothing of penalties
    assert not plain["dweights"].ok and "L1/L2 penalty" in plain["dweights"].hint


def test_a_float32_module_against_a_float64_layer_is_judged_at_float32_precision():
    dense = ref.Layer_Dense(4, 3, rng=np.random.default_rng(4))
    report = compare_layer(dense, tg.nn.Linear(4, 3), data())  # tg.nn defaults to float32
    assert report.ok and report.rtol == 1e-4 and "float32" in report.dtypes


@pytest.mark.parametrize(
    "hand, autograd",
    [
        (ref.Activation_ReLU, lambda x: x.relu()),
        (ref.Activation_Sigmoid, lambda x: x.sigmoid()),
        (ref.Activation_Softmax, lambda x: x.softmax(axis=-1)),
        (ref.Activation_Linear, lambda x: x * 1.0),
    ],
)
def test_book_activations_agree(hand, autograd):
    report = compare_layer(hand(), autograd, data(8, 5, seed=5))
    assert report.ok, str(report)
    assert [r.name for r in report.rows] == ["output", "dinputs"]


def test_missing_transpose_in_a_square_layer_is_caught():
    dense = Dense_NoTranspose(4, 4, rng=np.random.default_rng(6))
    report = compare_layer(dense, dense_fn, data())
    assert not report.ok
    assert not report["dinputs"].ok
    assert report["output"].ok and report["dweights"].ok and report["dbiases"].ok
    assert "dvalues · W.T" in report["dinputs"].hint


def test_a_transposed_weight_gradient_shows_as_a_transposed_shape():
    dense = Dense_SwappedWeightGradient(4, 3, rng=np.random.default_rng(7))
    report = compare_layer(dense, dense_fn, data())
    row = report["dweights"]
    assert not row.ok and row.hand_shape == (3, 4) and row.autograd_shape == (4, 3)
    assert "transpose" in row.hint


def test_relu_mask_from_the_wrong_tensor_is_caught_with_a_mask_hint():
    report = compare_layer(ReLU_MaskFromGradient(), lambda x: x.relu(), data(20, 5))
    assert not report.ok
    assert "mask" in report["dinputs"].hint


def test_the_report_table_shows_each_quantity_the_numbers_and_the_verdict():
    dense = Dense_NoTranspose(4, 4, rng=np.random.default_rng(8))
    report = compare_layer(dense, dense_fn, data())
    text = str(report)
    lines = text.splitlines()
    assert lines[0].startswith("Dense_NoTranspose (hand-derived) vs dense_fn (autograd)")
    assert "float64" in lines[0] and "rtol 1e-09" in lines[0]
    assert lines[1].split() == [
        "quantity", "shape", "max", "abs", "diff", "max", "rel", "diff", "worst", "at",
        "hand-derived", "autograd", "result",
    ]  # fmt: skip
    rows = {line.split()[0]: line for line in lines[2:6]}
    assert set(rows) == {"output", "dinputs", "dweights", "dbiases"}
    assert rows["dinputs"].rstrip().endswith("FAIL")
    assert rows["output"].rstrip().endswith("ok")
    d = report["dinputs"]
    assert f"{d.max_abs:.6g}" in rows["dinputs"] and f"{d.hand_value:.6g}" in rows["dinputs"]
    assert str(d.index) in rows["dinputs"]
    assert lines[-1] == "DIFFER: 1 of 4 quantities"
    # the worst element really is where the difference is largest
    hand_grad = dense.dinputs
    np.testing.assert_allclose(abs(d.hand_value - d.autograd_value), d.max_abs)
    assert d.hand_value == hand_grad[d.index]


def test_raise_if_failed_raises_with_the_table_and_passes_silently_when_ok():
    good = compare_layer(ref.Layer_Dense(4, 3, rng=np.random.default_rng(9)), dense_fn, data())
    good.raise_if_failed()
    bad = compare_layer(Dense_NoTranspose(4, 4, rng=np.random.default_rng(9)), dense_fn, data())
    with pytest.raises(ComparisonError, match="dinputs"):
        bad.raise_if_failed()


@given(
    n=st.integers(1, 6),
    n_in=st.integers(1, 5),
    n_out=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
    factor=st.sampled_from([1.0, 1.0 + 1e-6, 2.0, -1.0, 0.5]),
)
def test_any_scaling_of_a_gradient_is_caught_and_none_is_accepted(n, n_in, n_out, seed, factor):
    class Scaled(ref.Layer_Dense):
        def backward(self, dvalues):
            super().backward(dvalues)
            self.dweights = self.dweights * factor

    rng = np.random.default_rng(seed)
    dense = Scaled(n_in, n_out, rng=rng)
    report = compare_layer(dense, dense_fn, rng.standard_normal((n, n_in)), seed=seed)
    assert report.ok == (factor == 1.0)
    assert report["output"].ok and report["dinputs"].ok and report["dbiases"].ok
    if factor != 1.0:
        assert f"hand-derived = {'-' if factor < 0 else ''}" in report["dweights"].hint


def test_float32_layers_get_a_looser_default_tolerance():
    dense = ref.Layer_Dense(4, 3, rng=np.random.default_rng(10), dtype=np.float32)
    report = compare_layer(dense, dense_fn, data().astype(np.float32))
    assert report.ok and report.rtol == 1e-4 and "float32" in str(report)


def test_compare_layer_errors_name_the_problem():
    dense = ref.Layer_Dense(4, 3, rng=np.random.default_rng(11))

    class NoParams:
        def named_parameters(self):
            return []

        def __call__(self, x):
            return x

    with pytest.raises(ValueError, match=r"Layer_Dense has \['weights', 'biases'\].*params="):
        compare_layer(dense, NoParams(), data())
    with pytest.raises(RuntimeError, match="does not require grad"):
        compare_layer(ref.Activation_ReLU(), lambda x: x.detach(), data())

    class Silent:
        output = None

        def forward(self, inputs):
            pass

    with pytest.raises(RuntimeError, match=r"Silent.forward set no .output"):
        compare_layer(Silent(), lambda x: x, data())
    w = Tensor(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"weights has shape \(4, 3\).*\(2, 2\)"):
        compare_layer(dense, lambda x: x @ w, data(), params={"weights": w})
    module = TinyLinear(4, 3)
    module.bias = np.zeros((1, 3))
    with pytest.raises(TypeError, match=r"TinyLinear.bias is a ndarray, not a Tensor"):
        compare_layer(dense, module, data())

    class NoGradient(ref.Activation_ReLU):
        def backward(self, dvalues):
            pass

    with pytest.raises(RuntimeError, match=r"NoGradient.backward set no .dinputs"):
        compare_layer(NoGradient(), lambda x: x.relu(), data())


def test_a_parameter_the_autograd_forward_never_uses_is_explained():
    dense = ref.Layer_Dense(4, 3, rng=np.random.default_rng(12))
    dense.biases[:] = 0.0
    w, b = Tensor(np.zeros((4, 3))), Tensor(np.zeros((1, 3)))
    report = compare_layer(dense, lambda x: x @ w, data(), params={"weights": w, "biases": b})
    assert report["output"].ok and not report["dbiases"].ok
    assert "no gradient" in report["dbiases"].hint


def test_outputs_of_different_shapes_stop_before_the_gradients():
    dense = ref.Layer_Dense(4, 3, rng=np.random.default_rng(12))
    report = compare_layer(dense, lambda x, w, b: (x @ w + b).T, data())
    assert not report.ok and [r.name for r in report.rows] == ["output"]
    assert "gradients not compared" in str(report)


# ---------------------------------------------------------------- compare_loss
LABELS = np.array([0, 2, 1, 1, 0, 2])


def probabilities(seed=13):
    return Tensor(data(6, 3, seed)).softmax().data


@pytest.mark.parametrize(
    "hand, autograd, pred, target",
    [
        (ref.Activation_Softmax_Loss_CategoricalCrossentropy(), tg.cross_entropy,
         data(6, 3), LABELS),
        (ref.Loss_CategoricalCrossentropy(),
         lambda p, y: -(p.log()[np.arange(len(y)), y]).mean(), probabilities(), LABELS),
        (ref.Loss_MeanSquaredError(), lambda p, y: ((p - y) ** 2).mean(),
         data(6, 2), data(6, 2, 1)),
        (ref.Loss_MeanAbsoluteError(), lambda p, y: (p - y).abs().mean(),
         data(6, 2), data(6, 2, 2)),
        (ref.Loss_BinaryCrossentropy(),
         lambda p, y: -(y * p.log() + (1 - y) * (1 - p).log()).mean(),
         1 / (1 + np.exp(-data(6, 2))), (data(6, 2, 3) > 0).astype(float)),
    ],
    ids=["softmax-cce", "cce", "mse", "mae", "bce"],
)  # fmt: skip
def test_book_losses_agree_with_autograd_losses(hand, autograd, pred, target):
    report = compare_loss(hand, autograd, pred, target)
    assert report.ok, str(report)
    assert [r.name for r in report.rows] == ["loss", "dinputs"]


def test_a_missing_division_by_the_batch_size_is_named():
    report = compare_loss(SoftmaxCE_NoMean(), tg.cross_entropy, data(6, 3), LABELS)
    assert report["loss"].ok and not report["dinputs"].ok
    assert "batch size (6)" in report["dinputs"].hint and "n_samples" in report["dinputs"].hint


def test_compare_loss_wants_a_scalar_autograd_loss():
    with pytest.raises(TypeError, match="must return a one-element Tensor"):
        compare_loss(ref.Loss_MeanSquaredError(), lambda p, y: p - y, data(6, 2), data(6, 2))


# ---------------------------------------------------------------- compare_training


def test_sgd_trainings_agree_to_1e_9_for_1000_steps_and_end_at_the_same_accuracy():
    hand, autograd = spiral_models(hidden=64, optimizer="sgd", dtype=np.float64)
    report = compare_training(hand, autograd, steps=1000, rtol=1e-9)
    assert report.ok, str(report)
    assert report.loss_diff.max() < 1e-9 and report.steps == 1000
    assert report.hand_accuracy[-1] == report.autograd_accuracy[-1]
    assert report.hand_losses[-1] < report.hand_losses[0] - 0.03  # it did learn something


def test_adam_trainings_agree_to_1e_9_for_the_first_hundred_steps():
    hand, autograd = spiral_models(hidden=64, optimizer="adam")
    report = compare_training(hand, autograd, steps=100, rtol=1e-9)
    assert report.ok, str(report)


class ChangesAfter:
    """A hand-derived step that changes its optimizer's behaviour from step k on."""

    def __init__(self, hand, k, change):
        self.hand, self.k, self.change, self.calls = hand, k, change, 0

    def __call__(self):
        if self.calls == self.k:
            self.change(self.hand)
        self.calls += 1
        return self.hand()


def _double_learning_rate(hand):
    hand.optimizer.learning_rate *= 2


def _forget_the_decay(hand):
    hand.optimizer.decay = 0.0


@pytest.mark.parametrize("k", [0, 1, 7, 30])
@pytest.mark.parametrize("change", [_double_learning_rate, _forget_the_decay])
def test_compare_training_names_the_step_where_a_planted_change_starts(k, change):
    hand, autograd = spiral_models(hidden=8, samples=20)
    report = compare_training(ChangesAfter(hand, k, change), autograd, steps=40)
    if change is _forget_the_decay and k == 0:
        k = 1  # the first step's rate is lr / (1 + decay * 0): the decay starts to act at step 1
    assert not report.ok
    d = report.first_divergence
    # the change alters step k's update: the loss of step k still agrees, its parameters not
    assert d.step == k and d.quantity != "loss"
    assert d.quantity in ("dense1.weights", "dense1.biases", "dense2.weights", "dense2.biases")
    assert report.agreed_steps == k
    assert d.relative > 1e-6 and abs(d.hand - d.autograd) > 0
    assert f"PARTED at step {k}" in str(report) and d.quantity in str(report)


def test_stop_at_divergence_stops_there():
    hand, autograd = spiral_models(hidden=8, samples=20)
    report = compare_training(
        ChangesAfter(hand, 3, _double_learning_rate), autograd, steps=40, stop_at_divergence=True
    )
    assert report.steps == 4 and report.first_divergence.step == 3


def test_a_loss_difference_alone_is_reported_as_the_loss():
    losses = iter([1.0, 2.0, 3.0])
    other = iter([1.0, 2.0, 3.5])
    params = {"w": np.ones(2)}
    report = compare_training(lambda: (next(losses), params), lambda: (next(other), params), 3)
    assert report.first_divergence.step == 2 and report.first_divergence.quantity == "loss"
    assert report.hand_accuracy is None
    assert "loss" in str(report) and "accuracy" not in str(report)


def test_a_loss_that_is_exactly_zero_on_one_side_is_a_divergence_not_a_crash():
    params = {"w": np.ones(2)}
    report = compare_training(lambda: (1e-7, params), lambda: (0.0, params), 2)
    d = report.first_divergence
    assert d.step == 0 and d.quantity == "loss" and d.relative == np.inf


def test_a_nan_parameter_is_the_worst_divergence():
    good = {"a": np.ones(2), "b": np.ones(2)}
    bad = {"a": np.array([1.0, 1.5]), "b": np.array([np.nan, 1.0])}
    report = compare_training(lambda: (1.0, good), lambda: (1.0, bad), 2)
    d = report.first_divergence
    assert d.step == 0 and d.quantity == "b" and d.index == (0,) and np.isnan(d.autograd)


def test_the_training_report_table_has_checkpoint_rows():
    hand, autograd = spiral_models(hidden=8, samples=20)
    report = compare_training(hand, autograd, steps=25)
    text = str(report)
    assert text.startswith("agree: all 25 steps")
    steps = [line.split()[0] for line in text.splitlines()[2:-1]]
    assert steps == ["0", "1", "10", "24"]
    assert "final accuracy" in text.splitlines()[-1]


def test_compare_training_errors():
    step = lambda: Step(1.0, {"w": np.ones(2)})  # noqa: E731
    with pytest.raises(ValueError, match="steps must be at least 1"):
        compare_training(step, step, 0)
    with pytest.raises(ValueError, match="returned 1 parameters"):
        compare_training(step, lambda: Step(1.0, {"a": np.ones(2), "b": np.ones(2)}), 1)
    with pytest.raises(ValueError, match=r"parameter w has shape \(2,\)"):
        compare_training(step, lambda: Step(1.0, {"w": np.ones(3)}), 1)
    with pytest.raises(TypeError, match="autograd step function must return Step"):
        compare_training(step, lambda: 1.0, 1)


def test_spiral_models_errors():
    with pytest.raises(ValueError, match="optimizer must be one of"):
        spiral_models(optimizer="lbfgs")
    with pytest.raises(TypeError, match=r"\['lr'\] are not hyper-parameters of the book's"):
        spiral_models(optimizer="sgd", lr=0.1)


def test_spiral_models_leave_the_library_generator_where_it_was():
    tg.manual_seed(0)
    expected = tg.randn(3).numpy()
    tg.manual_seed(0)
    spiral_models(hidden=4, samples=5)
    np.testing.assert_array_equal(tg.randn(3).numpy(), expected)


@pytest.mark.parametrize("optimizer", ["sgd", "adagrad", "rmsprop", "adam"])
def test_every_spiral_optimizer_pair_starts_identically(optimizer):
    extra = {"momentum": 0.9} if optimizer == "sgd" else {}
    hand, autograd = spiral_models(hidden=8, samples=20, optimizer=optimizer, **extra)
    report = compare_training(hand, autograd, steps=5)
    assert report.param_diff.max() < 1e-9, str(report)
