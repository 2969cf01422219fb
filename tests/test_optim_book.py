"""Optimizers against the NNFS book's update rules, written out here in NumPy.

The book computes ``lr_t = lr / (1 + decay * iterations)`` before the update and counts the
iteration after it; its Adam corrects the bias with ``iterations + 1``.
"""

from __future__ import annotations

import numpy as np
import pytest
from optim_cases import param, run

from tinygrad_np.optim import SGD, SPIRAL_SETTINGS, Adagrad, Adam, RMSprop, from_book
from tinygrad_np.reference import optimizers as book_optimizers


def book_sgd(w, grads, lr, decay, momentum):
    v = np.zeros_like(w)
    for it, g in enumerate(grads):
        lr_t = lr / (1 + decay * it)
        v = momentum * v - lr_t * g
        w = w + v
    return w


def book_adagrad(w, grads, lr, decay, eps):
    cache = np.zeros_like(w)
    for it, g in enumerate(grads):
        cache = cache + g**2
        w = w - lr / (1 + decay * it) * g / (np.sqrt(cache) + eps)
    return w


def book_rmsprop(w, grads, lr, decay, eps, rho):
    cache = np.zeros_like(w)
    for it, g in enumerate(grads):
        cache = rho * cache + (1 - rho) * g**2
        w = w - lr / (1 + decay * it) * g / (np.sqrt(cache) + eps)
    return w


def book_adam(w, grads, lr, decay, eps, beta_1, beta_2):
    m, cache = np.zeros_like(w), np.zeros_like(w)
    for it, g in enumerate(grads):
        m = beta_1 * m + (1 - beta_1) * g
        cache = beta_2 * cache + (1 - beta_2) * g**2
        m_hat = m / (1 - beta_1 ** (it + 1))
        cache_hat = cache / (1 - beta_2 ** (it + 1))
        w = w - lr / (1 + decay * it) * m_hat / (np.sqrt(cache_hat) + eps)
    return w


# The book's chapter settings, with a larger decay so that 15 steps feel it.
CASES = [
    (book_sgd, dict(lr=1.0, decay=0.1, momentum=0.9),
     lambda p: SGD(p, lr=1.0, decay=0.1, momentum=0.9, momentum_style="nnfs")),
    (book_sgd, dict(lr=1.0, decay=0.1, momentum=0.0), lambda p: SGD(p, lr=1.0, decay=0.1)),
    (book_adagrad, dict(lr=1.0, decay=0.1, eps=1e-7),
     lambda p: Adagrad(p, lr=1.0, decay=0.1, eps=1e-7)),
    (book_rmsprop, dict(lr=0.02, decay=0.1, eps=1e-7, rho=0.999),
     lambda p: RMSprop(p, lr=0.02, decay=0.1, eps=1e-7, alpha=0.999)),
    (book_adam, dict(lr=0.05, decay=0.1, eps=1e-7, beta_1=0.9, beta_2=0.999),
     lambda p: Adam(p, lr=0.05, decay=0.1, eps=1e-7, betas=(0.9, 0.999))),
]  # fmt: skip


@pytest.mark.parametrize(
    "book, settings, ours", CASES, ids=[f"{c[0].__name__}-{c[1]}" for c in CASES]
)
def test_fifteen_steps_follow_the_book(book, settings, ours):
    rng = np.random.default_rng(6)
    w0 = rng.normal(size=(3, 2))
    grads = [rng.normal(size=(3, 2)) for _ in range(15)]
    p = param(w0)
    run(ours([p]), [p], [[g] for g in grads])
    np.testing.assert_allclose(p.data, book(w0, grads, **settings), rtol=1e-12, atol=1e-14)


class Layer:
    """What a book optimizer reads from a layer: parameters and their gradients."""

    def __init__(self, weights, biases):
        self.weights, self.biases = weights, biases


REFERENCE = [
    (book_optimizers.Optimizer_SGD(learning_rate=1.0, decay=0.1, momentum=0.9), CASES[0][2]),
    (book_optimizers.Optimizer_Adagrad(learning_rate=1.0, decay=0.1), CASES[2][2]),
    (book_optimizers.Optimizer_RMSprop(learning_rate=0.02, decay=0.1, rho=0.999), CASES[3][2]),
    (book_optimizers.Optimizer_Adam(learning_rate=0.05, decay=0.1), CASES[4][2]),
]


@pytest.mark.parametrize("book, ours", REFERENCE, ids=[type(b).__name__ for b, _ in REFERENCE])
def test_steps_and_current_lr_match_the_reference_optimizers(book, ours):
    """Same weights and the same printed learning rate as the book-style optimizers."""
    rng = np.random.default_rng(7)
    layer = Layer(rng.normal(size=(3, 2)), rng.normal(size=(1, 2)))
    w, b = param(layer.weights.copy()), param(layer.biases.copy())
    opt = ours([w, b])
    for _ in range(15):
        layer.dweights, layer.dbiases = rng.normal(size=(3, 2)), rng.normal(size=(1, 2))
        book.pre_update_params()
        book.update_params(layer)
        book.post_update_params()
        run(opt, [w, b], [[layer.dweights, layer.dbiases]])
        assert opt.current_lr == pytest.approx(book.current_learning_rate, rel=1e-15)
    np.testing.assert_allclose(w.data, layer.weights, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b.data, layer.biases, rtol=1e-12, atol=1e-14)


# from_book: the book's spiral settings, in its own names, against the reference optimizers
FROM_BOOK = [
    ("sgd", book_optimizers.Optimizer_SGD, {}),
    ("momentum", book_optimizers.Optimizer_SGD, {"momentum": 0.9}),
    ("adagrad", book_optimizers.Optimizer_Adagrad, {}),
    ("rmsprop", book_optimizers.Optimizer_RMSprop, {}),
    ("adam", book_optimizers.Optimizer_Adam, {}),
]


@pytest.mark.parametrize("name, book_cls, extra", FROM_BOOK, ids=[c[0] for c in FROM_BOOK])
def test_from_book_takes_the_books_steps_with_its_spiral_settings(name, book_cls, extra):
    settings = {**SPIRAL_SETTINGS[name], "decay": 0.1}  # a decay that 15 steps feel
    book = book_cls(**{**settings, **extra})
    rng = np.random.default_rng(8)
    layer = Layer(rng.normal(size=(3, 2)), rng.normal(size=(1, 2)))
    w, b = param(layer.weights.copy()), param(layer.biases.copy())
    opt = from_book(name, [w, b], decay=0.1)
    for _ in range(15):
        layer.dweights, layer.dbiases = rng.normal(size=(3, 2)), rng.normal(size=(1, 2))
        book.pre_update_params()
        book.update_params(layer)
        book.post_update_params()
        run(opt, [w, b], [[layer.dweights, layer.dbiases]])
    np.testing.assert_allclose(w.data, layer.weights, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b.data, layer.biases, rtol=1e-12, atol=1e-14)


def test_from_book_errors_name_the_choices():
    with pytest.raises(ValueError, match=r"from_book: optimizer must be one of \['sgd'"):
        from_book("lbfgs", [param([1.0])])
    with pytest.raises(TypeError, match=r"\['lr'\] are not settings of the book's adam"):
        from_book("adam", [param([1.0])], lr=0.1)
