"""The log a recording call writes: every operation on a traced value, in order, with what it
read and wrote and where in the step it happened (forward, backward or update; which op).

Values are the ``Traced`` arrays and ``Sym`` numbers of ``tracer``; each Traced array belongs
to a *storage* (the memory it lives in: views share their base's), so the analysis in
``program`` can tell what an in-place operation changes. ``escape`` and ``guard`` decide what
happens when a value would turn into a plain Python value.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_np.compiler.frames import JIT_DIR, engine_codes, user_location
from tinygrad_np.compiler.tracer import (
    INPLACE_FUNCTIONS,
    MUTATING_METHODS,
    OPERATOR_FUNCTIONS,
    UNARY_FUNCTIONS,
    Namespace,
    Sym,
    Traced,
    unwrap,
)

MUTATING_FUNCTIONS = frozenset(
    {np.copyto, np.put, np.place, np.putmask, np.fill_diagonal, np.put_along_axis}
)
# functions that read only shapes, dtypes or layouts: never logged
STATIC_FUNCTIONS = frozenset(
    {np.shape, np.ndim, np.size, np.result_type, np.iscomplexobj, np.isrealobj, np.isscalar,
     np.may_share_memory, np.shares_memory}
)  # fmt: skip


class JitError(RuntimeError):
    """A step that a compiled replay could not repeat faithfully (the message names the line)."""


@dataclass(slots=True)
class Op:
    """One logged operation. ``kind`` says how to write it back as code (see ``codegen``)."""

    kind: str  # func method binop inplace unary getitem setitem attr rng guard compare
    target: Any  # the function, method or attribute name, or the operator symbol
    args: tuple
    kwargs: dict
    results: tuple  # the new values it made (Traced or Sym)
    reads: tuple  # the values it read
    writes: tuple  # the storages it changed in place (out= targets included)
    phase: str  # forward, backward or update
    ctx: Any = None  # the Function whose forward or backward ran it
    frame: Any = None  # the innermost frame outside the jit package (names, lines)
    expected: Any = None  # a guard's outcome at record time
    returned: Any = None  # the value a call returned when it made none (out=, aliases)
    info: dict = field(default_factory=dict)  # what the analysis adds (buffers, ...)


@dataclass
class Storage:
    """The memory under one or more Traced arrays."""

    index: int
    root: Any  # the array owning the memory (kept alive by the values)
    persistent: bool = False  # an input the step reads from outside (parameters, state, args)
    source: Any = None  # where a persistent storage comes from (set by the recorder)
    creator: int = -1  # the value whose making created this memory (a fresh result)


class Recording:
    """The log of one recording call (see the module doc)."""

    def __init__(self, strict: bool, stop_frame: Any, generator: Any = None) -> None:
        self.strict = strict
        self.stop_frame = stop_frame  # the recorder's frame: context walks end there
        self.generator = generator  # the real library generator behind RecordingGenerator
        self.ops: list[Op] = []
        self.values: list[Any] = []  # every Traced and Sym, by index
        self.storages: list[Storage] = []
        self._roots: dict[int, Storage] = {}  # id(root array) -> storage
        self._by_id: dict[int, Traced] = {}  # id(array) -> the first value holding it
        self.namespace = Namespace(self)
        self.logging = True  # False once this call is no longer being compiled
        self.closed = False  # True after the call: a leaked value raises when used
        self.failure: str | None = None
        self.inputs: dict[int, Any] = {}  # value index -> where a replay reads it
        self.apply_frames: dict[int, Any] = {}  # id(frame) -> frame of Function.apply calls
        self.user_frames: dict[int, Any] = {}  # the step function's own frames
        self.contexts: dict[int, tuple[Any, int]] = {}  # id(ctx) -> (ctx, its number)
        self._numbers: dict[str, int] = {}
        self._codes = engine_codes()
        self._frames: dict[int, tuple] = {}  # id(frame) -> (frame, phase, op): see _frame_info

    # --- values ----------------------------------------------------------------------
    def traced(self, array: Any, persistent: bool = False, source: Any = None) -> Traced:
        """A new value for ``array`` (an input when ``persistent``)."""
        storage = None
        if isinstance(array, np.ndarray):
            root = array
            while isinstance(root.base, np.ndarray):
                root = root.base
            storage = self._roots.get(id(root))
            if storage is None or persistent:
                storage = Storage(len(self.storages), root, persistent, source)
                storage.creator = -1 if persistent else len(self.values)
                self.storages.append(storage)
                self._roots[id(root)] = storage
        t = Traced(array, self, len(self.values), -1 if storage is None else storage.index)
        self.values.append(t)
        if type(array) is np.ndarray:
            self._by_id.setdefault(id(array), t)
        return t

    def fresh(self, t: Traced) -> bool:
        """Whether ``t`` was made in memory of its own: a new result, not a view (a copying
        reshape's result is a view of the hidden copy, and fresh all the same)."""
        return t.storage >= 0 and self.storages[t.storage].creator == t.index

    def sym(self, value: Any) -> Sym:
        s = Sym(value, self, len(self.values))
        self.values.append(s)
        return s

    def input(self, value: Any, source: Any) -> Any:
        """Mark ``value`` (a new Traced or Sym) as read from ``source`` at each replay."""
        self.inputs[value.index] = source
        return value

    def base_of(self, t: Traced) -> Any:
        root = self.storages[t.storage].root if t.storage >= 0 else None
        return root if root is not None else True

    # --- logging ---------------------------------------------------------------------
    def call(self, kind: str, target: Any, args: tuple, kwargs: dict) -> Any:
        """Run one operation on the real values and log it (see ``Op``)."""
        if self.closed:
            raise JitError(
                "a value of a recorded step was kept after the step and used later; results "
                "of a compiled step are the Tensors it returns (and the parameters' .grad)"
            )
        if kind == "func" and target in STATIC_FUNCTIONS:
            return target(*unwrap(args), **unwrap(kwargs))
        if self.logging and _data_shaped(kind, target, args):
            self.refuse(
                "an operation whose result's shape depends on the values (indexing with a "
                "boolean mask the step computes, nonzero, unique): a replay could not size it; "
                "use a where() or a multiplication by the mask instead"
            )
        real = _execute(kind, target, unwrap(args), unwrap(kwargs), self.generator)
        if not self.logging:
            return args[0] if kind == "inplace" and real is args[0].array else real
        reads, writes = [], []
        _collect(args, reads)
        out = kwargs.get("out")
        _collect({k: v for k, v in kwargs.items() if k != "out"}, reads)
        if out is not None:
            self._writes(out, writes, "writes its out= result into")
            _collect(out, reads)  # the out= array is a value the call needs (a view, say)
        if kind in ("inplace", "setitem") or (kind == "method" and target in MUTATING_METHODS):
            self._writes(args[0], writes, "changes in place")
        elif kind == "func" and (target in MUTATING_FUNCTIONS or _is_at(target)):
            self._writes(args[0], writes, "changes in place")
        elif kind == "rng" and target in ("shuffle",):
            self._writes(args[0], writes, "shuffles in place")
        if kind == "inplace" and real is args[0].array:
            results, value = (), args[0]
        elif kind == "inplace":  # a NumPy scalar: x += y made a new value, as x = x + y
            writes.clear()
            kind = "binop"
            results_list: list[Any] = []
            value = self._wrap(real, results_list)
            results = tuple(results_list)
        else:
            results_list: list[Any] = []
            value = self._wrap(real, results_list)
            results = tuple(results_list)
        if not results and not writes and kind != "rng":
            return value  # an alias of a value it was given (asarray, astype(copy=False))
        phase, ctx, frame = self._context()
        returned = value if not results else None
        self.ops.append(
            Op(kind, target, args, kwargs, results, tuple(reads), tuple(writes), phase, ctx,
               frame, returned=returned)
        )  # fmt: skip
        return value

    def _writes(self, target: Any, writes: list, what: str) -> None:
        targets = target if isinstance(target, tuple) else (target,)
        for t in targets:
            if type(t) is Traced and t.storage >= 0:
                writes.append(t.storage)
            elif isinstance(t, np.ndarray):
                self.refuse(f"an operation that {what} an array the compiled step does not "
                            "follow (state it did not find: pass it as an argument, or keep "
                            "it in a module or optimizer the step uses)")  # fmt: skip

    def _wrap(self, real: Any, results: list) -> Any:
        if isinstance(real, np.ndarray | np.generic):
            if type(real) is np.ndarray:  # an alias of a value it was given: no new value
                known = self._by_id.get(id(real))
                if known is not None and known.array is real:
                    return known
            t = self.traced(real)
            results.append(t)
            return t
        if (
            isinstance(real, tuple | list)
            and real
            and all(isinstance(r, np.ndarray | np.generic) for r in real)
        ):
            return type(real)(self._wrap(r, results) for r in real)
        if isinstance(real, bool | int | float | complex) and not isinstance(real, np.generic):
            s = self.sym(real)
            results.append(s)
            return s
        if real is None:
            return None
        return self.refuse(f"{_describe(self.ops, real)} inside a compiled step: a replay could "
                           "not repeat it (printing or converting a tensor's values)",
                           lambda: real)  # fmt: skip

    def guard(self, value: Any) -> bool:
        """``bool(value)`` for a traced value: the outcome becomes a guard of the replay."""
        outcome = bool(unwrap(value))
        if self.logging:
            self._log_guard("guard", None, (value,), outcome)
        return outcome

    def compare(self, symbol: str, a: Any, b: Any) -> Any:
        """A comparison of per-step numbers: computed now, checked again at each replay."""
        outcome = OPERATOR_FUNCTIONS[symbol](unwrap(a), unwrap(b))
        if self.logging:
            self._log_guard("compare", symbol, (a, b), bool(outcome))
        return outcome

    def _log_guard(self, kind: str, target: Any, args: tuple, outcome: bool) -> None:
        reads: list[Any] = []
        _collect(args, reads)
        phase, ctx, frame = self._context()
        self.ops.append(
            Op(kind, target, args, {}, (), tuple(reads), (), phase, ctx, frame, outcome)
        )

    # --- giving up -------------------------------------------------------------------
    def escape(self, value: Any, what: str, compute: Any) -> Any:
        """A recorded value turning into a plain Python value: refused (strict), or this
        call is not compiled and continues eagerly."""
        hint = (
            "return the Tensor from the step and call .item() or .numpy() on the result"
            if "item" in what or "float" in what or "asarray" in what or "format" in what
            else "keep the step's computation in Tensor ops"
        )
        return self.refuse(f"{what} inside a compiled step: a replay could not repeat it ({hint})",
                           compute)  # fmt: skip

    def refuse(self, message: str, compute: Any = None) -> Any:
        """Stop logging: this call is not compiled. ``compute()`` gives the real value a
        caller returns in place of a recorded one."""
        if self.closed:
            raise JitError(f"{message}; and the recording this value came from has ended")
        if self.logging:  # the call goes on eagerly; strict raises when it ends (``record``)
            self.failure = f"{message} (at {user_location()})"
            self.logging = False
        return None if compute is None else compute()

    # --- where an operation ran --------------------------------------------------------
    def _context(self) -> tuple[str, Any, Any]:
        f = sys._getframe(3)
        while f is not None and f.f_code.co_filename.startswith(JIT_DIR):
            f = f.f_back
        phase, ctx = self._frame_info(f)
        return phase, ctx, f

    def _frame_info(self, f: Any) -> tuple[str, Any]:
        """(phase, nearest op) of frame ``f``: "backward" under the engine's loop, "update"
        under an optimizer's step, else "forward"; worked out once per frame (frames are
        kept alive by the cache, so their ids stay theirs)."""
        cache = self._frames
        walked = []
        while f is not None and id(f) not in cache and f is not self.stop_frame:
            walked.append(f)
            f = f.f_back
        if f is None or f is self.stop_frame:
            phase, ctx = "forward", None
            if walked:  # the outermost frame walked is the step function's own
                self.user_frames[id(walked[-1])] = walked[-1]
        else:
            phase, ctx = cache[id(f)][1:]
        forward, backward, apply_code, engine, steps = self._codes
        for f in reversed(walked):
            code = f.f_code
            if code in forward or code in backward:
                own = f.f_locals.get(code.co_varnames[0]) if code.co_argcount else None
                if own is not None:
                    ctx = own
                    if id(own) not in self.contexts:
                        name = getattr(own, "name", "op")
                        self._numbers[name] = self._numbers.get(name, 0) + 1
                        self.contexts[id(own)] = (own, self._numbers[name])
            elif code is apply_code:
                self.apply_frames[id(f)] = f
                ctx = None  # an op applied inside another's backward (create_graph) is its own
            elif code is engine:
                phase = "backward"
            elif code in steps and phase == "forward":
                phase = "update"
            cache[id(f)] = (f, phase, ctx)
        return phase, ctx


_DATA_SHAPED = frozenset({"nonzero", "argwhere", "flatnonzero", "unique", "extract", "compress"})


def _data_shaped(kind: str, target: Any, args: tuple) -> bool:
    if kind == "getitem":
        index = args[1] if type(args[1]) is tuple else (args[1],)
        return any(type(i) is Traced and i.array.dtype == bool for i in index)
    if kind == "func":
        name = getattr(target, "__name__", "")
        return name in _DATA_SHAPED or (target is np.where and len(args) == 1)
    return False


def _describe(ops: list, real: Any) -> str:
    return f"an operation that returns a {type(real).__name__}"


def _collect(x: Any, out: list) -> None:
    t = type(x)
    if t is Traced or t is Sym:
        out.append(x)
    elif t is tuple or t is list:
        for v in x:
            _collect(v, out)
    elif t is dict:
        for v in x.values():
            _collect(v, out)
    elif t is slice:
        _collect((x.start, x.stop, x.step), out)


def _is_at(target: Any) -> bool:
    return getattr(target, "__name__", None) == "at" and isinstance(
        getattr(target, "__self__", None), np.ufunc
    )


def _execute(kind: str, target: Any, args: tuple, kwargs: dict, generator: Any) -> Any:
    if kind == "func":
        return target(*args, **kwargs)
    if kind == "method":
        return getattr(args[0], target)(*args[1:], **kwargs)
    if kind == "binop":
        return OPERATOR_FUNCTIONS[target](*args)
    if kind == "inplace":
        return INPLACE_FUNCTIONS[target](*args)
    if kind == "unary":
        return UNARY_FUNCTIONS[target](args[0])
    if kind == "getitem":
        return args[0][args[1]]
    if kind == "setitem":
        args[0][args[1]] = args[2]
        return None
    if kind == "attr":
        return getattr(args[0], target)
    if kind == "rng":
        return getattr(generator, target)(*args, **kwargs)
    raise AssertionError(kind)
