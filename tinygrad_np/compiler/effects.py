"""What each logged operation reads, writes and creates (storages), and the operations' tables
the planner and the code writer share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_np.compiler.recording import Op
from tinygrad_np.compiler.tracer import Sym, Traced

if TYPE_CHECKING:
    from tinygrad_np.compiler.record import Trace

RNG = -2  # the library generator, as a storage every draw reads and writes
OUT_METHODS = frozenset({"sum", "prod", "max", "min", "mean", "any", "all", "clip", "cumsum"})
BINARY_UFUNCS = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "//": np.floor_divide,
    "%": np.remainder, "@": np.matmul, "&": np.bitwise_and, "|": np.bitwise_or,
    "^": np.bitwise_xor, "==": np.equal, "!=": np.not_equal, "<": np.less,
    "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
}  # fmt: skip
UNARY_UFUNCS = {"-": np.negative, "~": np.invert, "+": np.positive}
FILLS = frozenset({np.zeros, np.ones, np.full, np.empty, np.zeros_like, np.ones_like,
                   np.full_like, np.empty_like})  # fmt: skip
SHAPE_ONLY = frozenset({np.zeros_like, np.ones_like, np.empty_like, np.full_like})
RNG_OUT = frozenset({"random", "standard_normal"})


def storage(v: Any) -> int | None:
    return v.storage if type(v) is Traced and v.storage >= 0 else None


def reads(op: Op) -> set:
    out = op.info.get("reads")
    if out is None:
        out = op.info["reads"] = {s for s in (storage(v) for v in op.reads) if s is not None}
        if op.kind == "rng":
            out.add(RNG)
    return out


def writes(op: Op) -> set:
    out = op.info.get("writes")
    if out is None:
        out = op.info["writes"] = set(op.writes) | ({RNG} if op.kind == "rng" else set())
    return out


def creates(op: Op) -> set:
    out = op.info.get("creates")
    if out is None:
        out = op.info["creates"] = {v.storage for v in op.results if type(v) is Traced
                                    and v.rec.fresh(v)}  # fmt: skip
    return out


def escaping(trace: Trace) -> set[int]:
    """Storages of returned and written-back values: they outlive the step."""
    out: set[int] = set()
    for v in output_values(trace.output):
        if storage(v) is not None:
            out.add(storage(v))
    for wb in trace.writebacks:
        if storage(wb[-1]) is not None:
            out.add(storage(wb[-1]))
    return out


def output_values(node: Any) -> list:
    if node is None:
        return []
    kind, value = node
    if kind in ("tensor", "value"):
        return [value]
    if kind in ("tuple", "list"):
        return [v for n in value for v in output_values(n)]
    if kind == "dict":
        return [v for n in value.values() for v in output_values(n)]
    return []


def sinks(trace: Trace) -> list:
    """The values a replay hands back: returned, and written back into the state."""
    out = output_values(trace.output)
    out += [wb[-1] for wb in trace.writebacks if type(wb[-1]) in (Traced, Sym)]
    return out


def template_free(op: Op) -> bool:
    """``zeros_like(x)`` and friends read only x's shape, dtype and (contiguous) layout."""
    if op.kind != "func" or op.target not in SHAPE_ONLY or not op.reads:
        return False
    t = op.args[0]
    return (
        type(t) is Traced
        and isinstance(t.array, np.ndarray)
        and (t.array.flags.c_contiguous or t.array.flags.f_contiguous)
    )
