"""The NNFS book's layers with explicit, hand-derived backward passes, in plain NumPy.

No Tensor and no autograd: every gradient here is written out by hand, so it can be read next
to the autograd version in ``tinygrad_np.nn`` and checked against it. Names are the book's;
PyTorch-style aliases are given where the concept is the same (``Dense``/``Linear``, ``ReLU``,
``Softmax``, ``Sigmoid``, ``Identity``, ``Dropout``, ``BCELoss``, ``MSELoss``, ``L1Loss``).
The optimizers keep only the book's names: they take no parameter list and update a layer at a
time, so PyTorch's names would promise the wrong interface.

>>> import numpy as np
>>> from tinygrad_np import reference as ref
>>> rng = np.random.default_rng(0)
>>> dense = ref.Layer_Dense(2, 3, rng=rng)
>>> loss_activation = ref.Activation_Softmax_Loss_CategoricalCrossentropy()
>>> X, y = rng.standard_normal((5, 2)), np.array([0, 1, 2, 0, 1])
>>> dense.forward(X)
>>> loss = loss_activation.forward(dense.output, y)
>>> loss_activation.backward(loss_activation.output, y)
>>> dense.backward(loss_activation.dinputs)
>>> optimizer = ref.Optimizer_Adam(learning_rate=0.05)
>>> optimizer.pre_update_params(); optimizer.update_params(dense); optimizer.post_update_params()
"""

from __future__ import annotations

from .activations import Activation_Linear, Activation_ReLU, Activation_Sigmoid, Activation_Softmax
from .layers import Layer_Dense, Layer_Dropout
from .losses import (
    Activation_Softmax_Loss_CategoricalCrossentropy,
    Loss,
    Loss_BinaryCrossentropy,
    Loss_CategoricalCrossentropy,
    Loss_MeanAbsoluteError,
    Loss_MeanSquaredError,
)
from .optimizers import Optimizer_Adagrad, Optimizer_Adam, Optimizer_RMSprop, Optimizer_SGD

# PyTorch-style aliases (the same classes under a second name).
Dense = Linear = Layer_Dense
Dropout = Layer_Dropout
ReLU = Activation_ReLU
Softmax = Activation_Softmax
Sigmoid = Activation_Sigmoid
Identity = Activation_Linear
BCELoss = Loss_BinaryCrossentropy
MSELoss = Loss_MeanSquaredError
L1Loss = Loss_MeanAbsoluteError

__all__ = [
    "Activation_Linear",
    "Activation_ReLU",
    "Activation_Sigmoid",
    "Activation_Softmax",
    "Activation_Softmax_Loss_CategoricalCrossentropy",
    "BCELoss",
    "Dense",
    "Dropout",
    "Identity",
    "L1Loss",
    "Layer_Dense",
    "Layer_Dropout",
    "Linear",
    "Loss",
    "Loss_BinaryCrossentropy",
    "Loss_CategoricalCrossentropy",
    "Loss_MeanAbsoluteError",
    "Loss_MeanSquaredError",
    "MSELoss",
    "Optimizer_Adagrad",
    "Optimizer_Adam",
    "Optimizer_RMSprop",
    "Optimizer_SGD",
    "ReLU",
    "Sigmoid",
    "Softmax",
]
