"""Per-step time and peak memory of tinygrad_np, hand-written NumPy and PyTorch, as a table.

    python benchmarks/run.py                     # every workload, full size
    python benchmarks/run.py --quick             # a few seconds: checks everything runs
    python benchmarks/run.py --workloads a,b --json results.json
    python benchmarks/run.py --profile spiral    # cProfile of tinygrad_np steps

Implementations are timed interleaved (a block of steps each, in turn, order reversed every
round) so that a noisy shared machine slows them alike; the ratio is taken between medians
of per-step times measured in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import json
import os
import platform
import pstats
import sys
import time
import tracemalloc
from collections.abc import Iterator, Sequence
from pathlib import Path
from statistics import median
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks import workloads as wl  # noqa: E402

# tinygrad_np / numpy ratios to meet; the chain has an absolute limit in seconds instead
TARGETS: dict[str, dict[str, float]] = {
    "spiral": {"time": 1.10},
    "mlp": {"time": 1.05, "memory": 1.2},
    "deep": {"time": 1.5},
    "chain": {"seconds": 1.0},
    "conv": {"time": 1.3, "memory": 1.5},
}


# ================================ the machine ================================================


def limit_blas_threads(n: int) -> Any:
    """A context in which NumPy's BLAS uses at most ``n`` threads."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise SystemExit("run.py: --threads needs threadpoolctl") from None
    return threadpool_limits(limits=n, user_api="blas")


def blas_info() -> tuple[str, int | None]:
    """A one-line description of NumPy's BLAS and its thread count (None when unknown)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed", None
    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    if not pools:
        return "no BLAS thread pool found", None
    p = pools[0]
    text = f"{p.get('internal_api')} {p.get('version')} ({p.get('threading_layer')}), "
    return text + f"{p['num_threads']} threads", int(p["num_threads"])


def setup_torch(threads: int | None, stack: contextlib.ExitStack) -> tuple[Any, str]:
    """Import torch with as many threads as NumPy's BLAS; (None, why) when it is missing.

    The previous thread count comes back when ``stack`` closes.
    """
    try:
        import torch
    except ImportError:
        return None, "not installed"
    n = threads or os.cpu_count() or 1
    stack.callback(torch.set_num_threads, torch.get_num_threads())
    torch.set_num_threads(n)
    how = "= BLAS threads" if threads else "= CPU count, BLAS threads unknown"
    return torch, f"{torch.__version__}, {torch.get_num_threads()} threads ({how})"


def machine(torch_line: str, blas_line: str) -> dict[str, str]:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return {
        "platform": platform.platform(),
        "cpus": f"{os.cpu_count()} (load average {load}: other work slows and skews timings)",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_line,
        "torch": torch_line,
    }


# ================================ measuring ==================================================


@contextlib.contextmanager
def frozen_gc(freeze: bool = True) -> Iterator[None]:
    """Move every object alive now out of the garbage collector's sight while measuring.

    A graph of Python objects is traversed by each full collection, and so is every object
    of every imported library: PyTorch alone adds about 150,000, which would slow
    tinygrad_np's 100,000-node chain by a quarter in this process but not in a user's.
    """
    if not freeze:
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def interleaved(steps: dict[str, wl.Step], repeats: int, block: int) -> dict[str, list[float]]:
    """Per-step seconds of each implementation, ``repeats`` blocks of ``block`` steps each."""
    names = list(steps)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        for n in names if r % 2 == 0 else reversed(names):  # nobody always goes first
            step = steps[n]
            t0 = time.perf_counter()
            for _ in range(block):
                step()
            times[n].append((time.perf_counter() - t0) / block)
    return times


def peak_bytes(step: wl.Step) -> int:
    """The most memory held at once during one step, beyond what existed before it.

    NumPy reports its array buffers to tracemalloc, so this counts arrays and Python objects
    (Tensors, graph nodes) alike; PyTorch's allocator is invisible to it.
    """
    gc.collect()
    tracemalloc.start()
    try:
        step()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def check_agreement(w: wl.Workload, steps: dict[str, wl.Step]) -> None:
    """The same initial weights must give the same first two losses everywhere."""
    first = {n: (s(), s()) for n, s in steps.items()}
    ref_name, ref = next(iter(first.items()))
    for n, losses in first.items():
        if not np.allclose(losses, ref, rtol=1e-4, atol=1e-5):
            raise RuntimeError(f"{w.name}: {n} gives losses {losses}, {ref_name} gives {ref}")


def measure(w: wl.Workload, impls: Sequence[str], args: argparse.Namespace) -> dict[str, Any]:
    """Time and memory of each implementation on one workload.

    NumPy and tinygrad_np share one BLAS and are interleaved. PyTorch runs in a phase of its
    own: its OpenMP threads and OpenBLAS's busy-waiting ones fight over the cores when the
    libraries alternate step by step, which slows both by several times on a small machine.
    """
    steps = {n: wl.IMPLEMENTATIONS[n](w, args.seed) for n in impls}
    check_agreement(w, steps)
    result: dict[str, Any] = {"workload": w.name, "title": w.title, "impls": {}}
    times: dict[str, list[float]] = {}
    phases = [[n for n in impls if n != "torch"], [n for n in impls if n == "torch"]]
    for phase in filter(None, phases):
        time.sleep(args.pause)  # let the other library's worker threads fall asleep
        for n in phase:
            for _ in range(args.warmup):
                steps[n]()
        if w.is_chain or args.max_block == 1:
            block = 1
        else:  # blocks of a few milliseconds: long enough to time, short enough to interleave
            slowest = max(min_time(steps[n]) for n in phase)
            block = max(1, min(args.max_block, int(args.block_seconds / slowest)))
        repeats = min(args.repeats, args.chain_repeats) if w.is_chain else args.repeats
        times.update(interleaved({n: steps[n] for n in phase}, repeats, block))
        for n in phase:
            result["impls"][n] = {
                "median_s": median(times[n]),
                "min_s": min(times[n]),
                "samples": len(times[n]),
                "steps_per_sample": block,
                "peak_bytes": None if n == "torch" else peak_bytes(steps[n]),
            }
    if "numpy" in times:
        # the same ratios taken round by round: shows how much the noise moved them
        result["paired_ratio_median"] = {
            n: median(t / b for t, b in zip(times[n], times["numpy"]))
            for n in times
            if n.startswith("tinygrad_np")
        }
    return result


def min_time(step: wl.Step, tries: int = 3) -> float:
    best = float("inf")
    for _ in range(tries):
        t0 = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - t0)
    return best


# ================================ the table ==================================================


def rows_of(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per implementation, with ratios to NumPy and the targets checked."""
    name, impls = result["workload"], result["impls"]
    base = impls.get("numpy")
    targets = TARGETS.get(name, {})
    rows = []
    for impl, r in impls.items():
        row: dict[str, Any] = {"workload": name, "impl": impl, "step_s": r["median_s"]}
        row["peak_mib"] = None if r["peak_bytes"] is None else r["peak_bytes"] / 2**20
        row["time_ratio"] = r["median_s"] / base["median_s"] if base else None
        # the ratio round by round, then its median: when far from time_ratio, the run was noisy
        row["paired_ratio"] = result.get("paired_ratio_median", {}).get(impl)
        row["mem_ratio"] = None
        if base and r["peak_bytes"] is not None and base["peak_bytes"]:
            row["mem_ratio"] = r["peak_bytes"] / base["peak_bytes"]
        checks = []
        if impl.startswith("tinygrad_np"):
            if "time" in targets and row["time_ratio"] is not None:
                checks.append(("time", targets["time"], row["time_ratio"] <= targets["time"]))
            if "memory" in targets and row["mem_ratio"] is not None:
                checks.append(("memory", targets["memory"], row["mem_ratio"] <= targets["memory"]))
            if "seconds" in targets:
                checks.append(("seconds", targets["seconds"], r["median_s"] < targets["seconds"]))
        row["targets"] = [{"kind": k, "limit": lim, "passed": ok} for k, lim, ok in checks]
        rows.append(row)
    return rows


def _duration(s: float) -> str:
    if s >= 1:
        return f"{s:.3f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3f} ms"
    return f"{s * 1e6:.1f} us"


def _target_text(t: dict[str, Any]) -> str:
    if t["kind"] == "seconds":
        return f"< {t['limit']:g} s"
    return f"{t['kind']} <= {t['limit']:.2f}x"


def format_table(rows: list[dict[str, Any]]) -> str:
    header = ("workload", "impl", "step (median)", "x numpy", "paired", "peak MiB", "x numpy",
              "target", "pass")  # fmt: skip
    lines = []
    for r in rows:
        ts = r["targets"] or [None]
        for i, t in enumerate(ts):
            first = i == 0
            lines.append((
                r["workload"] if first else "",
                r["impl"] if first else "",
                _duration(r["step_s"]) if first else "",
                f"{r['time_ratio']:.2f}" if first and r["time_ratio"] is not None else "",
                f"{r['paired_ratio']:.2f}" if first and r["paired_ratio"] is not None else "",
                f"{r['peak_mib']:.3f}" if first and r["peak_mib"] is not None else
                ("n/a" if first else ""),
                f"{r['mem_ratio']:.2f}" if first and r["mem_ratio"] is not None else "",
                _target_text(t) if t else "",
                ("PASS" if t["passed"] else "FAIL") if t else "",
            ))  # fmt: skip
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines]
    return "\n".join(out)


# ================================ profiling ==================================================


def profile(w: wl.Workload, steps: int, top: int, seed: int, impl: str) -> pstats.Stats:
    """cProfile over ``steps`` steps of ``impl`` (after one warm-up step), top by tottime."""
    step = wl.IMPLEMENTATIONS[impl](w, seed)
    step()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        step()
    prof.disable()
    stats = pstats.Stats(prof, stream=sys.stdout)
    print(f"cProfile: {steps} {impl} steps of {w.title}, top {top} by tottime")
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    return stats


# ================================ command line ===============================================


def pick(spec: str) -> list[wl.Workload]:
    """Workloads by letter or name, comma-separated: 'a,b' or 'spiral,mlp'."""
    chosen = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        match = [w for w in wl.WORKLOADS if part in (w.key, w.name)]
        if not match:
            known = ", ".join(f"{w.key}={w.name}" for w in wl.WORKLOADS)
            raise SystemExit(f"run.py: unknown workload {part!r}; choose from {known}")
        chosen += match
    return chosen


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="few repeats, small chain: seconds")
    p.add_argument("--workloads", default="a,b,c,d,e", help="letters or names, e.g. a,b or mlp")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--profile", metavar="WORKLOAD", help="cProfile one workload's steps")
    p.add_argument("--steps", type=int, default=200, help="steps to profile (default 200)")
    p.add_argument("--top", type=int, default=25, help="functions the profile prints")
    p.add_argument(
        "--impl",
        default="tinygrad_np",
        choices=sorted(wl.IMPLEMENTATIONS),
        help="what --profile runs (default tinygrad_np, raw Tensors)",
    )
    p.add_argument("--repeats", type=int, help="timed blocks per implementation")
    p.add_argument("--warmup", type=int, help="untimed steps per implementation")
    p.add_argument("--threads", type=int, help="BLAS and PyTorch threads (default: BLAS's own)")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    p.add_argument(
        "--no-gc-freeze", action="store_true", help="let the GC see imported libraries' objects"
    )
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    args.repeats = args.repeats or (3 if args.quick else 31)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 10)
    args.chain_repeats = 7  # a chain step takes about a second
    args.block_seconds = 0.0 if args.quick else 0.01
    args.max_block = 1 if args.quick else 200
    args.pause = 0.0 if args.quick else 0.3
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmarks, print the table, and return everything that was measured."""
    args = parse_args(argv)
    if args.profile:
        (w,) = pick(args.profile)
        with contextlib.ExitStack() as stack:  # --threads holds for the profile too
            if args.threads:
                stack.enter_context(limit_blas_threads(args.threads))
            stack.enter_context(frozen_gc(not args.no_gc_freeze))
            profile(wl.quick(w) if args.quick else w, args.steps, args.top, args.seed, args.impl)
        return {}
    chosen = [wl.quick(w) if args.quick else w for w in pick(args.workloads)]
    with contextlib.ExitStack() as stack:  # thread limits and the frozen GC last for this run
        if args.threads:
            stack.enter_context(limit_blas_threads(args.threads))
        blas_line, threads = blas_info()
        if args.no_torch:
            torch, torch_line = None, "left out (--no-torch)"
        else:
            torch, torch_line = setup_torch(threads, stack)
        stack.enter_context(frozen_gc(not args.no_gc_freeze))
        info = machine(torch_line, blas_line)
        info["gc"] = "frozen after imports" if not args.no_gc_freeze else "not frozen"
        for k, v in info.items():
            print(f"{k + ':':10} {v}")
        if args.quick:
            print("quick mode: few repeats and a 2,000-node chain; the targets mean little here")
        print()
        results = []
        for w in chosen:
            impls = ["tinygrad_np"] if w.is_chain else ["numpy", "tinygrad_np", "tinygrad_np.nn"]
            results.append(measure(w, impls + ["torch"] * (torch is not None), args))
    rows = [row for r in results for row in rows_of(r)]
    print(format_table(rows))
    for r in results:
        blocks = ", ".join(f"{n} {v['steps_per_sample']}" for n, v in r["impls"].items())
        print(f"{r['workload']}: {r['title']}; steps per timed block: {blocks}")
    report = {"machine": info, "quick": args.quick, "results": results, "rows": rows}
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")
    return report


if __name__ == "__main__":
    main()
