"""Training plots: they draw what they are given, write PNGs headless, explain bad input."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import viz

pytest.importorskip("matplotlib")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HISTORY = {
    "loss": [1.1, 0.8, 0.5, 0.4],
    "accuracy": [0.3, 0.5, 0.7, 0.8],
    "lr": [1.0, 0.5, 0.1, 0.01],
    "val_loss": [1.2, 0.9, 0.7, 0.65],
    "val_accuracy": [0.3, 0.45, 0.6, 0.7],
}


def is_png(path) -> bool:
    data = path.read_bytes()
    return len(data) > 1000 and data.startswith(PNG_MAGIC)


def test_history_panels_pair_each_metric_with_its_validation_twin(tmp_path):
    fig = viz.plot_history(HISTORY, path=tmp_path / "history.png")
    assert is_png(tmp_path / "history.png")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy", "learning rate"]
    loss_ax, acc_ax, lr_ax = fig.axes
    train, val = loss_ax.get_lines()
    assert train.get_ydata().tolist() == HISTORY["loss"]
    assert val.get_ydata().tolist() == HISTORY["val_loss"]
    assert (train.get_linestyle(), val.get_linestyle()) == ("-", "--")
    assert train.get_xdata().tolist() == [1, 2, 3, 4]  # epochs count from 1
    assert lr_ax.get_yscale() == "log"  # the rate fell by 100x
    assert acc_ax.get_ylim() == (0, 1.02)


class History:
    def __init__(self, history):
        self.history = history


class AsDict:
    def __init__(self, history):
        self._h = history

    def as_dict(self):
        return self._h


@pytest.mark.parametrize("wrap", [History, AsDict])
def test_history_objects_are_read_through_history_or_as_dict(wrap):
    fig = viz.plot_history(wrap({"loss": [3.0, 2.0], "epoch": [10, 20]}))
    (ax,) = fig.axes
    (line,) = ax.get_lines()
    assert line.get_xdata().tolist() == [10, 20] and line.get_ydata().tolist() == [3.0, 2.0]


def test_history_errors_name_the_function():
    with pytest.raises(TypeError, match="plot_history: expected a dict"):
        viz.plot_history([0.5, 0.4])
    with pytest.raises(ValueError, match="plot_history: the history has no metrics"):
        viz.plot_history({"loss": []})


class TwoLines:
    """Class 0 where x > y, else class 1, as logits; with a train/eval switch to watch."""

    def __init__(self) -> None:
        self.training = True
        self.modes: list[str] = []

    def eval(self):
        self.training = False
        self.modes.append("eval")

    def train(self, mode: bool = True):
        self.training = mode
        self.modes.append("train")

    def __call__(self, x):
        assert not tg.is_grad_enabled()
        assert not self.training
        return x @ tg.tensor([[1.0, -1.0], [-1.0, 1.0]])


def test_decision_boundary_colours_the_predicted_class(tmp_path):
    X = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [1.0, 3.0]], dtype=np.float32)
    y = np.array([0, 1, 1, 1])  # the third point is on the wrong side: 3 of 4 right
    model = TwoLines()
    fig = viz.plot_decision_boundary(model, X, y, path=tmp_path / "b.png", resolution=50)
    assert is_png(tmp_path / "b.png")
    assert fig.axes[0].get_title() == "decision regions (accuracy on these points: 75.0%)"
    assert model.modes == ["eval", "train"] and model.training


def test_decision_boundary_takes_tensors_one_hot_labels_and_one_output():
    X = tg.tensor([[0.0, 1.0], [1.0, 0.0]])
    one_hot = np.eye(2)[[1, 0]]
    fig = viz.plot_decision_boundary(lambda t: t, X, one_hot, resolution=10)
    assert "100.0%" in fig.axes[0].get_title()

    def probability(t):  # a sigmoid output: class 1 where it is above 0.5
        return (t[:, 1] - t[:, 0]).sigmoid().reshape(-1, 1)

    fig = viz.plot_decision_boundary(probability, X, [1, 0], resolution=10, title="mine")
    assert fig.axes[0].get_title() == "mine"


def test_decision_boundary_errors_show_the_shapes():
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\) with N >= 1, got \(3, 3\)"):
        viz.plot_decision_boundary(lambda t: t, np.zeros((3, 3)), [0, 1, 2])
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\) with N >= 1, got \(0, 2\)"):
        viz.plot_decision_boundary(lambda t: t, np.zeros((0, 2)), [])
    with pytest.raises(ValueError, match=r"y must be .* got shape \(2,\)"):
        viz.plot_decision_boundary(lambda t: t, np.zeros((3, 2)), [0, 1])
    with pytest.raises(ValueError, match="resolution must be at least 2"):
        viz.plot_decision_boundary(lambda t: t, np.zeros((3, 2)), [0, 1, 0], resolution=1)


def test_plots_without_matplotlib_say_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"plot_history needs matplotlib: pip install"):
        viz.plot_history(HISTORY)
    with pytest.raises(ImportError, match=r"plot_decision_boundary needs matplotlib"):
        viz.plot_decision_boundary(lambda t: t, np.zeros((2, 2)), [0, 1])


def test_walkthrough_example_writes_its_files(tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "examples" / "graph_walkthrough.py"
    spec = importlib.util.spec_from_file_location("graph_walkthrough", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    example.main(tmp_path, steps=20)
    names = {p.name for p in tmp_path.iterdir()}
    assert {"graph_before.dot", "graph_after.dot", "trace.txt", "decision_boundary.png"} <= names
    assert is_png(tmp_path / "decision_boundary.png")
    assert "cross_entropy" in capsys.readouterr().out
