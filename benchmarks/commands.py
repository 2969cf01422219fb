"""Whole programs, timed from the outside: the command line and an example, with and without
the compiled step, malloc tuning and a second BLAS thread; wall time and minor page faults.

    python benchmarks/commands.py                 # every case, 3 runs each (several minutes)
    python benchmarks/commands.py --quick         # few epochs: checks that everything runs
    python benchmarks/commands.py --json out.json

Each case runs as its own process (the settings are process-wide); runs are interleaved case
by case, so load from other programs hits the cases alike, and the medians are reported.
Minor page faults come from ``resource.getrusage(RUSAGE_CHILDREN)`` around each run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "tinygrad_np", "train", "spiral", "--no-progress"]
WIDE = ["--hidden", "512", "--epochs", "2001"]  # activations of 600 KB: the page-fault case
SINE = [sys.executable, str(ROOT / "examples" / "sine_regression.py")]


def cases(quick: bool) -> list[tuple[str, list[str]]]:
    """(name, command) pairs. The wide spiral shows page faults; the default spiral and the
    sine example show threads."""
    wide = ["--hidden", "512", "--epochs", "101"] if quick else WIDE
    epochs = ["--epochs", "201"] if quick else []
    out = [
        ("spiral 512 wide, eager, glibc defaults", CLI + wide + ["--no-jit", "--no-malloc-tuning"]),
        ("spiral 512 wide, eager, tune_malloc", CLI + wide + ["--no-jit"]),
        ("spiral 512 wide, jit, glibc defaults", CLI + wide + ["--no-malloc-tuning"]),
        ("spiral 512 wide, jit, tune_malloc (default)", CLI + wide),
    ]
    for threads in ("1", "2"):
        out.append(
            (f"spiral (default run), {threads} thread(s)", CLI + epochs + ["--threads", threads])
        )
        out.append((f"spiral (default run), eager, {threads} thread(s)",
                    CLI + epochs + ["--threads", threads, "--no-jit"]))  # fmt: skip
        sine_epochs = ["--epochs", "201"] if quick else []
        out.append((f"examples/sine_regression.py, {threads} thread(s)",
                    SINE + sine_epochs + ["--threads", threads]))  # fmt: skip
    return out


def run_once(command: list[str]) -> tuple[float, int]:
    """Seconds and minor page faults of one run of ``command``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt
    t0 = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"commands.py: {' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt - before


def measure(repeats: int, quick: bool) -> list[dict[str, Any]]:
    chosen = cases(quick)
    samples: dict[str, list[tuple[float, int]]] = {name: [] for name, _ in chosen}
    for r in range(repeats):
        order = chosen if r % 2 == 0 else list(reversed(chosen))  # nobody always goes first
        for name, command in order:
            samples[name].append(run_once(command))
    rows = []
    for name, command in chosen:
        times = [s for s, _ in samples[name]]
        faults = [f for _, f in samples[name]]
        rows.append({"case": name, "command": " ".join(command[1:]), "seconds": median(times),
                     "min_seconds": min(times), "minor_faults": int(median(faults)),
                     "runs": len(times)})  # fmt: skip
    return rows


def format_rows(rows: list[dict[str, Any]]) -> str:
    header = ("case", "seconds (median)", "minor page faults")
    lines = [(r["case"], f"{r['seconds']:.2f}", f"{r['minor_faults']:,}") for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(line, widths)) for line in lines]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="few epochs and one run: seconds")
    p.add_argument("--repeats", type=int, help="runs of each case (default 3, quick 1)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = p.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(f"cpus: {os.cpu_count()} (load average {load}); {repeats} run(s) of each case\n")
    rows = measure(repeats, args.quick)
    print(format_rows(rows))
    if args.json:
        Path(args.json).write_text(json.dumps({"load": load, "rows": rows}, indent=2) + "\n")
        print(f"wrote {args.json}")
    return rows


if __name__ == "__main__":
    main()
