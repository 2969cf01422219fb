"""Optimizers with the NNFS book's update rules, in plain NumPy.

Every optimizer follows the book's three-call protocol per training step::

    optimizer.pre_update_params()          # current_learning_rate = lr / (1 + decay * iterations)
    optimizer.update_params(dense1)        # reads layer.dweights / layer.dbiases
    optimizer.update_params(dense2)
    optimizer.post_update_params()         # iterations += 1

Per-layer state (momentums, caches) lives in the optimizer, in ``optimizer.state[layer]``,
under the book's names (``weight_momentums``, ``bias_cache``, ...). The book keeps it on the
layer instead; holding it here means a layer stays just parameters and gradients, two
optimizers never read each other's caches, and a fresh optimizer always starts from zero state
(the book's ``hasattr`` test would silently reuse a cache left by an earlier optimizer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .layers import Layer_Dense


class _Optimizer:
    """Learning-rate decay, the iteration counter and per-layer state shared by all four."""

    def __init__(self, learning_rate: float, decay: float) -> None:
        self.learning_rate = learning_rate
        self.current_learning_rate = learning_rate
        self.decay = decay
        self.iterations = 0
        self.state: dict[object, dict[str, np.ndarray]] = {}

    def pre_update_params(self) -> None:
        """``current_learning_rate = learning_rate / (1 + decay * iterations)`` (inverse-time)."""
        if self.decay:
            self.current_learning_rate = self.learning_rate * (
                1.0 / (1.0 + self.decay * self.iterations)
            )

    def post_update_params(self) -> None:
        """Count the step just taken."""
        self.iterations += 1

    def _layer_state(self, layer: Layer_Dense, *names: str) -> dict[str, np.ndarray]:
        """The layer's state arrays, created as zeros of the parameters' shape on first use."""
        if getattr(layer, "dweights", None) is None or getattr(layer, "dbiases", None) is None:
            raise RuntimeError(
                f"{type(self).__name__}.update_params: the layer has no gradients "
                f"(dweights/dbiases); call backward before updating"
            )
        state = self.state.setdefault(layer, {})
        for name in names:
            if name not in state:
                like = layer.weights if name.startswith("weight") else layer.biases
                state[name] = np.zeros_like(like)
        return state

    @staticmethod
    def _parameters(layer: Layer_Dense):
        """(parameter, gradient, state-name prefix) for the weights, then the biases."""
        return (
            (layer.weights, layer.dweights, "weight"),
            (layer.biases, layer.dbiases, "bias"),
        )


class Optimizer_SGD(_Optimizer):
    """Stochastic gradient descent, with the book's momentum.

    Without momentum ``w ← w − lr_t g``; with momentum ``v ← μ v − lr_t g``, ``w ← w + v``
    (the velocity carries the learning rate of the step it was made in, so under decay this
    differs from PyTorch's ``b ← μ b + g``, ``w ← w − lr_t b``; with a constant rate they agree).

    >>> from tinygrad_np.reference.layers import Layer_Dense
    >>> layer = Layer_Dense(1, 1, weights=[[1.0]])
    >>> layer.dweights, layer.dbiases = np.array([[2.0]]), np.array([[0.0]])
    >>> sgd = Optimizer_SGD(learning_rate=0.1)
    >>> sgd.pre_update_params(); sgd.update_params(layer); sgd.post_update_params()
    >>> layer.weights
    array([[0.8]])
    """

    def __init__(
        self, learning_rate: float = 1.0, decay: float = 0.0, momentum: float = 0.0
    ) -> None:
        super().__init__(learning_rate, decay)
        self.momentum = momentum

    def update_params(self, layer: Layer_Dense) -> None:
        """``v = μ v − lr_t g``; ``w += v`` (``v = −lr_t g`` when μ = 0)."""
        names = ("weight_momentums", "bias_momentums") if self.momentum else ()
        state = self._layer_state(layer, *names)
        for param, grad, prefix in self._parameters(layer):
            if self.momentum:
                update = self.momentum * state[f"{prefix}_momentums"] - (
                    self.current_learning_rate * grad
                )
                state[f"{prefix}_momentums"] = update
            else:
                update = -self.current_learning_rate * grad
            # In place: the parameter keeps its dtype and every reference to it sees the step.
            param += update


class Optimizer_Adagrad(_Optimizer):
    """Adagrad: ``cache ← cache + g²``;  ``w ← w − lr_t g / (√cache + ε)``.

    >>> from tinygrad_np.reference.layers import Layer_Dense
    >>> layer = Layer_Dense(1, 1, weights=[[1.0]])
    >>> layer.dweights, layer.dbiases = np.array([[4.0]]), np.array([[1.0]])
    >>> ada = Optimizer_Adagrad(learning_rate=0.5, epsilon=0.0)
    >>> ada.pre_update_params(); ada.update_params(layer); ada.post_update_params()
    >>> layer.weights
    array([[0.5]])
    """

    def __init__(
        self, learning_rate: float = 1.0, decay: float = 0.0, epsilon: float = 1e-7
    ) -> None:
        super().__init__(learning_rate, decay)
        self.epsilon = epsilon

    def update_params(self, layer: Layer_Dense) -> None:
        """``cache += g²``; ``w −= lr_t g / (√cache + ε)``."""
        state = self._layer_state(layer, "weight_cache", "bias_cache")
        for param, grad, prefix in self._parameters(layer):
            cache = state[f"{prefix}_cache"]
            cache += grad**2
            param += -self.current_learning_rate * grad / (np.sqrt(cache) + self.epsilon)


class Optimizer_RMSprop(_Optimizer):
    """RMSprop: ``cache ← ρ cache + (1 − ρ) g²``;  ``w ← w − lr_t g / (√cache + ε)``.

    ``rho`` is PyTorch's ``alpha``.

    >>> from tinygrad_np.reference.layers import Layer_Dense
    >>> layer = Layer_Dense(1, 1, weights=[[1.0]])
    >>> layer.dweights, layer.dbiases = np.array([[3.0]]), np.array([[1.0]])
    >>> rms = Optimizer_RMSprop(learning_rate=0.1, epsilon=0.0, rho=0.0)
    >>> rms.pre_update_params(); rms.update_params(layer); rms.post_update_params()
    >>> layer.weights
    array([[0.9]])
    """

    def __init__(
        self,
        learning_rate: float = 0.001,
        decay: float = 0.0,
        epsilon: float = 1e-7,
        rho: float = 0.9,
    ) -> None:
        super().__init__(learning_rate, decay)
        self.epsilon = epsilon
        self.rho = rho

    def update_params(self, layer: Layer_Dense) -> None:
        """``cache = ρ cache + (1 − ρ) g²``; ``w −= lr_t g / (√cache + ε)``."""
        state = self._layer_state(layer, "weight_cache", "bias_cache")
        for param, grad, prefix in self._parameters(layer):
            cache = self.rho * state[f"{prefix}_cache"] + (1 - self.rho) * grad**2
            state[f"{prefix}_cache"] = cache
            param += -self.current_learning_rate * grad / (np.sqrt(cache) + self.epsilon)


class Optimizer_Adam(_Optimizer):
    """Adam: ``m ← β₁ m + (1 − β₁) g``,  ``v ← β₂ v + (1 − β₂) g²``,
    ``m̂ = m / (1 − β₁ᵗ)``,  ``v̂ = v / (1 − β₂ᵗ)``,  ``w ← w − lr_t m̂ / (√v̂ + ε)``
    (t counts steps from 1).

    The bias correction and the place of ε (outside the root) are PyTorch's too.

    >>> from tinygrad_np.reference.layers import Layer_Dense
    >>> layer = Layer_Dense(1, 1, weights=[[1.0]])
    >>> layer.dweights, layer.dbiases = np.array([[-3.0]]), np.array([[1.0]])
    >>> adam = Optimizer_Adam(learning_rate=0.1, epsilon=0.0)
    >>> adam.pre_update_params(); adam.update_params(layer); adam.post_update_params()
    >>> layer.weights   # the first step moves by lr against the gradient's sign
    array([[1.1]])
    """

    def __init__(
        self,
        learning_rate: float = 0.001,
        decay: float = 0.0,
        epsilon: float = 1e-7,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
    ) -> None:
        super().__init__(learning_rate, decay)
        self.epsilon = epsilon
        self.beta_1 = beta_1
        self.beta_2 = beta_2

    def update_params(self, layer: Layer_Dense) -> None:
        """Moments, bias-corrected by ``1 − βᵗ``; ``w −= lr_t m̂ / (√v̂ + ε)``."""
        names = ("weight_momentums", "weight_cache", "bias_momentums", "bias_cache")
        state = self._layer_state(layer, *names)
        step = self.iterations + 1
        for param, grad, prefix in self._parameters(layer):
            momentums = self.beta_1 * state[f"{prefix}_momentums"] + (1 - self.beta_1) * grad
            cache = self.beta_2 * state[f"{prefix}_cache"] + (1 - self.beta_2) * grad**2
            state[f"{prefix}_momentums"], state[f"{prefix}_cache"] = momentums, cache
            momentums_corrected = momentums / (1 - self.beta_1**step)
            cache_corrected = cache / (1 - self.beta_2**step)
            param += (
                -self.current_learning_rate
                * momentums_corrected
                / (np.sqrt(cache_corrected) + self.epsilon)
            )
