"""Side by side: the hand-derived reference gradients equal what Tensor autograd computes."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_np as tg
from tinygrad_np import reference as ref
from tinygrad_np.tensor import Tensor


@given(
    n=st.integers(1, 8),
    n_in=st.integers(1, 6),
    hidden=st.integers(1, 6),
    classes=st.integers(2, 6),
    l2=st.sampled_from([0.0, 5e-4, 0.1]),
    seed=st.integers(0, 2**32 - 1),
)
def test_two_layer_classifier_gradients_match_autograd(n, n_in, hidden, classes, l2, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_in))
    y = rng.integers(0, classes, n)
    dense1 = ref.Layer_Dense(
        n_in, hidden, weight_regularizer_l2=l2, bias_regularizer_l2=l2, rng=rng
    )
    dense2 = ref.Layer_Dense(hidden, classes, rng=rng)
    dense1.weights *= 100  # larger than the book's 0.01 scale, so the gradients are not tiny
    dense1.biases[:] = rng.standard_normal((1, hidden))
    relu, head = ref.Activation_ReLU(), ref.Activation_Softmax_Loss_CategoricalCrossentropy()

    dense1.forward(X)
    relu.forward(dense1.output)
    dense2.forward(relu.output)
    loss = head.forward(dense2.output, y) + head.loss.regularization_loss(dense1)
    head.backward(head.output, y)
    dense2.backward(head.dinputs)
    relu.backward(dense2.dinputs)
    dense1.backward(relu.dinputs)

    params = [
        Tensor(p.copy(), requires_grad=True)
        for p in (dense1.weights, dense1.biases, dense2.weights, dense2.biases)
    ]
    w1, b1, w2, b2 = params
    logits = (Tensor(X) @ w1 + b1).relu() @ w2 + b2
    total = tg.cross_entropy(logits, y) + l2 * ((w1 * w1).sum() + (b1 * b1).sum())
    total.backward()

    np.testing.assert_allclose(loss, total.item(), rtol=1e-12)
    expected = (dense1.dweights, dense1.dbiases, dense2.dweights, dense2.dbiases)
    for param, hand_derived in zip(params, expected, strict=True):
        np.testing.assert_allclose(hand_derived, param.grad.numpy(), rtol=1e-9, atol=1e-12)
