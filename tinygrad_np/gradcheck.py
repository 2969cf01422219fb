"""Check autograd against central finite differences, with a report a person can act on.

``finite_differences`` and ``directional`` are the library's only numerical-derivative loops:
``gradcheck``, ``gradgradcheck``, ``tg.compare.check_op`` and ``find_wrong_op`` all use them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygrad_np import autograd
from tinygrad_np.tensor import Tensor


class GradcheckError(AssertionError):
    """Autograd and finite differences disagree; the message says where and by how much."""


def finite_differences(
    f: Callable[[], float], x: np.ndarray, eps: float, count: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``f()`` with each element of ``x`` (an array ``f`` reads) moved by +eps, then by -eps:
    two arrays ``(plus, minus)`` of the first ``count`` elements. ``x`` is changed in place and
    restored, so ``(plus - minus) / (2 * eps)`` is the central difference.

    >>> x = np.array([1.0, 2.0])
    >>> plus, minus = finite_differences(lambda: float((x ** 2).sum()), x, 1e-3)
    >>> ((plus - minus) / 2e-3).round(6).tolist()
    [2.0, 4.0]
    """
    flat = x.reshape(-1)  # a view: perturbing it perturbs x
    if not np.shares_memory(flat, x) and x.size > 1:
        raise ValueError("finite_differences: x must be a contiguous array")
    count = flat.size if count is None else min(count, flat.size)
    plus, minus = np.empty(count), np.empty(count)
    for k in range(count):
        orig = flat[k]
        flat[k] = orig + eps
        plus[k] = f()
        flat[k] = orig - eps
        minus[k] = f()
        flat[k] = orig
    return plus, minus


def directional(f: Callable[[], float], x: np.ndarray, v: np.ndarray, eps: float) -> float:
    """The central difference of ``f()`` along direction ``v`` of ``x`` (changed in place and
    restored): one pair of evaluations, whatever the size of ``x``."""
    orig = x.copy()
    x[...] = orig + eps * v
    plus = f()
    x[...] = orig - eps * v
    minus = f()
    x[...] = orig
    return (plus - minus) / (2 * eps)


def _name(fn: Callable) -> str:
    """``Softplus`` for ``Softplus.apply``; a function's qualified name otherwise."""
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type):
        return owner.__name__
    return getattr(fn, "__qualname__", repr(fn))


def _outputs(fn: Callable, inputs: Sequence[Tensor]) -> list[Tensor]:
    out = fn(*inputs)
    return list(out) if isinstance(out, tuple | list) else [out]


def _projection(outputs: list[Tensor], seed: int) -> list[np.ndarray]:
    """Random weights u for the scalar <u, f(x)>: checks J^T u for every input element at the
    cost of one backward, and a wrong Jacobian changes J^T u for almost every u."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(o.shape) if o.size > 1 else np.ones(o.shape) for o in outputs]


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Tensor] | Tensor,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    raise_exception: bool = True,
    fast_mode: bool = False,
) -> bool:
    """Compare the gradient autograd computes for ``fn`` with central finite differences.

    ``fn`` takes the ``inputs`` (float64 Tensors) and returns a Tensor or a tuple of them.
    For non-scalar outputs the check uses a fixed random projection ``<u, fn(x)>``. Inputs
    that do not require grad are held constant. ``fast_mode`` checks each input along one
    random direction (two calls of ``fn``, not two per element), and goes element by element
    only to name the element when that disagrees. Returns True, or raises ``GradcheckError``
    naming the function, the input, the element, and the numeric and analytic values.

    >>> import numpy as np, tinygrad_np as tg
    >>> x = tg.tensor(np.array([0.5, 2.0]), requires_grad=True)
    >>> tg.gradcheck(lambda t: (t * t.log()).sum(), [x])
    True
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    name = _name(fn)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError(f"gradcheck({name}): no input requires grad; nothing to check")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(
                f"gradcheck({name}): input {i} has dtype {inputs[i].dtype}; finite differences "
                "need float64 (create it with dtype=np.float64)"
            )

    outputs = _outputs(fn, inputs)
    us = _projection(outputs, seed)
    differentiable = [(o, u) for o, u in zip(outputs, us) if o.requires_grad]
    analytic = [None] * len(checked)
    if differentiable:
        analytic = autograd.grad(
            [o for o, _ in differentiable],
            [inputs[i] for i in checked],
            grad_outputs=[u.astype(o.dtype) for o, u in differentiable],
            allow_unused=True,
        )

    def f() -> float:  # grad mode stays on: gradgradcheck's fn itself calls backward
        return float(sum(np.sum(o.data * u) for o, u in zip(_outputs(fn, inputs), us)))

    rng = np.random.default_rng(seed)
    for i, a in zip(checked, analytic):
        x = inputs[i].data
        a = np.zeros_like(x) if a is None else a.data
        if fast_mode:
            v = rng.standard_normal(x.shape)
            numeric = directional(f, x, v, eps)
            if abs(float(np.sum(a * v)) - numeric) <= atol + rtol * abs(numeric):
                continue
        plus, minus = finite_differences(f, x, eps)
        numeric = ((plus - minus) / (2 * eps)).reshape(x.shape)
        bad = np.abs(a - numeric) > atol + rtol * np.abs(numeric)
        if not bad.any():
            continue
        if not raise_exception:
            return False
        k = int(np.argmax(bad.reshape(-1)))
        idx = tuple(int(j) for j in np.unravel_index(k, x.shape)) if x.ndim else ()
        projected = len(outputs) > 1 or outputs[0].size != 1
        raise GradcheckError(
            f"gradcheck({name}): gradient mismatch for input {i} (shape {x.shape}) at "
            f"element {idx}: numeric {numeric.reshape(-1)[k]:.8g}, analytic "
            f"{a.reshape(-1)[k]:.8g} (atol={atol}, rtol={rtol}); {int(bad.sum())} of "
            f"{bad.size} elements differ"
            + ("; non-scalar output checked through a random projection <u, f(x)>" * projected)
        )
    return True


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Tensor] | Tensor,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    raise_exception: bool = True,
    fast_mode: bool = False,
) -> bool:
    """Check second derivatives: gradcheck of the (create_graph) gradient of ``fn``.

    >>> import numpy as np, tinygrad_np as tg
    >>> x = tg.tensor(np.array([0.5, 2.0]), requires_grad=True)
    >>> tg.gradgradcheck(lambda t: (t ** 3).sum(), [x])
    True
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    weights: dict[str, list[np.ndarray]] = {}

    def first_derivative(*xs: Tensor) -> tuple[Tensor, ...]:
        outputs = _outputs(fn, xs)
        us = weights.setdefault("u", _projection(outputs, seed + 1))
        total = sum((o * u.astype(o.dtype)).sum() for o, u in zip(outputs, us) if o.requires_grad)
        grads = autograd.grad(total, [xs[i] for i in checked], create_graph=True, allow_unused=True)
        return tuple(
            g if g is not None else Tensor(np.zeros(xs[i].shape)) for g, i in zip(grads, checked)
        )

    first_derivative.__qualname__ = f"grad of {_name(fn)}"
    return gradcheck(first_derivative, inputs, eps, atol, rtol, seed, raise_exception, fast_mode)
