"""Check a hand-derived layer or loss against its autograd counterpart on the same numbers.

The hand-derived side follows the NNFS book's protocol: ``forward(inputs)`` sets ``.output``;
``backward(dvalues)`` sets ``.dinputs`` and, for layers with parameters, ``.dweights`` and
``.dbiases``. The autograd side is a ``tg.nn`` module, a ``tg.Function`` subclass, or any
callable on Tensors. Parameters are copied from the hand-derived layer into the autograd one,
so both compute with exactly the same values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from tinygrad_np import nn
from tinygrad_np.compare.report import ComparisonReport, Difference, default_rtol, difference
from tinygrad_np.function import Function
from tinygrad_np.nn.layers import REGULARIZERS
from tinygrad_np.tensor import Tensor

# The book's parameter names and PyTorch's (which tg.nn uses).
CONVENTION = {"weights": "weight", "biases": "bias"}

ParamsSpec = Mapping[str, Any] | Sequence[str] | None


def _path(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _has(obj: Any, path: str) -> bool:
    try:
        _path(obj, path)
    except AttributeError:
        return False
    return True


def _gradient_name(path: str) -> str:
    """``weights`` -> ``dweights``; ``dense1.weights`` -> ``dense1.dweights`` (the book's)."""
    head, _, last = path.rpartition(".")
    return f"{head}.d{last}" if head else f"d{last}"


def _name(obj: Any) -> str:
    return getattr(obj, "__name__", None) or type(obj).__name__


def _is_module(obj: Any) -> bool:
    return hasattr(obj, "named_parameters") and callable(obj)


def _resolve_params(hand: Any, autograd: Any, params: ParamsSpec) -> dict[str, Any]:
    """hand-derived attribute path -> autograd Tensor, attribute path, or None (pass it in)."""
    if params is None:
        found = [name for name in CONVENTION if isinstance(getattr(hand, name, None), np.ndarray)]
        if _is_module(autograd):
            missing = [n for n in found if not _has(autograd, CONVENTION[n])]
            if missing:
                raise ValueError(
                    f"compare_layer: {_name(hand)} has {missing} but {_name(autograd)} has no "
                    f"{[CONVENTION[n] for n in missing]}; say which parameters match with "
                    "params={'weights': 'name_in_module', ...}"
                )
            return {n: CONVENTION[n] for n in found}
        return {n: None for n in found}
    if isinstance(params, Mapping):
        return dict(params)
    return {n: None for n in params}


def _as_input(inputs: Any) -> np.ndarray:
    array = np.array(inputs, copy=True)
    return array if array.dtype.kind == "f" else array.astype(np.float64)


def compare_layer(
    hand_layer: Any,
    autograd_layer: Any,
    inputs: Any,
    dvalues: Any = None,
    params: ParamsSpec = None,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
) -> ComparisonReport:
    """Run a hand-derived layer and its autograd counterpart on the same inputs and parameter
    values; compare the outputs, ``dinputs`` and every parameter gradient.

    ``autograd_layer`` may be:

    - a module (anything with ``named_parameters``, such as ``tg.nn.Linear``): called as
      ``autograd_layer(x)``; the hand layer's ``weights``/``biases`` are copied into its
      ``weight``/``bias`` (or the attributes ``params`` names: ``{"weights": "fc.weight"}``);
    - a ``tg.Function`` subclass or a callable on Tensors: called as ``fn(x, W, b)`` with new
      Tensors holding the hand layer's parameters (in the order of ``params``, by default
      ``weights`` then ``biases`` when the hand layer has them); or, when ``params`` maps names
      to Tensors the callable already uses, ``fn(x)`` after copying the values into them.

    ``dvalues`` (the gradient arriving from above) defaults to a fixed random array, so every
    element of every gradient is tested. ``rtol`` defaults to 1e-9 in float64 and 1e-4 when
    either side is float32.

    >>> import numpy as np, tinygrad_np as tg
    >>> from tinygrad_np import reference as ref
    >>> from tinygrad_np.compare import compare_layer
    >>> dense = ref.Layer_Dense(2, 3, rng=np.random.default_rng(0))
    >>> report = compare_layer(dense, lambda x, w, b: x @ w + b, np.ones((4, 2)))
    >>> report.ok, [row.name for row in report.rows]
    (True, ['output', 'dinputs', 'dweights', 'dbiases'])
    """
    mapping = _resolve_params(hand_layer, autograd_layer, params)
    x_hand = _as_input(inputs)
    batch = x_hand.shape[0] if x_hand.ndim else None

    # Autograd side first: the hand layer's parameters are read before its forward.
    tensors: dict[str, Tensor] = {}
    positional: list[Tensor] = []
    for hand_name, target in mapping.items():
        value = np.array(_path(hand_layer, hand_name), copy=True)
        if isinstance(target, Tensor):
            tensor = target
        elif isinstance(target, str):
            tensor = _path(autograd_layer, target)
            if not isinstance(tensor, Tensor):
                raise TypeError(
                    f"compare_layer: {_name(autograd_layer)}.{target} is a "
                    f"{type(tensor).__name__}, not a Tensor"
                )
        else:
            tensor = Tensor(value, requires_grad=True)
            positional.append(tensor)
        if tensor.shape != value.shape:
            raise ValueError(
                f"compare_layer: {_name(hand_layer)}.{hand_name} has shape {value.shape} but "
                f"its autograd counterpart has shape {tensor.shape}"
            )
        tensor.data = value.astype(tensor.dtype, copy=False)
        tensor.grad = None
        tensor.requires_grad_(True)  # a closure's tensors may have been made without it
        tensors[hand_name] = tensor

    x = Tensor(x_hand.copy(), requires_grad=True)
    if isinstance(autograd_layer, type) and issubclass(autograd_layer, Function):
        out = autograd_layer.apply(x, *positional)
    else:
        out = autograd_layer(x, *positional)

    returned = hand_layer.forward(x_hand.copy())
    hand_out = getattr(hand_layer, "output", None)
    hand_out = returned if hand_out is None else hand_out
    if hand_out is None:
        raise RuntimeError(f"compare_layer: {_name(hand_layer)}.forward set no .output")
    hand_out = np.asarray(hand_out)

    involved = [hand_out.dtype, out.dtype, *(t.dtype for t in tensors.values())]
    dtypes = sorted({str(d) for d in involved})
    rtol = default_rtol(*involved) if rtol is None else rtol
    rows = [difference("output", hand_out, out, rtol, atol, batch)]
    title = f"{_name(hand_layer)} (hand-derived) vs {_name(autograd_layer)} (autograd)"
    if hand_out.shape != out.shape:
        title += ": outputs differ in shape, gradients not compared"
        return ComparisonReport(title, rows, rtol, atol, " vs ".join(dtypes))

    if dvalues is None:
        # salted: a user's inputs drawn from default_rng(seed) must not equal these
        dvalues = np.random.default_rng([seed, 0xD1]).standard_normal(hand_out.shape)
    dvalues = np.asarray(dvalues, dtype=hand_out.dtype)
    if not out.requires_grad:
        raise RuntimeError(
            f"compare_layer: the output of {_name(autograd_layer)} does not require grad; "
            "it must be computed from its Tensor inputs with Tensor ops"
        )
    out.backward(dvalues.astype(out.dtype))
    if _regularized(hand_layer):
        # The book's Layer_Dense adds its penalties' gradients in backward; tg.nn adds them
        # through regularization_loss. Same strengths on both sides, then the same sum.
        if isinstance(autograd_layer, nn.Module):
            for name in REGULARIZERS:
                if hasattr(autograd_layer, name):
                    setattr(autograd_layer, name, getattr(hand_layer, name))
            nn.regularization_loss(autograd_layer).backward()
            title += ", with the L1/L2 penalties"
    hand_layer.backward(dvalues.copy())

    rows.append(_gradient_row("dinputs", hand_layer, "dinputs", x, rtol, atol, batch))
    _hint_untransposed_weights(rows[-1], hand_layer, dvalues)
    for hand_name, tensor in tensors.items():
        grad_name = _gradient_name(hand_name)
        row = _gradient_row(grad_name, hand_layer, grad_name, tensor, rtol, atol, batch)
        if not row.ok and _regularized(hand_layer) and not isinstance(autograd_layer, nn.Module):
            row.hint = (
                "the hand layer adds its L1/L2 penalty gradients in backward; the autograd "
                "side must include the penalties (pass a tg.nn module to add them for you)"
            )
        rows.append(row)
    return ComparisonReport(title, rows, rtol, atol, " vs ".join(dtypes))


def _regularized(layer: Any) -> bool:
    return any(getattr(layer, name, 0) for name in REGULARIZERS)


def _hint_untransposed_weights(row: Difference, hand: Any, dvalues: np.ndarray) -> None:
    """The book's classic slip: ``dinputs = dvalues · W`` where ``dvalues · Wᵀ`` is meant."""
    weights = getattr(hand, "weights", None)
    if row.ok or not isinstance(weights, np.ndarray) or weights.ndim != 2:
        return
    if weights.shape[0] != weights.shape[1] or row.hand_shape != row.autograd_shape:
        return
    if np.allclose(hand.dinputs, dvalues @ weights, rtol=1e-9, atol=0):
        row.hint = "hand-derived = dvalues · W: the weights need a transpose, dvalues · W.T"


def _gradient_row(
    name: str, hand: Any, attribute: str, tensor: Tensor, rtol: float, atol: Any, batch: Any
) -> Difference:
    if not _has(hand, attribute) or _path(hand, attribute) is None:
        raise RuntimeError(f"compare_layer: {_name(hand)}.backward set no .{attribute}")
    autograd = np.zeros(tensor.shape) if tensor.grad is None else tensor.grad.data
    row = difference(name, _path(hand, attribute), autograd, rtol, atol, batch)
    if tensor.grad is None and not row.ok:
        row.hint = "autograd computed no gradient for it: does the forward use this tensor?"
    return row


def compare_loss(
    hand_loss: Any,
    autograd_loss: Callable[..., Tensor],
    y_pred: Any,
    y_true: Any,
    rtol: float | None = None,
    atol: float | None = None,
) -> ComparisonReport:
    """Compare a hand-derived loss (the book's Loss classes) with an autograd loss: the mean
    loss value and its gradient with respect to the predictions.

    The hand side runs ``calculate(y_pred, y_true)`` (or ``forward`` when there is no
    ``calculate``, as in the book's combined softmax + cross-entropy), then
    ``backward(dvalues, y_true)`` with ``dvalues`` its own ``.output`` when forward set one
    (the combined class's probabilities), else the predictions. The autograd side is called as
    ``autograd_loss(prediction_tensor, y_true)`` and must return a scalar Tensor.

    >>> import numpy as np, tinygrad_np as tg
    >>> from tinygrad_np import reference as ref
    >>> from tinygrad_np.compare import compare_loss
    >>> logits = np.random.default_rng(0).standard_normal((5, 3))
    >>> labels = np.array([0, 2, 1, 1, 0])
    >>> compare_loss(ref.Activation_Softmax_Loss_CategoricalCrossentropy(),
    ...              tg.cross_entropy, logits, labels).ok
    True
    """
    pred = _as_input(y_pred)
    target = np.asarray(y_true)
    batch = pred.shape[0] if pred.ndim else None

    p = Tensor(pred.copy(), requires_grad=True)
    loss = autograd_loss(p, target.copy())
    if not isinstance(loss, Tensor) or loss.size != 1:
        raise TypeError(
            f"compare_loss: {_name(autograd_loss)} must return a one-element Tensor, got "
            f"{type(loss).__name__} of shape {getattr(loss, 'shape', None)}"
        )
    if hasattr(hand_loss, "output"):
        hand_loss.output = None  # so a stale value from an earlier call is never used
    if hasattr(hand_loss, "calculate"):
        value = hand_loss.calculate(pred.copy(), target.copy())
    else:
        value = np.mean(hand_loss.forward(pred.copy(), target.copy()))
    own = getattr(hand_loss, "output", None)
    hand_loss.backward(np.array(pred if own is None else own, copy=True), target.copy())
    loss.backward()

    value = np.asarray(value)
    rtol = default_rtol(value.dtype, loss.dtype) if rtol is None else rtol
    rows = [
        difference("loss", value, loss.data.reshape(value.shape), rtol, atol),
        difference("dinputs", hand_loss.dinputs, p.grad, rtol, atol, batch),
    ]
    title = f"{_name(hand_loss)} (hand-derived) vs {_name(autograd_loss)} (autograd)"
    dtypes = " vs ".join(sorted({str(value.dtype), str(loss.dtype)}))
    return ComparisonReport(title, rows, rtol, atol, dtypes)
