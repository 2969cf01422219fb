"""From a recording's log to the plan of a replay: what runs, in which order, into which buffer.

Four passes, each keeping the values a replay computes bit for bit equal to the eager step's
(the same NumPy calls on the same dtypes; only *where* a result is written and *when* a pure
operation runs may change; ``faster`` then spells a few calls in a faster form that gives the
same bits):

1. **Liveness.** An operation is kept when its result is returned or written back (new
   gradients, new step counts), when it changes state that outlives the step (parameters,
   optimizer state, the random generator), when it is a guard, or when a kept operation needs
   what it computed. The rest (a loss nobody returns, the seed of backward) is dropped.
2. **Constants.** Operations that read no input (``arange(n)``, ``ones_like(loss)``) run once,
   at recording; their values are bound into the code.
3. **Guards first.** A truth test on a traced value (a label check, ``if loss > 1``) moves to
   the top together with what it depends on, so a replay that takes another branch bails out
   before it has changed anything; a guard that needs changed state is refused.
4. **Buffers.** A fresh array that does not outlive the step is written with ``out=`` into a
   buffer kept from call to call; arrays whose lives do not overlap share one (same shape,
   dtype and layout as the eager result, so every later call sees the memory it expects).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_np.compiler.buffers import assign_buffers
from tinygrad_np.compiler.effects import (
    RNG,
    creates,
    escaping,
    reads,
    sinks,
    storage,
    template_free,
    writes,
)
from tinygrad_np.compiler.record import Trace
from tinygrad_np.compiler.recording import JitError, Op, user_location
from tinygrad_np.compiler.tracer import Sym, Traced


@dataclass
class Plan:
    """What ``codegen`` writes: operations in order, constants, buffers, the values needed."""

    trace: Trace
    prologue: list[Op] = field(default_factory=list)  # guards and what they need
    constant_ops: list[Op] = field(default_factory=list)  # run once, at recording
    body: list[Op] = field(default_factory=list)
    needed: set[int] = field(default_factory=set)  # indices of values some kept op reads
    constants: dict[int, Any] = field(default_factory=dict)  # value index -> real value
    buffers: list[np.ndarray] = field(default_factory=list)  # the out= arrays, views of...
    arenas: list[np.ndarray] = field(default_factory=list)  # ...the memory kept between calls
    gradients: set[int] = field(default_factory=set)  # arenas that new gradients own
    rng_in_prologue: bool = False

    @property
    def nbytes(self) -> int:
        """Bytes of the memory that holds a step's temporaries between calls."""
        return sum(a.nbytes for i, a in enumerate(self.arenas) if i not in self.gradients)

    @property
    def gradient_nbytes(self) -> int:
        """Bytes of the memory new gradients are written into (what ``.grad`` holds)."""
        return sum(self.arenas[i].nbytes for i in self.gradients)


def plan(trace: Trace, strict: bool) -> Plan:
    rec = trace.rec
    ops = rec.ops
    p = Plan(trace)
    escaping_storages = escaping(trace)
    live = _liveness(trace, escaping_storages, p.needed)
    kept = [op for op, keep in zip(ops, live) if keep]
    _constants(trace, kept, escaping_storages, p)
    p.constant_ops = [op for op in kept if op.info.get("constant")]
    kept = [op for op in kept if not op.info.get("constant")]
    merged = _aliases(trace, kept, escaping_storages)
    p.prologue, p.body = _guards_first(trace, kept, strict)
    p.rng_in_prologue = any(op.kind == "rng" for op in p.prologue)
    assign_buffers(trace, p.prologue + p.body, escaping_storages, merged, p)
    return p


# ------------------------------------------------------------------ 1. liveness


def _liveness(trace: Trace, escaping: set[int], needed: set[int]) -> list[bool]:
    rec = trace.rec
    persistent = {s.index for s in rec.storages if s.persistent}
    need_s: set = set(escaping)
    for v in sinks(trace):
        needed.add(v.index)
    live = [False] * len(rec.ops)
    for i in range(len(rec.ops) - 1, -1, -1):
        op = rec.ops[i]
        changed = writes(op)
        keep = (
            op.kind in ("rng", "guard", "compare")
            or bool(changed & persistent)
            or any(r.index in needed for r in op.results)
            or bool(changed & need_s)
            or (op.returned is not None and op.returned.index in needed)
        )
        if not keep:
            continue
        live[i] = True
        need_s -= creates(op)
        out = op.kwargs.get("out")
        if out is not None and "where" not in op.kwargs:  # fully overwritten
            for t in out if isinstance(out, tuple) else (out,):
                if type(t) is Traced and t.array.base is None:
                    need_s.discard(t.storage)
        values = op.reads[1:] if template_free(op) else op.reads
        for v in values:
            needed.add(v.index)
        need_s |= {s for s in (storage(v) for v in values) if s is not None}
        if op.kind == "rng":
            need_s.add(RNG)
    return live


# ------------------------------------------------------------------ 2. constants


def _constants(trace: Trace, kept: list[Op], escaping: set[int], p: Plan) -> None:
    written_later: dict[int, int] = {}
    for i, op in enumerate(kept):
        for s in writes(op):
            written_later[s] = i
    constant_values: set[int] = set()
    # Arrays a replay checks are the very objects it recorded (parameters, optimizer state):
    # a view of one (a weight's .T) is the same view at every call, so it is made once.
    guarded = {i for i, src in trace.rec.inputs.items() if src[0] in ("data", "item", "attr")
               and type(trace.rec.values[i]) is Traced}  # fmt: skip
    # ...unless the view is then changed in place (x += 1 rebinds a name in Python's eyes)
    targets = {op.args[0].index for op in kept if op.kind in ("inplace", "setitem")}
    for i, op in enumerate(kept):
        if op.kind in ("rng", "guard", "compare", "inplace", "setitem") or op.writes:
            continue
        if _is_view(op) and op.results[0].index not in targets and all(
                v.index in guarded or v.index in constant_values for v in op.reads):  # fmt: skip
            op.info["constant"] = True
            constant_values.add(op.results[0].index)
            p.constants[op.results[0].index] = op.results[0].array
            guarded.add(op.results[0].index)
            continue
        if op.kind == "func" and op.target in (np.empty, np.empty_like):
            continue
        values = op.reads[1:] if template_free(op) else op.reads
        if any(v.index not in constant_values for v in values):
            continue
        if not op.results or any(
            storage(v) in escaping or written_later.get(storage(v), -1) > i for v in op.results
        ):
            continue
        op.info["constant"] = True
        for v in op.results:
            constant_values.add(v.index)
            p.constants[v.index] = v.array if type(v) is Traced else v.value


VIEWS = frozenset({"reshape", "transpose", "swapaxes", "squeeze", "view"})


def _is_view(op: Op) -> bool:
    """A view of its one array input (``w.T``, ``w.reshape(...)``): no values, only layout."""
    if len(op.results) != 1 or len(op.reads) != 1 or type(op.results[0]) is not Traced:
        return False
    if op.kind == "attr":
        ok = op.target in ("T", "mT")
    elif op.kind == "method":
        ok = op.target in VIEWS
    elif op.kind == "getitem":
        ok = not any(
            type(x) in (Traced, Sym) or isinstance(x, np.ndarray)
            for x in (op.args[1] if type(op.args[1]) is tuple else (op.args[1],))
        )
    else:
        ok = False  # fmt: skip
    out, src = op.results[0], op.reads[0]
    return ok and isinstance(out.array, np.ndarray) and out.storage == storage(src) >= 0


# ------------------------------------------------------------------ copies that change nothing


def _aliases(trace: Trace, kept: list[Op], escaping: set[int]) -> dict[int, int]:
    """Drop copies and same-shape reshapes whose source is never written again: the copy
    holds the same bytes in the same layout, so the later operations read the same values
    (the engine copies a gradient that is a view so that ``.grad`` owns its memory; a replay
    owns every buffer anyway). Returns merged storages: copy's storage -> source's."""
    persistent = {st.index for st in trace.rec.storages if st.persistent}
    last_write: dict[int, int] = {}
    for i, op in enumerate(kept):
        for st in writes(op):
            last_write[st] = i
    merged: dict[int, int] = {}
    for i, op in enumerate(kept):
        if not _is_plain_copy(op):
            continue
        src, dst = op.args[0], op.results[0]
        s_src, s_dst = storage(src), storage(dst)
        if s_src is None or s_dst is None or s_src in persistent:
            continue
        s_src = merged.get(s_src, s_src)
        if last_write.get(s_src, -1) > i or last_write.get(s_dst, -1) > i:
            continue
        if src.array.strides != dst.array.strides or src.array.dtype != dst.array.dtype:
            continue
        op.info["alias"] = src
        merged[s_dst] = s_src
        if s_dst in escaping:
            escaping.add(s_src)
    return merged


def _is_plain_copy(op: Op) -> bool:
    if op.kind != "method" or len(op.results) != 1 or type(op.args[0]) is not Traced:
        return False
    if type(op.results[0]) is not Traced:
        return False
    src, dst = op.args[0].array, op.results[0].array
    if not isinstance(src, np.ndarray) or not isinstance(dst, np.ndarray):
        return False
    if op.target == "copy" and len(op.args) == 1 and not op.kwargs:
        return True
    if op.target == "reshape" and dst.shape == src.shape and not op.kwargs:
        return True
    return op.target == "astype" and dst.dtype == src.dtype and dst.base is None


# ------------------------------------------------------------------ 3. guards first


def _guards_first(trace: Trace, kept: list[Op], strict: bool) -> tuple[list[Op], list[Op]]:
    guards = [i for i, op in enumerate(kept) if op.kind in ("guard", "compare")]
    if not guards:
        return [], kept
    producer: dict[int, int] = {}
    last_writer: dict[int, int] = {}  # storage -> the latest op that wrote it (a full write
    deps: list[set[int]] = []  # makes the earlier ones irrelevant; an in-place one reads it)
    for i, op in enumerate(kept):
        d = {producer[v.index] for v in op.reads if v.index in producer}
        d.update(last_writer[s] for s in reads(op) if s in last_writer)
        deps.append(d)
        for v in op.results:
            producer[v.index] = i
        if op.returned is not None:
            producer.setdefault(op.returned.index, i)
        for s in writes(op) | creates(op):
            last_writer[s] = i
    moved: set[int] = set()

    def move(start: list[int]) -> None:  # these ops and all they depend on
        stack = list(start)
        while stack:
            i = stack.pop()
            if i not in moved:
                moved.add(i)
                stack.extend(deps[i])

    move(guards)
    while True:  # an op left behind must not see a storage a moved op changes: move it too
        last_write: dict[int, int] = {}
        for i in moved:
            for s in writes(kept[i]) | creates(kept[i]):
                last_write[s] = max(last_write.get(s, -1), i)
        behind = [j for j, op in enumerate(kept) if j not in moved and any(
            last_write.get(s, -1) > j for s in reads(op) | writes(op))]  # fmt: skip
        if not behind:
            break
        move(behind)
    persistent = {s.index for s in trace.rec.storages if s.persistent}
    if any(writes(kept[i]) & persistent for i in moved):  # a replay must bail out unchanged
        where = _first_guard_location(kept, moved)
        raise JitError(
            f"a branch on a tensor value ({where}) depends on state the step has already "
            "changed, so a replay could not bail out before changing it; move the test "
            "before the optimizer step, or leave this step uncompiled"
        )
    prologue = [op for i, op in enumerate(kept) if i in moved]
    body = [op for i, op in enumerate(kept) if i not in moved]
    return prologue, body


def _first_guard_location(kept: list[Op], moved: set[int]) -> str:
    for i in sorted(moved):
        if kept[i].kind in ("guard", "compare") and kept[i].frame is not None:
            f = kept[i].frame
            return f"{f.f_code.co_filename}:{f.f_lineno}"
    return user_location()
