"""Hand-derived gradients against autograd: whole trainings, then three planted mistakes.

Part 1 trains the book's spiral classifier (2-64-3, float64) twice from the same initial
weights: with the hand-derived reference layers and a book optimizer, and with Tensors and
tg.optim. With plain SGD the two loss curves agree to 1e-9 for 1000 steps; with Adam they
agree for about a hundred steps, then part, and the control runs show why.

Part 2 plants the three classic derivation mistakes (a missing ``/ n_samples``, a transposed
matmul, ReLU's mask taken from the wrong tensor) and shows how ``compare_layer`` /
``compare_loss``, ``find_wrong_op`` and ``tg.gradcheck`` report each one.

Run:  python examples/derivation_check.py [--epochs 1000]   (under 15 seconds)
See docs/derivations.md for what the numbers mean.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import tinygrad_np as tg
from tinygrad_np import reference as ref
from tinygrad_np.compare import (
    compare_layer,
    compare_loss,
    compare_training,
    find_wrong_op,
    spiral_models,
)


def banner(title: str) -> None:
    print(f"\n{'=' * 8} {title} {'=' * (80 - len(title))}")


def first_step_above(diffs: np.ndarray, threshold: float) -> str:
    above = np.flatnonzero(diffs > threshold)
    return str(above[0]) if above.size else "never"


def drift_row(label: str, report) -> None:
    marks = [first_step_above(report.loss_diff, t) for t in (1e-12, 1e-9, 1e-6, 1e-3)]
    largest = f"{report.loss_diff.max():.1e}"
    print(f"  {label:<36}" + "".join(f"{m:>8}" for m in marks) + f"{largest:>10}")


# ------------------------------------------------------------------ part 1: whole trainings
def trainings(steps: int = 1000) -> None:
    banner(f"SGD (learning_rate 1.0, decay 1e-3), {steps} steps")
    hand, autograd = spiral_models(hidden=64, optimizer="sgd", dtype=np.float64)
    sgd = compare_training(hand, autograd, steps=steps, rtol=1e-9)
    print(sgd)

    banner(f"Adam (learning_rate 0.02, decay 5e-7), {2 * steps} steps")
    hand, autograd = spiral_models(hidden=64, optimizer="adam")
    adam = compare_training(hand, autograd, steps=2 * steps, rtol=1e-9)
    print(adam)

    # Control: the SAME code twice, once with W1 nudged by ~1e-15 (a few ulps).
    thresholds = "".join(f"{t:>8}" for t in ("1e-12", "1e-9", "1e-6", "1e-3", "largest"))
    print(f"\n{'first step whose loss differs by more than ...':<38}{thresholds}")
    for optimizer, n in (("sgd", steps), ("adam", 2 * steps)):
        hand, autograd = spiral_models(hidden=64, optimizer=optimizer)
        drift_row(f"{optimizer}: hand-derived vs autograd", compare_training(hand, autograd, n))
        for side in ("hand-derived", "autograd"):
            pick = 1 if side == "autograd" else 0  # spiral_models returns (hand, autograd)
            a = spiral_models(hidden=64, optimizer=optimizer)[pick]
            b = spiral_models(hidden=64, optimizer=optimizer)[pick]
            w1 = b.dense1.weights if side == "hand-derived" else b.params[0].data
            w1 *= 1 + 2.0**-50  # every element moves by a few units in the last place
            drift_row(f"{optimizer}: {side} vs itself + 1e-15", compare_training(a, b, n))


def adam_effective_learning_rates(steps: int = 300) -> None:
    """Adam's per-weight step size lr / (sqrt(v_hat) + eps), from the book optimizer's state."""
    print("\nAdam's effective per-weight learning rate (SGD's is at most 1.0):")
    hand, _ = spiral_models(hidden=64, optimizer="adam")
    adam = hand.optimizer
    for step in range(steps + 1):
        hand()
        if step in (0, 100, steps):
            rates = []
            for layer in (hand.dense1, hand.dense2):
                for prefix in ("weight", "bias"):
                    v_hat = adam.state[layer][f"{prefix}_cache"] / (
                        1 - adam.beta_2**adam.iterations
                    )
                    rates.append(adam.current_learning_rate / (np.sqrt(v_hat) + adam.epsilon))
            rates = np.concatenate([r.ravel() for r in rates])
            print(f"  step {step:>3}: median {np.median(rates):8.3g}, largest {rates.max():8.3g}")


# ------------------------------------------------------------------ part 2: planted mistakes
class SoftmaxCrossEntropy_NoMean(ref.Activation_Softmax_Loss_CategoricalCrossentropy):
    """Mistake 1: the gradient of the MEAN loss needs ``/ n_samples``; forgotten here."""

    def backward(self, dvalues, y_true):
        self.dinputs = dvalues.copy()
        self.dinputs[np.arange(len(dvalues)), y_true] -= 1  # ... and no "/ n_samples"


class Dense_NoTranspose(ref.Layer_Dense):
    """Mistake 2: ``dinputs = dvalues · W`` instead of ``dvalues · Wᵀ``."""

    def backward(self, dvalues):
        super().backward(dvalues)
        self.dinputs = np.dot(dvalues, self.weights)


class ReLU_MaskFromGradient(ref.Activation_ReLU):
    """Mistake 3: the mask must come from the layer's inputs, not from dvalues."""

    def backward(self, dvalues):
        self.dinputs = dvalues.copy()
        self.dinputs[dvalues <= 0] = 0


# The same three mistakes as custom ops, the form find_wrong_op and tg.gradcheck examine.
class DenseOp(tg.Function):
    """z = x @ w + b"""

    transpose = True

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return x @ w + b

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        dx = g @ w.T if DenseOp.transpose else g @ w
        return dx, x.T @ g, g.sum(axis=0, keepdims=True)


class ReluOp(tg.Function):
    """z = max(x, 0)"""

    from_inputs = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ((x if ReluOp.from_inputs else g) > 0)


class SoftmaxCrossEntropyOp(tg.Function):
    """z = mean_i -log softmax(x_i)[y_i]"""

    mean = True

    @staticmethod
    def forward(ctx, logits, y):
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs = shifted / shifted.sum(axis=1, keepdims=True)
        ctx.probs, ctx.y = probs, y
        return -np.log(probs[np.arange(len(y)), y]).mean()

    @staticmethod
    def backward(ctx, g):
        d = ctx.probs.copy()
        d[np.arange(len(ctx.y)), ctx.y] -= 1
        return g * (d / len(ctx.y) if SoftmaxCrossEntropyOp.mean else d), None


def mistakes() -> None:
    rng = np.random.default_rng(0)
    X, y = tg.data.spiral_data(10, 3, seed=0)
    X = X.astype(np.float64)
    h = 8  # small, so gradcheck (one pair of forwards per parameter element) stays quick
    w1, w2, w3 = (rng.standard_normal(s) * 0.5 for s in ((2, h), (h, h), (h, 3)))
    b1, b2, b3 = (rng.standard_normal((1, n)) * 0.1 for n in (h, h, 3))
    params = [tg.Tensor(p.copy(), requires_grad=True) for p in (w1, b1, w2, b2, w3, b3)]

    def network(w1, b1, w2, b2, w3, b3):
        a = ReluOp.apply(DenseOp.apply(tg.Tensor(X), w1, b1))
        a = ReluOp.apply(DenseOp.apply(a, w2, b2))
        return SoftmaxCrossEntropyOp.apply(DenseOp.apply(a, w3, b3), y)

    logits = rng.standard_normal((len(y), 3))
    pre_activation = rng.standard_normal((len(y), h))
    cases = [
        ("missing / n_samples", SoftmaxCrossEntropyOp, "mean",
         lambda: compare_loss(SoftmaxCrossEntropy_NoMean(), tg.nn.CrossEntropyLoss(), logits, y)),
        ("transposed matmul", DenseOp, "transpose",
         lambda: compare_layer(Dense_NoTranspose(h, h, weights=w2, biases=b2),
                               tg.nn.Linear(h, h, dtype=np.float64), pre_activation)),
        ("ReLU mask from the wrong tensor", ReluOp, "from_inputs",
         lambda: compare_layer(ReLU_MaskFromGradient(), tg.nn.ReLU(), pre_activation)),
    ]  # fmt: skip
    for title, op, switch, book_check in cases:
        banner(f"mistake: {title}")
        print("-- compare_layer / compare_loss on the book-style class:")
        print(book_check())
        setattr(op, switch, False)  # plant the mistake in the custom op
        try:
            print("\n-- find_wrong_op on the network built from custom ops:")
            print(find_wrong_op(network, params))
            print("\n-- tg.gradcheck on the same network:")
            try:
                tg.gradcheck(network, params)
                print("gradcheck passed (it should not have)")
            except (tg.GradcheckError, ValueError) as e:  # a wrong shape fails inside backward
                print(f"{type(e).__name__}: {e}")
        finally:
            setattr(op, switch, True)
    banner("a planted mistake in a whole training: ReLU's mask from the wrong tensor")
    hand, autograd = spiral_models(hidden=64)
    hand.activation1 = ReLU_MaskFromGradient()
    print(compare_training(hand, autograd, steps=100, stop_at_divergence=True))

    banner("all three mistakes fixed")
    print(find_wrong_op(network, params))
    print("gradcheck:", tg.gradcheck(network, params))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--epochs",
        type=int,
        default=int(os.environ.get("EPOCHS", 1000)),
        help="full-batch steps of the SGD comparison (Adam's runs twice as long)",
    )
    trainings(parser.parse_args().epochs)
    adam_effective_learning_rates()
    mistakes()
