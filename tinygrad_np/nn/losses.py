"""Loss modules: each checks its ``reduction`` up front and calls its function in
``functional``. ``reduction`` is 'mean' (default), 'sum', or 'none' (one loss per element,
or per sample for the class losses)."""

from __future__ import annotations

from typing import Any

from tinygrad_np.nn import functional as F
from tinygrad_np.nn.module import Module
from tinygrad_np.ops import check_reduction
from tinygrad_np.tensor import Tensor


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = check_reduction(type(self).__name__, reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy from logits (N, C); targets are integer labels (N,) or one-hot
    (N, C). Fused and stable: logits of ±1e4 give finite losses and gradients. The gradient
    with respect to the logits is (softmax - one_hot) / N, as the book derives.

    >>> import tinygrad_np as tg
    >>> loss = tg.nn.CrossEntropyLoss()(tg.tensor([[2.0, 0.0], [0.0, 2.0]]), [0, 1])
    >>> round(loss.item(), 4)
    0.1269
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(input, target, self.reduction)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (N, C) (e.g. from ``LogSoftmax``) and
    integer labels (N,): ``-input[i, target[i]]``.

    >>> import tinygrad_np as tg
    >>> tg.nn.NLLLoss()(tg.tensor([[-0.5, -2.0]]), [1]).item()
    2.0
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.nll_loss(input, target, self.reduction)


class CategoricalCrossentropy(_Loss):
    """The NNFS book's Loss_CategoricalCrossentropy: probabilities (N, C) in (after
    ``Softmax``), integer labels (N,) or one-hot (N, C).

    Where it differs from ``CrossEntropyLoss``: it takes probabilities, and clips them to
    [1e-7, 1 - 1e-7] before the log, so no sample's loss exceeds -log(1e-7) ≈ 16.1 and a
    clipped probability gets no gradient. For logits [1e4, 0, -1e4] with label 2 the softmax
    probability of class 2 underflows to 0: this loss reports 16.1, ``CrossEntropyLoss`` on the
    logits the true 20000. Use it to follow the book; train on logits otherwise.

    >>> import tinygrad_np as tg
    >>> probs = tg.tensor([[1e4, 0.0, -1e4]]).softmax()
    >>> round(tg.nn.CategoricalCrossentropy()(probs, [2]).item(), 1)
    16.1
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.categorical_crossentropy(input, target, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities (clipped to [1e-7, 1 - 1e-7] as in the book);
    targets have the input's shape.

    >>> import tinygrad_np as tg
    >>> round(tg.nn.BCELoss()(tg.tensor([[0.8], [0.4]]), [[1.0], [0.0]]).item(), 4)
    0.367
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of sigmoid(logits), computed stably from the logits; targets have
    the input's shape.

    >>> import tinygrad_np as tg
    >>> tg.nn.BCEWithLogitsLoss()(tg.tensor([-1e4]), [0.0]).item()
    0.0
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.reduction)


class MSELoss(_Loss):
    """Mean squared error; targets have the input's shape (the book's Loss_MeanSquaredError).

    >>> import tinygrad_np as tg
    >>> tg.nn.MSELoss()(tg.tensor([1.0, 3.0]), [0.0, 0.0]).item()
    5.0
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error; targets have the input's shape (the book's
    Loss_MeanAbsoluteError).

    >>> import tinygrad_np as tg
    >>> tg.nn.L1Loss(reduction="sum")(tg.tensor([1.0, -3.0]), [0.0, 0.0]).item()
    4.0
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.l1_loss(input, target, self.reduction)
