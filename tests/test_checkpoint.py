"""Training checkpoints: stopping and resuming gives the unbroken run's parameters bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn
from tinygrad_np.checkpoint import load_checkpoint, save_checkpoint
from tinygrad_np.data import DataLoader, spiral_data
from tinygrad_np.rng import manual_seed
from tinygrad_np.train import fit

X, Y = spiral_data(30, 3, seed=0)
N = 4  # epochs before the stop; each run trains 2N in all


def build(init_seed: int):
    """Model with dropout (masks from the library generator) and Adam (state that matters)."""
    manual_seed(init_seed)
    model = nn.Sequential(
        nn.Linear(2, 16, weight_regularizer_l2=1e-3), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3)
    )
    return model, tg.optim.Adam(model.parameters(), lr=0.01, decay=1e-3)


def train(model, optimizer, data, epochs, **kwargs):
    fit(model, nn.CrossEntropyLoss(), optimizer, data, epochs, progress=False, **kwargs)


def assert_same_bits(a, b):
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), name


def straight_run(data_factory):
    model, optimizer = build(0)
    train(model, optimizer, data_factory(), 2 * N)
    return model


def test_fit_resume_matches_an_unbroken_run_bit_for_bit(tmp_path):
    path = tmp_path / "run.ckpt"
    model, optimizer = build(0)
    train(model, optimizer, (X, Y), 2 * N, batch_size=16)  # shuffled mini-batches

    first, first_opt = build(0)
    train(first, first_opt, (X, Y), N, batch_size=16, checkpoint=path)
    manual_seed(99)  # the process goes on drawing: the checkpoint must not depend on it
    tg.randn(7)
    fresh, fresh_opt = build(123)  # other initial weights, a new optimizer
    history = fit(
        fresh, nn.CrossEntropyLoss(), fresh_opt, (X, Y), 2 * N,
        batch_size=16, checkpoint=path, resume=True, progress=False,
    )  # fmt: skip
    assert_same_bits(fresh, model)
    assert fresh_opt.iterations == optimizer.iterations
    assert history.epoch == list(range(1, 2 * N + 1))  # the saved epochs come back too
    assert tg.load(path)["epoch"] == 2 * N


def test_manual_checkpoint_with_a_dataloader_matches_bit_for_bit(tmp_path):
    path = tmp_path / "manual.ckpt"
    model, optimizer = build(0)
    train(model, optimizer, DataLoader(X, Y, batch_size=10, shuffle=True, seed=7), 2 * N)

    first, first_opt = build(0)
    loader = DataLoader(X, Y, batch_size=10, shuffle=True, seed=7)
    train(first, first_opt, loader, N)
    save_checkpoint(path, first, first_opt, N, loader)

    fresh, fresh_opt = build(5)
    fresh_loader = DataLoader(X, Y, batch_size=10, shuffle=True, seed=8)
    assert load_checkpoint(path, fresh, fresh_opt, fresh_loader) == N
    train(fresh, fresh_opt, fresh_loader, N)
    assert_same_bits(fresh, model)


def test_without_the_saved_rng_state_the_runs_differ(tmp_path):
    """The bit-for-bit tests above depend on restoring the dropout generator."""
    path = tmp_path / "run.ckpt"
    model, optimizer = build(0)
    train(model, optimizer, (X, Y), 2 * N)

    first, first_opt = build(0)
    train(first, first_opt, (X, Y), N)
    save_checkpoint(path, first, first_opt, N)
    fresh, fresh_opt = build(1)
    load_checkpoint(path, fresh, fresh_opt)
    manual_seed(0)  # other dropout masks from here on
    train(fresh, fresh_opt, (X, Y), N)
    assert not np.array_equal(fresh[0].weight.numpy(), model[0].weight.numpy())


def test_a_crash_after_a_periodic_checkpoint_resumes_exactly(tmp_path):
    path = tmp_path / "periodic.ckpt"
    model, optimizer = build(0)
    train(model, optimizer, (X, Y), 2 * N, batch_size=8)

    def crash(epoch, logs):
        if epoch == N + 1:
            raise KeyboardInterrupt

    first, first_opt = build(0)
    with pytest.raises(KeyboardInterrupt):
        train(first, first_opt, (X, Y), 2 * N, batch_size=8, checkpoint=path,
              checkpoint_every=N, callbacks=[crash])  # fmt: skip
    assert tg.load(path)["epoch"] == N  # the epoch that crashed was not saved
    fresh, fresh_opt = build(3)
    train(fresh, fresh_opt, (X, Y), 2 * N, batch_size=8, checkpoint=path, resume=True)
    assert_same_bits(fresh, model)


def test_resume_without_a_file_starts_fresh_and_a_finished_run_does_nothing(tmp_path):
    path = tmp_path / "new.ckpt"
    model, optimizer = build(0)
    history = fit(model, nn.CrossEntropyLoss(), optimizer, (X, Y), 3, checkpoint=path,
                  resume=True, progress=False)  # fmt: skip
    assert len(history) == 3 and tg.load(path)["epoch"] == 3
    steps = optimizer.iterations
    again = fit(model, nn.CrossEntropyLoss(), optimizer, (X, Y), 3, checkpoint=path,
                resume=True, progress=False)  # fmt: skip
    assert optimizer.iterations == steps and again.as_dict() == history.as_dict()


def test_checkpoint_contents(tmp_path):
    path = tmp_path / "c.ckpt"
    model, optimizer = build(0)
    train(model, optimizer, (X, Y), 2)
    loader = DataLoader(X, Y, shuffle=True, seed=1)
    save_checkpoint(path, model, optimizer, 2, loader, history={"loss": [1.0, 0.5]},
                    metadata={"run": "spiral", "hidden": 16})  # fmt: skip
    state = tg.load(path)
    assert state["epoch"] == 2 and state["history"] == {"loss": [1.0, 0.5]}
    assert state["metadata"] == {"run": "spiral", "hidden": 16} and state["scheduler"] is None
    assert set(state["model"]) == set(model.state_dict())
    assert state["optimizer"]["step"] == 2
    assert state["rng"] == tg.rng.get_rng_state()
    assert state["loader"] == loader.state_dict()


# ---------------------------------------------------------------- errors


def test_a_plain_state_dict_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "weights.npz"
    model, optimizer = build(0)
    tg.save(model.state_dict(), path)
    with pytest.raises(ValueError, match="load_checkpoint: .* is not a training checkpoint"):
        load_checkpoint(path, model, optimizer)


def test_a_checkpoint_that_does_not_fit_changes_nothing(tmp_path):
    path = tmp_path / "c.ckpt"
    model, optimizer = build(0)
    train(model, optimizer, (X, Y), 1)
    save_checkpoint(path, model, optimizer, 1)

    manual_seed(1)
    other = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))
    before = other.state_dict()
    rng_before = tg.rng.get_rng_state()
    sgd = tg.optim.SGD(other.parameters(), lr=0.1)
    with pytest.raises(
        ValueError, match="holds Adam optimizer state, but the optimizer given is SGD"
    ):
        load_checkpoint(path, other, sgd)
    # the model fits, but this optimizer has 2 of its 4 parameters: the model must roll back
    partial = tg.optim.Adam(list(other.parameters())[:2], lr=0.01)
    with pytest.raises(ValueError, match="has 4 parameters in the state dict but 2 here"):
        load_checkpoint(path, other, partial)
    for name, value in other.state_dict().items():
        assert np.array_equal(value, before[name]), name
    assert sgd.iterations == partial.iterations == 0
    assert tg.rng.get_rng_state() == rng_before

    wrong_shape = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3))
    with pytest.raises(RuntimeError, match="shape mismatch"):
        load_checkpoint(path, wrong_shape, tg.optim.Adam(wrong_shape.parameters()))


def test_a_loader_needs_saved_loader_state(tmp_path):
    path = tmp_path / "c.ckpt"
    model, optimizer = build(0)
    save_checkpoint(path, model, optimizer, 0)
    with pytest.raises(ValueError, match="holds no DataLoader state, but a loader was given"):
        load_checkpoint(path, model, optimizer, DataLoader(X, Y))


def test_saving_into_a_missing_directory_is_a_clear_error(tmp_path):
    model, optimizer = build(0)
    with pytest.raises(FileNotFoundError, match="save_checkpoint: cannot write .* does not exist"):
        save_checkpoint(tmp_path / "missing" / "c.ckpt", model, optimizer, 0)
    with pytest.raises(IsADirectoryError, match="is a directory"):
        save_checkpoint(tmp_path, model, optimizer, 0)


# ---------------------------------------------------------------- learning-rate schedules

SCHEDULES = [
    pytest.param(lambda opt: tg.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5), "epoch",
                 id="StepLR-per-epoch"),
    pytest.param(lambda opt: tg.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2 * N), "epoch",
                 id="CosineAnnealingLR-per-epoch"),
    pytest.param(lambda opt: tg.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9), "step",
                 id="ExponentialLR-per-step"),
]  # fmt: skip


def scheduled_fit(model, optimizer, make_scheduler, interval, epochs, **kwargs):
    scheduler = make_scheduler(optimizer)
    history = fit(model, nn.CrossEntropyLoss(), optimizer, (X, Y), epochs, batch_size=16,
                  scheduler=scheduler, scheduler_interval=interval, progress=False,
                  **kwargs)  # fmt: skip
    return history, scheduler


@pytest.mark.parametrize(("make_scheduler", "interval"), SCHEDULES)
def test_a_resumed_schedule_follows_the_unbroken_runs_learning_rates(
    tmp_path, make_scheduler, interval
):
    path = tmp_path / "run.ckpt"
    model, optimizer = build(0)
    straight, _ = scheduled_fit(model, optimizer, make_scheduler, interval, 2 * N)
    assert len(set(straight.lr)) > 1  # the schedule changes the rate within the run

    first, first_opt = build(0)
    scheduled_fit(first, first_opt, make_scheduler, interval, N, checkpoint=path)
    fresh, fresh_opt = build(7)
    resumed, scheduler = scheduled_fit(fresh, fresh_opt, make_scheduler, interval, 2 * N,
                                       checkpoint=path, resume=True)  # fmt: skip
    assert resumed.lr == straight.lr
    assert_same_bits(fresh, model)
    assert scheduler.last_epoch == (2 * N if interval == "epoch" else fresh_opt.iterations)


def test_load_checkpoint_restores_a_scheduler(tmp_path):
    path = tmp_path / "run.ckpt"
    model, optimizer = build(0)
    scheduler = tg.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    for _ in range(3):
        scheduler.step()
    save_checkpoint(path, model, optimizer, 3, scheduler=scheduler)
    fresh, fresh_opt = build(1)
    fresh_scheduler = tg.optim.lr_scheduler.StepLR(fresh_opt, step_size=1, gamma=0.5)
    assert load_checkpoint(path, fresh, fresh_opt, scheduler=fresh_scheduler) == 3
    assert fresh_scheduler.last_epoch == 3 and fresh_opt.param_groups[0]["lr"] == 0.01 / 8


def test_a_schedule_in_the_checkpoint_must_meet_a_schedule(tmp_path):
    path = tmp_path / "run.ckpt"
    model, optimizer = build(0)
    step_lr = tg.optim.lr_scheduler.StepLR(optimizer, step_size=2)
    save_checkpoint(path, model, optimizer, 1, scheduler=step_lr)
    with pytest.raises(ValueError, match="holds StepLR scheduler state, but no scheduler"):
        load_checkpoint(path, model, optimizer)
    other = tg.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
    with pytest.raises(ValueError, match="holds StepLR scheduler state, but .* ExponentialLR"):
        load_checkpoint(path, model, optimizer, scheduler=other)
    save_checkpoint(path, model, optimizer, 1)
    with pytest.raises(ValueError, match="holds no scheduler state, but a scheduler was given"):
        load_checkpoint(path, model, optimizer, scheduler=step_lr)
    fit(model, nn.CrossEntropyLoss(), optimizer, (X, Y), 1, checkpoint=path, progress=False)
    with pytest.raises(ValueError, match="holds no scheduler state"):
        fit(model, nn.CrossEntropyLoss(), optimizer, (X, Y), 2, scheduler=step_lr,
            checkpoint=path, resume=True, progress=False)  # fmt: skip


def test_fit_refuses_a_bad_scheduler_interval():
    model, optimizer = build(0)
    scheduler = tg.optim.lr_scheduler.StepLR(optimizer, step_size=2)
    with pytest.raises(ValueError, match="scheduler_interval must be 'epoch' or 'step'"):
        fit(model, nn.CrossEntropyLoss(), optimizer, (X, Y), 1, scheduler=scheduler,
            scheduler_interval="batch", progress=False)  # fmt: skip
    with pytest.raises(TypeError, match="scheduler must have step"):
        fit(model, nn.CrossEntropyLoss(), optimizer, (X, Y), 1, scheduler=0.5, progress=False)
    _, other_optimizer = build(0)
    with pytest.raises(ValueError, match="the scheduler schedules another optimizer"):
        fit(model, nn.CrossEntropyLoss(), other_optimizer, (X, Y), 1, scheduler=scheduler,
            progress=False)  # fmt: skip
