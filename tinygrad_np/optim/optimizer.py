"""The optimizer base class: parameter groups, per-parameter state, decay and checkpoints.

An optimizer changes each parameter's ``.data`` array in place. It never builds graph nodes:
only NumPy arrays are touched, so no ``no_grad`` block is needed and no throwaway op is
recorded. State (momentum buffers, running averages) is keyed by a parameter's position across
the parameter groups, so ``state_dict()`` holds only plain Python and NumPy values and can be
saved without pickle.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from tinygrad_np.backend import array_module, is_array
from tinygrad_np.tensor import Tensor

ParamsLike = Iterable[Tensor] | Iterable[dict[str, Any]]


class _Required:
    """Default of a hyper-parameter that has none (SGD's lr): each group must then give it."""

    def __repr__(self) -> str:
        return "<required>"


required: Any = _Required()


class Optimizer:
    """Base class: subclasses write ``_update`` (one parameter's rule) and may extend
    ``_check_group`` (their hyper-parameters' ranges).

    ``params`` is an iterable of Tensors (a module's ``parameters()`` works) or a list of
    parameter-group dicts as in PyTorch: ``[{"params": [w1, b1]}, {"params": [w2], "lr": 0.1}]``;
    a group's missing hyper-parameters come from ``defaults``, which must give ``lr``.

    The base class owns the NNFS book's inverse-time ``decay`` (0 unless ``defaults`` or a
    group sets it): the step after ``n`` completed steps passes ``lr / (1 + decay * n)`` to
    ``_update``. A learning-rate scheduler that rewrites ``group["lr"]`` combines with it (the
    decay then divides the scheduled value). ``docs/contributing.md`` walks through a new
    optimizer.

    >>> import numpy as np, tinygrad_np as tg
    >>> class SignSGD(tg.optim.Optimizer):  # only lr in its defaults
    ...     def __init__(self, params, lr=0.5):
    ...         super().__init__(params, dict(lr=lr))
    ...     def _update(self, w, g, state, group, lr):
    ...         w -= lr * np.sign(g)
    >>> w = tg.Tensor([1.0, 1.0], requires_grad=True)
    >>> opt = SignSGD([{"params": [w], "decay": 1.0}])
    >>> for _ in range(2):
    ...     w.grad = tg.Tensor([3.0, -0.5]); opt.step()
    >>> w.numpy()  # steps of 0.5, then 0.5 / (1 + 1.0 * 1)
    array([0.25, 1.75], dtype=float32)
    """

    # State entries that are numbers (the rest are arrays shaped like the parameter).
    _scalar_state: frozenset[str] = frozenset({"step"})

    def __init__(self, params: ParamsLike, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.defaults.setdefault("decay", 0.0)  # the book's decay, for every optimizer
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[int, dict[str, Any]] = {}
        self.iterations = 0  # completed step() calls, as in the book
        self._workspace: dict[tuple, np.ndarray] = {}
        if isinstance(params, (Tensor, dict)):
            raise TypeError(
                f"{self._name}: params must be an iterable of Tensors or of parameter-group "
                f"dicts, got a single {type(params).__name__}; wrap it in a list"
            )
        params = list(params)  # a generator such as model.parameters() can be read only once
        if not params:
            raise ValueError(f"{self._name} got an empty parameter list")
        if all(isinstance(p, dict) for p in params):
            for group in params:
                self.add_param_group(group)
        elif any(isinstance(p, dict) for p in params):
            raise TypeError(
                f"{self._name}: params must be all Tensors or all parameter-group dicts, not a mix"
            )
        else:
            self.add_param_group({"params": params})

    @property
    def _name(self) -> str:
        return type(self).__name__

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyper-parameters (defaults fill the rest).

        >>> import tinygrad_np as tg
        >>> w, b = tg.Tensor([1.0], requires_grad=True), tg.Tensor([0.0], requires_grad=True)
        >>> opt = tg.optim.SGD([w], lr=0.1)
        >>> opt.add_param_group({"params": [b], "lr": 0.01})
        >>> [g["lr"] for g in opt.param_groups]
        [0.1, 0.01]
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"{self._name}: a parameter group must be a dict, got {param_group!r}")
        if "params" not in param_group:
            raise ValueError(f"{self._name}: a parameter group needs a 'params' entry")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        if not params:
            raise ValueError(f"{self._name} got a parameter group with no parameters")
        first = sum(len(g["params"]) for g in self.param_groups)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for offset, p in enumerate(params):
            index = first + offset
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{self._name}: parameter {index} is a {type(p).__name__}, not a Tensor"
                )
            if not p.requires_grad:
                raise TypeError(
                    f"{self._name}: parameter {index} (shape {p.shape}) has requires_grad=False; "
                    "only tensors that require grad can be optimized"
                )
            if id(p) in seen:
                raise ValueError(f"{self._name}: parameter {index} appears more than once")
            seen.add(id(p))
        group = {**self.defaults, **param_group, "params": params}
        for name in ("lr", *group):
            if group.get(name, required) is required:  # step() reads lr from every group
                raise TypeError(
                    f"{self._name}: missing {name} (give it, or give it in every group)"
                )
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Raise ValueError for out-of-range hyper-parameters (subclasses extend this)."""
        self._check(group, "lr", group["lr"] >= 0, "must be >= 0")
        self._check(group, "decay", group["decay"] >= 0, "must be >= 0")
        if "weight_decay" in group:
            self._check(group, "weight_decay", group["weight_decay"] >= 0, "must be >= 0")
        if "eps" in group:
            self._check(group, "eps", group["eps"] >= 0, "must be >= 0")

    def _check(self, group: dict[str, Any], name: str, ok: bool, rule: str) -> None:
        if not ok:
            raise ValueError(f"{self._name}: invalid {name}={group[name]!r} ({rule})")

    # ---------------------------------------------------------------- learning rate
    @staticmethod
    def _lr(group: dict[str, Any], steps_before: int) -> float:
        """The book's inverse-time decay: the lr of the step after ``steps_before`` steps."""
        return group["lr"] / (1.0 + group["decay"] * steps_before)

    @property
    def current_lr(self) -> float | list[float]:
        """The learning rate the latest ``step()`` used (the starting lr before any step).

        This is the book's ``current_learning_rate``: after ``n`` steps it is
        ``lr / (1 + decay * (n - 1))``, so a loop that prints it where the book does prints the
        book's numbers. One float for one parameter group, else a list with one per group.

        >>> import tinygrad_np as tg
        >>> w = tg.Tensor([1.0], requires_grad=True)
        >>> opt = tg.optim.SGD([w], lr=1.0, decay=0.1)
        >>> w.grad = tg.Tensor([1.0]); opt.step(); opt.step()
        >>> round(opt.current_lr, 6)  # the second step used 1 / (1 + 0.1 * 1)
        0.909091
        """
        done = max(self.iterations - 1, 0)
        lrs = [self._lr(g, done) for g in self.param_groups]
        return lrs[0] if len(lrs) == 1 else lrs

    # ---------------------------------------------------------------- stepping
    def step(self) -> None:
        """Update every parameter that has a gradient, in place; then count the iteration."""
        index = 0
        states, update = self.state, self._update  # hoisted: this loop runs per parameter
        for group in self.param_groups:
            lr = self._lr(group, self.iterations)
            for p in group["params"]:
                if p.grad is not None:
                    grad = p.grad.data
                    if grad.shape != p.data.shape:
                        raise ValueError(
                            f"{self._name}: parameter {index} has shape {p.data.shape} "
                            f"but its gradient has shape {grad.shape}"
                        )
                    state = states.get(index)
                    if state is None:
                        state = states[index] = {}
                    update(p.data, grad, state, group, lr)
                    p._bump_version()  # a graph that saved p before this step is now stale
                index += 1
        self.iterations += 1

    def _update(
        self, w: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any], lr: float
    ) -> None:
        """Change ``w`` in place from its gradient ``g``; ``state`` is this parameter's state."""
        raise NotImplementedError

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set them to None (default) or fill them with zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.data[...] = 0

    def _scratch(self, w: np.ndarray, slot: int = 0) -> np.ndarray:
        """A reusable work array shaped like ``w``.

        Speed: one buffer per (shape, dtype, slot) is shared by all parameters of that shape,
        so step() allocates nothing after its first call.
        """
        key = (w.shape, w.dtype, slot)
        buffer = self._workspace.get(key)
        if buffer is None:
            buffer = self._workspace[key] = array_module(w).empty_like(w)
        return buffer

    def _grad_with_weight_decay(self, w: np.ndarray, g: np.ndarray, weight_decay: float):
        """``g + weight_decay * w`` (the L2 penalty's gradient) in scratch slot 0; else ``g``."""
        if weight_decay == 0:
            return g
        out = self._scratch(w, 0)
        array_module(w).multiply(w, weight_decay, out=out)
        out += g
        return out

    # ---------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        """A snapshot of the optimizer: ``{"state", "param_groups", "step"}``.

        Parameters are named by their position across the groups; arrays are copies (the
        optimizer keeps updating its own buffers in place), everything else is a plain number,
        bool, string or tuple, so the dict saves without pickle.

        >>> import tinygrad_np as tg
        >>> w = tg.Tensor([1.0, 2.0], requires_grad=True)
        >>> opt = tg.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> w.grad = tg.Tensor([1.0, 1.0]); opt.step()
        >>> sd = opt.state_dict(); sd["step"], sd["param_groups"][0]["params"], list(sd["state"][0])
        (1, [0], ['momentum_buffer'])
        """
        groups, index = [], 0
        for group in self.param_groups:
            saved = {k: v for k, v in group.items() if k != "params"}
            saved["params"] = list(range(index, index + len(group["params"])))
            index += len(group["params"])
            groups.append(saved)
        state = {
            i: {k: (v.copy() if is_array(v) else v) for k, v in s.items()}
            for i, s in self.state.items()
            if s
        }
        return {"state": state, "param_groups": groups, "step": self.iterations}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()`` snapshot (arrays are copied); later steps continue exactly.

        Raises ValueError when the number of groups, of parameters in a group, or a state
        array's shape does not match this optimizer's parameters.
        """
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{self._name}.load_state_dict: the state dict has {len(saved_groups)} "
                f"parameter groups, this optimizer has {len(self.param_groups)}"
            )
        params: list[Tensor] = []
        new_groups = []
        for number, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            saved_params = list(np.asarray(saved["params"]).reshape(-1))
            if len(saved_params) != len(group["params"]):
                raise ValueError(
                    f"{self._name}.load_state_dict: group {number} has {len(saved_params)} "
                    f"parameters in the state dict but {len(group['params'])} here"
                )
            hyper = {k: _plain(v) for k, v in saved.items() if k != "params"}
            new_group = {**group, **hyper}
            self._check_group(new_group)
            new_groups.append(new_group)
            params.extend(group["params"])
        state: dict[int, dict[str, Any]] = {}
        for key, entries in state_dict["state"].items():
            index = int(key)  # keys may come back from a file as strings
            if not 0 <= index < len(params):
                raise ValueError(
                    f"{self._name}.load_state_dict: state for parameter {index}, "
                    f"but this optimizer has {len(params)} parameters"
                )
            w = params[index].data
            state[index] = {}
            for name, value in entries.items():
                if name in self._scalar_state:
                    state[index][name] = _plain(value)
                    continue
                # A copy in the parameter's dtype and array library (a file gives NumPy arrays).
                value = array_module(w).array(value, dtype=w.dtype, copy=True)
                if value.shape != w.shape:
                    raise ValueError(
                        f"{self._name}.load_state_dict: state {name!r} of parameter {index} "
                        f"has shape {value.shape} but the parameter has shape {w.shape}"
                    )
                state[index][name] = value
        for group, new_group in zip(self.param_groups, new_groups, strict=True):
            group.update(new_group)  # in place, so a scheduler holding the group sees it
        self.state = state
        self.iterations = int(_plain(state_dict.get("step", 0)))

    def __repr__(self) -> str:
        groups = []
        for group in self.param_groups:
            hyper = ", ".join(f"{k}={v!r}" for k, v in group.items() if k != "params")
            groups.append(f"  group({len(group['params'])} params, {hyper})")
        return f"{self._name}(\n" + "\n".join(groups) + "\n)"


def lerp_(avg: Any, x: Any, weight: float, tmp: Any) -> None:
    """``avg += weight * (x - avg)`` in place (a running mean, PyTorch's lerp); ``tmp`` is
    scratch of the same shape."""
    array_module(avg).subtract(x, avg, out=tmp)
    tmp *= weight
    avg += tmp


def decay_squares_(avg: Any, g: Any, beta: float, tmp: Any) -> None:
    """``avg = beta * avg + (1 - beta) * g**2`` in place (Adam's v, RMSprop's cache)."""
    avg *= beta
    array_module(avg).multiply(g, g, out=tmp)
    tmp *= 1 - beta
    avg += tmp


def _plain(value: Any) -> Any:
    """A value read back from a file, as the Python value it was saved from.

    NumPy scalars and 0-d arrays become Python numbers, bools or strings; 1-d arrays and lists
    (such as Adam's ``betas``) become tuples.
    """
    if isinstance(value, np.ndarray):
        return value.item() if value.ndim == 0 else tuple(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list):
        return tuple(value)
    return value
