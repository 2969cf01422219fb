"""The NNFS book's optimizer settings for its spiral runs, as ``tg.optim`` optimizers.

The book spells hyper-parameters its own way (``learning_rate``, ``epsilon``, ``rho``,
``beta_1``); ``from_book`` turns them into the ``tg.optim`` optimizer that takes the same
steps. The ``tinygrad-np`` command and ``tg.compare.spiral_models`` both start from this table.
"""

from __future__ import annotations

from typing import Any

from tinygrad_np.optim.adagrad import Adagrad
from tinygrad_np.optim.adam import Adam
from tinygrad_np.optim.optimizer import Optimizer, ParamsLike
from tinygrad_np.optim.rmsprop import RMSprop
from tinygrad_np.optim.sgd import SGD

# The book's chapter 10 runs on the spiral (Adam's lr and decay are its later chapters').
# epsilon 1e-7 throughout, as the book uses; PyTorch's default is 1e-8.
SPIRAL_SETTINGS: dict[str, dict[str, float]] = {
    "sgd": {"learning_rate": 1.0, "decay": 1e-3, "momentum": 0.0},
    "momentum": {"learning_rate": 1.0, "decay": 1e-3, "momentum": 0.9},
    "adagrad": {"learning_rate": 1.0, "decay": 1e-4, "epsilon": 1e-7},
    "rmsprop": {"learning_rate": 0.02, "decay": 1e-5, "epsilon": 1e-7, "rho": 0.999},
    "adam": {"learning_rate": 0.02, "decay": 5e-7, "epsilon": 1e-7, "beta_1": 0.9, "beta_2": 0.999},
}


def from_book(name: str, params: ParamsLike, **settings: float) -> Optimizer:
    """The book's ``name`` optimizer ("sgd", "momentum", "adagrad", "rmsprop", "adam") with
    its spiral settings, overridden by ``settings`` in the book's names.

    SGD momentum is the book's rule (``momentum_style="nnfs"``); RMSprop's ``rho`` is
    ``alpha``; Adam's ``beta_1``, ``beta_2`` are ``betas``.

    >>> import tinygrad_np as tg
    >>> opt = from_book("rmsprop", [tg.zeros(2, requires_grad=True)], learning_rate=0.05)
    >>> group = opt.param_groups[0]
    >>> type(opt).__name__, group["lr"], group["alpha"], group["eps"]
    ('RMSprop', 0.05, 0.999, 1e-07)
    """
    if name not in SPIRAL_SETTINGS:
        raise ValueError(
            f"from_book: optimizer must be one of {list(SPIRAL_SETTINGS)}, not {name!r}"
        )
    unknown = set(settings) - set(SPIRAL_SETTINGS[name])
    if unknown:
        raise TypeError(
            f"from_book: {sorted(unknown)} are not settings of the book's {name} optimizer; "
            f"it takes {sorted(SPIRAL_SETTINGS[name])}"
        )
    s: dict[str, Any] = {**SPIRAL_SETTINGS[name], **settings}
    common: dict[str, Any] = {"lr": s["learning_rate"], "decay": s["decay"]}
    if name in ("sgd", "momentum"):
        if s["momentum"]:  # the book's velocity, which keeps old learning rates inside it
            common.update(momentum=s["momentum"], momentum_style="nnfs")
        return SGD(params, **common)
    common["eps"] = s["epsilon"]
    if name == "adagrad":
        return Adagrad(params, **common)
    if name == "rmsprop":
        return RMSprop(params, alpha=s["rho"], **common)
    return Adam(params, betas=(s["beta_1"], s["beta_2"]), **common)
