"""Stand-ins that compute the real values of a step while the recording logs every operation.

``Traced`` holds a real array (or the NumPy scalar NumPy returned) and offers NumPy's
interface: its namespace (``__array_namespace__``, so ``array_module`` hands the ops this
module's recording namespace), its operators and methods, and NumPy's own dispatch
protocols (``__array_ufunc__``, ``__array_function__``), so ``np.exp(traced)`` written by a
user's op is seen too. Each call runs on the real arrays and is logged by the ``Recording``.

``Sym`` is a Python number that changes from step to step (a decayed learning rate, Adam's
step count): arithmetic on it is logged, so a replay recomputes it instead of freezing it;
comparing it records a guard. ``RecordingGenerator`` stands in for the library generator, so
dropout masks are drawn at the same point, in the same order, on every replay.

Whatever would turn a recorded value into a plain Python value (``float()``, ``.item()``,
``np.asarray``) goes to ``Recording.escape``, which refuses (naming the line) or gives up on
compiling this call; a truth test goes to ``Recording.guard``.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

# methods that change the array they are called on
MUTATING_METHODS = frozenset({"fill", "sort", "partition", "put", "itemset", "setfield", "resize"})
# methods and attributes whose result says nothing about the values: passed through as is
STATIC_METHODS = frozenset({"__len__", "__sizeof__"})
STATIC_ATTRIBUTES = frozenset({"strides", "itemsize", "nbytes", "flags", "shape", "size"})
ESCAPING_METHODS = frozenset({"item", "tolist", "tobytes", "tofile", "dump", "dumps", "__array__"})
# results whose shape depends on the values: a replay could not allocate or guard them
DATA_SHAPED = frozenset({"nonzero", "argwhere", "flatnonzero", "unique", "extract", "compress"})


def unwrap(x: Any) -> Any:
    """The real values inside ``x`` (Traced arrays and Syms inside tuples, lists, dicts)."""
    t = type(x)
    if t is Traced:
        return x.array
    if t is Sym:
        return x.value
    if t is tuple or t is list:
        return t(unwrap(v) for v in x)
    if t is dict:
        return {k: unwrap(v) for k, v in x.items()}
    if t is slice:
        return slice(unwrap(x.start), unwrap(x.stop), unwrap(x.step))
    return x


class Traced:
    """A real array (or NumPy scalar) whose every operation is logged (see the module doc)."""

    __slots__ = ("array", "rec", "index", "storage", "__weakref__")
    __array_priority__ = 1000.0
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, array: Any, rec: Any, index: int, storage: int) -> None:
        self.array, self.rec, self.index, self.storage = array, rec, index, storage

    # --- the array seam and NumPy's dispatch ------------------------------------------
    def __array_namespace__(self, api_version: str | None = None) -> Any:
        return self.rec.namespace

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        target = ufunc if method == "__call__" else getattr(ufunc, method)
        return self.rec.call("func", target, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return self.rec.call("func", func, args, kwargs)

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        return self.rec.escape(self, "np.asarray() of a recorded array", lambda: self.array)

    # --- metadata: the same for every replay of a signature ----------------------------
    shape = property(lambda self: self.array.shape)
    dtype = property(lambda self: self.array.dtype)
    ndim = property(lambda self: self.array.ndim)
    size = property(lambda self: self.array.size)
    T = property(lambda self: self.rec.call("attr", "T", (self,), {}))
    mT = property(lambda self: self.rec.call("attr", "mT", (self,), {}))

    @property
    def base(self) -> Any:
        """Whether the array is a view (code only asks ``base is not None``)."""
        return None if getattr(self.array, "base", None) is None else self.rec.base_of(self)

    @property
    def is_numpy_scalar(self) -> bool:
        """True when NumPy returned a scalar here (``backend.as_array`` makes it 0-d)."""
        return isinstance(self.array, np.generic)

    def __len__(self) -> int:
        return len(self.array)

    def __iter__(self) -> Any:
        for i in range(len(self.array)):
            yield self[i]

    def __getattr__(self, name: str) -> Any:  # array methods: sum, reshape, astype, ...
        if name.startswith("__") and name not in ESCAPING_METHODS:
            raise AttributeError(name)
        value = getattr(self.array, name)
        if name == "item" and self.array.dtype == bool:  # a truth value: a per-step bool,
            return _Method(self, name)  # whose truth test becomes a guard
        if name in ESCAPING_METHODS:
            return lambda *a, **k: self.rec.escape(self, f".{name}()", lambda: value(*a, **k))
        if name in DATA_SHAPED:
            return lambda *a, **k: self.rec.escape(self, f".{name}() (a data-dependent shape)",
                                                   lambda: value(*a, **k))  # fmt: skip
        if callable(value):
            return _Method(self, name)
        if name in STATIC_ATTRIBUTES:
            return value
        return self.rec.escape(self, f"the attribute .{name}", lambda: value)

    # --- Python values: guarded or refused --------------------------------------------
    def __bool__(self) -> bool:
        return self.rec.guard(self)

    def __float__(self) -> float:
        return self.rec.escape(self, "float()", lambda: float(self.array))

    def __int__(self) -> int:
        return self.rec.escape(self, "int()", lambda: int(self.array))

    def __index__(self) -> int:
        return self.rec.escape(self, "use as an index", lambda: operator.index(self.array))

    def __complex__(self) -> complex:
        return self.rec.escape(self, "complex()", lambda: complex(self.array))

    def __format__(self, spec: str) -> str:
        return self.rec.escape(self, "formatting", lambda: format(self.array, spec))

    def __repr__(self) -> str:
        return f"Traced({self.array!r})"

    def __contains__(self, value: Any) -> bool:
        return bool((self == value).any())

    # --- indexing ---------------------------------------------------------------------
    def __getitem__(self, index: Any) -> Any:
        return self.rec.call("getitem", None, (self, index), {})

    def __setitem__(self, index: Any, value: Any) -> None:
        self.rec.call("setitem", None, (self, index, value), {})

    # --- operators --------------------------------------------------------------------
    def __neg__(self):
        return self.rec.call("unary", "-", (self,), {})

    def __pos__(self):
        return self.rec.call("unary", "+", (self,), {})

    def __invert__(self):
        return self.rec.call("unary", "~", (self,), {})

    def __abs__(self):
        return self.rec.call("func", abs, (self,), {})


BINARY = {
    "+": "add", "-": "sub", "*": "mul", "/": "truediv", "//": "floordiv", "%": "mod",
    "**": "pow", "@": "matmul", "&": "and", "|": "or", "^": "xor", "<<": "lshift",
    ">>": "rshift",
}  # fmt: skip
COMPARISONS = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
OPERATOR_FUNCTIONS = {
    symbol: getattr(operator, name if name not in ("and", "or") else name + "_")
    for symbol, name in {**BINARY, **COMPARISONS}.items()
}
INPLACE_FUNCTIONS = {symbol: getattr(operator, "i" + name) for symbol, name in BINARY.items()}
UNARY_FUNCTIONS = {"-": operator.neg, "+": operator.pos, "~": operator.invert}


def _install_operators() -> None:
    """Traced's binary, reflected, in-place and comparison operators, each one logged call."""
    for symbol, name in BINARY.items():
        setattr(Traced, f"__{name}__", _binary(symbol))
        setattr(Traced, f"__r{name}__", _binary(symbol, reflected=True))
        setattr(Traced, f"__i{name}__", _inplace(symbol))
    for symbol, name in COMPARISONS.items():
        setattr(Traced, f"__{name}__", _binary(symbol))


def _binary(symbol: str, reflected: bool = False):
    def method(self, other):
        args = (other, self) if reflected else (self, other)
        return self.rec.call("binop", symbol, args, {})

    return method


def _inplace(symbol: str):
    def method(self, other):  # an array changes in place; a NumPy scalar gives a new one
        return self.rec.call("inplace", symbol, (self, other), {})

    return method


_install_operators()


class _Method:
    """A bound array method of a Traced array (``x.sum``), logged when called."""

    __slots__ = ("owner", "name")

    def __init__(self, owner: Traced, name: str) -> None:
        self.owner, self.name = owner, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.owner.rec.call("method", self.name, (self.owner, *args), kwargs)


class Namespace:
    """NumPy through the recording: what ``array_module`` returns for a Traced array."""

    def __init__(self, rec: Any, module: Any = np) -> None:
        self._rec, self._module = rec, module

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._module, name)
        if isinstance(target, type) or not callable(target):
            if type(target).__name__ == "module":
                if name == "random":  # draws a replay would not repeat in order
                    return self._rec.refuse(f"np.{name} through the array seam",
                                            lambda: target)  # fmt: skip
                return Namespace(self._rec, target)  # np.linalg, np.lib.stride_tricks, ...
            return target  # dtypes, errstate, constants such as np.pi and np.newaxis
        return _Function(self._rec, target)


class _Function:
    """A NumPy function or ufunc seen through the recording namespace; ufunc methods
    (``xp.add.reduce``, ``xp.add.at``) are logged too."""

    __slots__ = ("rec", "target")

    def __init__(self, rec: Any, target: Any) -> None:
        self.rec, self.target = rec, target

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.rec.call("func", self.target, args, kwargs)

    def __getattr__(self, method: str) -> Any:
        value = getattr(self.target, method)
        return _Function(self.rec, value) if callable(value) else value


class Sym:
    """A per-step Python number (see the module doc). Arithmetic is logged; comparisons and
    truth tests record guards; ``float()`` and friends are refused."""

    __slots__ = ("value", "rec", "index", "__weakref__")
    __array_priority__ = 1001.0

    def __init__(self, value: Any, rec: Any, index: int) -> None:
        self.value, self.rec, self.index = value, rec, index

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        target = ufunc if method == "__call__" else getattr(ufunc, method)
        return self.rec.call("func", target, inputs, kwargs)

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        return self.rec.escape(self, "np.asarray() of a per-step number",
                               lambda: np.asarray(self.value))  # fmt: skip

    def __bool__(self) -> bool:
        return self.rec.guard(self)

    def __float__(self) -> float:
        return self.rec.escape(self, "float() of a per-step number", lambda: float(self.value))

    def __int__(self) -> int:
        return self.rec.escape(self, "int() of a per-step number", lambda: int(self.value))

    def __index__(self) -> int:
        return self.rec.escape(self, "a per-step number used as an index or count",
                               lambda: operator.index(self.value))  # fmt: skip

    def __round__(self, ndigits: int | None = None) -> Any:
        return self.rec.escape(self, "round() of a per-step number",
                               lambda: round(self.value, ndigits))  # fmt: skip

    def __hash__(self) -> int:
        return self.rec.escape(self, "a per-step number used as a dict key",
                               lambda: hash(self.value))  # fmt: skip

    def __repr__(self) -> str:
        return repr(self.value)

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    def __neg__(self):
        return self.rec.call("unary", "-", (self,), {})

    def __pos__(self):
        return self.rec.call("unary", "+", (self,), {})

    def __abs__(self):
        return self.rec.call("func", abs, (self,), {})


def _install_sym_operators() -> None:
    for symbol, name in BINARY.items():
        if symbol == "@":
            continue
        setattr(Sym, f"__{name}__", _sym_binary(symbol))
        setattr(Sym, f"__r{name}__", _sym_binary(symbol, reflected=True))
    for symbol, name in COMPARISONS.items():
        setattr(Sym, f"__{name}__", _sym_compare(symbol))


def _sym_binary(symbol: str, reflected: bool = False):
    def method(self, other):
        if type(other) is Traced:
            return NotImplemented  # the array's reflected operator logs it
        args = (other, self) if reflected else (self, other)
        return self.rec.call("binop", symbol, args, {})

    return method


def _sym_compare(symbol: str):
    def method(self, other):
        if type(other) is Traced:
            return NotImplemented
        return self.rec.compare(symbol, self, other)

    return method


_install_sym_operators()


class RecordingGenerator:
    """The library generator during a recording: each draw is logged as a call on the
    generator a replay finds with ``tinygrad_np.rng.get_rng()``."""

    def __init__(self, rec: Any, generator: np.random.Generator) -> None:
        self._rec, self._generator = rec, generator

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._generator, name)
        if not callable(value) or name.startswith("_") or name in ("spawn", "bit_generator"):
            return self._rec.refuse(f"the library generator's .{name} inside a compiled step",
                                    lambda: value)  # fmt: skip
        return lambda *args, **kwargs: self._rec.call("rng", name, args, kwargs)
