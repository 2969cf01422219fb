"""fit(): history contents, learning rates, validation, regularisation, progress, errors."""

from __future__ import annotations

import io
import math
import sys

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn
from tinygrad_np.autograd import is_grad_enabled
from tinygrad_np.data import DataLoader, sine_data, spiral_data
from tinygrad_np.train import History, StopTraining, evaluate, fit

X, Y = spiral_data(20, 3, seed=0)
X_VAL, Y_VAL = spiral_data(20, 3, seed=1)


def spiral_model(hidden: int = 16, l2: float = 0.0, dropout: float = 0.0) -> nn.Sequential:
    layers = [nn.Linear(2, hidden, weight_regularizer_l2=l2, bias_regularizer_l2=l2), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(hidden, 3))


def adam(model: nn.Module, **kwargs) -> tg.optim.Adam:
    return tg.optim.Adam(model.parameters(), lr=kwargs.pop("lr", 0.02), **kwargs)


def quiet_fit(model, optimizer, data=(X, Y), epochs=5, **kwargs) -> History:
    loss_fn = kwargs.pop("loss_fn", nn.CrossEntropyLoss())
    return fit(model, loss_fn, optimizer, data, epochs, progress=False, **kwargs)


# ---------------------------------------------------------------- history


def test_history_records_every_epoch_and_training_helps():
    tg.manual_seed(0)
    model = spiral_model()
    history = quiet_fit(model, adam(model), epochs=40)
    assert history.epoch == list(range(1, 41)) and len(history) == 40
    for key in ("loss", "data_loss", "reg_loss", "accuracy", "lr"):
        assert len(history[key]) == 40, key
    assert history.val_loss == [] and "val_loss" not in history.history
    assert history.loss[-1] < history.loss[0]
    assert all(0.0 <= a <= 1.0 for a in history.accuracy)
    assert history.last() == {k: v[-1] for k, v in history.history.items()}


def test_epoch_loss_and_accuracy_are_those_of_the_forward_pass_before_the_step():
    tg.manual_seed(1)
    model = spiral_model()
    before = evaluate(model, nn.CrossEntropyLoss(), (X, Y))  # no dropout: train == eval mode
    history = quiet_fit(model, adam(model), epochs=1)
    assert history.data_loss[0] == pytest.approx(before["loss"], rel=1e-6)
    assert history.accuracy[0] == before["accuracy"]


def test_history_dict_copy_last_and_repr():
    history = History({"epoch": [1, 2], "loss": [1.5, 0.5], "lr": [0.1, 0.05]})
    copy = history.as_dict()
    copy["loss"].append(9.0)
    assert history.loss == [1.5, 0.5]
    assert history.last() == {"epoch": 2, "loss": 0.5, "lr": 0.05}
    assert repr(history) == "History(2 epochs: loss 1.5 -> 0.5)"
    assert repr(History()) == "History(no epochs)" and History().last() == {}
    with pytest.raises(KeyError, match="History has no 'val_loss'; it recorded"):
        history["val_loss"]


@pytest.mark.parametrize("batch_size, steps_per_epoch", [(None, 1), (16, 4)])
def test_lr_per_epoch_follows_inverse_time_decay(batch_size, steps_per_epoch):
    model = spiral_model()
    optimizer = tg.optim.SGD(model.parameters(), lr=0.5, decay=0.1)
    history = quiet_fit(model, optimizer, epochs=6, batch_size=batch_size)
    assert optimizer.iterations == 6 * steps_per_epoch
    # the rate of each epoch's last step: lr / (1 + decay * (steps before it))
    expected = [0.5 / (1 + 0.1 * (e * steps_per_epoch - 1)) for e in range(1, 7)]
    assert history.lr == pytest.approx(expected, rel=1e-12)


def test_callbacks_see_each_epoch_and_can_stop_training():
    seen = []

    def stop_at_three(epoch, logs):
        seen.append((epoch, sorted(logs)))
        if epoch == 3:
            raise StopTraining

    model = spiral_model()
    history = quiet_fit(model, adam(model), epochs=10, callbacks=[stop_at_three])
    assert len(history) == 3 and [e for e, _ in seen] == [1, 2, 3]
    assert seen[0][1] == sorted(["epoch", "loss", "data_loss", "reg_loss", "accuracy", "lr"])


# ---------------------------------------------------------------- data and batching


def test_tensors_and_a_dataloader_train_like_arrays():
    results = []
    for data in [(X, Y), (tg.Tensor(X), tg.Tensor(Y)), DataLoader(X, Y, batch_size=len(X))]:
        tg.manual_seed(2)
        model = spiral_model()
        quiet_fit(model, adam(model), data=data, epochs=3)
        results.append(model[0].weight.numpy())
    assert np.array_equal(results[0], results[1]) and np.array_equal(results[0], results[2])


def test_shuffled_mini_batches_are_reproducible_with_a_seed():
    def run(seed):
        tg.manual_seed(3)
        model = spiral_model()
        quiet_fit(model, adam(model), epochs=3, batch_size=8, seed=seed)
        return model[0].weight.numpy()

    assert np.array_equal(run(5), run(5))
    assert not np.array_equal(run(5), run(6))


# ---------------------------------------------------------------- validation and metrics


def test_validation_runs_in_eval_mode_without_a_graph():
    class Probe(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = spiral_model(dropout=0.5)
            self.calls = []

        def forward(self, x):
            self.calls.append((self.training, is_grad_enabled()))
            return self.net(x)

    tg.manual_seed(4)
    model = Probe()
    history = quiet_fit(model, adam(model), epochs=2, val_data=(X_VAL, Y_VAL))
    assert model.calls == [(True, True), (False, False)] * 2
    assert model.training  # back in train mode after validating
    # the last validation saw the final weights: evaluate() now gives the same numbers
    final = evaluate(model, nn.CrossEntropyLoss(), (X_VAL, Y_VAL))
    assert history.val_loss[-1] == pytest.approx(final["loss"], rel=1e-6)
    assert history.val_accuracy[-1] == final["accuracy"]


def outputs_of(model, X):
    with tg.no_grad():
        return model(tg.Tensor(X)).numpy()


def test_metrics_are_chosen_by_the_loss():
    # lr=0 keeps the weights, so the epoch's numbers can be recomputed from the model after
    X_sine, y_sine = sine_data(64)
    model = nn.Sequential(nn.Linear(1, 8), nn.ReLU(), nn.Linear(8, 1))
    history = quiet_fit(model, adam(model, lr=0.0), (X_sine, y_sine), 1, loss_fn=nn.MSELoss())
    assert "accuracy" not in history.history
    expected = tg.metrics.regression_accuracy(outputs_of(model, X_sine), y_sine)
    assert history["regression_accuracy"] == [expected]

    labels = (Y == 1).astype(np.float32).reshape(-1, 1)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    history = quiet_fit(model, adam(model, lr=0.0), (X, labels), 1, loss_fn=nn.BCEWithLogitsLoss())
    logits = outputs_of(model, X)
    assert history.accuracy == [float(np.mean((logits > 0) == (labels > 0.5)))]


def test_the_logit_accuracy_refuses_targets_other_than_0_and_1():
    model = nn.Sequential(nn.Linear(2, 1))
    labels = (Y == 1).astype(np.float32).reshape(-1, 1) * 2  # 0 and 2: accepted by the loss
    with pytest.raises(ValueError, match="accuracy: binary targets must be 0 or 1, got 2.0"):
        quiet_fit(model, adam(model), (X, labels), 1, loss_fn=nn.BCEWithLogitsLoss())


def test_custom_metric_functions_are_named_after_themselves():
    def error_rate(outputs, targets):
        return 1.0 - tg.metrics.accuracy(outputs, targets)

    model = spiral_model()
    history = quiet_fit(
        model, adam(model), epochs=2, metrics=["accuracy", error_rate], val_data=(X_VAL, Y_VAL)
    )
    for a, e in zip(history.accuracy, history["error_rate"]):
        assert a + e == pytest.approx(1.0)
    assert len(history["val_error_rate"]) == 2


# ---------------------------------------------------------------- regularisation


def test_regularisation_is_added_to_the_loss_and_reported_apart():
    tg.manual_seed(5)
    model = spiral_model(l2=5e-3)
    penalty = nn.regularization_loss(model).item()
    history = quiet_fit(model, adam(model), epochs=3)
    assert history.reg_loss[0] == pytest.approx(penalty, rel=1e-6) and penalty > 0
    for total, data_loss, reg in zip(history.loss, history.data_loss, history.reg_loss):
        assert total == pytest.approx(data_loss + reg, rel=1e-6)


def test_regularization_false_leaves_the_penalty_out_of_the_gradient():
    def first_weight(regularization):
        tg.manual_seed(6)
        model = spiral_model(l2=0.5)
        history = quiet_fit(model, adam(model), epochs=2, regularization=regularization)
        return model[0].weight.numpy(), history

    with_penalty, _ = first_weight(True)
    without, history = first_weight(False)
    assert history.reg_loss == [0.0, 0.0] and history.loss == history.data_loss
    assert not np.allclose(with_penalty, without)


# ---------------------------------------------------------------- progress


def test_plain_lines_when_tqdm_is_missing(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # makes `import tqdm` raise ImportError
    model = spiral_model(l2=1e-3)
    fit(model, nn.CrossEntropyLoss(), adam(model), (X, Y), 7, progress=True, print_every=3)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == ["1/7", "3/7", "6/7", "7/7"]
    assert all("loss" in line and "accuracy" in line and "lr" in line for line in lines)
    assert "(data " in lines[0] and "reg " in lines[0]


def test_auto_prints_lines_when_stdout_is_not_a_terminal(capsys):
    pytest.importorskip("tqdm")
    model = spiral_model()
    fit(model, nn.CrossEntropyLoss(), adam(model), (X, Y), 20, progress="auto")
    lines = capsys.readouterr().out.splitlines()
    # print_every defaults to a tenth of the run: epochs 1, 2, 4, ..., 20
    assert [line.split()[1] for line in lines] == [f"{e}/20" for e in [1, *range(2, 21, 2)]]


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("progress", [True, "auto"])
def test_progress_bar_with_loss_accuracy_and_lr(monkeypatch, progress):
    pytest.importorskip("tqdm")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    model = spiral_model()
    fit(model, nn.CrossEntropyLoss(), adam(model), (X, Y), 5, val_data=(X_VAL, Y_VAL),
        progress=progress)  # fmt: skip
    out = terminal.getvalue()
    assert "5/5" in out and "epoch 1/5" not in out
    for field in ("loss=", "acc=", "lr=", "val_loss=", "val_acc="):
        assert field in out, field


def test_progress_false_prints_nothing(capsys):
    model = spiral_model()
    fit(model, nn.CrossEntropyLoss(), adam(model), (X, Y), 3, progress=False)
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"epochs": 0}, ValueError, "fit: epochs must be a positive integer, got 0"),
        ({"epochs": 2.5}, ValueError, "fit: epochs must be a positive integer"),
        ({"progress": "yes"}, ValueError, "progress must be True, False or 'auto'"),
        ({"print_every": 0}, ValueError, "print_every must be a positive integer"),
        ({"batch_size": 0}, ValueError, "batch_size must be a positive integer or None"),
        ({"metrics": ["f1"]}, ValueError, "unknown metric 'f1'"),
        ({"resume": True}, ValueError, "resume=True needs checkpoint=PATH"),
        ({"data": [X, Y]}, TypeError, "data must be a tuple \\(X, y\\) or a DataLoader"),
        ({"data": (X, Y, Y)}, ValueError, "data must be \\(X, y\\) or a DataLoader, got a 3"),
        ({"data": DataLoader(X, Y), "batch_size": 4}, ValueError, "brings its own batching"),
        ({"checkpoint_every": 0}, ValueError, "checkpoint_every must be a positive integer"),
    ],
)
def test_bad_arguments_are_refused_before_training(kwargs, error, message):
    model = spiral_model()
    before = model[0].weight.numpy().copy()
    args = {"data": (X, Y), "epochs": 2, "progress": False, **kwargs}
    with pytest.raises(error, match=message):
        fit(model, nn.CrossEntropyLoss(), adam(model), **args)
    assert np.array_equal(model[0].weight.numpy(), before)


def test_model_must_be_a_module():
    with pytest.raises(TypeError, match="fit: model must be a tg.nn.Module, got function"):
        fit(lambda x: x, nn.CrossEntropyLoss(), None, (X, Y), 1)


def test_a_missing_checkpoint_directory_fails_before_training(tmp_path):
    model = spiral_model()
    optimizer = adam(model)
    path = tmp_path / "no" / "such" / "dir" / "run.ckpt"
    with pytest.raises(FileNotFoundError, match="fit: cannot write .* does not exist"):
        quiet_fit(model, optimizer, checkpoint=path)
    assert optimizer.iterations == 0


def test_empty_data_is_a_clear_error():
    model = spiral_model()
    with pytest.raises(ValueError, match="the data gave no batches"):
        quiet_fit(model, adam(model), data=DataLoader(X, Y, batch_size=100, drop_last=True))


def test_evaluate_restores_the_mode_and_takes_batches():
    model = spiral_model(dropout=0.5).eval()
    whole = evaluate(model, nn.CrossEntropyLoss(), (X, Y))
    batched = evaluate(model, nn.CrossEntropyLoss(), (X, Y), batch_size=7)
    assert not model.training
    assert batched["accuracy"] == whole["accuracy"]
    assert math.isclose(batched["loss"], whole["loss"], rel_tol=1e-5)
