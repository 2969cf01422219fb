"""The ``tinygrad-np`` command: training runs, help, version, bad arguments, checkpoints, plots."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

import tinygrad_np as tg
from tinygrad_np import cli
from tinygrad_np.checkpoint import load_checkpoint
from tinygrad_np.train import evaluate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = ["--epochs", "30", "--no-progress"]


def result(out: str, split: str) -> tuple[float, float]:
    match = re.search(rf"^{split}:\s+loss (\S+), accuracy (\S+)", out, re.MULTILINE)
    assert match, out
    return float(match.group(1)), float(match.group(2))


def test_train_spiral_prints_train_and_test_results(capsys):
    assert cli.main(["train", "spiral", *QUICK]) == 0
    out = capsys.readouterr().out
    assert out.startswith("training a 2-64-3 network on spiral data (300 samples) with Adam(")
    assert "trained to epoch 30" in out
    for split in ("train", "test"):
        loss, accuracy = result(out, split)
        assert loss > 0 and 0.0 <= accuracy <= 1.0
    assert "epoch" not in out.split("\n", 1)[1].split("trained")[0]  # --no-progress


def test_printed_numbers_are_those_of_the_trained_model(tmp_path, capsys):
    path = str(tmp_path / "run.ckpt")
    cli.main(["train", "spiral", *QUICK, "--save", path, "--seed", "4"])
    out = capsys.readouterr().out
    args = cli.parse_args(["train", "spiral", "--seed", "4"])
    model = cli.build_model(args)
    assert load_checkpoint(path, model, cli.build_optimizer(args, model.parameters())) == 30
    X_test, y_test = tg.data.spiral_data(100, 3, seed=5)
    test = evaluate(model, tg.nn.CrossEntropyLoss(), (X_test, y_test))
    assert result(out, "test") == (round(test["loss"], 4), round(test["accuracy"], 3))


def test_progress_lines_when_not_on_a_terminal(capsys):
    cli.main(["train", "vertical", "--epochs", "20", "--print-every", "10"])
    out = capsys.readouterr().out
    assert "on vertical data" in out
    assert [line.split()[1] for line in out.splitlines() if line.startswith("epoch")] == [
        "1/20",
        "10/20",
        "20/20",
    ]


@pytest.mark.parametrize(
    "flags, kind, settings",
    [
        ([], tg.optim.Adam, {"lr": 0.02, "decay": 5e-7, "eps": 1e-7}),
        (["--optimizer", "sgd"], tg.optim.SGD, {"lr": 1.0, "decay": 1e-3, "momentum": 0.0}),
        (
            ["--optimizer", "momentum"],
            tg.optim.SGD,
            {"lr": 1.0, "decay": 1e-3, "momentum": 0.9, "momentum_style": "nnfs"},
        ),
        (["--optimizer", "adagrad"], tg.optim.Adagrad, {"lr": 1.0, "decay": 1e-4, "eps": 1e-7}),
        (["--optimizer", "rmsprop"], tg.optim.RMSprop, {"lr": 0.02, "decay": 1e-5, "alpha": 0.999}),
        (["--optimizer", "adam", "--lr", "0.05", "--decay", "0"], tg.optim.Adam, {"lr": 0.05}),
        (["--optimizer", "sgd", "--momentum", "0.5"], tg.optim.SGD, {"momentum": 0.5}),
    ],
)
def test_optimizers_get_the_book_defaults_unless_overridden(flags, kind, settings, capsys):
    args = cli.parse_args(["train", *flags])
    model = cli.build_model(args)
    optimizer = cli.build_optimizer(args, model.parameters())
    assert type(optimizer) is kind
    group = optimizer.param_groups[0]
    assert {k: group[k] for k in settings} == settings
    assert cli.main(["train", *flags, "--epochs", "3", "--no-progress"]) == 0
    assert f"with {kind.__name__}(" in capsys.readouterr().out


def test_mini_batches_take_several_steps_per_epoch(tmp_path):
    path = str(tmp_path / "run.ckpt")
    cli.main(["train", "--epochs", "3", "--batch-size", "64", "--no-progress", "--save", path])
    assert tg.load(path)["optimizer"]["step"] == 3 * 5  # 300 samples in batches of 64


def test_model_flags_shape_the_network():
    args = cli.parse_args(
        ["train", "--hidden", "8", "--classes", "4", "--l2", "5e-4", "--l1", "1e-4",
         "--dropout", "0.1"]
    )  # fmt: skip
    model = cli.build_model(args)
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Dropout", "Linear"]
    assert model[0].weight.shape == (2, 8) and model[3].weight.shape == (8, 4)
    assert model[0].weight_regularizer_l2 == model[0].bias_regularizer_l2 == 5e-4
    assert model[0].weight_regularizer_l1 == 1e-4 and model[2].p == 0.1
    assert model[3].weight_regularizer_l2 == 0  # the book regularises the hidden layer only


def test_help_describes_every_flag_with_its_default(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for flag in ("--optimizer", "--lr", "--decay", "--momentum", "--epochs", "--hidden",
                 "--samples", "--classes", "--l2", "--l1", "--dropout", "--seed", "--save",
                 "--plot", "--no-progress", "--dataset"):  # fmt: skip
        assert flag in text, flag
    assert "(default: 10001)" in text and "(default: adam)" in text
    assert "adam lr 0.02, decay 5e-07" in text


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"tinygrad-np {tg.__version__}"


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "the following arguments are required: COMMAND"),
        (["fly"], "invalid choice: 'fly'"),
        (["train", "moons"], "invalid choice: 'moons'"),
        (["train", "--optimizer", "lbfgs"], "invalid choice: 'lbfgs'"),
        (["train", "--epochs", "0"], "expected a positive integer, got 0"),
        (["train", "--epochs", "ten"], "expected a positive integer, got 'ten'"),
        (["train", "--lr", "-1"], "expected a finite number >= 0, got -1"),
        (["train", "--dropout", "1"], r"expected a fraction in \[0, 1\), got 1"),
        (["train", "--classes", "1"], "expected an integer >= 2, got 1"),
        (["train", "--momentum", "0.9"], "--momentum applies to --optimizer sgd or momentum"),
        (["train", "--resume"], "--resume needs --save PATH"),
        (["train", "spiral", "--dataset", "vertical"], "the data set is given twice"),
        (["train", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_arguments_exit_with_a_usage_error(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert re.search(message, captured.err), captured.err
    assert "training a" not in captured.out


def test_save_into_a_missing_directory_fails_before_training(tmp_path, capsys):
    path = tmp_path / "nowhere" / "run.ckpt"
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", *QUICK, "--save", str(path)])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert "tinygrad-np train: error: --save: cannot write" in captured.err
    assert "does not exist" in captured.err and "nowhere" in captured.err
    assert captured.out == ""


def test_save_then_resume_continues_the_run(tmp_path, capsys):
    path = str(tmp_path / "run.ckpt")
    cli.main(["train", "--epochs", "10", "--no-progress", "--save", path])
    assert tg.load(path)["epoch"] == 10
    cli.main(["train", "--epochs", "30", "--no-progress", "--save", path, "--resume"])
    straight = str(tmp_path / "straight.ckpt")
    cli.main(["train", "--epochs", "30", "--no-progress", "--save", straight])
    out = capsys.readouterr().out
    assert f"checkpoint saved to {path}" in out
    resumed, unbroken = tg.load(path), tg.load(straight)
    assert resumed["epoch"] == 30
    for name, value in unbroken["model"].items():
        assert value.tobytes() == resumed["model"][name].tobytes(), name


def test_plot_writes_curves_and_decision_regions(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    pytest.importorskip("tinygrad_np.viz")
    path = tmp_path / "run.png"
    assert cli.main(["train", *QUICK, "--plot", str(path)]) == 0
    for written in (path, tmp_path / "run_boundary.png"):
        assert written.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "plots saved to" in capsys.readouterr().out


def test_plot_without_the_viz_module_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tinygrad_np.viz", None)  # import now raises ImportError
    monkeypatch.delattr(tg, "viz", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", *QUICK, "--plot", str(tmp_path / "run.png")])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert "--plot needs tinygrad_np.viz and matplotlib" in captured.err
    assert "pip install tinygrad-np[viz]" in captured.err and captured.out == ""


def test_python_dash_m_runs_the_command():
    done = subprocess.run(
        [sys.executable, "-m", "tinygrad_np", "--version"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0 and done.stdout.strip() == f"tinygrad-np {tg.__version__}"
