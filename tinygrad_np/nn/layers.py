"""Layers: ``Linear`` (alias ``Dense``), ``Dropout``, ``Flatten``, ``Identity``, ``Sequential``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from tinygrad_np.nn import functional as F
from tinygrad_np.nn import init as nn_init
from tinygrad_np.nn.module import Module, Parameter
from tinygrad_np.tensor import DTypeLike, Tensor

# The book's penalty strengths, by name (the compare tools read them too).
REGULARIZERS = (
    "weight_regularizer_l1",
    "weight_regularizer_l2",
    "bias_regularizer_l1",
    "bias_regularizer_l2",
)
_INITS = {
    "kaiming": nn_init.kaiming_normal_,
    "xavier": nn_init.xavier_normal_,
    "nnfs": nn_init.nnfs_,
}


class Linear(Module):
    """A fully connected layer, ``X @ W + b``, laid out as in the NNFS book.

    ``weight`` has shape (in_features, out_features) and ``bias`` shape (1, out_features):
    the book's ``weights`` and ``biases`` exactly, so its arrays, its hand-derived
    ``dweights``/``dbiases`` and this layer's ``.grad`` compare element for element with no
    transposes or reshapes. (PyTorch stores (out, in) and (out,); ``F.linear`` says how to
    compare.)

    ``init``: "kaiming" (default; He normal, std sqrt(2 / in_features), from the library's
    generator seeded by ``tg.manual_seed``), "xavier" (Glorot normal), or "nnfs" (the book's
    ``0.01 * np.random.randn`` from NumPy's global state: after ``nnfs.init()`` the book's
    numbers reproduce). Biases start at zero. The ``*_regularizer_*`` strengths are the
    book's L1/L2 penalties, summed by ``tg.nn.regularization_loss(model)``.

    >>> import tinygrad_np as tg
    >>> layer = tg.nn.Linear(2, 3)
    >>> layer.weight.shape, layer.bias.shape, layer(tg.ones(4, 2)).shape
    ((2, 3), (1, 3), (4, 3))
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        init: str = "kaiming",
        dtype: DTypeLike = np.float32,
        weight_regularizer_l1: float = 0,
        weight_regularizer_l2: float = 0,
        bias_regularizer_l1: float = 0,
        bias_regularizer_l2: float = 0,
    ) -> None:
        super().__init__()
        if init not in _INITS:
            raise ValueError(f"Linear: init must be one of {sorted(_INITS)}, not {init!r}")
        strengths = (
            weight_regularizer_l1,
            weight_regularizer_l2,
            bias_regularizer_l1,
            bias_regularizer_l2,
        )
        for name, strength in zip(REGULARIZERS, strengths):  # the signature's order
            if strength < 0:
                raise ValueError(f"Linear: {name} must be >= 0, got {strength}")
        if in_features < 1 or out_features < 1:
            raise ValueError(
                f"Linear: in_features and out_features must be positive, got "
                f"({in_features}, {out_features})"
            )
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.init = init
        self.weight_regularizer_l1 = weight_regularizer_l1
        self.weight_regularizer_l2 = weight_regularizer_l2
        self.bias_regularizer_l1 = bias_regularizer_l1
        self.bias_regularizer_l2 = bias_regularizer_l2
        self.weight = Parameter(np.empty((in_features, out_features), dtype=dtype))
        _INITS[init](self.weight)
        if bias:
            self.bias = nn_init.zeros_(Parameter(np.empty((1, out_features), dtype=dtype)))
        else:
            self.bias = None

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        text = (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
        for name in REGULARIZERS:
            if getattr(self, name):
                text += f", {name}={getattr(self, name)}"
        return text


Dense = Linear  # the NNFS book's name (Layer_Dense)


class Dropout(Module):
    """Drop a fraction ``p`` of the inputs while training and scale the rest by 1/(1-p);
    the identity in eval mode. Masks come from the library's generator (``tg.manual_seed``).

    ``p`` is the fraction *dropped*, as in PyTorch (the book's ``Layer_Dropout(rate)`` too).

    >>> import tinygrad_np as tg
    >>> drop = tg.nn.Dropout(0.5).eval()
    >>> drop(tg.ones(3))
    Tensor([1., 1., 1.], dtype=float32)
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = F.check_dropout_probability(p, "Dropout")

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Flatten(Module):
    """Collapse every axis after the first: (N, d1, d2, ...) -> (N, d1*d2*...)."""

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(1)


class Identity(Module):
    """Return the input unchanged (a placeholder where a layer is optional)."""

    def forward(self, x: Any) -> Any:
        return x


class Sequential(Module):
    """Modules applied one after another; indexable, iterable, sized, and appendable.

    >>> import tinygrad_np as tg
    >>> model = tg.nn.Sequential(tg.nn.Linear(2, 8), tg.nn.ReLU(), tg.nn.Linear(8, 3))
    >>> len(model), type(model[1]).__name__, model(tg.ones(5, 2)).shape
    (3, 'ReLU', (5, 3))
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end (named by its position); returns self."""
        self.add_module(str(len(self._modules)), module)
        return self

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Any:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*modules[index])
        try:
            return modules[index]
        except IndexError:
            raise IndexError(
                f"Sequential: index {index} is out of range for {len(modules)} modules"
            ) from None
