"""Reverse-mode differentiation: the backward traversal, ``grad()``, and the grad and anomaly
modes it obeys (defined in ``grad_mode``).

The whole traversal lives in ``run_backward``: no recursion (a 100,000-op chain works), ops
run newest first from a heap keyed by their creation number (an op is always created after
the ops that made its inputs, so that order is topological), gradients are kept in a dict
popped as soon as they are used, and broadcasting is undone in one place (``unbroadcast``)
as gradients flow into a parent. ``toposort`` orders a graph for drawings and traces.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Sequence
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any

from tinygrad_np.backend import Freed, array_module, as_array, is_array
from tinygrad_np.grad_mode import _state, detect_anomaly, enable_grad, is_grad_enabled, no_grad

# CPython counts references: backward frees a node's values only when nothing but the graph
# holds the node. Elsewhere (PyPy) values are kept, as before.
_refcount = getattr(sys, "getrefcount", None)

if TYPE_CHECKING:
    from tinygrad_np.tensor import Tensor


# One clock orders op creation and in-place changes. Ops are numbered as they are created,
# so reverse creation order is a topological order (all backward needs); an in-place change
# stamps the tensor, so a tensor changed after an op saved it carries a later stamp.
clock = itertools.count(1)
last_change = 0  # the stamp of the latest in-place change of any tensor

__all__ = [
    "backward",
    "broadcast_axes",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "is_grad_enabled",
    "no_grad",
    "run_backward",
    "toposort",
    "unbroadcast",
]


def broadcast_axes(grad_shape: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """The axes of ``grad_shape`` that broadcasting ``shape`` up to it added or stretched.

    >>> broadcast_axes((4, 2, 3), (1, 3))
    (0, 1)
    """
    lead = len(grad_shape) - len(shape)
    return tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad_shape[lead + i] != 1
    )


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` down to ``shape``: the adjoint of NumPy broadcasting.

    Leading axes that broadcasting added are summed away; axes where ``shape`` has 1 are
    summed with keepdims. Works on arrays and on Tensors (for create_graph).
    """
    axes = broadcast_axes(grad.shape, shape)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def toposort(roots: Sequence[Tensor], stop: Sequence[Tensor] = ()) -> list[Tensor]:
    """Nodes reachable from ``roots`` through tensors that require grad, parents first.

    Iterative depth-first search; parents are visited in input order, so the order (and
    every drawing or trace built on it) is deterministic. The walk never enters ``stop``
    (say, a layer's inputs, to find only what the layer made).
    """
    order: list[Tensor] = []
    visited: set[int] = {id(t) for t in stop}
    stack: list[tuple[Tensor, bool]] = [(r, False) for r in reversed(roots)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        ctx = node._ctx
        if ctx is not None:
            for parent, needed in zip(reversed(ctx.parents), reversed(ctx.needs_input_grad)):
                if needed and id(parent) not in visited:
                    stack.append((parent, False))
    return order


# A hook sees each op as backward runs: (node, grad_output, grads sent to its parents).
BackwardHook = Callable[["Tensor", Any, tuple], None]


def run_backward(
    roots: Sequence[Tensor],
    root_grads: Sequence[Any],
    retain_graph: bool = False,
    create_graph: bool = False,
    inputs: Sequence[Tensor] | None = None,
    hook: BackwardHook | None = None,
) -> list[Any] | None:
    """The backward pass. With ``inputs``, return their gradients instead of accumulating
    into leaves' ``.grad`` (that is ``grad()``); otherwise accumulate and return None.

    Ops run in reverse creation order: every op was created after the ops that made its
    inputs, so when an op is popped from the max-heap below, every consumer of its output has
    already sent its share and the gradient is complete. Traversal and backward are one loop,
    and leaves never enter the heap: their gradients are added as they arrive.
    """
    from tinygrad_np.tensor import Tensor

    grads: dict[Tensor, Any] = {}  # node -> gradient of it, popped when its op runs
    heap: list[tuple[int, Tensor]] = []  # (-creation number, node): newest op first
    leaf_grads: dict[int, Any] | None = None if inputs is None else {}
    wanted = None if inputs is None else {id(t) for t in inputs}
    found: dict[int, Any] = {}
    stored: set[int] = {id(g) for g in root_grads}  # arrays a leaf may not own alone
    uses: dict[Tensor, int] = {}  # how many inputs of processed ops a node is (see _release)
    anomaly = _state.anomaly

    def send(parent: Tensor, pg: Any) -> None:
        ctx = parent._ctx
        if ctx is None:
            if leaf_grads is None:
                _accumulate_leaf(parent, pg, stored, Tensor)
            else:
                key = id(parent)
                leaf_grads[key] = leaf_grads[key] + pg if key in leaf_grads else pg
        elif parent in grads:  # Tensors hash by identity
            grads[parent] = grads[parent] + pg
            uses[parent] += 1
        else:
            grads[parent] = pg
            uses[parent] = 1
            heappush(heap, (-ctx.seq, parent))

    prev_mode = _state.grad_enabled
    _state.grad_enabled = create_graph  # a create_graph backward records its own graph
    try:
        for root, g in zip(roots, root_grads):
            send(root, g)
        while heap:
            node = heappop(heap)[1]
            g = grads.pop(node)
            ctx = node._ctx
            if wanted is not None and id(node) in wanted:
                found[id(node)] = g
            if ctx.freed:
                raise RuntimeError(
                    f"backward through '{ctx.name}' a second time: its saved values were "
                    "freed by the first backward. Pass retain_graph=True to the first "
                    "backward() if you need to run backward twice."
                )
            if last_change > ctx.seq and ctx.saved:  # something changed since this op ran
                ctx._check_versions()
            parent_grads = _call_backward(ctx, g, create_graph, anomaly)
            if type(parent_grads) is not tuple:
                parent_grads = (parent_grads,)
            parents = ctx.parents
            if len(parent_grads) != len(parents):
                raise RuntimeError(
                    f"the backward of '{ctx.name}' returned {len(parent_grads)} gradients "
                    f"for {len(parents)} inputs"
                )
            sent = [] if hook is not None else None
            for i, needed in enumerate(ctx.needs_input_grad):
                pg = parent_grads[i] if needed else None
                if pg is not None:
                    parent = parents[i]
                    shape = parent.data.shape
                    if create_graph and not isinstance(pg, Tensor):
                        raise TypeError(
                            f"the backward of '{ctx.name}' returned a plain array for input "
                            f"{i} under create_graph=True, so its gradient has no graph: it "
                            "computed with NumPy on Tensors. Write it with operators and "
                            "tg.ops.tnp, or decorate it with @tg.once_differentiable"
                        )
                    if getattr(pg, "shape", None) != shape:
                        pg = _fit_to_parent(ctx.name, i, pg, shape)
                    if anomaly:
                        _check_finite(ctx.name, i, pg)
                    send(parent, pg)
                if sent is not None:
                    sent.append(pg)
            if hook is not None:
                hook(node, g, tuple(sent))
            if not retain_graph:  # free what backward no longer needs, now
                _release(node, ctx, uses.pop(node, 0), Tensor)
    finally:
        _state.grad_enabled = prev_mode
    if inputs is None:
        return None
    if leaf_grads:
        found.update(leaf_grads)
    return [found.get(id(t)) for t in inputs]


# Arrays smaller than this are kept after backward: a placeholder would cost as much.
FREE_FROM_BYTES = 1024


def _release(node: Tensor, ctx: Any, uses: int, tensor_cls: type) -> None:
    """Drop the arrays of a node whose backward ran, so that a tensor kept afterwards (a loss
    appended to a list) holds no activations, while the graph keeps its structure, shapes
    and names for drawings: saved values go; large constant inputs (data, dropout masks)
    become ``Freed`` placeholders; and so do the node's own values when nothing outside the
    graph refers to the node (its references are then this frame's and its consumers' only).
    """
    ctx.saved = ()
    ctx.freed = True
    ctx.forward_kwargs = None
    if False in ctx.needs_input_grad:  # constant inputs
        parents = ctx.parents
        if any(
            _nbytes(p.data if p.__class__ is tensor_cls else p) >= FREE_FROM_BYTES for p in parents
        ):
            ctx.parents = tuple([_freed(p, tensor_cls, parents) for p in parents])
    data = node.data
    # 3 = the caller's variable, our argument and getrefcount's own; + its consumers' inputs
    if _nbytes(data) >= FREE_FROM_BYTES and _refcount is not None and _refcount(node) == 3 + uses:
        node.data = Freed(data)


def _nbytes(x: Any) -> int:
    return getattr(x, "nbytes", 0)  # 0 for numbers and for Freed placeholders


def _freed(p: Any, tensor_cls: type, parents: tuple) -> Any:
    """A constant input, freed: a placeholder (a tensor of one, named as before), unless it is
    small, needs a gradient, or is a tensor something outside this node holds (its values
    then live on anyway)."""
    if isinstance(p, tensor_cls):
        if p.requires_grad or _nbytes(p.data) < FREE_FROM_BYTES:
            return p
        # 3 = our argument, getrefcount's and the caller's loop variable; + this node's inputs
        if _refcount is None or _refcount(p) > 3 + sum(q is p for q in parents):
            return p
        ghost = tensor_cls._wrap(Freed(p.data), False)
        ghost.name = p.name
        return ghost
    return Freed(p) if _nbytes(p) >= FREE_FROM_BYTES else p


def _call_backward(ctx: Any, g: Any, create_graph: bool, anomaly: bool) -> Any:
    """One op's backward, with the errors a user can act on named after the op."""
    try:
        if anomaly:  # the finiteness check names the op; the library's warning would not
            with array_module(g).errstate(divide="ignore", over="ignore", invalid="ignore"):
                return ctx.backward(ctx, g)
        return ctx.backward(ctx, g)
    except TypeError as e:
        if not create_graph or str(e).startswith("the backward of"):
            raise
        raise TypeError(
            f"the backward of '{ctx.name}' failed under create_graph=True, where it is given "
            f"Tensors instead of arrays ({e}). A backward that calls NumPy works on arrays "
            "only: write it with operators and tg.ops.tnp, or decorate it with "
            "@tg.once_differentiable"
        ) from e


def _fit_to_parent(name: str, i: int, grad: Any, shape: tuple[int, ...]) -> Any:
    """Undo broadcasting, or explain which backward returned a gradient that cannot fit."""
    if not is_array(grad):
        raise TypeError(
            f"the backward of '{name}' returned a {type(grad).__name__} for input {i} of "
            f"shape {shape}; return an array of that shape (or None when the input needs no "
            "gradient)"
        )
    lead = grad.ndim - len(shape)
    if not hasattr(grad, "_ctx"):  # an array (a Tensor is summed through the graph, below)
        # The common case, a bias added to a batch: sum the first axis (a (1, out) bias keeps
        # it). add.reduce skips ndarray.sum's Python wrapper.
        if lead == 1 and grad.shape[1:] == shape:
            return array_module(grad).add.reduce(grad, axis=0)
        if lead == 0 and shape[0] == 1 and grad.shape[1:] == shape[1:]:
            return array_module(grad).add.reduce(grad, axis=0, keepdims=True)
    if lead < 0 or any(n != 1 and n != m for n, m in zip(shape, grad.shape[lead:])):
        raise RuntimeError(
            f"the backward of '{name}' returned a gradient of shape {grad.shape} for input "
            f"{i} of shape {shape}"
        )
    return unbroadcast(grad, shape)


def _check_finite(name: str, i: int, grad: Any) -> None:
    data = grad.data if hasattr(grad, "_ctx") else grad  # a Tensor under create_graph
    if not array_module(data).isfinite(data).all():
        raise RuntimeError(
            f"detect_anomaly: the backward of '{name}' returned a non-finite gradient "
            f"(nan or inf) for its input {i} of shape {tuple(data.shape)}"
        )


def _accumulate_leaf(node: Tensor, g: Any, stored: set[int], tensor_cls: type) -> None:
    """Add ``g`` into ``node.grad``, in the leaf's dtype, never sharing memory with another
    leaf's gradient or with the caller's gradient array."""
    if isinstance(g, tensor_cls):  # create_graph: keep the gradient's own graph
        if g.dtype != node.data.dtype:
            g = g.astype(node.data.dtype)
        node.grad = g if node.grad is None else node.grad + g
        return
    dtype, g = node.data.dtype, as_array(g)
    if node.grad is not None:
        node.grad = tensor_cls._wrap(node.grad.data + g.astype(dtype, copy=False), False)
        return
    if g.dtype != dtype:
        g = g.astype(dtype)
    elif id(g) in stored or g.base is not None:
        # A pass-through backward (add, reshape) hands one array, or views of it, to several
        # leaves, or the caller's own gradient array: copy then, so .grad is the leaf's own.
        g = g.copy()
    stored.add(id(g))
    node.grad = tensor_cls._wrap(g, False)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    create_graph: bool = False,
    retain_graph: bool | None = None,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, without touching ``.grad``.

    With ``create_graph=True`` the returned gradients are themselves differentiable, which
    gives Hessian-vector products and other higher-order derivatives.

    >>> import tinygrad_np as tg
    >>> x = tg.tensor([3.0], requires_grad=True)
    >>> (dx,) = tg.autograd.grad((x ** 3).sum(), x, create_graph=True)
    >>> (ddx,) = tg.autograd.grad(dx.sum(), x)
    >>> float(dx.item()), float(ddx.item())
    (27.0, 18.0)
    """
    from tinygrad_np.tensor import Tensor

    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or is_array(grad_outputs):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) does not require grad")
    roots, seeds = _seeds("grad", outputs, list(grad_outputs), create_graph)
    retain = create_graph if retain_graph is None else retain_graph
    found = run_backward(roots, seeds, retain, create_graph, inputs=inputs)
    result = []
    for i, (t, g) in enumerate(zip(inputs, found)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {t.shape}) is not part of the graph of the "
                    "outputs; pass allow_unused=True to get None for it"
                )
            result.append(None)
        elif isinstance(g, Tensor):
            result.append(g)
        else:
            result.append(Tensor._wrap(g.astype(t.dtype, copy=False), False))
    return tuple(result)


def _seeds(
    op: str, outputs: list[Tensor], grad_outputs: list[Any], create_graph: bool
) -> tuple[list[Tensor], list[Any]]:
    """The starting gradient of each output: ones for a scalar, else the one given."""
    from tinygrad_np.tensor import Tensor

    if len(grad_outputs) != len(outputs):
        raise ValueError(f"{op}: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    roots, seeds = [], []
    for out, g in zip(outputs, grad_outputs):
        if not out.requires_grad:
            raise RuntimeError(
                f"{op}: tensor of shape {out.shape} does not require grad and has no graph; "
                "did you create it under no_grad() or from tensors without requires_grad=True?"
            )
        if g is None:
            if out.data.size != 1:
                raise RuntimeError(
                    f"{op}: gradient can be implicit only for a single-element output, got "
                    f"shape {out.shape}; pass a gradient of that shape"
                )
            g = array_module(out.data).ones_like(out.data)
        else:
            g = g if isinstance(g, Tensor) else array_module(out.data).asarray(g, dtype=out.dtype)
            if g.shape != out.shape:
                raise ValueError(
                    f"{op}: gradient of shape {tuple(g.shape)} does not match output shape "
                    f"{out.shape}"
                )
        if create_graph:
            g = g if isinstance(g, Tensor) else Tensor._wrap(g, False)
        elif isinstance(g, Tensor):
            g = g.data
        roots.append(out)
        seeds.append(g)
    return roots, seeds


def backward(
    tensor: Tensor, gradient: Any = None, retain_graph: bool = False, create_graph: bool = False
) -> None:
    """Accumulate d(tensor)/d(leaf) into every leaf's ``.grad`` (``Tensor.backward``)."""
    if gradient is None and not create_graph and tensor.requires_grad and tensor.data.size == 1:
        # the common case, a scalar loss: skip the argument checks of the general path
        seed = array_module(tensor.data).ones_like(tensor.data)
        run_backward([tensor], [seed], retain_graph)
        return
    roots, seeds = _seeds("backward", [tensor], [gradient], create_graph)
    run_backward(roots, seeds, retain_graph or create_graph, create_graph)
