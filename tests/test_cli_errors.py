"""The ``tinygrad-np`` command refuses bad values and checkpoints in one line, before training."""

from __future__ import annotations

import re

import pytest

import tinygrad_np as tg
from tinygrad_np import cli

QUICK = ["--epochs", "4", "--no-progress"]


def refused(argv, capsys) -> str:
    """The one line a refused command writes to stderr (exit status 2, nothing on stdout)."""
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    captured = capsys.readouterr()
    assert exit_info.value.code == 2, captured
    assert captured.out == "", captured.out
    lines = captured.err.splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert lines[0].startswith("tinygrad-np train: error: "), lines[0]
    return lines[0]


@pytest.mark.parametrize(
    "flags, message",
    [
        (
            ["--seed", "-5"],
            r"argument --seed: expected an integer in \[0, 4294967294\] "
            r"\(the test set uses seed \+ 1\), got -5",
        ),  # fmt: skip
        (["--seed", str(2**32 - 1)], r"argument --seed: .*got 4294967295"),
        (["--seed", str(2**70)], r"argument --seed: .*got 1180591620717411303424"),
        (["--lr", "nan"], r"argument --lr: expected a finite number >= 0, got nan"),
        (["--lr", "inf"], r"argument --lr: expected a finite number >= 0, got inf"),
        (["--lr", "1e999"], r"argument --lr: .* >= 0, got 1e999 \(which is inf\)"),
        (["--decay", "nan"], r"argument --decay: expected a finite number >= 0, got nan"),
        (["--optimizer", "sgd", "--momentum", "nan"], r"argument --momentum: .*got nan"),
        (["--l2", "nan"], r"argument --l2: expected a finite number >= 0, got nan"),
        (["--l1", "inf"], r"argument --l1: expected a finite number >= 0, got inf"),
        (["--dropout", "nan"], r"argument --dropout: expected a fraction in \[0, 1\), got nan"),
        (["--save-every", "0"], r"argument --save-every: expected a positive integer, got 0"),
        (["--save-every", "5"], r"--save-every needs --save PATH"),
    ],
)
def test_bad_values_get_one_line_and_exit_status_2(flags, message, capsys):
    assert re.search(message, refused(["train", *QUICK, *flags], capsys))


def test_argparse_errors_are_one_line_too(capsys):
    line = refused(["train", "--epochs", "ten"], capsys)
    assert line.endswith("expected a positive integer, got 'ten'")


def test_an_unwritable_plot_format_is_refused_before_training(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    line = refused(["train", *QUICK, "--plot", str(tmp_path / "file.txt")], capsys)
    assert "--plot: matplotlib cannot write '.txt' files" in line and "png" in line
    assert list(tmp_path.iterdir()) == []


def test_a_plot_path_without_extension_gets_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    pytest.importorskip("tinygrad_np.viz")
    assert cli.main(["train", *QUICK, "--plot", str(tmp_path / "run")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.png", "run_boundary.png"]
    assert f"plots saved to {tmp_path / 'run.png'}" in capsys.readouterr().out


# ---------------------------------------------------------------- --resume


@pytest.fixture
def run(tmp_path, capsys):
    """A checkpoint of 4 epochs of SGD with a 16-unit hidden layer."""
    path = str(tmp_path / "run.ckpt")
    flags = ["--optimizer", "sgd", "--hidden", "16", "--seed", "3", "--lr", "0.5"]
    assert cli.main(["train", *QUICK, *flags, "--save", path]) == 0
    capsys.readouterr()
    return path


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--hidden", "8"], r"was trained with --hidden 16; this command gives --hidden 8"),
        (["--optimizer", "adam"], r"was trained with --optimizer sgd; .* --optimizer adam"),
        (["--lr", "0.25"], r"was trained with --lr 0.5; this command gives --lr 0.25"),
        (["--seed", "7"], r"was trained with --seed 3; this command gives --seed 7"),
        (
            ["vertical"],
            r"was trained with --dataset spiral; this command gives --dataset "
            r"vertical",
        ),  # fmt: skip
        (
            ["--batch-size", "32"],
            r"was trained with full batches \(no --batch-size\); this "
            r"command gives --batch-size 32",
        ),  # fmt: skip
        (["--dropout", "0.1"], r"was trained with --dropout 0; this command gives --dropout 0.1"),
    ],
)
def test_a_flag_that_contradicts_the_checkpoint_is_refused(run, flags, message, capsys):
    before = open(run, "rb").read()
    line = refused(["train", "--epochs", "8", "--save", run, "--resume", *flags], capsys)
    assert re.search(f"--resume: {re.escape(run)} " + message, line), line
    assert "leave it out to continue that run" in line
    assert open(run, "rb").read() == before


def test_flags_left_out_come_from_the_checkpoint(run, tmp_path, capsys):
    assert cli.main(["train", "--epochs", "8", "--no-progress", "--save", run, "--resume"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"resumed from epoch 4 of {run}\n")
    assert "training a 2-16-3 network on spiral data (300 samples) with SGD(lr=0.5" in out
    # the same flags, repeated, are no contradiction: and the two runs agree bit for bit
    straight = str(tmp_path / "straight.ckpt")
    flags = ["--optimizer", "sgd", "--hidden", "16", "--seed", "3", "--lr", "0.5"]
    assert cli.main(["train", "--epochs", "8", "--no-progress", *flags, "--save", straight]) == 0
    resumed, unbroken = tg.load(run), tg.load(straight)
    assert resumed["epoch"] == unbroken["epoch"] == 8
    for name, value in unbroken["model"].items():
        assert value.tobytes() == resumed["model"][name].tobytes(), name


def test_a_finished_run_says_there_is_nothing_left_to_train(run, capsys):
    assert cli.main(["train", "--epochs", "4", "--no-progress", "--save", run, "--resume"]) == 0
    out = capsys.readouterr().out
    assert f"resumed from epoch 4 of {run}: --epochs 4 reached, nothing to train" in out


def test_resume_without_a_checkpoint_says_it_starts_a_new_run(tmp_path, capsys):
    path = str(tmp_path / "new.ckpt")
    assert cli.main(["train", *QUICK, "--save", path, "--resume"]) == 0
    assert capsys.readouterr().out.startswith(f"no checkpoint at {path} yet: starting a new run")
    assert tg.load(path)["epoch"] == 4


@pytest.mark.parametrize("damage", [b"", b"random bytes, not an archive", "truncated"])
def test_a_damaged_checkpoint_is_one_line(run, damage, capsys):
    data = open(run, "rb").read()
    with open(run, "wb") as file:
        file.write(data[: len(data) // 2] if damage == "truncated" else damage)
    line = refused(["train", *QUICK, "--save", run, "--resume"], capsys)
    assert f"--resume: load: {run} is damaged or not a tinygrad_np file" in line


def test_a_checkpoint_of_another_model_is_one_line(tmp_path, capsys):
    """A checkpoint without the command's settings (written by the library) that does not fit."""
    path = str(tmp_path / "library.ckpt")
    model = tg.nn.Sequential(tg.nn.Linear(2, 5), tg.nn.ReLU(), tg.nn.Linear(5, 3))
    tg.train.save_checkpoint(path, model, tg.optim.Adam(model.parameters()), 2)
    line = refused(["train", *QUICK, "--save", path, "--resume"], capsys)
    assert f"--resume: cannot continue {path}: " in line and "shape" in line
    tg.save({"weights": [1, 2]}, path)
    line = refused(["train", *QUICK, "--save", path, "--resume"], capsys)
    assert "is not a training checkpoint" in line


def test_settings_in_a_checkpoint_are_checked_like_flags(run, capsys):
    state = tg.load(run)
    state["metadata"]["settings"]["hidden"] = -3
    tg.save(state, run)
    line = refused(["train", *QUICK, "--save", run, "--resume"], capsys)
    assert f"--resume: {run} holds a bad setting hidden=-3" in line
