"""Check one op's backward against finite differences of its own forward.

Given a ``Function`` class, the arrays and keyword arguments its forward takes, and which
inputs need a gradient, ``check_op`` runs forward once, hands backward a random
``grad_output`` u, and compares the result with central differences of ``<u, forward(x)>``.
First along a few random directions v (``<J^T u, v>`` against ``(f(x + eps v) - f(x - eps v))
/ 2 eps``: one pair of forwards per direction, whatever the input's size); only when that
disagrees does it go element by element to name the first wrong element. Everything runs on
float64 copies of the arrays, so a float32 graph is checked as precisely as a float64 one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygrad_np import autograd
from tinygrad_np.compare.report import explain
from tinygrad_np.function import Function
from tinygrad_np.gradcheck import directional, finite_differences

_EPS64 = float(np.finfo(np.float64).eps)


@dataclass
class OpCheck:
    """The verdict on one op: ``status`` is "ok", "wrong" or "skipped" (with ``message``)."""

    op: str
    status: str
    message: str = ""
    input_index: int | None = None
    input_shape: tuple[int, ...] | None = None
    element: tuple[int, ...] | None = None
    numeric: float | None = None
    analytic: float | None = None
    n_bad: int = 0
    n_checked: int = 0
    largest_error: float = 0.0  # the largest relative disagreement seen (ok checks too)
    n_kinks: int = 0  # elements on a kink (relu at 0), where no derivative is judged
    # The grad_output backward was given: a fixed random array (ones for a scalar output), so
    # the values compared are gradients of sum(grad_output * output).
    grad_output: np.ndarray | None = None
    node: int | None = None  # position in graph order (find_wrong_op)
    function: type | None = None

    @property
    def ok(self) -> bool:
        return self.status != "wrong"

    def describe(self, yours: str = "analytic", expected: str = "numeric") -> str:
        """Where the backward is wrong, in words."""
        if self.status != "wrong":
            return self.message or self.status
        if self.element is None:
            return self.message
        text = (
            f"input {self.input_index} (shape {self.input_shape}) at element {self.element}: "
            f"{yours} {self.analytic:.8g}, {expected} {self.numeric:.8g}"
        )
        if self.grad_output is not None and self.grad_output.size > 1:
            text += " (grad_output: a fixed random array, in .grad_output)"
        if self.n_checked:
            text += f"; {self.n_bad} of {self.n_checked} checked elements differ"
        return text + (f"\n  hint: {self.message}" if self.message else "")


def _float64(a: Any) -> Any:
    if isinstance(a, np.ndarray) and a.dtype.kind == "f":
        return np.array(a, dtype=np.float64, order="C")  # C order: finite differences step it
    if isinstance(a, np.generic) and np.dtype(type(a)).kind == "f":
        return np.float64(a)
    return a


def _fresh(fn: type[Function], arrays: Sequence[Any], kwargs: dict, needs: tuple[bool, ...]):
    """A ctx as ``apply`` would leave it, for a forward that runs outside the graph."""
    ctx = fn()
    ctx.parents = tuple(arrays)  # some backwards read their inputs' ndim from here (matmul)
    ctx.needs_input_grad = needs
    ctx.forward_kwargs = kwargs
    return ctx


def _call_backward(backward: Callable, ctx: Function, u: np.ndarray) -> Any:
    with autograd.no_grad():
        return backward(ctx, u.copy())  # a copy: a backward that edits grad_output in place


def needs_grad(op: type, arrays: Sequence[Any]) -> list[bool]:
    """Which inputs get a gradient: float arrays, except the op's ``constant_inputs``."""
    return [
        isinstance(a, np.ndarray) and a.dtype.kind == "f" and i not in op.constant_inputs
        for i, a in enumerate(arrays)
    ]


def check_op(
    fn: type[Function],
    arrays: Sequence[Any],
    kwargs: dict | None = None,
    needs: Sequence[bool] | None = None,
    backward: Callable | None = None,
    eps: float = 1e-6,
    rtol: float = 1e-4,
    atol: float = 1e-8,
    directions: int = 2,
    max_elements: int = 100_000,
    seed: int = 0,
) -> OpCheck:
    """Check ``backward`` (by default ``fn.backward``) against finite differences of
    ``fn.forward`` at ``arrays`` (the forward's positional inputs) and ``kwargs``.

    ``needs[i]`` says whether input i gets a gradient (default: ``needs_grad``).

    >>> import numpy as np, tinygrad_np as tg
    >>> check_op(tg.ops.Exp, [np.array([0.5, -1.0])]).status
    'ok'
    """
    name = fn.name
    kwargs = dict(kwargs or {})
    backward = fn.backward if backward is None else backward
    xs = [_float64(a) for a in arrays]
    if needs is None:
        needs = needs_grad(fn, xs)
    needs = tuple(bool(n) for n in needs)
    rng = np.random.default_rng(seed)

    def forward(inputs: Sequence[Any], ctx: Function | None = None) -> np.ndarray:
        ctx = _fresh(fn, inputs, kwargs, needs) if ctx is None else ctx
        with autograd.no_grad():
            return np.asarray(fn.forward(ctx, *inputs, **kwargs))

    def fresh() -> Function:
        return _fresh(fn, xs, kwargs, needs)

    ctx = fresh()
    try:
        out = forward(xs, ctx)
    except Exception as e:
        return OpCheck(name, "skipped", f"forward raised {type(e).__name__}: {e}")
    if out.dtype != np.float64:
        return OpCheck(
            name, "skipped", f"forward returns {out.dtype} from float64 inputs; finite "
            "differences need a float64 output"
        )  # fmt: skip
    if not np.array_equal(forward(xs), out, equal_nan=True):
        return OpCheck(
            name, "skipped", "forward gives different results on the same inputs (random?), "
            "so finite differences cannot check it"
        )  # fmt: skip
    u = rng.standard_normal(out.shape) if out.size > 1 else np.ones(out.shape)
    # Rounding error of <u, f(x)>, divided by 2 eps: the noise floor of every difference.
    noise = 16 * _EPS64 * float(np.sum(np.abs(u * out))) / eps

    try:
        grads = _call_backward(backward, ctx, u)
    except Exception as e:
        shapes = ", ".join(str(np.shape(x)) for x in xs)
        return OpCheck(
            name, "wrong", f"backward raised {type(e).__name__}: {e} (inputs of shapes "
            f"{shapes}; grad_output of shape {u.shape})"
        )  # fmt: skip
    grads = grads if isinstance(grads, tuple | list) else (grads,)
    if len(grads) != len(xs):
        return OpCheck(
            name, "wrong", f"backward returned {len(grads)} gradients for {len(xs)} inputs"
        )

    def f(inputs: Sequence[Any]) -> float:
        return float(np.sum(u * forward(inputs)))

    largest, kinks = 0.0, 0
    for i, (x, g, need) in enumerate(zip(xs, grads, needs)):
        if not need:
            continue
        shape = x.shape
        g = np.zeros(shape) if g is None else np.asarray(g, dtype=np.float64)
        if g.shape != shape:
            try:
                g = autograd._fit_to_parent(name, i, g, shape)  # the engine's rule, and message
            except RuntimeError as e:
                return OpCheck(name, "wrong", str(e), i, shape)
        for _ in range(directions):
            v = rng.standard_normal(shape)
            numeric = directional(lambda: f(xs), x, v, eps)
            analytic = float(np.sum(g * v))
            error = abs(numeric - analytic)
            limit = atol + noise + rtol * (abs(numeric) + abs(analytic))
            largest = max(largest, error / max(abs(numeric), abs(analytic), atol + noise))
            if error <= limit:
                continue
            found = _scan(f, xs, i, g, eps, rtol, atol, noise, max_elements)
            found.op, found.largest_error, found.grad_output = name, largest, u
            if found.element is not None:
                if not found.message:
                    found.message = _ignores_grad_output(backward, forward, xs, fresh, u, i)
                return found
            if found.n_kinks == 0 or found.n_checked < x.size:
                found.message = (
                    f"input {i} (shape {shape}): along a random direction, finite differences "
                    f"give {numeric:.8g}, backward {analytic:.8g}"
                )
                return found
            kinks += found.n_kinks
            break  # every element was checked one by one: this input is right
    message = f"{kinks} elements sit on a kink (relu at 0) and were not judged" if kinks else ""
    return OpCheck(name, "ok", message, n_kinks=kinks, largest_error=largest)


def _scan(
    f: Callable, xs: list, i: int, g: np.ndarray, eps: float, rtol: float, atol: float,
    noise: float, max_elements: int,
) -> OpCheck:  # fmt: skip
    """Element-by-element finite differences of input i, to name the first wrong element."""
    x = xs[i]
    count = min(x.size, max_elements)
    center = f(xs)
    plus, minus = finite_differences(lambda: f(xs), x, eps, count)
    right, left = (plus - center) / eps, (center - minus) / eps
    numeric = (right + left) / 2
    analytic = g.reshape(-1)[:count]

    def within(a: np.ndarray, b: np.ndarray, floor: float) -> np.ndarray:
        return np.abs(a - b) <= atol + floor + rtol * (np.abs(a) + np.abs(b))

    # A kink (relu at 0, abs at 0): the slopes on the two sides differ, so no single number
    # is "the" derivative there. Such elements are not judged.
    kinks = np.abs(right - left) > atol + 4 * noise + 0.01 * (np.abs(right) + np.abs(left))
    bad = ~within(numeric, analytic, noise) & ~kinks
    check = OpCheck("", "wrong", input_index=i, input_shape=x.shape, n_checked=count)
    check.n_kinks = int(kinks.sum())
    if not bad.any():
        return check
    k = int(np.argmax(bad))
    check.element = tuple(int(j) for j in np.unravel_index(k, x.shape)) if x.ndim else ()
    check.numeric, check.analytic = float(numeric[k]), float(analytic[k])
    check.n_bad = int(bad.sum())
    if count == x.size:
        batch = x.shape[0] if x.ndim > 1 else None
        hint = explain(
            analytic.reshape(x.shape), numeric.reshape(x.shape), bad.reshape(x.shape), batch, 1e-4
        )
        if not hint.endswith("elements differ"):
            check.message = hint.replace("hand-derived", "backward").replace(
                "autograd", "finite differences"
            )
    return check


def _ignores_grad_output(
    backward: Callable, forward: Callable, xs: list, fresh: Callable, u: Any, i: int
) -> str:
    """A backward that gives the same answer for grad_output u and 2u forgot the chain rule."""
    results = []
    for scale in (1.0, 2.0):
        ctx = fresh()
        forward(xs, ctx)  # fills the ctx that backward reads
        try:
            g = _call_backward(backward, ctx, u * scale)
        except Exception:
            return ""
        g = g if isinstance(g, tuple | list) else (g,)
        results.append(g[i])
    first, second = (np.asarray(r, dtype=np.float64) for r in results)
    if first.shape == second.shape and np.array_equal(first, second) and np.any(first):
        return "the result does not change with grad_output: multiply by it (the chain rule)"
    return ""
