"""The command under Ctrl-C and broken pipes, in real subprocesses; and --save-every."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

import tinygrad_np as tg
from tinygrad_np import cli, cli_resume, train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = {**os.environ, "PYTHONPATH": ROOT, "PYTHONUNBUFFERED": "1"}
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
RUN = ["--hidden", "16", "--samples", "40", "--seed", "5", "--dropout", "0.1"]


def start(*argv: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "tinygrad_np", "train", *RUN, *argv]
    return subprocess.Popen(command, cwd=ROOT, env=ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def wait_for_epoch(process: subprocess.Popen, epoch: int) -> None:
    """Read progress lines until the one of ``epoch`` (it is printed once the epoch is done)."""
    for line in process.stdout:
        words = line.split()
        if words[:1] == ["epoch"] and words[1].split("/")[0] == str(epoch):
            return
    raise AssertionError(f"the run ended before epoch {epoch}: {process.stderr.read()}")


def same_bits(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(a[k].tobytes() == b[k].tobytes() for k in a)


@posix_only
def test_ctrl_c_saves_the_last_finished_epoch_and_resuming_continues_exactly(tmp_path):
    path = str(tmp_path / "run.ckpt")
    process = start("--epochs", "1000000", "--print-every", "1", "--save", path)
    try:
        wait_for_epoch(process, 3)  # let some epochs finish before the interrupt
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "Traceback" not in err
    epoch = tg.load(path)["epoch"]
    assert epoch >= 3
    assert f"interrupted: saved epoch {epoch} to {path}" in err
    assert f"resume with: tinygrad-np train --save {path} --resume --epochs 1000000" in err

    # the checkpoint is exactly the state after `epoch` epochs of an unbroken run ...
    straight = str(tmp_path / "straight.ckpt")
    argv = ["train", *RUN, "--no-progress", "--save", straight]
    assert cli.main([*argv, "--epochs", str(epoch)]) == 0
    assert same_bits(tg.load(path)["model"], tg.load(straight)["model"])
    # ... and resuming it continues as if never stopped
    assert cli.main(["train", "--save", path, "--resume", "--epochs", str(epoch + 5),
                     "--no-progress"]) == 0  # fmt: skip
    assert cli.main([*argv, "--epochs", str(epoch + 5)]) == 0
    resumed, unbroken = tg.load(path), tg.load(straight)
    assert resumed["epoch"] == epoch + 5 and same_bits(resumed["model"], unbroken["model"])
    assert resumed["history"] == unbroken["history"]


@posix_only
def test_ctrl_c_without_save_exits_130_in_one_line(tmp_path):
    process = start("--epochs", "1000000", "--print-every", "1")
    try:
        wait_for_epoch(process, 2)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130
    assert err.strip().splitlines()[-1].startswith("interrupted after epoch")
    assert "Traceback" not in err and "--save PATH" in err


@posix_only
def test_output_piped_into_head_ends_quietly():
    process = start("--epochs", "1000000", "--print-every", "1")
    try:
        lines = [process.stdout.readline() for _ in range(3)]
        process.stdout.close()  # what head does after its lines
        _, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert lines[0].startswith("training a 2-16-3 network")
    assert err == ""
    assert process.returncode == 141  # 128 + SIGPIPE, as for a tool the pipe ended


def test_save_every_writes_periodic_checkpoints(tmp_path, monkeypatch):
    saved = []
    real = train.save_checkpoint

    def recording(path, model, optimizer, epoch, *args, **kwargs):
        saved.append(epoch)
        return real(path, model, optimizer, epoch, *args, **kwargs)

    monkeypatch.setattr(train, "save_checkpoint", recording)
    path = str(tmp_path / "run.ckpt")
    argv = ["train", "--epochs", "7", "--no-progress", "--save", path, "--save-every", "3"]
    assert cli.main(argv) == 0
    assert saved == [3, 6, 7] and tg.load(path)["epoch"] == 7


def test_a_second_ctrl_c_stops_at_once_and_says_what_the_checkpoint_holds(
    tmp_path, monkeypatch, capsys
):
    interrupt = cli_resume.Interrupt(save_on_ctrl_c=True)
    interrupt._handle(signal.SIGINT, None)  # the first: finish the epoch, then save
    assert interrupt.requested
    with pytest.raises(KeyboardInterrupt):  # the second: now
        interrupt._handle(signal.SIGINT, None)

    def crash(epoch, logs):
        if epoch == 5:
            raise KeyboardInterrupt  # as a second Ctrl-C would, in the middle of a run

    real_fit = cli.fit
    monkeypatch.setattr(cli, "fit", lambda *a, callbacks, **k: real_fit(
        *a, callbacks=[*callbacks, crash], **k))  # fmt: skip
    path = str(tmp_path / "run.ckpt")
    argv = ["train", "--epochs", "9", "--no-progress", "--save", path, "--save-every", "2"]
    assert cli.main(argv) == 130
    err = capsys.readouterr().err.splitlines()
    assert err == [f"interrupted after epoch 5; {path} holds epoch 4",
                   f"resume with: tinygrad-np train --save {path} --resume --epochs 9"]  # fmt: skip


@posix_only
def test_ctrl_c_stays_ignored_where_the_process_ignores_it():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as in a background job
    try:
        with cli_resume.Interrupt(save_on_ctrl_c=True):
            assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        signal.signal(signal.SIGINT, signal.default_int_handler)
        with cli_resume.Interrupt(save_on_ctrl_c=True) as interrupt:
            assert signal.getsignal(signal.SIGINT) == interrupt._handle
        assert signal.getsignal(signal.SIGINT) == signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)
