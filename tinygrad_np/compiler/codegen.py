"""A ``Plan`` written out as the Python function a replay runs: one line per array operation.

Values are named after what made them: parameters after their modules (``fc1_weight``), op
outputs after the op (``relu_1``), gradients after what they are the gradient of
(``grad_fc1_weight``), intermediates after the local variable that held them in the op's
forward or backward (``cross_entropy_1_shifted``). Sections say forward, backward and update;
a comment before each op's lines says which op of the step they belong to.
"""

from __future__ import annotations

import itertools
import linecache
import math
from typing import Any

import numpy as np

from tinygrad_np.compiler.buffers import copy_into
from tinygrad_np.compiler.effects import BINARY_UFUNCS, FILLS, UNARY_UFUNCS, template_free
from tinygrad_np.compiler.faster import Faster
from tinygrad_np.compiler.program import Plan
from tinygrad_np.compiler.recording import Op
from tinygrad_np.compiler.state import identifier, unique_identifier
from tinygrad_np.compiler.tracer import Sym, Traced
from tinygrad_np.tensor import Tensor

NAMESPACES = (("np", np), ("np.linalg", np.linalg), ("np.fft", np.fft),
              ("np.lib.stride_tricks", np.lib.stride_tricks))  # fmt: skip
RETRY = type("Retry", (), {"__repr__": lambda self: "RETRY"})()  # "record this call anew"
_files = itertools.count()


class Writer:
    """Turns a ``Plan`` into source text and the namespace that source runs in."""

    def __init__(self, plan: Plan, name: str) -> None:
        self.plan, self.trace, self.rec = plan, plan.trace, plan.trace.rec
        self.fn_name = identifier(name)
        self.taken: set[str] = {"np", "rng", "RETRY", "wrap", "get_rng", self.fn_name}
        self.names: dict[int, str] = {}
        self.ns: dict[str, Any] = {"np": np, "RETRY": RETRY, "wrap": Tensor._wrap}
        self.objects: dict[int, str] = {}
        self.used: set[int] = set()  # values the code refers to
        self._name_values()
        self.faster = Faster(self)

    # --- names -------------------------------------------------------------------------
    def unique(self, text: str) -> str:
        return unique_identifier(text, self.taken)

    def _name(self, v: Any, text: str) -> None:
        if (type(v) is Traced or type(v) is Sym) and v.index not in self.names:
            self.names[v.index] = self.unique(text)

    def _name_values(self) -> None:
        rec = self.rec
        for index, hint in self.trace.hints.items():  # inputs and new gradients first
            self._name(rec.values[index], hint)
        forward, backward = rec._codes[0], rec._codes[1]
        self.outputs: dict[int, str] = {}  # id(ctx) -> its output's name
        self.described: dict[int, str] = {}  # id(ctx) -> "relu_1 = relu(linear_1)"
        for frame in rec.apply_frames.values():
            local = frame.f_locals
            ctx, array = local.get("ctx"), local.get("array", local.get("out"))
            if ctx is None or id(ctx) not in rec.contexts or type(array) is not Traced:
                continue
            _, n = rec.contexts[id(ctx)]
            self._name(array, f"{ctx.name}_{n}")
            self.outputs[id(ctx)] = self.names.get(array.index, "")
            args = [self._describe(a) for a in local.get("arrays", ())]
            self.described[id(ctx)] = f"{self.names[array.index]} = {ctx.name}({', '.join(args)})"
        frames = {id(op.frame): (op.frame, op.ctx) for op in rec.ops if op.frame is not None}
        for frame, ctx in frames.values():
            code = frame.f_code
            if ctx is not None and code in backward and code.co_argcount > 1:
                g = frame.f_locals.get(code.co_varnames[1])
                self._name(g, f"grad_{self.outputs.get(id(ctx), ctx.name)}")
        for frame, ctx in [*frames.values(), *[(f, None) for f in rec.user_frames.values()]]:
            prefix = ""
            if ctx is not None and (frame.f_code in forward or frame.f_code in backward):
                prefix = f"{self.outputs.get(id(ctx)) or ctx.name}_"
            for var, value in frame.f_locals.items():
                if var not in ("self", "ctx", "cls"):
                    self._name(value, prefix + var)
        for op in rec.ops:
            for v in op.results:
                ctx = op.ctx
                text = f"{self.outputs.get(id(ctx)) or ctx.name}_{_short(op)}" if ctx else _short(
                    op)  # fmt: skip
                self._name(v, text)
        self._share_alias_names()

    def _share_alias_names(self) -> None:
        """A dropped copy and its source are one array: give them one name, the copy's when
        it is a new gradient (``grad_fc1_bias``), else the source's."""
        root: dict[int, int] = {}
        for op in self.plan.prologue + self.plan.body:
            src = op.info.get("alias")
            if src is not None:
                root[op.results[0].index] = root.get(src.index, src.index)
        groups: dict[int, list[int]] = {}
        for member, r in root.items():
            groups.setdefault(r, [r]).append(member)
        for members in groups.values():
            hinted = [m for m in members if m in self.trace.hints]
            name = self.names[hinted[0] if hinted else members[0]]
            for m in members:
                self.names[m] = name

    def _describe(self, a: Any) -> str:
        if type(a) is Traced or type(a) is Sym:
            return self.names.get(a.index, "?")
        return "..." if a is not None else "None"

    def obj(self, x: Any, text: str) -> str:
        """The namespace name of an object the code refers to (a tensor, a dict, a module)."""
        key = id(x)
        if key not in self.objects:
            self.objects[key] = self.unique(text)
            self.ns[self.objects[key]] = x
        return self.objects[key]

    # --- expressions ---------------------------------------------------------------------
    def value(self, v: Any) -> str:
        name = self.names.get(v.index)
        if name is None:
            name = self.names[v.index] = self.unique(f"v{v.index}")
        if v.index in self.plan.constants:
            self.ns[name] = self.plan.constants[v.index]
        else:
            self.used.add(v.index)
        return name

    def expr(self, x: Any) -> str:
        t = type(x)
        if t is Traced or t is Sym:
            return self.value(x)
        if x is None or t is bool or t is int or t is str:
            return repr(x)
        if t is float:
            return repr(x) if math.isfinite(x) else f"float({repr(x)!r})"
        if t is tuple:
            inner = ", ".join(self.expr(v) for v in x)
            return f"({inner},)" if len(x) == 1 else f"({inner})"
        if t is list:
            return "[" + ", ".join(self.expr(v) for v in x) + "]"
        if t is dict:
            return "{" + ", ".join(f"{k!r}: {self.expr(v)}" for k, v in x.items()) + "}"
        if t is slice:
            return f"slice({self.expr(x.start)}, {self.expr(x.stop)}, {self.expr(x.step)})"
        if x is Ellipsis:
            return "..."
        if isinstance(x, np.dtype) and x.fields is None:
            return f"np.dtype({str(x)!r})"
        if isinstance(x, type) and getattr(np, x.__name__, None) is x:
            return f"np.{x.__name__}"
        return self.obj(x, "constant")

    def index(self, x: Any) -> str:
        items = x if type(x) is tuple else (x,)
        parts = []
        for item in items:
            if type(item) is slice:
                a, b, c = (("" if v is None else self.expr(v)) for v in (item.start, item.stop,
                                                                          item.step))  # fmt: skip
                parts.append(f"{a}:{b}" + (f":{c}" if c else ""))
            else:
                parts.append(self.expr(item))
        if type(x) is tuple and len(x) == 1:
            return parts[0] + ","
        return ", ".join(parts) if parts else "()"

    def call_args(self, args: tuple, kwargs: dict, out: str | None = None) -> str:
        parts = [self.expr(a) for a in args]
        parts += [f"{k}={self.expr(v)}" for k, v in kwargs.items()]
        if out is not None:
            parts.append(f"out={out}")
        return ", ".join(parts)

    def function(self, f: Any) -> str:
        if f is abs:
            return "abs"
        owner = getattr(f, "__self__", None)
        if isinstance(owner, np.ufunc) and getattr(np, owner.__name__, None) is owner:
            return f"np.{owner.__name__}.{f.__name__}"
        name = getattr(f, "__name__", None)
        for path, module in NAMESPACES:
            if name and getattr(module, name, None) is f:
                return f"{path}.{name}"
        return self.obj(f, name or "function")

    # --- one operation -------------------------------------------------------------------
    def op(self, op: Op) -> list[str]:
        buffer = op.info.get("buffer")
        out = None if buffer is None else f"buffer{buffer}"
        if out is not None:
            self.ns[out] = self.plan.buffers[buffer]
        k, t, a = op.kind, op.target, op.args
        if "alias" in op.info:  # a copy that changes nothing (see program._aliases)
            return []
        if k in ("guard", "compare"):
            cond = self.expr(a[0]) if k == "guard" else f"{self.expr(a[0])} {t} {self.expr(a[1])}"
            test = f"not ({cond})" if op.expected else f"{cond}"
            restore = "rng.bit_generator.state = rng_state; " if self.plan.rng_in_prologue else ""
            return [f"if {test}: {restore}return RETRY"]
        fill = k == "func" and (t in FILLS or template_free(op)) and not op.info.get("constant")
        if fill and (out or template_free(op)):
            return self._fill(op, out)
        lines = self.faster.op(op, out)
        if lines is not None:
            return lines
        if k == "func":
            text = f"{self.function(t)}({self.call_args(a, op.kwargs, out)})"
        elif k == "method" and out is not None and copy_into(op):
            # x.copy(), x.astype(t), a reshape that copies: the same elements into the buffer
            into = out
            if t == "reshape":
                into = self.obj(self.plan.buffers[buffer].reshape(a[0].array.shape),
                                f"{out}_as_source")  # fmt: skip
            casting = ", casting='unsafe'" if t == "astype" else ""
            return [f"{self.value(op.results[0])} = {out}",
                    f"np.copyto({into}, {self.expr(a[0])}{casting})"]  # fmt: skip
        elif k == "method" and _reduction(op):
            # x.sum(...) is np.add.reduce(x, ...) behind a Python wrapper: call it directly
            axis = a[1] if len(a) == 2 else op.kwargs.get("axis")
            kwargs = {"axis": axis, **{k2: v for k2, v in op.kwargs.items() if k2 != "axis"}}
            kwargs.pop("out", None)
            lines = self.faster.reduction(op, REDUCERS[t], a[0], kwargs, out)
            if lines is not None:
                return lines
            name = REDUCERS[t].__name__
            text = f"np.{name}.reduce({self.expr(a[0])}, {self.call_args((), kwargs, out)})"
        elif k == "method":
            text = f"{self.expr(a[0])}.{t}({self.call_args(a[1:], op.kwargs, out)})"
        elif k == "binop":
            if out is not None:
                ufunc = BINARY_UFUNCS[t].__name__
                text = f"np.{ufunc}({self.expr(a[0])}, {self.expr(a[1])}, out={out})"
            else:
                text = f"{self.expr(a[0])} {t} {self.expr(a[1])}"
        elif k == "inplace":
            return [f"{self.expr(a[0])} {t}= {self.expr(a[1])}"]
        elif k == "unary":
            if out is not None:
                text = f"np.{UNARY_UFUNCS[t].__name__}({self.expr(a[0])}, out={out})"
            else:
                text = f"{t}{self.expr(a[0])}"
        elif k == "getitem":
            text = f"{self.expr(a[0])}[{self.index(a[1])}]"
        elif k == "setitem":
            return [f"{self.expr(a[0])}[{self.index(a[1])}] = {self.expr(a[2])}"]
        elif k == "attr":
            text = f"{self.expr(a[0])}.{t}"
        elif k == "rng":
            text = f"rng.{t}({self.call_args(a, op.kwargs, out)})"
        else:
            raise AssertionError(k)
        return [self._assign(op, text)]

    def _assign(self, op: Op, text: str) -> str:
        needed = self.plan.needed
        targets = [self.value(v) if v.index in needed else "_" for v in op.results]
        if not targets or all(x == "_" for x in targets):
            return text
        if len(targets) == 1:
            return f"{targets[0]} = {text}"
        return f"{', '.join(targets)} = {text}"

    def _fill(self, op: Op, out: str | None) -> list[str]:
        v = op.results[0]
        name = self.value(v)
        t, a = op.target, v.array
        value = {"zeros": 0, "ones": 1}.get(t.__name__.replace("_like", ""))
        if t in (np.full, np.full_like):
            value = op.args[1] if len(op.args) > 1 else op.kwargs.get("fill_value")
        if out is not None:
            lines = [f"{name} = {out}"]
            if t not in (np.empty, np.empty_like):
                lines.append(f"{name}.fill({self.expr(value)})")
            return lines
        order = "C" if a.flags.c_contiguous else "F"
        make = "empty" if value is None else "full"
        fill = "" if value is None else f", {self.expr(value)}"
        return [f"{name} = np.{make}({a.shape!r}{fill}, dtype=np.dtype({str(a.dtype)!r}), "
                f"order={order!r})"]  # fmt: skip


REDUCERS = {"sum": np.add, "prod": np.multiply, "max": np.maximum, "min": np.minimum}


def _reduction(op: Op) -> bool:
    """``x.sum(axis, keepdims=...)`` and friends on an ndarray, with no other argument."""
    return (
        op.target in REDUCERS
        and type(op.args[0]) is Traced
        and type(op.args[0].array) is np.ndarray
        and len(op.args) <= 2
        and not (len(op.args) == 2 and "axis" in op.kwargs)
        and set(op.kwargs) <= {"axis", "keepdims", "dtype", "out"}
        and (op.target in ("sum", "prod") or "dtype" not in op.kwargs)
    )


def _short(op: Op) -> str:
    if op.kind in ("func",):
        return getattr(op.target, "__name__", "value")
    if op.kind in ("method", "attr", "rng"):
        return str(op.target)
    return {"binop": "out", "unary": "out", "getitem": "item"}.get(op.kind, "value")


def compile_source(source: str, name: str, ns: dict[str, Any]) -> Any:
    """Compile ``source`` once; its lines show in tracebacks (registered with linecache)."""
    filename = f"<tg.jit {name} #{next(_files)}>"
    lines = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, lines, filename)
    exec(compile(source, filename, "exec"), ns)
    return ns[identifier(name)]
