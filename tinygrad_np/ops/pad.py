"""Padding, in PyTorch's order: ``pad = (left, right, top, bottom, ...)``, last axis first.

Constant padding is one op (``Pad``), whose adjoint is padding by the negated widths: a crop.
The other modes repeat input elements, so they are gathers (``x[..., index]``) along each
padded axis, and the engine's indexing op sums the gradient of the repeats.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tinygrad_np.backend import array_module
from tinygrad_np.function import Function
from tinygrad_np.ops import tnp
from tinygrad_np.ops.common import as_tensor
from tinygrad_np.tensor import Tensor

MODES = ("constant", "reflect", "replicate", "circular")


def pad_widths(op: str, pad: Any, shape: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """PyTorch's flat ``pad`` as one (before, after) pair per axis of ``shape``.

    >>> pad_widths("pad", (1, 2), (3, 4))
    ((0, 0), (1, 2))
    """
    if not isinstance(pad, Sequence) or not all(
        hasattr(p, "__index__") and not isinstance(p, bool) for p in pad
    ):
        raise TypeError(f"{op}: pad must be a sequence of ints, got {pad!r}")
    if len(pad) % 2:
        raise ValueError(f"{op}: pad must have an even length (before, after per axis), got {pad}")
    if len(pad) // 2 > len(shape):
        raise ValueError(
            f"{op}: pad {tuple(pad)} has {len(pad) // 2} (before, after) pairs for an input of "
            f"shape {tuple(shape)} with {len(shape)} axes"
        )
    widths = [(0, 0)] * len(shape)
    for i in range(len(pad) // 2):
        widths[len(shape) - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    for axis, (n, (lo, hi)) in enumerate(zip(shape, widths)):
        if n + lo + hi < 0:
            raise ValueError(
                f"{op}: pad {tuple(pad)} leaves axis {axis} of input shape {tuple(shape)} with "
                f"a negative size {n} + {lo} + {hi}"
            )
    return tuple(widths)


def pad_array(x: Any, widths: tuple[tuple[int, int], ...], value: float) -> Any:
    """``x`` padded with ``value`` by (before, after) ``widths`` per axis; negative widths crop."""
    shape = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, widths))
    out = array_module(x).full(shape, value, dtype=x.dtype)
    src = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for n, (lo, hi) in zip(x.shape, widths))
    dst = tuple(slice(max(lo, 0), max(lo, 0) + max(s.stop - s.start, 0)) for s, (lo, _) in
                zip(src, widths))  # fmt: skip
    if all(s.stop > s.start for s in src):
        out[dst] = x[src]
    return out


class Pad(Function):
    """z = x surrounded by ``value`` (negative widths crop);  dz/dx = g with the padding cut
    off, that is g padded by the negated widths"""

    @staticmethod
    def sample(draw):
        x = draw.array(draw.shape(min_dims=1))
        pairs = draw.integer(1, min(x.ndim, 2))
        pad = tuple(draw.integer(0, 2) for _ in range(2 * pairs))
        cropped = (-min(1, x.shape[-1] - 1), 1) + pad[2:]  # a negative width crops
        return [x], {"pad": draw.choice([pad, cropped]), "value": draw.choice([0.0, -1.5])}

    torch = staticmethod(
        lambda torch, x, pad, value=0.0: torch.nn.functional.pad(x, pad, value=value)
    )

    @staticmethod
    def forward(ctx, x, pad, value=0.0):
        widths = pad_widths("pad", pad, x.shape)
        ctx.pad = tuple(-int(p) for p in pad)
        return pad_array(x, widths, value)

    @staticmethod
    def backward(ctx, g):
        return tnp.pad(g, ctx.pad)


def _index(xp: Any, mode: str, n: int, lo: int, hi: int) -> Any:
    """Which input position each padded position copies, along one axis."""
    i = xp.arange(-lo, n + hi)
    if mode == "replicate":
        return i.clip(0, n - 1)
    if mode == "circular":
        return i % n
    period = 2 * (n - 1)  # reflect: ... 2 1 | 0 1 2 ... n-1 | n-2 ...
    i = abs(i) % period if period else i * 0
    return xp.where(i > n - 1, period - i, i)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad the last ``len(pad) // 2`` axes of ``input``; ``pad`` lists (before, after) widths
    from the last axis backwards, as in PyTorch. ``mode``: 'constant' (``value``; negative
    widths crop), 'reflect' (mirror, edge not repeated), 'replicate' (repeat the edge) or
    'circular' (wrap around).

    >>> import tinygrad_np as tg
    >>> pad(tg.tensor([[1.0, 2.0]]), (1, 2)).tolist()
    [[0.0, 1.0, 2.0, 0.0, 0.0]]
    >>> pad(tg.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect").tolist()
    [[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]
    """
    x = as_tensor(input)
    if mode == "constant":
        return Pad.apply(x, pad=tuple(pad), value=value)
    if mode not in MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(map(repr, MODES))}, got {mode!r}")
    if value:
        raise ValueError(f"pad: mode {mode!r} takes no value (got value={value!r})")
    widths = pad_widths("pad", pad, x.shape)
    k = len(pad) // 2
    if x.ndim not in (k + 1, k + 2):
        raise ValueError(
            f"pad: mode {mode!r} pads {k} axes of an input with {k + 1} or {k + 2} axes "
            f"(batch and channel first), got shape {x.shape}"
        )
    xp = array_module(x.data)
    for axis in range(x.ndim - k, x.ndim):
        n, (lo, hi) = x.shape[axis], widths[axis]
        if lo < 0 or hi < 0:
            raise ValueError(f"pad: negative widths {pad} crop only in mode 'constant'")
        if mode == "reflect" and max(lo, hi) >= n:
            raise ValueError(
                f"pad: reflect widths ({lo}, {hi}) must be smaller than axis {axis} of size {n} "
                f"(input shape {x.shape})"
            )
        if mode == "circular" and max(lo, hi) > n:
            raise ValueError(
                f"pad: circular widths ({lo}, {hi}) may wrap around axis {axis} of size {n} "
                f"at most once (input shape {x.shape})"
            )
        if mode == "replicate" and n == 0 and lo + hi:
            raise ValueError(f"pad: replicate needs a non-empty axis {axis} (input {x.shape})")
        if lo or hi:
            x = x[(slice(None),) * axis + (_index(xp, mode, n, lo, hi),)]
    return x
