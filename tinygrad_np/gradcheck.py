"""Check autograd against central finite differences, with a report a person can act on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygrad_np import autograd
from tinygrad_np.tensor import Tensor


class GradcheckError(AssertionError):
    """Autograd and finite differences disagree; the message says where and by how much."""


def _outputs(fn: Callable, inputs: Sequence[Tensor]) -> list[Tensor]:
    out = fn(*inputs)
    return list(out) if isinstance(out, tuple | list) else [out]


def _projection(outputs: list[Tensor], seed: int) -> list[np.ndarray]:
    """Random weights u for the scalar <u, f(x)>: checks J^T u for every input element at the
    cost of one backward, and a wrong Jacobian changes J^T u for almost every u."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(o.shape) if o.size > 1 else np.ones(o.shape) for o in outputs]


def _weighted(outputs: list[Tensor], us: list[np.ndarray]) -> float:
    return float(sum(np.sum(o.data * u) for o, u in zip(outputs, us)))


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Tensor] | Tensor,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Compare the gradient autograd computes for ``fn`` with central finite differences.

    ``fn`` takes the ``inputs`` (float64 Tensors) and returns a Tensor or a tuple of them.
    For non-scalar outputs the check uses a fixed random projection ``<u, fn(x)>``. Inputs
    that do not require grad are held constant. Returns True, or raises ``GradcheckError``
    naming the input, the element, and the numeric and analytic values.

    >>> import numpy as np, tinygrad_np as tg
    >>> x = tg.tensor(np.array([0.5, 2.0]), requires_grad=True)
    >>> tg.gradcheck(lambda t: (t * t.log()).sum(), [x])
    True
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    name = getattr(fn, "__qualname__", repr(fn))
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
    if differentiable:
        analytic = autograd.grad(
            [o for o, _ in differentiable],
            [inputs[i] for i in checked],
            grad_outputs=[u.astype(o.dtype) for o, u in differentiable],
            allow_unused=True,
        )
    else:
        analytic = [None] * len(checked)

    for i, a in zip(checked, analytic):
        x = inputs[i].data
        a = np.zeros_like(x) if a is None else a.data
        numeric = np.zeros_like(x)
        flat = x.reshape(-1)  # a view: perturbing it perturbs the input in place
        if not np.shares_memory(flat, x):
            raise ValueError(f"gradcheck({name}): input {i} must be a contiguous array")
        # grad mode stays on: gradgradcheck's fn itself calls backward
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + eps
            plus = _weighted(_outputs(fn, inputs), us)
            flat[k] = orig - eps
            minus = _weighted(_outputs(fn, inputs), us)
            flat[k] = orig
            numeric.reshape(-1)[k] = (plus - minus) / (2 * eps)
        bad = np.abs(a - numeric) > atol + rtol * np.abs(numeric)
        if bad.any():
            k = int(np.argmax(bad.reshape(-1)))
            idx = np.unravel_index(k, x.shape) if x.ndim else ()
            if not raise_exception:
                return False
            raise GradcheckError(
                f"gradcheck({name}): gradient mismatch for input {i} (shape {x.shape}) at "
                f"element {tuple(int(j) for j in idx)}: numeric {numeric.reshape(-1)[k]:.8g}, "
                f"analytic {a.reshape(-1)[k]:.8g} (atol={atol}, rtol={rtol}); "
                f"{int(bad.sum())} of {bad.size} elements differ"
                + (
                    ""
                    if len(outputs) == 1 and outputs[0].size == 1
                    else "; non-scalar output checked through a random projection <u, f(x)>"
                )
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

    first_derivative.__qualname__ = f"grad of {getattr(fn, '__qualname__', repr(fn))}"
    return gradcheck(first_derivative, inputs, eps, atol, rtol, seed, raise_exception)
