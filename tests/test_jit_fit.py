"""``fit()`` and ``tinygrad-np train`` compile their steps by default; turning that off changes
no number. Also ``tg.set_num_threads`` and ``tg.tune_malloc``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import cli, nn
from tinygrad_np.train import fit

DATA = tg.data.spiral_data(40, 3, seed=0)
VAL = tg.data.spiral_data(40, 3, seed=1)


def _run(jit, make_opt, **kwargs):
    tg.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(2, 32, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4),
        nn.ReLU(),
        nn.Dropout(0.1),
        nn.Linear(32, 3),
    )
    opt = make_opt(model.parameters())
    with warnings.catch_warnings():
        warnings.simplefilter("error", tg.JitWarning)  # every step must compile
        history = fit(model, nn.CrossEntropyLoss(), opt, DATA, progress=False, jit=jit,
                      **kwargs)  # fmt: skip
    return model, opt, history


@pytest.mark.parametrize(
    "make_opt, kwargs",
    [
        (lambda p: tg.optim.Adam(p, lr=0.02, eps=1e-7, decay=5e-7), {"epochs": 120}),
        (lambda p: tg.optim.SGD(p, lr=1.0, momentum=0.9, decay=1e-3, momentum_style="nnfs"),
         {"epochs": 40, "batch_size": 32, "val_data": VAL}),
        (lambda p: tg.optim.RMSprop(p, lr=0.02, alpha=0.999), {"epochs": 40, "batch_size": 50,
                                                              "seed": 3}),
    ],
    ids=["adam_full_batch", "momentum_minibatches_validation", "rmsprop_shuffled"],
)  # fmt: skip
def test_fit_gives_the_same_numbers_with_and_without_jit(make_opt, kwargs):
    a, opt_a, h_a = _run(True, make_opt, **kwargs)
    b, opt_b, h_b = _run(False, make_opt, **kwargs)
    assert h_a.as_dict() == h_b.as_dict()
    for p, q in zip(a.parameters(), b.parameters()):
        assert np.array_equal(p.data, q.data)
    for index, state in opt_b.state_dict()["state"].items():
        for key, value in state.items():
            assert np.array_equal(opt_a.state_dict()["state"][index][key], value)


def test_fit_with_a_scheduler_per_step_gives_the_same_numbers():
    def run(jit):
        tg.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
        opt = tg.optim.SGD(model.parameters(), lr=0.5)
        sched = tg.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.7)
        h = fit(model, nn.CrossEntropyLoss(), opt, DATA, epochs=12, batch_size=40,
                progress=False, scheduler=sched, scheduler_interval="step", jit=jit)  # fmt: skip
        return h.as_dict(), [p.data.copy() for p in model.parameters()]

    (ha, pa), (hb, pb) = run(True), run(False)
    assert ha == hb and all(np.array_equal(x, y) for x, y in zip(pa, pb))


def test_the_command_prints_the_same_with_and_without_jit(capsys):
    flags = ["train", "--epochs", "300", "--no-progress", "--dropout", "0.1", "--l2", "5e-4"]
    for extra in ([], ["--no-jit"], ["--threads", "2", "--no-malloc-tuning"]):
        assert cli.main(flags + extra) == 0
    first, no_jit, other = (
        [line for line in block.splitlines() if not line.startswith("trained to epoch")]
        for block in capsys.readouterr().out.split("training a ")[1:]
    )
    assert first == no_jit == other


def test_set_num_threads_and_its_errors():
    previous = tg.set_num_threads(1)
    try:
        assert tg.get_num_threads() == 1
        assert tg.set_num_threads(2) == 1
        assert tg.get_num_threads() in (1, 2)  # never more than the CPUs BLAS was built for
    finally:
        tg.set_num_threads(previous or 1)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="set_num_threads: n must be a positive integer"):
            tg.set_num_threads(bad)


def test_tune_malloc_checks_its_arguments():
    for kwargs in ({"trim_threshold": -1}, {"mmap_threshold": 2**40}, {"mmap_threshold": 1.5}):
        with pytest.raises(ValueError, match="tune_malloc"):
            tg.tune_malloc(**kwargs)
    assert tg.tune_malloc() in (True, False)


def test_importing_the_library_changes_no_process_setting():
    import subprocess
    import sys

    code = (
        "import ctypes, numpy\n"
        "from threadpoolctl import threadpool_info\n"
        "before = [p['num_threads'] for p in threadpool_info()]\n"
        "opened = []\n"
        "real = ctypes.CDLL\n"
        "ctypes.CDLL = lambda name, *a, **k: opened.append(name) or real(name, *a, **k)\n"
        "import tinygrad_np\n"
        "assert not [n for n in opened if 'libc' in str(n)], opened  # no mallopt on import\n"
        "assert [p['num_threads'] for p in threadpool_info()] == before\n"
        "tinygrad_np.tune_malloc()\n"
        "assert opened or not tinygrad_np.runtime._mallopt\n"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0


def test_scripts_take_one_thread_unless_asked_otherwise(monkeypatch):
    from tinygrad_np.runtime import THREAD_VARIABLES, threads_for_small_models

    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert threads_for_small_models() == 1
    assert threads_for_small_models(3) == 3  # a flag wins
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert threads_for_small_models() == 2  # so does the environment, over the default
    assert threads_for_small_models(1) == 1
