"""Pass 4 of ``program``: which fresh arrays are written with ``out=`` into buffers kept from
call to call, and which share one (see ``program``'s docstring)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tinygrad_np.compiler.effects import (
    BINARY_UFUNCS,
    FILLS,
    OUT_METHODS,
    RNG_OUT,
    UNARY_UFUNCS,
    output_values,
    reads,
    storage,
    template_free,
    writes,
)
from tinygrad_np.compiler.recording import Op
from tinygrad_np.compiler.tracer import Sym, Traced

if TYPE_CHECKING:
    from tinygrad_np.compiler.program import Plan
    from tinygrad_np.compiler.record import Trace


def out_capable(op: Op) -> bool:
    """Whether the same call takes ``out=`` (and so can write into a kept buffer)."""
    if op.kind == "func":
        t = op.target
        if isinstance(t, np.ufunc):
            return True
        owner = getattr(t, "__self__", None)
        return isinstance(owner, np.ufunc) and t.__name__ in ("reduce", "accumulate")
    if op.kind == "method":
        return op.target in OUT_METHODS
    if op.kind == "binop":
        return op.target in BINARY_UFUNCS and all(
            type(a) in (Traced, Sym, int, float, bool) or isinstance(a, np.ndarray | np.generic)
            for a in op.args
        )
    if op.kind == "unary":
        return op.target in UNARY_UFUNCS
    if op.kind == "rng":
        return op.target in RNG_OUT
    return False


def assign_buffers(
    trace: Trace, ordered: list[Op], escaping: set[int], merged: dict[int, int], p: Plan
) -> None:
    persistent = {s.index for s in trace.rec.storages if s.persistent}
    last_use: dict[int, int] = {}
    for i, op in enumerate(ordered):
        read = set(reads(op)) if not template_free(op) else set()
        for s in read | writes(op) | {storage(v) for v in op.results}:
            if s is not None:
                last_use[merged.get(s, s)] = i
    dedicated = _gradient_storages(trace, merged, p.needed)
    free: dict[tuple, list[int]] = {}
    releases: dict[int, list[int]] = {}  # position -> storages whose last use it is
    holder: dict[int, int] = {}  # storage -> buffer index
    for i, op in enumerate(ordered):
        for s in releases.pop(i - 1, ()):  # a buffer is free after its last use
            b = holder[s]
            free.setdefault(_key(p.buffers[b]), []).append(b)
        if len(op.results) != 1 or "out" in op.kwargs or "where" in op.kwargs:
            continue
        v = op.results[0]
        if type(v) is not Traced or type(v.array) is not np.ndarray or v.array.base is not None:
            continue
        s = v.storage
        if s < 0 or s in persistent or (s in escaping and s not in dedicated):
            continue
        if v.index not in p.needed and s not in dedicated:
            continue
        fill = op.kind == "func" and op.target in FILLS
        if not (out_capable(op) or fill) or not (
            v.array.flags.c_contiguous or v.array.flags.f_contiguous
        ):
            continue
        key = _key(v.array)
        if free.get(key) and s not in dedicated:
            b = free[key].pop()
        else:
            b = len(p.buffers)
            p.buffers.append(np.empty_like(v.array))
        op.info["buffer"] = b
        holder[s] = b
        if s not in dedicated:
            releases.setdefault(max(last_use.get(s, i), i), []).append(s)
        else:  # a new gradient keeps its buffer: .grad holds it until the next call
            p.gradients.add(b)


def _gradient_storages(trace: Trace, merged: dict[int, int], needed: set[int]) -> set[int]:
    """Storages of new gradients a replay may keep in a buffer of their own: written fresh
    at each call, and not read by the step (it reads the previous gradient otherwise)."""
    rec = trace.rec
    reads_old_grad = {id(src[1]) for i, src in rec.inputs.items()
                      if src[0] == "grad" and i in needed}  # fmt: skip
    others = [storage(v) for v in output_values(trace.output)]
    out: set[int] = set()
    for wb in trace.writebacks:
        if wb[0] == "grad" and wb[2] is not None and id(wb[1]) not in reads_old_grad:
            st = storage(wb[3])
            if st is not None:
                out.add(merged.get(st, st))
    counted: dict[int, int] = {}
    for wb in trace.writebacks:
        if wb[0] == "grad" and wb[2] is not None and storage(wb[3]) is not None:
            st = merged.get(storage(wb[3]), storage(wb[3]))
            counted[st] = counted.get(st, 0) + 1
    return {st for st in out if counted.get(st) == 1 and st not in others}


def _key(a: np.ndarray) -> tuple:
    return a.shape, a.dtype.str, a.strides
