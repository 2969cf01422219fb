"""Process settings that make small models fast: BLAS threads and the allocator's thresholds.

Neither is changed on import; a program that owns its process (the ``tinygrad-np`` command,
an example script) calls them, and says so.

- ``set_num_threads(n)``: the threads NumPy's BLAS uses (through ``threadpoolctl``). A small
  model's matrix products are too short to split: on a two-core machine with other work
  running, two BLAS threads made ``examples/sine_regression.py`` 20 times slower than one
  (``benchmarks/README.md`` has the measurements).
- ``tune_malloc()``: glibc's ``malloc`` gives freed memory back to the kernel above a trim
  threshold and serves large blocks with ``mmap``; a step that frees and re-allocates a few
  hundred kilobytes then faults those pages in again at every step. Raising both thresholds
  keeps the memory in the process (a compiled step, ``tg.jit``, reuses its buffers and needs
  no help).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
from typing import Any

M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_MAX = 32 * 2**20  # glibc's ceiling on 64-bit systems (HEAP_MAX_SIZE / 2)


def _threadpoolctl() -> Any:
    try:
        import threadpoolctl
    except ImportError:
        raise ImportError(
            "set_num_threads needs the threadpoolctl package: pip install threadpoolctl"
        ) from None
    return threadpoolctl


def get_num_threads() -> int | None:
    """The threads NumPy's BLAS uses now (None when no BLAS thread pool is found)."""
    pools = [p for p in _threadpoolctl().threadpool_info() if p.get("user_api") == "blas"]
    return max(p["num_threads"] for p in pools) if pools else None


def set_num_threads(n: int) -> int | None:
    """Let NumPy's BLAS use ``n`` threads from now on; returns the previous count.

    >>> import tinygrad_np as tg
    >>> previous = tg.set_num_threads(1)
    >>> tg.get_num_threads()
    1
    >>> _ = tg.set_num_threads(previous)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive integer, got {n!r}")
    previous = get_num_threads()
    _threadpoolctl().threadpool_limits(limits=n, user_api="blas")
    return previous


THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
SMALL_MODEL_THREADS = 1  # the fastest for the book's networks (benchmarks/README.md)


def threads_for_small_models(requested: int | None = None) -> int:
    """The BLAS thread count a script training a small model should set: ``requested`` if
    given, else the count an environment variable (``OPENBLAS_NUM_THREADS``, ...) asks for,
    else 1, the fastest for small networks (measured in benchmarks/README.md).

    >>> threads_for_small_models(4)
    4
    """
    if requested is not None:
        return requested
    for name in THREAD_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return SMALL_MODEL_THREADS


def tune_malloc(
    trim_threshold: int = 256 * 2**20, mmap_threshold: int = MMAP_THRESHOLD_MAX
) -> bool:
    """Raise glibc's trim and mmap thresholds (``mallopt``), so that memory freed by one
    training step serves the next without page faults. Returns True when applied; on other C
    libraries (macOS, Windows, musl) it does nothing and returns False. The setting lasts
    for the process: call it from a program that owns its process, never from a library.

    >>> import tinygrad_np as tg
    >>> tg.tune_malloc() in (True, False)
    True
    """
    for name, value in (("trim_threshold", trim_threshold), ("mmap_threshold", mmap_threshold)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"tune_malloc: {name} must be a non-negative integer, got {value!r}")
    if mmap_threshold > MMAP_THRESHOLD_MAX:
        raise ValueError(
            f"tune_malloc: mmap_threshold must be at most {MMAP_THRESHOLD_MAX} (glibc's limit), "
            f"got {mmap_threshold}"
        )
    mallopt = _mallopt()
    if mallopt is None:
        return False
    return bool(mallopt(M_TRIM_THRESHOLD, trim_threshold)) and bool(
        mallopt(M_MMAP_THRESHOLD, mmap_threshold)
    )


def _mallopt() -> Any:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is not None:
        mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt
