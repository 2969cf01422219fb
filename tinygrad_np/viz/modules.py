"""``record_modules``: remember which ops each layer of a model ran, to draw a layer as one box.

The graph itself knows only ops. While the context is open, each direct child module's
``forward`` is wrapped (on the instance, restored on exit); after every call the wrapper walks
back from the call's outputs to its inputs and keeps the ops it passed and the parameters it
reached. Those are "the module's nodes" for ``to_dot(..., collapse=recorder)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tinygrad_np.autograd import toposort
from tinygrad_np.tensor import Tensor


@dataclass
class ModuleCall:
    """One call of a recorded module: who, with what, and which graph nodes it made."""

    name: str  # qualified name in the model, e.g. "fc1" or "layers.0"
    kind: str  # e.g. "Linear(2→4)"
    inputs: list[Tensor] = field(repr=False)
    outputs: list[Tensor] = field(repr=False)
    params: list[tuple[str, Tensor]] = field(repr=False)  # the module's own parameter names
    members: set[int] = field(default_factory=set, repr=False)  # ids of its ops and params


def _is_module(value: Any) -> bool:
    return callable(value) and hasattr(value, "forward") and hasattr(value, "named_parameters")


def _children(model: Any) -> list[tuple[str, Any]]:
    """A module's direct submodules, named: ``named_children()`` where the Module has it."""
    if hasattr(model, "named_children"):
        return [(str(n), m) for n, m in model.named_children()]
    found: list[tuple[str, Any]] = []
    for attr, value in vars(model).items():
        if _is_module(value):
            found.append((attr, value))
        elif isinstance(value, list | tuple):
            found += [(f"{attr}.{i}", v) for i, v in enumerate(value) if _is_module(v)]
        elif isinstance(value, dict):
            prefix = "" if attr.startswith("_") else f"{attr}."
            found += [(f"{prefix}{k}", v) for k, v in value.items() if _is_module(v)]
    return found


def module_kind(module: Any) -> str:
    """``Linear(2→4)`` for layers with in/out features, ``Dropout(p=0.1)`` from a short
    ``extra_repr()``, else the class name."""
    cls = type(module).__name__
    n_in = getattr(module, "in_features", None)
    n_out = getattr(module, "out_features", None)
    if n_in is not None and n_out is not None:
        return f"{cls}({n_in}→{n_out})"
    extra = module.extra_repr() if hasattr(module, "extra_repr") else ""
    if isinstance(extra, str) and extra and len(extra) <= 24 and "\n" not in extra:
        return f"{cls}({extra})"
    return cls


def _tensors(value: Any) -> list[Tensor]:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, Tensor)]
    if isinstance(value, dict):
        return [v for v in value.values() if isinstance(v, Tensor)]
    return []


def _members(outputs: list[Tensor], inputs: list[Tensor]) -> set[int]:
    """Ops and parameters between ``inputs`` and ``outputs``."""
    roots = [t for t in outputs if t.requires_grad]
    return {id(t) for t in toposort(roots, stop=inputs)}


class record_modules:
    """Record which graph nodes each direct submodule of ``model`` creates.

    Use it around the forward pass, then pass it to ``to_dot``/``draw_graph`` as ``collapse``
    to draw every layer as one box labelled with its name, kind and in/out shapes. A model
    without submodules is recorded as a whole.

    >>> import tinygrad_np as tg
    >>> class Double:  # any object with forward(), named_parameters() and __call__ will do
    ...     def named_parameters(self):
    ...         return []
    ...     def forward(self, x):
    ...         return x * 2
    ...     def __call__(self, x):
    ...         return self.forward(x)
    >>> layer = Double()
    >>> x = tg.tensor([1.0], requires_grad=True)
    >>> with tg.viz.record_modules(layer) as rec:
    ...     y = layer(x).sum()
    >>> [call.name for call in rec.calls]
    ['Double']
    >>> 'Double' in tg.viz.to_dot(y, collapse=rec)
    True
    """

    def __init__(self, model: Any) -> None:
        if not _is_module(model):
            raise TypeError(
                "record_modules: expected a module (with forward() and named_parameters()), "
                f"got {type(model).__name__}"
            )
        children = _children(model)
        self.modules: list[tuple[str, Any]] = children or [(type(model).__name__, model)]
        self.calls: list[ModuleCall] = []
        self._saved: list[tuple[Any, Any]] = []
        self._counts: dict[str, int] = {}

    def __enter__(self) -> record_modules:
        for name, module in self.modules:
            # an instance attribute named forward shadows the class's method until removed
            previous = module.__dict__.get("forward")
            module.__dict__["forward"] = self._wrap(name, module, module.forward)
            self._saved.append((module, previous))
        return self

    def __exit__(self, *exc: Any) -> None:
        while self._saved:
            module, previous = self._saved.pop()
            if previous is None:
                module.__dict__.pop("forward", None)
            else:
                module.__dict__["forward"] = previous

    def _wrap(self, name: str, module: Any, forward: Any) -> Any:
        def recorded_forward(*args: Any, **kwargs: Any) -> Any:
            out = forward(*args, **kwargs)
            inputs = [t for a in (*args, *kwargs.values()) for t in _tensors(a)]
            outputs = _tensors(out)
            members = _members(outputs, inputs)
            if members:  # a call under no_grad made no graph: nothing to draw
                count = self._counts[name] = self._counts.get(name, 0) + 1
                call_name = name if count == 1 else f"{name} (call {count})"
                params = [(n, p) for n, p in module.named_parameters()]
                self.calls.append(
                    ModuleCall(call_name, module_kind(module), inputs, outputs, params, members)
                )
            return out

        return recorded_forward
