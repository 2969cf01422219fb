"""What a recording call compares before and after the step, to find what a replay would
not repeat: module structure, Python containers and plain objects' attributes, and the random
generators outside the library's."""

from __future__ import annotations

import random as _pyrandom
from typing import Any

import numpy as np

from tinygrad_np.compiler.state import Found


def revision(module: Any) -> Any:
    return module.__dict__.get("_revision")


def structure(module: Any) -> tuple:
    return (
        revision(module),
        tuple(module._parameters),
        tuple(module._buffers),
        tuple(module._modules),
    )


_MODULE_TABLES = frozenset({"_parameters", "_buffers", "_modules", "_non_persistent_buffers"})


def is_container(x: Any) -> bool:
    return type(x) in (list, dict, set, bytearray)


def contents(obj: Any) -> dict:
    """What Python containers ``obj`` holds (or is) hold now: a step that appends to a list
    (``self.outputs.append(x)``) changes state that a replay would leave alone."""
    if is_container(obj):
        return {"": _snapshot(obj)}
    found = {}
    for key, value in vars(obj).items() if hasattr(obj, "__dict__") else ():
        if is_container(value) and key not in _MODULE_TABLES:
            found[f".{key}"] = _snapshot(value)
    return found


def _snapshot(x: Any) -> tuple:
    items = x.items() if isinstance(x, dict) else x
    return tuple(map(id, items)) if not isinstance(x, dict) else tuple(
        (id(k), id(v)) for k, v in items)  # fmt: skip


def first_change(before: dict, after: dict) -> str | None:
    for key in {*before, *after}:
        if before.get(key) != after.get(key):
            return key
    return None


def external_random(found: Found) -> tuple:
    state = np.random.get_state()
    return (
        int(state[2]),
        state[1].tobytes(),
        _pyrandom.getstate()[1][-1],
        tuple(repr(g.bit_generator.state) for g in found.generators),
    )
