"""The table ``run.py`` prints: ratios to hand-written NumPy, the targets, and what the
compiled step costs to record; the comparison of BLAS thread counts."""

from __future__ import annotations

from typing import Any

# tinygrad_np / numpy ratios to meet; the chain has an absolute limit in seconds instead
TARGETS: dict[str, dict[str, float]] = {
    "spiral": {"time": 1.10},
    "mlp": {"time": 1.05, "memory": 1.2},
    "deep": {"time": 1.5},
    "chain": {"seconds": 1.0},
    "conv": {"time": 1.3, "memory": 1.5},
}
# the compiled step (tg.jit): time against NumPy; memory (its step's peak plus the buffers it
# keeps) against the eager tinygrad_np.nn step; recording against eager steps
JIT_TARGETS: dict[str, dict[str, float]] = {
    "spiral": {"time": 0.95, "memory_vs_eager": 1.0, "record_steps": 5.0},
    "mlp": {"time": 1.00, "memory_vs_eager": 1.0, "record_steps": 5.0},
    "deep": {"time": 1.05, "memory_vs_eager": 1.0, "record_steps": 5.0},
    "conv": {"memory_vs_eager": 1.0, "record_steps": 5.0},
}


# ================================ the table ==================================================


def rows_of(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per implementation, with ratios to NumPy and the targets checked."""
    name, impls = result["workload"], result["impls"]
    base, eager = impls.get("numpy"), impls.get("tinygrad_np.nn")
    rows = []
    for impl, r in impls.items():
        row: dict[str, Any] = {"workload": name, "impl": impl, "step_s": r["median_s"]}
        row["threads"] = result.get("threads")
        row["peak_mib"] = None if r["peak_bytes"] is None else r["peak_bytes"] / 2**20
        row["time_ratio"] = r["median_s"] / base["median_s"] if base else None
        # the ratio round by round, then its median: when far from time_ratio, the run was noisy
        row["paired_ratio"] = result.get("paired_ratio_median", {}).get(impl)
        row["mem_ratio"] = None
        if base and r["peak_bytes"] is not None and base["peak_bytes"]:
            row["mem_ratio"] = r["peak_bytes"] / base["peak_bytes"]
        measured = {"time": row["time_ratio"], "memory": row["mem_ratio"],
                    "seconds": r["median_s"]}  # fmt: skip
        targets = TARGETS.get(name, {})
        if impl == "tinygrad_np.jit":
            targets = JIT_TARGETS.get(name, {})
            if eager and r["peak_bytes"] is not None and eager["peak_bytes"]:
                measured["memory_vs_eager"] = r["peak_bytes"] / eager["peak_bytes"]
            if eager and r.get("record_s") is not None:
                row["record_steps"] = r["record_s"] / eager["median_s"]
                measured["record_steps"] = row["record_steps"]
        checks = []
        if impl.startswith("tinygrad_np"):
            for kind, limit in targets.items():
                value = measured.get(kind)
                if value is not None:
                    ok = value < limit if kind == "seconds" else value <= limit
                    checks.append({"kind": kind, "limit": limit, "value": value, "passed": ok})
        row["targets"] = checks
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
    if t["kind"] == "memory_vs_eager":
        return f"memory {t['value']:.2f} <= {t['limit']:.2f}x eager"
    if t["kind"] == "record_steps":
        return f"recording {t['value']:.1f} <= {t['limit']:g} eager steps"
    return f"{t['kind']} <= {t['limit']:.2f}x"


def format_table(rows: list[dict[str, Any]]) -> str:
    """The table; a ``threads`` column after ``workload`` when several counts were run."""
    several = len({r.get("threads") for r in rows}) > 1
    header = ("workload", *(("threads",) if several else ()), "impl", "step (median)", "x numpy",
              "paired", "peak MiB", "x numpy", "target", "pass")  # fmt: skip
    lines = []
    for r in rows:
        ts = r["targets"] or [None]
        for i, t in enumerate(ts):
            first = i == 0
            lines.append((
                r["workload"] if first else "",
                *((str(r.get("threads")) if first else "",) if several else ()),
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


def thread_table(rows: list[dict[str, Any]]) -> str:
    """Median step time of every workload and implementation at each BLAS thread count."""
    counts = sorted({r["threads"] for r in rows if r["threads"] is not None})
    keys = list(dict.fromkeys((r["workload"], r["impl"]) for r in rows))
    by = {(r["workload"], r["impl"], r["threads"]): r["step_s"] for r in rows}
    header = ("workload", "impl", *[f"{n} thread{'s' * (n > 1)}" for n in counts])
    if len(counts) == 2:
        header += (f"{counts[1]} / {counts[0]}",)
    lines = []
    for w, impl in keys:
        times = [by.get((w, impl, n)) for n in counts]
        cells = [w, impl, *[_duration(t) if t is not None else "" for t in times]]
        if len(counts) == 2 and None not in times:
            cells.append(f"{times[1] / times[0]:.2f}")
        lines.append(tuple(cells))
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines]
    return "\n".join(out)
