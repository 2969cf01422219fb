"""Watching a classifier learn: the recorded frames, the GIF, `train --animate`, and the
graph walkthrough's suggested settings."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import cli, nn, viz
from tinygrad_np.viz.animate import frame_epochs

pytest.importorskip("matplotlib")
ROOT = Path(__file__).resolve().parents[1]


def spiral_run(epochs: int = 40, frames: int = 6, **kwargs):
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    optimizer = tg.optim.Adam(model.parameters(), lr=0.05)
    data = tg.data.spiral_data(30, 3, seed=0)
    anim = viz.animate_training(
        model, nn.CrossEntropyLoss(), optimizer, data, epochs, frames=frames, resolution=24,
        **kwargs,
    )  # fmt: skip
    return anim, model, data


def test_frame_epochs_start_before_training_and_end_at_the_last_epoch():
    for epochs, frames in [(1, 5), (10, 40), (10001, 40), (300, 7)]:
        drawn = frame_epochs(epochs, frames)
        assert drawn[0] == 0 and drawn[-1] == epochs
        assert drawn == sorted(set(drawn)) and len(drawn) <= frames + 2
    gaps = np.diff(frame_epochs(10001, 40))
    assert gaps[0] < gaps[-1] / 100  # dense at the start, where the network changes fastest
    with pytest.raises(ValueError, match="frame_epochs"):
        frame_epochs(0, 5)


def test_frames_hold_what_the_model_predicted_at_those_epochs():
    anim, model, (X, y) = spiral_run()
    assert anim.epochs_drawn == frame_epochs(40, 6)
    assert [e for e, _ in anim.losses] == list(range(1, 41))
    assert [v for _, v in anim.losses] == pytest.approx(anim.history.loss)
    final = viz.plots.predict_classes(model, anim._grid).reshape(anim.gx.shape)
    np.testing.assert_array_equal(anim.regions[-1], final)
    assert anim.accuracies[-1] == pytest.approx(tg.metrics.accuracy(model(tg.Tensor(X)), y))
    assert not np.array_equal(anim.regions[0], anim.regions[-1])  # it did learn something
    fig = anim.figure(0)
    assert fig.axes[0].get_title().startswith("epoch 0: accuracy")
    assert anim.figure().axes[0].get_title().startswith("epoch 40: accuracy")


def test_the_gif_has_every_frame_and_the_last_one_held(tmp_path):
    pytest.importorskip("PIL")
    from PIL import Image

    anim, _, _ = spiral_run()
    path = tmp_path / "run.gif"
    path.write_bytes(anim.gif())
    with Image.open(path) as gif:
        assert gif.size == (720, 328)
        assert gif.n_frames >= len(anim)  # Pillow merges the repeated last frames into one
    assert anim._repr_html_().startswith('<img src="data:image/gif;base64,')
    with pytest.raises(ValueError, match=r"writes \.gif files"):
        anim.save(tmp_path / "run.mp4")


def test_animate_training_passes_fit_arguments_and_refuses_a_loader():
    seen = []
    anim, _, _ = spiral_run(epochs=5, frames=2, callbacks=[lambda e, logs: seen.append(e)])
    assert seen == [1, 2, 3, 4, 5] and len(anim.history) == 5
    X, y = tg.data.spiral_data(10, 3, seed=0)
    loader = tg.data.DataLoader(X, y, batch_size=5)
    model = nn.Sequential(nn.Linear(2, 3))
    with pytest.raises(TypeError, match=r"animate_training: data must be \(X, y\)"):
        viz.animate_training(model, nn.CrossEntropyLoss(), tg.optim.SGD(model.parameters(),
                             lr=0.1), loader, 2)  # fmt: skip
    with pytest.raises(ValueError, match=r"TrainingAnimation: X must have shape \(N, 2\)"):
        viz.TrainingAnimation(model, np.zeros((4, 3)), [0, 1, 2, 0], epochs=3)


def test_train_animate_writes_a_gif_of_the_run(tmp_path, capsys):
    pytest.importorskip("PIL")
    path = tmp_path / "run.gif"
    assert cli.main(["train", "--epochs", "12", "--no-progress", "--animate", str(path)]) == 0
    assert path.read_bytes()[:6] == b"GIF89a"
    assert f"saved to {path}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--animate", "run.png"], "--animate writes a GIF"),
        (["--animate", "/no/such/folder/run.gif"], "--animate"),
    ],
)
def test_train_animate_refuses_a_bad_path_before_training(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--epochs", "3", *argv])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_train_animate_without_pillow_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--epochs", "3", "--animate", str(tmp_path / "run.gif")])
    assert exit_info.value.code == 2
    assert "pip install tinygrad-np[viz]" in capsys.readouterr().err


def test_the_walkthrough_suggests_settings_whose_loss_falls_steadily(tmp_path, capsys):
    path = ROOT / "examples" / "graph_walkthrough.py"
    spec = importlib.util.spec_from_file_location("graph_walkthrough", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    example.main(tmp_path, steps=20)  # the small default run prints the suggestion
    flags = " ".join(f"--{k} {v}" for k, v in example.SPIRAL_SETTINGS.items())
    assert f"try {flags}" in capsys.readouterr().out
    losses = example.main(tmp_path / "suggested", **example.SPIRAL_SETTINGS)
    assert all(b < a for a, b in zip(losses, losses[1:])), losses  # no oscillation
    assert losses[-1] < 0.3


def test_without_matplotlib_the_animation_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    model = nn.Sequential(nn.Linear(2, 3))
    with pytest.raises(ImportError, match=r"TrainingAnimation needs matplotlib: pip install"):
        viz.TrainingAnimation(model, np.zeros((3, 2)), [0, 1, 2], epochs=3)
