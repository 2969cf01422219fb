"""Where an operation ran: the code objects of the engine that tell forward from backward and
update, and the line of the user's step that an error names."""

from __future__ import annotations

import linecache
import os
import sys
from typing import Any

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # tinygrad_np/
JIT_DIR = os.path.dirname(os.path.abspath(__file__))


def engine_codes() -> tuple:
    """Code objects that tell where an operation runs: every op's forward and backward, the
    engine's backward loop, and every optimizer's ``step``."""
    from tinygrad_np import autograd
    from tinygrad_np.function import Function
    from tinygrad_np.optim.optimizer import Optimizer

    forward, backward = set(), set()
    for cls in _subclasses(Function):
        for name, codes in (("forward", forward), ("recompute", forward), ("backward", backward)):
            fn = cls.__dict__.get(name)
            fn = getattr(fn, "__func__", fn)
            while fn is not None:
                code = getattr(fn, "__code__", None)
                if code is not None:
                    codes.add(code)
                fn = getattr(fn, "__wrapped__", None)  # once_differentiable's wrapper
    steps = {c.__dict__["step"].__code__ for c in _subclasses(Optimizer) if "step" in c.__dict__}
    steps.add(Optimizer.step.__code__)
    apply_code = Function.apply.__func__.__code__
    return forward, backward, apply_code, autograd.run_backward.__code__, steps


def _subclasses(cls: type) -> list[type]:
    out, stack = [], [cls]
    while stack:
        c = stack.pop()
        out.append(c)
        stack.extend(c.__subclasses__())
    return out


def user_location(depth: int = 2) -> str:
    """``file:line: code`` of the innermost frame outside tinygrad_np (and of the library
    line it called, when that is where the value escaped)."""
    f = sys._getframe(depth)
    while f is not None and f.f_code.co_filename.startswith(JIT_DIR):
        f = f.f_back
    library = None
    while f is not None and f.f_code.co_filename.startswith(PACKAGE_DIR):
        library = library or f
        f = f.f_back
    parts = [_where(f)] if f is not None else []
    if library is not None:
        parts.append(f"in {_where(library)}")
    return ", ".join(parts) or "an unknown line"


def _where(f: Any) -> str:
    code = f.f_code
    line = linecache.getline(code.co_filename, f.f_lineno).strip()
    return f"{os.path.relpath(code.co_filename)}:{f.f_lineno} in {code.co_name}: {line}"
