"""Optimizers against torch.optim: 15 steps in float64 with the same gradients set by hand."""

from __future__ import annotations

import numpy as np
import pytest
from optim_cases import param

from tinygrad_np.optim import SGD, Adagrad, Adam, AdamW, RMSprop

torch = pytest.importorskip("torch")

SHAPES = [(4, 3), (3,)]
STEPS = 15

SETTINGS = [
    (SGD, "SGD", dict(lr=0.1)),
    (SGD, "SGD", dict(lr=0.1, momentum=0.9)),
    (SGD, "SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (SGD, "SGD", dict(lr=0.05, momentum=0.8, dampening=0.4, weight_decay=0.1)),
    (Adagrad, "Adagrad", dict(lr=0.1)),
    (
        Adagrad,
        "Adagrad",
        dict(lr=0.1, eps=1e-7, weight_decay=0.1, lr_decay=0.05, initial_accumulator_value=0.3),
    ),
    (RMSprop, "RMSprop", dict(lr=0.01)),
    (RMSprop, "RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.9)),
    (RMSprop, "RMSprop", dict(lr=0.01, centered=True)),
    (RMSprop, "RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, eps=1e-7)),
    (Adam, "Adam", dict(lr=0.01)),
    (Adam, "Adam", dict(lr=0.01, amsgrad=True)),
    (Adam, "Adam", dict(lr=0.02, betas=(0.8, 0.95), eps=1e-7, weight_decay=0.1, amsgrad=True)),
    (AdamW, "AdamW", dict(lr=0.01)),
    (AdamW, "AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
]
IDS = [f"{name}-{'-'.join(map(str, kw.values()))}" for _, name, kw in SETTINGS]


def compare(ours_cls, torch_name, kwargs, decay=0.0, group_lrs=None, skip_every=0):
    """Run both optimizers on the same start and gradients; return the largest difference."""
    rng = np.random.default_rng(3)
    w0 = [rng.normal(size=s) for s in SHAPES]
    grads = [[rng.normal(size=s) for s in SHAPES] for _ in range(STEPS)]
    for k in range(0, STEPS, skip_every) if skip_every else ():
        grads[k][1] = None  # both skip this parameter: its own step count falls behind
    ours = [param(w) for w in w0]
    theirs = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in w0]
    if group_lrs is None:
        opt = ours_cls(ours, **kwargs, decay=decay)
        ref = getattr(torch.optim, torch_name)(theirs, **kwargs)
    else:  # one parameter per group, each with its own lr
        opt = ours_cls(
            [{"params": [p], "lr": lr} for p, lr in zip(ours, group_lrs, strict=True)], **kwargs
        )
        ref = getattr(torch.optim, torch_name)(
            [{"params": [p], "lr": lr} for p, lr in zip(theirs, group_lrs, strict=True)], **kwargs
        )
    base_lrs = [g["lr"] for g in ref.param_groups]
    for k, step_grads in enumerate(grads):
        for p, t, g in zip(ours, theirs, step_grads, strict=True):
            p.grad = None if g is None else type(p)(g)
            t.grad = None if g is None else torch.tensor(g, dtype=torch.float64)
        for group, base in zip(ref.param_groups, base_lrs, strict=True):
            group["lr"] = base / (1 + decay * k)  # the book's decay, applied by hand in torch
        opt.step()
        ref.step()
    return max(np.abs(p.data - t.detach().numpy()).max() for p, t in zip(ours, theirs, strict=True))


@pytest.mark.parametrize("ours_cls, torch_name, kwargs", SETTINGS, ids=IDS)
def test_fifteen_steps_match_torch(ours_cls, torch_name, kwargs):
    assert compare(ours_cls, torch_name, kwargs) < 1e-12


@pytest.mark.parametrize("ours_cls, torch_name, kwargs", SETTINGS[1::3], ids=IDS[1::3])
def test_decay_matches_torch_with_lr_set_each_step(ours_cls, torch_name, kwargs):
    assert compare(ours_cls, torch_name, kwargs, decay=0.2) < 1e-12


def test_param_groups_match_torch():
    assert compare(Adam, "Adam", dict(amsgrad=True), group_lrs=[0.05, 0.001]) < 1e-12
    assert compare(SGD, "SGD", dict(momentum=0.9), group_lrs=[0.05, 0.2]) < 1e-12


@pytest.mark.parametrize("ours_cls, torch_name, kwargs", SETTINGS[1::2], ids=IDS[1::2])
def test_parameters_without_grad_are_skipped_as_in_torch(ours_cls, torch_name, kwargs):
    assert compare(ours_cls, torch_name, kwargs, skip_every=3) < 1e-12
