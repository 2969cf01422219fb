"""``Function``: the one way an op enters the graph, built-in or written by a user.

A Function's ``forward(ctx, *arrays)`` computes on raw arrays; ``backward(ctx, grad_output)``
returns one gradient per input, each of the *output's* shape or the input's (the engine undoes
broadcasting). ``apply`` wraps the result in a Tensor and, when any input requires grad,
records the instance itself as the node's context: its parents, and what it saved.

The class also says where the op is checked (``domain``, ``kinks``, ``sample``), which inputs
are constants, whether it broadcasts and what PyTorch calls it; an op that says where it is
checked joins ``registry()``. The gradient tests, the PyTorch comparison, ``tg.compare`` and
the graph drawings all read these attributes, so adding an op is one class.
"""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Callable
from typing import Any

from tinygrad_np import autograd
from tinygrad_np.backend import array_module, as_array

_state = autograd._state
_clock = autograd.clock  # numbers ops as they are created (and stamps in-place changes)
_registry: list[type[Function]] = []


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

    # --- what the checks read (docs/contributing.md) -------------------------------------
    domain: tuple[float, float] = (-2.0, 2.0)  # where random float inputs are drawn
    kinks: tuple[float, ...] = ()  # values inputs keep away from: no derivative there
    constant_inputs: tuple[int, ...] = ()  # float inputs never differentiated (one-hot labels)
    # True: backward returns output-shaped gradients that the engine sums down to each input;
    # a tuple: only those inputs (the bias of linear)
    broadcasts: bool | tuple[int, ...] = False
    second_order = True  # gradgradcheck applies (its backward is differentiable)
    torch: str | Callable | None = None  # the PyTorch function, or (torch, *xs, **kw) -> out

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__.lower()
        if {"domain", "kinks", "sample"} & cls.__dict__.keys() and cls.__name__[0] != "_":
            _registry.append(cls)

    @classmethod
    def sample(cls, draw: Any) -> tuple[list[Any], dict[str, Any]]:
        """Inputs and keyword arguments to check the op at (see ``tinygrad_np.sampling``):
        by default one array per input of forward, of broadcastable shapes if it broadcasts."""
        params = list(inspect.signature(cls.forward).parameters.values())[1:]  # skip ctx
        n = sum(p.default is p.empty and p.kind == p.POSITIONAL_OR_KEYWORD for p in params)
        n = max(n, 1)
        shapes = draw.broadcastable(n) if cls.broadcasts is True else [draw.shape()] * n
        return [draw.array(s) for s in shapes], {}

    @staticmethod
    def forward(ctx: Function, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx: Function, grad_output: Any) -> Any:
        raise NotImplementedError("a Function subclass must define backward(ctx, grad_output)")

    # --- what forward keeps for backward -------------------------------------------------
    saved: tuple = ()
    freed = False
    _output: Any = None  # a weak reference to the output Tensor, when forward saved it

    def save_for_backward(self, *values: Any) -> None:
        """Keep arrays for backward; the engine drops them after backward (unless retained)."""
        self.saved = values

    @property
    def saved_tensors(self) -> tuple:
        """What ``save_for_backward`` kept.

        Plain arrays during an ordinary backward (it runs with grad mode off). Under
        ``create_graph=True`` each saved input comes back as its Tensor and the saved output
        as the output Tensor, so a backward written with operators and ``tnp`` builds a
        differentiable graph of the gradient; any other saved float array is refused, since
        its dependence on the inputs is unknown.
        """
        if self.freed:
            raise RuntimeError(
                f"'{self.name}': saved values were freed by an earlier backward; pass "
                "retain_graph=True to that backward() to keep them"
            )
        if not _state.grad_enabled:
            return self.saved
        return tuple(self._as_tensor(k, v) for k, v in enumerate(self.saved))

    def _as_tensor(self, k: int, value: Any) -> Any:
        for parent in getattr(self, "parents", ()):
            if parent is value:  # a constant input
                return value
            if isinstance(parent, Tensor) and parent.data is value:
                return parent
        output = self._output() if self._output is not None else None
        if output is not None and output.data is value:
            return output
        if not hasattr(value, "dtype") or value.dtype.kind not in "fc":
            return value  # shapes, numbers, boolean masks: constants of the backward
        # (a NumPy float scalar, what math on a 0-d array gives, is an intermediate too)
        return self.recompute(self, k, *self.parents)

    @staticmethod
    def recompute(ctx: Function, k: int, *inputs: Any) -> Any:
        """Saved value ``k``, an intermediate kept for speed, rebuilt from the input Tensors
        so that ``create_graph=True`` differentiates through it (cross-entropy's softmax)."""
        raise RuntimeError(
            f"'{ctx.name}' is once-differentiable: saved value {k} is neither an input nor "
            "the output, so create_graph=True cannot differentiate its backward. Save only "
            "inputs and the output, define recompute(ctx, k, *inputs) to rebuild it from the "
            "inputs, or decorate backward with @tg.once_differentiable"
        )

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
        if isinstance(out, Tensor) or not hasattr(out, "dtype"):
            out = _as_result(cls.name, out, arrays)
        array = as_array(out)
        if array is not out:  # keep saved values pointing at the array the output holds
            ctx.saved = tuple(array if v is out else v for v in ctx.saved)
            out = array
        needs = tuple([isinstance(a, Tensor) and a.requires_grad for a in args])
        if True not in needs or not _state.grad_enabled or out.dtype.kind != "f":
            if out.dtype.kind == "c" and True in needs and _state.grad_enabled:
                raise TypeError(f"{cls.name}: complex results cannot carry a gradient")
            return Tensor._wrap(out, False)  # integer and boolean results carry no gradient
        result = Tensor._wrap(out, True)
        ctx.parents = args
        ctx.forward_kwargs = kwargs  # with parents, enough to re-run forward (checks do)
        ctx.needs_input_grad = needs
        ctx.seq = next(_clock)  # creation order, and when the inputs were saved
        result._ctx = ctx
        if ctx.saved and _among(out, ctx.saved):  # weak: the node must not keep its output
            ctx._output = weakref.ref(result)
        return result

    def _check_versions(self) -> None:
        """Raise if a tensor whose array forward saved was changed in place since (the
        gradient would be computed from values forward never saw: silently wrong)."""
        output = self._output() if self._output is not None else None
        watched = [(f"input {i}", p) for i, p in enumerate(self.parents) if isinstance(p, Tensor)]
        for which, t in [*watched, ("its output", output)]:
            if t is not None and t._changed_at() > self.seq and _among(t.data, self.saved):
                name = f" '{t.name}'" if t.name else ""
                raise RuntimeError(
                    f"backward through '{self.name}': {which}{name} (shape {t.shape}) was "
                    "modified in place after it was saved; redo the forward after the "
                    "change, or change a copy"
                )


def _among(array: Any, saved: tuple) -> bool:
    for v in saved:
        if v is array:
            return True
    return False


def registry() -> tuple[type[Function], ...]:
    """Every op that says where it is checked (a ``domain``, ``kinks`` or a ``sample``), in
    the order defined: the built-in ops, then any defined since (yours too)."""
    return tuple(_registry)


def _as_result(name: str, out: Any, arrays: list) -> Any:
    """A forward's result that is not an array: a number becomes one; anything else is refused."""
    if not isinstance(out, Tensor) and isinstance(out, int | float | complex | bool):
        return array_module(*arrays).asarray(out)
    raise TypeError(
        f"{name}: forward must return an array, got a {type(out).__name__}; forward works on "
        "the inputs' arrays (return its .data if you computed a Tensor)"
    )


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


def once_differentiable(backward: Callable) -> Callable:
    """Mark a ``backward`` that works on arrays only (it calls NumPy, or uses saved values
    other than the inputs and the output). Under ``create_graph=True`` it still gives the
    right gradient; differentiating that gradient again raises, naming the op.

    >>> import tinygrad_np as tg
    >>> class Square(tg.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(2 * x)  # an intermediate, not the input
    ...         return x * x
    ...     backward = staticmethod(tg.once_differentiable(lambda ctx, g: g * ctx.saved_tensors[0]))
    >>> x = tg.tensor([3.0], requires_grad=True)
    >>> (dx,) = tg.autograd.grad(Square.apply(x).sum(), x, create_graph=True); dx.tolist()
    [6.0]
    >>> dx.sum().backward()
    Traceback (most recent call last):
    RuntimeError: 'square' is @once_differentiable: its gradient cannot be differentiated again
    """

    @functools.wraps(backward)
    def wrapper(ctx: Function, grad_output: Any) -> Any:
        if not _state.grad_enabled:  # an ordinary backward: nothing to do
            return backward(ctx, grad_output)
        with autograd.no_grad():
            grads = backward(ctx, grad_output.data)  # create_graph hands it a Tensor
        sources = [t for t in (*ctx.parents, grad_output) if isinstance(t, Tensor)]
        wrap = functools.partial(_OnceDifferentiable.apply, *sources, op=ctx.name)
        if not isinstance(grads, tuple):
            return None if grads is None else wrap(value=grads)
        return tuple(None if g is None else wrap(value=g) for g in grads)

    return wrapper


class _OnceDifferentiable(Function):
    """z = a gradient computed on arrays; differentiating it raises (see once_differentiable)"""

    name = "once_differentiable"

    @staticmethod
    def forward(ctx, *sources, value, op):
        ctx.op = op
        return value

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(
            f"'{ctx.op}' is @once_differentiable: its gradient cannot be differentiated again"
        )


# Last: importing Tensor imports the ops, which subclass Function (defined above by now).
from tinygrad_np.tensor import Tensor  # noqa: E402
