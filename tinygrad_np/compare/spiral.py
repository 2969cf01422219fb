"""The book's spiral classifier (2 inputs, a ReLU hidden layer, 3 classes), built twice.

``HandSpiral`` is the book's code: ``Layer_Dense``, ``Activation_ReLU``,
``Activation_Softmax_Loss_CategoricalCrossentropy`` and a book optimizer, every gradient
written by hand. ``AutogradSpiral`` is two ``tg.nn.Linear`` layers, ``relu``,
``tg.nn.CrossEntropyLoss`` and ``tg.optim``: no gradient written by hand. Both start from the
same weights and train on the same data, full batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_np import nn, optim
from tinygrad_np import reference as ref
from tinygrad_np.compare.training import Step
from tinygrad_np.data import spiral_data
from tinygrad_np.rng import get_rng_state, set_rng_state
from tinygrad_np.tensor import Tensor

# optimizer name -> the book's class; its settings and tg.optim counterpart: tg.optim.from_book
BOOK_OPTIMIZERS: dict[str, type] = {
    "sgd": ref.Optimizer_SGD,
    "adagrad": ref.Optimizer_Adagrad,
    "rmsprop": ref.Optimizer_RMSprop,
    "adam": ref.Optimizer_Adam,
}


class HandSpiral:
    """The hand-derived model; calling it runs one training step and returns a ``Step``."""

    def __init__(self, X: np.ndarray, y: np.ndarray, weights: list[np.ndarray], optimizer: Any):
        w1, b1, w2, b2 = (np.array(w, copy=True) for w in weights)
        self.X, self.y = X, y
        self.dense1 = ref.Layer_Dense(*w1.shape, weights=w1, biases=b1)
        self.activation1 = ref.Activation_ReLU()
        self.dense2 = ref.Layer_Dense(*w2.shape, weights=w2, biases=b2)
        self.loss_activation = ref.Activation_Softmax_Loss_CategoricalCrossentropy()
        self.optimizer = optimizer

    def __call__(self) -> Step:
        self.dense1.forward(self.X)
        self.activation1.forward(self.dense1.output)
        self.dense2.forward(self.activation1.output)
        loss = self.loss_activation.forward(self.dense2.output, self.y)
        accuracy = np.mean(np.argmax(self.loss_activation.output, axis=1) == self.y)

        self.loss_activation.backward(self.loss_activation.output, self.y)
        self.dense2.backward(self.loss_activation.dinputs)
        self.activation1.backward(self.dense2.dinputs)
        self.dense1.backward(self.activation1.dinputs)

        self.optimizer.pre_update_params()
        self.optimizer.update_params(self.dense1)
        self.optimizer.update_params(self.dense2)
        self.optimizer.post_update_params()
        params = {
            "dense1.weights": self.dense1.weights,
            "dense1.biases": self.dense1.biases,
            "dense2.weights": self.dense2.weights,
            "dense2.biases": self.dense2.biases,
        }
        return Step(float(loss), params, float(accuracy))


class AutogradSpiral:
    """The autograd model; calling it runs one training step and returns a ``Step``."""

    def __init__(self, X: np.ndarray, y: np.ndarray, weights: list[np.ndarray], optimizer: Any):
        w1, b1, w2, b2 = weights
        self.X, self.y = Tensor(X), y
        state = get_rng_state()  # the layers' own draws are overwritten: leave no trace
        self.fc1 = nn.Linear(*w1.shape, dtype=w1.dtype)
        self.fc2 = nn.Linear(*w2.shape, dtype=w2.dtype)
        set_rng_state(state)
        for param, value in zip(self.params, weights):
            param.data = np.array(value, copy=True)
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = optimizer(self.params)

    @property
    def params(self) -> list[Tensor]:
        return [self.fc1.weight, self.fc1.bias, self.fc2.weight, self.fc2.bias]

    def forward(self, X: Tensor) -> Tensor:
        """Logits: ``fc2(relu(fc1(X)))``."""
        return self.fc2(self.fc1(X).relu())

    def __call__(self) -> Step:
        logits = self.forward(self.X)
        loss = self.loss_fn(logits, self.y)
        accuracy = np.mean(np.argmax(logits.data, axis=1) == self.y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        names = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")
        return Step(float(loss.item()), dict(zip(names, (p.data for p in self.params))), accuracy)


def spiral_models(
    hidden: int = 64,
    samples: int = 100,
    classes: int = 3,
    optimizer: str = "sgd",
    seed: int = 0,
    dtype: Any = np.float64,
    **hyper: float,
) -> tuple[HandSpiral, AutogradSpiral]:
    """A matched pair of spiral classifiers (2-``hidden``-``classes``) ready for
    ``compare_training``: same data, same initial weights (the book's ``0.01 * randn`` and
    zero biases, drawn from ``seed``), same optimizer rule.

    ``optimizer`` is "sgd", "adagrad", "rmsprop" or "adam", with the book's hyper-parameters
    for the spiral (SGD: learning_rate=1.0, decay=1e-3; Adam: learning_rate=0.02, decay=5e-7,
    epsilon=1e-7); override them with the book's names (``learning_rate=0.05``,
    ``momentum=0.9``, ``beta_1=...``).

    >>> hand, autograd = spiral_models(hidden=16, optimizer="adam", learning_rate=0.05)
    >>> hand().loss == autograd().loss   # the first step: identical numbers
    True
    """
    if optimizer not in BOOK_OPTIMIZERS:
        raise ValueError(
            f"spiral_models: optimizer must be one of {sorted(BOOK_OPTIMIZERS)}, not {optimizer!r}"
        )
    book_cls, defaults = BOOK_OPTIMIZERS[optimizer], optim.SPIRAL_SETTINGS[optimizer]
    unknown = set(hyper) - set(defaults)
    if unknown:
        raise TypeError(
            f"spiral_models: {sorted(unknown)} are not hyper-parameters of the book's "
            f"{book_cls.__name__}; it takes {sorted(defaults)}"
        )
    settings = {**defaults, **hyper}
    X, y = spiral_data(samples, classes, seed=seed)
    X = X.astype(dtype)
    rng = np.random.default_rng(seed)
    weights = [
        (0.01 * rng.standard_normal((X.shape[1], hidden))).astype(dtype),
        np.zeros((1, hidden), dtype=dtype),
        (0.01 * rng.standard_normal((hidden, classes))).astype(dtype),
        np.zeros((1, classes), dtype=dtype),
    ]
    hand = HandSpiral(X, y, weights, book_cls(**settings))
    autograd = AutogradSpiral(
        X, y, weights, lambda params: optim.from_book(optimizer, params, **hyper)
    )
    return hand, autograd
