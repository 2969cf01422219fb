"""``CompiledStep``: the object ``tg.jit`` returns. It records, caches and replays.

A call computes the signature of its arguments (shapes, dtypes and layouts of arrays and
Tensors, Python numbers by value, grad mode). An unseen signature runs the step eagerly as a
recording call; the recording becomes a compiled replay function. A seen signature runs its
replay, which checks its guards first and answers ``RETRY`` when the state no longer matches
(another train/eval mode, new parameters, a module changed, a branch that would go the other
way): that call is recorded anew. What cannot be recorded faithfully runs eagerly with a
``JitWarning`` (or raises ``JitError`` with ``strict=True``).
"""

from __future__ import annotations

import functools
import inspect
import types
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_np.autograd import _state as _grad_state
from tinygrad_np.compiler.args import flatten
from tinygrad_np.compiler.codegen import RETRY, compile_source
from tinygrad_np.compiler.program import plan
from tinygrad_np.compiler.record import Recorder
from tinygrad_np.compiler.recording import JitError
from tinygrad_np.compiler.source import write
from tinygrad_np.compiler.state import discover
from tinygrad_np.tensor import Tensor

MAX_RECORDINGS = 8  # per signature: a step recorded more often than this runs eagerly
MAX_WARMUPS = 3  # calls that create state (an optimizer's first step) before giving up


class JitWarning(UserWarning):
    """A compiled step runs eagerly for some signature; the message says why and where."""


class _Entry:
    __slots__ = ("replay", "source", "plan", "recordings", "warmups", "eager", "reason")

    def __init__(self) -> None:
        self.replay: Callable | None = None
        self.source = ""
        self.plan: Any = None
        self.recordings = self.warmups = 0
        self.eager = False
        self.reason = ""


class CompiledStep:
    """A step function that records itself once and then replays as generated NumPy code.

    >>> import numpy as np, tinygrad_np as tg
    >>> _ = tg.manual_seed(0)
    >>> model = tg.nn.Linear(2, 3)
    >>> opt = tg.optim.SGD(model.parameters(), lr=0.1)
    >>> @tg.jit
    ... def step(X, y):
    ...     opt.zero_grad()
    ...     loss = tg.nn.functional.cross_entropy(model(X), y)
    ...     loss.backward()
    ...     opt.step()
    ...     return loss
    >>> X, y = np.ones((4, 2), np.float32), np.array([0, 1, 2, 0])
    >>> losses = [float(step(X, y).item()) for _ in range(3)]  # eager, recording, replay
    >>> losses[0] > losses[1] > losses[2]
    True
    >>> print(step.source().splitlines()[0])
    def step(X, y):
    """

    def __init__(self, fn: Callable, strict: bool = False, cache_size: int = 8) -> None:
        if not callable(fn):
            raise TypeError(f"tg.jit: expected a function, got {type(fn).__name__}")
        if cache_size < 1:
            raise ValueError(f"tg.jit: cache_size must be >= 1, got {cache_size}")
        self.fn, self.strict, self.cache_size = fn, strict, cache_size
        functools.update_wrapper(self, fn, updated=())
        self._cache: OrderedDict[tuple, _Entry] = OrderedDict()
        self._last: _Entry | None = None
        try:
            self._params = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):
            self._params = []

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        return self if obj is None else types.MethodType(self, obj)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        signature, leaves = _fast_signature(args) if not kwargs else (None, None)
        if signature is None:  # nested arguments, keywords, numbers: the general way
            leaves, key = [], [_grad_state.grad_enabled]
            flatten(args, leaves, key)
            flatten(kwargs, leaves, key)
            signature = tuple(key)
        entry = self._cache.get(signature)
        if entry is None:
            entry = self._cache[signature] = _Entry()
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        elif entry is not self._last:
            self._cache.move_to_end(signature)
        self._last = entry
        if entry.replay is not None:
            out = entry.replay(*leaves)
            if out is not RETRY:
                return out
        if entry.eager:
            return self.fn(*args, **kwargs)
        return self._record(entry, args, kwargs, leaves)

    # --- recording -------------------------------------------------------------------------
    def _record(self, entry: _Entry, args: tuple, kwargs: dict, leaves: list) -> Any:
        names = self._leaf_names(args, kwargs)
        found = discover(self.fn, args, kwargs, self._arg_names(args))
        if entry.warmups == 0 and any(not opt.state for _, opt in found.optimizers):
            # A fresh optimizer creates its state in this call, so a recording of it would
            # be of a first step, unlike the later ones: run it eagerly and record the next.
            entry.warmups += 1
            return _without_graph(self.fn(*args, **kwargs))  # as replays return them
        result, trace = Recorder(self.fn, found, self.strict).run(args, kwargs, leaves, names)
        entry.replay = None
        if trace.status == "failed":
            return self._give_up(entry, result, trace.reason)
        if trace.status == "warmup":
            entry.warmups += 1
            if entry.warmups > MAX_WARMUPS:
                return self._give_up(entry, result, f"it changes state at every call "
                                                    f"({trace.reason})")  # fmt: skip
            return result
        entry.recordings += 1
        if entry.recordings > MAX_RECORDINGS:
            return self._give_up(entry, result, "its guards failed at every call: something "
                                 "the step depends on changes between calls")  # fmt: skip
        try:
            p = plan(trace, self.strict)
            source, namespace = write(p, self._name)
            entry.replay = compile_source(source, self._name, namespace)
        except JitError as error:
            if self.strict:
                raise
            return self._give_up(entry, result, str(error))
        entry.source, entry.plan = source, p
        return result

    def _give_up(self, entry: _Entry, result: Any, reason: str) -> Any:
        entry.eager, entry.reason = True, reason
        warnings.warn(f"tg.jit: {self._name} runs eagerly: {reason}", JitWarning, stacklevel=4)
        return result

    @property
    def _name(self) -> str:
        return getattr(self.fn, "__name__", "step")

    def _arg_names(self, args: tuple) -> list[str]:
        names = [p.name for p in self._params if p.kind in (p.POSITIONAL_ONLY,
                                                            p.POSITIONAL_OR_KEYWORD)]  # fmt: skip
        return [names[i] if i < len(names) else f"arg{i}" for i in range(len(args))]

    def _leaf_names(self, args: tuple, kwargs: dict) -> list[str]:
        names: list[str] = []
        for name, value in [*zip(self._arg_names(args), args), *kwargs.items()]:
            _leaf_names(name, value, names)
        return names

    # --- what a user can look at -----------------------------------------------------------
    def source(self) -> str:
        """The Python source of the replay that ran last (for the latest signature)."""
        entry = self._last
        if entry is None or entry.replay is None:
            why = f" ({entry.reason})" if entry is not None and entry.reason else ""
            raise RuntimeError(
                f"tg.jit: {self._name} has no compiled replay yet{why}; call it at least twice "
                "with the same signature (the first call of a fresh optimizer creates its state)"
            )
        return entry.source

    @property
    def nbytes(self) -> int:
        """Bytes of the buffers the latest replay keeps for its temporaries between calls
        (besides those its new gradients live in, which ``.grad`` holds as it would after
        an eager step: ``gradient_nbytes``)."""
        entry = self._last
        return 0 if entry is None or entry.plan is None else entry.plan.nbytes

    @property
    def gradient_nbytes(self) -> int:
        """Bytes of the buffers the latest replay writes new gradients into."""
        entry = self._last
        return 0 if entry is None or entry.plan is None else entry.plan.gradient_nbytes

    @property
    def compiled(self) -> bool:
        """Whether the latest call's signature has a compiled replay."""
        return self._last is not None and self._last.replay is not None

    def __repr__(self) -> str:
        return f"<tg.jit of {getattr(self.fn, '__qualname__', self._name)}>"


def _without_graph(x: Any) -> Any:
    """Results as a replay returns them: Tensors made by the step cut off from its graph."""
    if isinstance(x, Tensor):
        return Tensor._wrap(x.data, False) if x._ctx is not None else x
    if type(x) in (tuple, list):
        return type(x)(_without_graph(v) for v in x)
    if type(x) is dict:
        return {k: _without_graph(v) for k, v in x.items()}
    return x


def _fast_signature(args: tuple) -> tuple[Any, Any]:
    """``flatten``'s signature when every argument is an array or a Tensor (the usual step),
    without its recursion; (None, None) otherwise."""
    key: list = [_grad_state.grad_enabled, (tuple, len(args))]
    for x in args:
        if type(x) is np.ndarray:
            key.append((x.shape, x.dtype, x.strides))
        elif isinstance(x, Tensor):
            d = x.data
            key.append((Tensor, d.shape, d.dtype, getattr(d, "strides", None), x.requires_grad))
        else:
            return None, None
    key.append((dict, ()))
    return tuple(key), args


def _leaf_names(name: str, value: Any, out: list[str]) -> None:
    if isinstance(value, Tensor) or type(value) is np.ndarray:
        out.append(name)
    elif type(value) in (tuple, list):
        for i, v in enumerate(value):
            _leaf_names(f"{name}_{i}", v, out)
    elif type(value) is dict:
        for k, v in value.items():
            _leaf_names(f"{name}_{k}", v, out)


def jit(fn: Callable | None = None, *, strict: bool = False, cache_size: int = 8) -> Any:
    """Compile a training or inference step: ``tg.jit(step)`` or ``@tg.jit``.

    The step may call models, losses, ``backward()`` and ``optimizer.step()``. A call with
    a new signature runs eagerly and records every array operation; later calls replay the
    generated NumPy code (``step.source()``), bit for bit what the eager step computes (a
    NaN's own sign and payload aside). ``strict=True`` raises ``JitError`` where the default
    runs the step eagerly with a ``JitWarning``, once the call is done. See docs/jit.md.
    """
    if fn is None:
        return functools.partial(jit, strict=strict, cache_size=cache_size)
    return CompiledStep(fn, strict=strict, cache_size=cache_size)
