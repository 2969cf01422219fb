"""Learning-rate schedules: closed forms, the book's decay, checkpoints, torch and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from optim_cases import param, run

from tinygrad_np.optim import SGD, Adam
from tinygrad_np.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    InverseTimeDecay,
    StepLR,
)

SCHEDULES = [
    (StepLR, dict(step_size=3, gamma=0.5), lambda lr, n: lr * 0.5 ** (n // 3)),
    (ExponentialLR, dict(gamma=0.9), lambda lr, n: lr * 0.9**n),
    (InverseTimeDecay, dict(decay=0.1), lambda lr, n: lr / (1 + 0.1 * n)),
    (
        CosineAnnealingLR,
        dict(T_max=10, eta_min=0.01),
        lambda lr, n: 0.01 + (lr - 0.01) * (1 + math.cos(math.pi * n / 10)) / 2,
    ),
]
IDS = [cls.__name__ for cls, _, _ in SCHEDULES]


def stepped_lrs(scheduler, optimizer, steps: int) -> list[float]:
    """The lr each optimizer step used, with scheduler.step() after each optimizer.step()."""
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


@pytest.mark.parametrize("cls, kwargs, formula", SCHEDULES, ids=IDS)
@given(lr=st.floats(0.01, 1.0), steps=st.integers(1, 25))
def test_schedule_follows_its_closed_form(cls, kwargs, formula, lr, steps):
    opt = SGD([param([1.0])], lr=lr)
    sched = cls(opt, **kwargs)
    got = stepped_lrs(sched, opt, steps)
    assert got == pytest.approx([formula(lr, n) for n in range(steps)], rel=1e-12)
    assert sched.get_last_lr() == [opt.param_groups[0]["lr"]]
    assert sched.last_epoch == steps


def test_each_group_keeps_its_own_base_lr():
    a, b = param([1.0]), param([1.0])
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.2}], lr=1.0)
    sched = ExponentialLR(opt, gamma=0.5)
    sched.step()
    sched.step()
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.25, 0.05])
    assert sched.base_lrs == [1.0, 0.2]


def test_inverse_time_decay_equals_the_optimizer_decay_argument():
    rng = np.random.default_rng(4)
    grads = [[rng.normal(size=3)] for _ in range(8)]
    w0 = rng.normal(size=3)
    built_in = param(w0)
    run(Adam([built_in], lr=0.05, decay=0.3), [built_in], grads)
    scheduled = param(w0)
    opt = Adam([scheduled], lr=0.05)
    sched = InverseTimeDecay(opt, decay=0.3)
    for step_grads in grads:
        run(opt, [scheduled], [step_grads])
        sched.step()
    np.testing.assert_array_equal(built_in.data, scheduled.data)


@pytest.mark.parametrize("cls, kwargs, formula", SCHEDULES, ids=IDS)
@pytest.mark.parametrize("as_numpy", [False, True], ids=["plain", "numpy"])
def test_resume_from_state_dicts_continues_exactly(cls, kwargs, formula, as_numpy):
    rng = np.random.default_rng(5)
    grads = [[rng.normal(size=2)] for _ in range(12)]
    w0 = rng.normal(size=2)

    def train(p, opt, sched, step_grads):
        for g in step_grads:
            run(opt, [p], [g])
            sched.step()

    whole = param(w0)
    opt = SGD([whole], lr=0.1, momentum=0.9)
    train(whole, opt, cls(opt, **kwargs), grads)

    first = param(w0)
    opt = SGD([first], lr=0.1, momentum=0.9)
    sched = cls(opt, **kwargs)
    train(first, opt, sched, grads[:5])
    opt_state, sched_state = opt.state_dict(), sched.state_dict()
    assert all(isinstance(v, (int, float, list)) for v in sched_state.values())
    if as_numpy:  # as read back from a file
        sched_state = {k: np.asarray(v) for k, v in sched_state.items()}
    resumed = param(first.data.copy())
    opt2 = SGD([resumed], lr=0.1, momentum=0.9)
    sched2 = cls(opt2, **kwargs)
    opt2.load_state_dict(opt_state)
    sched2.load_state_dict(sched_state)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    train(resumed, opt2, sched2, grads[5:])
    np.testing.assert_array_equal(whole.data, resumed.data)


TORCH_SCHEDULES = [
    (StepLR, "StepLR", dict(step_size=4, gamma=0.3)),
    (ExponentialLR, "ExponentialLR", dict(gamma=0.8)),
    (CosineAnnealingLR, "CosineAnnealingLR", dict(T_max=7, eta_min=0.001)),
]


@pytest.mark.parametrize(
    "cls, name, kwargs", TORCH_SCHEDULES, ids=[n for _, n, _ in TORCH_SCHEDULES]
)
def test_schedules_match_torch(cls, name, kwargs):
    torch = pytest.importorskip("torch")
    opt = SGD([param([1.0])], lr=0.1)
    sched = cls(opt, **kwargs)
    t_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    t_sched = getattr(torch.optim.lr_scheduler, name)(t_opt, **kwargs)
    ours, theirs = [], []
    for _ in range(20):
        opt.step()
        t_opt.step()
        sched.step()
        t_sched.step()
        ours.append(sched.get_last_lr()[0])
        theirs.append(t_sched.get_last_lr()[0])
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-15)


def test_bad_arguments_are_refused():
    opt = SGD([param([1.0])], lr=0.1)
    with pytest.raises(TypeError, match="StepLR needs an Optimizer, got list"):
        StepLR([param([1.0])], step_size=2)
    with pytest.raises(ValueError, match="StepLR: invalid step_size=0"):
        StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="ExponentialLR: invalid gamma=0"):
        ExponentialLR(opt, gamma=0)
    with pytest.raises(ValueError, match="InverseTimeDecay: invalid decay=-1"):
        InverseTimeDecay(opt, decay=-1)
    with pytest.raises(ValueError, match="CosineAnnealingLR: invalid T_max=0"):
        CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(ValueError, match="StepLR.load_state_dict: unknown entry 'gama'"):
        StepLR(opt, step_size=2).load_state_dict({"gama": 0.5})
