"""``tg.nn``: modules, layers, activations, losses, initialisation and regularisation.

Everything is built from Tensor ops, so gradients come from the engine.

>>> import tinygrad_np as tg
>>> model = tg.nn.Sequential(tg.nn.Linear(2, 64), tg.nn.ReLU(), tg.nn.Linear(64, 3))
>>> loss = tg.nn.CrossEntropyLoss()(model(tg.randn(8, 2)), [0, 1, 2, 0, 1, 2, 0, 1])
>>> loss.backward()
>>> model[0].weight.grad.shape
(2, 64)
"""

from __future__ import annotations

from tinygrad_np.nn import functional, init
from tinygrad_np.nn.activations import (
    ELU,
    GELU,
    SELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from tinygrad_np.nn.conv import AvgPool2d, Conv1d, Conv2d, MaxPool2d
from tinygrad_np.nn.embedding import Embedding
from tinygrad_np.nn.layers import Dense, Dropout, Flatten, Identity, Linear, Sequential
from tinygrad_np.nn.losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CategoricalCrossentropy,
    CrossEntropyLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
)
from tinygrad_np.nn.module import IncompatibleKeys, Module, Parameter
from tinygrad_np.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from tinygrad_np.nn.regularization import regularization_loss

__all__ = [
    "AvgPool2d",
    "BCELoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "BCEWithLogitsLoss",
    "CategoricalCrossentropy",
    "Conv1d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dense",
    "Dropout",
    "ELU",
    "Embedding",
    "GELU",
    "Flatten",
    "Identity",
    "IncompatibleKeys",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "NLLLoss",
    "Parameter",
    "SELU",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
    "functional",
    "init",
    "regularization_loss",
]
