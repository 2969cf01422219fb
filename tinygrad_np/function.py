"""``Function``: the one way an op enters the graph, built-in or written by a user.

A Function's ``forward(ctx, *arrays)`` computes on raw arrays; ``backward(ctx, grad_output)``
returns one gradient per input, each of the *output's* shape or the input's (the engine undoes
broadcasting). ``apply`` wraps the result in a Tensor and, when any input requires grad,
records the instance itself as the node's context: its parents, and what it saved.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from tinygrad_np import autograd
from tinygrad_np.tensor import Tensor

_state = autograd._state
# Ops are numbered as they are created: reverse creation order is a topological order,
# which is all backward needs (see autograd.run_backward).
_creation_order = itertools.count()


class Function:
    """Base class of every differentiable op.

    >>> import numpy as np, tinygrad_np as tg
    >>> class Cube(tg.Function):
    ...     '''y = x**3;  dy/dx = 3 x**2'''
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, grad_output):
    ...         (x,) = ctx.saved_tensors
    ...         return grad_output * 3 * x ** 2
    >>> x = tg.tensor([2.0], dtype=np.float64, requires_grad=True)
    >>> Cube.apply(x).sum().backward(); float(x.grad.item())
    12.0
    >>> tg.gradcheck(Cube.apply, [x])
    True
    """

    name = "function"  # shown in errors, drawings and traces; set per subclass below
    parents: tuple
    needs_input_grad: tuple[bool, ...]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__.lower()

    @staticmethod
    def forward(ctx: Function, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx: Function, grad_output: Any) -> Any:
        raise NotImplementedError("a Function subclass must define backward(ctx, grad_output)")

    # --- what forward keeps for backward -------------------------------------------------
    saved: tuple = ()
    freed = False
    output: Any = None  # the output Tensor, set only while a create_graph backward runs

    def save_for_backward(self, *values: Any) -> None:
        """Keep arrays for backward; the engine drops them after backward (unless retained)."""
        self.saved = values

    @property
    def saved_tensors(self) -> tuple:
        """What ``save_for_backward`` kept.

        Plain arrays during an ordinary backward. During ``create_graph=True`` each saved
        input comes back as its Tensor and the saved output as the output Tensor, so a backward
        written with operators builds a differentiable graph of the gradient.
        """
        if self.output is None and not self.freed:  # an ordinary backward: the fast path
            return self.saved
        if self.freed:
            raise RuntimeError(
                f"'{self.name}': saved values were freed by an earlier backward; pass "
                "retain_graph=True to that backward() to keep them"
            )
        return tuple(self._as_tensor(v) for v in self.saved)

    def _as_tensor(self, value: Any) -> Any:
        for parent in self.parents:
            if isinstance(parent, Tensor) and parent.data is value:
                return parent
        if self.output is not None and self.output.data is value:
            return self.output
        return Tensor._wrap(value, False) if hasattr(value, "shape") else value

    # --- entering the graph ----------------------------------------------------------------
    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Tensor:
        """Run forward on the inputs' arrays; record the op when a Tensor input needs grad."""
        ctx = cls()
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        try:
            out = cls.forward(ctx, *arrays, **kwargs)
        except (ValueError, IndexError, TypeError) as e:
            raise _named_error(cls.name, e, arrays) from e
        if not isinstance(out, np.ndarray):
            # NumPy returns scalars from 0-d math; keep the array that saved values point to
            array = np.asarray(out)
            ctx.saved = tuple(array if v is out else v for v in ctx.saved)
            out = array
        needs = tuple([isinstance(a, Tensor) and a.requires_grad for a in args])
        if True not in needs or not _state.grad_enabled or out.dtype.kind not in "fc":
            return Tensor._wrap(out, False)  # integer and boolean results carry no gradient
        result = Tensor._wrap(out, True)
        ctx.parents = args
        ctx.forward_kwargs = kwargs  # with parents, enough to re-run forward (checks do)
        ctx.needs_input_grad = needs
        ctx.seq = next(_creation_order)
        result._ctx = ctx
        return result


def _named_error(name: str, error: Exception, arrays: list) -> Exception:
    """Re-raise a NumPy error from forward with the op's name and its inputs' shapes."""
    message = str(error)
    if message.startswith(f"{name}:"):
        return error
    shapes = ", ".join(f"{tuple(a.shape)} {a.dtype}" for a in arrays if hasattr(a, "shape"))
    try:
        return type(error)(f"{name}: {message} (inputs: {shapes})")
    except TypeError:  # an exception type with an unusual constructor (numpy's AxisError)
        return ValueError(f"{name}: {message} (inputs: {shapes})")


def dispatch(fn: type[Function], *args: Any, **kwargs: Any) -> Any:
    """Run ``fn`` on arrays directly, or through the graph if any input is a Tensor.

    Backward bodies call helper ops through this, so the same line serves an ordinary
    backward (arrays, no graph) and a ``create_graph=True`` one (Tensors, recorded).
    """
    if any(isinstance(a, Tensor) for a in args):
        return fn.apply(*args, **kwargs)
    return fn.forward(fn(), *args, **kwargs)
