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
        return op.target in OUT_METHODS or copy_into(op)
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


def copy_into(op: Op) -> bool:
    """A method that makes a copy (``x.copy()``, ``x.astype(t)``, a ``reshape`` that could
    not be a view): ``np.copyto`` into a kept buffer writes the same elements, cast the
    same way."""
    if type(op.args[0]) is not Traced or type(op.args[0].array) is not np.ndarray:
        return False
    if len(op.results) != 1 or type(op.results[0]) is not Traced:
        return False
    src, out = op.args[0].array, op.results[0].array
    if type(out) is not np.ndarray or not op.results[0].rec.fresh(op.results[0]):
        return False
    if op.target == "copy":
        return len(op.args) == 1 and not op.kwargs
    if op.target == "astype":
        return len(op.args) == 2 and set(op.kwargs) <= {"copy"} and out.shape == src.shape
    if op.target == "reshape":  # it copied: the result is C-ordered, so it reshapes back
        return not op.kwargs and out.flags.c_contiguous
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
    # Each kept array holds one value at a time. A value takes a free one of its own shape and
    # layout (the fastest out=), else a view of a free larger one (less memory), else a new one.
    owners: list[np.ndarray] = []
    keys: list[tuple] = []  # each owner's shape, dtype and strides
    free: list[int] = []
    releases: dict[int, list[int]] = {}  # position -> storages whose last use it is
    holder: dict[int, int] = {}  # storage -> owner
    for i, op in enumerate(ordered):
        for s in releases.pop(i - 1, ()):  # an owner is free after its holder's last use
            free.append(holder[s])
        if len(op.results) != 1 or "out" in op.kwargs or "where" in op.kwargs:
            continue
        v = op.results[0]
        if type(v) is not Traced or type(v.array) is not np.ndarray or not trace.rec.fresh(v):
            continue
        s = v.storage
        if s < 0 or s in persistent or (s in escaping and s not in dedicated):
            continue
        if v.index not in p.needed and s not in dedicated:
            continue
        fill = op.kind == "func" and op.target in FILLS
        if not (out_capable(op) or fill) or not _dense(v.array):
            continue
        like = v.array
        key = _key(like)
        same = [o for o in free if keys[o] == key]
        larger = [o for o in free if owners[o].nbytes >= like.nbytes
                  and owners[o].flags.c_contiguous]  # fmt: skip
        if s in dedicated or not (same or larger):
            owner, buffer = len(owners), np.empty_like(like)
            owners.append(buffer)
            keys.append(_key(buffer))
        else:
            owner = same[0] if same else min(larger, key=lambda o: owners[o].nbytes)
            free.remove(owner)
            buffer = owners[owner] if same else _view(owners[owner], like)
        op.info["buffer"] = len(p.buffers)
        p.buffers.append(buffer)
        holder[s] = owner
        if s in dedicated:  # a new gradient keeps its memory: .grad holds it until next call
            p.gradients.add(owner)
        else:
            releases.setdefault(max(last_use.get(s, i), i), []).append(s)
    p.arenas = owners


def _dense(a: np.ndarray) -> bool:
    """Whether ``a`` fills its memory without gaps, in some order of its axes (a ufunc's
    result keeps its input's layout: a transposed input gives a transposed result)."""
    step = a.itemsize
    for stride, n in sorted(zip(a.strides, a.shape)):
        if n > 1 and stride != step:
            return False
        step *= n
    return True


def _view(owner: np.ndarray, like: np.ndarray) -> np.ndarray:
    """An array shaped, typed and laid out like ``like``, in the memory of ``owner``."""
    return np.ndarray(like.shape, like.dtype, buffer=owner, offset=0, strides=like.strides)


def _key(a: np.ndarray) -> tuple:
    return a.shape, a.dtype.str, a.strides


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
