"""What a step uses besides its arguments: the modules, optimizers and tensors it can reach.

``discover`` looks where a Python function finds its objects: its closure, the globals it
names, its defaults, ``self`` of a bound method, and (a few levels down) the functions,
containers and plain objects found there. Modules bring their sub-modules, parameters and
buffers; optimizers their parameters and state. Arrays and Python numbers bound to names the
step reads become inputs or guards of a replay. Each thing gets a readable name for the code.
"""

from __future__ import annotations

import builtins
import dis
import functools
import keyword
import os
import re
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_np.nn.module import Module
from tinygrad_np.optim.lr_scheduler import LRScheduler
from tinygrad_np.optim.optimizer import Optimizer
from tinygrad_np.tensor import Tensor

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCALARS = (bool, int, float, complex, str, bytes, type(None))


@dataclass
class Binding:
    """A name the step reads from its globals (``where`` a dict) or closure (a cell)."""

    where: Any
    key: str | None  # the global's name; None for a closure cell
    name: str
    value: Any

    def get(self) -> Any:
        return self.where.cell_contents if self.key is None else self.where.get(self.key)

    def set(self, value: Any) -> None:
        if self.key is None:
            self.where.cell_contents = value
        else:
            self.where[self.key] = value


@dataclass
class Found:
    """Everything ``discover`` found, each once, with a readable name."""

    modules: list[tuple[str, Module]] = field(default_factory=list)
    tensors: list[tuple[str, Tensor]] = field(default_factory=list)
    optimizers: list[tuple[str, Optimizer]] = field(default_factory=list)
    schedulers: list[LRScheduler] = field(default_factory=list)
    arrays: list[Binding] = field(default_factory=list)  # ndarrays: inputs of a replay
    constants: list[Binding] = field(default_factory=list)  # numbers, objects: guarded
    generators: list[np.random.Generator] = field(default_factory=list)
    objects: list[tuple[str, Any]] = field(default_factory=list)  # plain objects: guarded
    names: set[str] = field(default_factory=set)

    def unique(self, name: str) -> str:
        return unique_identifier(name, self.names)


def identifier(text: str) -> str:
    """``text`` as a Python identifier that shadows nothing the generated code needs."""
    name = re.sub(r"\W+", "_", text).strip("_") or "value"
    if name[0].isdigit():
        name = "v" + name
    if keyword.iskeyword(name) or hasattr(builtins, name) or name in ("np", "rng"):
        name += "_"
    return name


def unique_identifier(text: str, taken: set[str]) -> str:
    """``identifier(text)``, numbered (``relu_2``) if ``taken`` has it; added to ``taken``."""
    base = identifier(text)
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


def discover(fn: Any, args: tuple, kwargs: dict, arg_names: list[str]) -> Found:
    """The modules, optimizers, tensors and bound names that ``fn`` can reach."""
    found = Found()
    seen: set[int] = set()
    for name, value in [*zip(arg_names, args), *kwargs.items()]:
        _visit(found, seen, name, value, depth=2, binding=None)
    _visit_function(found, seen, fn, depth=3, root=True)
    _name_tensors(found)
    return found


def _visit_function(found: Found, seen: set, fn: Any, depth: int, root: bool = False) -> None:
    if id(fn) in seen or depth < 0:
        return
    seen.add(id(fn))
    if isinstance(fn, functools.partial):
        for i, value in enumerate(fn.args):
            _visit(found, seen, f"arg{i}", value, depth, None)
        for key, value in fn.keywords.items():
            _visit(found, seen, key, value, depth, None)
        _visit_function(found, seen, fn.func, depth, root)
        return
    if isinstance(fn, types.MethodType):
        _visit(found, seen, "self", fn.__self__, depth, None)
        fn = fn.__func__
    if not isinstance(fn, types.FunctionType):
        if callable(fn) and not isinstance(fn, type):  # a callable object: its attributes
            _visit(found, seen, type(fn).__name__.lower(), fn, depth, None)
        return
    if fn.__code__.co_filename.startswith(_PACKAGE) and not root:
        return  # the library's own helpers reach only library state
    code = fn.__code__
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell: a name assigned later
            continue
        _visit(found, seen, name, value, depth, Binding(cell, None, name, value))
    for name in _global_names(code):
        if name in fn.__globals__:
            value = fn.__globals__[name]
            _visit(found, seen, name, value, depth, Binding(fn.__globals__, name, name, value))
    for value in fn.__defaults__ or ():
        _visit(found, seen, "default", value, depth, None)
    for key, value in (fn.__kwdefaults__ or {}).items():
        _visit(found, seen, key, value, depth, None)


def _global_names(code: types.CodeType) -> list[str]:
    names = [
        i.argval for i in dis.get_instructions(code) if i.opname in ("LOAD_GLOBAL", "LOAD_NAME")
    ]
    for const in code.co_consts:
        if isinstance(const, types.CodeType):  # lambdas, comprehensions, inner functions
            names.extend(_global_names(const))
    return list(dict.fromkeys(names))


def _visit(found: Found, seen: set, name: str, value: Any, depth: int, binding: Any) -> None:
    if isinstance(value, SCALARS):
        if binding is not None:
            found.constants.append(binding)
        return
    if isinstance(value, types.ModuleType) or isinstance(value, type):
        return
    if isinstance(value, types.FunctionType | types.MethodType | functools.partial):
        _visit_function(found, seen, value, depth - 1)
        if binding is not None:
            found.constants.append(binding)  # a helper rebound to another function
        return
    key = id(value)
    if key in seen:
        return
    seen.add(key)
    if isinstance(value, Module):
        for path, module in value.named_modules():
            if id(module) not in {id(m) for _, m in found.modules}:
                found.modules.append((_module_name(name, path, value), module))
            seen.add(id(module))
    elif isinstance(value, Optimizer):
        found.optimizers.append((found.unique(name), value))
    elif isinstance(value, LRScheduler):
        found.schedulers.append(value)
        _visit(found, seen, "optimizer", value.optimizer, depth, None)
    elif isinstance(value, Tensor):
        found.tensors.append((name, value))
    elif isinstance(value, np.ndarray):
        if binding is not None:
            found.arrays.append(binding)
    elif isinstance(value, np.random.Generator):
        found.generators.append(value)
    elif isinstance(value, np.generic):
        if binding is not None:
            found.constants.append(binding)
    elif depth > 0 and isinstance(value, list | tuple | set | frozenset):
        for i, item in enumerate(value):
            _visit(found, seen, f"{name}_{i}", item, depth - 1, None)
    elif depth > 0 and isinstance(value, dict):
        for k, item in value.items():
            _visit(found, seen, f"{name}_{k}", item, depth - 1, None)
    elif depth > 0 and isinstance(getattr(value, "__dict__", None), dict):
        found.objects.append((name, value))
        for k, item in vars(value).items():
            _visit(found, seen, k, item, depth - 1, None)
    if binding is not None and not isinstance(value, np.ndarray):
        found.constants.append(binding)  # the name must keep pointing at this object


def _module_name(root: str, path: str, module: Module) -> str:
    return root if not path else f"{root}.{path}"


def _name_tensors(found: Found) -> None:
    """Readable names: ``fc1_weight`` for ``fc1.weight``; ``linear0_weight`` for a
    Sequential's ``0.weight``; a found tensor keeps its variable's name."""
    named: list[tuple[str, Tensor]] = []
    ids: set[int] = set()
    roots = [m for name, m in found.modules if name and "." not in name] or [
        m for _, m in found.modules[:1]
    ]
    for root in roots:
        for path, tensor in (*root.named_parameters(), *root.named_buffers()):
            if id(tensor) not in ids:
                ids.add(id(tensor))
                named.append((found.unique(_readable_path(root, path)), tensor))
    for _, module in found.modules:  # modules found apart from any root
        for path, tensor in (*module.named_parameters(), *module.named_buffers()):
            if id(tensor) not in ids:
                ids.add(id(tensor))
                named.append((found.unique(_readable_path(module, path)), tensor))
    for _, opt in found.optimizers:
        for group in opt.param_groups:
            for p in group["params"]:
                if id(p) not in ids:
                    ids.add(id(p))
                    named.append((found.unique(p.name or "param"), p))
    for name, tensor in found.tensors:
        if id(tensor) not in ids:
            ids.add(id(tensor))
            named.append((found.unique(name), tensor))
    found.tensors = named


def _readable_path(root: Module, path: str) -> str:
    parts, module, out = path.split("."), root, []
    for part in parts[:-1]:
        module = module._modules.get(part, module)
        out.append(f"{type(module).__name__.lower()}{part}" if part.isdigit() else part)
    out.append(parts[-1])
    return "_".join(out)
