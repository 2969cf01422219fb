"""The benchmark script runs end to end and its three implementations compute the same model.

Nothing here asserts a timing: speed is what ``benchmarks/run.py`` reports, not what tests
check on a shared machine.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import report as report_module  # noqa: E402
from benchmarks import run, workloads  # noqa: E402

HAS_TORCH = importlib.util.find_spec("torch") is not None
# One thread each for BLAS and PyTorch: two thread pools on a busy machine can stall for
# whole time slices, and these tests only need the runs to finish.
QUICK = ["--quick"] + (["--threads", "1"] if importlib.util.find_spec("threadpoolctl") else [])


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def _table_rows(stdout: str) -> set[tuple[str, str]]:
    """(workload, impl) for every row of the printed table."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("workload"))
    rows = set()
    for line in lines[start + 2 :]:
        if line.startswith(" "):  # a second target of the row above
            continue
        cells = line.split()
        if len(cells) < 2 or cells[0] not in {w.name for w in workloads.WORKLOADS}:
            break
        rows.add((cells[0], cells[1]))
    return rows


def test_quick_run_reports_every_workload_and_target(tmp_path, capsys):
    out = tmp_path / "results.json"
    returned = run.main([*QUICK, "--json", str(out)])
    stdout = capsys.readouterr().out
    expected = {(w.name, "tinygrad_np") for w in workloads.WORKLOADS}
    for impl in ("numpy", "tinygrad_np.nn", "tinygrad_np.jit"):
        expected |= {(w.name, impl) for w in workloads.WORKLOADS if not w.is_chain}
    if HAS_TORCH:
        expected |= {(w.name, "torch") for w in workloads.WORKLOADS}
    assert _table_rows(stdout) == expected
    for key in ("platform", "cpus", "python", "numpy", "blas", "torch", "gc"):
        assert any(line.startswith(f"{key}:") for line in stdout.splitlines()), key

    report = json.loads(out.read_text())
    assert report["rows"] == json.loads(json.dumps(returned["rows"]))
    assert report["quick"] is True
    assert {(r["workload"], r["impl"]) for r in report["rows"]} == expected
    checked = {
        (r["workload"], r["impl"] == "tinygrad_np.jit", t["kind"])
        for r in report["rows"]
        for t in r["targets"]
    }  # every target appears, with a verdict: the eager ones and the compiled step's
    eager_targets = {(w, False, kind) for w, lims in report_module.TARGETS.items() for kind in lims}
    jit_targets = {(w, True, k) for w, lims in report_module.JIT_TARGETS.items() for k in lims}
    assert checked == eager_targets | jit_targets
    for r in report["rows"]:
        if r["impl"] == "tinygrad_np.jit":  # the compiled step did compile, and says its cost
            assert r["record_steps"] > 0
    for r in report["rows"]:
        assert r["step_s"] > 0
        assert all(isinstance(t["passed"], bool) for t in r["targets"])
        if r["impl"] == "numpy":
            assert r["time_ratio"] == 1.0 and r["mem_ratio"] == 1.0
        if r["impl"] == "torch":
            assert r["peak_mib"] is None
        interleaved_with_numpy = r["impl"].startswith("tinygrad_np") and r["workload"] != "chain"
        assert (r["paired_ratio"] is not None) == interleaved_with_numpy


def test_workloads_chosen_by_letter_or_name(capsys):
    run.main([*QUICK, "--no-torch", "--workloads", "a,chain"])
    stdout = capsys.readouterr().out
    assert _table_rows(stdout) == {
        ("spiral", "numpy"),
        ("spiral", "tinygrad_np"),
        ("spiral", "tinygrad_np.nn"),
        ("spiral", "tinygrad_np.jit"),
        ("chain", "tinygrad_np"),
    }
    assert "torch:     left out (--no-torch)" in stdout


def test_unknown_workload_is_named():
    with pytest.raises(SystemExit, match="unknown workload 'zz'; choose from a=spiral"):
        run.main(["--workloads", "a,zz"])


def test_script_profiles_top_functions_by_tottime():
    # as a script, from its file: the one run that checks the command line end to end
    proc = _run("--profile", "deep", "--steps", "2", "--top", "5")
    assert proc.returncode == 0, proc.stderr
    assert "top 5 by tottime" in proc.stdout
    assert "Ordered by: internal time" in proc.stdout
    assert "function.py" in proc.stdout or "ops/" in proc.stdout


MODELS = [w for w in workloads.WORKLOADS if not w.is_chain]


@pytest.mark.parametrize("w", MODELS, ids=[w.name for w in MODELS])
def test_every_implementation_trains_like_autograd(w):
    # equal losses over several SGD steps mean equal gradients, step after step
    ref = workloads.tinygrad_step(w)
    others = [workloads.numpy_step(w), workloads.tinygrad_nn_step(w), workloads.jit_step(w)]
    for _ in range(4):
        expected = ref()
        for other in others:
            np.testing.assert_allclose(other(), expected, rtol=1e-5)


def test_scalar_chain_gradient():
    w = workloads.quick(workloads.CHAIN)
    grad = workloads.tinygrad_step(w)()
    np.testing.assert_allclose(grad, 1.0001 ** (w.chain_nodes // 2), rtol=1e-3)


def test_disagreeing_implementations_are_refused():
    steps = {"numpy": lambda: 1.0, "tinygrad_np": lambda: 1.5}
    with pytest.raises(RuntimeError, match="spiral: tinygrad_np gives losses"):
        run.check_agreement(workloads.SPIRAL, steps)


def test_threads_are_compared_when_a_list_is_given(capsys):
    if importlib.util.find_spec("threadpoolctl") is None:
        pytest.skip("needs threadpoolctl")
    returned = run.main(["--quick", "--no-torch", "--workloads", "a", "--threads", "1,2"])
    stdout = capsys.readouterr().out
    assert "threads (median step time with each BLAS thread count):" in stdout
    assert {r["threads"] for r in returned["rows"]} == {1, 2} or {
        r["threads"] for r in returned["rows"]
    } == {1}  # a BLAS built for one thread stays at one
    table = stdout.split("threads (median")[1]
    assert "spiral    tinygrad_np.jit" in table and "2 / 1" in table


def test_a_bad_thread_list_is_refused():
    with pytest.raises(SystemExit):
        run.parse_args(["--threads", "1,x"])


def test_command_cases_are_valid_command_lines_and_runs_are_measured():
    from benchmarks import commands
    from tinygrad_np import cli

    for name, command in commands.cases(quick=True):
        if command[:3] == [sys.executable, "-m", "tinygrad_np"]:
            cli.parse_args(command[3:])  # exits on a flag the command does not know
        else:
            assert Path(command[1]).exists(), name
    seconds, faults = commands.run_once([sys.executable, "-c", "pass"])
    assert seconds > 0 and faults >= 0
    table = commands.format_rows([{"case": "x", "seconds": 1.5, "minor_faults": 1234}])
    assert "1.50" in table and "1,234" in table
