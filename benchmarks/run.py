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
from benchmarks.machine import (  # noqa: E402
    blas_info,
    limit_blas_threads,
    machine,
    set_threads,
    setup_torch,
)
from benchmarks.report import TARGETS, format_table, rows_of, thread_table  # noqa: E402, F401

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


def interleaved(
    steps: dict[Any, wl.Step], repeats: int, block: int, setup: Any = None
) -> dict[Any, list[float]]:
    """Per-step seconds of each implementation, ``repeats`` blocks of ``block`` steps each;
    ``setup(name)``, when given, runs untimed before each block (a thread count, say); when
    it says it changed something, one untimed step follows."""
    names = list(steps)
    times: dict[Any, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        for n in names if r % 2 == 0 else reversed(names):  # nobody always goes first
            step = steps[n]
            if setup is not None and setup(n):
                step()  # untimed: a thread pool that just grew or shrank settles first
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


def check_agreement(w: wl.Workload, steps: dict[str, wl.Step]) -> dict[str, float]:
    """The same initial weights must give the same first two losses everywhere. Returns, for
    a compiled step, the seconds of the call that recorded and compiled it."""
    first, recorded = {}, {}
    for n, s in steps.items():
        losses = []
        for _ in range(2):
            t0 = time.perf_counter()
            losses.append(s())
            seconds = time.perf_counter() - t0
            compiled = getattr(s, "compiled", None)
            if compiled is not None and compiled.compiled and n not in recorded:
                recorded[n] = seconds
        first[n] = tuple(losses)
    ref_name, ref = next(iter(first.items()))
    for n, losses in first.items():
        if not np.allclose(losses, ref, rtol=1e-4, atol=1e-5):
            raise RuntimeError(f"{w.name}: {n} gives losses {losses}, {ref_name} gives {ref}")
    return recorded


def measure(
    w: wl.Workload, impls: Sequence[str], args: argparse.Namespace, counts: Sequence = (None,),
    torch: Any = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Time and memory of each implementation on one workload, at each BLAS thread count in
    ``counts`` (None: BLAS's own), one result per count.

    NumPy and tinygrad_np share one BLAS and are interleaved, and so are the thread counts
    (set before each block, untimed), so load that comes and goes hits them all alike.
    PyTorch runs in a phase of its own: its OpenMP threads and OpenBLAS's busy-waiting ones
    fight over the cores when the libraries alternate step by step, which slows both by
    several times on a small machine.
    """
    keys = [(n, c) for c in counts for n in impls]
    steps = {k: wl.IMPLEMENTATIONS[k[0]](w, args.seed) for k in keys}

    current: list = [None]

    def use(key: tuple) -> bool:  # switch threads only when the count changes
        if key[1] is not None and key[1] != current[0]:
            set_threads(key[1], torch)
            current[0] = key[1]
            return True
        return False

    recorded: dict[tuple, float] = {}
    for c in counts:
        use(("numpy", c))
        found = check_agreement(w, {n: steps[(n, c)] for n in impls})
        recorded.update({(n, c): seconds for n, seconds in found.items()})
    results = {c: {"workload": w.name, "title": w.title, "impls": {}, "threads": c}
               for c in counts}  # fmt: skip
    times: dict[tuple, list[float]] = {}
    phases = [[k for k in keys if k[0] != "torch"], [k for k in keys if k[0] == "torch"]]
    for phase in filter(None, phases):
        time.sleep(args.pause)  # let the other library's worker threads fall asleep
        for k in phase:
            use(k)
            for _ in range(args.warmup):
                steps[k]()
        if w.is_chain or args.max_block == 1:
            block = 1
        else:  # blocks of a few milliseconds: long enough to time, short enough to interleave
            slowest = max(use(k) or min_time(steps[k]) for k in phase)
            block = max(1, min(args.max_block, int(args.block_seconds / slowest)))
        repeats = min(args.repeats, args.chain_repeats) if w.is_chain else args.repeats
        times.update(interleaved({k: steps[k] for k in phase}, repeats, block, use))
        for k in phase:
            use(k)
            n, entry = (
                k[0],
                {
                    "median_s": median(times[k]),
                    "min_s": min(times[k]),
                    "samples": len(times[k]),
                    "steps_per_sample": block,
                    "peak_bytes": None if k[0] == "torch" else peak_bytes(steps[k]),
                },
            )
            compiled = getattr(steps[k], "compiled", None)
            if compiled is not None:  # the temporaries' buffers it keeps between calls count
                # too; its gradients' buffers are what .grad holds after any step, eager too
                entry["peak_bytes"] += compiled.nbytes
                entry["held_bytes"] = compiled.nbytes
                entry["record_s"] = recorded.get(k)
                entry["compiled"] = compiled.compiled
            results[k[1]]["impls"][n] = entry
    for c in counts:
        if ("numpy", c) in times:
            # the same ratios taken round by round: shows how much the noise moved them
            results[c]["paired_ratio_median"] = {
                n: median(t / b for t, b in zip(times[(n, c)], times[("numpy", c)]))
                for n in impls
                if n.startswith("tinygrad_np")
            }
    return [results[c] for c in counts]


def min_time(step: wl.Step, tries: int = 3) -> float:
    best = float("inf")
    for _ in range(tries):
        t0 = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - t0)
    return best


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


def _counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected thread counts like 1 or 1,2, got {text!r}"
        ) from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"thread counts must be positive, got {text!r}")
    return counts


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
    p.add_argument(
        "--threads",
        type=_counts,
        help="BLAS and PyTorch threads, or a list to compare (1,2) (default: BLAS's own)",
    )
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


def run_all(chosen: list, args: argparse.Namespace, results: list) -> dict:
    """Measure every chosen workload at each thread count of ``--threads``."""
    counts = args.threads or [None]
    with contextlib.ExitStack() as stack:  # thread limits and the frozen GC last for this run
        if counts[0]:
            stack.enter_context(limit_blas_threads(max(counts)))  # restored at the end
        blas_line, threads = blas_info()
        if args.no_torch:
            torch, torch_line = None, "left out (--no-torch)"
        else:
            torch, torch_line = setup_torch(threads, stack)
        stack.enter_context(frozen_gc(not args.no_gc_freeze))
        info = machine(torch_line, blas_line)
        info["gc"] = "frozen after imports" if not args.no_gc_freeze else "not frozen"
        if counts[0]:
            info["threads"] = f"{', '.join(map(str, counts))} (interleaved, set before each block)"
        for k, v in info.items():
            print(f"{k + ':':10} {v}")
        if args.quick:
            print("quick mode: few repeats and a 2,000-node chain; the targets mean little here")
        print()
        for w in chosen:
            impls = ["tinygrad_np"]
            if not w.is_chain:
                impls = ["numpy", "tinygrad_np", "tinygrad_np.nn", "tinygrad_np.jit"]
            impls += ["torch"] * (torch is not None)
            found = measure(w, impls, args, counts if counts[0] else [None], torch)
            for result in found:
                result["threads"] = result["threads"] or threads
            results.extend(found)
    return info


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmarks, print the table, and return everything that was measured."""
    args = parse_args(argv)
    if args.profile:
        (w,) = pick(args.profile)
        with contextlib.ExitStack() as stack:  # --threads holds for the profile too
            if args.threads:
                stack.enter_context(limit_blas_threads(args.threads[0]))
            stack.enter_context(frozen_gc(not args.no_gc_freeze))
            profile(wl.quick(w) if args.quick else w, args.steps, args.top, args.seed, args.impl)
        return {}
    chosen = [wl.quick(w) if args.quick else w for w in pick(args.workloads)]
    results: list[dict[str, Any]] = []
    info = run_all(chosen, args, results)
    rows = [row for r in results for row in rows_of(r)]
    print(format_table(rows))
    for r in results:
        blocks = ", ".join(f"{n} {v['steps_per_sample']}" for n, v in r["impls"].items())
        print(f"{r['workload']}: {r['title']}; steps per timed block: {blocks}")
        jit = r["impls"].get("tinygrad_np.jit")
        if jit is not None and jit.get("record_s") is not None:
            print(f"  tinygrad_np.jit: the call that recorded and compiled the step took "
                  f"{_ms(jit['record_s'])}; it keeps {jit['held_bytes'] / 2**10:.0f} KiB of "
                  "buffers for temporaries between calls (counted in its peak)")  # fmt: skip
    if len(args.threads or []) > 1:
        print("\nthreads (median step time with each BLAS thread count):")
        print(thread_table(rows))
    report = {"machine": info, "quick": args.quick, "results": results, "rows": rows}
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")
    return report


if __name__ == "__main__":
    main()
