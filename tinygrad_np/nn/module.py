"""``Module`` and ``Parameter``: the containers every layer, activation and loss is built on.

A module registers what is assigned to it: a ``Parameter`` attribute becomes one of its
parameters, a ``Module`` attribute one of its sub-modules, both in assignment order.
``register_buffer`` adds state that is saved with the model but never learnt (running
statistics, step counters). Gradients never appear here: forward passes are made of Tensor
ops, so ``loss.backward()`` reaches every parameter through the engine.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from tinygrad_np._arrays import to_numpy
from tinygrad_np.tensor import DTypeLike, Tensor


class Parameter(Tensor):
    """A Tensor that a ``Module`` registers as a learnable parameter (requires grad by default).

    Why a subclass rather than "any Tensor with requires_grad": NNFS-style layers keep their
    inputs and outputs as attributes (``self.inputs = x``, ``self.output = ...``), and those
    often require grad. Registering them would hand activations to the optimizer and to
    ``state_dict``. Marking parameters explicitly, as PyTorch does, makes the rule one line.

    >>> import tinygrad_np as tg
    >>> w = tg.nn.Parameter([[1.0, 2.0]])
    >>> w.requires_grad, w.shape
    (True, (1, 2))
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: DTypeLike = None) -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of layers and models: assign parts in ``__init__``, then write ``forward``.

    >>> import tinygrad_np as tg
    >>> class Net(tg.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc1 = tg.nn.Linear(2, 4)
    ...         self.fc2 = tg.nn.Linear(4, 3)
    ...     def forward(self, x):
    ...         return self.fc2(self.fc1(x).relu())
    >>> net = Net()
    >>> [name for name, _ in net.named_parameters()]
    ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
    >>> net(tg.randn(5, 2)).shape
    (5, 3)
    """

    training: bool

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ needs these dicts to exist already
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})  # name -> Tensor or None, in registration order
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", {})

    # --- registration ------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} to {type(self).__name__} before Module.__init__() "
                "ran; call super().__init__() first in __init__"
            )
        if isinstance(value, Parameter):
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            self.add_module(name, value)
        elif name in self._buffers:  # replaces the buffer's value, as in PyTorch
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} as buffer {name!r} of "
                    f"{type(self).__name__} (a Tensor or None is expected)"
                )
            persistent = name not in self._non_persistent_buffers
            self.register_buffer(name, value, persistent=persistent)
        else:
            if name in self._parameters and value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} of "
                    f"{type(self).__name__} (a Parameter or None is expected); to change its "
                    f"values, write into {name}.data"
                )
            self._parameters.pop(name, None)
            self._modules.pop(name, None)
            object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._forget_buffer(name)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def _forget_buffer(self, name: str) -> None:
        self._buffers.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` under ``name`` (what ``self.name = param`` does)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter: {name!r} must be a Parameter or None, "
                f"got {type(param).__name__}"
            )
        self._modules.pop(name, None)
        self._forget_buffer(name)
        if param is None:
            self._parameters.pop(name, None)
        else:
            self._parameters[name] = param
            param.name = name  # graph drawings label the leaf with this
        object.__setattr__(self, name, param)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as a sub-module (what ``self.name = module`` does).

        Its parameters' ``Tensor.name`` become qualified by ``name`` ("fc1.weight"), so a model
        built bottom-up labels every leaf with its path from the outermost module.
        """
        if module is not None and not isinstance(module, Module):
            raise TypeError(
                f"add_module: {name!r} must be a Module or None, got {type(module).__name__}"
            )
        self._parameters.pop(name, None)
        self._forget_buffer(name)
        if module is None:
            self._modules.pop(name, None)
        else:
            self._modules[name] = module
            for sub_name, tensor in (*module.named_parameters(), *module.named_buffers()):
                tensor.name = f"{name}.{sub_name}"
        object.__setattr__(self, name, module)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register ``tensor`` as state that is not learnt (a running mean, a step counter).

        A buffer is an attribute (``self.name``), is listed by ``buffers()`` and, when
        ``persistent``, saved by ``state_dict()``; it is never one of ``parameters()``, so no
        optimizer sees it. Assigning a Tensor or None to ``self.name`` later replaces its
        value and keeps it a buffer; ``del self.name`` removes it. A buffer never requires
        grad: update it under ``tg.no_grad()`` or in place through ``.data``.

        >>> import tinygrad_np as tg
        >>> m = tg.nn.Module()
        >>> m.register_buffer("count", tg.tensor(0, dtype="int64"))
        >>> [name for name, _ in m.named_buffers()], list(m.parameters()), dict(m.state_dict())
        (['count'], [], {'count': array(0)})
        """
        where = f"register_buffer on {type(self).__name__}"
        if "_buffers" not in self.__dict__:
            raise AttributeError(
                f"{where}: cannot register a buffer before Module.__init__() ran; "
                "call super().__init__() first in __init__"
            )
        if not isinstance(name, str):
            raise TypeError(f"{where}: the buffer name must be a str, got {type(name).__name__}")
        if "." in name:
            raise KeyError(f"{where}: buffer name {name!r} must not contain '.'")
        if name == "":
            raise KeyError(f"{where}: buffer name must not be empty")
        if name not in self._buffers and hasattr(self, name):
            kind = (
                "a parameter"
                if name in self._parameters
                else "a sub-module"
                if name in self._modules
                else "an attribute"
            )
            raise KeyError(f"{where}: {name!r} is already {kind} of this module")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"{where}: buffer {name!r} must be a Tensor or None, got {type(tensor).__name__}"
            )
        if tensor is not None and tensor.requires_grad:
            raise ValueError(
                f"{where}: buffer {name!r} requires grad, but buffers are not learnt; "
                "register tensor.detach() (or compute it under tg.no_grad()), or make it a "
                "Parameter if it should be trained"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)
        if tensor is not None:
            tensor.name = name  # graph drawings label the leaf with this
        object.__setattr__(self, name, tensor)

    # --- traversal -----------------------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every sub-module, depth first, each once, with its dotted path."""
        seen: set[int] = set()
        for name, module in self._named_modules_all(prefix):
            if id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def modules(self) -> Iterator[Module]:
        """This module and every sub-module, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules with their attribute names, each once."""
        seen: set[int] = set()
        for name, module in self._modules.items():
            if id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """Direct sub-modules, each once."""
        for _, module in self.named_children():
            yield module

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs: the module's own parameters in the order assigned,
        then each sub-module's, depth first (PyTorch's order); a shared one comes once.

        >>> import tinygrad_np as tg
        >>> [n for n, _ in tg.nn.Sequential(tg.nn.Linear(2, 3)).named_parameters()]
        ['0.weight', '0.bias']
        """
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter once, in ``named_parameters`` order (what an optimizer takes)."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) pairs in ``named_parameters`` order; None buffers are skipped.

        >>> import tinygrad_np as tg
        >>> m = tg.nn.Sequential(tg.nn.Module())
        >>> m[0].register_buffer("mean", tg.zeros(3))
        >>> [(n, b.shape) for n, b in m.named_buffers()]
        [('0.mean', (3,))]
        """
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer once, in ``named_buffers`` order."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def _named_members(
        self, table: str, prefix: str, recurse: bool, remove_duplicate: bool
    ) -> Iterator[tuple[str, Any]]:
        """The entries of each module's ``table`` dict ("_parameters" or "_buffers")."""
        seen: set[int] = set()
        modules = self._named_modules_all(prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, value in module.__dict__[table].items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield (f"{module_name}.{name}" if module_name else name), value

    def _named_modules_all(self, prefix: str) -> Iterator[tuple[str, Module]]:
        """Like named_modules, but a module reachable by two paths comes under both (for
        state_dict, whose keys must not depend on which path a traversal saw first)."""
        yield prefix, self
        for name, child in self._modules.items():
            yield from child._named_modules_all(f"{prefix}.{name}" if prefix else name)

    # --- state -------------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Copies of the parameters' and persistent buffers' arrays by dotted name.

        PyTorch's order: each module's parameters, then its buffers, then its sub-modules'
        entries, depth first; a shared tensor comes under each of its names. Buffers
        registered with ``persistent=False`` and None buffers are left out.

        >>> import tinygrad_np as tg
        >>> {k: v.shape for k, v in tg.nn.Linear(2, 3).state_dict().items()}
        {'weight': (2, 3), 'bias': (1, 3)}
        """
        return OrderedDict((name, t.data.copy()) for name, t, _ in self._state_entries())

    def _state_entries(self) -> Iterator[tuple[str, Tensor, str]]:
        """(dotted name, tensor, "parameter" or "buffer") for every ``state_dict`` entry."""
        for module_name, module in self._named_modules_all(""):
            prefix = f"{module_name}." if module_name else ""
            for name, param in module._parameters.items():
                yield prefix + name, param, "parameter"
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent_buffers:
                    yield prefix + name, buffer, "buffer"

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy values into the existing parameter and buffer arrays (optimizers holding them
        keep working).

        Values are cast to each tensor's dtype; a value that an integer or bool buffer cannot
        hold exactly (2.5 for a step counter) is refused. Every problem is found before
        anything is written, so a failed load leaves the model as it was. With ``strict`` (the
        default) missing and unexpected keys are errors; otherwise they are returned. A shape
        mismatch is always an error.

        >>> import tinygrad_np as tg
        >>> a, b = tg.nn.Linear(2, 3), tg.nn.Linear(2, 3)
        >>> b.load_state_dict(a.state_dict())
        IncompatibleKeys(missing_keys=[], unexpected_keys=[])
        >>> bool((a.weight.data == b.weight.data).all())
        True
        """
        targets = {name: (t, kind) for name, t, kind in self._state_entries()}
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        problems = []
        if strict and missing:
            problems.append(f"missing keys {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys {unexpected}")
        values = {}
        for name, (tensor, kind) in targets.items():
            if name not in state_dict:
                continue
            value = to_numpy(state_dict[name])
            if value.dtype.kind not in "biuf":
                problems.append(f"{name!r} holds dtype {value.dtype}, not numbers")
            elif value.shape != tensor.shape:
                problems.append(
                    f"shape mismatch for {name!r}: the state dict has {value.shape}, "
                    f"the model's {kind} has {tensor.shape}"
                )
            elif tensor.dtype.kind in "biu" and not _holds_exactly(value, tensor.dtype):
                problems.append(
                    f"{name!r} holds {value.dtype} values that the model's {tensor.dtype} "
                    f"{kind} cannot hold exactly"
                )
            values[name] = value
        if problems:
            raise RuntimeError(f"load_state_dict for {type(self).__name__}: " + "; ".join(problems))
        for name, value in values.items():
            targets[name][0].data[...] = value  # in place: same array, the tensor's dtype
            targets[name][0]._bump_version()
        return IncompatibleKeys(missing, unexpected)

    # --- modes and calling -------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set ``training`` on this module and every sub-module; returns self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode (dropout off): ``train(False)``."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (set it to None, as PyTorch does by default)."""
        for param in self.parameters():
            param.grad = None

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # --- printing ----------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside this module's parentheses (its settings); children print below."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        if not self._modules:
            return f"{type(self).__name__}({extra})"
        lines = [extra] if extra else []
        lines += [f"({name}): {_indent(repr(child))}" for name, child in self._modules.items()]
        body = "\n".join("  " + line for line in lines)
        return f"{type(self).__name__}(\n{body}\n)"


def _holds_exactly(value: np.ndarray, dtype: np.dtype) -> bool:
    """Whether casting ``value`` to the integer or bool ``dtype`` keeps every element."""
    with np.errstate(invalid="ignore"):  # NaN and inf cast to garbage, then compare unequal
        return bool((value.astype(dtype) == value).all())


def _indent(text: str) -> str:
    """Indent every line after the first by two spaces (nested reprs)."""
    return text.replace("\n", "\n  ")
