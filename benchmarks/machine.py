"""The machine a benchmark runs on: BLAS and PyTorch thread counts, and the header lines."""

from __future__ import annotations

import contextlib
import os
import platform
from typing import Any

import numpy as np


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


def set_threads(n: int, torch: Any = None) -> None:
    """NumPy's BLAS (and PyTorch, when given) on ``n`` threads from now on."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n, user_api="blas")
    if torch is not None:
        torch.set_num_threads(n)
