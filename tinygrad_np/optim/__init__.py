"""Optimizers that update Tensor parameters in place, and learning-rate schedules."""

from tinygrad_np.optim import lr_scheduler
from tinygrad_np.optim.adagrad import Adagrad
from tinygrad_np.optim.adam import Adam, AdamW
from tinygrad_np.optim.book import SPIRAL_SETTINGS, from_book
from tinygrad_np.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    InverseTimeDecay,
    LRScheduler,
    StepLR,
)
from tinygrad_np.optim.optimizer import Optimizer
from tinygrad_np.optim.rmsprop import RMSprop
from tinygrad_np.optim.sgd import SGD

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "ExponentialLR",
    "InverseTimeDecay",
    "LRScheduler",
    "Optimizer",
    "RMSprop",
    "SPIRAL_SETTINGS",
    "StepLR",
    "from_book",
    "lr_scheduler",
]
