"""The whole replay function: read the state, check the guards, run the step, write back.

    def step(X, y):
        # inputs: read afresh at every call
        fc1_weight = fc1_weight_tensor.data
        ...
        # guards: the state must look as it did when the step was recorded
        if not (...): return RETRY
        # forward
        ...
        # backward
        ...
        # update
        ...
        # write back: new gradients, step counts
        ...
        return wrap(loss, False)

``RETRY`` sends the call back to ``CompiledStep``, which records it anew.
"""

from __future__ import annotations

import math
from typing import Any

from tinygrad_np import rng as rng_module
from tinygrad_np.compiler.codegen import Writer
from tinygrad_np.compiler.program import Plan
from tinygrad_np.compiler.tracer import Sym, Traced

INDENT = "    "


def write(plan: Plan, name: str) -> tuple[str, dict[str, Any]]:
    """The source of the replay function called ``name``, and the namespace it runs in."""
    w = Writer(plan, name)
    trace, rec = plan.trace, plan.trace.rec
    prologue = list(dict.fromkeys(line for op in plan.prologue for line in w.op(op)))
    made = [line for op in plan.constant_ops for line in w.op(op)]
    body = _sections(w, plan)
    made += w.faster.made
    epilogue = _write_back(w) + [f"return {_output(w, trace.output)}"]
    params, inputs, checks = _inputs(w)
    guards = checks + _entry_guards(w)
    lines = [f"def {w.fn_name}({', '.join(params)}):"]
    if inputs:
        lines += [INDENT + "# inputs: read afresh at every call"] + [INDENT + x for x in inputs]
    if guards:
        lines.append(INDENT + "# guards: the state must look as it did when this was recorded")
        lines += [INDENT + x.replace("\n", "\n" + INDENT) for x in guards]
    if made:
        lines.append(INDENT + "# made once, when recorded (bound as constants):")
        lines += [f"{INDENT}#   {x}" for x in made]
    if any(op.kind == "rng" for op in plan.prologue + plan.body):
        w.ns["get_rng"] = rng_module.get_rng
        lines.append(INDENT + "rng = get_rng()  # the library generator: dropout masks")
        if plan.rng_in_prologue:
            lines.append(INDENT + "rng_state = rng.bit_generator.state")
    if prologue:
        lines.append(INDENT + "# checks on values, before anything changes")
        lines += [INDENT + x for x in prologue]
    lines += [INDENT + x if x else "" for x in body]
    lines += ["", INDENT + "# write back: new gradients and step counts; the results"]
    lines += [INDENT + x for x in epilogue]
    _ = rec
    return "\n".join(lines) + "\n", w.ns


def _sections(w: Writer, plan: Plan) -> list[str]:
    out: list[str] = []
    phase, ctx = None, None
    for op in plan.body:
        if op.phase != phase:
            phase, ctx = op.phase, None
            out += ["", f"# --- {phase} ---"]
        if op.ctx is not ctx:
            ctx = op.ctx
            if ctx is not None:
                text = w.described.get(id(ctx)) or f"{ctx.name}"
                out.append(f"# {text}" if phase == "forward" else f"# {text}: backward")
        out += w.op(op)
    return out


def _label(w: Writer, x: Any, default: str) -> str:
    return w.obj(x, w.trace.labels.get(id(x), default))


def _inputs(w: Writer) -> tuple[list[str], list[str], list[str]]:
    """Parameters of the function, lines reading each input it uses, checks on them."""
    rec, trace = w.rec, w.trace
    params, lines, checks = [], [], []
    same: list[str] = []
    by_leaf = {src[1]: i for i, src in rec.inputs.items() if src[0] == "leaf"}
    for n, (leaf, kind) in enumerate(trace.leaves):
        index = by_leaf.get(n)
        name = w.value(rec.values[index]) if index is not None else w.unique(leaf)
        if kind == "tensor":
            param = w.unique(f"{leaf}_tensor")
            params.append(param)
            w.ns.pop(param, None)
            w.objects[("leaf", n)] = param  # type: ignore[index]
            if index is not None and index in w.used:
                lines.append(f"{name} = {param}.data")
        else:
            params.append(name)
    for index, source in sorted(rec.inputs.items()):
        if index not in w.used or source[0] == "leaf":
            continue
        v = rec.values[index]
        name, kind = w.names[index], source[0]
        if kind == "data":
            lines.append(f"{name} = {_label(w, source[1], 'tensor')}.data")
        elif kind == "grad":
            lines.append(f"{name} = {_label(w, source[1], 'tensor')}.grad.data")
            checks.append(_shape_check(w, name, v))
            continue
        elif kind == "item":
            lines.append(f"{name} = {_label(w, source[1], 'state')}[{w.expr(source[2])}]")
        elif kind == "index":
            container = _label(w, source[1], "state")
            lines.append(f"{name} = {container}[{w.expr(source[2])}][{source[3]}]")
        elif kind == "attr":
            lines.append(f"{name} = {_label(w, source[1], 'state')}.{source[2]}")
        elif kind == "binding":
            b = source[1]
            where = _label(w, b.where, "globals")
            lines.append(f"{name} = {where}.cell_contents" if b.key is None
                         else f"{name} = {where}[{b.key!r}]")  # fmt: skip
            checks.append(_shape_check(w, name, v))
            continue
        if type(v) is Traced:
            same.append(f"{name} is not {w.obj(v.array, name + '_was')}")
    if same:
        checks.insert(0, _any_of(same))
    return params, lines, checks


def _any_of(conds: list[str]) -> str:
    body = "\n".join(f"{INDENT}or {c}" if i else f"{INDENT}{c}" for i, c in enumerate(conds))
    return f"if (\n{body}\n):\n{INDENT}return RETRY"


def _shape_check(w: Writer, name: str, v: Any) -> str:
    a = v.array
    dtype = w.obj(a.dtype, f"{name}_dtype")
    return (f"if {name}.shape != {a.shape!r} or {name}.dtype != {dtype} or {name}.strides != "
            f"{a.strides!r}: return RETRY")  # fmt: skip


def _entry_guards(w: Writer) -> list[str]:
    conds: list[str] = []
    used = w.used
    for guard in w.trace.guards:
        kind = guard[0]
        if kind == "tensor":
            _, t, requires_grad, grad_is_none, _ = guard
            T = _label(w, t, "tensor")
            conds.append(f"{T}.requires_grad is {requires_grad}")
            conds.append(f"{T}.grad is {'' if grad_is_none else 'not '}None")
        elif kind == "module":
            _, m, training, revision = guard
            M = _label(w, m, "module")
            conds.append(f"{M}.training is {training}")
            if revision is not None:
                conds.append(f"{M}._revision == {revision}")
        elif kind == "optimizer":
            _, opt, state, groups, lens = guard
            O = _label(w, opt, "optimizer")
            conds.append(f"{O}.state is {w.obj(state, 'state_was')}")
            conds.append(f"len({O}.param_groups) == {len(groups)}")
            for i, (group, n) in enumerate(zip(groups, lens)):
                G = _label(w, group, "group")
                conds.append(f"{O}.param_groups[{i}] is {G} and len({G}['params']) == {n}")
        elif kind == "item":
            _, container, key, value = guard
            C = _label(w, container, "group")
            conds.append(f"{C}[{key!r}] == {w.expr(value)}")
        elif kind == "type":
            _, sym, typ = guard
            if sym.index in used:
                conds.append(f"type({w.names[sym.index]}) is {typ.__name__}")
        elif kind == "attribute":
            _, obj, key, value = guard
            if not key.isidentifier():
                continue
            conds.append(_equals(w, f"{_label(w, obj, 'obj')}.{key}", value, key))
        elif kind == "binding":
            b, value = guard[1], guard[2]
            where = _label(w, b.where, "globals")
            read = f"{where}.cell_contents" if b.key is None else f"{where}.get({b.key!r})"
            conds.append(_equals(w, read, value, b.name))
    if not conds:
        return []
    body = "\n".join(f"{INDENT}and {c}" if i else f"{INDENT}{c}" for i, c in enumerate(conds))
    return [f"if not (\n{body}\n):\n{INDENT}return RETRY"]


def _equals(w: Writer, read: str, value: Any, name: str) -> str:
    """A test that ``read`` still holds ``value``: numbers and strings by value and type,
    anything else by identity."""
    if value is None or isinstance(value, bool):
        return f"{read} is {value!r}"
    if type(value) in (int, float, str):
        text = repr(value) if type(value) is not float or math.isfinite(value) else None
        if text is None:  # nan and inf: compare their text
            return f"repr({read}) == {repr(value)!r}"
        return f"{read} == {text} and type({read}) is {type(value).__name__}"
    return f"{read} is {w.obj(value, name)}"


def _write_back(w: Writer) -> list[str]:
    lines = []
    for wb in w.trace.writebacks:
        kind, target = wb[0], wb[1]
        T = _label(w, target, "tensor") if kind in ("grad", "data", "version") else None
        if kind == "grad" and wb[2] is None:
            lines.append(f"{T}.grad = None")
        elif kind == "grad":
            G = _label(w, wb[2], "grad_tensor")
            lines += [f"{G}.data = {w.expr(wb[3])}", f"{T}.grad = {G}"]
        elif kind == "data":
            lines.append(f"{T}.data = {w.expr(wb[2])}")
        elif kind == "version":  # the eager step's in-place changes, counted the same way
            lines += [f"{T}._bump_version()"] * wb[2]
        elif kind == "item":
            container, key, value = wb[1], wb[2], wb[3]
            C = _label(w, container, "state")
            if isinstance(container, dict):
                lines.append(f"{C}[{key!r}] = {w.expr(value)}")
            else:
                lines.append(f"{C}.{key} = {w.expr(value)}")
    return lines


def _output(w: Writer, node: Any) -> str:
    if node is None:
        return "None"
    kind, value = node
    if kind == "tensor":
        return f"wrap({w.expr(value)}, False)"
    if kind == "known":
        return _label(w, value, "tensor")
    if kind == "value":
        return w.expr(value)
    if kind == "const":
        return w.expr(value)
    items = [_output(w, n) for n in (value.values() if kind == "dict" else value)]
    if kind == "tuple":
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if kind == "list":
        return f"[{', '.join(items)}]"
    return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(value, items)) + "}"


_ = (Sym,)
