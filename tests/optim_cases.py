"""Optimizer settings and helpers the optimizer test modules share (not a test module)."""

from __future__ import annotations

import numpy as np

from tinygrad_np.optim import SGD, Adagrad, Adam, AdamW, RMSprop
from tinygrad_np.tensor import Tensor

# One row per optimizer setting; used by the tests that must hold for every optimizer.
CONFIGS = [
    (SGD, dict(lr=0.1)),
    (SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
    (SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
    (SGD, dict(lr=0.1, momentum=0.5, dampening=0.3)),
    (SGD, dict(lr=0.1, momentum=0.9, momentum_style="nnfs")),
    (Adagrad, dict(lr=0.1, weight_decay=0.01, lr_decay=0.01, initial_accumulator_value=0.1)),
    (RMSprop, dict(lr=0.01)),
    (RMSprop, dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
    (Adam, dict(lr=0.01, weight_decay=0.01)),
    (Adam, dict(lr=0.01, amsgrad=True)),
    (AdamW, dict(lr=0.01, weight_decay=0.1)),
]
IDS = [f"{cls.__name__}-{'-'.join(map(str, kw.values()))}" for cls, kw in CONFIGS]


def param(values, dtype=np.float64) -> Tensor:
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


def set_grad(p: Tensor, g) -> None:
    p.grad = Tensor(np.array(g, dtype=p.data.dtype))


def run(opt, params, grads) -> None:
    """One optimizer step per entry of ``grads`` (a list of per-parameter gradients)."""
    for step_grads in grads:
        for p, g in zip(params, step_grads, strict=True):
            p.grad = None if g is None else Tensor(np.array(g, dtype=p.data.dtype))
        opt.step()


SHAPES = [(3, 2), (2,), ()]  # a 0-d parameter too: its state arrays are 0-d


def make_problem(seed: int, steps: int):
    """Starting weights of three parameters and ``steps`` rounds of random gradients."""
    rng = np.random.default_rng(seed)
    w0 = [rng.normal(size=s) for s in SHAPES]
    grads = [[rng.normal(size=s) for s in SHAPES] for _ in range(steps)]
    for k in range(0, steps, 3):
        grads[k][1] = None  # parameter 1 skips some steps, so step counts differ per parameter
    return w0, grads
