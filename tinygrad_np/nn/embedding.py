"""Embeddings: ``embedding`` (a row lookup) and the ``Embedding`` layer, as in PyTorch.

The lookup is indexing (``weight[indices]``), so its backward is indexing's: the gradient of
each looked-up row is added back into its row, and a row looked up several times receives the
sum of its gradients.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_np import ops
from tinygrad_np._arrays import to_numpy
from tinygrad_np.nn import init as nn_init
from tinygrad_np.nn.module import Module, Parameter
from tinygrad_np.tensor import DTypeLike, Tensor


def _padding_index(name: str, padding_idx: int | None, num_embeddings: int) -> int | None:
    """``padding_idx`` as a row in [0, num_embeddings) (negative counts from the end)."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, int | np.integer):
        raise ValueError(f"{name}: padding_idx must be an int or None, got {padding_idx!r}")
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(
            f"{name}: padding_idx {padding_idx} is out of range for {num_embeddings} embeddings"
        )
    return int(padding_idx) % num_embeddings


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` (num_embeddings, embedding_dim) picked by the integer ``input`` of
    any shape; the result has shape ``input.shape + (embedding_dim,)``.

    Repeated indices accumulate their gradients into the same row. The row at
    ``padding_idx`` is looked up as usual but never receives a gradient.

    >>> import numpy as np, tinygrad_np as tg
    >>> weight = tg.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    >>> out = embedding([[0, 2], [2, 2]], weight)
    >>> out.shape
    (2, 2, 2)
    >>> out.sum().backward(); weight.grad.tolist()  # row 2 was looked up three times
    [[1.0, 1.0], [0.0, 0.0], [3.0, 3.0]]
    """
    name = "embedding"
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError(
            f"{name}: weight must be a 2-D Tensor (num_embeddings, embedding_dim), got "
            f"{type(weight).__name__} of shape {getattr(weight, 'shape', ())}"
        )
    index = to_numpy(input)
    if index.dtype.kind not in "iu":
        raise ValueError(
            f"{name}: indices must be integers, got dtype {index.dtype} (shape {index.shape}); "
            "convert them with .astype(np.int64)"
        )
    rows = weight.shape[0]
    if index.size and (index.min() < 0 or index.max() >= rows):
        bad = index[(index < 0) | (index >= rows)].flat[0]
        raise ValueError(
            f"{name}: index {bad} is out of range for weight of shape {weight.shape} "
            f"(indices of shape {index.shape} must lie in [0, {rows - 1}])"
        )
    padding_idx = _padding_index(name, padding_idx, rows)
    out = weight[index]  # an integer array index: backward adds repeated rows up
    if padding_idx is not None:
        is_padding = index == padding_idx
        if is_padding.any():  # the same values, with the padding rows cut off the graph
            out = ops.where(is_padding[..., None], out.detach(), out)
    return out


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``: integer indices
    in, their rows out (``input.shape + (embedding_dim,)``).

    The ``weight`` starts as N(0, 1) samples from the library's generator (PyTorch's default),
    with the ``padding_idx`` row, if any, at zero; that row never receives a gradient.

    >>> import tinygrad_np as tg
    >>> emb = tg.nn.Embedding(10, 3, padding_idx=0)
    >>> emb([[1, 2, 0]]).shape, emb.weight[0].tolist()
    ((1, 3, 3), [0.0, 0.0, 0.0])
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        dtype: DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        for what, n in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
                raise ValueError(f"Embedding: {what} must be a positive int, got {n!r}")
        self.num_embeddings = int(num_embeddings)
        self.embedding_dim = int(embedding_dim)
        self.padding_idx = _padding_index("Embedding", padding_idx, self.num_embeddings)
        self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=dtype))
        nn_init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(
        cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None
    ) -> Embedding:
        """An Embedding holding a copy of the 2-D ``embeddings``; ``freeze`` (the default)
        keeps it out of training (``weight.requires_grad`` False).

        >>> import numpy as np, tinygrad_np as tg
        >>> emb = tg.nn.Embedding.from_pretrained(np.eye(3))
        >>> emb([2]).tolist(), emb.weight.requires_grad
        ([[0.0, 0.0, 1.0]], False)
        """
        values = to_numpy(embeddings)
        if values.ndim != 2:
            raise ValueError(
                f"Embedding.from_pretrained: embeddings must be 2-D, got shape {values.shape}"
            )
        layer = cls(*values.shape, padding_idx=padding_idx, dtype=values.dtype)
        layer.weight.data[...] = values
        layer.weight.requires_grad = not freeze
        return layer

    def forward(self, input: Any) -> Tensor:
        return embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text if self.padding_idx is None else f"{text}, padding_idx={self.padding_idx}"
