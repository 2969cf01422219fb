"""One recording call: the step runs eagerly on tracer arrays, then everything is put back.

Before the call, every array the step can reach (arguments, parameters, buffers, gradients,
optimizer state, arrays bound to names it reads) is replaced by a ``Traced`` input, and every
per-step number (an optimizer's step count and hyper-parameters) by a ``Sym`` input; the
library generator becomes a ``RecordingGenerator``. After the call the real arrays and numbers
go back, and ``Trace`` says what the step returned and what it left in the state (new
gradients, new step counts): what a replay must write back.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_np import rng as rng_module
from tinygrad_np.compiler import watch
from tinygrad_np.compiler.args import real, rebuild
from tinygrad_np.compiler.recording import JitError, Recording
from tinygrad_np.compiler.state import Found
from tinygrad_np.compiler.tracer import RecordingGenerator, Sym, Traced
from tinygrad_np.tensor import Tensor

NUMBER = (int, float)


@dataclass
class Trace:
    """What a recording call found (see the module doc)."""

    rec: Recording
    status: str = "ok"  # ok; warmup (state was created: record the next call); failed
    reason: str = ""
    output: Any = None  # the returned structure, values in place of arrays
    hints: dict[int, str] = field(default_factory=dict)  # value index -> name
    labels: dict[int, str] = field(default_factory=dict)  # id(object) -> name in the code
    writebacks: list[tuple] = field(default_factory=list)  # (kind, target..., value)
    guards: list[tuple] = field(default_factory=list)  # (kind, object, expected...)
    tensors: list[tuple[str, Tensor]] = field(default_factory=list)
    leaves: list[tuple[str, str]] = field(default_factory=list)  # (name, "tensor"|"array")


class Recorder:
    """Runs ``fn`` once as a recording call (``run``) and returns its result and ``Trace``."""

    def __init__(self, fn: Any, found: Found, strict: bool) -> None:
        self.fn, self.found, self.strict = fn, found, strict

    def run(self, args: tuple, kwargs: dict, leaves: list, leaf_names: list) -> tuple:
        rec = Recording(self.strict, sys._getframe(), rng_module.get_rng())
        trace = Trace(rec)
        self._restore: list[Any] = []  # callables that put the real state back
        self._checks: list[Any] = []  # callables that look at the state after the call
        try:
            replacements = self._wrap(trace, leaves, leaf_names)
            it = iter(replacements)
            result = self.fn(*rebuild(args, it), **rebuild(kwargs, it))
            if rec.logging:
                self._check(trace, result)
        except BaseException as error:
            self._put_back(rec)
            if rec.failure:  # the step's own error wins (a bad label, say): say what else
                error.add_note(f"tg.jit: this call ran eagerly: {rec.failure}")
            raise
        self._put_back(rec)
        if self.strict and rec.failure:
            # Raised once the call is complete: the step ran eagerly, whole, not half-way.
            raise JitError(rec.failure)
        if not rec.logging and trace.status == "ok":
            trace.status, trace.reason = "failed", rec.failure or ""
        return real(result), trace

    # --- before the call -----------------------------------------------------------------
    def _wrap(self, trace: Trace, leaves: list, leaf_names: list) -> list:
        rec, found = trace.rec, self.found
        replacements: list[Any] = []
        if len({id(x) for x in leaves}) != len(leaves):
            rec.refuse("the same array or tensor is passed to the step twice")
        leaf_tensors = {id(x) for x in leaves if isinstance(x, Tensor)}
        for i, (leaf, name) in enumerate(zip(leaves, leaf_names)):
            if not rec.logging:
                replacements.append(leaf)
            elif isinstance(leaf, Tensor):
                trace.leaves.append((name, "tensor"))
                self._tensor(trace, name, leaf, ("leaf", i))
                replacements.append(leaf)
            else:
                trace.leaves.append((name, "array"))
                t = rec.input(rec.traced(leaf, persistent=True), ("leaf", i))
                trace.hints[t.index] = name
                replacements.append(t)
        for name, tensor in found.tensors:
            if id(tensor) not in leaf_tensors:
                trace.tensors.append((name, tensor))
                self._tensor(trace, name, tensor, ("data", tensor))
        for name, opt in found.optimizers:
            self._optimizer(trace, name, opt)
        self._bound = []
        for b in found.arrays:
            t = rec.input(rec.traced(b.value, persistent=True), ("binding", b))
            trace.hints[t.index] = b.name
            b.set(t)
            self._bound.append((b, t))
            self._restore.append(lambda b=b, t=t: b.get() is t and b.set(b.value))
        for b in found.constants:
            trace.guards.append(("binding", b, b.value))
        for b in [*found.arrays, *found.constants]:
            where = b.where
            trace.labels.setdefault(
                id(where), f"{b.name}_cell" if b.key is None else
                f"globals_{where.get('__name__', 'module').rsplit('.', 1)[-1]}")  # fmt: skip
        for mname, module in found.modules:
            trace.labels[id(module)] = mname
            trace.guards.append(("module", module, module.training, watch.revision(module)))
        self._structure = [watch.structure(m) for _, m in found.modules]
        self._attributes = [dict(vars(obj)) for _, obj in found.objects]
        holders = [*found.modules, *found.objects]
        holders += [(b.name, b.value) for b in found.constants if watch.is_container(b.value)]
        self._contents = [(name, obj, watch.contents(obj)) for name, obj in holders]
        for name, obj in found.objects:  # numbers and objects a plain object holds
            trace.labels.setdefault(id(obj), name)
            for key, value in vars(obj).items():
                if isinstance(value, bool | int | float | str | type(None)) or not isinstance(
                    value, Traced | Sym
                ):
                    trace.guards.append(("attribute", obj, key, value))
        self._random = watch.external_random(found)
        proxy = RecordingGenerator(rec, rng_module._rng)
        real_rng = rng_module._rng
        rng_module._rng = proxy
        self._proxy = proxy

        def put_rng() -> None:
            if rng_module._rng is proxy:
                rng_module._rng = real_rng

        self._restore.append(put_rng)
        return replacements

    def _tensor(self, trace: Trace, name: str, t: Tensor, source: tuple) -> None:
        rec, data = trace.rec, t.data
        trace.labels[id(t)] = f"{name}_tensor"
        v = rec.input(rec.traced(data, persistent=True), source)
        trace.hints[v.index] = name
        version = getattr(t, "_version", None)
        grad = t.grad
        trace.guards.append(("tensor", t, t.requires_grad, grad is None, grad))
        g_in = None
        if grad is not None:
            g_in = rec.input(rec.traced(grad.data, persistent=True), ("grad", t))
            trace.hints[g_in.index] = f"{name}_grad_in"
            grad.data = g_in
        t.data = v

        def check() -> None:
            self._tensor_after(trace, name, t, v, g_in, grad, version)

        self._checks.append(check)

        def restore() -> None:
            if type(t.data) is Traced:
                t.data = t.data.array
            if grad is not None and type(grad.data) is Traced:
                grad.data = grad.data.array
            if t.grad is not None and type(t.grad.data) is Traced:
                t.grad.data = t.grad.data.array

        self._restore.append(restore)

    def _optimizer(self, trace: Trace, name: str, opt: Any) -> None:
        rec = trace.rec
        trace.labels[id(opt)] = name
        trace.labels[id(opt._workspace)] = f"{name}_workspace"
        trace.guards.append(("optimizer", opt, opt.state, list(opt.param_groups),
                             [len(g["params"]) for g in opt.param_groups]))  # fmt: skip
        slots: list[tuple[Any, Any, Any]] = []  # (container, key, input value)

        def number(container: Any, key: Any, value: Any, hint: str) -> Any:
            s = rec.input(rec.sym(value), ("item", container, key))
            trace.hints[s.index] = hint
            trace.guards.append(("type", s, type(value)))
            slots.append((container, key, s, value))
            return s

        iterations = rec.input(rec.sym(opt.iterations), ("attr", opt, "iterations"))
        trace.hints[iterations.index] = f"{name}_iterations"
        opt.iterations = iterations
        slots.append((opt, "iterations", iterations, opt.iterations.value))
        param_names = {id(t): n for n, t in self.found.tensors}
        for gi, group in enumerate(opt.param_groups):
            prefix = f"{name}_" if len(opt.param_groups) == 1 else f"{name}_group{gi}_"
            trace.labels[id(group)] = f"{name}_group{gi}"
            for key, value in list(group.items()):
                if key == "params":
                    continue
                if isinstance(value, NUMBER):
                    group[key] = number(group, key, value, prefix + key)
                elif (
                    isinstance(value, tuple) and value and all(isinstance(v, NUMBER) for v in value)
                ):
                    syms = []
                    for i, v in enumerate(value):
                        s = rec.input(rec.sym(v), ("index", group, key, i))
                        trace.hints[s.index] = f"{prefix}{key}_{i}"
                        trace.guards.append(("type", s, type(v)))
                        syms.append(s)
                    group[key] = tuple(syms)
                    slots.append((group, key, group[key], value))
                else:
                    trace.guards.append(("item", group, key, value))
        params = [p for g in opt.param_groups for p in g["params"]]
        for index, state in opt.state.items():
            pname = param_names.get(id(params[index]), f"param{index}") if index < len(
                params) else f"param{index}"  # fmt: skip
            trace.labels[id(state)] = f"{pname}_state"
            for key, value in list(state.items()):
                if isinstance(value, np.ndarray):
                    t = rec.input(rec.traced(value, persistent=True), ("item", state, key))
                    trace.hints[t.index] = f"{pname}_{key}"
                    state[key] = t
                    slots.append((state, key, t, value))
                elif isinstance(value, NUMBER):
                    state[key] = number(state, key, value, f"{pname}_{key}")
        for key, buffer in list(opt._workspace.items()):
            t = rec.input(rec.traced(buffer, persistent=True), ("item", opt._workspace, key))
            trace.hints[t.index] = "work_" + "x".join(map(str, key[0])) + f"_{key[2]}"
            opt._workspace[key] = t
            slots.append((opt._workspace, key, t, buffer))
        shape = ({i: set(s) for i, s in opt.state.items()}, set(opt._workspace))

        def check() -> None:
            self._optimizer_after(trace, opt, slots, shape)

        self._checks.append(check)

        def restore() -> None:
            for container, key, value, original in slots:
                current = _get(container, key)
                if current is value:
                    _set(container, key, original)
                elif isinstance(current, Traced | Sym):
                    _set(container, key, real(current))
            for state in (*opt.state.values(), opt._workspace):
                for key, value in list(state.items()):
                    if isinstance(value, Traced | Sym):
                        state[key] = real(value)

        self._restore.append(restore)

    # --- after the call --------------------------------------------------------------------
    def _check(self, trace: Trace, result: Any) -> None:
        rec = trace.rec
        for frame in list(rec.apply_frames.values()):  # tensors the search did not find
            for a in frame.f_locals.get("args", ()):
                if isinstance(a, Tensor) and a.requires_grad and type(a.data) is np.ndarray:
                    rec.refuse(
                        f"a tensor of shape {a.shape} that requires grad"
                        f"{' (' + a.name + ')' if a.name else ''} is used by the step, but "
                        "the compiled step did not find it among the modules, optimizers and "
                        "tensors the step's function names; pass it as an argument or keep "
                        "it in a module the step uses"
                    )
                    return
        trace.output = _output(rec, result)
        for check in self._checks:
            check()
            if not rec.logging or trace.status != "ok":
                return
        for (_, module), before in zip(self.found.modules, self._structure):
            after = watch.structure(module)
            if after != before:
                if after[1:] != before[1:]:
                    trace.status = "warmup"  # new parameters, buffers or sub-modules
                    trace.reason = f"{type(module).__name__} changed its structure"
                else:
                    rec.refuse(f"the step assigns attributes of {type(module).__name__} "
                               "(a replay would not)")  # fmt: skip
                return
        for name, obj, before in self._contents:
            changed = watch.first_change(before, watch.contents(obj))
            if changed is not None:
                rec.refuse(f"the step changes the contents of {name}{changed} "
                           f"({type(obj).__name__}), which a replay would not; return such "
                           "values from the step instead")  # fmt: skip
                return
        for (name, obj), before in zip(self.found.objects, self._attributes):
            after = vars(obj)
            changed = [k for k in {*before, *after} if before.get(k, rec) is not after.get(k, rec)]
            if changed:
                rec.refuse(f"the step changes {name}.{changed[0]} ({type(obj).__name__}), which a "
                           "replay would not; keep such state in a module buffer or outside "
                           "the compiled step")  # fmt: skip
                return
        if rng_module._rng is not self._proxy:
            rec.refuse("tg.manual_seed() inside a compiled step (seed it before the call)")
        if watch.external_random(self.found) != self._random:
            rec.refuse("the step draws random numbers from a generator other than the "
                       "library's (np.random, random, or a Generator it holds); draw from "
                       "tinygrad_np.rng.get_rng() so that replays draw them too")  # fmt: skip
        for b, t in self._bound:
            if b.get() is not t:
                rec.refuse(f"the step assigns the name {b.name!r} (a replay would not)")
        for b in self.found.constants:
            if b.get() is not b.value:
                rec.refuse(f"the step assigns the name {b.name!r} (a replay would not)")

    def _tensor_after(self, trace, name, t, v, g_in, grad, version) -> None:
        rec = trace.rec
        if t.data is not v:
            if type(t.data) is not Traced:
                rec.refuse(f"the step sets {name}.data to an array it did not compute")
                return
            trace.writebacks.append(("data", t, t.data))
        final = t.grad
        if final is None:
            if grad is not None:
                trace.writebacks.append(("grad", t, None, None))
        elif type(final.data) is not Traced:
            rec.refuse(f"the step sets {name}.grad to a tensor it did not compute")
        elif final is not grad or final.data is not g_in:
            trace.writebacks.append(("grad", t, final, final.data))
            trace.labels[id(final)] = f"grad_{name}_tensor"
            trace.hints.setdefault(final.data.index, f"grad_{name}")
        after = getattr(t, "_version", None)
        if isinstance(version, int) and isinstance(after, int) and after != version:
            trace.writebacks.append(("version", t, after - version))

    def _optimizer_after(self, trace, opt, slots, shape) -> None:
        rec = trace.rec
        for container, key, value, _ in slots:
            current = _get(container, key)
            if current is value:
                continue
            if type(value) is Sym and type(current) is Sym:
                trace.writebacks.append(("item", container, key, current))
            elif type(value) is Traced and type(current) is Traced:
                rec.refuse(f"the step replaces {type(opt).__name__}'s state {key!r}")
                return
            else:
                what = "the learning rate" if key == "lr" else f"{key!r}"
                rec.refuse(
                    f"the step sets {what} of {type(opt).__name__} to a number a replay cannot "
                    "recompute (a learning-rate scheduler's step()? call it outside the "
                    "compiled step)"
                )
                return
        if ({i: set(s) for i, s in opt.state.items()}, set(opt._workspace)) != shape:
            trace.status = "warmup"  # the first step creates the state: record the next one
            trace.reason = f"{type(opt).__name__} created its state"

    def _put_back(self, rec: Recording) -> None:
        for restore in reversed(self._restore):
            restore()
        for _, module in self.found.modules:  # tensors a module made during the call
            for tensor in (*module._parameters.values(), *module._buffers.values()):
                if tensor is not None:
                    if type(tensor.data) is Traced:
                        tensor.data = tensor.data.array
                    if tensor.grad is not None and type(tensor.grad.data) is Traced:
                        tensor.grad.data = tensor.grad.data.array
        rec.closed = True


# ------------------------------------------------------------------------------ helpers


def _get(container: Any, key: Any) -> Any:
    return getattr(container, key) if isinstance(key, str) and not isinstance(
        container, dict) else container[key]  # fmt: skip


def _set(container: Any, key: Any, value: Any) -> None:
    if isinstance(key, str) and not isinstance(container, dict):
        setattr(container, key, value)
    else:
        container[key] = value


def _output(rec: Recording, result: Any) -> Any:
    """The returned structure: ("tensor", value) for a new Tensor, ("known", tensor) for a
    tensor that existed before, ("value", value) for an array or number, ("const", x)."""
    if isinstance(result, Tensor):
        if (
            type(result.data) is Traced
            and result.data.storage >= 0
            and rec.storages[result.data.storage].persistent
            and rec.inputs.get(result.data.index) is not None
        ):
            return ("known", result)  # fmt: skip
        if type(result.data) is Traced:
            return ("tensor", result.data)
        return ("const", result)
    if isinstance(result, Traced | Sym):
        return ("value", result)
    if isinstance(result, tuple | list):
        return (type(result).__name__, [_output(rec, r) for r in result])
    if isinstance(result, dict):
        return ("dict", {k: _output(rec, v) for k, v in result.items()})
    if isinstance(result, np.ndarray):
        rec.refuse("the step returns an array it did not compute from its inputs")
    return ("const", result)
