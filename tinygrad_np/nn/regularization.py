"""The NNFS book's L1/L2 penalties on ``Linear`` layers, as a Tensor the engine differentiates."""

from __future__ import annotations

import numpy as np

from tinygrad_np.nn.layers import Linear
from tinygrad_np.nn.module import Module
from tinygrad_np.tensor import Tensor


def regularization_loss(module: Module) -> Tensor:
    """Sum over every ``Linear`` layer in ``module`` of
    λ1_w·Σ|w| + λ2_w·Σw² + λ1_b·Σ|b| + λ2_b·Σb², with the layer's ``*_regularizer_*``
    strengths. Add it to the data loss; ``backward()`` then adds λ1·sign(w) + 2·λ2·w to each
    gradient, as the book derives by hand. A 0-d zero when no layer regularises.

    >>> import tinygrad_np as tg
    >>> layer = tg.nn.Linear(2, 2, weight_regularizer_l2=0.5)
    >>> layer.weight.data[...] = 1.0
    >>> regularization_loss(layer).item()
    2.0
    """
    total = None
    for layer in module.modules():
        if not isinstance(layer, Linear):
            continue
        terms = [
            (layer.weight, layer.weight_regularizer_l1, layer.weight_regularizer_l2),
            (layer.bias, layer.bias_regularizer_l1, layer.bias_regularizer_l2),
        ]
        for param, l1, l2 in terms:
            if param is None:
                continue
            if l1 > 0:
                total = _add(total, param.abs().sum() * l1)
            if l2 > 0:
                total = _add(total, (param * param).sum() * l2)
    if total is None:
        first = next(module.parameters(), None)  # match the model's dtype: 0-d arrays promote
        return Tensor(np.zeros((), dtype=np.float32 if first is None else first.dtype))
    return total


def _add(total: Tensor | None, term: Tensor) -> Tensor:
    return term if total is None else total + term
